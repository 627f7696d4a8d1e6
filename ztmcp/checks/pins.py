"""``pins``: only tools (prompts, resource templates) whose definition matches ``ztmcp.lock``.

The check holds the lock read at start and finds this session's server by ``ctx.server`` (the
``--name`` of ``ztmcp run``). For a pinned server:

- a ``tools/list`` (``prompts/list``, ``resources/templates/list``) response is REWRITTEN to keep
  only items that are pinned and whose canonical digest (``ztmcp.manifest.item_digest``) equals
  the pin. Drift (a changed description, schema, or annotation such as a flipped
  ``destructiveHint``) and new unpinned items are withheld; the reason names the items, never
  their text; the audit evidence holds the names and observed/pinned digests. The Session then
  denies calls to withheld tools by itself.
- a ``tools/call`` is denied when the tool is not pinned, or when the server's current listing
  of it (``ctx.extra["tools"]``) no longer matches the pin. A call to a pinned tool that was
  never listed in this session is let through: the next listing is checked anyway.
- ``notifications/tools/list_changed`` passes; the next list response is checked like any
  other, so a server that announces a change right after start cannot race the check.

A server missing from the lock: mode ``strict`` withholds every item and denies every call;
mode ``tofu`` lets it through (``ztmcp run`` prints a notice suggesting ``ztmcp pin``). Checks
never write state, so real trust-on-first-use auto-pinning needs a state writer at the CLI edge:
a noted follow-up. Mode ``off`` disables the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.poisoning import safe_name
from ztmcp.jsonrpc import Direction, Kind, Message
from ztmcp.lockfile import Lockfile, Pin
from ztmcp.manifest import NOUNS, item_digest

MODES: Final = ("tofu", "strict", "off")
_LISTS: Final[Mapping[str, str]] = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/templates/list": "resourceTemplates",
}


def _plural(kind: str, n: int) -> str:
    noun = NOUNS[kind]
    return noun if n == 1 else noun + "s"


class PinsCheck:
    name = "pins"

    def __init__(self, lock: Lockfile, mode: str = "tofu") -> None:
        if mode not in MODES:
            raise ValueError(f"pins mode must be one of {', '.join(MODES)}")
        self.lock = lock
        self.mode = mode

    def start_notice(self, server: str) -> str | None:
        """One line for stderr at start when this server runs without pins, else None."""
        if self.mode != "tofu" or self.lock.get(server) is not None:
            return None
        return (
            f"server {server!r} is not pinned in {self.lock.path}: its tools pass unpinned; "
            f"pin them with `ztmcp pin {server} -- CMD…`"
        )

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if self.mode == "off":
            return None
        pin = self.lock.get(ctx.server)
        if pin is None and self.mode == "tofu":
            return None
        if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE:
            method = ctx.request.method if ctx.request is not None else None
            if method is not None and method in _LISTS:
                return self._list(msg, _LISTS[method], pin, ctx.server)
            return None
        if msg.direction is Direction.TO_SERVER and msg.kind is Kind.REQUEST:
            if msg.method == "tools/call":
                return self._call(msg.tool_name, pin, ctx)
            if msg.method == "prompts/get":
                name = msg.params.get("name")
                if isinstance(name, str) and (pin is None or name not in pin.prompts):
                    return self._deny("prompt", name, "is not pinned", "pins.unpinned", ctx.server)
        return None

    # -- lists --------------------------------------------------------------------------

    def _list(self, msg: Message, kind: str, pin: Pin | None, server: str) -> Verdict | None:
        result = msg.body.get("result")
        if not isinstance(result, Mapping):
            return None
        items = result.get(kind)
        if not isinstance(items, list):
            return None
        pinned = pin.items(kind) if pin is not None else {}
        kept: list[Any] = []
        drifted: list[tuple[str, str, str]] = []
        unpinned: list[str] = []
        for item in items:
            name = item.get("name") if isinstance(item, Mapping) else None
            if not isinstance(name, str) or name not in pinned:
                unpinned.append(safe_name(name))
                continue
            observed = item_digest(kind, item)
            if observed != pinned[name]:
                drifted.append((safe_name(name), observed, pinned[name]))
                continue
            kept.append(item)
        if not drifted and not unpinned:
            return None
        parts: list[str] = []
        if drifted:
            names = ", ".join(n for n, _, _ in drifted[:10])
            noun = _plural(kind, len(drifted))
            parts.append(f"{len(drifted)} {noun} drifted from the pin ({names})")
        if unpinned:
            names = ", ".join(unpinned[:10])
            parts.append(f"{len(unpinned)} unpinned {_plural(kind, len(unpinned))} ({names})")
        if pin is None:
            reason = f"withheld every {NOUNS[kind]}: server {safe_name(server)!r} is not pinned"
        else:
            reason = "withheld " + " and ".join(parts)
        evidence = "; ".join(
            [f"drifted {n}: observed {o} pinned {p}" for n, o, p in drifted]
            + [f"unpinned {n}" for n in unpinned]
        )
        body = dict(msg.body)
        body["result"] = {**result, kind: kept}
        return Verdict(
            Action.REWRITE,
            self.name,
            "pins.drift" if drifted else "pins.unpinned",
            reason,
            Severity.HIGH if drifted else Severity.MEDIUM,
            replacement=body,
            evidence=evidence[:4000],
            hint=f"review with `ztmcp diff {safe_name(server)}`, then re-pin with `ztmcp pin`",
        )

    # -- calls --------------------------------------------------------------------------

    def _call(self, name: str | None, pin: Pin | None, ctx: Context) -> Verdict | None:
        if name is None:
            return None
        if pin is None or name not in pin.tools:
            return self._deny("tool", name, "is not pinned", "pins.unpinned", ctx.server)
        listed = ctx.extra.get("tools", {}).get(name)
        if isinstance(listed, Mapping):
            observed = item_digest("tools", listed)
            if observed != pin.tools[name]:
                return self._deny(
                    "tool",
                    name,
                    "changed since it was pinned",
                    "pins.drift",
                    ctx.server,
                    evidence=f"observed {observed} pinned {pin.tools[name]}",
                )
        return None

    def _deny(
        self,
        noun: str,
        name: str,
        problem: str,
        rule: str,
        server: str,
        evidence: str | None = None,
    ) -> Verdict:
        return Verdict(
            Action.DENY,
            self.name,
            rule,
            f"{noun} {safe_name(name)!r} {problem}",
            Severity.HIGH,
            evidence=evidence,
            hint=f"review with `ztmcp diff {safe_name(server)}`, then pin with `ztmcp pin`",
        )
