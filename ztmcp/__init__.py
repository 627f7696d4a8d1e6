"""ztmcp: zero trust for the Model Context Protocol.

The core (jsonrpc, checks, session, policy, state) imports no UI, CLI or network framework:
an MCP client starts one ``ztmcp run`` per server, so start-up stays light.
"""

__version__ = "0.1.0"
