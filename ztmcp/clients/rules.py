"""Where each MCP client keeps its server list, as data: file, format, and the keys inside.

One ``Client`` per supported client. ``user`` paths are per platform (``linux``, ``darwin``,
``win32``) with ``~`` for the home directory and ``%VAR%`` for an environment variable;
``project`` paths are relative to the project directory. ``containers`` name the objects that
map server names to entries (``*`` matches any key: Claude Code keeps one server map per
project inside ``~/.claude.json``). The Windows paths are documented (docs/clients.md), not
tested on Windows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class Format(Enum):
    JSON = "json"  # JSON with comments and trailing commas (JSONC)
    TOML = "toml"


class Scope(Enum):
    USER = "user"
    PROJECT = "project"


@dataclass(frozen=True)
class Client:
    name: str  # what --client takes
    title: str
    format: Format
    containers: tuple[tuple[str, ...], ...]
    user: Mapping[str, tuple[str, ...]]  # platform -> candidate user config paths
    project: tuple[str, ...] = ()
    url_keys: tuple[str, ...] = ("url",)


CLIENTS: tuple[Client, ...] = (
    Client(
        name="claude-desktop",
        title="Claude Desktop",
        format=Format.JSON,
        containers=(("mcpServers",),),
        user={
            "linux": ("~/.config/Claude/claude_desktop_config.json",),
            "darwin": ("~/Library/Application Support/Claude/claude_desktop_config.json",),
            "win32": ("%APPDATA%/Claude/claude_desktop_config.json",),
        },
    ),
    Client(
        name="claude-code",
        title="Claude Code",
        format=Format.JSON,
        containers=(("mcpServers",), ("projects", "*", "mcpServers")),
        user={
            "linux": ("~/.claude.json",),
            "darwin": ("~/.claude.json",),
            "win32": ("%USERPROFILE%/.claude.json",),
        },
        project=(".mcp.json",),
    ),
    Client(
        name="vscode",
        title="VS Code",
        format=Format.JSON,
        containers=(("servers",),),
        user={
            "linux": ("~/.config/Code/User/mcp.json",),
            "darwin": ("~/Library/Application Support/Code/User/mcp.json",),
            "win32": ("%APPDATA%/Code/User/mcp.json",),
        },
        project=(".vscode/mcp.json",),
    ),
    Client(
        name="cursor",
        title="Cursor",
        format=Format.JSON,
        containers=(("mcpServers",),),
        user={
            "linux": ("~/.cursor/mcp.json",),
            "darwin": ("~/.cursor/mcp.json",),
            "win32": ("%USERPROFILE%/.cursor/mcp.json",),
        },
        project=(".cursor/mcp.json",),
    ),
    Client(
        name="windsurf",
        title="Windsurf",
        format=Format.JSON,
        containers=(("mcpServers",),),
        user={
            "linux": ("~/.codeium/windsurf/mcp_config.json",),
            "darwin": ("~/.codeium/windsurf/mcp_config.json",),
            "win32": ("%USERPROFILE%/.codeium/windsurf/mcp_config.json",),
        },
        url_keys=("serverUrl", "url"),
    ),
    Client(
        name="codex",
        title="Codex",
        format=Format.TOML,
        containers=(("mcp_servers",),),
        user={
            "linux": ("%CODEX_HOME%/config.toml", "~/.codex/config.toml"),
            "darwin": ("%CODEX_HOME%/config.toml", "~/.codex/config.toml"),
            "win32": ("%CODEX_HOME%/config.toml", "%USERPROFILE%/.codex/config.toml"),
        },
    ),
)

BY_NAME: Mapping[str, Client] = {client.name: client for client in CLIENTS}

_VAR = re.compile(r"%([A-Z_]+)%")


@dataclass(frozen=True)
class ConfigFile:
    client: Client
    path: Path
    scope: Scope


def expand(template: str, home: Path, env: Mapping[str, str]) -> Path | None:
    """The path a template names, or None when it uses an unset variable."""
    missing = [name for name in _VAR.findall(template) if not env.get(name)]
    if missing:
        return None
    text = _VAR.sub(lambda m: env[m.group(1)], template)
    if text == "~" or text.startswith("~/"):
        text = str(home) + text[1:]
    return Path(text)


def candidates(
    client: Client, platform: str, home: Path, env: Mapping[str, str], project: Path | None
) -> list[ConfigFile]:
    """Every file this client may read on ``platform``, existing or not, user files first."""
    found: list[ConfigFile] = []
    for template in client.user.get(platform, client.user.get("linux", ())):
        path = expand(template, home, env)
        if path is not None:
            found.append(ConfigFile(client, path, Scope.USER))
            break  # the first that the environment names wins (CODEX_HOME over ~/.codex)
    if project is not None:
        found += [ConfigFile(client, project / rel, Scope.PROJECT) for rel in client.project]
    return found


def discover(
    platform: str, home: Path, env: Mapping[str, str], project: Path | None
) -> list[ConfigFile]:
    """The config files that exist, for every client."""
    return [
        config
        for client in CLIENTS
        for config in candidates(client, platform, home, env, project)
        if config.path.is_file()
    ]


def host_platform() -> str:
    import sys

    return "darwin" if sys.platform == "darwin" else "win32" if os.name == "nt" else "linux"
