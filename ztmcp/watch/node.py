"""Whether an agent that runs on Node will send its ``fetch`` calls through ``ztmcp watch``.

Node's ``fetch`` (undici; what the npm ``openai`` and ``@anthropic-ai/sdk`` packages use)
ignores ``HTTPS_PROXY`` unless ``NODE_USE_ENV_PROXY=1`` is set, and honours that only from
Node 24.0 and 22.21 (backported): on older Node those calls go straight to the provider and
watch never sees them. Watch sets the variable; this module finds out, before the agent
starts, whether the agent is Node (the command itself, or a script whose ``#!`` line names
``node``) and which version, so watch can say so in one line. It never refuses: the agent
may not use ``fetch`` at all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from ztmcp.shebang import interpreter

_NODE: Final = re.compile(r"node(js)?(-?\d+)?")
_VERSION: Final = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
_VERSION_TIMEOUT_S: Final = 5.0


def node_binary(command: list[str], env: Mapping[str, str]) -> str | None:
    """The Node executable that will run ``command``, if it is Node (directly or by ``#!``)."""
    path = env.get("PATH")
    found = shutil.which(command[0], path=path) if command else None
    if found is None:
        return None
    if _NODE.fullmatch(Path(found).name):
        return found
    named = interpreter(found)  # #!/usr/bin/env [-S] node, or #!/path/to/node
    if named is None or not _NODE.fullmatch(Path(named).name):
        return None
    return shutil.which(named, path=path)


def node_version(binary: str) -> tuple[int, int, int] | None:
    try:
        done = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=_VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.match(done.stdout.strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def honours_env_proxy(version: tuple[int, int, int]) -> bool:
    """Whether ``fetch`` on this Node honours ``HTTPS_PROXY`` with ``NODE_USE_ENV_PROXY=1``."""
    major, minor, _ = version
    return major >= 24 or (major == 22 and minor >= 21)


def notice(command: list[str], env: Mapping[str, str]) -> str | None:
    """One line for the user when the agent runs on a Node whose fetch will bypass watch."""
    binary = node_binary(command, env)
    version = node_version(binary) if binary else None
    if version is None or honours_env_proxy(version):
        return None
    shown = ".".join(map(str, version))
    return (
        f"ztmcp watch: the agent runs on Node v{shown}, whose fetch ignores HTTPS_PROXY: its "
        "fetch calls (the openai and anthropic npm packages) go straight out and are not "
        "recorded; run it on Node 22.21+ or 24+"
    )
