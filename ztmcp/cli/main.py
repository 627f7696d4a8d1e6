"""Entry point. ``ztmcp run`` takes a fast path that never imports typer (start-up matters:
an MCP client launches one ``ztmcp run`` per server); every other command goes through the
typer app in ``ztmcp.cli.app``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        from ztmcp.cli.run_cmd import main as run_main

        code = run_main(args[1:])
        # Everything ztmcp run owns (audit log, child, pipes) is closed by now. Skip the
        # interpreter's finalisation: a daemon thread still inside a C++ extension (RE2
        # compiling or matching with the GIL released) aborts the process there
        # ("terminate called without an active exception", exit -6) instead of exiting
        # with the server's code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if not args or {"-h", "--help"} & set(args):
        # Help: typer's renderer without the two modules it loads for features ztmcp does
        # not use (markdown markup, pretty tracebacks); the same text (ztmcp.compat.typer).
        from ztmcp.compat.typer import deferred_help_imports

        deferred_help_imports()
    from ztmcp.cli.app import app

    app(args=args, prog_name="ztmcp")
