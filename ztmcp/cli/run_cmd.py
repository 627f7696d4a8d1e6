"""``ztmcp run``: the stdio interceptor. Parsed with argparse so start-up stays fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ztmcp.pinning import PinEdge
    from ztmcp.policy import Policy
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
    if {"-h", "--help"} & set(ours):  # the same rich help every other command has
        from ztmcp.cli.hints import print_run_help

        print_run_help(parser)
        return 0
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
    from ztmcp.policy import load_policy
    from ztmcp.sandbox.launch import prepare  # --sandbox / [sandbox]: None when not sandboxed
    from ztmcp.state import paths

    # Loaded once: the sandbox reads its [sandbox] tables from it, the runtime its checks.
    policy = load_policy(ns.policy, cwd=Path.cwd(), user_config=paths.user_config())
    sandbox = prepare(ns, command, policy)
    try:
        if sandbox is None:
            return _relay(ns, command, command, None, policy)
        return _relay(ns, command, sandbox.argv, sandbox.env, policy)
    finally:
        if sandbox is not None:
            sandbox.close("ztmcp run ended")


def _relay(
    ns: argparse.Namespace,
    command: list[str],
    spawn: list[str],
    env: dict[str, str] | None,
    policy: Policy,
) -> int:
    from ztmcp.adapters.stdio import StdioRelay, kill_server, spawn_server

    # Start the server first: it boots while ztmcp loads its policy and builds its checks.
    # Its output waits in the pipe; nothing reaches the agent before the Session exists.
    child = spawn_server(spawn, env=env)
    try:
        session = _session(ns, command, policy)
    except BaseException:
        kill_server(child)
        raise
    from ztmcp.cli.hints import NotMcpWatch, say_waiting

    say_waiting(sys.stdin, sys.stderr, session.server)  # on a terminal: what it waits for
    # Warm the detectors up once the first answers went out: before that, the work would only
    # compete with the first messages (which need little of it) for the interpreter lock.
    try:
        # A server that echoes or is no MCP server is told apart from one using a method
        # the policy does not allow: said once on stderr (the denial itself says so too).
        watch = NotMcpWatch(command, sys.stderr)
        result = StdioRelay(
            session,
            command,
            grace=ns.grace,
            child=child,
            watch=watch,
            when_idle=_warm_up_in_background,
        ).run()
    except BaseException:
        session.close("ztmcp run failed while relaying")
        raise
    return result.exit_code


def _warm_up_in_background() -> None:
    from ztmcp.runtime import warm_up_in_background

    warm_up_in_background()


def _session(ns: argparse.Namespace, command: list[str], policy: Policy | None = None) -> Session:
    from ztmcp.runtime import Stdio, build

    runtime = build(
        Stdio(tuple(command)),
        policy=policy,
        policy_file=ns.policy,
        name=ns.name,
        monitor=ns.monitor,
        say=lambda text: print(f"ztmcp: {text}", file=sys.stderr),
    )
    # One session over the runtime's own log: it owns both edges (pins, holds and renewals)
    # and closes them, and the log, when it ends.
    return runtime.session()


def _pin_edge(
    checks: list[Any], name: str, argv_sha256: str, *, background: bool = True
) -> PinEdge | None:
    """The runtime's pin edge (kept for callers of the old name); see ``runtime.pin_edge``."""
    from ztmcp.runtime import pin_edge

    return pin_edge(
        checks,
        name,
        argv_sha256,
        say=lambda text: print(f"ztmcp: {text}", file=sys.stderr),
        background=background,
    )
