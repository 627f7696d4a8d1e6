"""Agents as non-human identities: who an agent is, as ztmcp observed it, on every record.

``ztmcp watch`` observes the agent it launches (``observe``): a name (``--name``, the policy,
or the executable's name), the executable's resolved path and SHA-256, the chain of parent
processes that launched ``ztmcp watch`` (from ``/proc`` where there is one) and the user. The
identity travels to every process the agent starts in the ``ZTMCP_AGENT`` environment variable
(JSON, bounded), so ``ztmcp run`` started by the agent puts the same fields on its records
(``from_env``; the runtime calls it when it builds a session's ``where`` fields).

The fields use OpenTelemetry names where there are some (``gen_ai.agent.name``,
``process.executable.path``, ``user.name``) and ``ztmcp.agent.*`` for the rest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.detectors.lazyre import LazyPattern, Pattern
from ztmcp.jsonrpc import Direction, Kind, Message

ENV: Final = "ZTMCP_AGENT"
MAX_ENV_BYTES: Final = 4096  # a larger value is ignored, not truncated (it is not ours)
MAX_PARENTS: Final = 8
_HASH_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    executable: str  # resolved path, or the command as given when it cannot be found
    sha256: str | None  # None: the executable could not be read
    parents: tuple[str, ...]  # the commands above ztmcp watch, nearest first
    user: str

    def fields(self) -> dict[str, Any]:
        """The record fields every record the agent causes carries."""
        return {
            "gen_ai.agent.name": self.name,
            "process.executable.path": self.executable,
            "ztmcp.agent.executable.sha256": self.sha256,
            "ztmcp.agent.parents": list(self.parents),
            "user.name": self.user,
        }

    def to_env(self) -> str:
        return json.dumps(self.fields(), separators=(",", ":"), ensure_ascii=True)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _comm(pid: int) -> tuple[str, int] | None:
    """The executable name and parent pid of ``pid`` from ``/proc`` (Linux); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.find("(") + 1 : stat.rfind(")")]
    rest = stat[stat.rfind(")") + 2 :].split()
    try:
        return name, int(rest[1])
    except (IndexError, ValueError):
        return None


def _ancestors(pid: int | None, limit: int) -> Iterator[tuple[int, str]]:
    """The pid and executable name of each process above ``pid`` (default: this process),
    nearest first, at most ``limit``; stops where ``/proc`` does not say."""
    seen = _comm(os.getpid() if pid is None else pid)
    for _ in range(limit):
        if seen is None or seen[1] <= 0:
            return
        parent = seen[1]
        seen = _comm(parent)
        if seen is None:
            return
        yield parent, seen[0]


def parent_chain(pid: int | None = None, limit: int = MAX_PARENTS) -> tuple[str, ...]:
    """The names of the processes above ``pid`` (default: this process), nearest first."""
    return tuple(name for _, name in _ancestors(pid, limit))


def _user() -> str:
    import getpass  # here: ``ztmcp run`` never needs it

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def observe(command: list[str], name: str | None = None) -> Identity:
    """The identity of the agent ``command`` will run, observed before it starts."""
    import shutil  # here: ``ztmcp run`` never needs it

    program = command[0]
    found = shutil.which(program)
    path = Path(found).resolve() if found else None
    return Identity(
        name=name or Path(program).name,
        executable=str(path) if path else program,
        sha256=_sha256(path) if path else None,
        parents=(*parent_chain(),),
        user=_user(),
    )


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The agent fields ``ztmcp watch`` passed down, for a session's records; ``{}`` when
    there are none or they are not what ``watch`` writes (a bad value is never trusted in
    part: the record says ``ztmcp.agent.invalid`` instead)."""
    value = (os.environ if environ is None else environ).get(ENV)
    if not value:
        return {}
    if len(value.encode()) > MAX_ENV_BYTES:
        return {"ztmcp.agent.invalid": "too large"}
    try:
        fields = json.loads(value)
    except ValueError:
        return {"ztmcp.agent.invalid": "not JSON"}
    expected: dict[str, type | tuple[type, ...]] = {
        "gen_ai.agent.name": str,
        "process.executable.path": str,
        "ztmcp.agent.executable.sha256": (str, type(None)),
        "ztmcp.agent.parents": list,
        "user.name": str,
    }
    if not isinstance(fields, dict) or set(fields) != set(expected):
        return {"ztmcp.agent.invalid": "unexpected fields"}
    for key, kind in expected.items():
        if not isinstance(fields[key], kind):
            return {"ztmcp.agent.invalid": f"bad {key}"}
    if not all(isinstance(p, str) for p in fields["ztmcp.agent.parents"]):
        return {"ztmcp.agent.invalid": "bad ztmcp.agent.parents"}
    return fields


# -- the client that launched ``ztmcp run``, and a clientInfo that contradicts it -------------
#
# Rules as data: a known MCP client is the ``clientInfo.name`` values it sends and the
# programs it runs as. A program is recognised from the launching processes' executables and,
# for an interpreter (``node …/claude``), the script it runs: each pattern is searched in the
# last ``_TAIL`` components of those paths (``…/claude/versions/1.2.3``,
# ``…/@anthropic-ai/claude-code/cli.js``, ``/usr/share/cursor/cursor``).


@dataclass(frozen=True, slots=True)
class KnownClient:
    name: str
    client_names: Pattern  # fullmatch on clientInfo.name, case-insensitive
    programs: Pattern  # searched in a launcher's path tail


def _client(name: str, client_names: str, programs: str) -> KnownClient:
    # Compiled at first use: the names only when a clientInfo arrives, after the first answer.
    return KnownClient(name, LazyPattern(client_names, re.I), LazyPattern(programs))


KNOWN_CLIENTS: Final = (
    # a distinctive name may be a directory (a package, a native install's versions folder);
    # a generic one (code, zed, goose) only the executable or script itself
    _client("claude-code", r"claude[-_ ]?code", r"(^|/)claude(-code)?(/|\.js$|$)"),
    _client(
        "claude-desktop",
        r"claude-ai|claude[-_ ]desktop",
        r"(^|/)(Claude|claude-desktop)$|Claude\.app/",
    ),
    _client(
        "cursor", r"cursor(-vscode)?", r"(^|/)[Cc]ursor( Helper[^/]*)?(/|\.app/|\.AppImage$|$)"
    ),
    _client(
        "vscode",
        r"visual studio code( - insiders)?|vscode",
        r"(^|/)(code|code-insiders|Code( - Insiders)?( Helper[^/]*)?)$"
        r"|Visual Studio Code[^/]*\.app/",
    ),
    _client("windsurf", r"windsurf(-client)?", r"(^|/)[Ww]indsurf( Helper[^/]*)?(/|\.app/|$)"),
    _client(
        "codex",
        r"codex(-mcp-client)?",
        r"(^|/)codex(-[a-z0-9_-]+)?(\.js)?$|(^|/)codex/bin/",
    ),
    _client("gemini-cli", r"gemini-cli(-mcp-client)?", r"(^|/)gemini(\.js)?$|(^|/)gemini-cli/"),
    _client("zed", r"zed", r"(^|/)(zed|zed-editor|zeditor|Zed)$|Zed\.app/"),
    _client("goose", r"goose", r"(^|/)(goose|goosed|Goose)$|Goose\.app/"),
)
_INTERPRETERS: Final = re.compile(r"(node|nodejs|bun|deno|python[0-9.]*|ruby|perl)")
_INLINE_CODE: Final = frozenset({"-c", "-e", "--eval", "-p", "--print"})
_TAIL: Final = 3
_MAX_CMDLINE: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class Launcher:
    """One process above ``ztmcp run``: what it runs, as paths (never its other arguments:
    a command line may carry a token)."""

    pid: int
    program: str  # basename of the executable, for the one-line explanation
    paths: tuple[str, ...]  # the executable, argv[0], and an interpreter's script


def _read_launcher(pid: int) -> Launcher | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()[:_MAX_CMDLINE]
    except OSError:
        return None
    argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = argv[0] if argv else ""
    paths = [exe, *argv[:1]]
    if _INTERPRETERS.fullmatch(Path(exe).name) or (
        argv and _INTERPRETERS.fullmatch(Path(argv[0]).name)
    ):
        for arg in argv[1:]:
            if arg in _INLINE_CODE:  # `python -c CODE`, `node -e CODE`: code, not a path
                break
            if not arg.startswith("-"):
                paths.append(arg)
                break
    return Launcher(pid, Path(exe).name or "?", tuple(p for p in paths if p))


def launchers(pid: int | None = None, limit: int = MAX_PARENTS) -> tuple[Launcher, ...]:
    """The processes above ``pid`` (default: this process), nearest first; empty without
    ``/proc``."""
    chain: list[Launcher] = []
    for parent, _ in _ancestors(pid, limit):
        launcher = _read_launcher(parent)
        if launcher is None:
            break
        chain.append(launcher)
    return tuple(chain)


def _tail(path: str) -> str:
    return "/".join(path.replace("\\", "/").split("/")[-_TAIL:])


def recognise(
    chain: tuple[Launcher, ...], clients: tuple[KnownClient, ...] = KNOWN_CLIENTS
) -> tuple[KnownClient, Launcher] | None:
    """The nearest launcher that is a known client, and which client it is."""
    for launcher in chain:
        for client in clients:
            if any(client.programs.search(_tail(p)) for p in launcher.paths):
                return client, launcher
    return None


def claimed(name: str, clients: tuple[KnownClient, ...] = KNOWN_CLIENTS) -> KnownClient | None:
    """The known client a ``clientInfo.name`` says it is, if any."""
    return next((c for c in clients if c.client_names.fullmatch(name.strip())), None)


def contradiction(name: str, seen: tuple[KnownClient, Launcher] | None) -> str | None:
    """One line saying how ``clientInfo.name`` contradicts the observed launcher, or None
    (an unknown name, or no known client among the launchers, contradicts nothing)."""
    says = claimed(name)
    if seen is None or says is None or says is seen[0]:
        return None
    from ztmcp.terminal import safe  # one line, nothing in it acts on a terminal

    client, launcher = seen
    return (
        f"clientInfo.name '{safe(name[:80])}' claims {says.name}, but ztmcp run was launched "
        f"by {client.name} (pid {launcher.pid}, {safe(launcher.program[:60])})"
    )


CLIENT_INFO_META: Final = "io.modelcontextprotocol/clientInfo"  # per request, 2026-07-28


class ClientIdentityCheck:
    """Flags (never denies) a request whose ``clientInfo.name`` contradicts the client that
    launched ``ztmcp run``: ``initialize``'s ``clientInfo``, or the per-request one in
    ``_meta``. Built only when a known client was recognised among the launchers
    (``client_identity_checks``), so it costs nothing otherwise."""

    name = "identity"

    def __init__(self, seen: tuple[KnownClient, Launcher]) -> None:
        self._seen = seen
        self._last: tuple[str, str | None] = ("", None)  # the last name and what it gave

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.direction is not Direction.TO_SERVER or msg.kind is not Kind.REQUEST:
            return None
        params = msg.params
        info = params.get("clientInfo") if msg.method == "initialize" else None
        if info is None:
            meta = params.get("_meta")
            info = meta.get(CLIENT_INFO_META) if isinstance(meta, dict) else None
        name = info.get("name") if isinstance(info, dict) else None
        if not isinstance(name, str):
            return None
        if self._last[0] != name:
            self._last = (name, contradiction(name, self._seen))
        reason = self._last[1]
        if reason is None:
            return None
        return Verdict(
            Action.FLAG,
            self.name,
            "identity.client_mismatch",
            reason,
            severity=Severity.MEDIUM,
            hint="check which program really runs this MCP client",
        )


def client_identity_checks() -> list[ClientIdentityCheck]:
    """The check for ``ztmcp run``'s pipeline when a known client launched it; else none."""
    seen = recognise(launchers())
    return [] if seen is None else [ClientIdentityCheck(seen)]
