"""How an audited outcome reads to a person: a call a grant let through was *granted*.

The Session records ``flagged`` for every forwarded message that carries a verdict, and the
access check's ``access.granted`` / ``access.once`` verdicts are how a grant or a person's
one-time approval shows up. Shown as "flagged", an allowed call reads like a finding; when
those are its only verdicts it is shown as ``granted`` / ``allowed once``. The record itself is
unchanged (the audit keeps what the Session decided).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

_ALLOWING: Final = {"access.granted": "granted", "access.once": "allowed once"}


def label(record: Mapping[str, Any]) -> str:
    """The outcome to show for one audit record."""
    outcome = str(record.get("outcome", "?"))
    if outcome != "flagged":
        return outcome
    verdicts = record.get("verdicts")
    if not isinstance(verdicts, list) or not verdicts:
        return outcome
    rules = [v.get("rule") if isinstance(v, dict) else None for v in verdicts]
    labels = {_ALLOWING.get(r) if isinstance(r, str) else None for r in rules}
    if None in labels or len(labels) != 1:
        return outcome
    return str(labels.pop())
