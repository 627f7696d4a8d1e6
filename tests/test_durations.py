from __future__ import annotations

import pytest

from ztmcp.durations import format_duration, parse_duration
from ztmcp.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2d", 172800), (" 1W ", 604800)],
)
def test_valid(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "m", "1x", "0s", "-5m", "1h 30m", "15m!", "1.5h"])
def test_invalid_says_how(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert "15m" in info.value.diagnostics()


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (-5, "0s"), (59, "59s"), (300, "5m00s"), (5400, "1h30m")]
)
def test_format(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
