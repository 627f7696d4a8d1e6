"""The detector vocabulary: a ``Finding`` is a rule id, a severity and a span in the scanned text.

Detectors are pure functions of a string. They never quote what they found in ``message`` (the
span is enough to locate it, and ``mask`` gives a safe excerpt for secrets), so a finding can be
logged or shown as is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ztmcp.severity import Severity

RANK: Final[dict[Severity, int]] = {
    Severity.LOW: 0,
    Severity.MEDIUM: 1,
    Severity.HIGH: 2,
    Severity.CRITICAL: 3,
}

# A sample counts as positive when a finding reaches this severity (see the eval README).
BLOCKING: Final = Severity.HIGH


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that matched: ``text[start:end]`` is the evidence, ``message`` never quotes it."""

    rule: str
    severity: Severity
    start: int
    end: int
    message: str

    def at_least(self, severity: Severity) -> bool:
        return RANK[self.severity] >= RANK[severity]


def at_least(findings: Iterable[Finding], severity: Severity = BLOCKING) -> list[Finding]:
    """The findings at or above ``severity``."""
    return [f for f in findings if RANK[f.severity] >= RANK[severity]]


def worst(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (None when there are none)."""
    best: Severity | None = None
    for f in findings:
        if best is None or RANK[f.severity] > RANK[best]:
            best = f.severity
    return best


def parse_severity(value: str) -> Severity:
    """A severity from policy or the command line; raises ``ValueError`` on anything else."""
    return Severity(value.strip().lower())


def mask(secret: str) -> str:
    """A safe excerpt of a secret: a short prefix (which names the provider) and the length."""
    keep = 4 if len(secret) >= 16 else 2 if len(secret) >= 8 else 0
    return f"{secret[:keep]}…({len(secret)} chars)"


def shannon_entropy(value: str) -> float:
    """Bits per character; a support signal only (hashes and ids are high-entropy and harmless)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())
