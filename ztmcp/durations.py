"""Durations as people type them: ``90s``, ``15m``, ``1h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from typing import Final

from ztmcp.errors import UsageError

_PART: Final = re.compile(r"(\d{1,9})([smhdw])")
_UNIT: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ``UsageError`` with an example on anything else."""
    cleaned = text.strip().lower()
    pos, total = 0, 0
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    if not cleaned or pos != len(cleaned) or total <= 0:
        raise UsageError(
            f"not a duration: {text!r}",
            hint="use a number and a unit: 90s, 15m, 1h, 1h30m, 2d",
        )
    return float(total)


def format_duration(seconds: int) -> str:
    """Whole seconds as the two largest units: ``0s``, ``5m00s``, ``24h00m`` (callers round)."""
    total = max(0, seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def spoken(seconds: float) -> str:
    """A duration the way ``parse_duration`` reads it: ``90s`` → ``1m30s``, ``31d``, ``1h30m``
    (whole seconds, largest units first, zero parts left out; fractions are rounded)."""
    total = max(0, round(seconds))
    if total == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
