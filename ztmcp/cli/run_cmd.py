"""``ztmcp run``: the stdio interceptor. Parsed with argparse so start-up stays fast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ztmcp.pinning import PinEdge
    from ztmcp.session import Session

from ztmcp.errors import ZtmcpError

DESCRIPTION = """\
Run an MCP server behind ztmcp over stdio. Every JSON-RPC message between your agent
(on this process's stdin/stdout) and the server passes ztmcp's checks, fail-closed, and
is recorded in a hash-chained audit log under $ZTMCP_HOME/audit.

Put it in front of the server command in your client's config, e.g. for Claude Desktop:
  "command": "ztmcp", "args": ["run", "--name", "time", "--", "uvx", "mcp-server-time"]
"""

EPILOG = """\
examples:
  ztmcp run -- npx -y @modelcontextprotocol/server-everything stdio
  ztmcp run --name fs --policy ./ztmcp.toml -- mcp-server-filesystem ~/src
  ztmcp run --monitor -- uvx mcp-server-time     # record findings, block nothing

exit status: 0 when the agent closed the connection, the server's code when it exited
on its own, 2 on a usage or policy error. See the audit with `ztmcp audit show`.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ztmcp run",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="policy file (default: ./ztmcp.toml if present, over the user config)",
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="server name for policy, pins and audit (default: the command's name)",
    )
    parser.add_argument(
        "--monitor",
        action="store_true",
        help="record what the checks find but block nothing (overrides the policy mode)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long the server gets to exit after the agent disconnects (default 5)",
    )
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD ARGS…",
        help="the server command, after --",
    )
    from ztmcp.sandbox.launch import add_arguments  # --sandbox, --allow-*: ztmcp/sandbox/

    add_arguments(parser)
    return parser


def _fail(exc: ZtmcpError) -> int:
    print(f"ztmcp: error: {exc.diagnostics()}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    parser = build_parser()
    # Everything after the first "--" is the server's, never ours.
    if "--" in argv:
        cut = argv.index("--")
        ours, command = argv[:cut], argv[cut + 1 :]
    else:
        ours, command = argv, []
    ns = parser.parse_args(ours)
    command = command or [a for a in ns.command if a != "--"]
    if not command:
        parser.error("no server command: put it after --, e.g. ztmcp run -- mcp-server-time")
    if ns.grace <= 0:
        parser.error("--grace must be a positive number of seconds")
    try:
        return _run(ns, command)
    except ZtmcpError as exc:
        return _fail(exc)


def _run(ns: argparse.Namespace, command: list[str]) -> int:
    from ztmcp.sandbox.launch import prepare  # --sandbox / [sandbox]: None when not sandboxed

    sandbox = prepare(ns, command)
    try:
        if sandbox is None:
            return _relay(ns, command, command, None)
        return _relay(ns, command, sandbox.argv, sandbox.env)
    finally:
        if sandbox is not None:
            sandbox.close("ztmcp run ended")


def _relay(
    ns: argparse.Namespace, command: list[str], spawn: list[str], env: dict[str, str] | None
) -> int:
    from ztmcp.adapters.stdio import StdioRelay, kill_server, spawn_server

    # Start the server first: it boots while ztmcp loads its policy and builds its checks.
    # Its output waits in the pipe; nothing reaches the agent before the Session exists.
    child = spawn_server(spawn, env=env)
    try:
        session = _session(ns, command)
    except BaseException:
        kill_server(child)
        raise
    # Compile the detectors once the relay is up, while it waits on the server's first answer:
    # before that, they would only compete with the imports above for the interpreter lock.
    _warm_up_in_background()
    try:
        result = StdioRelay(session, command, grace=ns.grace, child=child).run()
    except BaseException:
        session.close("ztmcp run failed while relaying")
        raise
    return result.exit_code


def _warm_up_in_background() -> None:
    """Compile the detectors and import jsonschema while the server boots (see detectors._Lazy)."""
    import importlib
    import threading

    def warm() -> None:
        try:
            from ztmcp.detectors import warm_up

            warm_up()
            importlib.import_module("jsonschema")  # the schema check's first use
        except Exception:  # a failure here resurfaces, with its error, at first use
            pass

    threading.Thread(target=warm, name="ztmcp-warm-up", daemon=True).start()


def _session(ns: argparse.Namespace, command: list[str]) -> Session:
    import hashlib

    from ztmcp.policy import build_checks, load_policy
    from ztmcp.session import Edges, Mode, Session
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog

    policy = load_policy(ns.policy, cwd=Path.cwd(), user_config=paths.user_config())
    name = ns.name or Path(command[0]).name
    mode = Mode.MONITOR if ns.monitor else policy.mode
    audit = AuditLog.create(paths.audit_dir(), name)
    where = {
        "server.command": Path(command[0]).name,
        # The full command line may hold tokens: only its digest is recorded.
        "server.argv_sha256": hashlib.sha256("\0".join(command).encode()).hexdigest(),
        "process.pid": os.getpid(),
        "policy.sources": [str(p) for p in policy.sources],
    }
    checks = build_checks(policy)
    for check in checks:  # e.g. pins: "server X is not pinned", once, at start
        notice = getattr(check, "start_notice", None)
        text = notice(name) if notice is not None else None
        if text:
            print(f"ztmcp: {text}", file=sys.stderr)
    from ztmcp.holds import AccessEdge

    # One session, so it owns both edges: pins and drift records, holds and renewals.
    pins = _pin_edge(checks, name, str(where["server.argv_sha256"]))
    access = AccessEdge.for_checks(checks, audit.session_id)
    return Session(
        name,
        checks,
        audit,
        mode=mode,
        limits=policy.limits,
        where=where,
        edge=Edges(own=(pins, access)),
    )


def _pin_edge(
    checks: list[Any], name: str, argv_sha256: str, *, background: bool = True
) -> PinEdge | None:
    """Signed-pin verification, first-seen pins and drift records around the pins check.

    ``background``: verify a signed pin on a thread while the server starts (``ztmcp run``);
    the proxy verifies before it listens instead, because its checks run on the event loop,
    and a listing waiting there for the verification would stall every connection.
    """
    from ztmcp.checks.pins import PinsCheck

    pins = next((c for c in checks if isinstance(c, PinsCheck)), None)
    if pins is None or pins.mode == "off":
        return None
    from ztmcp.pinning import PinEdge

    edge = PinEdge(
        pins, name, argv_sha256, say=lambda text: print(f"ztmcp: {text}", file=sys.stderr)
    )
    edge.start(background=background)
    return edge
