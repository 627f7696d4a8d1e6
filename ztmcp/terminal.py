"""Terminal output is data, never control.

Every string that came from a server, an agent or a repository file (tool and server names,
methods, reasons, evidence, lock entries, audit records) passes ``safe`` before it reaches a
terminal, in the CLI and in the TUI. ``safe`` escapes, as JSON-style ``\\uXXXX`` text:

- C0 controls (ESC starts every CSI/OSC/DCS sequence; BEL ends OSC 0/52; CR overwrites a
  line), DEL and the C1 controls (U+0080 to U+009F: U+009B is a one-byte CSI, U+009D a one-byte
  OSC on terminals that honour 8-bit controls);
- every other invisible format character (Unicode category Cf): bidi overrides and isolates
  (RLO, LRI …), zero-width characters, the BOM, tag characters; line and paragraph separators
  (Zl, Zp); lone surrogates (Cs).

The escape is JSON-compatible (a character beyond U+FFFF becomes a surrogate pair), so
``--json`` output stays valid JSON that decodes to the original string.

``echo`` is the one way the CLI prints: it applies the same escaping to the whole text but
keeps newlines, so ztmcp's own multi-line output still reads as lines while no byte sequence
from anywhere can act on the terminal. Fields that must stay on one line (a name inside a
table) are passed through ``safe`` first, which escapes newlines too.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# Unicode categories that never print: controls, format characters, separators, surrogates.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def unsafe(char: str) -> bool:
    """Whether ``char`` could act on a terminal or hide in it (it must be escaped)."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def safe(text: object, *, keep: str = "") -> str:
    """``text`` (any object, through ``str``) with every control and invisible format
    character escaped; characters in ``keep`` (only ``"\\n"`` or ``"\\n\\t"`` make sense)
    pass as they are."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():  # fast path: no Cc/Cf/Zl/Zp/Cs (and no newline) at all
        return value
    return "".join(
        _escape(ch) if ch not in keep and unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
        for ch in value
    )


def safe_lines(text: object) -> str:
    """Like ``safe`` but newlines stay: for ztmcp's own multi-line output."""
    return safe(text, keep="\n")


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """The CLI's one way to print: ``typer.echo`` of the escaped text (newlines kept)."""
    import typer

    typer.echo(safe_lines(message), err=err, nl=nl)


def is_person_terminal() -> bool:
    """Both stdin and stdout are terminals: the precondition for asking a person."""
    import sys

    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams are no terminal
        return False


def secho(message: object = "", *, err: bool = False, nl: bool = True, **styles: object) -> None:
    """``typer.secho`` of the escaped text: ztmcp's own styles, the message's bytes escaped."""
    import typer

    typer.secho(safe_lines(message), err=err, nl=nl, **styles)  # type: ignore[arg-type]
