"""A small MCP server that elicits, for the elicitation end-to-end test (stdio, official SDK).

``ask_recipient`` asks the person, through the SDK's resolver (``Resolve(Elicit)``), who
should get the report; the form pre-fills a ``cc`` address of the server's own choosing. At
protocol 2026-07-28 the SDK asks with an ``input_required`` result and the client retries the
call with ``inputResponses``; in the handshake era it sends ``elicitation/create``.
``python elicit_server.py`` serves stdio; ``python elicit_server.py PORT http`` Streamable HTTP.
"""

from __future__ import annotations

import sys
from typing import Annotated

from mcp.server.mcpserver import Elicit, MCPServer, Resolve
from pydantic import BaseModel, Field

DEFAULT_CC = "reports@server-default.example"  # the server's pre-filled value


class Recipient(BaseModel):
    email: str = Field(description="Who should get the report?")
    cc: str = Field(default=DEFAULT_CC, description="A copy goes to")


def ask() -> Elicit[Recipient]:
    return Elicit("Who should get the quarterly report?", Recipient)


def build() -> MCPServer:
    server = MCPServer("elicit", version="1.0.0")

    @server.tool(structured_output=False)
    def ask_recipient(recipient: Annotated[Recipient, Resolve(ask)]) -> str:
        """Ask the person who should get the report."""
        return f"the report goes to {recipient.email} (cc {recipient.cc})"

    return server


if __name__ == "__main__":
    if sys.argv[2:3] == ["http"]:  # ``elicit_server.py PORT http``: Streamable HTTP
        import uvicorn

        web = build().streamable_http_app()
        uvicorn.run(web, host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
    else:
        build().run("stdio")
