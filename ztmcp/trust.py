"""Repository files are untrusted until a person approves their exact content.

A project's ``ztmcp.toml`` and ``ztmcp.lock`` arrive with ``git clone``: whoever wrote the
repository wrote them. Like ``direnv allow`` and git's ``safe.directory``, ztmcp honours what
such a file loosens only once the user approved that exact content, by SHA-256, with
``ztmcp trust`` (which shows what it changes against the user's own config and asks a person,
``ztmcp.person.confirm``). Approvals live in the user state dir (``approved.json``, private to
the user), keyed by the file's resolved path: the same bytes at another path, or other bytes
at the same path, are not approved.

``read_confined`` is how ztmcp reads every path a repository file names: the path is resolved
(links followed) and must stay inside the project directory, else it is refused; so a link in
a cloned repository cannot make ztmcp read ``~/.ssh`` as a "trust root" or a "manifest".
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import read_file
from ztmcp.errors import ZtmcpError

APPROVALS_FILE: Final = "approved.json"
_VERSION: Final = 1


class TrustError(ZtmcpError):
    """A repository file or path ztmcp refuses to honour, or an approval it cannot record."""


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _store_path() -> Path:
    from ztmcp.state import paths

    return paths.home() / APPROVALS_FILE


def key(path: Path) -> str:
    """The approval key of a file: its resolved absolute path."""
    return str(path.resolve())


@dataclass(frozen=True, slots=True)
class Approval:
    path: str
    digest: str
    approved_at: float


def _load() -> dict[str, Approval]:
    store = _store_path()
    try:
        raw = read_file(store)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TrustError(f"{store}: cannot read approvals ({exc.strerror})") from None
    try:
        data = json.loads(raw)
        entries = data["files"]
        return {
            str(e["path"]): Approval(str(e["path"]), str(e["digest"]), float(e["approved_at"]))
            for e in entries
        }
    except (ValueError, KeyError, TypeError, RecursionError):
        # A corrupt store approves nothing (fail closed); `ztmcp trust` rewrites it. Not
        # jsonrpc.loads_document: an approved path may hold a lone surrogate (a file name's
        # undecodable byte), and json.loads reads back what json.dumps wrote.
        return {}


def approved(path: Path, content_digest: str) -> bool:
    """Whether the person approved exactly ``content_digest`` at ``path``."""
    try:
        entry = _load().get(key(path))
    except TrustError:
        return False
    return entry is not None and entry.digest == content_digest


def approvals() -> list[Approval]:
    return sorted(_load().values(), key=lambda a: a.path)


def record(path: Path, content_digest: str, *, clock: Any = time.time) -> None:
    """Remember that ``content_digest`` at ``path`` is approved (atomic, 0600, dir 0700)."""
    entries = _load()
    entries[key(path)] = Approval(key(path), content_digest, float(clock()))
    _write(entries)


def forget(path: Path) -> bool:
    entries = _load()
    if entries.pop(key(path), None) is None:
        return False
    _write(entries)
    return True


def _write(entries: dict[str, Approval]) -> None:
    from ztmcp.state.paths import write_atomic

    store = _store_path()
    doc = {
        "version": _VERSION,
        "files": [
            {"path": a.path, "digest": a.digest, "approved_at": a.approved_at}
            for a in sorted(entries.values(), key=lambda a: a.path)
        ],
    }
    try:
        store.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(store, json.dumps(doc, indent=1).encode(), mode=0o600, follow_links=False)
    except OSError as exc:
        raise TrustError(f"{store}: cannot record the approval ({exc.strerror})") from None


def inside(path: Path, project: Path) -> bool:
    """Whether ``path``, with every link resolved, stays inside ``project``."""
    try:
        return path.resolve().is_relative_to(project.resolve())
    except (OSError, RuntimeError):  # a link loop is outside by definition
        return False


def confined(path: Path, project: Path, what: str) -> Path:
    """``path`` resolved, refused (one line) when it leaves ``project`` through ``..`` or a
    link: a repository file can name only files of its own repository."""
    if not inside(path, project):
        raise TrustError(
            f"{what} {path} leads out of the project {project} (through '..' or a link)",
            hint="a repository file may only name files inside its repository",
        )
    return path.resolve()


def read_confined(path: Path, project: Path, what: str) -> bytes:
    real = confined(path, project, what)
    try:
        return read_file(real)
    except OSError as exc:
        raise TrustError(f"{what} {path}: cannot read ({exc.strerror})") from None
