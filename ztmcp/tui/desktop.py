"""A desktop notification for a held call (``notify-send``, where there is one).

The same facts as the Approvals tab: tool, server, agent, why, the tool's description and the
arguments with secrets already masked by the proxy (``ztmcp.preview``); never a decision
(the notification has no buttons: answering stays in the TUI, where a person is). Fire and
forget: the command is started and not waited for, and any failure is ignored (a notification
is a convenience, not part of the approval). Bodies are plain text: notification daemons read
a subset of HTML, so ``<``, ``>`` and ``&`` are escaped, as are control characters.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Final

from ztmcp.state.approvals import Approval
from ztmcp.terminal import safe

COMMAND: Final = "notify-send"
MAX_BODY: Final = 600


def _plain(text: str) -> str:
    return safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(approval: Approval) -> tuple[str, str]:
    """Title and body for one held call."""
    detail = approval.detail
    who = str(detail.get("agent") or detail.get("client") or "an agent")
    title = f"ztmcp: {who} wants {approval.tool} on {approval.server}"
    lines = [str(detail.get("reason") or "held for your approval")]
    description = str(detail.get("description") or "")
    if description:
        lines.append(f"tool says: {description[:160]}")
    lines.append(str(detail.get("arguments") or "(arguments not recorded)"))
    lines.append("answer in ztmcp tui (a: Approvals)")
    body = "\n".join(lines)
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 1] + "…"
    return _plain(title[:200]), "\n".join(_plain(line) for line in body.split("\n"))


def notify(approval: Approval) -> bool:
    """Show the notification if ``notify-send`` is on PATH; whether it was started."""
    command = shutil.which(COMMAND)
    if command is None:
        return False
    title, body = message(approval)
    try:
        subprocess.Popen(
            [command, "--app-name=ztmcp", "--urgency=critical", title, body],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    return True
