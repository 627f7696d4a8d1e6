"""Put a client's servers behind ztmcp, and take them out again.

``plan_wrap`` and ``plan_unwrap`` are pure: servers in, one ``Step`` per server out (what to
write, or why it is left alone). ``wrap_text``/``unwrap_text`` turn steps into new file text
through ``formats.rewrite``. The edges (``Backups``, ``paths.write_atomic``) keep the original bytes
in ztmcp's state so ``unwrap`` restores the file byte for byte when it has not changed since.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import hashlib
import json
import os
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ztmcp.clients import formats
from ztmcp.clients.formats import Change, Server
from ztmcp.clients.jsonc import ConfigError
from ztmcp.clients.rules import Client
from ztmcp.documents import read_file
from ztmcp.shebang import interpreter
from ztmcp.state import paths


class Action(Enum):
    WRAP = "wrap"  # rewritten to go through ztmcp
    UNWRAP = "unwrap"  # rewritten back to the original command
    WRAPPED = "wrapped"  # already behind ztmcp: left alone
    REPOINT = "repoint"  # behind a ztmcp that is gone: pointed at this one
    PLAIN = "plain"  # not behind ztmcp (unwrap: nothing to do)
    SKIP = "skip"  # cannot be wrapped; ``why`` says what to do


@dataclass(frozen=True)
class Step:
    server: Server
    action: Action
    why: str = ""
    change: Change | None = None


def ztmcp_command(argv0: str, which: Callable[[str], str | None], python: str) -> tuple[str, ...]:
    """How a client should start ztmcp, by absolute path: this ztmcp's own script when it was
    started as one, else the ``ztmcp`` on PATH, else this interpreter with ``-m ztmcp``."""
    script = Path(argv0)
    if script.name.startswith("ztmcp") and script.is_file():
        return (os.path.abspath(script),)
    found = which("ztmcp")
    if found:
        return (os.path.abspath(found),)
    return (os.path.abspath(python), "-m", "ztmcp")


def _run_tail(server: Server) -> int | None:
    """Where the wrapped command starts in ``args`` (after ``--``) if ``server`` is already a
    ``ztmcp run``, else None."""
    if server.command is None or server.args is None:
        return None
    args = list(server.args)
    name = Path(server.command).name.lower()
    skip = 0
    if args[:2] == ["-m", "ztmcp"] and name.startswith("python"):
        skip = 2
    elif not name.startswith("ztmcp"):
        return None
    if args[skip : skip + 1] != ["run"] or "--" not in args[skip:]:
        return None
    return args.index("--", skip) + 1


def is_wrapped(server: Server) -> bool:
    return _run_tail(server) is not None


def is_stale(server: Server, exists: Callable[[str], bool] = os.path.exists) -> bool:
    """Wrapped, but by a ztmcp (or interpreter) whose absolute path no longer exists: an
    uninstalled venv, a moved checkout. The client cannot start the server any more."""
    command = server.command
    return (
        is_wrapped(server)
        and command is not None
        and os.path.isabs(command)
        and not exists(command)
    )


def _resolve(command: str, which: Callable[[str], str | None]) -> str | None:
    """The absolute path a launcher-started client needs; a command naming a client variable
    (VS Code's ``${workspaceFolder}``, ``${userHome}``) is kept as written: the client
    substitutes it before starting ztmcp."""
    if "${" in command or os.path.isabs(command):
        return command
    found = which(command)
    return os.path.abspath(found) if found else None


LAUNCHER_PATH = "/usr/bin:/bin"  # what a client started from a desktop launcher may get


def launcher_note(resolved: str, which: Callable[[str, str], str | None]) -> str:
    """What a launcher-started client will miss: the interpreter of a ``#!/usr/bin/env``
    script that is on this shell's PATH but not on ``LAUNCHER_PATH`` (nvm, Homebrew)."""
    name = interpreter(resolved)
    if name is None or "/" in name or which(name, LAUNCHER_PATH) is not None:
        return ""  # not a script, or one that names its interpreter by path, not PATH
    here = which(name, os.environ.get("PATH", ""))
    where = f'"{os.path.dirname(here)}:{LAUNCHER_PATH}"' if here else "its directory"
    return (
        f"its #!/usr/bin/env {name} is not on a desktop launcher's PATH ({LAUNCHER_PATH}): "
        f'if the client cannot start it, add "env": {{"PATH": {where}}} to the entry'
    )


def plan_wrap(
    servers: Sequence[Server],
    ztmcp: tuple[str, ...],
    which: Callable[[str], str | None],
    client: Client,
    exists: Callable[[str], bool] = os.path.exists,
    *,
    ports: Iterator[int] | None = None,
    originals: Mapping[tuple[str, ...], Any] | None = None,
) -> list[Step]:
    """One step per server. HTTP servers go behind a local ``ztmcp proxy`` only when ``ports``
    is given (``--http-port``): the entry then names the proxy, which must be running."""
    from ztmcp.names import SERVER  # the rule `ztmcp run --name` and `ztmcp proxy --name` read

    steps: list[Step] = []
    for server in servers:
        refusal = SERVER.refusal(server.name)
        if refusal is not None and not is_wrapped(server):  # its wrapped entry would not start
            why = f"its name is no server name ztmcp takes ({refusal}): rename it, wrap again"
            steps.append(Step(server, Action.SKIP, why))
            continue
        recorded = (originals or {}).get(server.key)
        if server.url is not None and server.command is None:
            steps.append(_plan_http(server, client, ports, recorded))
            continue
        if is_stale(server, exists) and server.command != ztmcp[0]:
            old = list(server.args or ())
            skip = 2 if old[:2] == ["-m", "ztmcp"] else 0
            change = Change(server, ztmcp[0], insert=ztmcp[1:], drop=skip)
            why = f"the ztmcp it named ({server.command}) is gone"
            steps.append(Step(server, Action.REPOINT, why, change=change))
        elif is_wrapped(server):
            steps.append(Step(server, Action.WRAPPED, "already behind ztmcp run"))
        elif server.command is None:
            steps.append(Step(server, Action.SKIP, "no command and no url: not a server entry"))
        elif server.args is None and "args" in server.entry:
            steps.append(Step(server, Action.SKIP, "args is not a list of strings"))
        else:
            found = _resolve(server.command, which)
            if found is None:
                steps.append(
                    Step(
                        server,
                        Action.SKIP,
                        f"{server.command!r} is not on PATH: write its absolute path in the "
                        "entry and run ztmcp wrap again",
                    )
                )
                continue
            run = ("run", "--name", server.name, "--", found)
            change = Change(server, ztmcp[0], insert=(*ztmcp[1:], *run))
            steps.append(Step(server, Action.WRAP, change=change))
    return steps


def proxy_command(port: int, name: str, upstream: str) -> str:
    """The command line to paste into a shell: the name and the URL quoted for it (a name with
    a space, a URL with ``&`` or ``?``)."""
    return f"ztmcp proxy --port {port} --name {shlex.quote(name)} {shlex.quote(upstream)}"


def local_url(port: int, upstream: str) -> str:
    """The address ``ztmcp proxy --port PORT UPSTREAM`` serves: loopback, the upstream's path."""
    parts = urlsplit(upstream)
    query = f"?{parts.query}" if parts.query else ""
    return f"http://127.0.0.1:{port}{parts.path or '/'}{query}"


def _plan_http(server: Server, client: Client, ports: Iterator[int] | None, recorded: Any) -> Step:
    assert server.url is not None
    if isinstance(recorded, dict) and recorded.get("url_local") == server.url:
        port = urlsplit(server.url).port or 0
        upstream = str(recorded.get("url"))
        why = f"behind ztmcp proxy; keep it running: {proxy_command(port, server.name, upstream)}"
        return Step(server, Action.WRAPPED, why)
    if ports is None:
        return Step(
            server,
            Action.SKIP,
            "an HTTP server goes behind a running proxy: start "
            f"`{proxy_command(8931, server.name, server.url)}` and run "
            "ztmcp wrap --http-port 8931 (or point "
            f"{client.title} at the address the proxy prints)",
        )
    port = next(ports)
    local = local_url(port, server.url)
    why = f"now {local}; keep it running: {proxy_command(port, server.name, server.url)}"
    return Step(server, Action.WRAP, why, change=Change(server, None, url=local))


def plan_unwrap(servers: Sequence[Server], originals: dict[tuple[str, ...], Any]) -> list[Step]:
    """Undo wraps: each wrapped server keeps the command and arguments after ``--`` (as they
    are now), with the command written as it was before the wrap when that is recorded."""
    steps: list[Step] = []
    for server in servers:
        recorded = originals.get(server.key)
        if server.url is not None and server.command is None:
            local = isinstance(recorded, dict) and recorded.get("url_local") == server.url
            if local and isinstance(recorded, dict) and isinstance(recorded.get("url"), str):
                change = Change(server, None, url=recorded["url"])
                steps.append(Step(server, Action.UNWRAP, change=change))
            else:
                steps.append(Step(server, Action.PLAIN))
            continue
        start = _run_tail(server)
        if start is None or server.args is None:
            steps.append(Step(server, Action.PLAIN))
            continue
        if start >= len(server.args):
            steps.append(Step(server, Action.SKIP, "ztmcp run without a command after --"))
            continue
        command = server.args[start]
        if isinstance(recorded, dict) and recorded.get("resolved") == command:
            command = str(recorded.get("command", command))
        change = Change(server, command, drop=start + 1)
        steps.append(Step(server, Action.UNWRAP, change=change))
    return steps


def apply(client: Client, text: str, where: str, steps: Sequence[Step]) -> str:
    changes = [s.change for s in steps if s.change is not None]
    return formats.rewrite(client, text, where, changes)


def diff(before: str, after: str, path: Path, label: str = "wrapped") -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"{path}",
            f"{path} ({label})",
        )
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the edges: backups in ztmcp state, atomic writes ------------------------------------


@dataclass(frozen=True)
class Backup:
    path: str
    original: bytes
    wrapped_sha256: str
    originals: dict[tuple[str, ...], Any]


class Backups:
    """One JSON file per wrapped config in ``$ZTMCP_HOME/wrap``, holding the original bytes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, config: Path) -> Path:
        return self.directory / f"{sha256(str(config).encode())[:32]}.json"

    def get(self, config: Path) -> Backup | None:
        file = self._file(config)
        try:
            raw = json.loads(read_file(file).decode("utf-8"))
            return Backup(
                path=raw["path"],
                original=base64.b64decode(raw["original"]),
                wrapped_sha256=raw["wrapped_sha256"],
                originals={tuple(e["key"]): e for e in raw["entries"]},
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            raise ConfigError(
                f"the wrap backup {file} cannot be read: {str(exc).splitlines()[0][:200]}",
                hint=f"restore {config} by hand, then delete {file}",
            ) from None

    def put(self, config: Path, backup: Backup) -> None:
        """Keep the original; ``ConfigError`` if it cannot be kept (the caller then stops)."""
        body = {
            "path": backup.path,
            "original": base64.b64encode(backup.original).decode(),
            "wrapped_sha256": backup.wrapped_sha256,
            "entries": [{"key": list(k), **v} for k, v in backup.originals.items()],
        }
        try:
            paths.private_dir(self.directory)
            paths.write_atomic(self._file(config), json.dumps(body, indent=1).encode(), mode=0o600)
        except OSError as exc:
            raise ConfigError(
                f"cannot keep a copy of {config} in {self.directory}: {exc.strerror}",
                hint="set ZTMCP_HOME to a writable directory",
            ) from None

    def drop(self, config: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._file(config).unlink()
