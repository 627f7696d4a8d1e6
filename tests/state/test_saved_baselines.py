"""The baselines saved in ``state.db`` for the relay's judge: a round trip keeps what the judge
reads, and the table is read as untrusted input (every bad row is one line, never a part)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.state import saved_baselines
from ztmcp.state.baselines import Baseline, Key
from ztmcp.state.db import StateError
from ztmcp.state.saved_baselines import BaselineStore

NAMES = st.text(min_size=0, max_size=30)


@st.composite
def baselines(draw: st.DrawFn) -> Baseline:
    calls = draw(st.integers(0, 10**12))
    return Baseline(
        calls=calls,
        max_rate=draw(st.integers(0, calls)),
        max_args=draw(st.integers(0, 2**40)),
        max_result=draw(st.integers(0, 2**40)),
        hours=draw(st.sets(st.integers(0, 23))),
    )


def relay_view(b: Baseline) -> tuple[Any, ...]:
    return b.calls, b.max_rate, b.max_args, b.max_result, b.hours


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tools=st.dictionaries(st.tuples(NAMES, NAMES, NAMES), baselines(), max_size=12),
    learned_at=st.floats(0, 2e9),
)
def test_a_save_reads_back_as_it_was_saved(
    tmp_path_factory: pytest.TempPathFactory, tools: dict[Key, Baseline], learned_at: float
) -> None:
    path = tmp_path_factory.mktemp("saved") / "state.db"
    with BaselineStore(path) as store:
        assert store.save({("old", "s", "t"): Baseline(calls=3)}, 1.0, 2.0) == 1
        assert store.save(tools, learned_at, 5.0) == len(tools)  # replaces the whole set
    with BaselineStore(path) as store:
        saved = store.load()
    assert saved is not None and saved.learned_at == learned_at and saved.saved_at == 5.0
    assert {k: relay_view(b) for k, b in saved.learned.tools.items()} == {
        k: relay_view(b) for k, b in tools.items()
    }


def test_nothing_saved_is_nothing_learned(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with BaselineStore(path) as store:
        assert store.load() is None
    assert not path.exists()  # reading created nothing
    sqlite3.connect(path).close()
    with BaselineStore(path) as store:  # a database without the table
        assert store.load() is None


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    with BaselineStore(path) as store:
        store.save({("agent/1", "mail", "send_email"): Baseline(10, 2, 300, 400, {9})}, 1.0, 2.0)
    return path


TAMPERED = [
    "UPDATE baselines SET calls = 'ten'",
    "UPDATE baselines SET calls = -1",
    "UPDATE baselines SET max_args = 1.5",
    "UPDATE baselines SET max_rate = 11",  # more calls in a window than calls at all
    "UPDATE baselines SET hours = 16777216",  # a 25th hour
    "UPDATE baselines SET tool = X'00ff'",  # a blob, not a name
    "UPDATE baselines SET agent = printf('%.500c', 'a')",
    "UPDATE baseline_meta SET version = 2",
    "UPDATE baseline_meta SET learned_at = 'yesterday'",
    "UPDATE baseline_meta SET saved_at = 1e300",
]


@pytest.mark.parametrize("statement", TAMPERED)
def test_a_tampered_row_is_one_line_and_no_partial_set(tmp_path: Path, statement: str) -> None:
    path = _saved(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()
    with BaselineStore(path) as store, pytest.raises(StateError) as caught:
        store.load()
    text = str(caught.value)
    assert "\n" not in text and "saved baselines" in text
    assert caught.value.hint is not None and "ztmcp baseline --save" in caught.value.hint


def test_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database, but it is long enough to be read as one" * 64)
    with BaselineStore(path) as store, pytest.raises(StateError) as caught:
        store.load()
    assert "\n" not in str(caught.value)


def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.mkdir()  # every open fails
    with BaselineStore(path) as store, pytest.raises(StateError) as caught:
        store.load()
    assert "\n" not in str(caught.value)


def test_too_many_rows_are_refused_on_save_and_on_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _saved(tmp_path)
    monkeypatch.setattr(saved_baselines, "MAX_ROWS", 2)
    tools = {("a", "s", f"t{n}"): Baseline(calls=1) for n in range(3)}
    with BaselineStore(path) as store:
        with pytest.raises(StateError, match="at most 2"):
            store.save(tools, 1.0, 2.0)
        assert store.load() is not None  # the refused save changed nothing
    conn = sqlite3.connect(path)
    conn.executemany("INSERT INTO baselines VALUES (?, 's', 't', 1, 1, 1, 1, 1)", [("x",), ("y",)])
    conn.commit()
    conn.close()
    with BaselineStore(path) as store, pytest.raises(StateError, match="more than 2 rows"):
        store.load()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 2**20), st.integers(1, 255)), min_size=1, max_size=8)
)
def test_any_damage_to_the_file_loads_or_is_one_line(
    tmp_path_factory: pytest.TempPathFactory, flips: list[tuple[int, int]]
) -> None:
    """Fault injection: bytes of a saved database flipped anywhere. The load either reads a
    set in which every row passed the checks or raises ``StateError``, never anything else;
    so does the relay's look at when it was saved."""
    tmp = tmp_path_factory.mktemp("damaged")
    path = tmp / "state.db"
    with BaselineStore(path) as store:
        tools = {
            ("agent", "mail", f"tool{n}"): Baseline(100 + n, 3, 900, 4000, {8, 9})
            for n in range(40)
        }
        store.save(tools, 1.0, 2.0)
    data = bytearray(path.read_bytes())
    for offset, mask in flips:
        data[offset % len(data)] ^= mask
    path.write_bytes(bytes(data))
    try:  # the relay's look for a new save reads the same file
        with BaselineStore(path) as store:
            store.saved_at()
    except StateError as exc:
        assert "\n" not in str(exc)
    try:
        with BaselineStore(path) as store:
            saved = store.load()
    except StateError as exc:
        assert "\n" not in str(exc)
        return
    if saved is not None:
        for b in saved.learned.tools.values():
            assert 0 <= b.max_rate <= b.calls and b.hours <= set(range(24))
