"""The app idles between changes: a tick that finds nothing new repaints nothing, and a held
call's countdown repaints once a second, not on every tick (issue 22: the approval panel redrew
on every tick, so the app never idled and each key press waited seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from textual.widget import Widget

from tests.tui.conftest import Clock, hold, judged, make, settle, tick

pytestmark = pytest.mark.anyio


@contextmanager
def repaints(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The widgets Textual is asked to repaint (``Widget.refresh``) while inside."""
    seen: list[str] = []
    original = Widget.refresh

    def counting(self: Widget, *args: object, **kwargs: object) -> Widget:
        seen.append(self.id or type(self).__name__)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(Widget, "refresh", counting)
        yield seen


async def test_ticks_that_change_nothing_repaint_nothing(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold("get-env", clock.now - 5, detail=judged())
    app = make(clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("a")  # the Approvals tab, its held call shown with its countdown
        await tick(app, pilot)
        assert "refused in 55s" in str(app._widget("#approval-body").render())
        with repaints(monkeypatch) as seen:
            for _ in range(5):  # the clock stands still: nothing to show anew
                await tick(app, pilot)
        assert seen == []
        clock.now += 1  # a second later: the countdowns move, once
        with repaints(monkeypatch) as seen:
            for _ in range(3):
                await tick(app, pilot)
        assert "approval-body" in seen and seen.count("approval-body") == 1, seen
        assert "refused in 54s" in str(app._widget("#approval-body").render())
