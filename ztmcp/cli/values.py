"""Every command-line value that names something, read through its ``ztmcp.names.Kind``.

``option(kind, "--name", …)`` and ``argument(kind, …)`` are ``typer.Option`` and
``typer.Argument`` with a parser for that kind: the value is checked while typer reads the
command line, before the command's body runs, by the same rule the policy loader applies to
the same field. A refusal is ztmcp's one error line (``render.fail``: cause, hint; every part
escaped for the terminal), exit 2, not typer's usage box. While a shell completes a command
line (click's resilient parsing, ``ztmcp.compat.typer.completing``) nothing is printed.

``ztmcp run`` reads its options without typer (start-up time); ``run_cmd.parse`` reads its
``--name`` through ``names.refused``, the function the parsers here call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from ztmcp.names import Kind, check, refused

__all__ = ["Reader", "argument", "check", "option", "refused"]


@dataclass(frozen=True, slots=True)
class Reader:
    """The typer parser of one option or argument: its value read as ``kind``."""

    kind: Kind
    where: str  # how errors name it: "--name", "SERVER"

    def __call__(self, value: str) -> str:
        error = refused(self.kind, self.where, value)
        if error is None:
            return self.kind.parse(value)
        from ztmcp.compat.typer import completing  # typer's private click: on refusal only

        if completing():  # a shell completing a command line: say nothing
            raise ValueError(error.message)
        from ztmcp.cli.render import fail

        fail(error)


def option(kind: Kind, *decls: str, **settings: Any) -> Any:
    """``typer.Option(*decls, **settings)`` whose every value is read as ``kind``."""
    where = max(decls, key=lambda d: (d.startswith("--"), len(d)))
    return typer.Option(*decls, parser=Reader(kind, where), **settings)


def argument(kind: Kind, where: str, **settings: Any) -> Any:
    """``typer.Argument(**settings)`` read as ``kind``; ``where`` names it in errors."""
    return typer.Argument(parser=Reader(kind, where), **settings)
