"""Signed pins: ``ztmcp pin --bundle`` and the start-up re-verification, with real Sigstore bundles.

Bundles come from ``ztmcp sign`` against the local Sigstore instance on 127.0.0.1
(``tests.sigstore_local``, the unmodified sigstore-python client) and, for "a bundle for
another artifact", the real production bundle in ``../shared/fixtures/sigstore/``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.sigstore_local import mint_token
from ztmcp import lockfile
from ztmcp.checks.pins import PinsCheck
from ztmcp.cli.app import app
from ztmcp.errors import PinError, SigningError
from ztmcp.manifest import Manifest
from ztmcp.pinning import PinEdge

EMAIL = "signer@example.com"
ISSUER = "https://oauth2.sigstore.dev/auth"
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "sigstore"
RUG = Path(__file__).resolve().parents[2] / "examples" / "servers" / "rug_pull_server.py"
ECHO: dict[str, Any] = {"name": "echo", "description": "Echo the input back.", "inputSchema": {}}

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(sigstore_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _errors(err: str) -> list[str]:
    """stderr without progress lines (``ztmcp: verifying … …``) and the hint line."""
    return [
        line
        for line in err.splitlines()
        if not line.endswith(" …") and not line.startswith("  hint:")
        and not line.startswith("ztmcp: verified")
    ]  # fmt: skip


def _sign(path: Path, trust: Path) -> Path:
    code, _, err = _invoke(
        "sign", path, "--trust-config", trust, "--identity-token", mint_token(email=EMAIL)
    )
    assert code == 0, err
    return path.with_name(path.name + ".sigstore.json")


@pytest.fixture
def signed(tmp_path: Path, trust: Path) -> tuple[Path, Path]:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(Manifest.from_lists(server_name="demo", tools=[ECHO]).to_json())
    return manifest, _sign(manifest, trust)


def _pin(manifest: Path, bundle: Path, trust: Path | None, *extra: str | Path) -> Any:
    args: list[str | Path] = ["pin", "demo", "--manifest", manifest, "--bundle", bundle]
    args += ["--identity", EMAIL, "--issuer", ISSUER]
    args += ["--trust-config", trust] if trust is not None else ["--offline"]
    return _invoke(*args, *extra)


def _nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "ztmcp.lock").exists() and not (tmp_path / "ztmcp.manifests").exists()


def test_signed_pin_records_the_signer_and_keeps_the_signed_bytes(
    tmp_path: Path, trust: Path, signed: tuple[Path, Path]
) -> None:
    manifest, bundle = signed
    code, out, err = _pin(manifest, bundle, trust)
    assert code == 0, err
    assert f"signed by {EMAIL} (issuer {ISSUER})" in out
    assert "verifying manifest.json.sigstore.json over manifest.json" in err
    lock = lockfile.read(tmp_path / "ztmcp.lock", missing_ok=False)
    pin = lock.pins["demo"]
    assert (pin.source, pin.identity, pin.issuer) == ("sigstore", EMAIL, ISSUER)
    assert pin.bundle == "ztmcp.manifests/demo.sigstore.json"
    assert pin.trust_config == "ztmcp.manifests/demo.trust.json"
    assert (tmp_path / pin.bundle).read_bytes() == bundle.read_bytes()
    assert (tmp_path / "ztmcp.manifests/demo.json").read_bytes() == manifest.read_bytes()
    assert pin.digest == Manifest.from_json(manifest.read_text()).digest

    code, out, _ = _invoke("pins")
    assert code == 0 and "sigstore" in out and f"signed by {EMAIL} (issuer {ISSUER})" in out

    # What `ztmcp run` does at start: verify again, offline, against the recorded signer.
    verified = lockfile.verify_signature(lock, pin, offline=True)
    assert verified.identity == EMAIL
    notices: list[str] = []
    check = PinsCheck(lock)
    PinEdge(check, "demo", "0" * 64, say=notices.append).start(background=False)
    assert notices == [] and check._refused == {}

    # Re-pinning a signed pin without a signature is refused; the lock stays as it is.
    before = (tmp_path / "ztmcp.lock").read_bytes()
    for args in (["pin", "demo"], ["pin", "demo", "--manifest", manifest]):
        code, _, err = _invoke(*args)
        assert code == 2 and "has a signed pin" in err
        assert (tmp_path / "ztmcp.lock").read_bytes() == before

    # Unpin removes the bundle and trust config with the manifest.
    assert _invoke("unpin", "demo")[0] == 0
    assert list((tmp_path / "ztmcp.manifests").iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message", "code"),
    [
        ({"identity": "mallory@example.com"}, "wrong identity", 1),
        ({"issuer": "https://accounts.google.com"}, "wrong issuer", 1),
        ({"bundle": "not-json"}, "not JSON", 1),
        ({"bundle": "missing"}, "cannot read the bundle", 1),
        ({"trust": None}, "does not chain to a CA in the trust root", 1),
    ],
)
def test_a_signed_pin_that_does_not_verify_writes_nothing(
    tmp_path: Path,
    trust: Path,
    signed: tuple[Path, Path],
    change: dict[str, Any],
    message: str,
    code: int,
) -> None:
    manifest, bundle = signed
    if change.get("bundle") == "not-json":
        bundle = tmp_path / "bad.sigstore.json"
        bundle.write_text("this is not json {")
    elif change.get("bundle") == "missing":
        bundle = tmp_path / "absent.sigstore.json"
    args: list[str | Path] = ["pin", "demo", "--manifest", manifest, "--bundle", bundle]
    args += ["--identity", change.get("identity", EMAIL), "--issuer", change.get("issuer", ISSUER)]
    args += ["--offline"] if "trust" in change else ["--trust-config", trust]
    got, out, err = _invoke(*args)
    assert got == code, err
    assert out == ""
    errors = _errors(err)
    assert len(errors) == 1 and message in errors[0], err
    assert "Traceback" not in err
    assert _nothing_written(tmp_path)


def test_a_bundle_for_another_artifact_is_refused(
    tmp_path: Path, trust: Path, signed: tuple[Path, Path]
) -> None:
    manifest, _ = signed
    other = tmp_path / "other.json"
    other.write_text(Manifest.from_lists(server_name="other", tools=[ECHO]).to_json())
    code, out, err = _pin(manifest, _sign(other, trust), trust)
    assert code == 1 and out == ""
    assert len(_errors(err)) == 1, err
    assert _nothing_written(tmp_path)


def test_the_real_production_bundle_of_another_artifact_is_refused_offline(
    tmp_path: Path, signed: tuple[Path, Path]
) -> None:
    production = FIXTURES / "rfc8785-0.1.2-py3-none-any.whl.sigstore.json"
    if not production.is_file():
        pytest.skip(f"Sigstore fixture bundle not found at {production}")
    manifest, _ = signed
    identity = (
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
    )
    code, out, err = _invoke(
        "pin", "demo", "--manifest", manifest, "--bundle", production, "--identity", identity,
        "--issuer", "https://token.actions.githubusercontent.com", "--offline",
    )  # fmt: skip
    assert code == 1 and out == ""
    errors = _errors(err)
    assert len(errors) == 1 and "does not sign manifest.json" in errors[0], err
    assert _nothing_written(tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ["--bundle", "b.json", "--identity", EMAIL, "--issuer", ISSUER],  # no --manifest
        ["--manifest", "m.json", "--identity", EMAIL],  # identity without a bundle
        ["--manifest", "m.json", "--offline"],
    ],
)
def test_signed_pin_usage_errors(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "m.json").write_text(Manifest.from_lists(tools=[ECHO]).to_json())
    code, _, err = _invoke("pin", "demo", *args)
    assert code == 2 and err.startswith("ztmcp: error: ") and "Traceback" not in err
    assert _nothing_written(tmp_path)


def _subprocess(*args: str | Path) -> tuple[int, str, str]:
    """The real entry point in a child process (the SDK's stdio client needs real stderr)."""
    import os
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ),
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_live_server_must_list_exactly_the_signed_manifest(tmp_path: Path, trust: Path) -> None:
    server = [sys.executable, str(RUG), "description", "100", str(tmp_path / "count")]
    code, _, err = _subprocess("manifest", "-o", "live.json", "--", *server)
    assert code == 0, err
    live = tmp_path / "live.json"
    sign = ["--identity", EMAIL, "--issuer", ISSUER, "--trust-config", trust]
    code, out, err = _subprocess(
        "pin", "demo", "--manifest", live, "--bundle", _sign(live, trust), *sign, "--", *server
    )
    assert code == 0, err
    assert lockfile.read(tmp_path / "ztmcp.lock").pins["demo"].command == tuple(server)

    # A signed manifest that the running server does not match: refused before any write.
    before = (tmp_path / "ztmcp.lock").read_bytes()
    edited = Manifest.from_json(live.read_text())
    tools = [dict(t) for t in edited.tools.values()]
    tools[0]["description"] = "A different release."
    other = tmp_path / "other.json"
    other.write_text(Manifest.from_lists(
        server_name=edited.server_name, server_version=edited.server_version, tools=tools
    ).to_json())  # fmt: skip
    code, out, err = _subprocess(
        "pin", "demo", "--manifest", other, "--bundle", _sign(other, trust), *sign, "--", *server
    )
    assert code == 2 and out == "", err
    errors = [e for e in _errors(err) if e.startswith("ztmcp: error: ")]
    assert len(errors) == 1 and "the live server does not list what other.json signs" in errors[0]
    assert "description" in errors[0]
    assert (tmp_path / "ztmcp.lock").read_bytes() == before
    assert (tmp_path / "ztmcp.manifests" / "demo.json").read_bytes() == live.read_bytes()


def test_the_proxy_verifies_a_signed_pin_before_it_serves(
    tmp_path: Path, trust: Path, signed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`ztmcp proxy` runs its checks on the event loop: nothing may wait there for sigstore."""
    from ztmcp.cli.run_cmd import _pin_edge
    from ztmcp.testing import context, request, response

    manifest, bundle = signed
    assert _pin(manifest, bundle, trust)[0] == 0
    check = PinsCheck(lockfile.read(tmp_path / "ztmcp.lock"))
    assert _pin_edge([check], "demo", "0" * 64, background=False) is not None
    assert not check._pending  # verified already, successfully
    (tmp_path / "ztmcp.manifests" / "demo.sigstore.json").unlink()
    check = PinsCheck(lockfile.read(tmp_path / "ztmcp.lock"))
    _pin_edge([check], "demo", "0" * 64, background=False)
    assert not check._pending and "missing" in capsys.readouterr().err
    verdict = check.check(
        response({"serverInfo": {"name": "demo", "version": "1"}, "instructions": "Hi."}),
        context(request("initialize", {}), server="demo"),
    )
    assert verdict is not None and verdict.rule == "pins.unverified"


def test_start_up_fails_closed_when_the_signed_files_go_wrong(
    tmp_path: Path, trust: Path, signed: tuple[Path, Path]
) -> None:
    from ztmcp.checks.envelope import EnvelopeCheck
    from ztmcp.jsonrpc import Direction
    from ztmcp.session import Session
    from ztmcp.state.audit import AuditLog
    from ztmcp.testing import request, response

    manifest, bundle = signed
    assert _pin(manifest, bundle, trust)[0] == 0
    lock_path = tmp_path / "ztmcp.lock"
    kept = tmp_path / "ztmcp.manifests" / "demo.sigstore.json"
    good_bundle = kept.read_bytes()

    def start() -> tuple[PinsCheck, list[str]]:
        notices: list[str] = []
        check = PinsCheck(lockfile.read(lock_path))
        PinEdge(check, "demo", "0" * 64, say=notices.append).start(background=False)
        return check, notices

    # The bundle went missing.
    kept.unlink()
    with pytest.raises(PinError, match=r"bundle .* is missing"):
        lock = lockfile.read(lock_path)
        lockfile.verify_signature(lock, lock.pins["demo"])
    check, notices = start()
    assert len(notices) == 1 and "did not verify" in notices[0] and "missing" in notices[0]
    assert "\n" not in notices[0]
    session = Session("demo", [EnvelopeCheck(), check], AuditLog.create(tmp_path / "a", "demo"))
    session.handle(Direction.TO_SERVER, request("tools/list").raw)
    decision = session.handle(Direction.TO_CLIENT, response({"tools": [ECHO]}).raw)
    assert decision.forward is not None and b'"tools":[]' in decision.forward
    session.close("done")

    # As `ztmcp run` does it: verification on a thread; the first listing waits for it.
    notices = []
    check = PinsCheck(lockfile.read(lock_path))
    PinEdge(check, "demo", "0" * 64, say=notices.append).start()
    session = Session("demo", [EnvelopeCheck(), check], AuditLog.create(tmp_path / "b", "demo"))
    session.handle(Direction.TO_SERVER, request("tools/list").raw)
    decision = session.handle(Direction.TO_CLIENT, response({"tools": [ECHO]}).raw)
    assert decision.forward is not None and b'"tools":[]' in decision.forward
    assert len(notices) == 1 and "missing" in notices[0]
    session.close("done")

    # The bundle is not JSON.
    kept.write_text("{{{")
    _, notices = start()
    assert "not JSON" in notices[0]

    # The stored manifest was edited (a description changed): it no longer matches the lock.
    kept.write_bytes(good_bundle)
    stored = tmp_path / "ztmcp.manifests" / "demo.json"
    stored.write_text(stored.read_text().replace("Echo the input back.", "Exfiltrate."))
    _, notices = start()
    assert "is not what the lock pins" in notices[0] and "tool 'echo': changed (" in notices[0]

    # The manifest and the lock were edited together: the signature no longer covers it.
    text = stored.read_text()
    lock = lockfile.read(lock_path)
    edited = Manifest.from_json(text)
    from dataclasses import replace

    lockfile.write(lock.with_pin(replace(
        lock.pins["demo"], digest=edited.digest, tools=edited.item_digests("tools")
    )))  # fmt: skip
    with pytest.raises(SigningError, match="does not sign"):
        lock = lockfile.read(lock_path)
        lockfile.verify_signature(lock, lock.pins["demo"])
    _, notices = start()
    assert "does not sign" in notices[0]


_START = """
import sys
from pathlib import Path
from ztmcp import lockfile
from ztmcp.checks.pins import PinsCheck
from ztmcp.pinning import PinEdge

notices = []
check = PinsCheck(lockfile.read(Path("ztmcp.lock")))
PinEdge(check, "demo", "0" * 64, say=notices.append).start(background=False)
print(notices == [] and check._refused == {}, "sigstore" in sys.modules)
"""


def test_an_unchanged_signed_pin_is_not_verified_twice(
    tmp_path: Path, trust: Path, signed: tuple[Path, Path]
) -> None:
    import os
    import subprocess

    manifest, bundle = signed
    assert _pin(manifest, bundle, trust)[0] == 0

    def start() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _START], capture_output=True, text=True, timeout=60,
            check=False, env=dict(os.environ), cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert start() == "True True"  # the first start verifies (imports sigstore)
    assert start() == "True False"  # the same bytes again: remembered, no sigstore import
    kept = tmp_path / "ztmcp.manifests" / "demo.sigstore.json"
    kept.write_bytes(kept.read_bytes() + b"\n")  # still a valid bundle, but other bytes
    assert start() == "True True"  # a miss: verified in full again
