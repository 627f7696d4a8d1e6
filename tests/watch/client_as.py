"""An MCP client (the official ``mcp`` SDK) that says it is whoever argv[1] names.

``python …/NAME/cli.py CLIENT_NAME SERVER_CMD…``: the directory it is copied into is what the
launcher looks like to ``ztmcp run`` (``…/claude/cli.py`` is Claude Code). Starts the server
through ``ztmcp run``, initializes with ``clientInfo.name = CLIENT_NAME``, lists the tools.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import Implementation


async def main(client_name: str, server: list[str]) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ztmcp", "run", "--name", "everything", "--", *server],
        env=dict(os.environ),
    )
    me = Implementation(name=client_name, version="1.0")
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, client_info=me) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()
    print(len(listed.tools))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
