"""ztmcp.lock: round trip, stable text, one-line errors naming file and key, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ztmcp import lockfile
from ztmcp.errors import PinError
from ztmcp.lockfile import Lockfile, Pin
from ztmcp.manifest import KINDS, whole_digest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
SERVER = "sha256:" + "4" * 64


def make_pin(name: str, **fields: Any) -> Pin:
    """A pin whose whole digest adds up from its parts (as `ztmcp pin` writes it)."""
    tables = {k: fields.get(a, {}) for k, a in zip(KINDS, ATTRS, strict=True)}
    return Pin(name=name, digest=whole_digest(SERVER, tables), server_digest=SERVER, **fields)


ATTRS = ("tools", "prompts", "resource_templates")


def sample(path: Path) -> Lockfile:
    time = make_pin(
        "time",
        command=("uvx", "mcp-server-time"),
        tools={"get_current_time": D2, "convert_time": D3},
        pinned_at="2026-11-25T12:00:00Z",
        server="mcp-time 2026.10.19",
        manifest="ztmcp.manifests/time.json",
    )
    remote = make_pin(
        "remote",
        url="https://mcp.example.com/mcp",
        tools={"a.b": D1},
        prompts={"greet": D3},
        resource_templates={"file": D1},
        source="sigstore",
        manifest="ztmcp.manifests/remote.json",
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


GOOD_DIGEST = whole_digest(SERVER, {"tools": {"x": D2}})
GOOD = (
    f'version = 1\n[servers.t]\ncommand = ["x"]\ndigest = "{GOOD_DIGEST}"\n'
    f'server_digest = "{SERVER}"\n'
)
TOOLS = f'[servers.t.tools]\nx = "{D2}"\n'
SIGNED = 'source = "sigstore"\nidentity = "i"\nissuer = "u"\nmanifest = "m.json"\n'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("version = [", "not valid TOML"),
        ("version = 2\n", "version"),
        ("version = 1\nservers = 3\n", "servers"),
        ("version = 1\nextra = 1\n", "extra"),
        (GOOD.replace(GOOD_DIGEST, "sha256:abc") + TOOLS, "servers.t.digest"),
        (GOOD.replace(GOOD_DIGEST, GOOD_DIGEST.upper()) + TOOLS, "servers.t.digest"),
        (GOOD.replace(GOOD_DIGEST, "sha1:" + "a" * 40) + TOOLS, "servers.t.digest"),
        (GOOD.replace(SERVER, "4" * 64) + TOOLS, "servers.t.server_digest"),
        (GOOD.replace(f'server_digest = "{SERVER}"\n', "") + TOOLS, "servers.t.server_digest"),
        (GOOD.replace('["x"]', "[]") + TOOLS, "servers.t.command"),
        (GOOD.replace('["x"]', '"x"') + TOOLS, "servers.t.command"),
        (GOOD.replace('["x"]', "[1]") + TOOLS, "servers.t.command"),
        (GOOD + 'source = "trust-me"\n' + TOOLS, "servers.t.source"),
        (GOOD + "nickname = 1\n" + TOOLS, "servers.t.nickname"),
        (GOOD + 'url = "https://x"\n' + TOOLS, "servers.t"),
        (GOOD + "[servers.t.tools]\nx = 1\n", "servers.t.tools.x"),
        (GOOD + f'[servers.t.tools]\nx = "{D2}"\nhidden = "z"\n', "servers.t.tools.hidden"),
        (GOOD + "tools = 3\n", "servers.t.tools"),
        (GOOD + "identity = 5\n" + TOOLS, "servers.t.identity"),
        (GOOD + 'pinned_at = ""\n' + TOOLS, "servers.t.pinned_at"),
        # Per-item digests that do not add up to the whole digest (a hand-edited item).
        (GOOD + f'[servers.t.tools]\nx = "{D3}"\n', "does not match its per-item digests"),
        (GOOD + f'[servers.t.tools]\nx = "{D2}"\ny = "{D2}"\n', "servers.t.digest"),
        (GOOD, "servers.t.digest"),  # an item deleted
        # Signed pins: the signer is required, and only signed pins have one.
        (GOOD + SIGNED + TOOLS, "servers.t.bundle"),
        (GOOD + SIGNED.replace('identity = "i"\n', 'bundle = "b"\n') + TOOLS, "identity"),
        (GOOD + 'bundle = "b.json"\n' + TOOLS, "belongs to signed pins only"),
        (GOOD + SIGNED + 'bundle = "../b.json"\n' + TOOLS, "servers.t.bundle"),
        (GOOD + SIGNED + 'bundle = "/etc/b.json"\n' + TOOLS, "relative to the lock"),
        (GOOD + 'manifest = "../../m.json"\n' + TOOLS, "servers.t.manifest"),
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
    bad = Lockfile(
        path, {"x": Pin(name="x", digest="md5:nope", server_digest=SERVER, command=("x",))}
    )
    with pytest.raises(PinError, match=r"servers\.x\.digest"):
        lockfile.write(bad)
    assert not path.exists()


def test_the_good_base_of_the_corrupt_cases_parses(tmp_path: Path) -> None:
    path = tmp_path / "ztmcp.lock"
    path.write_text(GOOD + TOOLS)
    pin = lockfile.read(path).pins["t"]
    assert pin.tools == {"x": D2} and pin.digest == GOOD_DIGEST and not pin.signed
    path.write_text(GOOD + SIGNED + 'bundle = "b.json"\n' + TOOLS)
    signed = lockfile.read(path).pins["t"]
    assert signed.signed and signed.signer() == "i (issuer u)"


@pytest.mark.parametrize(
    "text",
    [
        "version = [",
        GOOD + f'[servers.t.tools]\nx = "{D3}"\n',
        GOOD.replace(GOOD_DIGEST, "sha256:xyz") + TOOLS,
        GOOD + "colour = 1\n" + TOOLS,
    ],
)
def test_cli_refuses_a_corrupt_lock_in_one_line_and_overwrites_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    from typer.testing import CliRunner

    from ztmcp.cli.app import app
    from ztmcp.manifest import Manifest

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ztmcp.lock").write_text(text)
    (tmp_path / "m.json").write_text(Manifest.from_lists(tools=[{"name": "a"}]).to_json())
    runner = CliRunner()
    for args in (["pin", "t", "--manifest", "m.json"], ["pins"], ["unpin", "t"], ["diff", "t"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("ztmcp: error: ") and "ztmcp.lock" in result.stderr
        assert result.stderr.count("\n") <= 2  # the cause, and at most one hint line
        assert "Traceback" not in result.output
        assert (tmp_path / "ztmcp.lock").read_text() == text
    assert not (tmp_path / "ztmcp.manifests").exists()


EXAMPLES_CI = Path(__file__).resolve().parents[1] / "examples" / "ci"


def test_the_consumer_lock_example_is_the_writers_output(tmp_path: Path) -> None:
    import importlib.util

    from ztmcp.manifest import Manifest

    lock = lockfile.read(EXAMPLES_CI / "consumer-ztmcp.lock", missing_ok=False)
    pin = lock.pins["time"]
    assert pin.signed and pin.issuer == "https://token.actions.githubusercontent.com"
    assert pin.identity is not None and pin.identity.startswith("https://github.com/")
    assert ".github/workflows/release-manifest.yml@refs/tags/v" in pin.identity
    assert pin.bundle == "ztmcp.manifests/time.sigstore.json"
    assert pin.manifest is not None
    stored = (EXAMPLES_CI / pin.manifest).read_text()
    assert Manifest.from_json(stored).digest == pin.digest
    # Regenerated from the stored manifest by the script (the real writer): byte-identical.
    spec = importlib.util.spec_from_file_location(
        "make_lock", EXAMPLES_CI / "make_consumer_lock.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    again = module.write(stored, tmp_path)
    assert again.path.read_bytes() == (EXAMPLES_CI / "consumer-ztmcp.lock").read_bytes()


def test_the_release_workflow_extracts_signs_and_uploads() -> None:
    # No YAML parser is installed: check the lines that matter, in order.
    text = (EXAMPLES_CI / "release-manifest.yml").read_text()
    lines = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert "\t" not in text
    assert lines.index("release:") < lines.index("types: [published]")
    assert any(line.startswith("id-token: write") for line in lines)
    wanted = [
        "run: ztmcp manifest -o manifest.json --",
        "run: ztmcp sign manifest.json",
        "ztmcp verify manifest.json --bundle manifest.json.sigstore.json",
        "run: gh release upload",
    ]
    found = [next(i for i, line in enumerate(lines) if line.startswith(w)) for w in wanted]
    assert found == sorted(found)
    assert "https://token.actions.githubusercontent.com" in text
