"""IdentityMemo: remembers per object, recomputes for a new (even equal) object."""

from __future__ import annotations

from ztmcp.checks.base import IdentityMemo


def test_same_object_is_computed_once_an_equal_new_object_again() -> None:
    memo: IdentityMemo[int] = IdentityMemo(limit=2)
    calls: list[int] = []
    first = {"name": "echo"}

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.get(first, compute) == 1
    assert memo.get(first, compute) == 1
    assert memo.get({"name": "echo"}, compute) == 2  # equal, but a new listing: recomputed
    assert memo.get({"name": "x"}, compute) == 3  # the limit: cleared, then stored
    assert memo.get(first, compute) == 4
