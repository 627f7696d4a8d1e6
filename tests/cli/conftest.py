"""Fixtures for the signing commands: the local Sigstore instance on 127.0.0.1 (offline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sigstore_local import LocalSigstore

# Ambient CI credentials sigstore-python would pick up instead of the token a test passes.
AMBIENT_CREDENTIALS = (
    "SIGSTORE_ID_TOKEN",
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "BUILDKITE",
    "GITLAB_CI",
    "CIRCLECI",
)


@pytest.fixture(scope="module")
def sigstore() -> Iterator[LocalSigstore]:
    with LocalSigstore() as instance:
        yield instance


@pytest.fixture
def sigstore_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sigstore writes its cache under XDG dirs; loopback must never go through a proxy; no
    ambient CI credential may leak in from the machine running the tests."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in AMBIENT_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def trust(sigstore: LocalSigstore, tmp_path: Path) -> Path:
    """A trust config naming the local instance."""
    return sigstore.write_trust_config(tmp_path / "trust.json")
