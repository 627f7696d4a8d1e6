"""The edge side of pins in ``ztmcp run``: everything that reads or writes state for ``pins``.

The ``pins`` check is pure. This module does, around one session:

- at start, for a signed pin (``source = "sigstore"``), verify its bundle again, offline,
  against the recorded identity and issuer (``lockfile.verify_signature``; a success is
  remembered by the hash of every input, ``state.verified``, so an unchanged pin skips the
  sigstore import on the next start), on a thread while
  the handshake goes on (the check's first listing or call waits for it: ``PinsCheck.hold``);
  on any failure the check is told to withhold the server's items (fail closed) and a one-line
  notice is printed;
- at start, for a lock pin that names its manifest file (``ztmcp.manifests/NAME.json``), read
  the pinned server fields (name, version, instructions) and hand them to the check
  (``PinsCheck.know_server``), so a drifted ``initialize``/``server/discover`` result is
  reported field by field and a version-only change keeps the reviewed instructions; a missing,
  unreadable or stale file is no error (the check then withholds changed instructions anyway);
- at start, for a server absent from the lock under ``[pins] mode = "tofu"``, look up its
  first-seen pin (``state.first_seen``) and hand it to the check; kinds never learned stay in
  learning;
- on a handshake answer of a server still learning (the same hook), learn its server fields
  (name, version, instructions), enforced by the ``pins`` check from the next start;
- on every complete listing (the edge's ``listed``, all pages), learn first-seen
  items of the kinds still in learning and hand the grown pin to the check, and, when the
  ``pins`` check withheld something, store the observed manifest (``state.observed``) for
  ``ztmcp diff --observed`` and the TUI.

Record or refuse, never skip: a listing the edge cannot record whole (a name listed again on a
later page of the same listing, which a repeated cursor produces; more than ``MAX_PAGES`` pages
or ``MAX_ITEMS`` items) or a state failure while learning or recording makes the check refuse
the server from then on (``PinsCheck.refuse``: every item withheld, every call denied, rule
``pins.unrecorded``) with a one-line notice; a state failure at start is an error. Items no pin
can hold (``manifest.item_digest`` raises: an integer beyond ±(2**53-1)) are withheld by the
check and left out of what is learned, by the same function.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ztmcp.errors import PinError, ZtmcpError

MAX_PAGES = 1000  # pages in one listing (as ``manifest.all_pages``): past it the server is refused
MAX_ITEMS = 100_000  # items in one listing, all pages: past it the server is refused

if TYPE_CHECKING:
    from ztmcp.checks.base import Verdict
    from ztmcp.checks.pins import PinsCheck
    from ztmcp.jsonrpc import Message
    from ztmcp.manifest import Manifest
    from ztmcp.session import ListedPage, Session
    from ztmcp.state.first_seen import FirstSeenStore
    from ztmcp.state.observed import ObservedStore


def pin_command(name: str, url: str | None = None) -> str:
    """The command that pins this server for the project: its URL for an HTTP server
    (``ztmcp proxy``), its launch command for a stdio one (``ztmcp run``)."""
    from ztmcp.terminal import safe

    if url is not None:
        return f"ztmcp pin {safe(name)} {safe(url)}"
    return f"ztmcp pin {safe(name)} -- CMD…"


class PinEdge:
    """Start-up verification, TOFU learning and drift recording for one server's session."""

    def __init__(
        self,
        check: PinsCheck,
        server: str,
        argv_sha256: str,
        *,
        say: Callable[[str], None],
        first_seen: FirstSeenStore | None = None,
        observed: ObservedStore | None = None,
        clock: Callable[[], float] = time.time,
        url: str | None = None,
    ) -> None:
        self.check = check
        self.server = server
        self.argv_sha256 = argv_sha256
        self.url = url  # an HTTP server's URL (``ztmcp proxy``): the hints name it, not a CMD
        self._say = say
        self._first_seen = first_seen
        self._observed = observed  # opened at the first listing (``_store``)
        self._clock = clock
        self._pages: dict[str, list[dict[str, Any]]] = {}
        self._names: dict[str, set[str]] = {}  # kind -> folded names of the listing so far
        self._count: dict[str, int] = {}  # kind -> pages of the listing so far
        self._rules: dict[str, set[str]] = {}
        self._complete: dict[str, list[dict[str, Any]]] = {}
        self._learning: frozenset[str] = frozenset()
        self._warned: set[str] = set()
        self._server_fields: dict[str, Any] | None = None  # from the last handshake answer

    # -- start ----------------------------------------------------------------------------

    def start(self, *, background: bool = True) -> None:
        """Verify a signed pin (on a thread), or load a first-seen one; at most one line."""
        from ztmcp.manifest import KINDS, SERVER_KIND

        check, name = self.check, self.server
        if check.mode == "off":
            return
        pin = check.lock.get(name)
        if pin is not None:
            self._know_server(pin)
            if pin.signed and background:
                ready = threading.Event()
                check.hold(name, ready)

                def verify() -> None:
                    try:
                        self._verify(pin)
                    finally:
                        ready.set()

                threading.Thread(target=verify, name="ztmcp-verify-pin", daemon=True).start()
            elif pin.signed:
                self._verify(pin)
            return
        if check.mode != "tofu":
            return
        from ztmcp.state.first_seen import FirstSeenStore

        if self._first_seen is None:
            self._first_seen = FirstSeenStore()
        known = self._first_seen.get(name, self.argv_sha256)  # a StateError stops the run
        learnable = frozenset(KINDS) | {SERVER_KIND}
        self._learning = learnable - (known.kinds if known else frozenset())
        if known is None:
            self._say(
                f"server {name!r} is not pinned in {check.lock.path}: trusting it on first use "
                f"(enforced from its next start); pin it for the project with "
                f"`{pin_command(name, self.url)}`"
            )
            return
        check.adopt(known.pin(), learning=self._learning)
        fields = known.server_fields()
        if fields is not None:
            check.know_server(name, fields)  # so drift is named field by field
        seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(known.first_seen))
        self._say(
            f"server {name!r}: enforcing the tools first seen on {seen} (trust on first use); "
            f"pin it for the project with `{pin_command(name, self.url)}`"
        )

    def _know_server(self, pin: Any) -> None:
        """Hand the check the pinned server fields from the pin's manifest file, if readable."""
        import json

        from ztmcp.documents import read_file
        from ztmcp.lockfile import beside

        if pin.manifest is None:
            return
        try:
            data = json.loads(read_file(beside(self.check.lock, pin.manifest)))
        except (OSError, ValueError, RecursionError):  # a FIFO or 10k-deep file: no fields
            return
        fields = data.get("server") if isinstance(data, dict) else None
        if isinstance(fields, dict):
            self.check.know_server(pin.name, fields)

    def _verify(self, pin: Any) -> None:
        from ztmcp.lockfile import signed_files, verify_signature

        try:
            files = signed_files(self.check.lock, pin)  # cheap: no sigstore
            key = self._memo_key(files, pin)
            if key is not None and self._memo_known(key):
                return
            verify_signature(self.check.lock, pin, offline=True)
            if key is not None:
                self._memo_remember(key, pin.name)
        except ZtmcpError as exc:
            reason = exc.message
        except Exception as exc:  # fail closed on anything unexpected, still one line
            reason = f"verification failed ({type(exc).__name__})"
        else:
            return
        self.check.refuse(pin.name, reason)
        self._say(
            f"signed pin of {pin.name!r} did not verify: {reason}; "
            "its tools and instructions are withheld"
        )

    @staticmethod
    def _memo_key(files: Any, pin: Any) -> str | None:
        from ztmcp.documents import read_file
        from ztmcp.state.verified import memo_key, production_root_id

        try:
            bundle = read_file(files.bundle)  # a FIFO swapped in after the checks never blocks
            root: str | bytes = (
                read_file(files.trust_config)
                if files.trust_config is not None
                else production_root_id()
            )
        except Exception:  # unreadable now: the full verification reports it
            return None
        return memo_key(files.manifest_bytes, bundle, root, pin.identity, pin.issuer)

    def _memo_known(self, key: str) -> bool:
        from ztmcp.state.verified import VerifiedMemo

        memo = VerifiedMemo()
        try:
            return memo.known(key)
        except ZtmcpError:
            return False  # a state problem only costs the full verification
        finally:
            memo.close()

    def _memo_remember(self, key: str, server: str) -> None:
        from ztmcp.state.verified import VerifiedMemo

        memo = VerifiedMemo()
        try:
            memo.remember(key, server, self._clock())
        except ZtmcpError:
            pass  # the next start verifies in full again
        finally:
            memo.close()

    # -- listings -------------------------------------------------------------------------

    def hold(self, session: Session, msg: Message, denial: Verdict) -> None:
        """Pins never hold a call: a pins denial stands."""
        return None

    def allowed(self, session: Session, verdicts: Sequence[Verdict], now: float) -> None:
        return None

    def listed(self, page: ListedPage) -> None:
        """A forwarded listing page or handshake answer (the Session's edge). Never raises."""
        from ztmcp.detectors.mcp import HANDSHAKES

        try:
            if page.kind in HANDSHAKES:
                self._handshake(page.kind, page.items[0] if page.items else {}, page.rules)
            else:
                self._listing(page)
        except ZtmcpError as exc:
            self._unrecorded(exc.message)
        except Exception as exc:  # a state bug must not take the relay down: it refuses
            self._unrecorded(f"{type(exc).__name__}: {exc}"[:200])

    def _listing(self, page: ListedPage) -> None:
        kind = page.kind
        if page.first or kind not in self._pages:
            self._pages[kind], self._rules[kind] = [], set()
            self._names[kind], self._count[kind] = set(), 0
        self._count[kind] += 1
        if self._count[kind] > MAX_PAGES:
            raise PinError(f"its {kind} listing has more than {MAX_PAGES} pages")
        names = self._names[kind]
        if len(names) + len(page.items) > MAX_ITEMS:
            raise PinError(f"its {kind} listing has more than {MAX_ITEMS} items")
        for item in page.items:
            folded = str(item.get("name")).casefold()
            if folded in names:
                raise PinError(
                    f"it listed {str(item.get('name'))[:60]!r} twice in one {kind} listing "
                    "(a repeated cursor?)"
                )
            names.add(folded)
        self._pages[kind].extend(page.items)
        self._rules[kind] |= page.rules
        if not page.last:
            return
        items = [i for i in self._pages.pop(kind) if _pinnable(kind, i)]
        rules = self._rules.pop(kind)
        self._complete[kind] = items
        if kind in self._learning and self._first_seen is not None:
            self._learn(kind, items)
        if any(rule.startswith("pins.") for rule in rules):
            self._record()

    def _handshake(self, method: str, result: Mapping[str, Any], rules: frozenset[str]) -> None:
        """Keep the server fields for the observed manifest; under TOFU, learn them the first
        time (enforced from the next start); record them when the check saw them drift."""
        from ztmcp.checks.pins import observed_server_fields
        from ztmcp.manifest import SERVER_KIND

        fields = observed_server_fields(method, result)
        self._server_fields = fields
        if SERVER_KIND in self._learning and self._first_seen is not None:
            learned = self._first_seen.learn_server(
                self.server, self.argv_sha256, fields, self._clock()
            )
            self.check.adopt(learned.pin(), learning=self._learning)
        if any(rule.startswith("pins.") for rule in rules):
            self._record()

    def _learn(self, kind: str, items: list[dict[str, Any]]) -> None:
        assert self._first_seen is not None
        learned = self._first_seen.learn(self.server, self.argv_sha256, kind, items, self._clock())
        self.check.adopt(learned.pin(), learning=self._learning)

    def observed_manifest(self) -> Manifest:
        from ztmcp.manifest import Manifest, server_args

        lists: Mapping[str, list[dict[str, Any]]] = self._complete
        return Manifest.from_lists(
            **server_args(self._server_fields or {}),
            tools=lists.get("tools", []),
            prompts=lists.get("prompts", []),
            resource_templates=lists.get("resourceTemplates", []),
        )

    def _record(self) -> None:
        from ztmcp.manifest import KINDS, SERVER_KIND

        kinds = [k for k in KINDS if k in self._complete]
        if self._server_fields is not None:
            kinds.append(SERVER_KIND)
        pin = self.check.pin_for(self.server)
        self._store().record(
            self.server, self.observed_manifest(), self._clock(), pin=pin, kinds=kinds
        )

    def _unrecorded(self, text: str) -> None:
        """Pin state that cannot be recorded stops the flow: the server is refused."""
        self.check.refuse(self.server, text, unrecorded=True)
        if text not in self._warned:
            self._warned.add(text)
            self._say(
                f"could not record pin state for {self.server!r}: {text}; "
                "its tools and instructions are withheld"
            )

    def _store(self) -> ObservedStore:
        if self._observed is None:
            from ztmcp.state.observed import ObservedStore  # not before the first listing

            self._observed = ObservedStore()
        return self._observed

    def close(self) -> None:
        if self._observed is not None:
            self._observed.close()
        if self._first_seen is not None:
            self._first_seen.close()


def _pinnable(kind: str, item: dict[str, Any]) -> bool:
    """Whether a pin can hold ``item`` (the ``pins`` check withholds the others, by the same
    function): it is learned and recorded, the others are not."""
    from ztmcp.manifest import item_digest

    try:
        item_digest(kind, item)
    except PinError:
        return False
    return True
