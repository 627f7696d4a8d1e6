"""The traffic table: a line-API widget that renders only the rows on screen.

Textual's ``DataTable`` measures every cell of every added row, which made the first paint over
5,000 records take seconds and every trim of the oldest rows stall the UI. Here a row is a tuple
of strings in a bounded ``deque``: appending is O(new rows), dropping the oldest is free, and a
frame costs the visible rows only. Columns have fixed widths; the last one takes what is left.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ztmcp.tui.watcher import CAP, TRAFFIC_COLUMNS

WIDTHS: tuple[int, ...] = (12, 16, 20, 24, 6)  # every column but the last (outcome)
MIN_WIDTHS: tuple[int, ...] = (12, 8, 12, 10, 5)  # what each keeps on a narrow terminal
MIN_LAST = 22  # the outcome column: "denied access.grant_req…" stays readable


def widths_for(width: int) -> tuple[int, ...]:
    """Column widths that leave the outcome column at least ``MIN_LAST`` cells: the widest
    shrinkable column gives way first, never below its ``MIN_WIDTHS``."""
    widths = list(WIDTHS)
    while sum(w + 2 for w in widths) + MIN_LAST + 2 > width:
        room = [i for i, w in enumerate(widths) if w > MIN_WIDTHS[i]]
        if not room:
            break
        widest = max(room, key=lambda i: widths[i] - MIN_WIDTHS[i])
        widths[widest] -= 1
    return tuple(widths)


_HEADER = Style(bold=True)
_CURSOR = Style(reverse=True)
_DENIED = Style(color="red")
_CHANGED = Style(color="yellow")


def _style(cells: Sequence[str]) -> Style | None:
    outcome = cells[-1] if cells else ""
    if outcome.startswith(("denied", "dropped")):
        return _DENIED
    if outcome.startswith(("rewritten", "flagged")):
        return _CHANGED
    return None


class TrafficView(ScrollView, can_focus=True):
    """Rows of ``(key, cells)``, newest last; follows the tail while the last row is selected."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    class Highlighted(Message):
        """The selected row changed."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, cap: int = CAP, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: deque[tuple[str, tuple[str, ...]]] = deque(maxlen=cap)
        self._stamps: deque[str] = deque(maxlen=cap)  # each row's time, ascending
        self.cursor = -1  # index into the rows; -1: none yet
        self._width = sum(w + 2 for w in WIDTHS) + 40

    # -- data ----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def rows(self) -> list[tuple[str, ...]]:
        return [cells for _, cells in self._rows]

    @property
    def selected(self) -> str | None:
        return self._rows[self.cursor][0] if 0 <= self.cursor < len(self._rows) else None

    def append(
        self, rows: Iterable[tuple[str, tuple[str, ...]]], stamps: Sequence[str] | None = None
    ) -> None:
        """Add rows in time order (``stamps``: each row's sortable time; without them, at the
        end), dropping the oldest beyond the cap; keeps the selection on the same row, or on
        the newest one while following the tail."""
        follow = self.cursor < 0 or self.cursor >= len(self._rows) - 1
        selected = self.selected
        added = 0
        dropped = 0
        for n, row in enumerate(rows):
            at = stamps[n] if stamps is not None else (self._stamps[-1] if self._stamps else "")
            added += 1
            if not self._stamps or at >= self._stamps[-1]:
                if len(self._rows) == self._rows.maxlen:
                    dropped += 1
                self._rows.append(row)
                self._stamps.append(at)
                continue
            # Older than the newest shown (a session that wrote late): into its place.
            if len(self._rows) == self._rows.maxlen:
                if at < self._stamps[0]:
                    dropped += 1
                    continue  # older than everything kept: it would fall off at once
                self._rows.popleft()
                self._stamps.popleft()
                dropped += 1
            index = bisect.bisect_right(self._stamps, at)
            self._rows.insert(index, row)
            self._stamps.insert(index, at)
        if not added:
            return
        self.virtual_size = Size(self._width, len(self._rows) + 1)
        if follow:
            self._select(len(self._rows) - 1)
            self._to_end()
        else:
            keys = [key for key, _ in self._rows]
            self.cursor = (
                keys.index(selected) if selected in keys else max(0, self.cursor - dropped)
            )
            self.refresh()

    def _select(self, index: int) -> None:
        if not self._rows:
            return
        index = max(0, min(index, len(self._rows) - 1))
        changed = index != self.cursor
        self.cursor = index
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + visible:
            self.scroll_to(y=index - visible + 1, animate=False, immediate=True)
        self.refresh()
        if changed:
            self.post_message(self.Highlighted(self._rows[index][0]))

    # -- keys and mouse ------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        self._select(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._select(self.cursor + direction * max(1, self.scrollable_content_region.height - 2))

    def action_jump(self, where: int) -> None:
        self._select(len(self._rows) - 1 if where < 0 else where)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._select(int(self.scroll_y) + event.y - 1)

    # -- rendering -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        if y == 0:
            return self._strip(TRAFFIC_COLUMNS, width, base + _HEADER)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        cells = self._rows[index][1]
        style = base + (_style(cells) or Style())
        if index == self.cursor:
            style += _CURSOR if self.has_focus else Style(bold=True, underline=True)
        return self._strip(cells, width, style)

    @staticmethod
    def _strip(cells: Sequence[str], width: int, style: Style) -> Strip:
        parts = []
        widths = widths_for(width)
        for value, size in zip(cells, widths, strict=False):
            parts.append(" " + set_cell_size(value, size) + " ")
        rest = width - sum(w + 2 for w in widths)
        if len(cells) > len(widths) and rest > 2:
            parts.append(" " + set_cell_size(cells[len(widths)], rest - 2) + " ")
        text = set_cell_size("".join(parts), width)
        return Strip([Segment(text, style)], width)

    def _to_end(self) -> None:
        """Show the newest row; again once laid out (before that there is nowhere to scroll,
        and the view opened at the oldest record)."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self._follow_tail)

    def _follow_tail(self) -> None:
        if self._rows and self.cursor == len(self._rows) - 1:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self, event: events.Resize) -> None:
        self._follow_tail()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
