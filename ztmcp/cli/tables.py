"""The CLI's tables (``ztmcp pins``, ``grants``, ``report``, ``wrap``): rich tables, plain text
when stdout is not a terminal.

Every cell passes ``terminal.safe`` here, by construction, and reaches rich as ``Text`` (never
markup: a tool named ``[bold]x`` prints as it is). Styles (a bold header) are ztmcp's own and
only ever written to a terminal; anywhere else the output has no escape sequence and no line
is wrapped or cut, so that a script reading it sees whole values, one row a line.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from ztmcp.terminal import safe

_PLAIN_WIDTH: Final = 100_000  # wide enough that nothing wraps: the output is read whole


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    right: bool = False  # numbers: aligned on the right


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams are no terminal
        return False


def lines(
    columns: Sequence[Column | str],
    rows: Iterable[Sequence[object]],
    *,
    terminal: bool = False,
    width: int | None = None,
) -> list[str]:
    """The table as lines, trailing blanks trimmed; styled only for a ``terminal`` (of
    ``width`` columns, where long cells wrap)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cols = [c if isinstance(c, Column) else Column(c) for c in columns]
    table = Table(
        box=None,
        pad_edge=False,
        show_edge=False,
        header_style="bold" if terminal else "",
        padding=(0, 1),
    )
    for col in cols:
        table.add_column(Text(col.header), justify="right" if col.right else "left")
    for row in rows:
        if len(row) != len(cols):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(cols)} columns")
        table.add_row(*(Text(safe(cell)) for cell in row))
    out = io.StringIO()
    console = Console(
        file=out,
        width=width if terminal and width else _PLAIN_WIDTH,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(table)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def show(columns: Sequence[Column | str], rows: Iterable[Sequence[object]]) -> None:
    """Print a table on stdout: rich on a terminal, plain text anywhere else."""
    import typer

    terminal = _is_terminal()
    width = shutil.get_terminal_size().columns if terminal else None
    typer.echo("\n".join(lines(columns, rows, terminal=terminal, width=width)))
