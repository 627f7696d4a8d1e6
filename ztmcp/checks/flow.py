"""``flow``: a public sink (or a destructive call) judged by what the run has seen before it.

Pure: the run state comes in ``ctx.extra["run"]`` (a ``ztmcp.behaviour.run.RunState``) and the
listed tools in ``ctx.extra["tools"]``; the tracker that fills the run is an edge. Three
signals, strongest first (docs/behaviour.md):

* ``flow.untrusted_value``: the call's arguments carry a value that arrived only in untrusted
  content (never in the user's words, never in a trusted tool's result): the shape of a
  prompt injection acting;
* ``flow.private_to_unnamed``: a public sink carries private data to a destination the user
  did not name;
* ``flow.trifecta``: private data and untrusted content were both seen in the run, and now a
  public sink is called (no value evidence): the "lethal trifecta".

Each signal has its own action in ``[flow]`` (``deny``, ``hold``, ``flag`` or ``off``), and
``[[flow.exempt]]`` tables (``server``/``tool`` globs) take tools out. ``hold`` returns the
DENY verdict with rule ``flow.approval_required``, the shape the access edge turns into a held
call when someone can approve it; without one it is a denial. The reason names the earlier
calls.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ztmcp.behaviour.capabilities import CapabilityRule, Label, parse_rules, resolve
from ztmcp.behaviour.run import NAMED, PRIVATE, UNTRUSTED, VOUCHED, CallRef, RunState
from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.errors import PolicyError
from ztmcp.jsonrpc import Direction, Kind, Message

ACTIONS: Final = ("deny", "hold", "flag", "off")
APPROVAL_REQUIRED: Final = "flow.approval_required"
UNTRUSTED_VALUE: Final = "flow.untrusted_value"
PRIVATE_TO_UNNAMED: Final = "flow.private_to_unnamed"
TRIFECTA: Final = "flow.trifecta"
_DESTINATIONS: Final = frozenset(
    {
        "to",
        "recipient",
        "recipients",
        "url",
        "channel",
        "email",
        "address",
        "iban",
        "user",
        "destination",
        "target",
        "webhook",
        "emails",
        "participants",
        "user_email",
    }
)
_NOT_UNTRUSTED: Final = VOUCHED | NAMED


@dataclass(frozen=True, slots=True)
class Exempt:
    server: str
    tool: str


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``max`` calls of matching tools per ``seconds`` in one run; above: DENY."""

    server: str
    tool: str
    max: int
    seconds: float

    def matches(self, server: str, tool: str) -> bool:
        return fnmatch.fnmatchcase(server, self.server) and fnmatch.fnmatchcase(tool, self.tool)


RATE_LIMIT: Final = "flow.rate_limit"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    reason: str
    via: tuple[CallRef, ...]


class FlowCheck:
    name = "flow"
    KEYS: Final = frozenset(
        {
            "untrusted_value",
            "private_to_unnamed",
            "trifecta",
            "exempt",
            "vouch_directed",
            "rate",
            "revoke",
        }
    )

    def __init__(
        self,
        rules: Sequence[CapabilityRule] = (),
        *,
        untrusted_value: str = "deny",
        private_to_unnamed: str = "deny",
        trifecta: str = "flag",
        exempt: Sequence[Exempt] = (),
        vouch_directed: bool = False,
        rates: Sequence[RateLimit] = (),
        revoke: bool = False,
    ) -> None:
        for key, value in (
            ("untrusted_value", untrusted_value),
            ("private_to_unnamed", private_to_unnamed),
            ("trifecta", trifecta),
        ):
            if value not in ACTIONS:
                raise ValueError(f"[flow] {key} must be one of {', '.join(ACTIONS)}")
        self.rules = tuple(rules)
        self.actions = {
            UNTRUSTED_VALUE: untrusted_value,
            PRIVATE_TO_UNNAMED: private_to_unnamed,
            TRIFECTA: trifecta,
        }
        self.exempt = tuple(exempt)
        # A source the user pointed at (every argument value in the user's words) vouches
        # for what it returns; the tracker reads this (docs/behaviour.md).
        self.vouch_directed = vouch_directed
        self.rates = tuple(rates)
        # A denial by this check revokes the run's open grants (ztmcp.behaviour.response).
        self.revoke = revoke
        self._labels: dict[tuple[str, str, int], frozenset[Label]] = {}

    @classmethod
    def from_table(
        cls, table: Mapping[str, Any], origin: str, capabilities: Any = None
    ) -> FlowCheck:
        extra = sorted(set(table) - cls.KEYS)
        if extra:
            raise PolicyError(
                f"{origin}: unknown key {extra[0]!r} in [flow]",
                hint=f"keys: {', '.join(sorted(cls.KEYS))}",
            )
        exempt: list[Exempt] = []
        for item in table.get("exempt", []):
            if not isinstance(item, dict) or set(item) - {"server", "tool"}:
                raise PolicyError(
                    f"{origin}: [[flow.exempt]] takes server and tool globs",
                    hint='for example: server = "bank", tool = "get_*"',
                )
            exempt.append(Exempt(str(item.get("server", "*")), str(item.get("tool", "*"))))
        rates: list[RateLimit] = []
        for item in table.get("rate", []):
            ok = (
                isinstance(item, dict)
                and not set(item) - {"server", "tool", "max", "seconds"}
                and isinstance(item.get("max"), int)
                and item["max"] >= 0
                and isinstance(item.get("seconds", 60), int | float)
                and item.get("seconds", 60) > 0
            )
            if not ok:
                raise PolicyError(
                    f"{origin}: [[flow.rate]] takes server, tool, max and seconds",
                    hint='for example: tool = "send_*", max = 5, seconds = 60',
                )
            rates.append(
                RateLimit(
                    str(item.get("server", "*")),
                    str(item.get("tool", "*")),
                    int(item["max"]),
                    float(item.get("seconds", 60)),
                )
            )
        for key in ("vouch_directed", "revoke"):
            if not isinstance(table.get(key, False), bool):
                raise PolicyError(
                    f"{origin}: [flow] {key} must be true or false",
                    hint=f"for example: {key} = false",
                )
        try:
            return cls(
                parse_rules(capabilities, origin),
                untrusted_value=table.get("untrusted_value", "deny"),
                private_to_unnamed=table.get("private_to_unnamed", "deny"),
                trifecta=table.get("trifecta", "flag"),
                exempt=exempt,
                vouch_directed=table.get("vouch_directed", False),
                rates=rates,
                revoke=table.get("revoke", False),
            )
        except ValueError as exc:
            raise PolicyError(f"{origin}: {exc}", hint=f"actions: {', '.join(ACTIONS)}") from None

    def labels(
        self, server: str, tool: str, definition: Mapping[str, Any] | None
    ) -> frozenset[Label]:
        key = (server, tool, id(definition))
        hit = self._labels.get(key)
        if hit is None:
            hit = resolve(server, tool, definition, rules=self.rules).labels
            if len(self._labels) > 4096:
                self._labels.clear()
            self._labels[key] = hit
        return hit

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.kind is not Kind.REQUEST or msg.direction is not Direction.TO_SERVER:
            return None
        if msg.method != "tools/call":
            return None
        run = ctx.extra.get("run")
        if run is None:
            return None
        if not isinstance(run, RunState):
            raise TypeError("ctx.extra['run'] is not a RunState")
        tool = msg.tool_name
        if tool is None:
            return None
        for limit in self.rates:
            if limit.matches(ctx.server, tool):
                over = _over(run, ctx.server, tool, limit, ctx.now)
                if over is not None:
                    return over
        tools = ctx.extra.get("tools") or {}
        labels = self.labels(ctx.server, tool, tools.get(tool))
        if not labels & {Label.SINK, Label.DESTRUCTIVE}:
            return None
        if any(
            fnmatch.fnmatchcase(ctx.server, e.server) and fnmatch.fnmatchcase(tool, e.tool)
            for e in self.exempt
        ):
            return None
        found = judge(run, labels, msg.params.get("arguments"), self.actions)
        if found is None:
            return None
        return self._verdict(found, ctx.server, tool, tools.get(tool))

    def _verdict(
        self, found: Finding, server: str, tool: str, definition: Mapping[str, Any] | None
    ) -> Verdict:
        action = self.actions[found.rule]
        via = "; ".join(ref.describe() for ref in found.via)
        reason = f"{server}/{tool}: {found.reason} (earlier: {via})"
        severity = Severity.CRITICAL if found.rule != TRIFECTA else Severity.HIGH
        evidence = f"{found.rule} via {via}"
        if action == "flag":
            return Verdict(Action.FLAG, self.name, found.rule, reason, severity, evidence=evidence)
        hint = (
            "if this flow is intended, approve the call in the TUI or add a [[flow.exempt]] "
            "table for this tool in ztmcp.toml"
        )
        if action == "hold":
            from ztmcp.checks.access import _digest_of

            digest = _digest_of(dict(definition)) if definition is not None else None
            return Verdict(
                Action.DENY,
                self.name,
                APPROVAL_REQUIRED,
                reason,
                severity,
                evidence=f"tool.sha256={digest}" if digest else evidence,
                hint=hint,
            )
        return Verdict(
            Action.DENY, self.name, found.rule, reason, severity, evidence=evidence, hint=hint
        )


def _over(run: RunState, server: str, tool: str, limit: RateLimit, now: float) -> Verdict | None:
    count = 0
    for ref in reversed(run.calls):  # newest first; stop at the window's start
        if ref.at <= now - limit.seconds:
            break
        if limit.matches(ref.server, ref.tool):
            count += 1
    if count < limit.max:
        return None
    return Verdict(
        Action.DENY,
        "flow",
        RATE_LIMIT,
        f"{server}/{tool}: {count} calls in {limit.seconds:.0f} s in this run; the "
        f"policy allows {limit.max}",
        Severity.HIGH,
        evidence=f"{limit.server}/{limit.tool} max={limit.max}/{limit.seconds:.0f}s",
        hint="wait, or raise the [[flow.rate]] limit in ztmcp.toml",
    )


def judge(
    run: RunState, labels: frozenset[Label], arguments: Any, actions: Mapping[str, str]
) -> Finding | None:
    """The strongest enabled signal for a sink/destructive call in ``run``, or None."""
    # Fingerprints per top-level argument, computed once: where it goes vs what it carries.
    if isinstance(arguments, Mapping):
        per_arg = {str(k).lower(): run.hasher.of_json(v) for k, v in arguments.items()}
    else:
        per_arg = {"": run.hasher.of_json(arguments)} if arguments is not None else {}
    seen, came_from = run.seen, run.came_from
    if actions[UNTRUSTED_VALUE] != "off":
        tainted = [
            fp
            for prints in per_arg.values()
            for fp in prints
            if seen.get(fp, 0) & (UNTRUSTED | _NOT_UNTRUSTED) == UNTRUSTED
        ]
        if tainted:
            refs = _refs(came_from.get(fp) for fp in tainted)
            return Finding(
                UNTRUSTED_VALUE,
                f"{len(tainted)} argument value(s) came only from "
                "untrusted content, never from the user or a trusted tool",
                refs,
            )
    if Label.SINK not in labels:
        return None
    if actions[PRIVATE_TO_UNNAMED] != "off":
        private = [
            fp
            for key, prints in per_arg.items()
            if key not in _DESTINATIONS
            for fp in prints
            if seen.get(fp, 0) & (PRIVATE | NAMED) == PRIVATE
        ]
        if private and not _destination_named(seen, per_arg):
            refs = _refs(came_from.get(fp) for fp in private)
            return Finding(
                PRIVATE_TO_UNNAMED,
                f"private data ({len(private)} value(s)) is "
                "headed for a destination the user did not name",
                refs,
            )
    if actions[TRIFECTA] != "off" and run.first_private and run.first_untrusted:
        return Finding(
            TRIFECTA,
            "a public sink after private data and untrusted content in this run",
            (run.first_private, run.first_untrusted),
        )
    return None


def _refs(refs: Any) -> tuple[CallRef, ...]:
    unique = sorted({r for r in refs if r is not None}, key=lambda r: r.index)
    return tuple(unique[:2])


def _destination_named(seen: Mapping[int, int], per_arg: Mapping[str, frozenset[int]]) -> bool:
    """Every destination argument's values are in the user's own words (and there is one)."""
    named = False
    for key, prints in per_arg.items():
        if key in _DESTINATIONS:
            if not prints or not all(seen.get(fp, 0) & NAMED for fp in prints):
                return False
            named = True
    return named
