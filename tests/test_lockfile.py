"""ztmcp.lock: round trip, stable text, one-line errors naming file and key, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ztmcp import lockfile
from ztmcp.errors import PinError
from ztmcp.lockfile import Lockfile, Pin

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def sample(path: Path) -> Lockfile:
    time = Pin(
        name="time",
        digest=D1,
        command=("uvx", "mcp-server-time"),
        tools={"get_current_time": D2, "convert_time": D3},
        pinned_at="2026-11-25T12:00:00Z",
        server="mcp-time 2026.10.19",
        manifest="ztmcp.manifests/time.json",
    )
    remote = Pin(
        name="remote",
        digest=D2,
        url="https://mcp.example.com/mcp",
        tools={"a.b": D1},
        prompts={"greet": D3},
        resource_templates={"file": D1},
        source="sigstore",
        identity="ci@example.com",
        issuer="https://token.actions.githubusercontent.com",
        bundle="ztmcp.manifests/remote.sigstore.json",
    )
    return Lockfile(path, {"time": time, "remote": remote})


def test_round_trip_and_stable_text(tmp_path: Path) -> None:
    path = tmp_path / "ztmcp.lock"
    lock = sample(path)
    lockfile.write(lock)
    back = lockfile.read(path)
    assert back == lock
    text = path.read_text()
    assert text.index("[servers.remote]") < text.index("[servers.time]")  # sorted
    assert text.index("convert_time") < text.index("get_current_time")
    assert text.startswith("# ztmcp.lock")
    # Same pins in another insertion order: byte-identical file.
    shuffled = Lockfile(path, dict(reversed(list(lock.pins.items()))))
    assert lockfile.dumps(shuffled) == text
    lockfile.write(back)
    assert path.read_text() == text


def test_missing_lock_is_empty_unless_required(tmp_path: Path) -> None:
    path = tmp_path / "none.lock"
    assert lockfile.read(path).pins == {}
    with pytest.raises(PinError, match="no such lock file"):
        lockfile.read(path, missing_ok=False)


def test_with_pin_and_without(tmp_path: Path) -> None:
    lock = sample(tmp_path / "ztmcp.lock")
    assert set(lock.without("time").pins) == {"remote"}
    again = lock.without("time").with_pin(lock.pins["time"])
    assert again.get("time") == lock.pins["time"]


GOOD = f'version = 1\n[servers.t]\ncommand = ["x"]\ndigest = "{D1}"\n'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("version = [", "not valid TOML"),
        ("version = 2\n", "version"),
        ("version = 1\nservers = 3\n", "servers"),
        ("version = 1\nextra = 1\n", "extra"),
        (GOOD.replace(D1, "sha256:abc"), "servers.t.digest"),
        (GOOD.replace('["x"]', "[]"), "servers.t.command"),
        (GOOD.replace('["x"]', '"x"'), "servers.t.command"),
        (GOOD + 'source = "trust-me"\n', "servers.t.source"),
        (GOOD + "nickname = 1\n", "servers.t.nickname"),
        (GOOD + 'url = "https://x"\n', "servers.t"),
        (GOOD + "[servers.t.tools]\nx = 1\n", "servers.t.tools.x"),
        (GOOD + "tools = 3\n", "servers.t.tools"),
        (GOOD + "identity = 5\n", "servers.t.identity"),
    ],
)
def test_corrupt_lock_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "ztmcp.lock"
    path.write_text(text)
    with pytest.raises(PinError) as caught:
        lockfile.read(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert key in caught.value.message
    assert "\n" not in caught.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "ztmcp.lock"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(PinError, match="not UTF-8"):
        lockfile.read(path)


def test_failed_write_leaves_the_old_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ztmcp.lock"
    lockfile.write(sample(path))
    before = path.read_bytes()

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(PinError, match="cannot write"):
        lockfile.write(sample(path).without("time"))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ztmcp.lock"]  # no temp file left


def test_invalid_pin_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "ztmcp.lock"
    bad = Lockfile(path, {"x": Pin(name="x", digest="md5:nope", command=("x",))})
    with pytest.raises(PinError, match=r"servers\.x\.digest"):
        lockfile.write(bad)
    assert not path.exists()
