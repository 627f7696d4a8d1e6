"""A memo of the signed pins ``ztmcp run`` verified, so a restart need not import sigstore.

Offline verification is a function of its inputs only: the manifest bytes, the bundle bytes,
the trust root (the recorded trust config's bytes, or the production root shipped with the
installed sigstore-python, named by its version), the expected identity and issuer. The memo
key is the SHA-256 over all of them: one changed byte anywhere is a miss and a full
verification. Only successes are remembered.

Importing sigstore costs 0.3 to 1 s (its pydantic models); the verification itself a few
milliseconds. The memo lives in ``$ZTMCP_HOME/state.db`` (table ``verified_signatures``), at the
trust level of the grants there: whoever can write that file can grant themselves any tool
already, so the memo adds no new way in.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Final

from ztmcp.state.db import TableStore, transaction

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS verified_signatures (
        key TEXT PRIMARY KEY,        -- sha256 over manifest, bundle, trust root, identity, issuer
        server TEXT NOT NULL,
        verified_at REAL NOT NULL
    )""",
)


def memo_key(
    manifest: bytes, bundle: bytes, trust_root: str | bytes, identity: str, issuer: str
) -> str:
    """The key of one verification's inputs (length-prefixed, so fields cannot shift)."""
    digest = hashlib.sha256(b"ztmcp.verified/1\0")
    root = trust_root.encode() if isinstance(trust_root, str) else trust_root
    for part in (manifest, bundle, root, identity.encode(), issuer.encode()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def production_root_id() -> str:
    """Names the production trust root ztmcp's ``--offline`` uses: the installed sigstore's."""
    from importlib.metadata import version

    return f"sigstore-python {version('sigstore')} embedded production root"


class VerifiedMemo(TableStore):
    """Remembered successful verifications. One per thread."""

    SCHEMA = _SCHEMA

    def __init__(self, path: Path | None = None, *, busy_ms: int = 2000) -> None:
        super().__init__(path, busy_ms=busy_ms)

    def known(self, key: str) -> bool:
        conn = self._connect(create=False)
        if conn is None:
            return False
        try:
            row = conn.execute("SELECT 1 FROM verified_signatures WHERE key = ?", (key,))
            return row.fetchone() is not None
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None

    def remember(self, key: str, server: str, now: float) -> None:
        conn = self._connect(create=True)
        assert conn is not None
        try:
            with transaction(conn):
                conn.execute(
                    "INSERT OR REPLACE INTO verified_signatures VALUES (?, ?, ?)",
                    (key, server, now),
                )
        except sqlite3.Error as exc:
            raise self._one_line(exc) from None
