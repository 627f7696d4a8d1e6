"""A scripted agent: asks the model (openai SDK, default base URL), then does what it asked
through a real MCP server behind ``ztmcp run``, then makes one call no model asked for.

``python loop_agent.py SERVER_CMD…``; prints the MCP results as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import openai
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

TOOLS = [{"type": "function", "function": {"name": "echo", "parameters": {"type": "object"}}}]


async def main(server: list[str]) -> None:
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    turn = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "say hello"}], tools=TOOLS
    )
    call = turn.choices[0].message.tool_calls[0]
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ztmcp", "run", "--name", "everything", "--", *server],
        env=dict(os.environ),  # the SDK passes a safe subset by default: ZTMCP_* would be lost
    )
    out = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        asked = await session.call_tool(call.function.name, json.loads(call.function.arguments))
        out.append(asked.model_dump(mode="json"))
        unprompted = await session.call_tool("echo", {"message": "nobody asked"})
        out.append(unprompted.model_dump(mode="json"))
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
