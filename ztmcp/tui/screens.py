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

- **t a g s**: show Traffic, Approvals, Grants, Servers
- **1 2 3**: grant the selected held call's tool ({keys}); from any tab, the call goes on
  at once
- **d**: deny the selected held call
- **r** (Grants): revoke the selected grant; every proxy honours it on the next call
- **↑ ↓**: select a row; Traffic shows the record and the checks' findings, Servers the drift
- **?**: this help · **q**: quit

While this app runs, proxies **hold** a call that needs a grant (up to the policy's wait) and
list it under Approvals; select it there, then granting releases it at once (keys act only on
the selected call). When no TUI runs, such calls are denied at once, telling the agent that a
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
