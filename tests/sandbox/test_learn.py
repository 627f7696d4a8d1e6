"""Learn mode and pinned sandbox profiles: learned by the gate, pinned in ztmcp.lock beside the
tool pins under the lock's digest check, and a start that needs more is drift, refused at the
gate and shown by ``ztmcp diff`` (like a rug pull)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sandbox.test_containment import Client, audit_records, handshake
from ztmcp import lockfile
from ztmcp.errors import PinError
from ztmcp.sandbox import pinned
from ztmcp.sandbox.observed import DRIFT, LEARNED, SandboxObservations
from ztmcp.sandbox.pinned import PinnedProfile, effective
from ztmcp.sandbox.profile import Profile, parse_net

SERVER = Path(__file__).with_name("fetch_server.py")
DIGEST = "sha256:" + "0" * 64
ENTRY = f'digest = "{DIGEST}"\nserver_digest = "{DIGEST}"\n'


def _lock_with(tmp_path: Path, table: str) -> Path:
    from ztmcp.manifest import whole_digest

    whole = whole_digest(DIGEST, {"tools": {}, "prompts": {}, "resourceTemplates": {}})
    path = tmp_path / "ztmcp.lock"
    path.write_text(
        f'version = 1\n[servers.s]\ndigest = "{whole}"\nserver_digest = "{DIGEST}"\n{table}'
    )
    return path


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}", fullmatch=True)
specs = st.builds(pinned.net_spec, hosts, st.integers(1, 65535))
paths = st.from_regex(r"~?/[A-Za-z0-9_./ \"'\]\[-]{1,20}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(specs, max_size=6), st.lists(paths, max_size=3), st.lists(paths, max_size=3))
def test_a_pinned_profile_survives_the_lock(
    tmp_path_factory: pytest.TempPathFactory, net: list[str], read: list[str], write: list[str]
) -> None:
    from ztmcp.manifest import whole_digest

    whole = whole_digest(DIGEST, {"tools": {}, "prompts": {}, "resourceTemplates": {}})
    profile = PinnedProfile.of(net, read, write)
    pin = lockfile.Pin(name="s", digest=whole, server_digest=DIGEST, sandbox=profile)
    path = tmp_path_factory.mktemp("lock") / "ztmcp.lock"
    text = lockfile.dumps(lockfile.Lockfile(path, {"s": pin}))
    back = lockfile.parse(text, path).pins["s"].sandbox
    assert back == profile and back is not None and back.digest == profile.digest
    # The order of the lists never changes the digest; the profile's rules are what it says.
    assert PinnedProfile.of(reversed(net), read, write).digest == profile.digest
    rules = profile.profile().allow_net
    assert {(r.host, r.port) for r in rules} == {
        (spec.rsplit(":", 1)[0], int(spec.rsplit(":", 1)[1])) for spec in net
    }


def test_a_hand_edited_profile_is_refused(tmp_path: Path) -> None:
    good = PinnedProfile.of(["api.example.com:443"])
    table = "[servers.s.sandbox]\n" + "\n".join(
        f"{k} = {json.dumps(v)}" for k, v in good.to_table().items()
    )
    assert lockfile.read(_lock_with(tmp_path, table)).pins["s"].sandbox == good
    widened = table.replace('"api.example.com:443"', '"api.example.com:443", "evil.example:443"')
    with pytest.raises(PinError, match=r"servers\.s\.sandbox\.digest .*edited by hand"):
        lockfile.read(_lock_with(tmp_path, widened))
    with pytest.raises(PinError, match=r"servers\.s\.sandbox\.allow_net .*bad rule"):
        lockfile.read(_lock_with(tmp_path, table.replace("api.example.com:443", "*")))
    with pytest.raises(PinError, match=r"servers\.s\.sandbox\.hosts is not a known key"):
        lockfile.read(_lock_with(tmp_path, table + '\nhosts = ["x"]'))


def test_a_pin_bounds_egress_and_flags_cannot_widen_it(capsys: pytest.CaptureFixture[str]) -> None:
    pin = PinnedProfile.of(["api.example.com:443"], ["~/docs"])
    granted = Profile(allow_read=("~/src",), allow_net=parse_net("evil.example"), env=("X",))
    run = effective(granted, pin, learn=False, name="s")
    assert run.net_rule("api.example.com", 443) is not None
    assert run.net_rule("evil.example", 443) is None  # the flag did not widen the pin
    assert "evil.example" in capsys.readouterr().err
    assert set(run.allow_read) == {"~/docs", "~/src"} and run.env == ("X",)
    assert effective(granted, pin, learn=True, name="s") == granted  # learning: the grants
    assert effective(granted, None, learn=False, name="s") == granted


def test_observations_add_up_and_are_forgotten(tmp_path: Path) -> None:
    with SandboxObservations(tmp_path / "state.db") as store:
        assert store.rows("s", LEARNED) == []
        for now in (1.0, 2.0):
            store.record("s", LEARNED, "net", "a.example:443", now)
        store.record("s", DRIFT, "net", "b.example:443", 3.0, pinned=DIGEST)
        (row,) = store.rows("s", LEARNED)
        assert (row.value, row.seen, row.first_seen, row.last_seen) == ("a.example:443", 2, 1, 2)
        assert [r.value for r in store.rows("s", DRIFT)] == ["b.example:443"]
        assert store.forget("s") == 2
        assert store.rows("s", LEARNED) == store.rows("s", DRIFT) == []


def test_pinning_adds_what_was_learned_to_the_pinned_profile() -> None:
    before = PinnedProfile.of(["a.example:443"], ["~/docs"])
    assert pinned.for_pin("s", before) == before  # nothing learned: the pin stays
    assert pinned.for_pin("s", None) is None
    with SandboxObservations() as store:
        store.record("s", LEARNED, "net", "b.example:443", 1.0)
        store.record("s", LEARNED, "read", "~/src", 1.0)
    assert pinned.for_pin("s", None) == PinnedProfile.of(["b.example:443"], ["~/src"])
    assert pinned.for_pin("s", before) == PinnedProfile.of(
        ["a.example:443", "b.example:443"], ["~/docs", "~/src"]
    )
    pinned.forget("s")
    assert pinned.learned("s") is None


def _ztmcp(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ztmcp", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
    )


def _fetch(argv: list[str], env: dict[str, str], cwd: Path, urls: list[str]) -> dict[str, Any]:
    client = Client(argv, env, cwd)
    try:
        handshake(client)
        reply = client.call(3, "tools/call", {"name": "fetch", "arguments": {"urls": urls}})
    finally:
        assert client.close() == 0
    return dict(json.loads(reply["result"]["content"][0]["text"]))


def test_learn_pin_then_drift_is_refused_and_shown(
    tmp_path: Path, http_port: int, other_port: int
) -> None:
    home = Path(os.environ["ZTMCP_HOME"])
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ZTMCP_HOME": str(home)}
    work = tmp_path / "work"
    work.mkdir()
    server = [sys.executable, str(SERVER)]
    run = [sys.executable, "-m", "ztmcp", "run", "--name", "fetchy", "--sandbox"]
    allowed, other = f"http://127.0.0.1:{http_port}/a", f"http://127.0.0.1:{other_port}/b"

    # 1. Learn: nothing granted, the server reaches one host; the gate lets it and records it.
    learned = _fetch([*run, "--learn", "--", *server], env, work, [allowed])
    assert learned[allowed].startswith("200"), learned
    # 2. Pin: the learned profile goes into the lock beside the tool pins.
    done = _ztmcp("pin", "fetchy", "--", *server, env=env, cwd=work)
    assert done.returncode == 0, done.stderr
    assert f"egress to 127.0.0.1:{http_port}" in done.stdout
    pin = lockfile.read(work / "ztmcp.lock").pins["fetchy"]
    assert pin.sandbox == PinnedProfile.of([f"127.0.0.1:{http_port}"])
    with SandboxObservations() as store:
        assert store.rows("fetchy", LEARNED) == []  # consumed by the pin
    listed = _ztmcp("pins", env=env, cwd=work)
    assert f"sandbox: egress to 127.0.0.1:{http_port}" in listed.stdout
    # 3. A later start, no flags: the pinned host is reached; one more host is drift, refused.
    after = _fetch([*run, "--", *server], env, work, [allowed, other])
    assert after[allowed].startswith("200"), after
    assert after[other].startswith("403") and "pinned in ztmcp.lock" in after[other], after
    # 4. `ztmcp diff` shows it like a rug pull, and exits 1.
    shown = _ztmcp("diff", "fetchy", env=env, cwd=work)
    assert shown.returncode == 1, shown.stdout + shown.stderr
    assert f"egress to 127.0.0.1:{other_port}: not in the pinned sandbox profile" in shown.stdout

    records = [r for r in audit_records(home) if r.get("event") == "egress"]
    verdicts = {(r["server.port"], r["egress.verdict"], r.get("egress.reason")) for r in records}
    assert (http_port, "learn", None) in verdicts
    assert (http_port, "allow", None) in verdicts
    assert (other_port, "deny", "drift from the pinned sandbox profile") in verdicts
    starts = [r for r in audit_records(home) if r.get("event") == "sandbox.start"]
    assert [s["sandbox.learn"] for s in starts] == [True, False]
    assert starts[1]["sandbox.pinned"] == pin.sandbox.digest


@settings(max_examples=100, deadline=None)
@given(
    st.lists(specs, max_size=5),
    st.lists(specs, max_size=5),
    hosts,
    st.integers(1, 65535),
)
def test_a_pinned_start_never_reaches_beyond_the_pin(
    pinned_net: list[str], granted_net: list[str], host: str, port: int
) -> None:
    """Whatever the flags and the policy grant, a pinned start's egress is within the pin."""
    pin = PinnedProfile.of(pinned_net)
    granted = Profile(allow_net=tuple(r for s in granted_net for r in parse_net(s)))
    run = effective(granted, pin, learn=False, name="s")
    for h, p in [
        (host, port),
        *((s.rsplit(":", 1)[0], int(s.rsplit(":", 1)[1])) for s in granted_net),
    ]:
        if run.net_rule(h, p) is not None:
            assert pin.profile().net_rule(h, p) is not None


def test_a_learned_destination_that_cannot_be_recorded_is_refused(http_port: int) -> None:
    """Fault injection: the state refuses the write; the attempt is refused, not let through."""
    import urllib.error
    import urllib.request

    from ztmcp.sandbox.egress import EgressGate, Observe
    from ztmcp.state.db import StateError

    def broken(kind: str, what: str, value: str) -> None:
        raise StateError("state.db: disk I/O error")

    records: list[dict[str, Any]] = []
    gate = EgressGate(
        "s", Profile(), records.append, Observe(learn=True, pinned=None, record=broken), tcp=True
    )
    gate.start()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{gate.relay_port}"})
    )
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(f"http://127.0.0.1:{http_port}/x", timeout=20)
    finally:
        gate.close()
    assert refused.value.code == 403 and b"cannot record" in refused.value.read()
    (record,) = [r for r in records if r["event"] == "egress"]
    assert record["egress.verdict"] == "deny"  # the audit says what happened
    assert record["egress.reason"] == "learn mode: the state cannot record it"
