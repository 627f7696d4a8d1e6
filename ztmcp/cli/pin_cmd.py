"""``ztmcp manifest``, ``pin``, ``pins``, ``unpin``, ``diff``: pinned tool manifests.

Design (the simplest honest one while checks cannot write state):

- ``ztmcp pin NAME -- CMD…`` extracts the server's manifest with the official SDK client,
  writes the per-item digests to ``ztmcp.lock`` (atomically) and the full manifest to
  ``ztmcp.manifests/NAME.json`` next to the lock, so that a later diff can say *which field*
  changed, not only which tool.
- During ``ztmcp run``, the ``pins`` check withholds drifted or unpinned tools and records
  their names and observed/pinned digests in the audit record's verdict evidence; it stores no
  observed manifest.
- ``ztmcp diff NAME`` therefore re-extracts the manifest live from the launch command (or URL)
  pinned in the lock, or reads ``--manifest FILE``, and compares it with the pin: item digests
  from the lock decide what drifted; the stored pinned manifest (when its digest still matches
  the lock) gives the per-field detail. Exit status 1 when anything drifted.
- ``ztmcp pin NAME`` without a command re-pins from the command already in the lock: the way
  to accept a reviewed change.

Nothing here auto-pins on first use (TOFU): that needs a state writer at the CLI edge, a noted
follow-up; today ``ztmcp run`` prints a notice for unpinned servers under ``[pins] mode = "tofu"``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ztmcp.cli.render import describe_exception, fail
from ztmcp.errors import PinError, UsageError, ZtmcpError

if TYPE_CHECKING:
    from ztmcp.lockfile import Lockfile, Pin
    from ztmcp.manifest import Manifest

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MANIFEST_DIR = "ztmcp.manifests"

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


def _die(exc: ZtmcpError) -> NoReturn:
    fail(exc)


def _progress(text: str) -> None:
    typer.echo(f"ztmcp: {text}", err=True)


def _lock_path(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    from ztmcp.policy import load_policy
    from ztmcp.state import paths

    policy = load_policy(None, cwd=Path.cwd(), user_config=paths.user_config())
    return policy.lockfile if policy.lockfile.is_absolute() else Path.cwd() / policy.lockfile


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"invalid server name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (the --name you give `ztmcp run`)",
        )
    return name


def _target(args: list[str]) -> str | list[str]:
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


def _read_manifest(path: Path) -> Manifest:
    from ztmcp.manifest import Manifest

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PinError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PinError(f"{path}: not UTF-8 text") from None
    return Manifest.from_json(text, str(path))


def _write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PinError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PinError(f"{path}: cannot write ({exc.strerror})") from None
        raise


def _pin_from(name: str, manifest: Manifest, previous: Pin | None, **where: object) -> Pin:
    from ztmcp.lockfile import Pin

    server = " ".join(v for v in (manifest.server_name, manifest.server_version) if v) or None
    command = where.get("command", previous.command if previous else None)
    url = where.get("url", previous.url if previous else None)
    return Pin(
        name=name,
        digest=manifest.digest,
        command=tuple(command) if isinstance(command, list | tuple) else None,
        url=url if isinstance(url, str) else None,
        tools=manifest.item_digests("tools"),
        prompts=manifest.item_digests("prompts"),
        resource_templates=manifest.item_digests("resourceTemplates"),
        source="tofu",
        pinned_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        server=server,
        manifest=f"{MANIFEST_DIR}/{name}.json",
    )


def _pinned_manifest(lock: Lockfile, pin: Pin) -> Manifest | None:
    """The stored pinned manifest, only if it still matches the lock's digest."""
    if pin.manifest is None:
        return None
    path = lock.path.parent / pin.manifest
    if not path.is_file():
        return None
    try:
        stored = _read_manifest(path)
    except PinError:
        return None
    return stored if stored.digest == pin.digest else None


def drift_lines(lock: Lockfile, pin: Pin, observed: Manifest) -> list[str]:
    """What differs between the pin and an observed manifest, one readable line each."""
    from ztmcp.manifest import KINDS, NOUNS, diff

    pinned = _pinned_manifest(lock, pin)
    if pinned is not None:
        return diff(pinned, observed)
    lines: list[str] = []
    for kind in KINDS:
        old, new = pin.items(kind), observed.item_digests(kind)
        for item in sorted(set(old) | set(new)):
            if item not in old:
                lines.append(f"{NOUNS[kind]} {item!r}: added (not pinned)")
            elif item not in new:
                lines.append(f"{NOUNS[kind]} {item!r}: removed")
            elif old[item] != new[item]:
                lines.append(f"{NOUNS[kind]} {item!r}: changed ({old[item]} -> {new[item]})")
    if not lines and observed.digest != pin.digest:
        lines.append("server name, version or instructions changed")
    return lines


def register(app: typer.Typer) -> None:
    """Add ``manifest``, ``pin``, ``pins``, ``unpin`` and ``diff`` to ``app``."""

    @app.command(
        "manifest",
        context_settings=_EXTRA,
        options_metavar="[OPTIONS] (URL | -- CMD ARGS…)",
        help="Print a server's canonical manifest (RFC 8785 JSON; per-item and whole digests)."
        "\n\nConnects with the official MCP SDK client to a stdio command (after --) or a "
        "Streamable HTTP URL, lists every tool, prompt and resource template (all pages) and "
        "prints the manifest JSON; progress and the digest go to stderr.",
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
            manifest = extract_now(_target(list(ctx.args)), mode, timeout)
            if output is not None:
                _write_atomic(output, manifest.to_json())
                _progress(f"wrote {output}")
            else:
                typer.echo(manifest.to_json(), nl=False)
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
        "accept a change after `ztmcp diff NAME`.",
    )
    def pin_command(
        ctx: typer.Context,
        from_file: Annotated[
            Path | None,
            typer.Option(
                "--manifest", metavar="FILE", help="Pin this manifest file (from `ztmcp manifest`)."
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
            lock = lockmod.read(_lock_path(lockfile))
            previous = lock.get(name)
            where: dict[str, object] = {}
            if len(args) > 1:
                target = _target(args[1:])
                where = {"url": target} if isinstance(target, str) else {"command": target}
                if isinstance(target, str):
                    where["command"] = None
                else:
                    where["url"] = None
            if from_file is not None:
                manifest = _read_manifest(from_file)
            elif where:
                manifest = extract_now(_target(args[1:]), mode, timeout)
            elif previous is not None and (previous.command or previous.url):
                again = previous.url or list(previous.command or ())
                manifest = extract_now(again, mode, timeout)
            else:
                raise UsageError(
                    f"{name!r} is not pinned yet: give its command",
                    hint=f"ztmcp pin {name} -- CMD ARGS…  or  ztmcp pin {name} --manifest FILE",
                )
            pin = _pin_from(name, manifest, previous, **where)
            assert pin.manifest is not None
            _write_atomic(lock.path.parent / pin.manifest, manifest.to_json())
            lockmod.write(lock.with_pin(pin))
        except ZtmcpError as exc:
            _die(exc)
        verb = "re-pinned" if previous is not None else "pinned"
        counts = ", ".join(
            f"{len(pin.items(k))} {k}" for k in lockmod.KIND_TABLES if pin.items(k) or k == "tools"
        )
        typer.echo(f"{verb} {name}: {counts}, digest {pin.digest} in {lock.path}")
        if previous is not None and previous.digest == pin.digest:
            typer.echo("(unchanged)")

    @app.command("pins")
    def pins_command(lockfile: LockOpt = None) -> None:
        """List pinned servers: name, tools, source of trust, digest, launch command."""
        from ztmcp import lockfile as lockmod

        try:
            lock = lockmod.read(_lock_path(lockfile))
        except ZtmcpError as exc:
            _die(exc)
        if not lock.pins:
            typer.echo(f"no pins in {lock.path} (pin a server with `ztmcp pin NAME -- CMD…`)")
            return
        for name, pin in sorted(lock.pins.items()):
            launch = pin.url or " ".join(pin.command or ()) or "-"
            typer.echo(
                f"{name:<20} {len(pin.tools):>3} tools  {pin.source:<8} "
                f"{pin.digest[:19]}…  {launch}"
            )

    @app.command("unpin")
    def unpin_command(
        name: Annotated[str, typer.Argument(metavar="NAME", help="The pinned server name.")],
        lockfile: LockOpt = None,
    ) -> None:
        """Remove a server's pin from ztmcp.lock (and its stored manifest)."""
        from ztmcp import lockfile as lockmod

        try:
            lock = lockmod.read(_lock_path(lockfile))
            pin = lock.get(name)
            if pin is None:
                raise PinError(f"{name!r} is not pinned in {lock.path}", hint="see `ztmcp pins`")
            lockmod.write(lock.without(name))
        except ZtmcpError as exc:
            _die(exc)
        if pin.manifest is not None:
            (lock.path.parent / pin.manifest).unlink(missing_ok=True)
        typer.echo(f"unpinned {name} from {lock.path}")

    @app.command(
        "diff",
        help="Show how a server's current manifest differs from its pin; exit 1 on drift.\n\n"
        "Re-extracts the manifest live from the command or URL pinned in the lock, or reads "
        "--manifest FILE. Drift that `ztmcp run` withheld is also in the audit log: "
        "`ztmcp audit show --server NAME`.",
    )
    def diff_command(
        name: Annotated[str, typer.Argument(metavar="NAME", help="The pinned server name.")],
        from_file: Annotated[
            Path | None,
            typer.Option("--manifest", metavar="FILE", help="Compare this manifest file."),
        ] = None,
        lockfile: LockOpt = None,
        mode: ModeOpt = "auto",
        timeout: TimeoutOpt = 60.0,
    ) -> None:
        """Compare a server with its pin."""
        from ztmcp import lockfile as lockmod

        try:
            lock = lockmod.read(_lock_path(lockfile))
            pin = lock.get(name)
            if pin is None:
                raise PinError(f"{name!r} is not pinned in {lock.path}", hint="see `ztmcp pins`")
            if from_file is not None:
                observed = _read_manifest(from_file)
            elif pin.url or pin.command:
                observed = extract_now(pin.url or list(pin.command or ()), mode, timeout)
            else:
                raise UsageError(
                    f"{name!r} was pinned from a file: no command to re-extract",
                    hint=f"ztmcp diff {name} --manifest FILE",
                )
            lines = drift_lines(lock, pin, observed)
        except ZtmcpError as exc:
            _die(exc)
        if not lines:
            typer.echo(f"{name}: matches its pin ({pin.digest})")
            return
        typer.echo(f"{name}: drifted from its pin ({pin.digest} -> {observed.digest})")
        for line in lines:
            typer.echo(f"  {line}")
        sys.stdout.flush()
        raise typer.Exit(1)
