"""``access``: per-tool rules (``allow`` / ``grant`` / ``deny``) and just-in-time grants.

Policy (``[access]`` in ztmcp.toml)::

    [access]
    default = "allow"          # or "grant", or "annotations"
    hold_seconds = 60          # while a TUI is attached, hold an ungranted call this long
    [[access.rule]]            # first match wins; fnmatch globs
    server = "fs"
    tool = "write_*"
    action = "grant"
    [[access.rule]]            # "ask me every time": every call waits for a person
    tool = "*"
    action = "ask"

``ask`` holds every call for a person's decision (``ztmcp tui``: allow this call once, or
deny); grants do not answer it, so each call is judged on its own. With nobody watching, an
``ask`` call is refused at once.

``annotations`` decides by the tool's listed annotations: ``readOnlyHint`` true (and not
``destructiveHint``) → allow; anything else, or a tool that was never listed → grant. The
annotations come from the server itself: they are a convenience, not a guarantee.

A ``grant`` tool needs a live grant (``ztmcp grant SERVER TOOL --for 15m``) bound to the digest
of the tool as the server listed it in this session. Allowed-by-rule calls never touch the
grant database; grant-rule calls read it on every call, so revocation is immediate.

The check is pure: a missing grant is the DENY verdict ``access.grant_required``; holding the
call for approval and sliding a grant's expiry are the edge's work (``ztmcp.holds``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.checks.config import Configurable
from ztmcp.errors import ZtmcpError
from ztmcp.jsonrpc import Direction, Kind, Message

if TYPE_CHECKING:
    from ztmcp.state.grants import Grant


class RuleAction(StrEnum):
    """What an ``[[access.rule]]`` does with the tools it matches."""

    ALLOW = "allow"
    GRANT = "grant"  # a live just-in-time grant is needed
    DENY = "deny"
    ASK = "ask"  # a person decides every call (held while a TUI is attached)


class AccessDefault(StrEnum):
    """``[access] default``: what happens to tools no rule matches."""

    ALLOW = "allow"
    GRANT = "grant"
    ASK = "ask"
    ANNOTATIONS = "annotations"  # by the tool's listed annotations (read-only: allow)


ALLOW: Final = RuleAction.ALLOW
GRANT: Final = RuleAction.GRANT
DENY: Final = RuleAction.DENY
ASK: Final = RuleAction.ASK
ANNOTATIONS: Final = AccessDefault.ANNOTATIONS
RULE_ACTIONS: Final = tuple(RuleAction)
DEFAULTS: Final = tuple(AccessDefault)  # the first is the default
RULE_KEYS: Final = frozenset({"server", "tool", "action"})
GRANT_REQUIRED: Final = "access.grant_required"  # the verdict the edge may turn into a hold
GRANTED: Final = "access.granted"
ASK_REQUIRED: Final = "access.ask"  # an ``ask`` tool: the edge holds it for a person, per call
ONCE: Final = "access.once"  # a person allowed this one call (``OnceAllowances``)
HOLDABLE: Final = frozenset({GRANT_REQUIRED, ASK_REQUIRED})
HOLD_SECONDS: Final = 60.0
MAX_HOLD_SECONDS: Final = 3600.0


class GrantSource(Protocol):
    def live(self, server: str, tool: str, now: float) -> Sequence[Grant]: ...


@dataclass(frozen=True, slots=True)
class Rule:
    server: str
    tool: str
    action: RuleAction

    def matches(self, server: str, tool: str) -> bool:
        return fnmatchcase(server, self.server) and fnmatchcase(tool, self.tool)


# What a refusal tells the agent: that a person must approve, never a command it could run
# itself (the agent has a shell as the same user; `ztmcp grant` asks a person at a terminal).
PERSON_MUST_APPROVE: Final = (
    "a person must approve this call, in `ztmcp tui` or with `ztmcp grant` at their own "
    "terminal; ask the user"
)


def grant_hint(server: str, tool: str) -> str:
    """The hint of a refusal for want of a grant (the same text for every tool)."""
    return PERSON_MUST_APPROVE


def granted_id(verdict: Verdict) -> str | None:
    """The grant that allowed a call, from this check's ``access.granted`` verdict."""
    if verdict.rule != GRANTED or verdict.check != "access" or verdict.evidence is None:
        return None
    return verdict.evidence.removeprefix("grant.id=")


@dataclass(frozen=True, slots=True)
class AccessConfig:
    """``[access]``: the default for tools no rule names, the rules (first match wins), and
    how long an ungranted call is held while a TUI is attached."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"default", "rule", "hold_seconds"})
    default: AccessDefault = AccessDefault.ALLOW
    rule: tuple[Rule, ...] = ()
    hold_seconds: float = HOLD_SECONDS

    def __post_init__(self) -> None:
        if self.default not in DEFAULTS:
            raise ValueError(f"unknown access default {self.default!r}")
        if not 0 <= self.hold_seconds <= MAX_HOLD_SECONDS:
            raise ValueError(f"hold_seconds must be from 0 to {MAX_HOLD_SECONDS:g}")


class OnceAllowances:
    """Calls a person allowed once, while the edge runs them through the checks again.

    The edge (``ztmcp.holds``) puts the very ``Message`` object it held, resumes it, and drops
    it; the check allows a call only when it is that object (identity, not equality), so an
    identical call sent again is asked about again. Thread-safe.
    """

    __slots__ = ("_lock", "_msgs")

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._msgs: dict[int, tuple[Message, str]] = {}

    def put(self, msg: Message, approval_id: str) -> None:
        with self._lock:
            self._msgs[id(msg)] = (msg, approval_id)

    def drop(self, msg: Message) -> None:
        with self._lock:
            self._msgs.pop(id(msg), None)

    def approval(self, msg: Message) -> str | None:
        """The approval that allowed exactly this message once, if any."""
        with self._lock:
            found = self._msgs.get(id(msg))
        return found[1] if found is not None and found[0] is msg else None


# One per process: the edge and every access check meet here whatever wired them (the key is
# the held message object itself, so sessions never see each other's allowances).
ALLOWED_ONCE: Final = OnceAllowances()


class AccessCheck(Configurable[AccessConfig]):
    name = "access"
    __slots__ = ("_decided", "_digests", "default", "grants", "hold_seconds", "once", "rules")

    def __init__(
        self,
        rules: Sequence[Rule] = (),
        default: str = ALLOW,
        grants: GrantSource | None = None,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        if default not in DEFAULTS:
            raise ValueError(f"unknown access default {default!r}")
        self.hold_seconds = hold_seconds
        self.default = default
        self.rules = tuple(rules)
        self.grants = grants
        self.once = ALLOWED_ONCE
        # (server, tool) -> the action rules decided; None: the default decides per listing.
        self._decided: dict[tuple[str, str], str | None] = {}
        # tool name -> (the listed definition, its digest): hashing it costs ~20 µs a call.
        self._digests: dict[str, tuple[dict[str, Any], str]] = {}

    @property
    def needs_grants(self) -> bool:
        """Whether some call may need a person's decision (a grant or an ``ask``)."""
        return self.default != ALLOW or any(r.action in (GRANT, ASK) for r in self.rules)

    @classmethod
    def from_config(cls, config: AccessConfig, grants: GrantSource | None = None) -> AccessCheck:
        """The check; with rules that need grants and no ``grants`` given, it reads the
        user's grant store."""
        check = cls(config.rule, config.default, grants, config.hold_seconds)
        if grants is None and check.needs_grants:
            from ztmcp.state.grants import GrantLookup

            check.grants = GrantLookup()
        return check

    # -- the check ------------------------------------------------------------------------

    def _rule_action(self, server: str, tool: str) -> str | None:
        key = (server, tool)
        try:
            return self._decided[key]
        except KeyError:
            pass
        action: str | None = next(
            (r.action for r in self.rules if r.matches(server, tool)),
            None if self.default == ANNOTATIONS else self.default,
        )
        if len(self._decided) < 4096:
            self._decided[key] = action
        return action

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if msg.method != "tools/call" or msg.kind is not Kind.REQUEST:
            return None
        if msg.direction is not Direction.TO_SERVER:
            return None
        tool = msg.tool_name
        if tool is None:
            return None
        server = ctx.server
        action = self._rule_action(server, tool)
        if action == ALLOW:
            return None
        once = self.once.approval(msg)
        if once is not None and action != DENY:
            return Verdict(
                Action.FLAG,
                self.name,
                ONCE,
                f"allowed once by a person (approval {once})",
                Severity.LOW,
                evidence=f"approval.id={once}",
            )
        if action == DENY:
            return Verdict(
                Action.DENY,
                self.name,
                "access.denied",
                f"policy denies tool {tool[:80]!r} on server {server[:80]!r}",
                Severity.HIGH,
                hint="the user's access policy denies it; only the user can change that",
            )
        listed = ctx.extra.get("tools", {}).get(tool)
        definition = listed if isinstance(listed, dict) else None
        if action == ASK:
            digest = self._digest(tool, definition)
            return Verdict(
                Action.DENY,
                self.name,
                ASK_REQUIRED,
                f"policy asks a person about every call of tool {tool[:80]!r} on server "
                f"{server[:80]!r}",
                Severity.HIGH,
                evidence=f"tool.sha256={digest}" if digest else "tool not listed in this session",
                hint="a person must allow each call in `ztmcp tui`; ask the user",
            )
        if action is None and _read_only(definition):  # default = "annotations"
            return None
        return self._granted(msg, ctx, server, tool, definition)

    def _digest(self, tool: str, definition: dict[str, Any] | None) -> str | None:
        """The listed definition's digest, memoised per definition object (the Session keeps
        each listing's parsed dicts and replaces them when the server lists again)."""
        if definition is None:
            return None
        cached = self._digests.get(tool)
        if cached is not None and cached[0] is definition:
            return cached[1]
        digest = _digest_of(definition)
        if len(self._digests) >= 4096:
            self._digests.clear()
        self._digests[tool] = (definition, digest)
        return digest

    def _granted(
        self, msg: Message, ctx: Context, server: str, tool: str, definition: dict[str, Any] | None
    ) -> Verdict:
        digest = self._digest(tool, definition)
        hint = grant_hint(server, tool)
        evidence = f"tool.sha256={digest}" if digest else "tool not listed in this session"

        def deny(rule: str, reason: str) -> Verdict:
            return Verdict(
                Action.DENY, self.name, rule, reason, Severity.HIGH, evidence=evidence, hint=hint
            )

        if self.grants is None:
            return deny("access.grant_required", f"tool {tool[:80]!r} needs a just-in-time grant")
        try:
            grants = self.grants.live(server, tool, ctx.now)
        except ZtmcpError as exc:
            return Verdict(
                Action.DENY,
                self.name,
                "access.store",
                f"grant store unavailable: {exc.message[:200]}",
                Severity.HIGH,
                hint="ask the user: ztmcp's grant store needs their attention",
            )
        arguments = msg.params.get("arguments")
        args = arguments if isinstance(arguments, dict) else {}
        changed = outside = future = None
        for grant in grants:
            if grant.future(ctx.now):  # fail closed: the clock moved back since it was given
                future = grant
                continue
            if grant.digest is not None and grant.digest != digest:
                changed = grant
                continue
            if not grant.allows(args):
                outside = grant
                continue
            return Verdict(
                Action.FLAG,
                self.name,
                GRANTED,
                f"allowed by grant {grant.id} (expires in {max(0, int(grant.expires - ctx.now))}s)",
                Severity.LOW,
                evidence=f"grant.id={grant.id}",
            )
        if outside is not None:
            return deny(
                "access.outside_grant",
                f"the call is outside grant {outside.id} ({outside.constraint})",
            )
        if future is not None:
            return deny(
                "access.clock",
                f"grant {future.id} is dated {int(future.created - ctx.now)}s in the future "
                "(the system clock moved back?); it counts once the clock passes its start",
            )
        if changed is not None:
            return deny(
                "access.tool_changed",
                f"tool {tool[:80]!r} changed since grant {changed.id} was given; grant it again",
            )
        return deny(
            GRANT_REQUIRED,
            f"tool {tool[:80]!r} on server {server[:80]!r} needs a just-in-time grant",
        )


def _digest_of(definition: dict[str, Any]) -> str:
    from ztmcp.state.grants import tool_digest

    return tool_digest(definition)


def _read_only(definition: Mapping[str, Any] | None) -> bool:
    if definition is None:
        return False
    annotations = definition.get("annotations")
    if not isinstance(annotations, dict):
        return False
    read_only = annotations.get("readOnlyHint") is True
    return read_only and annotations.get("destructiveHint") is not True
