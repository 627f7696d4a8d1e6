"""Real keyring backends for tests, plugged in through keyring's own extension points.

``MemoryKeyring`` is registered in-process with ``keyring.set_keyring``; ``FileKeyring``
reaches a child process (``ztmcp proxy``) through ``PYTHON_KEYRING_BACKEND`` and keeps its
entries in the JSON file named by ``ZTMCP_TEST_KEYRING_FILE``. Neither is ever chosen by
keyring's automatic detection: each is viable only when selected explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from jaraco.classes.properties import classproperty
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "ZTMCP_TEST_KEYRING_FILE"


def _selected(cls: Any) -> float:
    if os.environ.get("PYTHON_KEYRING_BACKEND") == f"{cls.__module__}.{cls.__qualname__}":
        return 1.0
    raise RuntimeError("a test backend: select it explicitly")


class MemoryKeyring(KeyringBackend):
    """Entries in a dict, for one process."""

    @classproperty
    def priority(cls) -> float:
        return _selected(cls)

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


class FileKeyring(KeyringBackend):
    """Entries in the JSON file named by ``$ZTMCP_TEST_KEYRING_FILE`` (shared by processes)."""

    @classproperty
    def priority(cls) -> float:
        return _selected(cls)

    @property
    def path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return data

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\0{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self.path.write_text(json.dumps(data))


@pytest.fixture()
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A fresh in-memory keyring for this test, then whatever keyring was there before."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


@pytest.fixture()
def no_keyring() -> Iterator[None]:
    """keyring's own "no backend" keyring, as on a headless box without keyrings.alt."""
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        keyring.set_keyring(before)
