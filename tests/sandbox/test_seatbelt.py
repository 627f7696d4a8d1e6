"""The macOS Seatbelt profile, as text (it cannot run here): deny by default, the grants, the
proxy port only, every never-reachable path denied last, and no path can break out of its
string. Checked by parsing the profile as SBPL s-expressions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.errors import UsageError
from ztmcp.sandbox import seatbelt
from ztmcp.sandbox.bwrap import Host
from ztmcp.sandbox.profile import Profile

Sexp = list[Any]


class Str(str):
    """A string literal of the profile (as opposed to a symbol)."""


def parse(text: str) -> list[Sexp]:
    """Top-level forms of an SBPL text: lists, symbols, string literals (Scheme escapes)."""
    stack: list[Sexp] = [[]]
    i = 0
    while i < len(text):
        c = text[i]
        if c == ";":
            i = text.index("\n", i)
        elif c == "(":
            stack.append([])
        elif c == ")":
            done = stack.pop()
            stack[-1].append(done)
        elif c == '"':
            out, i = [], i + 1
            while text[i] != '"':
                if text[i] == "\\":
                    i += 1
                    assert text[i] in '\\"', f"unexpected escape \\{text[i]}"
                out.append(text[i])
                i += 1
            stack[-1].append(Str("".join(out)))
        elif not c.isspace():
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in '()";':
                j += 1
            stack[-1].append(text[i:j])
            i = j - 1
        i += 1
    assert len(stack) == 1, "unbalanced parentheses"
    return stack[0]


def host(tmp_path: Path) -> Host:
    home = tmp_path / "home"
    for rel in (".ssh", ".aws", "src/docs", "scratch"):
        (home / rel).mkdir(parents=True, exist_ok=True)
    return Host(
        home=home,
        state_dir=tmp_path / "state",
        cwd=tmp_path,
        environ={"PATH": "/usr/bin:/bin", "HOME": str(home), "AWS_SECRET_ACCESS_KEY": "x"},
        bwrap=Path("/nonexistent/bwrap"),
        python=Path(sys.executable),
        python_prefix=Path(sys.base_prefix),
    )


def filters(form: Sexp, kind: str) -> list[str]:
    return [f[1] for f in form if isinstance(f, list) and f and f[0] == kind]


def test_the_profile_denies_by_default_and_grants_what_it_says(tmp_path: Path) -> None:
    h = host(tmp_path)
    profile = Profile(allow_read=("~/src/docs",), allow_write=("~/scratch",))
    plan = seatbelt.plan(
        profile,
        [sys.executable, "-c", "pass"],
        h,
        proxy_port=41234,
        tmpdir=str(tmp_path / "tmp"),
        name="fetch",
        secret=lambda name: "s3cret",
    )
    forms = parse(plan.profile)
    assert forms[:2] == [["version", "1"], ["deny", "default"]]
    allows = [f for f in forms if f[0] == "allow"]
    reads = [p for f in allows if f[1] == "file-read*" for p in filters(f, "subpath")]
    writes = [
        p for f in allows if f[1:3] == ["file-read*", "file-write*"] for p in filters(f, "subpath")
    ]
    assert str((h.home / "src/docs").resolve()) in reads
    assert str((h.home / "scratch").resolve()) in writes
    assert str((h.home / "src/docs").resolve()) not in writes
    assert str((tmp_path / "tmp").resolve()) in writes
    # The network: one rule, outbound TCP to the gate's port on localhost; nothing else.
    network = [f for f in forms if any(str(a).startswith("network") for a in f[1:2])]
    assert network == [["allow", "network-outbound", ["remote", "tcp", "localhost:41234"]]]
    # Every never-reachable path is denied, by the last rule (in SBPL the last match wins).
    last = forms[-1]
    assert last[:3] == ["deny", "file-read*", "file-write*"]
    denied = set(filters(last, "subpath"))
    for secret in seatbelt.never_paths(h):
        assert secret in denied
    for rel in (".ssh", ".aws", "Library/Keychains"):
        assert str(h.home / rel) in denied
    assert str(h.state_dir) in denied
    # The command line and the environment: sandbox-exec with this profile; no inherited secret.
    assert plan.argv[:3] == (seatbelt.SANDBOX_EXEC, "-p", plan.profile)
    assert plan.argv[3:] == (sys.executable, "-c", "pass")
    assert plan.env["HTTPS_PROXY"] == "http://127.0.0.1:41234"
    assert "AWS_SECRET_ACCESS_KEY" not in plan.env


def test_a_grant_of_a_secret_is_refused(tmp_path: Path) -> None:
    h = host(tmp_path)
    for profile in (Profile(allow_read=("~/.ssh",)), Profile(allow_write=("~",))):
        with pytest.raises(UsageError, match="never reaches"):
            seatbelt.render(profile, ["true"], h, proxy_port=1, tmpdir="/tmp", name="x")


awkward = st.text(
    alphabet=st.sampled_from([*"ab/ \")(\\;#|'", "é", "\u202e"]), min_size=1, max_size=16
)


@settings(max_examples=150, deadline=None)
@given(awkward)
def test_no_path_breaks_out_of_its_string(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    root = tmp_path_factory.mktemp("sb")
    h = host(root)
    granted = h.home / "src" / name.replace("/", "_")
    granted.mkdir(parents=True, exist_ok=True)
    text = seatbelt.render(
        Profile(allow_read=(str(granted),)),
        ["true"],
        h,
        proxy_port=8080,
        tmpdir=str(root),
        name=name,
    )
    forms = parse(text)
    # Exactly the rules the template has, whatever the path and name hold.
    assert [f[:2] for f in forms] == [f[:2] for f in parse(_template(root))]
    reads = [p for f in forms if f[:2] == ["allow", "file-read*"] for p in filters(f, "subpath")]
    assert str(granted.resolve()) in reads


def _template(root: Path) -> str:
    return seatbelt.render(
        Profile(), ["true"], host(root), proxy_port=8080, tmpdir=str(root), name="n"
    )


@pytest.mark.parametrize("bad", ["a\nb", "a\x00b", "a\rb", "a\x7fb"])
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="control character"):
        seatbelt.sbpl_string(bad)


def _ask(port: int, target: str) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_the_gate_relays_a_loopback_port_for_seatbelt(http_port: int, other_port: int) -> None:
    """macOS has no network namespace: the gate's relay listens on a TCP port instead of a
    Unix socket; the same decisions and records (this part runs here)."""
    from ztmcp.sandbox.egress import EgressGate
    from ztmcp.sandbox.profile import parse_net

    records: list[dict[str, Any]] = []
    gate = EgressGate(
        "mac", Profile(allow_net=parse_net(f"127.0.0.1:{http_port}")), records.append, tcp=True
    )
    gate.start()
    try:
        assert gate.relay_port > 0
        assert b" 200 " in _ask(gate.relay_port, f"http://127.0.0.1:{http_port}/ok")
        refused = _ask(gate.relay_port, f"http://127.0.0.1:{other_port}/no")
        assert b" 403 " in refused and b"allow_net" in refused
    finally:
        gate.close()
    verdicts = {(r["server.port"], r["egress.verdict"]) for r in records if r["event"] == "egress"}
    assert verdicts == {(http_port, "allow"), (other_port, "deny")}
