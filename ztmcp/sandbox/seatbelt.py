"""The same profile as a macOS Seatbelt (``sandbox-exec``) profile: deny by default.

``render()`` is pure over ``Host`` and gives the SBPL text; ``plan()`` adds the command line
and the environment. Rules, in order (in SBPL the last matching rule wins):

1. ``(deny default)``: nothing is allowed that is not named below.
2. processes: fork and exec (exec only of what may be read), signals only within the sandbox;
   the lookups a runtime needs to start (``sysctl-read``, a few system Mach services).
3. files: metadata everywhere (path walks); contents of the system (``/usr``, ``/System``,
   ``/Library``, ``/bin``, ``/sbin``, ``/private/etc``, …), of what the command needs (its
   executable, interpreter, venv, ``node_modules``, launcher caches, files its arguments name:
   ``bwrap.needs``), and of the read grants; read and write: a private temp directory and the
   write grants. Grants are checked against the never-reachable list exactly as on Linux.
4. network: outbound TCP to ``localhost:PORT`` only, the egress gate's relay (no DNS, no UDP,
   no other port, no Unix sockets).
5. last, the never-reachable list (``bwrap.NEVER`` plus macOS keychains and browser profiles)
   denied for reading and writing, whatever an earlier rule allowed.

Strings are SBPL (TinyScheme) string literals: ``\\`` and ``"`` are escaped, and a path holding
a control character is refused, so no path can end its string and add a rule. This cannot run
here (Linux); the tests parse the text (docs/sandbox.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from ztmcp.errors import UsageError
from ztmcp.sandbox.bwrap import (
    Host,
    _check_grant,
    _expand,
    _grants,
    needs,
    sandbox_env,
    within,
)
from ztmcp.sandbox.profile import Profile

SANDBOX_EXEC: Final = "/usr/bin/sandbox-exec"
SYSTEM_READ: Final = (
    "/usr",
    "/bin",
    "/sbin",
    "/System",
    "/Library",
    "/private/etc",
    "/private/var/db/timezone",
    "/private/var/db/dyld",
    "/opt/homebrew",
    "/usr/local",
)
DEVICES_RO: Final = ("/dev/urandom", "/dev/random", "/dev/fd")
DEVICES_RW: Final = ("/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper")
MACH_SERVICES: Final = (  # what a runtime needs to start; no DNS (mDNSResponder) among them
    "com.apple.system.logger",
    "com.apple.system.notification_center",
    "com.apple.system.opendirectoryd.libinfo",
    "com.apple.SecurityServer",
    "com.apple.trustd.agent",
)
MAC_NEVER: Final = (
    "~/Library/Keychains",
    "/Library/Keychains",
    "~/Library/Cookies",
    "~/Library/Safari",
    "~/Library/Mail",
    "~/Library/Messages",
    "~/Library/Application Support/Google/Chrome",
    "~/Library/Application Support/Firefox",
    "~/Library/Application Support/BraveSoftware",
    "~/Library/Application Support/Microsoft Edge",
    "~/Library/Application Support/com.apple.TCC",
    "~/Library/Group Containers",
    "/private/var/run/docker.sock",
)


def sbpl_string(text: str) -> str:
    """``text`` as an SBPL string literal; refused when it holds a control character."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise UsageError(
            f"cannot sandbox: the path {text!r} holds a control character",
            hint="rename it; a Seatbelt profile cannot name it safely",
        )
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _filters(kind: str, paths: Iterable[str]) -> str:
    return " ".join(f"({kind} {sbpl_string(p)})" for p in paths)


def never_paths(host: Host) -> tuple[str, ...]:
    from ztmcp.sandbox.bwrap import never_paths as linux_never

    found = [*linux_never(host), *(_expand(p, host) for p in MAC_NEVER)]
    found += [os.path.realpath(p) for p in found]
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Plan:
    argv: tuple[str, ...]
    env: dict[str, str]
    profile: str  # the SBPL text (also in argv, after -p)


def render(
    profile: Profile, command: list[str], host: Host, *, proxy_port: int, tmpdir: str, name: str
) -> str:
    """The SBPL profile for ``command`` under ``profile``. Raises ``UsageError`` like Linux."""
    if not command:
        raise UsageError("no server command given", hint="ztmcp run --sandbox -- CMD ARGS…")
    if not 0 < proxy_port < 65536:
        raise UsageError(f"bad egress port {proxy_port}")
    never = never_paths(host)
    reads = [p for p in needs(command, host) if not any(within(p, s) for s in never)]
    for path in _grants(profile.allow_read, host, "--allow-read"):
        _check_grant(path, False, never, "--allow-read")
        reads.append(path)
    writes = [os.path.realpath(tmpdir)]
    for path in _grants(profile.allow_write, host, "--allow-write"):
        _check_grant(path, True, never, "--allow-write")
        writes.append(path)
    runnable = list(dict.fromkeys([*SYSTEM_READ, *reads]))  # never from a writable place
    readable = list(dict.fromkeys([*runnable, *writes]))
    lines = [
        "(version 1)",
        "(deny default)",
        f"; ztmcp sandbox for server {sbpl_string(name)}: generated by ztmcp, do not edit",
        "(allow process-fork)",
        f"(allow process-exec {_filters('subpath', runnable)})",
        "(allow signal (target same-sandbox))",
        "(allow sysctl-read)",
        f"(allow mach-lookup {_filters('global-name', MACH_SERVICES)})",
        "(allow file-read-metadata)",
        f"(allow file-read* {_filters('subpath', readable)})",
        f"(allow file-read* file-write* {_filters('subpath', writes)})",
        f"(allow file-read* {_filters('subpath', DEVICES_RO)})",
        f"(allow file-read* file-write* {_filters('literal', DEVICES_RW)})",
        f'(allow network-outbound (remote tcp "localhost:{proxy_port}"))',
        f"(deny file-read* file-write* {_filters('subpath', never)})",
    ]
    return "\n".join(lines) + "\n"


def plan(
    profile: Profile,
    command: list[str],
    host: Host,
    *,
    proxy_port: int,
    tmpdir: str,
    name: str,
    secret: Callable[[str], str],
) -> Plan:
    """``sandbox-exec -p PROFILE CMD…`` and the server's environment (the Linux allow-list)."""
    text = render(profile, command, host, proxy_port=proxy_port, tmpdir=tmpdir, name=name)
    env = sandbox_env(profile, host, secret, proxy=True)
    url = f"http://127.0.0.1:{proxy_port}"
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        env[key] = url
    env["TMPDIR"] = tmpdir
    return Plan(argv=(SANDBOX_EXEC, "-p", text, *command), env=env, profile=text)
