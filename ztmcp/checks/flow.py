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

A fourth, ``anomaly``, judges any call against the baselines saved in ``state.db``
(``ztmcp.behaviour.anomaly``: a burst, a new tool, oversized arguments); the flow edge feeds
the judge, the check reads its judgement. ``[flow] anomaly`` says what it does (``flag`` by
default); a stronger flow finding on the same call wins.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Final

from ztmcp.behaviour.anomaly import RULE as ANOMALY
from ztmcp.behaviour.anomaly import AnomalyJudge
from ztmcp.behaviour.capabilities import CapabilityRule, Label, resolve
from ztmcp.behaviour.elicited import AskedForms
from ztmcp.behaviour.run import (
    DIRECTED,
    NAMED,
    PRIVATE,
    UNTRUSTED,
    VOUCHED,
    CallRef,
    RunState,
)
from ztmcp.checks.access import ALLOWED_ONCE, OnceAllowances, _digest_of
from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.config import Configurable
from ztmcp.jsonrpc import Direction, Kind, Message

ACTIONS: Final = ("deny", "hold", "flag", "off")
APPROVAL_REQUIRED: Final = "flow.approval_required"
UNTRUSTED_VALUE: Final = "flow.untrusted_value"
PRIVATE_TO_UNNAMED: Final = "flow.private_to_unnamed"
TRIFECTA: Final = "flow.trifecta"
ALLOWED_ONCE_RULE: Final = "flow.allowed_once"
DESTINATIONS: Final = frozenset(
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


class Directed(StrEnum):
    """``[flow] directed``: how far what a source the user pointed at returned is trusted (a
    call whose arguments are all in the user's words: "pay the bill in bill-dec.txt")."""

    NAMED = "named"  # as the address of a person/channel the user named (the default)
    PRIVATE = "private"  # also as any destination, when it came from private content
    OFF = "off"  # never: it is untrusted content like any other
    ALL = "all"  # everywhere, payload included: an injection in that very source passes


class FlowAction(StrEnum):
    """What ``[flow]`` does with one signal."""

    DENY = "deny"
    HOLD = "hold"  # held for approval in the TUI; a denial without one
    FLAG = "flag"
    OFF = "off"


# Each signal's choices, its default first (``Table.choice`` reads the first as the default).
STRONG: Final = (FlowAction.DENY, FlowAction.HOLD, FlowAction.FLAG, FlowAction.OFF)
WEAK: Final = (FlowAction.FLAG, FlowAction.DENY, FlowAction.HOLD, FlowAction.OFF)


@dataclass(frozen=True, slots=True)
class FlowConfig:
    """``[flow]`` and the top-level ``[[capabilities]]`` tables, parsed once at start."""

    # Top-level keys this config also reads (``Table.top``): [[capabilities]] is policy for
    # more than this check (``ztmcp scan`` prints the labels too).
    TOP_KEYS: ClassVar[frozenset[str]] = frozenset({"capabilities"})

    KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "untrusted_value",
            "private_to_unnamed",
            "trifecta",
            "exempt",
            "directed",
            "rate",
            "revoke",
            "elicitation",
            "anomaly",
        }
    )
    untrusted_value: FlowAction = FlowAction.DENY
    private_to_unnamed: FlowAction = FlowAction.DENY
    trifecta: FlowAction = FlowAction.FLAG
    exempt: tuple[Exempt, ...] = ()
    directed: Directed = Directed.NAMED
    rate: tuple[RateLimit, ...] = ()
    revoke: bool = False
    elicitation: bool = True
    anomaly: FlowAction = FlowAction.FLAG
    capabilities: tuple[CapabilityRule, ...] = ()


class FlowCheck(Configurable[FlowConfig]):
    name = "flow"
    KEYS: Final = FlowConfig.KEYS

    def __init__(
        self,
        rules: Sequence[CapabilityRule] = (),
        *,
        untrusted_value: str = "deny",
        private_to_unnamed: str = "deny",
        trifecta: str = "flag",
        exempt: Sequence[Exempt] = (),
        directed: str = "named",
        rates: Sequence[RateLimit] = (),
        revoke: bool = False,
        elicitation: bool = True,
        once: OnceAllowances | None = None,
        anomaly: str = "flag",
        judge: AnomalyJudge | None = None,
    ) -> None:
        for key, value in (
            ("untrusted_value", untrusted_value),
            ("private_to_unnamed", private_to_unnamed),
            ("trifecta", trifecta),
            ("anomaly", anomaly),
        ):
            if value not in ACTIONS:
                raise ValueError(f"[flow] {key} must be one of {', '.join(ACTIONS)}")
        self.rules = tuple(rules)
        self.actions = {
            UNTRUSTED_VALUE: str(untrusted_value),
            PRIVATE_TO_UNNAMED: str(private_to_unnamed),
            TRIFECTA: str(trifecta),
            ANOMALY: str(anomaly),
        }
        self.exempt = tuple(exempt)
        # How far a source the user pointed at is trusted (``Directed``, docs/behaviour.md).
        self.directed = Directed(directed)
        self.rates = tuple(rates)
        # A denial by this check revokes the run's open grants (ztmcp.behaviour.response).
        self.revoke = revoke
        # An accepted elicitation answer is learned as the user's words (the edge's side;
        # off for a client whose model, not a person, fills elicitation forms).
        self.elicitation = elicitation
        # 2026-07-28 forms awaiting their retry, shared by the pipeline's Sessions (the edge's).
        self.asked = AskedForms()
        # Calls a person allowed once from a hold (the access edge's, shared per process).
        self.once = once if once is not None else ALLOWED_ONCE
        self._labels: dict[tuple[str, str, int], frozenset[Label]] = {}
        # The relay's anomaly judge (fed by the flow edge); None: anomalies are not judged.
        self.judge = (judge or AnomalyJudge()) if anomaly != "off" else None

    @property
    def holds(self) -> bool:
        """Some signal asks for a hold: the pipeline needs an edge that can hold calls."""
        return "hold" in self.actions.values()

    @classmethod
    def from_config(cls, config: FlowConfig) -> FlowCheck:
        return cls(
            config.capabilities,
            untrusted_value=config.untrusted_value.value,
            private_to_unnamed=config.private_to_unnamed.value,
            trifecta=config.trifecta.value,
            exempt=config.exempt,
            directed=config.directed.value,
            rates=config.rate,
            revoke=config.revoke,
            elicitation=config.elicitation,
            anomaly=config.anomaly.value,
        )

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

    def relevant(self, server: str, tool: str, definition: Mapping[str, Any] | None) -> bool:
        """Whether a call to this tool can matter to a flow: it has a capability label (a
        source, a sink, destructive) or a ``[[flow.rate]]`` limit counts it. Other calls are
        neither judged (``check`` returns None for them whatever the run holds) nor recorded
        in the run, so they cost the hot path no ``state.db`` read or write."""
        if self.labels(server, tool, definition):
            return True
        return any(limit.matches(server, tool) for limit in self.rates)

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.kind is not Kind.REQUEST or msg.direction is not Direction.TO_SERVER:
            return None
        if msg.method != "tools/call":
            return None
        run = ctx.extra.get("run")
        tool = msg.tool_name
        if tool is None:
            return None
        anomaly = self._anomaly(msg, ctx.server, tool, ctx)
        if anomaly is None or anomaly.action is not Action.DENY:
            flow = self._flow(msg, ctx, run, tool)
            if flow is not None and (anomaly is None or flow.action is Action.DENY):
                return flow
        return anomaly

    def _anomaly(self, msg: Message, server: str, tool: str, ctx: Context) -> Verdict | None:
        if self.judge is None:
            return None
        found = self.judge.judged(server, msg)
        if found is None:
            return None
        action = self.actions[ANOMALY]
        reason = f"{server}/{tool}: anomaly: {found.explanation}"
        evidence = f"anomaly.{found.kind}"
        if action == "flag":
            return Verdict(
                Action.FLAG, self.name, ANOMALY, reason, Severity.HIGH, evidence=evidence
            )
        # An approval lifts only a hold: one given for another reason (an access hold) on this
        # very message must not turn a ``deny`` into a pass.
        approval = self.once.approval(msg) if action == "hold" else None
        if approval is not None:
            return Verdict(
                Action.FLAG,
                self.name,
                ALLOWED_ONCE_RULE,
                f"{reason}; allowed once by approval {approval}",
                Severity.HIGH,
                evidence=f"approval={approval}",
            )
        hint = (
            "if this is expected, approve the call in the TUI, wait for the burst to pass, or "
            "learn the baselines again (ztmcp baseline --save)"
        )
        if action == "hold":
            definition = (ctx.extra.get("tools") or {}).get(tool)
            digest = _digest_of(dict(definition)) if definition is not None else None
            return Verdict(
                Action.DENY,
                self.name,
                APPROVAL_REQUIRED,
                reason,
                Severity.HIGH,
                evidence=f"tool.sha256={digest}" if digest else evidence,
                hint=hint,
            )
        return Verdict(
            Action.DENY, self.name, ANOMALY, reason, Severity.HIGH, evidence=evidence, hint=hint
        )

    def _flow(self, msg: Message, ctx: Context, run: Any, tool: str) -> Verdict | None:
        if run is None:
            return None
        if not isinstance(run, RunState):
            raise TypeError("ctx.extra['run'] is not a RunState")
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
        found = judge(run, labels, msg.params.get("arguments"), self.actions, self.directed)
        if found is None:
            return None
        # A person saw this very call held and allowed it once; a ``deny`` stays a denial
        # (the approval may have been given for another hold on it: access, an anomaly).
        approval = self.once.approval(msg) if self.actions[found.rule] == "hold" else None
        if approval is not None:
            return Verdict(
                Action.FLAG,
                self.name,
                ALLOWED_ONCE_RULE,
                f"{ctx.server}/{tool}: {found.reason}; allowed once by approval {approval}",
                Severity.HIGH,
                evidence=f"approval={approval}",
            )
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
    run: RunState,
    labels: frozenset[Label],
    arguments: Any,
    actions: Mapping[str, str],
    directed: Directed = Directed.NAMED,
) -> Finding | None:
    """The strongest enabled signal for a sink/destructive call in ``run``, or None.

    Arguments have roles: a *destination* (``to``, ``recipient``, ``url``, ``user`` …) says
    where the call goes, the rest is its *payload*. What a source the user pointed at
    returned (``DIRECTED``) never clears a payload value; as a destination it is cleared as
    ``directed`` says (``Directed``): by default only in a call to a person or channel the
    user named ("invite Dora, her address is on her site").
    """
    # Fingerprints per top-level argument, computed once: where it goes vs what it carries.
    hasher = run.hasher
    if isinstance(arguments, Mapping):
        items = [(str(k).lower(), v) for k, v in arguments.items()]
    else:
        items = [("", arguments)] if arguments is not None else []
    per_arg = {key: hasher.of_json(value) for key, value in items}
    names = {key: hasher.name_key(value) for key, value in items if key in DESTINATIONS}
    seen, came_from = run.seen, run.came_from
    words = [w for w in names.values() if w is not None]
    who = all(seen.get(w, 0) & NAMED for w in words)  # no person/channel the user did not name
    named_who = who and bool(words)
    trusted = _NOT_UNTRUSTED | (DIRECTED if directed is Directed.ALL else 0)
    # A reader that is a sink only by where it reads from (a URL fetcher) may follow a link
    # verbatim from private content the user pointed at ("summarise the article Bob posted in
    # general"): that is reading what the user asked to read. Verbatim: the argument is the
    # link as it was given, so nothing of the run's data rides along in it.
    follows = (
        {key for key, value in items if key in DESTINATIONS and _followed(run, value)}
        if directed is not Directed.OFF and _reader(labels)
        else set()
    )

    def cleared(fp: int, key: str) -> bool:
        flags = seen.get(fp, 0)
        if not flags & UNTRUSTED or flags & trusted:
            return True
        if key not in DESTINATIONS or not flags & DIRECTED or directed is Directed.OFF:
            return False
        if key in follows:
            return True
        return named_who or (directed is Directed.PRIVATE and who and bool(flags & PRIVATE))

    if actions[UNTRUSTED_VALUE] != "off":
        tainted = [fp for key, prints in per_arg.items() for fp in prints if not cleared(fp, key)]
        if tainted:
            # Private data in the same call is an exfiltration to where the content pointed:
            # the reason names both sources.
            carried = _private(seen, per_arg) if Label.SINK in labels else []
            refs = _refs(came_from.get(fp) for fp in tainted)
            reason = (
                f"{len(tainted)} argument value(s) came only from "
                "untrusted content, never from the user or a trusted tool"
            )
            if carried:
                refs = _refs([*refs[:1], *_refs(came_from.get(fp) for fp in carried)[:1]])
                reason += f", and it carries private data ({len(carried)} value(s))"
            return Finding(UNTRUSTED_VALUE, reason, refs)
    if Label.SINK not in labels:
        return None
    if actions[PRIVATE_TO_UNNAMED] != "off":
        private = _private(seen, per_arg)
        if private and not _destination_named(seen, per_arg, names):
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
            _refs((run.first_private, run.first_untrusted)),
        )
    return None


def _reader(labels: frozenset[Label]) -> bool:
    """A tool that returns untrusted content and is a sink only by where it reads from."""
    return Label.UNTRUSTED in labels and Label.SINK in labels and Label.DESTRUCTIVE not in labels


def _followed(run: RunState, value: Any) -> bool:
    """The argument is, in whole, one value that came from private content the user pointed
    at (a link as it was posted)."""
    whole = run.hasher.whole(value)
    return whole is not None and run.seen.get(whole, 0) & (DIRECTED | PRIVATE) == (
        DIRECTED | PRIVATE
    )


def _private(seen: Mapping[int, int], per_arg: Mapping[str, frozenset[int]]) -> list[int]:
    """The private values a call's payload (its non-destination arguments) carries that the
    user did not name."""
    return [
        fp
        for key, prints in per_arg.items()
        if key not in DESTINATIONS
        for fp in prints
        if seen.get(fp, 0) & (PRIVATE | NAMED) == PRIVATE
    ]


def _refs(refs: Any) -> tuple[CallRef, ...]:
    unique = sorted({r for r in refs if r is not None}, key=lambda r: r.index)
    return tuple(unique[:2])


def _destination_named(
    seen: Mapping[int, int],
    per_arg: Mapping[str, frozenset[int]],
    names: Mapping[str, int | None],
) -> bool:
    """Every destination argument is in the user's own words, as values or as a plain word
    (and there is one)."""
    named = False
    for key, prints in per_arg.items():
        if key in DESTINATIONS:
            if prints:
                ok = all(seen.get(fp, 0) & NAMED for fp in prints)
            else:
                word = names.get(key)
                ok = word is not None and bool(seen.get(word, 0) & NAMED)
            if not ok:
                return False
            named = True
    return named
