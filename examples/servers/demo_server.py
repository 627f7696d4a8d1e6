"""Launcher: the demo server lives in ztmcp/demo_server.py, so it ships with the package."""

from ztmcp.demo_server import main

main()
