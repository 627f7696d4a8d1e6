"""Approvals come from a person: the one confirmation every approving command goes through.

``ztmcp grant``, ``ztmcp trust`` (approving a project's ``ztmcp.toml``/``ztmcp.lock``) and any
other command that widens what an agent may do call ``confirm``. It refuses, with one line,
unless stdin and stdout are both terminals; it then shows exactly what is being allowed (every
string escaped, ``ztmcp.terminal.safe``) and requires the person to type a word the summary
names (the tool name, or ``yes``). There is no flag and no environment variable that skips it:
the guarded agent runs as the same user and could set either. The TUI is the other way a
person approves (its keys act on the call the screen shows).

The residual risk, documented in docs/threat-model.md: an agent that can allocate a
pseudo-terminal (``script``, ``expect``, a Python ``pty``) can answer this prompt. What narrows
it: running the agent's shell tools in the containment sandbox (no access to ztmcp's state
directory, no ``ztmcp`` binary), or under a separate OS account from the person.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ztmcp.errors import ZtmcpError
from ztmcp.terminal import is_person_terminal, safe


class ApprovalError(ZtmcpError):
    """An approval that no person confirmed (no terminal, or the answer did not match)."""


NO_TERMINAL_HINT = (
    "a person must approve this at their own terminal (stdin and stdout a TTY) or in `ztmcp tui`"
)


def confirm(
    action: str,
    lines: Sequence[str],
    answer: str,
) -> None:
    """Ask the person at the terminal to confirm ``action``; raise ``ApprovalError`` otherwise.

    ``lines`` say exactly what is allowed (escaped here); the person must type ``answer``.
    """
    if not is_person_terminal():
        raise ApprovalError(
            f"{action}: refused, no terminal to ask a person", hint=NO_TERMINAL_HINT
        )
    out = sys.stdout
    out.write(f"{safe(action)}:\n")
    for line in lines:
        out.write(f"  {safe(line)}\n")
    out.write(f"Type {safe(answer)!s} to approve, anything else to cancel: ")
    out.flush()
    reply = sys.stdin.readline()
    if reply.strip() != answer:
        raise ApprovalError(f"{action}: not approved (the answer was not {safe(answer)!r})")
