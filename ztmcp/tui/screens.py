"""Secondary screens: the key help."""

from __future__ import annotations

from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP: Final = """\
# ztmcp tui

Live view of every `ztmcp run` session on this machine, and the place to answer held calls.

- **t a g s l**: show Traffic, Approvals, Grants, Servers, Timeline
- **l** Timeline: pick an agent (↑ ↓, Enter), then its LLM calls, MCP messages, egress and
  flow findings in order; a tool call no model turn asked for reads UNPROMPTED
- **o** (Approvals): allow the selected held call once, without a grant: the next call is
  asked about again
- **1 2 3** (Approvals): grant the selected held call's tool for a while; the call goes on at
  once (not for a tool the policy asks about every time)
- **d** (Approvals): deny the selected held call
- keys on a held call: {keys}
- **r** (Grants): revoke the selected grant; every proxy honours it on the next call
- **↑ ↓**: select a row; Traffic shows the record and the checks' findings, Servers the drift
- **?**: this help · **q**: quit

While this app runs, proxies **hold** a call that needs a grant, or that the policy asks about
(`action = "ask"`), up to the policy's wait, and list it under Approvals with the tool's
description, the arguments (secrets masked), the agent and why it was held; the keys act only
on the selected call. When no TUI runs, such calls are denied at once, telling the agent that a
person must approve (here, or with `ztmcp grant` at a terminal).

The audit log holds digests, not content: the detail pane shows what was recorded.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, keys: str) -> None:
        super().__init__()
        self._text = HELP.replace("{keys}", keys)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(self._text)
