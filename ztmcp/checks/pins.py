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
- an ``initialize`` or ``server/discover`` result is compared with the lock pin's
  ``server_digest`` (``ztmcp.manifest.server_fields_digest`` of the server's name, version and
  instructions; in the 2026-07-28 era name and version are the result's ``_meta`` serverInfo
  stamp). On a mismatch the result is REWRITTEN without ``instructions`` (the model must not
  read unreviewed instructions), rule ``pins.server_drift``, digests as evidence. With the
  pinned server fields at hand (``know_server``: the edge reads them from the pin's manifest
  file) the verdict names the changed fields, and a change of name or version alone is only
  FLAGGED: the instructions are then exactly the reviewed ones. First-seen pins do not hold the
  server fields, so only lock pins are compared.
- ``notifications/tools/list_changed`` passes; the next list response is checked like any
  other, so a server that announces a change right after start cannot race the check.

A server missing from the lock: mode ``strict`` withholds every item and denies every call;
mode ``tofu`` trusts it on first use. The check never writes state: the edge (``ztmcp run``)
looks up a first-seen pin in the user state and hands it over with ``adopt``, or, on first
sight, records what the server listed and adopts that as a *learning* pin: for the rest of that
first session, items the pin does not hold yet pass (a server may register tools after start and
announce them with ``notifications/tools/list_changed``: no race) while a changed definition of a
first-seen item is withheld. From the second session on, the pin is enforced like a lock pin,
server fields included: the first session's handshake is learned as the kind ``"server"``.
Mode ``off`` disables the check.

A signed pin is verified again at start by the edge, in the background (importing sigstore
takes longer than the server's handshake); the edge hands the check an event with ``hold``, and
the first listing or call of that server waits for it (at most ``VERIFY_WAIT`` seconds).
A signed pin that does not verify is handed over with ``refuse``: every item of that server is
withheld, its handshake is forwarded without its instructions, and every call is denied (fail
closed), with the reason. The handshake response waits for the verification too, so a client
starting against a changed lock gets its ``initialize`` answer only once the signature is
checked (seconds on the first start; restarts reuse the remembered result).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Final

from ztmcp.checks.base import Action, Context, IdentityMemo, Severity, Verdict
from ztmcp.checks.config import Configurable
from ztmcp.checks.poisoning import safe_name
from ztmcp.detectors.mcp import HANDSHAKES
from ztmcp.errors import PinError
from ztmcp.jsonrpc import Direction, Kind, Message
from ztmcp.lockfile import Lockfile, Pin
from ztmcp.manifest import (
    NOUNS,
    SERVER_KIND,
    item_digest,
    server_fields,
    server_fields_digest,
)


class PinMode(StrEnum):
    TOFU = "tofu"  # an unpinned server is pinned on first use (ztmcp.pinning)
    STRICT = "strict"  # an unpinned server gets nothing through
    OFF = "off"  # the check is off


MODES: Final = tuple(PinMode)  # the first is the default
VERIFY_WAIT: Final = 30.0  # seconds a listing or call waits for the signed pin's verification
_LISTS: Final[Mapping[str, str]] = {
    "tools/list": "tools",
    "prompts/list": "prompts",
    "resources/templates/list": "resourceTemplates",
}
# Where a 2026-07-28 server/discover result carries its identity (mcp_types.SERVER_INFO_META_KEY;
# the core does not import the SDK).
SERVER_INFO_META: Final = "io.modelcontextprotocol/serverInfo"


def observed_server_fields(method: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The server fields of an ``initialize`` or ``server/discover`` result, as the SDK client
    reads them for ``ztmcp manifest`` (``serverInfo``, or the ``_meta`` stamp, only when its
    name and version are strings; a malformed stamp reads as absent)."""
    info = result.get("serverInfo") if method == "initialize" else None
    if method == "server/discover":
        meta = result.get("_meta")
        info = meta.get(SERVER_INFO_META) if isinstance(meta, Mapping) else None
    name = version = None
    if isinstance(info, Mapping) and all(isinstance(info.get(k), str) for k in ("name", "version")):
        name, version = info["name"], info["version"]
    return server_fields(name, version, result.get("instructions"))


def _decides(msg: Message, ctx: Context) -> bool:
    """A frame the pin decides on: a listing or handshake response, or a call/get request."""
    if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE:
        return ctx.request is not None and (
            ctx.request.method in _LISTS or ctx.request.method in HANDSHAKES
        )
    return msg.kind is Kind.REQUEST and msg.method in ("tools/call", "prompts/get")


MAX_ITEMS: Final = 100_000  # items in one listing page: past it the page is refused


def _listing_kind(msg: Message, ctx: Context) -> str | None:
    """The kind of a listing response (``tools`` …), or None for any other frame."""
    if msg.direction is not Direction.TO_CLIENT or msg.kind is not Kind.RESPONSE:
        return None
    if ctx.request is None or "error" in msg.body:
        return None
    return _LISTS.get(ctx.request.method or "")


def listing_problem(request: Message, msg: Message, kind: str) -> str | None:
    """Why a listing page cannot be pinned or learned as it is, or None.

    A page is pinned item by item by name, so it must be what a pin can record: a result
    object holding a list of objects, each with a non-empty string name, no two names alike
    (also under case folding: peers that match names case-insensitively would run another
    tool than the one pinned), and a string ``nextCursor`` other than the page's own cursor
    (a loop). Anything else is refused, never partly recorded.
    """
    result = msg.body.get("result")
    if not isinstance(result, Mapping):
        return "its result is not an object"
    items = result.get(kind)
    if not isinstance(items, list):
        return f"{kind!r} is not a list"
    if len(items) > MAX_ITEMS:
        return f"more than {MAX_ITEMS} items in one page"
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            return f"item {i} is not an object"
        name = item.get("name")
        if not isinstance(name, str) or not name:
            return f"item {i} has no name"
        folded = name.casefold()
        if folded in seen:
            return f"the name {safe_name(name)!r} is listed twice (or differing only in case)"
        seen.add(folded)
    cursor = result.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        return "nextCursor is not a string"
    if cursor is not None and cursor == request.params.get("cursor"):
        return "nextCursor repeats the page's own cursor (a loop)"
    return None


def _without_instructions(msg: Message, result: Mapping[str, Any]) -> dict[str, Any]:
    """The handshake answer as the client gets it when its instructions are withheld."""
    return {**msg.body, "result": {k: v for k, v in result.items() if k != "instructions"}}


def _plural(kind: str, n: int) -> str:
    noun = NOUNS[kind]
    return noun if n == 1 else noun + "s"


@dataclass(frozen=True, slots=True)
class PinsConfig:
    """``[pins]``: the mode, and the lock (relative: to the directory ztmcp runs in)."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"mode", "lockfile"})
    mode: PinMode = PinMode.TOFU
    lockfile: Path = Path("ztmcp.lock")


class PinsCheck(Configurable[PinsConfig]):
    name = "pins"

    def __init__(self, lock: Lockfile, mode: str = PinMode.TOFU) -> None:
        self.lock = lock
        self.mode = PinMode(mode)  # ValueError on anything else
        self._notice: str | None = None  # an unapproved lock, said once at start
        # Set by the edge only (``adopt``, ``refuse``); read by ``check``. Replacing a
        # reference is atomic, and the Session calls checks under its own lock.
        self._adopted: Mapping[str, Pin] = {}
        self._learning: Mapping[str, frozenset[str]] = {}  # server -> kinds still learning
        self._refused: Mapping[str, str] = {}
        self._unrecorded: frozenset[str] = frozenset()  # refused: state not recorded
        self._pending: Mapping[str, threading.Event] = {}
        self._server_fields: Mapping[str, Mapping[str, Any]] = {}  # server -> pinned fields
        self._digests: IdentityMemo[str] = IdentityMemo()  # listed tool -> its digest

    @classmethod
    def from_config(cls, config: PinsConfig) -> PinsCheck:
        """The check over the configured lock, read now; a lock no person approved pins
        nothing (``start_notice`` says so)."""
        from ztmcp import lockfile

        path = config.lockfile if config.lockfile.is_absolute() else Path.cwd() / config.lockfile
        if config.mode is PinMode.OFF:
            return cls(Lockfile(path), config.mode)
        lock, notice = lockfile.read_trusted(path)
        check = cls(lock, config.mode)
        check._notice = notice
        return check

    def start_notice(self, server: str) -> str | None:
        return self._notice

    def pin_for(self, server: str) -> Pin | None:
        """The lock's pin for ``server``, else a first-seen pin handed over by the edge."""
        return self.lock.get(server) or self._adopted.get(server)

    def adopt(self, pin: Pin, *, learning: frozenset[str] = frozenset()) -> None:
        """Enforce a first-seen (TOFU) pin from now on.

        ``learning``: the kinds ("tools", "prompts", "resourceTemplates", and ``SERVER_KIND``
        for the handshake's server fields) this session sees first; for those, items the pin does
        not hold yet pass (the edge learns them).
        """
        if self.lock.get(pin.name) is not None:
            return  # the project lock always wins
        self._adopted = {**self._adopted, pin.name: pin}
        self._learning = {**self._learning, pin.name: frozenset(learning)}

    def know_server(self, server: str, fields: Mapping[str, Any]) -> bool:
        """The pin's server fields (its manifest file, or the first-seen pin), to name what
        drifted.

        Ignored (False) unless they add up to the pin's ``server_digest``: a stale or edited
        file must not decide which field changed.
        """
        pin = self.pin_for(server)
        known = server_fields(fields.get("name"), fields.get("version"), fields.get("instructions"))
        try:
            if pin is None or server_fields_digest(known) != pin.server_digest:
                return False
        except PinError:  # not canonicalisable (a NaN in a hand-edited file)
            return False
        self._server_fields = {**self._server_fields, server: known}
        return True

    def _learns(self, server: str, kind: str) -> bool:
        return kind in self._learning.get(server, ())

    def hold(self, server: str, ready: threading.Event) -> None:
        """Make ``server``'s listings and calls wait until ``ready`` (its signature check)."""
        self._pending = {**self._pending, server: ready}

    def _wait(self, server: str) -> None:
        ready = self._pending.get(server)
        if ready is None:
            return
        if not ready.wait(VERIFY_WAIT):
            self.refuse(server, f"its signature check did not finish within {VERIFY_WAIT:g}s")
        self._pending = {k: v for k, v in self._pending.items() if k != server}

    def refuse(self, server: str, reason: str, *, unrecorded: bool = False) -> None:
        """Withhold everything of ``server``: its signed pin did not verify at start, or
        (``unrecorded``) the edge could not record its first-seen pin or observed drift."""
        self._refused = {**self._refused, server: reason}
        if unrecorded:
            self._unrecorded = self._unrecorded | {server}

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        if self.mode is PinMode.OFF:
            return None
        if self._pending and ctx.server in self._pending and _decides(msg, ctx):
            self._wait(ctx.server)
        refused = self._refused.get(ctx.server)
        if refused is not None:
            return self._refuse(msg, ctx, refused)
        pin = self.pin_for(ctx.server)
        listing = _listing_kind(msg, ctx)
        if listing is not None:
            assert ctx.request is not None
            refused = listing_problem(ctx.request, msg, listing)
            if refused is not None:
                return self._malformed(listing, refused, ctx.server)
            digests = self._item_digests(listing, msg.body["result"][listing])
            if pin is None and self.mode is PinMode.TOFU:
                return self._uncanonical(msg, listing, digests)
            learning = self._learns(ctx.server, listing)
            return self._list(msg, listing, pin, ctx.server, learning, digests)
        if pin is None and self.mode is PinMode.TOFU:
            return None
        if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE:
            method = ctx.request.method if ctx.request is not None else None
            learns_server = self._learns(ctx.server, SERVER_KIND)  # first sight, under TOFU
            if method in HANDSHAKES and pin is not None and not learns_server:
                return self._server(msg, method, pin, ctx.server)
            return None
        if msg.direction is Direction.TO_SERVER and msg.kind is Kind.REQUEST:
            if msg.method == "tools/call":
                return self._call(msg.tool_name, pin, ctx)
            if msg.method == "prompts/get" and not self._learns(ctx.server, "prompts"):
                name = msg.params.get("name")
                if isinstance(name, str) and (pin is None or name not in pin.prompts):
                    return self._deny("prompt", name, "is not pinned", "pins.unpinned", ctx.server)
        return None

    def _refuse(self, msg: Message, ctx: Context, reason: str) -> Verdict | None:
        """What a server whose signed pin did not verify still gets through: nothing."""
        server = safe_name(ctx.server)
        failed = f"the signed pin of {server!r} did not verify"
        rule, hint = (
            "pins.unverified",
            ("a person must re-pin it from its signed release; ask the user"),
        )
        if ctx.server in self._unrecorded:
            failed = f"the pin state of {server!r} could not be recorded"
            rule, hint = "pins.unrecorded", "a person must read the notice on stderr and restart it"

        def unverified(what: str, replacement: dict[str, Any] | None = None) -> Verdict:
            return Verdict(
                Action.DENY if replacement is None else Action.REWRITE,
                self.name,
                rule,
                what,
                Severity.HIGH,
                replacement=replacement,
                evidence=reason[:4000],
                hint=hint,
            )

        if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE:
            method = ctx.request.method if ctx.request is not None else None
            result = msg.body.get("result")
            if method is None or not isinstance(result, Mapping):
                return None
            if method in HANDSHAKES:
                # The server's instructions go into the model's context: withheld like its items.
                if "instructions" not in result:
                    return None
                return unverified(
                    f"withheld the instructions of {server!r}: {failed}",
                    _without_instructions(msg, result),
                )
            kind = _LISTS.get(method)
            if kind is None or not isinstance(result.get(kind), list) or not result[kind]:
                return None
            emptied = {**msg.body, "result": {**result, kind: []}}
            return unverified(f"withheld every {NOUNS[kind]}: {failed}", emptied)
        if (
            msg.direction is Direction.TO_SERVER
            and msg.kind is Kind.REQUEST
            and msg.method in ("tools/call", "prompts/get")
        ):
            return unverified(failed)
        return None

    # -- lists --------------------------------------------------------------------------

    def _item_digests(self, kind: str, items: list[Any]) -> list[str | None]:
        """Each listed item's digest, None for an item no pin can hold (an integer beyond
        ±(2**53-1), a NaN): such an item is withheld, never silently left unpinned."""
        out: list[str | None] = []
        for item in items:
            try:
                out.append(self._digests.get(item, functools.partial(item_digest, kind, item)))
            except PinError:
                out.append(None)
        return out

    def _malformed(self, kind: str, problem: str, server: str) -> Verdict:
        return Verdict(
            Action.DENY,
            self.name,
            "pins.listing",
            f"the server's {NOUNS[kind]} listing cannot be pinned: {problem}",
            Severity.HIGH,
            hint=f"the server {safe_name(server)!r} sends a malformed listing: report it",
        )

    def _uncanonical(self, msg: Message, kind: str, digests: list[str | None]) -> Verdict | None:
        """Unpinned under TOFU: the listing passes, less the items no pin could record."""
        if None not in digests:
            return None
        result = msg.body["result"]
        items = result[kind]
        names = [safe_name(i["name"]) for i, d in zip(items, digests, strict=True) if d is None]
        kept = [i for i, d in zip(items, digests, strict=True) if d is not None]
        return Verdict(
            Action.REWRITE,
            self.name,
            "pins.uncanonical",
            f"withheld {len(names)} {_plural(kind, len(names))} ({', '.join(names[:10])}) "
            "that no pin can hold (a number outside the canonical JSON range)",
            Severity.HIGH,
            replacement={**msg.body, "result": {**result, kind: kept}},
            hint="the server's schema holds an integer beyond ±(2**53-1): report it",
        )

    def _list(
        self,
        msg: Message,
        kind: str,
        pin: Pin | None,
        server: str,
        learning: bool,
        digests: list[str | None],
    ) -> Verdict | None:
        result = msg.body["result"]
        items = result[kind]
        pinned = pin.items(kind) if pin is not None else {}
        kept: list[Any] = []
        drifted: list[tuple[str, str, str]] = []
        unpinned: list[str] = []
        for item, observed in zip(items, digests, strict=True):
            name = item["name"]
            if observed is None:
                drifted.append((safe_name(name), "unrepresentable", pinned.get(name, "none")))
                continue
            if name not in pinned:
                if learning:
                    kept.append(item)  # first sight of this item, in the first session
                else:
                    unpinned.append(safe_name(name))
                continue
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
            hint=f"a person must review it (`ztmcp diff {safe_name(server)}`) and re-pin it",
        )

    # -- server fields ---------------------------------------------------------------------

    def _server(self, msg: Message, method: str, pin: Pin, server: str) -> Verdict | None:
        result = msg.body.get("result")
        if not isinstance(result, Mapping):
            return None
        observed = observed_server_fields(method, result)
        try:
            digest = server_fields_digest(observed)
        except PinError:  # a value no pin can hold (a NaN): drifted
            digest = "unrepresentable"
        if digest == pin.server_digest:
            return None
        # Which fields changed, when the pinned ones are known; else assume the instructions.
        pinned = self._server_fields.get(server)
        changed: list[str] | None = None
        if pinned is not None:
            changed = sorted(k for k in {*observed, *pinned} if observed.get(k) != pinned.get(k))
        instructions = changed is None or "instructions" in changed
        evidence = f"observed {digest} pinned {pin.server_digest}"
        if changed:
            evidence = f"changed {', '.join(changed)}; {evidence}"
        name = safe_name(server)
        hint = f"a person must review the change (`ztmcp diff {name}`) and re-pin it"
        what = ", ".join(changed) if changed else "name, version or instructions"
        reason = f"server {name!r} changed since it was pinned ({what})"
        if not instructions or "instructions" not in result:
            # Name or version alone (the instructions are the reviewed ones), or nothing to
            # withhold: recorded, forwarded unchanged.
            return Verdict(
                Action.FLAG,
                self.name,
                "pins.server_drift",
                reason,
                Severity.HIGH if instructions else Severity.MEDIUM,
                evidence=evidence,
                hint=hint,
            )
        body = _without_instructions(msg, result)
        return Verdict(
            Action.REWRITE,
            self.name,
            "pins.server_drift",
            reason + ": its instructions are withheld",
            Severity.HIGH,
            replacement=body,
            evidence=evidence,
            hint=hint,
        )

    # -- calls --------------------------------------------------------------------------

    def _call(self, name: str | None, pin: Pin | None, ctx: Context) -> Verdict | None:
        if name is None:
            return None
        if pin is None or name not in pin.tools:
            if self._learns(ctx.server, "tools"):
                return None  # first sight of this server's tools: the listing decides
            return self._deny("tool", name, "is not pinned", "pins.unpinned", ctx.server)
        listed = ctx.extra.get("tools", {}).get(name)
        if isinstance(listed, Mapping):
            observed = self._digests.get(listed, lambda: item_digest("tools", listed))
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
            hint=f"a person must review it (`ztmcp diff {safe_name(server)}`) and pin it",
        )
