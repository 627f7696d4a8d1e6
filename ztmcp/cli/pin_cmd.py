"""``ztmcp manifest``, ``pin``, ``pins``, ``unpin``, ``diff``: pinned tool manifests.

- ``ztmcp pin NAME -- CMD…`` extracts the server's manifest with the official SDK client,
  writes the per-item digests to ``ztmcp.lock`` (atomically) and the full manifest to
  ``ztmcp.manifests/NAME.json`` next to the lock, so that a later diff can say *which field*
  changed, not only which tool. ``ztmcp pin NAME`` alone re-pins from the command in the lock:
  the way to accept a reviewed change.
- Signed pins: ``ztmcp pin NAME --manifest FILE --bundle B --identity I --issuer U [-- CMD…]``
  verifies the Sigstore bundle over FILE (and, given a command or URL, that the live server
  lists exactly FILE) before anything is written, then keeps FILE byte for byte and the bundle
  (and a ``--trust-config``) in ``ztmcp.manifests/`` and records ``source = "sigstore"`` with
  the signer. ``ztmcp run`` verifies the bundle again, offline, at every start.
- ``ztmcp diff NAME`` compares the pin with the live server (the lock's command or URL), a
  ``--manifest FILE``, or ``--observed``: the manifest ``ztmcp run`` stored when it withheld
  drift (also the fallback when the server cannot be started).
- First-seen (trust on first use) pins live in the user state, not the lock (docs/pins.md):
  ``ztmcp pins`` lists them, ``ztmcp unpin NAME`` forgets them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, NoReturn

import typer

from ztmcp import names, pins
from ztmcp.cli import tables
from ztmcp.cli.render import describe_exception, fail
from ztmcp.cli.values import argument, check, option
from ztmcp.errors import PinError, SigningError, UsageError, ZtmcpError
from ztmcp.terminal import echo, safe

if TYPE_CHECKING:
    from ztmcp.lockfile import Lockfile, Pin
    from ztmcp.manifest import Manifest
    from ztmcp.state.first_seen import FirstSeen

LockOpt = Annotated[
    Path | None,
    typer.Option(
        "--lockfile",
        metavar="FILE",
        help="The lock file (default: lockfile in the policy's \\[pins] table, else ./ztmcp.lock).",
    ),
]
ModeOpt = Annotated[
    str,
    typer.Option(
        "--mode",
        metavar="auto|legacy",
        help="SDK client mode for extraction: auto (discover, then initialize) or legacy.",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="Give up extraction after this.")
]
_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
_PIN_COLUMNS: Final = ("NAME", tables.Column("TOOLS", right=True), "SOURCE", "DIGEST", "LAUNCH")


def _die(exc: ZtmcpError, code: int = 2) -> NoReturn:
    fail(exc, code)


def _progress(text: str) -> None:
    echo(f"ztmcp: {text}", err=True)


def _lock_path(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    from ztmcp.policy import load_policy
    from ztmcp.state import paths

    policy = load_policy(None, cwd=Path.cwd(), user_config=paths.user_config())
    return policy.lockfile if policy.lockfile.is_absolute() else Path.cwd() / policy.lockfile


def _check_name(name: str) -> str:
    """NAME of ``ztmcp pin NAME -- …`` (read from the extra arguments, so not by typer)."""
    return check(names.PINNED, "NAME", name)


def server_target(args: list[str]) -> str | list[str]:
    """One ``http(s)://`` argument is a Streamable HTTP URL; anything else a stdio command
    (``manifest``, ``pin``, ``diff`` and ``scan`` read the same way)."""
    if not args:
        raise UsageError(
            "no server to read: give a URL or a command after --",
            hint="ztmcp manifest -- uvx mcp-server-time",
        )
    if len(args) == 1 and re.match(r"^https?://", args[0]):
        return args[0]
    return args


def extract_now(target: str | list[str], mode: str, timeout: float) -> Manifest:
    """Run the SDK extraction with progress on stderr; any failure is one PinError line."""
    import anyio

    from ztmcp.manifest import extract

    if mode not in ("auto", "legacy"):
        raise UsageError(f"--mode must be auto or legacy, got {mode!r}")
    shown = target if isinstance(target, str) else " ".join(target)
    _progress(f"extracting the manifest of {shown[:120]} …")

    async def run() -> Manifest:
        with anyio.fail_after(timeout):
            return await extract(target, mode=mode, progress=_progress)

    try:
        return anyio.run(run)
    except ZtmcpError:
        raise
    except TimeoutError:
        raise PinError(f"the server did not list its surface within {timeout:g}s") from None
    except Exception as exc:  # the server's failure, whatever it is, is one line
        raise PinError(f"could not read the server ({describe_exception(exc)})") from None


def _write_atomic(path: Path, text: str | bytes, *, follow_links: bool = True) -> None:
    from ztmcp.state.paths import write_atomic

    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, follow_links=follow_links)
    except OSError as exc:
        raise PinError(f"{path}: cannot write ({exc.strerror})") from None


def signer_line(pin: Pin, approved: bool) -> str:
    """Who signed a pin, as the lock claims it; never claimed for an unapproved lock (its
    signature would verify against whatever trust root the repository supplies)."""
    if not approved:
        return "signed pin, not verified: the lock is not approved (`ztmcp trust`)"
    return f"signed by {safe(pin.signer())}"


def _accept_drift(lock: Lockfile, previous: Pin, manifest: Manifest) -> None:
    """Re-pinning a changed manifest accepts the change (a rug pull, if it is one): a person
    confirms it at a terminal after seeing what changed (``ztmcp.person.confirm``); the agent,
    with no terminal, cannot. A signed re-pin needs no prompt: the publisher's signature
    vouches for it."""
    from ztmcp.drift import drift
    from ztmcp.drift import lines as drift_lines
    from ztmcp.person import confirm

    lines = drift_lines(drift(previous, manifest, pinned=pins.stored_manifest(lock, previous)))
    shown = [safe(line) for line in lines[:20]]
    if len(lines) > 20:
        shown.append(f"… and {len(lines) - 20} more (`ztmcp diff {safe(previous.name)}`)")
    confirm(f"re-pin {previous.name}: accept these changes", shown, previous.name)


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _first_seen(name: str) -> list[FirstSeen]:
    from ztmcp.state.first_seen import FirstSeenStore

    with FirstSeenStore() as store:
        return [f for f in store.all() if f.server == name]


def _pin_json(pin: Pin) -> dict[str, object]:
    """A pin for ``ztmcp pins --json``: what the table shows, item digests included."""
    return {
        "name": pin.name,
        "source": pin.source,
        "digest": pin.digest,
        "signer": pin.signer(),
        "command": list(pin.command) if pin.command else None,
        "url": pin.url,
        "pinned_at": pin.pinned_at,
        "tools": dict(pin.tools),
        "prompts": dict(pin.prompts),
        "resourceTemplates": dict(pin.resource_templates),
    }


def register(app: typer.Typer) -> None:
    """Add ``manifest``, ``pin``, ``pins``, ``unpin`` and ``diff`` to ``app``."""

    @app.command(
        "manifest",
        context_settings=_EXTRA,
        options_metavar="[OPTIONS] (URL | -- CMD ARGS…)",
        help="Print a server's canonical manifest (RFC 8785 JSON; per-item and whole digests)."
        "\n\nConnects with the official MCP SDK client to a stdio command (after --) or a "
        "Streamable HTTP URL, lists every tool, prompt and resource template (all pages) and "
        "prints the manifest JSON; progress and the digest go to stderr.\n\n"
        "Example: ztmcp manifest -o manifest.json -- uvx mcp-server-time",
    )
    def manifest_command(
        ctx: typer.Context,
        output: Annotated[
            Path | None,
            typer.Option("-o", "--output", metavar="FILE", help="Write here instead of stdout."),
        ] = None,
        mode: ModeOpt = "auto",
        timeout: TimeoutOpt = 60.0,
    ) -> None:
        """Print a server's canonical manifest."""
        try:
            manifest = extract_now(server_target(list(ctx.args)), mode, timeout)
            if output is not None:
                _write_atomic(output, manifest.to_json())
                _progress(f"wrote {output}")
            else:
                echo(manifest.to_json(), nl=False)
        except ZtmcpError as exc:
            _die(exc)
        _progress(f"digest {manifest.digest}")

    @app.command(
        "pin",
        context_settings=_EXTRA,
        options_metavar="[OPTIONS] NAME [URL | -- CMD…]",
        help="Pin a server's current manifest in ztmcp.lock under NAME (the --name you give "
        "`ztmcp run`).\n\n"
        "NAME -- CMD ARGS… reads it from a stdio server, NAME URL from an HTTP server, "
        "NAME --manifest FILE takes a reviewed manifest file (add -- CMD… to record how to "
        "launch it). NAME alone re-pins from the command already in the lock: that is how you "
        "accept a change after `ztmcp diff NAME`.\n\n"
        "Signed pin: add --bundle B --identity I --issuer U to --manifest FILE. The Sigstore "
        "bundle must sign FILE by that identity at that OIDC issuer, and with a command or URL "
        "the live server must list exactly FILE; then FILE and the bundle are kept in "
        "ztmcp.manifests/ and `ztmcp run` verifies them again (offline) at every start.\n\n"
        "Example: ztmcp pin time --manifest manifest.json --bundle manifest.json.sigstore.json "
        "--identity https://github.com/ORG/REPO/.github/workflows/release-manifest.yml@refs/"
        "tags/v1.0.0 --issuer https://token.actions.githubusercontent.com -- uvx mcp-server-time",
    )
    def pin_command(
        ctx: typer.Context,
        from_file: Annotated[
            Path | None,
            typer.Option(
                "--manifest", metavar="FILE", help="Pin this manifest file (from `ztmcp manifest`)."
            ),
        ] = None,
        bundle: Annotated[
            Path | None,
            typer.Option(
                "--bundle", metavar="B", help="Sigstore bundle over --manifest FILE (signed pin)."
            ),
        ] = None,
        identity: Annotated[
            str | None,
            option(
                names.WORD.called("signer identity"),
                "--identity",
                metavar="I",
                help="The signer the bundle must name: a workflow URL at a tag, or an e-mail.",
            ),
        ] = None,
        issuer: Annotated[
            str | None,
            option(
                names.WORD.called("issuer"),
                "--issuer",
                metavar="U",
                help="The OIDC issuer, e.g. https://token.actions.githubusercontent.com.",
            ),
        ] = None,
        offline: Annotated[
            bool,
            typer.Option(
                "--offline", help="Verify without network (the trust root in the sigstore wheel)."
            ),
        ] = False,
        trust_config: Annotated[
            Path | None,
            typer.Option(
                "--trust-config",
                metavar="F",
                help="A private Sigstore instance's ClientTrustConfig/TrustedRoot JSON.",
            ),
        ] = None,
        lockfile: LockOpt = None,
        mode: ModeOpt = "auto",
        timeout: TimeoutOpt = 60.0,
    ) -> None:
        """Pin a server's manifest."""
        from ztmcp import lockfile as lockmod

        args = list(ctx.args)
        try:
            if not args:
                raise UsageError(
                    "no server name",
                    hint="ztmcp pin NAME -- CMD ARGS…  (NAME as in ztmcp run --name)",
                )
            name = _check_name(args[0])
            signing = bundle is not None or identity is not None or issuer is not None
            if signing and (bundle is None or identity is None or issuer is None):
                raise UsageError(
                    "a signed pin needs --bundle, --identity and --issuer together",
                    hint="ztmcp verify --help explains identity and issuer",
                )
            if signing and from_file is None:
                raise UsageError(
                    "a signature covers a manifest file: give --manifest FILE with --bundle",
                    hint=f"ztmcp pin {name} --manifest manifest.json --bundle B --identity I "
                    "--issuer U -- CMD…",
                )
            if not signing and (offline or trust_config is not None):
                raise UsageError("--offline and --trust-config only apply with --bundle")
            lock = lockmod.read(_lock_path(lockfile))
            previous = lock.get(name)
            where: dict[str, object] = {}
            if len(args) > 1:
                target = server_target(args[1:])
                where = {"url": target} if isinstance(target, str) else {"command": target}
                if isinstance(target, str):
                    where["command"] = None
                else:
                    where["url"] = None
            files: dict[Path, bytes | str] = {}
            if signing:
                assert from_file is not None and bundle is not None
                assert identity is not None and issuer is not None
                given = where.get("url") or where.get("command")
                live = (
                    partial(extract_now, given, mode, timeout)
                    if isinstance(given, str | list)
                    else None
                )
                pin, signed_files = pins.signed_pin(
                    name, lock, previous, from_file, bundle=bundle, identity=identity,
                    issuer=issuer, offline=offline, trust_config=trust_config, live=live,
                    progress=_progress, where=where,
                )  # fmt: skip
                files.update(signed_files)
            else:
                if previous is not None and previous.signed:  # never a silent downgrade
                    raise UsageError(
                        f"{name!r} has a signed pin: re-pin it from a signed release",
                        hint=f"ztmcp pin {name} --manifest FILE --bundle B --identity I "
                        f"--issuer U  (or `ztmcp unpin {name}` first)",
                    )
                if from_file is not None:
                    manifest = pins.read_manifest(from_file)
                elif where:
                    manifest = extract_now(server_target(args[1:]), mode, timeout)
                elif previous is not None and (previous.command or previous.url):
                    pins.require_approved(lock, name)
                    again = previous.url or list(previous.command or ())
                    manifest = extract_now(again, mode, timeout)
                else:
                    raise UsageError(
                        f"{name!r} is not pinned yet: give its command",
                        hint=f"ztmcp pin {name} -- CMD ARGS…  or  ztmcp pin {name} --manifest FILE",
                    )
                pin = pins.pin_from(name, manifest, previous, where)
                assert pin.manifest is not None
                if previous is not None and previous.digest != pin.digest:
                    _accept_drift(lock, previous, manifest)  # a person accepts the change
                files[lock.path.parent / pin.manifest] = manifest.to_json()
            from ztmcp.sandbox import pinned as sandbox_pin  # --learn's profile: docs/sandbox.md

            kept = previous.sandbox if previous is not None else None
            pin = replace(pin, sandbox=sandbox_pin.for_pin(name, kept))
            for path, data in files.items():
                if path.resolve() != (from_file.resolve() if from_file else None):
                    _write_atomic(path, data, follow_links=False)  # a cloned link stays out
            lockmod.write(lock.with_pin(pin))
            try:  # the learned profile and its drift are in the lock now
                sandbox_pin.forget(name)
            except ZtmcpError as exc:
                _progress(f"pinned, but the learned profile stays in the state: {exc.message}")
            if previous is not None:  # a signed pin made unsigned: drop its old bundle files
                for stale in set(pins.companions(lock, previous)) - set(pins.companions(lock, pin)):
                    stale.unlink(missing_ok=True)
        except ZtmcpError as exc:
            _die(exc, 1 if isinstance(exc, SigningError) else 2)
        verb = "re-pinned" if previous is not None else "pinned"
        counts = ", ".join(
            f"{len(pin.items(k))} {k}" for k in lockmod.KIND_TABLES if pin.items(k) or k == "tools"
        )
        signer = f", signed by {pin.signer()}" if pin.signed else ""
        echo(f"{verb} {name}: {counts}, digest {pin.digest}{signer} in {lock.path}")
        if pin.sandbox is not None:
            echo(f"sandbox profile {pin.sandbox.digest[:19]}…: {pin.sandbox.summary()}")
        if previous is not None and previous.digest == pin.digest:
            echo("(unchanged)")

    @app.command(
        "pins",
        help="List pinned servers: name, tools, source of trust (and signer), digest, launch "
        "command; then the first-seen pins `ztmcp run` took on its own (trust on first use, "
        "kept in the user state, not in the lock).",
    )
    def pins_command(
        lockfile: LockOpt = None,
        as_json: Annotated[
            bool,
            typer.Option("--json", help="One JSON object (lock pins, first-seen), for scripts."),
        ] = False,
    ) -> None:
        """List pinned servers."""
        from ztmcp import lockfile as lockmod
        from ztmcp.state.first_seen import FirstSeenStore

        try:
            lock = lockmod.read(_lock_path(lockfile))
        except ZtmcpError as exc:
            _die(exc)
        approved = lockmod.is_approved(lock)
        if not approved:
            echo(f"ztmcp: {lockmod.untrusted_notice(lock.path)}", err=True)
        try:
            with FirstSeenStore() as store:
                seen = store.all()
        except ZtmcpError as exc:  # the lock is still worth showing
            seen = []
            echo(f"ztmcp: cannot read first-seen pins: {exc.diagnostics()}", err=True)
        if as_json:
            import json

            doc = {
                "lock": str(lock.path),
                "approved": approved,
                "pins": [_pin_json(pin) for _, pin in sorted(lock.pins.items())],
                "first_seen": [
                    {**_pin_json(first.pin()), "first_seen": _stamp(first.first_seen)}
                    for first in seen
                ],
            }
            echo(json.dumps(doc, indent=2, ensure_ascii=True))
            return
        if not lock.pins:
            echo(f"no pins in {lock.path} (pin a server with `ztmcp pin NAME -- CMD…`)")
        else:
            rows: list[tuple[str, ...]] = []
            for name, pin in sorted(lock.pins.items()):
                launch = pin.url or " ".join(pin.command or ()) or "-"
                rows.append((name, str(len(pin.tools)), pin.source, f"{pin.digest[:19]}…", launch))
                if pin.signed:
                    rows.append(("", "", "", "", signer_line(pin, approved)))
                if pin.sandbox is not None:
                    rows.append(("", "", "", "", f"sandbox: {pin.sandbox.summary()}"))
            tables.show(_PIN_COLUMNS, rows)
        if seen:
            echo("first seen by `ztmcp run` (trust on first use, not in the lock):")
            tables.show(
                (*_PIN_COLUMNS[:-1], "SINCE"),
                [
                    (
                        first.server,
                        str(len(first.manifest.tools)),
                        "tofu",
                        f"{first.manifest.digest[:19]}…",
                        _stamp(first.first_seen),
                    )
                    for first in seen
                ],
            )

    @app.command(
        "unpin",
        help="Remove a server's pin from ztmcp.lock (and its stored manifest and bundle), or "
        "forget the first-seen pins `ztmcp run` took for it.",
    )
    def unpin_command(
        name: Annotated[
            str, argument(names.SERVER, "NAME", metavar="NAME", help="The pinned server name.")
        ],
        lockfile: LockOpt = None,
    ) -> None:
        """Remove a server's pin."""
        from ztmcp import lockfile as lockmod
        from ztmcp.state.first_seen import FirstSeenStore

        try:
            lock = lockmod.read(_lock_path(lockfile))
            pin = lock.get(name)
            with FirstSeenStore() as store:
                forgotten = store.forget(name)
            if pin is not None:
                lockmod.write(lock.without(name))
            if pin is None and not forgotten:
                raise PinError(f"{name!r} is not pinned in {lock.path}", hint="see `ztmcp pins`")
        except ZtmcpError as exc:
            _die(exc)
        if pin is not None:
            for path in pins.companions(lock, pin):
                path.unlink(missing_ok=True)
            echo(f"unpinned {name} from {lock.path}")
        if forgotten:
            echo(f"forgot {forgotten} first-seen pin(s) of {name}")

    @app.command(
        "diff",
        help="Show how a server's manifest differs from its pin; exit 1 on drift.\n\n"
        "Re-extracts the manifest live from the command or URL pinned in the lock, or reads "
        "--manifest FILE, or, with --observed, shows what `ztmcp run` observed when it withheld "
        "drift (no server is started; also the fallback when the server cannot be started). "
        "Works for first-seen pins too. The audit log has every withheld listing: "
        "`ztmcp audit show --server NAME`.",
    )
    def diff_command(
        name: Annotated[
            str, argument(names.SERVER, "NAME", metavar="NAME", help="The pinned server name.")
        ],
        from_file: Annotated[
            Path | None,
            typer.Option("--manifest", metavar="FILE", help="Compare this manifest file."),
        ] = None,
        observed_only: Annotated[
            bool,
            typer.Option("--observed", help="Compare what `ztmcp run` observed; start no server."),
        ] = False,
        lockfile: LockOpt = None,
        mode: ModeOpt = "auto",
        timeout: TimeoutOpt = 60.0,
        as_json: Annotated[
            bool,
            typer.Option("--json", help="One JSON object (drift lines and changes), for scripts."),
        ] = False,
    ) -> None:
        """Compare a server with its pin."""
        from ztmcp import lockfile as lockmod
        from ztmcp.drift import drift
        from ztmcp.drift import lines as drift_lines
        from ztmcp.state.observed import ObservedStore

        note: str | None = None
        kinds: tuple[str, ...] | None = None
        try:
            if from_file is not None and observed_only:
                raise UsageError("give --manifest FILE or --observed, not both")
            lock = lockmod.read(_lock_path(lockfile))
            pin = lock.get(name)
            pinned: Manifest | None = None
            if pin is not None:
                pinned = pins.stored_manifest(lock, pin)
            else:
                seen = sorted(_first_seen(name), key=lambda f: f.updated)
                if not seen:
                    raise PinError(
                        f"{name!r} is not pinned in {lock.path}", hint="see `ztmcp pins`"
                    )
                pin, pinned = seen[-1].pin(), seen[-1].manifest
                observed_only = observed_only or from_file is None  # no command is stored
            from ztmcp.sandbox import pinned as sandbox_pin  # egress beyond the pinned profile

            refused = sandbox_pin.refused_egress(name) if pin.sandbox is not None else []
            egress = drift(pin, None, egress=refused)  # drifts like a tool: docs/sandbox.md
            observed: Manifest | None = None
            if from_file is not None:
                observed = pins.read_manifest(from_file)
            elif not observed_only and (pin.url or pin.command) and not lockmod.is_approved(lock):
                note = (
                    f"not starting {name} from {lock.path}: the lock is not approved "
                    f"(`ztmcp trust {lock.path}`)"
                )
            elif not observed_only and (pin.url or pin.command):
                try:
                    observed = extract_now(pin.url or list(pin.command or ()), mode, timeout)
                except PinError as exc:
                    note = f"could not start {name} ({exc.message})"
            elif not observed_only:
                note = f"{name!r} was pinned from a file: no command to re-extract"
            if observed is None:
                with ObservedStore() as store:
                    record = store.latest(name)
                if record is None and not egress:
                    if note is not None and "pinned from a file" in note:
                        raise UsageError(note, hint=f"ztmcp diff {name} --manifest FILE")
                    raise PinError(
                        (note + "; " if note else "")
                        + f"ztmcp run has observed no drift of {name}",
                        hint=f"ztmcp diff {name} --manifest FILE",
                    )
                if record is not None:
                    observed, kinds = record.manifest, record.kinds
                    when = _stamp(record.last_seen)
                    stale = ", against an older pin" if record.pinned_digest != pin.digest else ""
                    note = (note + "; " if note else "") + (
                        f"showing what ztmcp run observed ({when}, {record.seen}x{stale})"
                    )
            changes = drift(pin, observed, pinned=pinned, kinds=kinds, egress=refused)
            lines = drift_lines(changes)
        except ZtmcpError as exc:
            _die(exc)
        if note:
            echo(f"ztmcp: {note}", err=True)
        shown = "observed" if kinds is not None or observed is None else observed.digest
        if as_json:
            import json

            doc = {
                "server": name,
                "pinned": pin.digest,
                "current": None if kinds is not None or observed is None else observed.digest,
                "drifted": bool(lines),
                "changes": lines,
                "detail": [change.to_json() for change in changes],
                "note": note,
            }
            echo(json.dumps(doc, indent=2, ensure_ascii=True))
            sys.stdout.flush()
            if lines:
                raise typer.Exit(1)
            return
        if not lines:
            echo(f"{name}: matches its pin ({pin.digest})")
            return
        echo(f"{name}: drifted from its pin ({pin.digest} -> {shown})")
        for line in lines:
            echo(f"  {line}")
        sys.stdout.flush()
        raise typer.Exit(1)
