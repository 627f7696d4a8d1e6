"""Fixtures for the state stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ztmcp.state.grants import GrantStore


@pytest.fixture()
def newer_db(tmp_path: Path) -> Path:
    """A state database written by a newer ztmcp (schema version 99)."""
    path = tmp_path / "state.db"
    with GrantStore(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    return path
