"""The denial a check returns for a message too large to scan whole (``detectors.mcp``'s bounds).

Here, not in ``ztmcp.detectors.mcp``: detectors find things and know nothing of verdicts.
"""

from __future__ import annotations

from ztmcp.checks.base import Action, Severity, Verdict
from ztmcp.detectors.mcp import LIMIT_RULE, ScanLimit


def limit_verdict(check: str, exc: ScanLimit) -> Verdict:
    """The denial a check returns for a message it cannot scan whole."""
    return Verdict(
        Action.DENY,
        check,
        LIMIT_RULE,
        f"the message is too large to check ({exc.what})",
        Severity.HIGH,
        hint="split the data into smaller messages",
    )
