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
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Final, Protocol

from ztmcp.checks.base import Action, Context, Severity, Verdict
from ztmcp.errors import PolicyError, ZtmcpError
from ztmcp.jsonrpc import Direction, Kind, Message

if TYPE_CHECKING:
    from ztmcp.state.grants import Grant

ALLOW: Final = "allow"
GRANT: Final = "grant"
DENY: Final = "deny"
ASK: Final = "ask"
ANNOTATIONS: Final = "annotations"
RULE_ACTIONS: Final = (ALLOW, GRANT, DENY, ASK)
DEFAULTS: Final = (ALLOW, GRANT, ASK, ANNOTATIONS)
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
    action: str

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


class AccessCheck:
    name = "access"
    KEYS: Final = frozenset({"default", "rule", "hold_seconds"})
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
    def from_table(
        cls, table: Mapping[str, Any], origin: str, grants: GrantSource | None = None
    ) -> AccessCheck:
        default = table.get("default", ALLOW)
        if default not in DEFAULTS:
            raise PolicyError(
                f"{origin}: [access] default must be one of {', '.join(DEFAULTS)}, got {default!r}",
                hint='default = "allow" forwards every tool the rules do not name',
            )
        hold = table.get("hold_seconds", HOLD_SECONDS)
        if (
            isinstance(hold, bool)
            or not isinstance(hold, int | float)
            or not 0 <= hold <= MAX_HOLD_SECONDS
        ):
            raise PolicyError(
                f"{origin}: [access] hold_seconds must be a number from 0 to "
                f"{MAX_HOLD_SECONDS:g}, got {hold!r}",
                hint="hold_seconds = 60 holds an ungranted call a minute while a TUI is "
                "attached; 0 never holds",
            )
        raw_rules = table.get("rule", [])
        if not isinstance(raw_rules, list):
            raise PolicyError(
                f"{origin}: [access] rule must be a list of tables",
                hint='write each as [[access.rule]] with tool = "…" and action = "…"',
            )
        rules: list[Rule] = []
        for number, raw in enumerate(raw_rules, start=1):
            where = f"[[access.rule]] #{number}"
            if not isinstance(raw, dict):
                raise PolicyError(f"{origin}: {where} must be a table")
            extra = sorted(set(raw) - RULE_KEYS)
            if extra:
                raise PolicyError(
                    f"{origin}: unknown key {extra[0]!r} in {where}",
                    hint=f"valid keys there: {', '.join(sorted(RULE_KEYS))}",
                )
            server, tool, action = raw.get("server", "*"), raw.get("tool"), raw.get("action")
            if not isinstance(server, str) or not server:
                raise PolicyError(f"{origin}: {where} server must be a name or glob")
            if not isinstance(tool, str) or not tool:
                raise PolicyError(
                    f"{origin}: {where} needs tool = a name or glob",
                    hint='for example: tool = "write_*"',
                )
            if action not in RULE_ACTIONS:
                raise PolicyError(
                    f"{origin}: {where} action must be one of {', '.join(RULE_ACTIONS)}, "
                    f"got {action!r}",
                    hint='for example: action = "grant"',
                )
            rules.append(Rule(server, tool, action))
        check = cls(rules, default, grants, float(hold))
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
