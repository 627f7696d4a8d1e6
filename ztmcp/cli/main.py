"""Entry point. ``ztmcp run`` takes a fast path that never imports typer (start-up matters:
an MCP client launches one ``ztmcp run`` per server); every other command goes through the
typer app in ``ztmcp.cli.app``.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        from ztmcp.cli.run_cmd import main as run_main

        sys.exit(run_main(args[1:]))
    from ztmcp.cli.app import app

    app(args=args, prog_name="ztmcp")
