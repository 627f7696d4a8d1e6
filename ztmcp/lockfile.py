"""``ztmcp.lock``: pinned tool manifests, reviewed in pull requests like a dependency lock.

TOML, written with tomli-w in a stable order (servers and items sorted by name), read with
tomllib. One ``[servers.NAME]`` table per pinned server::

    version = 1

    [servers.time]
    command = ["uvx", "mcp-server-time"]      # or: url = "https://…/mcp"; or neither
    digest = "sha256:…"                       # the whole manifest (see manifest.whole_digest)
    server_digest = "sha256:…"                # the server's name, version and instructions
    source = "tofu"                           # or "sigstore" (then identity, issuer, bundle)
    pinned_at = "2026-11-25T12:00:00Z"
    server = "mcp-time 2026.10.19"            # informational
    manifest = "ztmcp.manifests/time.json"    # the pinned manifest, for `ztmcp diff`

    [servers.time.tools]
    get_current_time = "sha256:…"

A signed pin (``source = "sigstore"``) also names the signer ``identity``, its OIDC ``issuer``,
the Sigstore ``bundle`` over the ``manifest`` file and, for a private Sigstore instance, the
``trust_config`` it verifies against (paths relative to the lock, inside its directory).

A corrupt or hand-edited lock is a one-line error naming the file and the key: bad TOML, wrong
types, unknown keys, a digest that is not ``sha256:`` and 64 hex digits, per-item digests that
do not add up to the whole ``digest``, a signed pin without its signer. Writes go to a temporary
file in the same directory and are renamed over the lock: a failed write leaves the old lock
untouched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.documents import loads_toml, read_file
from ztmcp.errors import PinError

if TYPE_CHECKING:
    from ztmcp.manifest import Manifest
    from ztmcp.sandbox.pinned import PinnedProfile

LOCK_FILE: Final = "ztmcp.lock"
VERSION: Final = 1
# How a pin in the lock was made: "explicit" (`ztmcp pin`, unsigned) or "sigstore" (signed).
# "tofu" names the first-seen pins `ztmcp run` keeps in the state database, never in a lock; a
# lock written before "explicit" existed says "tofu" for an explicit pin and is read as such.
SOURCES: Final = ("explicit", "sigstore", "tofu")
EXPLICIT: Final = "explicit"
KIND_TABLES: Final = ("tools", "prompts", "resourceTemplates")

_DIGEST: Final = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEADER: Final = (
    "# ztmcp.lock: pinned MCP tool manifests, written by `ztmcp pin`.\n"
    "# Review changes here like a dependency lock: a changed digest means a changed tool.\n\n"
)
_ENTRY_KEYS: Final = frozenset(
    {
        "command",
        "url",
        "digest",
        "server_digest",
        "source",
        "pinned_at",
        "server",
        "manifest",
        "identity",
        "issuer",
        "bundle",
        "trust_config",
        "sandbox",  # the pinned sandbox profile: ztmcp/sandbox/pinned.py
        *KIND_TABLES,
    }
)


@dataclass(frozen=True)
class Pin:
    """One pinned server."""

    name: str
    digest: str
    server_digest: str
    command: tuple[str, ...] | None = None
    url: str | None = None
    tools: Mapping[str, str] = field(default_factory=dict)
    prompts: Mapping[str, str] = field(default_factory=dict)
    resource_templates: Mapping[str, str] = field(default_factory=dict)
    source: str = "explicit"
    pinned_at: str | None = None
    server: str | None = None  # "name version" of the pinned server, informational
    manifest: str | None = None  # path of the pinned manifest JSON, relative to the lock
    # Signed pins (source = "sigstore"): who signed, which OIDC issuer, where the bundle is.
    identity: str | None = None
    issuer: str | None = None
    bundle: str | None = None
    trust_config: str | None = None  # a private Sigstore trust root, relative to the lock
    sandbox: PinnedProfile | None = None  # [servers.NAME.sandbox]: ztmcp/sandbox/pinned.py

    @property
    def signed(self) -> bool:
        return self.source == "sigstore"

    def signer(self) -> str | None:
        """``identity (issuer)`` for a signed pin, for humans."""
        if not self.signed:
            return None
        return f"{self.identity} (issuer {self.issuer})"

    def item_tables(self) -> dict[str, Mapping[str, str]]:
        return {kind: self.items(kind) for kind in KIND_TABLES}

    def items(self, kind: str) -> Mapping[str, str]:
        return {
            "tools": self.tools,
            "prompts": self.prompts,
            "resourceTemplates": self.resource_templates,
        }[kind]


@dataclass(frozen=True)
class Lockfile:
    path: Path
    pins: Mapping[str, Pin] = field(default_factory=dict)
    # The bytes these pins were parsed from (``read``), so that what a person approved is
    # judged on the very bytes enforced, not on a second read of a file that may have changed;
    # None for a lock built or changed in memory.
    raw: bytes | None = field(default=None, compare=False, repr=False)

    def get(self, name: str) -> Pin | None:
        return self.pins.get(name)

    def with_pin(self, pin: Pin) -> Lockfile:
        return replace(self, pins={**self.pins, pin.name: pin}, raw=None)

    def without(self, name: str) -> Lockfile:
        return replace(self, pins={k: v for k, v in self.pins.items() if k != name}, raw=None)


def pin_manifest(
    name: str,
    manifest: Manifest,
    *,
    command: tuple[str, ...] | None = None,
    url: str | None = None,
    pinned_at: str | None = None,
    manifest_path: str | None = None,
    **signer: str | None,
) -> Pin:
    """The pin of ``manifest`` as ``ztmcp pin`` writes it; ``signer``: identity, issuer, bundle
    and trust_config for a signed pin (``source`` is then "sigstore")."""
    server = " ".join(v for v in (manifest.server_name, manifest.server_version) if v) or None
    unknown = set(signer) - {"identity", "issuer", "bundle", "trust_config"}
    if unknown:
        raise TypeError(f"unknown signer field {sorted(unknown)[0]!r}")
    return Pin(
        name=name,
        digest=manifest.digest,
        server_digest=manifest.server_digest,
        command=command,
        url=url,
        tools=manifest.item_digests("tools"),
        prompts=manifest.item_digests("prompts"),
        resource_templates=manifest.item_digests("resourceTemplates"),
        source="sigstore" if signer.get("bundle") else EXPLICIT,
        pinned_at=pinned_at,
        server=server,
        manifest=manifest_path,
        identity=signer.get("identity"),
        issuer=signer.get("issuer"),
        bundle=signer.get("bundle"),
        trust_config=signer.get("trust_config"),
    )


# -- reading --------------------------------------------------------------------------------


def _err(path: Path, key: str, problem: str) -> PinError:
    return PinError(
        f"{path}: {key} {problem}",
        hint="fix or delete that entry, then re-pin with `ztmcp pin NAME -- CMD…`",
    )


def _str(path: Path, key: str, value: Any, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise _err(path, key, "must be a non-empty string")
    return value


def _digest(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise _err(path, key, 'must be a digest like "sha256:<64 hex digits>"')
    return value


def _relative(path: Path, key: str, value: Any) -> str | None:
    """A path relative to the lock that stays in its directory (reviewable, portable)."""
    text = _str(path, key, value)
    if text is None:
        return None
    parts = Path(text).parts
    if Path(text).is_absolute() or ".." in parts or "\\" in text:
        raise _err(path, key, "must be a path relative to the lock, inside its directory")
    return text


def _pin(path: Path, name: str, entry: Any) -> Pin:
    where = f"servers.{name}"
    if not isinstance(entry, dict):
        raise _err(path, where, "must be a table")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise _err(path, f"{where}.{unknown[0]}", "is not a known key")
    command = entry.get("command")
    if command is not None and (
        not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command)
    ):
        raise _err(path, f"{where}.command", "must be a non-empty list of strings")
    url = _str(path, f"{where}.url", entry.get("url"))
    if command is not None and url is not None:
        raise _err(path, where, "has both a command and a url (keep one)")
    source = entry.get("source", EXPLICIT)
    if source not in SOURCES:
        raise _err(path, f"{where}.source", f"must be one of {', '.join(SOURCES)}")
    if source == "tofu":  # a lock holds only pins someone made with `ztmcp pin`
        source = EXPLICIT
    kinds: dict[str, dict[str, str]] = {}
    for kind in KIND_TABLES:
        table = entry.get(kind, {})
        if not isinstance(table, dict):
            raise _err(path, f"{where}.{kind}", "must be a table of name = digest")
        kinds[kind] = {
            str(item): _digest(path, f"{where}.{kind}.{item}", value)
            for item, value in sorted(table.items())
        }
    digest = _digest(path, f"{where}.digest", entry.get("digest"))
    server_digest = _digest(path, f"{where}.server_digest", entry.get("server_digest"))
    from ztmcp.manifest import whole_digest

    if whole_digest(server_digest, kinds) != digest:
        raise _err(
            path,
            f"{where}.digest",
            "does not match its per-item digests (the lock was edited by hand)",
        )
    signer = {k: entry.get(k) for k in ("identity", "issuer", "bundle", "trust_config")}
    if source == "sigstore":
        for key in ("identity", "issuer", "bundle", "manifest"):
            if entry.get(key) is None:
                raise _err(
                    path, f"{where}.{key}", 'is required for a signed pin (source = "sigstore")'
                )
    else:
        extra = [k for k, v in signer.items() if v is not None]
        if extra:
            raise _err(
                path, f"{where}.{extra[0]}", 'belongs to signed pins only (source = "sigstore")'
            )
    sandbox = None
    if entry.get("sandbox") is not None:  # the pinned sandbox profile, its digest checked
        from ztmcp.sandbox import pinned

        sandbox = pinned.parse(entry["sandbox"], f"{where}.sandbox", lambda k, p: _err(path, k, p))
    return Pin(
        name=name,
        digest=digest,
        server_digest=server_digest,
        sandbox=sandbox,
        command=tuple(command) if command is not None else None,
        url=url,
        tools=kinds["tools"],
        prompts=kinds["prompts"],
        resource_templates=kinds["resourceTemplates"],
        source=source,
        pinned_at=_str(path, f"{where}.pinned_at", entry.get("pinned_at")),
        server=_str(path, f"{where}.server", entry.get("server")),
        manifest=_relative(path, f"{where}.manifest", entry.get("manifest")),
        identity=_str(path, f"{where}.identity", entry.get("identity")),
        issuer=_str(path, f"{where}.issuer", entry.get("issuer")),
        bundle=_relative(path, f"{where}.bundle", entry.get("bundle")),
        trust_config=_relative(path, f"{where}.trust_config", entry.get("trust_config")),
    )


def parse(text: str, path: Path) -> Lockfile:
    import tomllib  # here, not at module level: `ztmcp run` without a lock never pays for it

    try:
        data = loads_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise PinError(f"{path}: not valid TOML ({exc})", hint="fix the syntax there") from None
    unknown = sorted(set(data) - {"version", "servers"})
    if unknown:
        raise _err(path, unknown[0], "is not a known key")
    if data.get("version") != VERSION:
        raise _err(path, "version", f"must be {VERSION}, got {data.get('version')!r}")
    servers = data.get("servers", {})
    if not isinstance(servers, dict):
        raise _err(path, "servers", "must be a table")
    pins = {name: _pin(path, name, entry) for name, entry in sorted(servers.items())}
    return Lockfile(path, pins)


def read(path: Path, *, missing_ok: bool = True) -> Lockfile:
    """The lock at ``path``; an empty one when the file does not exist and ``missing_ok``."""
    try:
        raw = read_file(path)
    except FileNotFoundError:
        if missing_ok:
            return Lockfile(path)
        raise PinError(f"{path}: no such lock file", hint="pin a server with `ztmcp pin`") from None
    except OSError as exc:
        raise PinError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PinError(f"{path}: not UTF-8 text") from None
    return replace(parse(text, path), raw=raw)


# -- writing --------------------------------------------------------------------------------


def _entry(pin: Pin) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if pin.command is not None:
        entry["command"] = list(pin.command)
    if pin.url is not None:
        entry["url"] = pin.url
    entry["digest"] = pin.digest
    entry["server_digest"] = pin.server_digest
    entry["source"] = pin.source
    for key in ("pinned_at", "server", "manifest", "identity", "issuer", "bundle", "trust_config"):
        value = getattr(pin, key)
        if value is not None:
            entry[key] = value
    for kind in KIND_TABLES:
        items = pin.items(kind)
        if items:
            entry[kind] = dict(sorted(items.items()))
    if pin.sandbox is not None:  # ztmcp/sandbox/pinned.py
        entry["sandbox"] = pin.sandbox.to_table()
    return entry


def dumps(lock: Lockfile) -> str:
    import tomli_w

    doc = {
        "version": VERSION,
        "servers": {name: _entry(pin) for name, pin in sorted(lock.pins.items())},
    }
    return _HEADER + tomli_w.dumps(doc)


def write(lock: Lockfile) -> None:
    """Write atomically (``paths.write_atomic``), replacing a link at the lock's path rather
    than writing through it."""
    from ztmcp.state.paths import write_atomic

    text = dumps(lock)
    parse(text, lock.path)  # never write a lock we could not read back
    _refuse_laundering(lock.path)
    try:
        lock.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(lock.path, text.encode("utf-8"), follow_links=False)
    except OSError as exc:
        raise PinError(f"{lock.path}: cannot write ({exc.strerror})") from None
    approve(lock, text.encode("utf-8"))  # what ztmcp wrote is what its user pinned


# -- trust: a lock that came with a repository pins nothing until a person approves it -------


def _refuse_laundering(path: Path) -> None:
    """Writing approves what is written: never on top of a lock nobody approved, or a cloned
    lock's entries (commands, trust roots) would come out approved with the user's pin."""
    try:
        current = read(path)
    except PinError:
        return  # unreadable: the new lock replaces it whole, from what ztmcp built
    if not is_approved(current):
        raise PinError(
            f"{path} is not approved: ztmcp will not add to or remove from it",
            hint=f"review and approve it first with `ztmcp trust {path}`, or move it away",
        )


def approval_digest(lock: Lockfile, raw: bytes) -> str:
    """The digest a person approves: the lock's bytes and every trust root it names (a
    private Sigstore root replaces the public one, so its bytes are part of what is trusted).
    A trust root that leaves the lock's directory (through a link) is refused here."""
    import hashlib

    from ztmcp.trust import read_confined

    h = hashlib.sha256(raw)
    for name, pin in sorted(lock.pins.items()):
        if pin.trust_config is not None:
            root = read_confined(
                beside(lock, pin.trust_config), lock.path.parent, f"trust root of {name!r}"
            )
            h.update(b"\0" + pin.trust_config.encode("utf-8") + b"\0" + root)
    return "sha256:" + h.hexdigest()


def approve(lock: Lockfile, raw: bytes) -> None:
    """Record ``raw`` (the lock's bytes, as written by ztmcp) as approved for its path."""
    from ztmcp.trust import TrustError, record

    try:
        record(lock.path, approval_digest(lock, raw))
    except TrustError as exc:
        raise PinError(exc.message, hint=exc.hint) from None


def is_approved(lock: Lockfile) -> bool:
    """Whether a person approved this lock's exact content (and trust roots)."""
    if not lock.pins:
        return True  # an empty lock pins, runs and trusts nothing
    from ztmcp.trust import TrustError, approved

    try:
        raw = lock.raw if lock.raw is not None else read_file(lock.path)
        return approved(lock.path, approval_digest(lock, raw))
    except (OSError, TrustError):
        return False


def untrusted_notice(path: Path) -> str:
    return (
        f"ignoring the pins in {path}: not approved (it came with the repository, or changed "
        f"since); your own first-seen pins apply. Review and approve it with "
        f"`ztmcp trust {path}`"
    )


def read_trusted(path: Path) -> tuple[Lockfile, str | None]:
    """The lock at ``path`` if a person approved it, else an empty lock and one notice line.

    An unapproved lock's commands are never run, its trust roots never used, its signed pins
    never shown as signed: ztmcp behaves as if the project had no lock (the user's own
    first-seen pins and ``[pins] mode`` apply).
    """
    lock = read(path)
    if is_approved(lock):
        return lock, None
    return Lockfile(path), untrusted_notice(path)


# -- signed pins ----------------------------------------------------------------------------


def beside(lock: Lockfile, relative: str) -> Path:
    """A path recorded in the lock (manifest, bundle, trust config), resolved against it."""
    return lock.path.parent / relative


@dataclass(frozen=True)
class SignedFiles:
    """The files a signed pin keeps beside the lock, checked against the lock's digests."""

    manifest: Path
    bundle: Path
    trust_config: Path | None
    manifest_bytes: bytes


def signed_files(lock: Lockfile, pin: Pin) -> SignedFiles:
    """A signed pin's manifest, bundle and trust config; the manifest must add up to the lock.

    Raises ``PinError`` (one line) for a missing file or a manifest that is not what the lock
    pins. Cheap: no sigstore.
    """
    if not pin.signed or pin.manifest is None or pin.bundle is None:
        raise PinError(f"{pin.name!r} is not a signed pin")
    where = f"signed pin {pin.name!r}"
    manifest_path, bundle_path = beside(lock, pin.manifest), beside(lock, pin.bundle)
    trust = beside(lock, pin.trust_config) if pin.trust_config is not None else None
    files = [("manifest", manifest_path), ("bundle", bundle_path)]
    from ztmcp.trust import inside

    for what, file in [*files, *([("trust config", trust)] if trust is not None else [])]:
        if not inside(file, lock.path.parent):
            raise PinError(
                f"{where}: its {what} {file} leads out of {lock.path.parent} (a link)",
                hint="a lock may only name files inside its own directory",
            )
        if not file.is_file():
            raise PinError(
                f"{where}: its {what} {file} is missing",
                hint=f"restore it (e.g. from git) or re-pin with `ztmcp pin {pin.name} "
                "--manifest FILE --bundle B --identity I --issuer U`",
            )
    from ztmcp.manifest import Manifest

    try:
        data = read_file(manifest_path)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PinError(f"{where}: cannot read {manifest_path} ({exc})") from None
    signed = Manifest.from_json(text, str(manifest_path))
    from ztmcp.drift import drift, line

    changes = drift(pin, signed)  # by item digest: the lock holds no other detail
    if signed.digest != pin.digest or changes:
        first = f": {line(changes[0])}" if changes else ""
        raise PinError(
            f"{where}: {manifest_path.name} ({signed.digest}) is not what the lock pins "
            f"({pin.digest}){first}",
            hint=f"the lock or the manifest was edited: re-pin {pin.name} from the signed release",
        )
    return SignedFiles(manifest_path, bundle_path, trust, data)


def verify_signature(lock: Lockfile, pin: Pin, *, offline: bool = True) -> Any:
    """Check a signed pin again: its manifest adds up to the lock, its bundle signs it.

    Returns ``ztmcp.signing.VerifiedSignature``; raises ``PinError`` (missing or mismatched
    files) or ``SigningError`` (the signature does not verify), each one line. Imports
    sigstore only here, so a lock without signed pins never pays for it.
    """
    files = signed_files(lock, pin)
    assert pin.identity is not None and pin.issuer is not None  # parse() guarantees them
    from ztmcp.signing import verify_artifact

    return verify_artifact(
        files.manifest,
        files.bundle,
        pin.identity,
        pin.issuer,
        offline=offline,
        trust_config=files.trust_config,
    )
