"""One config per client format, with comments, a stdio server, an HTTP server and odd spacing."""

from __future__ import annotations

from typing import Final

JSON_BODY: Final = """\
// {title}: MCP servers (comments must survive ztmcp wrap)
{{
  /* first a stdio server */
  "{key}": {{
    "time": {{
      "command": "{command}",   // resolved against PATH at wrap time
      "args": [{args}],
      "env": {{ "TZ": "UTC" }},
    }},
    "bare":{{"command":"{command}"}},
    "web": {{ "type": "http", "{url_key}": "https://example.com/mcp" }},
  }},
}}
"""

CLAUDE_CODE: Final = """\
{{
  "numStartups": 3,
  "mcpServers": {{ "time": {{ "command": "{command}", "args": [{args}] }} }},
  "projects": {{
    "/home/me/project": {{
      "allowedTools": [],
      "mcpServers": {{
        "time": {{ "command": "{command}", "args": [{args}] }},
        "web": {{ "type": "http", "url": "https://example.com/mcp" }}
      }}
    }}
  }}
}}
"""

CODEX: Final = """\
# Codex configuration
model = "o3"

[mcp_servers.time] # the time server
command = "{command}"  # found on PATH
args = [
  {args}, # zone flags
]
env = {{ TZ = "UTC" }}

[mcp_servers.bare]
command = "{command}"

[mcp_servers.web]
url = "https://example.com/mcp"
"""


def render(client: str, command: str, args: list[str]) -> str:
    import json

    joined = ", ".join(json.dumps(a) for a in args)
    if client == "codex":
        return CODEX.format(command=command, args=joined)
    if client == "claude-code":
        return CLAUDE_CODE.format(command=command, args=joined)
    key = "servers" if client == "vscode" else "mcpServers"
    url_key = "serverUrl" if client == "windsurf" else "url"
    return JSON_BODY.format(title=client, key=key, command=command, args=joined, url_key=url_key)
