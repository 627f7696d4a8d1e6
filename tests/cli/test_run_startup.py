"""What ``ztmcp run``'s first answer waits for (issue 18, start-up under 100 ms added).

A real ``ztmcp run`` in a fresh interpreter, in front of a real (trivial) MCP server, answers
a ``ping``; at the moment the Session has handled the server's first frame, the process's
``sys.modules`` and the lazily compiled tables are read. What was deferred must not be there:
the other commands' libraries, the schema validator (imported by the warm-up after the first
answers), and the regexes that only multi-line content needs.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.detectors import normalise
from ztmcp.detectors.lazyre import LazyPattern

ROOT = Path(__file__).resolve().parents[2]
TRIVIAL = ROOT / "benchmarks" / "trivial_server.py"

# Runs ``python -m ztmcp run …`` with Session.handle wrapped: at the first answer to the
# client it writes what is loaded and compiled to the file named in ZTMCP_TEST_PROBE_OUT.
_PROBE = r"""
import gc, importlib, json, os, runpy, sys
import ztmcp.session as session
handle = session.Session.handle
def probed(self, direction, raw):
    decision = handle(self, direction, raw)
    if direction.value == "to_client" and not getattr(probed, "done", False):
        probed.done = True
        modules = sorted(sys.modules)  # before the probe's own imports below
        offtopic = importlib.import_module("ztmcp.detectors.offtopic")
        normalise = importlib.import_module("ztmcp.detectors.normalise")
        identity = importlib.import_module("ztmcp.identity")
        with open(os.environ["ZTMCP_TEST_PROBE_OUT"], "w") as out:
            json.dump({
                "modules": modules,
                "offtopic_compiled": sum(p.ready for p in offtopic.PATTERNS),
                "normalise_compiled": sum(p.ready for p in normalise.PATTERNS),
                "table_built": normalise._translate.cache_info().currsize,
                "client_names_compiled": sum(
                    c.client_names.ready for c in identity.KNOWN_CLIENTS
                ),
                "forwarded": decision.forward is not None,
                "gc_enabled": gc.isenabled(),
                "gc_frozen": gc.get_freeze_count(),
            }, out)
    return decision
session.Session.handle = probed
sys.argv = ["ztmcp", *sys.argv[1:]]
runpy.run_module("ztmcp", run_name="__main__")
"""

# Never before the first answer: libraries of other commands, and what the warm-up imports.
DEFERRED = (
    "typer",
    "click",
    "rich",
    "textual",
    "mitmproxy",
    "sigstore",
    "jsonschema",
    "ztmcp.cli.app",
    "ztmcp.tui",
    "ztmcp.adapters.mitm",
    "ztmcp.credentials",  # [[proxy.header]] only
    # Plain options are read without argparse (nor its help formatter's shutil, bz2, lzma);
    # no sandbox option and no policy file: no profile parser, no TOML reader.
    "argparse",
    "shutil",
    "tomllib",
    "ztmcp.sandbox.profile",
    # Each at its first use: a tools/call (the run store), grants, a listing (observed
    # manifests), a lock with pins (the trust store), a text with an HTML entity.
    "ztmcp.behaviour.store",
    "ztmcp.behaviour.response",
    "ztmcp.state.grants",
    "ztmcp.state.observed",
    "ztmcp.trust",
    "html",
    # A ping and its answer hold no text (the envelope's constants are left out of the walk):
    # no scan, no rule module, no RE2.
    "ztmcp.detectors.instructions",
    "ztmcp.detectors.offtopic",
    "ztmcp.detectors.languages",
    "ztmcp.detectors.unicode",
    "ztmcp.detectors.secrets",
    "ztmcp.detectors.rules",
    "re2",
)


def _first_answer(tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "probe.json"
    env = {
        **os.environ,
        "ZTMCP_HOME": str(tmp_path / "home"),
        "ZTMCP_TEST_PROBE_OUT": str(out),
        "PYTHONPATH": str(ROOT),
    }
    server = [sys.executable, str(TRIVIAL)]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "run", "--name", "probe", "--", *server],
        input=b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert b'"result"' in done.stdout, done.stderr[-2000:]
    loaded: dict[str, object] = json.loads(out.read_text())
    return loaded


def test_the_first_answer_waits_for_nothing_deferred(tmp_path: Path) -> None:
    seen = _first_answer(tmp_path)
    assert seen["forwarded"] is True
    modules = seen["modules"]
    assert isinstance(modules, list)
    assert "ztmcp.session" in modules and "ztmcp.detectors.mcp" in modules  # it ran
    early = [m for m in modules if m.split(".")[0] in DEFERRED or m in DEFERRED]
    early += [m for m in modules if any(m.startswith(d + ".") for d in DEFERRED)]
    assert not early, f"imported before the first answer: {sorted(set(early))}"
    assert seen["offtopic_compiled"] == 0  # a one-line text needs none of them
    assert seen["normalise_compiled"] == 0  # nor does ASCII text need the folding
    assert seen["table_built"] == 0
    assert seen["client_names_compiled"] == 0  # needed only when a clientInfo arrives
    # No collection walked start-up's objects; they were frozen before the relay started,
    # and the collector runs again for what the messages allocate.
    assert seen["gc_enabled"] is True
    frozen = seen["gc_frozen"]
    assert isinstance(frozen, int) and frozen > 10_000


def test_offtopic_patterns_lists_every_pattern() -> None:
    """The warm-up compiles ``offtopic.PATTERNS``: by construction every pattern of the
    module, so none is left to compile on a later message's path."""
    offtopic = importlib.import_module("ztmcp.detectors.offtopic")
    found = {id(v) for v in vars(offtopic).values() if isinstance(v, LazyPattern)}
    assert found == {id(p) for p in offtopic.PATTERNS}
    assert len(found) == 30


def test_normalise_patterns_lists_every_pattern() -> None:
    found = {id(v) for v in vars(normalise).values() if isinstance(v, LazyPattern)}
    assert found == {id(p) for p in normalise.PATTERNS}
    assert len(found) == 6


def test_the_warm_up_compiles_what_the_first_answer_deferred() -> None:
    code = (
        "import importlib, ztmcp.detectors as d; d.warm_up(); "
        "o = importlib.import_module('ztmcp.detectors.offtopic'); "
        "n = importlib.import_module('ztmcp.detectors.normalise'); "
        "tests = (n._has_special, n._has_mixed_pair, n.has_ignorable); "
        "print(all(p.ready for p in o.PATTERNS + n.PATTERNS), "
        "all(t._re2 is not n._NOT_YET for t in tests), n._translate.cache_info().currsize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["True", "True", "1"]


_ALPHABET = st.sampled_from(["a", "Z", " ", "\u200b", "\u0430", "\uff21", "\U0001d400", "&", "x"])


@settings(max_examples=60, deadline=None)
@given(st.lists(_ALPHABET, max_size=64), st.integers(0, 2), st.sampled_from(range(3)))
def test_a_lazy_class_test_decides_as_re_does(chars: list[str], repeat: int, which: int) -> None:
    """Differential: the lazily compiled RE2 test (texts past ``_LONG``) and the lazily
    compiled ``re`` one agree with ``re.compile(source).search`` on short and long texts."""
    test = (normalise._has_special, normalise._has_mixed_pair, normalise.has_ignorable)[which]
    source = (normalise._SPECIAL, normalise._MIXED_PAIR, normalise._IGNORABLE)[which]
    text = "".join(chars) + "b" * (normalise._LONG * repeat)
    assert test(text) is (re.compile(source.pattern).search(text) is not None)


def test_the_benchmark_reads_the_run_path_from_a_real_run(tmp_path: Path) -> None:
    """``bench_stdio.py`` measures the imports before the first answer of a real ``ztmcp
    run`` (no list of modules of its own to drift): what it reads holds the relay, the
    Session and the policy, and none of what the first answer must not wait for."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        bench = importlib.import_module("bench_stdio")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    bench.CWD[:] = [str(tmp_path)]
    env = {**os.environ, "ZTMCP_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    modules = {row[0] for row in bench.first_answer_imports(env)}
    for needed in ("ztmcp.cli.run_cmd", "ztmcp.adapters.stdio", "ztmcp.session", "ztmcp.policy"):
        assert needed in modules
    assert not {m for m in modules if m in DEFERRED or m.split(".")[0] in DEFERRED}
    cut = bench._import_rows("import time: 1 | 1 | a\nmark\nimport time: 1 | 1 | b\n", "mark")
    assert [row[0] for row in cut] == ["a"]  # what loads after the answer is not counted
    with pytest.raises(RuntimeError):
        bench._import_rows("import time: 1 | 1 | a\n", "mark")  # no answer: no figure


@pytest.mark.parametrize("failing", ["command", "policy"])
def test_a_start_up_error_leaves_the_collector_running(
    failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up runs with the collector off (``run_cmd._run``); a start-up that fails turns it
    on again, whether it fails before the policy is read (a server command that cannot
    start) or while reading it."""
    import gc

    from ztmcp.cli import run_cmd
    from ztmcp.errors import ZtmcpError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZTMCP_HOME", str(tmp_path / "home"))
    if failing == "command":
        options, command = run_cmd.RunOptions(), [str(tmp_path / "no-such-server")]
    else:
        (tmp_path / "bad.toml").write_text("mode = 'nonsense'\n")
        options, command = run_cmd.RunOptions(policy=tmp_path / "bad.toml"), [sys.executable]
    assert gc.isenabled()
    try:
        with pytest.raises(ZtmcpError):
            run_cmd._run(options, command)
        assert gc.isenabled()
    finally:
        gc.enable()
