"""The CLI's tables (``ztmcp.cli.tables``): plain and whole off a terminal, styled on one,
every cell inert either way."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.cli.tables import Column, lines, show
from ztmcp.terminal import safe, unsafe

HOSTILE = "\x1b]52;c;ZWNobw==\x07[bold red]evil[/]\u202egpj.exe\r\nnext"
_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # SGR: the only sequence ztmcp's own styles write


def test_plain_output_is_aligned_whole_and_inert() -> None:
    long = "x" * 400
    out = lines(("NAME", Column("N", right=True), "NOTE"), [("a", "1", long), (HOSTILE, "22", "")])
    assert out[0] == "NAME" + " " * (len(safe(HOSTILE)) - 4) + "   N  NOTE"
    assert out[1].endswith(long) and len(out) == 3  # not wrapped, not cut
    assert out[2] == f"{safe(HOSTILE)}  22"  # trailing blanks trimmed, the number on the right
    assert "[bold red]evil[/]" in out[2]  # text, never markup
    assert not any(ch in "".join(out) for ch in "\x1b\x07\r\u202e")


def test_a_terminal_gets_styles_and_still_no_control_from_a_cell() -> None:
    out = "\n".join(lines(("NAME", "NOTE"), [(HOSTILE, "x")], terminal=True, width=60))
    assert _STYLE.search(out)  # the bold header
    assert "\x1b" not in _STYLE.sub("", out)
    assert not any(ch in out for ch in "\x07\r\u202e")


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="a row of 1 cells in a table of 2 columns"):
        lines(("A", "B"), [("only",)])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=5))
def test_each_row_is_one_line_holding_its_cells(rows: list[tuple[str, str]]) -> None:
    out = lines(("A", "B"), rows)
    assert len(out) == 1 + len(rows)
    for (a, b), line in zip(rows, out[1:], strict=True):
        assert safe(a).strip() in line and safe(b).strip() in line
        assert not any(unsafe(ch) for ch in line)


def test_show_prints_plain_text_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    show(("NAME",), [(HOSTILE,)])
    printed = capsys.readouterr().out
    assert printed == f"NAME\n{safe(HOSTILE)}\n"
