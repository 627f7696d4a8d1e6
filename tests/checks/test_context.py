"""``Context``'s written-out constructor against the one ``dataclass`` generates.

The reference is the class as it was declared before (``frozen=True, slots=True``, ``extra``
from a ``default_factory``): the same field values, equality, repr, hash refusal, frozenness
and ``dataclasses.replace``, for positional, keyword and default arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.checks.base import Context
from ztmcp.jsonrpc import Direction, Message


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    server: str
    now: float
    request: Message | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


REQUEST = Message(Direction.TO_SERVER, b"{}", {"jsonrpc": "2.0", "id": 1, "method": "ping"})
ARGS = st.tuples(
    st.text(max_size=8),
    st.floats(allow_nan=False),
    st.sampled_from([None, REQUEST]),
    st.none() | st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


def _fields(ctx: Any) -> tuple[Any, ...]:
    return (ctx.server, ctx.now, ctx.request, ctx.extra)


@settings(max_examples=200, deadline=None, database=None)
@given(ARGS, st.booleans())
def test_the_constructor_is_the_generated_ones(args: tuple[Any, ...], keywords: bool) -> None:
    server, now, request, extra = args
    given_extra = {} if extra is None else {"extra": extra}
    if keywords:
        ours = Context(server=server, now=now, request=request, **given_extra)
        theirs = Reference(server=server, now=now, request=request, **given_extra)
    else:
        ours = Context(server, now, request, *given_extra.values())
        theirs = Reference(server, now, request, *given_extra.values())
    assert _fields(ours) == _fields(theirs)
    assert repr(ours).replace("Context", "Reference", 1) == repr(theirs)
    assert ours == Context(*_fields(ours)) and ours != theirs
    moved = dataclasses.replace(ours, now=now + 1.0)
    assert _fields(moved) == _fields(dataclasses.replace(theirs, now=now + 1.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.now = 0.0  # type: ignore[misc]


def test_each_context_gets_its_own_empty_extra() -> None:
    first, second = Context("s", 0.0), Context("s", 0.0)
    assert first.extra == {} and first.extra is not second.extra
    assert [f.name for f in dataclasses.fields(Context)] == ["server", "now", "request", "extra"]
