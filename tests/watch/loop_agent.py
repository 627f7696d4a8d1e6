"""A scripted agent: asks the model (openai SDK, default base URL) twice, and does what each
turn asked through a real MCP server behind ``ztmcp run``, in the reverse order; then makes
one call to the same tool with arguments no model turn asked for.

``python loop_agent.py SERVER_CMD…``; prints the MCP results as JSON, in the order made.
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
PROMPTS = ("say hello", "say goodbye")


async def main(server: list[str]) -> None:
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    asked = []
    for prompt in PROMPTS:  # the same tool, other arguments: linking must tell them apart
        turn = client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": prompt}], tools=TOOLS
        )
        asked.append(turn.choices[0].message.tool_calls[0])
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "ztmcp", "run", "--name", "everything", "--", *server],
        env=dict(os.environ),  # the SDK passes a safe subset by default: ZTMCP_* would be lost
    )
    out = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for call in reversed(asked):  # the later turn's call first: time order alone would err
            # re-encoded by the agent, not the model's text: the digest is of the value
            arguments = json.loads(call.function.arguments)
            done = await session.call_tool(call.function.name, arguments)
            out.append(done.model_dump(mode="json"))
        unprompted = await session.call_tool("echo", {"message": "nobody asked"})
        out.append(unprompted.model_dump(mode="json"))
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
