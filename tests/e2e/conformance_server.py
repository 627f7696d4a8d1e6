"""A reference server for the conformance suite, on the official Python SDK's ``MCPServer``.

server-everything speaks only the handshake era, so it fails almost every 2026-07-28 check;
this server gives the suite something that passes there. It implements the tools, resources
and prompts the suite's scenarios name (``test_simple_text``, ``test://static-text``, …) with
the SDK's own decorators, and serves Streamable HTTP, where the SDK handles both protocol
eras. Run: ``python tests/e2e/conformance_server.py PORT`` (listens on 127.0.0.1, ``/mcp``).
"""

from __future__ import annotations

import base64
import sys

import anyio
import mcp_types as types
import uvicorn
from mcp.server.mcpserver import Audio, Context, Image, MCPServer, UserMessage

# A 1x1 red PNG and a short silent WAV: the suite checks types and fields, not pixels.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = (
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00"
    b"@\x1f\x00\x00\x01\x00\x08\x00data\x00\x00\x00\x00"
)

app = MCPServer("ztmcp-conformance-reference", instructions="A conformance reference server.")


def _embedded(uri: str = "test://embedded-resource") -> types.EmbeddedResource:
    return types.EmbeddedResource(
        type="resource",
        resource=types.TextResourceContents(
            uri=uri, mime_type="text/plain", text="This is an embedded resource content."
        ),
    )


def _image() -> types.ImageContent:
    return Image(data=PNG, format="png").to_image_content()


@app.tool()
def test_simple_text() -> str:
    """Returns a simple text."""
    return "This is a simple text response for testing."


@app.tool()
def test_image_content() -> Image:
    """Returns an image."""
    return Image(data=PNG, format="png")


@app.tool()
def test_audio_content() -> Audio:
    """Returns a short WAV clip."""
    return Audio(data=WAV, format="wav")


@app.tool()
def test_embedded_resource() -> list[types.ContentBlock]:
    """Returns an embedded resource."""
    return [_embedded()]


@app.tool()
def test_multiple_content_types() -> list[types.ContentBlock]:
    """Returns text, an image and a resource."""
    return [
        types.TextContent(type="text", text="Multiple content types test:"),
        _image(),
        _embedded("test://mixed-content-resource"),
    ]


@app.tool()
def test_error_handling() -> str:
    """Always fails, as a tool error."""
    raise RuntimeError("This tool intentionally returns an error for testing")


@app.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Sends three log notifications while it runs."""
    await ctx.info("Tool execution started")
    await anyio.sleep(0.05)
    await ctx.info("Tool processing data")
    await anyio.sleep(0.05)
    await ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@app.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Reports progress 0, 50, 100 of 100."""
    for progress in (0, 50, 100):
        await ctx.report_progress(progress, 100)
        if progress < 100:
            await anyio.sleep(0.05)
    return "Tool with progress executed successfully"


@app.resource("test://static-text", mime_type="text/plain")
def static_text() -> str:
    """A static text resource."""
    return "This is the content of the static text resource."


@app.resource("test://static-binary", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource."""
    return PNG


@app.resource("test://template/{id}/data", mime_type="application/json")
def template_data(id: str) -> str:
    """A resource template."""
    return f'{{"id": "{id}", "templateTest": true, "data": "Data for ID: {id}"}}'


@app.prompt()
def test_simple_prompt() -> str:
    """A prompt without arguments."""
    return "This is a simple prompt for testing."


@app.prompt()
def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with two arguments."""
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@app.prompt()
def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
    """A prompt with an embedded resource."""
    return [
        UserMessage(content=_embedded(resourceUri)),
        UserMessage(content="Please process the embedded resource above."),
    ]


@app.prompt()
def test_prompt_with_image() -> list[UserMessage]:
    """A prompt with an image."""
    return [UserMessage(content=_image()), UserMessage(content="Please analyze the image above.")]


if __name__ == "__main__":
    uvicorn.run(
        app.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="error"
    )
