"""Rules compiled at first use: the same matches as compiled at import, and no rule compiled
for the messages every session starts with (``ztmcp run``'s first answer waits for them)."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.detectors import multi
from ztmcp.detectors.lazyre import LazyPattern, compile_now
from ztmcp.detectors.rules import secrets as secret_rules

_SECRETS = importlib.import_module("ztmcp.detectors.secrets")  # the module, not the lazy proxy
_INSTRUCTIONS = importlib.import_module("ztmcp.detectors.instructions")
_LANGUAGES = importlib.import_module("ztmcp.detectors.languages")
_UNICODE = importlib.import_module("ztmcp.detectors.unicode")


def _tables() -> list[LazyPattern]:
    """Every lazily compiled rule pattern of the engines."""
    out: list[LazyPattern] = []
    for shape in _SECRETS._SHAPES:
        out += [shape.pattern, shape.fast]
    out += [rule.pattern for rule in _INSTRUCTIONS.RULES]
    out += list(_INSTRUCTIONS._GROUP_SEARCH.values()) + list(_INSTRUCTIONS._TRIGGER_RX.values())
    out += [phrase.pattern for phrase in _LANGUAGES.PHRASE_RULES]
    for module in (_SECRETS, _INSTRUCTIONS, _UNICODE):
        for value in vars(module).values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:  # a pattern, a tuple of them, or rows that hold one
                row = item if isinstance(item, tuple) else (item,)
                out += [p for p in row if isinstance(p, LazyPattern)]
    return out


def test_every_rule_compiles() -> None:
    """What the import used to prove: each source is a valid regex (now proved here)."""
    tables = _tables()
    assert len(tables) > 500
    compile_now(tables)
    assert all(p.ready for p in tables)


_SOURCES = sorted({(p.pattern, p._flags) for p in _tables()})
_WORDS = [
    "ignore",
    "previous",
    "instructions",
    "ghp_",
    "AKIA",
    "sk-",
    "token",
    "password",
    "://",
    "@",
    " ",
    "\n",
    "x",
    "0",
    "-",
    "_",
    ".",
    "your",
    "reply",
    "system",
    "prompt",
    "Authorization: Bearer ",
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH",
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    source=st.sampled_from(_SOURCES),
    text=st.lists(st.sampled_from(_WORDS), max_size=40).map("".join),
    pos=st.integers(0, 50),
)
def test_a_lazy_pattern_matches_as_the_compiled_one(
    source: tuple[str, int], text: str, pos: int
) -> None:
    lazy, compiled = LazyPattern(*source), re.compile(*source)
    spans = lambda ms: [m.span() for m in ms]  # noqa: E731
    assert spans(lazy.finditer(text, pos)) == spans(compiled.finditer(text, pos))
    for method in ("search", "match", "fullmatch"):
        got, want = getattr(lazy, method)(text, pos), getattr(compiled, method)(text, pos)
        assert (got and got.span()) == (want and want.span())
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub("#", text) == compiled.sub("#", text)
    assert lazy.compiled is compiled or lazy.compiled.pattern == compiled.pattern


def test_compiled_once_at_first_use() -> None:
    p = LazyPattern(r"a+", re.IGNORECASE)
    assert not p.ready
    assert p.pattern == "a+"
    assert p.search("xAa") is not None
    first = p.compiled
    assert p.ready and p.flags & re.IGNORECASE and p.groups == 0
    assert p.match("aa") is not None and p.compiled is first
    with pytest.raises(AttributeError):
        p.no_such_method  # noqa: B018
    with pytest.raises(AttributeError):
        LazyPattern("a").__deepcopy__  # noqa: B018  (introspection compiles nothing)


def test_a_bad_source_fails_at_first_use() -> None:
    p = LazyPattern(r"(unclosed")
    with pytest.raises(re.error):
        p.search("x")
    assert not p.ready


def test_threads_that_first_use_one_pattern_agree() -> None:
    p = LazyPattern(r"(?:ab|cd){2,}")
    results: list[list[tuple[int, int]]] = []
    barrier = threading.Barrier(8)

    def use() -> None:
        barrier.wait()
        results.append([m.span() for m in p.finditer("xxababcdyy" * 50)])

    threads = [threading.Thread(target=use) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 8 and all(r == results[0] for r in results) and results[0]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(index=st.sampled_from(_SECRETS._UNGATED), data=st.data())
def test_the_shape_set_sees_every_match(index: int, data: st.DataObject) -> None:
    """The RE2 set of provider shapes is read without upper repetition bounds: still a superset,
    so a shape that ``re`` finds in a candidate text is always among those the set reports."""
    body = _SECRETS._SHAPES[index].fast.pattern
    text = data.draw(
        st.from_regex(re.compile(body), fullmatch=True, alphabet=st.characters(codec="ascii"))
    )
    if _SECRETS._shape_set().available and re.search(body, text):
        present = _SECRETS._shapes_present(text)
        assert present is not None and _SECRETS._UNGATED.index(index) in present


def test_widen_only_opens_upper_bounds() -> None:
    # What the secrets shape set reads (``_shape_set``).
    opened = multi.widen(r"a{1,2}b\{3,4}c{5}d{6,}[x]{10,1000}")
    assert opened == r"a{1,}b\{3,4}c{5}d{6,}[x]{10,}"
    for rule in secret_rules.RULES:  # every shape still parses
        re.compile(multi.widen(rule.pattern))


_PROBE = r"""
import importlib, json, sys
from ztmcp.jsonrpc import Direction
from ztmcp.policy import Policy, build_checks
from ztmcp.session import Session
from ztmcp.detectors.lazyre import LazyPattern

class Null:
    def post(self, event): pass
    def close(self, **fields): pass

session = Session("probe", build_checks(Policy()), Null())
frames = [
    (Direction.TO_SERVER, b'{"jsonrpc":"2.0","id":1,"method":"ping"}'),
    (Direction.TO_CLIENT, b'{"jsonrpc":"2.0","id":1,"result":{}}'),
    (Direction.TO_SERVER, b'{"jsonrpc":"2.0","id":2,"method":"initialize","params":{'
        b'"protocolVersion":"2025-06-18","capabilities":{},'
        b'"clientInfo":{"name":"mcp","version":"0.1.0"}}}'),
    (Direction.TO_CLIENT, b'{"jsonrpc":"2.0","id":2,"result":{"protocolVersion":"2025-06-18",'
        b'"capabilities":{"tools":{}},"serverInfo":{"name":"example-servers/everything",'
        b'"version":"1.0.0"}}}'),
]
for direction, raw in frames:
    assert session.handle(direction, raw).forward == raw
secrets = importlib.import_module("ztmcp.detectors.secrets")
instructions = importlib.import_module("ztmcp.detectors.instructions")
languages = importlib.import_module("ztmcp.detectors.languages")
rules = [s.fast for s in secrets._SHAPES] + [r.pattern for r in instructions.RULES]
rules += list(instructions._TRIGGER_RX.values()) + [p.pattern for p in languages.PHRASE_RULES]
json.dump({"rules": len(rules), "compiled": sum(p.ready for p in rules)}, sys.stdout)
"""


def test_a_handshake_compiles_no_rule() -> None:
    """The first frames of every session (a ping, an initialize and their answers) go through
    every check, and no provider shape, instruction rule, trigger or phrase is compiled for
    them: their cost stays off the first answer's path (issue 18, start-up)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    counts = json.loads(done.stdout)
    assert counts["rules"] > 300
    assert counts["compiled"] == 0, counts
