"""Agents as non-human identities: who an agent is, as ztmcp observed it, on every record.

``ztmcp watch`` observes the agent it launches (``observe``): a name (``--name``, the policy,
or the executable's name), the executable's resolved path and SHA-256, the chain of parent
processes that launched ``ztmcp watch`` (from ``/proc`` where there is one) and the user. The
identity travels to every process the agent starts in the ``ZTMCP_AGENT`` environment variable
(JSON, bounded), so ``ztmcp run`` started by the agent puts the same fields on its records
(``from_env``; the runtime calls it when it builds a session's ``where`` fields).

The fields use OpenTelemetry names where there are some (``gen_ai.agent.name``,
``process.executable.path``, ``user.name``) and ``ztmcp.agent.*`` for the rest.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ENV: Final = "ZTMCP_AGENT"
MAX_ENV_BYTES: Final = 4096  # a larger value is ignored, not truncated (it is not ours)
MAX_PARENTS: Final = 8
_HASH_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    executable: str  # resolved path, or the command as given when it cannot be found
    sha256: str | None  # None: the executable could not be read
    parents: tuple[str, ...]  # the commands above ztmcp watch, nearest first
    user: str

    def fields(self) -> dict[str, Any]:
        """The record fields every record the agent causes carries."""
        return {
            "gen_ai.agent.name": self.name,
            "process.executable.path": self.executable,
            "ztmcp.agent.executable.sha256": self.sha256,
            "ztmcp.agent.parents": list(self.parents),
            "user.name": self.user,
        }

    def to_env(self) -> str:
        return json.dumps(self.fields(), separators=(",", ":"), ensure_ascii=True)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _comm(pid: int) -> tuple[str, int] | None:
    """The executable name and parent pid of ``pid`` from ``/proc`` (Linux); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = stat[stat.find("(") + 1 : stat.rfind(")")]
    rest = stat[stat.rfind(")") + 2 :].split()
    try:
        return name, int(rest[1])
    except (IndexError, ValueError):
        return None


def parent_chain(pid: int | None = None, limit: int = MAX_PARENTS) -> tuple[str, ...]:
    """The names of the processes above ``pid`` (default: this process), nearest first."""
    chain: list[str] = []
    current = os.getpid() if pid is None else pid
    for _ in range(limit):
        seen = _comm(current)
        if seen is None or seen[1] <= 0:
            break
        parent = _comm(seen[1])
        if parent is None:
            break
        chain.append(parent[0])
        current = seen[1]
    return tuple(chain)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def observe(command: list[str], name: str | None = None) -> Identity:
    """The identity of the agent ``command`` will run, observed before it starts."""
    program = command[0]
    found = shutil.which(program)
    path = Path(found).resolve() if found else None
    return Identity(
        name=name or Path(program).name,
        executable=str(path) if path else program,
        sha256=_sha256(path) if path else None,
        parents=(*parent_chain(),),
        user=_user(),
    )


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The agent fields ``ztmcp watch`` passed down, for a session's records; ``{}`` when
    there are none or they are not what ``watch`` writes (a bad value is never trusted in
    part: the record says ``ztmcp.agent.invalid`` instead)."""
    value = (os.environ if environ is None else environ).get(ENV)
    if not value:
        return {}
    if len(value.encode()) > MAX_ENV_BYTES:
        return {"ztmcp.agent.invalid": "too large"}
    try:
        fields = json.loads(value)
    except ValueError:
        return {"ztmcp.agent.invalid": "not JSON"}
    expected: dict[str, type | tuple[type, ...]] = {
        "gen_ai.agent.name": str,
        "process.executable.path": str,
        "ztmcp.agent.executable.sha256": (str, type(None)),
        "ztmcp.agent.parents": list,
        "user.name": str,
    }
    if not isinstance(fields, dict) or set(fields) != set(expected):
        return {"ztmcp.agent.invalid": "unexpected fields"}
    for key, kind in expected.items():
        if not isinstance(fields[key], kind):
            return {"ztmcp.agent.invalid": f"bad {key}"}
    if not all(isinstance(p, str) for p in fields["ztmcp.agent.parents"]):
        return {"ztmcp.agent.invalid": "bad ztmcp.agent.parents"}
    return fields
