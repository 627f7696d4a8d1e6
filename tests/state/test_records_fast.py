"""The audit line's fast encoder (orjson) against the json encoder: the same bytes, always.

The MAC covers the exact bytes, and ``ztmcp audit verify`` never re-serialises, so this is
not needed for verification; it is needed so that the log's format (ASCII JSON, ``\\uXXXX``
escapes, Python's float spelling, markers for what JSON has no form for) is one format
whichever path wrote a record.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import uuid
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ztmcp.state import records

SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


class Colour(enum.Enum):
    RED = 1


class Word(enum.StrEnum):
    A = "a"


class Number(enum.IntEnum):
    ONE = 1


class Text(str):
    pass


@dataclasses.dataclass
class Point:
    x: int


ODD = st.sampled_from(
    [Colour.RED, Word.A, Number.ONE, Text("t"), uuid.UUID(int=7), Point(1), b"\x00",
     datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC), datetime.date(2026, 12, 7),
     (1, "x"), {1, 2}, math.nan, math.inf, -math.inf, 1e-5, 1e-4, 5e-324, 1e16, 2**63, 2**64,
     -(2**63) - 1, 10**400, "\x7f", "\ud800", "é", "\u2028"]
)  # fmt: skip
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
ASCII = st.text(st.characters(max_codepoint=127), max_size=40)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | ASCII
    | ASCII
    | TEXT
    | ODD
    | st.text(st.sampled_from("ab\x7f"), min_size=1000, max_size=1100)
)
KEYS = ASCII | TEXT | st.sampled_from([Text("k"), Word.A, 1, None, 1.5, True])
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=5) | st.dictionaries(KEYS, c, max_size=5),
    max_leaves=24,
)
RECORDS = st.dictionaries(KEYS, VALUES, max_size=14)


@SETTINGS
@given(RECORDS)
@example({"event": "message", "check_us": 12.3, "id": 7, "client": None, "ok": True})
@example({"a": [1e-4, 0.0, -0.0, 1e16, 123456.7]})
@example({"a": 1e-05})
def test_body_is_the_json_encoders_bytes(record: dict[Any, Any]) -> None:
    assert records.body(record) == records._json_body(record)


PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ASCII,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(ASCII, c, max_size=4),
    max_leaves=16,
)


@SETTINGS
@given(st.dictionaries(ASCII, PLAIN, max_size=14))
def test_body_of_plain_records_is_the_json_encoders_bytes(record: dict[str, Any]) -> None:
    assert records.body(record) == records._json_body(record)


def test_the_fast_path_writes_the_usual_record() -> None:
    """Not a path that is never taken: the Session's usual record goes through orjson."""
    record = {
        "event": "message",
        "server": "bench",
        "client": None,
        "jsonrpc.request.id": 5,
        "sha256": "a" * 64,
        "check_us": 33.3,
        "verdicts": [{"check": "secrets", "rule": "x", "evidence": None}],
    }
    fast = records._fast_body(record)
    assert fast is not None
    assert fast == records._json_body(record)


def test_a_cycle_goes_to_the_json_path() -> None:
    record: dict[str, Any] = {"a": []}
    record["a"].append(record)
    assert records._fast_body(record) is None
    assert records.body(record) == records._json_body(record)
