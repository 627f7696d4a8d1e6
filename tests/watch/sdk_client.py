"""An agent's calls with an official SDK, unchanged, at its default base URL (run as a child).

``python sdk_client.py openai|anthropic [PROMPT]``: a call with tools, the tool result fed
back, and the same streamed; prints every result as JSON on stdout. A refused call prints the
SDK's error (type, status, message) instead.
"""

from __future__ import annotations

import json
import sys
from typing import Any

TOOLS_OPENAI = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
TOOLS_ANTHROPIC = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]


def run_openai(prompt: str) -> list[Any]:
    import openai

    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    out: list[Any] = []
    messages: list[Any] = [{"role": "user", "content": prompt}]
    first = client.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS_OPENAI)
    out.append(first.model_dump())
    call = first.choices[0].message.tool_calls[0]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    second = client.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS_OPENAI)
    out.append(second.model_dump())
    stream = client.chat.completions.create(
        model="gpt-test", messages=messages[:1], tools=TOOLS_OPENAI, stream=True
    )
    out.append([chunk.model_dump() for chunk in stream])
    return out


def run_anthropic(prompt: str) -> list[Any]:
    import anthropic

    client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
    out: list[Any] = []
    messages: list[Any] = [{"role": "user", "content": prompt}]
    first = client.messages.create(
        model="claude-test", max_tokens=64, messages=messages, tools=TOOLS_ANTHROPIC
    )
    out.append(first.model_dump())
    use = first.content[0]
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21C"}],
        },
    ]
    second = client.messages.create(
        model="claude-test", max_tokens=64, messages=messages, tools=TOOLS_ANTHROPIC
    )
    out.append(second.model_dump())
    stream = client.messages.create(
        model="claude-test",
        max_tokens=64,
        messages=messages[:1],
        tools=TOOLS_ANTHROPIC,
        stream=True,
    )
    out.append([event.model_dump() for event in stream])
    return out


def main() -> None:
    which = sys.argv[1]
    prompt = sys.argv[2] if len(sys.argv) > 2 else "What is the weather in Paris?"
    try:
        result = run_openai(prompt) if which == "openai" else run_anthropic(prompt)
    except Exception as exc:  # the SDK's own error, as the app would see it
        status = getattr(exc, "status_code", None)
        print(json.dumps({"error": type(exc).__name__, "status": status, "message": str(exc)}))
        return
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
