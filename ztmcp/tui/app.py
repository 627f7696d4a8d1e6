"""The Textual app: traffic, the approval queue, grants with a countdown, servers and pins.

One timer drives everything (``tick``): it reads what the audit logs gained since the last
tick (on the UI thread: an incremental read of appended bytes), and hands the database work
(heartbeat, grants, pending approvals) to one worker thread, so a locked database delays a
table update, never a key press. Tables are updated in place. The clock is injected
(``clock``) so tests and snapshots run against a frozen or stepped time; with
``interval=None`` there is no timer and a test calls ``tick()`` and awaits ``settle()``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from ztmcp import lockfile
from ztmcp.durations import format_duration
from ztmcp.errors import ZtmcpError
from ztmcp.state import paths
from ztmcp.state.approvals import Approval
from ztmcp.state.baselines import Baseline, Key
from ztmcp.state.first_seen import FirstSeen
from ztmcp.state.grants import Grant, db_path
from ztmcp.state.observed import Observed
from ztmcp.terminal import safe, safe_lines
from ztmcp.tui.drift import PinnedManifests, drift_view, status
from ztmcp.tui.screens import HelpScreen
from ztmcp.tui.state import Snapshot, StateView
from ztmcp.tui.timeline import TimelinePane
from ztmcp.tui.traffic import TrafficView
from ztmcp.tui.watcher import (
    CAP,
    AuditTail,
    Entry,
    Recent,
    ServerSeen,
    countdown,
    findings,
    observe_servers,
    pretty,
    stamp,
    traffic_row,
)

HEARTBEAT_EVERY: Final = 1.0
GRANT_TIMES: Final = (300.0, 900.0, 3600.0)  # keys 1, 2, 3
OBSERVED_EVERY: Final = 2.0  # seconds between reads of the observed manifests
Cells = tuple[str, ...]


def _cells(values: Iterable[str]) -> list[Text]:
    """Plain text cells: audit fields come from servers and must never be read as markup."""
    return [Text(safe(v), no_wrap=True, overflow="ellipsis") for v in values]


def _sync(table: DataTable[Any], rows: Sequence[tuple[str, Cells]]) -> None:
    """Make ``table`` show ``rows`` (key, cells), updating in place when the keys are unchanged
    and keeping the selected row selected when they are not."""
    keys = [key for key, _ in rows]
    current = [str(k.value) for k in table.rows]
    if keys == current:
        columns = list(table.columns)
        for key, cells in rows:
            old = table.get_row(key)
            for column, value, before in zip(columns, cells, old, strict=True):
                if str(before) != safe(value):
                    table.update_cell(key, column, Text(safe(value), no_wrap=True))
        return
    selected = _selected(table)
    table.clear()
    for key, cells in rows:
        table.add_row(*_cells(cells), key=key)
    if selected in keys:
        table.move_cursor(row=keys.index(selected))


def _selected(table: DataTable[Any]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    except Exception:
        return None
    return None if row_key.value is None else str(row_key.value)


def _limit(grant: Grant) -> str:
    """The grant's argument constraint and sliding renewal, if any."""
    parts = [grant.constraint] if grant.constraint else []
    if grant.renew is not None:
        parts.append(f"slides {format_duration(int(grant.renew))}")
    return ", ".join(parts) or "-"


NO_HELD: Final = (
    "No call is held. While this app runs, a call the access policy asks about (a grant tool "
    "without a grant, or an ask tool) waits here for you."
)


def agent_of(approval: Approval) -> str:
    """The agent that made the call: ``ZTMCP_AGENT`` if it set one, else its client name."""
    detail = approval.detail
    agent = detail.get("agent") or detail.get("client") or "-"
    return str(agent)


def approval_text(approval: Approval, now: float, keys: str) -> Text:
    """A held call as a person judges it: what, where, who, why, with which arguments
    (secrets already masked by the proxy), and the choices. Every value is escaped."""
    detail = approval.detail
    text = Text()
    text.append(safe(approval.tool), style="bold")
    text.append(" on server ")
    text.append(safe(approval.server), style="bold")
    agent, client = str(detail.get("agent") or ""), str(detail.get("client") or "")
    if agent or client:
        text.append("\nagent: ")
        text.append(safe(agent or client), style="bold")
        if agent and client:
            text.append(f" (client {safe(client)})")
    reason = str(detail.get("reason") or "the access policy needs a person's approval")
    text.append("\nwhy held: ", style="bold")
    text.append(safe(reason))
    description = str(detail.get("description") or "")
    text.append("\ntool says: ", style="bold")
    text.append(safe(description) if description else "(no description listed)")
    masked = detail.get("masked")
    head = "arguments"
    if isinstance(masked, int) and masked:
        head += f" ({masked} secret{'' if masked == 1 else 's'} masked)"
    text.append(f"\n{head}:\n", style="bold")
    arguments = str(detail.get("arguments") or "(not recorded)")
    for line in arguments.splitlines():
        text.append(f"  {safe(line)}\n")
    left = countdown(approval.deadline, now)
    text.append(f"held {countdown(now, approval.requested) if now > approval.requested else '0s'}")
    text.append(f", refused in {left} unless you decide")
    text.append(f" · tool sha256 {(approval.digest or 'not listed')[:12]}", style="dim")
    text.append("\n")
    text.append(keys, style="bold")
    if approval.ask:
        text.append(" (policy asks about every call: no grant)", style="dim")
    return text


class ZtmcpApp(App[None]):
    """``ztmcp tui``. Construct with ``make_app`` (it resolves the default paths)."""

    CSS_PATH = "ztmcp.tcss"
    TITLE = "ztmcp"
    SUB_TITLE = "live MCP traffic and just-in-time access"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "show_tab('traffic')", "Traffic"),
        Binding("a", "show_tab('approvals')", "Approvals"),
        Binding("g", "show_tab('grants')", "Grants"),
        Binding("s", "show_tab('servers')", "Servers"),
        Binding("l", "show_tab('timeline')", "Timeline", show=False),  # 80 columns: in ?
        Binding("o", "allow_once", "Once"),
        Binding("1", "grant(0)", "Grant"),
        Binding("2", "grant(1)", "Grant", show=False),
        Binding("3", "grant(2)", "Grant", show=False),
        Binding("d", "deny", "Deny"),
        Binding("r", "revoke", "Revoke"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        *,
        audit_dir: Path,
        db: Path,
        lock_path: Path | None,
        since: float | None = None,
        clock: Callable[[], float] = time.time,
        interval: float | None = 0.5,
        heartbeat: bool = True,
        cap: int = CAP,
        who: str | None = None,
        grant_times: tuple[float, float, float] = GRANT_TIMES,
        desktop: bool = False,
        revoke_on_anomaly: bool = False,
    ) -> None:
        super().__init__()
        # An anomaly judged live revokes the live grants on its agent's servers (item 5).
        self.revoke_on_anomaly = revoke_on_anomaly
        self.desktop = desktop  # also a desktop notification per held call (notify-send)
        self.grant_times = grant_times
        self.clock = clock
        self.interval = interval
        self.heartbeat = heartbeat
        self.lock_path = lock_path
        self.tail = AuditTail(audit_dir, since=since, cap=cap)
        self.recent = Recent(cap)
        self.state = StateView(db, clock=clock, who=who)
        self.seen: dict[str, ServerSeen] = {}
        self.snapshot = Snapshot()
        self.corrupt = 0  # unreadable audit lines seen
        self.last_corrupt = ""
        self.read_errors: list[str] = []
        self.state_error: str | None = None
        self.lock_error: str | None = None
        self._lock: lockfile.Lockfile | None = None
        self._lock_mtime: float | None = None
        self._last_beat = float("-inf")
        self._last_observed = float("-inf")
        self.observed: dict[str, Observed] = {}
        self.first_seen: dict[str, FirstSeen] = {}  # pins `ztmcp run` took on first use
        self._manifests = PinnedManifests()
        self._announced: set[str] = set()
        self._servers_dirty = True
        self._state_busy = False
        self.ticks = 0
        # What each text panel and tab shows, and the bindings' inputs: a tick that would show
        # the same again repaints nothing, so the app idles between changes (countdowns move
        # once a second). Every redraw goes through _show_text, _show_label, _refresh_keys.
        self._texts: dict[str, Text] = {}
        self._tab_labels: dict[str, str] = {}
        self._keys_state: tuple[object, ...] | None = None

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with TabbedContent(initial="traffic"):
            with TabPane("Traffic", id="traffic"), Vertical():
                yield TrafficView(id="traffic-table", cap=self.recent.cap)
                with VerticalScroll(id="detail"):
                    yield Static(Text("Select a record to see it here."), id="detail-body")
            with TabPane("Approvals", id="approvals"), Vertical():
                yield DataTable(id="approvals-table", cursor_type="row")
                with VerticalScroll(id="approval"):
                    yield Static(Text(NO_HELD), id="approval-body")
            with TabPane("Grants", id="grants"), Vertical():
                yield DataTable(id="grants-table", cursor_type="row")
                yield Static(
                    Text("r: revoke the selected grant (honoured on the next call)"),
                    classes="hint",
                )
            with TabPane("Servers", id="servers"), Vertical():
                yield DataTable(id="servers-table", cursor_type="row")
                with VerticalScroll(id="drift"):
                    yield Static(Text(""), id="drift-body")
            with TabPane("Timeline", id="timeline"):
                yield TimelinePane(audit_dir=self.tail.directory, cap=self.recent.cap)
        yield Static(Text(""), id="status")
        yield Footer(show_command_palette=False, compact=True)  # fits 80 columns

    def on_mount(self) -> None:
        self._table("approvals").add_columns("id", "server", "tool", "agent", "held", "left")
        self._table("grants").add_columns(
            "id", "server", "tool", "left", "status", "limit", "who", "why"
        )
        self._table("servers").add_columns(
            "server", "pin", "source", "tools", "manifest", "sessions", "last seen", "pin findings"
        )
        self.traffic.focus()
        self.tick()
        if self.interval is not None:
            self.set_interval(self.interval, self.tick)

    def on_unmount(self) -> None:
        self.state.close()

    async def settle(self) -> None:
        """Wait for the state worker (tests: after ``tick`` or an action key)."""
        await self.workers.wait_for_complete()

    def _table(self, name: str) -> DataTable[Any]:
        # The main screen's widgets, also while a modal screen (help) is on top.
        return self._main.query_one(f"#{name}-table", DataTable)

    @property
    def traffic(self) -> TrafficView:
        return self._main.query_one("#traffic-table", TrafficView)

    @property
    def _main(self) -> Screen[Any]:
        return self.screen_stack[0]

    def _widget(self, selector: str) -> Static:
        return self._main.query_one(selector, Static)

    def _show_text(self, selector: str, text: Text) -> None:
        """Show ``text`` in the panel, unless it shows exactly that already."""
        if self._texts.get(selector) == text:  # rich's Text: same characters, same styles
            return
        self._texts[selector] = text
        self._widget(selector).update(text)

    def _show_label(self, tab: str, label: str) -> None:
        if self._tab_labels.get(tab) != label:
            self._tab_labels[tab] = label
            self._tabs.get_tab(tab).label = label

    def _refresh_keys(self) -> None:
        """Refresh the footer's keys when what ``check_action`` reads has changed."""
        if not self._main_ready():
            return
        held = self._selected_held()
        key = (
            self._tabs.active,
            None if held is None else (held.id, held.ask),
            self._selected_grant(),
        )
        if key != self._keys_state:
            self._keys_state = key
            self.refresh_bindings()

    @property
    def _tabs(self) -> TabbedContent:
        return self._main.query_one(TabbedContent)

    # -- the tick ------------------------------------------------------------------------

    def _main_ready(self) -> bool:
        """Whether the main screen is composed (a timer can fire while the app shuts down)."""
        return bool(self.screen_stack) and bool(self._main.query("#status"))

    def tick(self) -> None:
        """One poll of everything; cheap when nothing changed."""
        if not self._main_ready():
            return
        self.ticks += 1
        batch = self.tail.poll()
        if batch.entries:
            self._add_traffic(batch.entries)
            before = len(self.seen)
            observe_servers(self.seen, batch.entries)
            self._servers_dirty = (
                self._servers_dirty
                or len(self.seen) != before
                or any(
                    e.record.get("event") == "session.start" or e.record.get("verdicts")
                    for e in batch.entries
                )
            )
        if batch.corrupt:
            self.corrupt += len(batch.corrupt)
            self.last_corrupt = batch.corrupt[-1]
        self.read_errors = batch.errors or self.read_errors[-1:]
        self._reload_lock()
        if self._servers_dirty:
            self._servers_dirty = False
            self._show_servers()
        self._show_status()
        if not self._state_busy:
            now = self.clock()
            beat = self.heartbeat and now - self._last_beat >= HEARTBEAT_EVERY
            if beat:
                self._last_beat = now
            observed = now - self._last_observed >= OBSERVED_EVERY
            if observed:
                self._last_observed = now
            self._in_worker(lambda: None, beat=beat, observed=observed)

    def _in_worker(
        self, action: Callable[[], str | None], *, beat: bool = False, observed: bool = False
    ) -> None:
        """Run ``action`` (which may return a note to show) and then a state poll on the
        worker thread; show the outcome on the UI thread."""
        self._state_busy = True

        def job() -> None:
            note: str | None = None
            failure: str | None = None
            try:
                note = action()
            except ZtmcpError as exc:
                failure = exc.message
            except Exception as exc:  # a bug must not stop the updates: show it, go on
                failure = f"{type(exc).__name__}: {exc}"
            try:
                snap = self.state.poll(heartbeat=beat, observed=observed)
            except Exception as exc:
                snap = Snapshot(error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(RuntimeError):  # the app is shutting down
                self.call_from_thread(self._apply, snap, note, failure)

        self.run_worker(job, thread=True, group="state", exit_on_error=False)

    def _apply(self, snap: Snapshot, note: str | None, failure: str | None) -> None:
        self._state_busy = False
        if not self._main_ready():
            return
        self.snapshot = snap
        self.state_error = snap.error
        if snap.first_seen is not None:
            first = {f.server: f for f in snap.first_seen}  # one per server (argv aside)
            if {k: v.updated for k, v in first.items()} != {
                k: v.updated for k, v in self.first_seen.items()
            }:
                self.first_seen = first
                self._show_servers()
        if snap.observed is not None:
            latest = {o.server: o for o in snap.observed}
            if {k: v.observed_at for k, v in latest.items()} != {
                k: v.observed_at for k, v in self.observed.items()
            }:
                self.observed = latest
                self._show_servers()
        if note:
            self.notify(safe(note), markup=False)
        if failure:
            self.notify(safe(failure), title="Not done", severity="error", markup=False)
        self._show_state(self.clock())
        self._show_status()

    def _add_traffic(self, entries: list[Entry]) -> None:
        self.recent.add(entries)
        self.traffic.append(
            [(e.key, traffic_row(e.record)) for e in entries], stamps=[stamp(e) for e in entries]
        )
        self._main.query_one(TimelinePane).add(entries)

    def _show_state(self, now: float) -> None:
        snap = self.snapshot
        approvals = [
            (
                a.id,
                (
                    a.server,
                    a.tool,
                    agent_of(a),
                    countdown(now, a.requested) if now > a.requested else "0s",
                    countdown(a.deadline, now),
                ),
            )
            for a in snap.approvals
        ]
        _sync(self._table("approvals"), [(k, (k, *cells)) for k, cells in approvals])
        self._show_approval(now)
        grants = [
            (
                g.id,
                (
                    g.id,
                    g.server,
                    g.tool,
                    countdown(g.expires, now) if g.revoked is None else "-",
                    g.status(now),
                    _limit(g),
                    g.who,
                    g.why or "-",
                ),
            )
            for g in snap.grants
        ]
        _sync(self._table("grants"), grants)
        count = len(snap.approvals)
        self._show_label("approvals", f"Approvals ({count})" if count else "Approvals")
        live = sum(1 for g in snap.grants if g.live(now))
        self._show_label("grants", f"Grants ({live})" if live else "Grants")
        for approval in snap.approvals:
            if approval.id not in self._announced:
                self._announced.add(approval.id)
                if self.desktop:
                    from ztmcp.tui.desktop import notify

                    notify(approval)
                self.notify(
                    f"{safe(approval.server)} {safe(approval.tool)} is held: press a to see "
                    "it and decide",
                    title="Call held for approval",
                    severity="warning",
                    markup=False,
                )
        self._refresh_keys()

    def _show_approval(self, now: float) -> None:
        """The selected held call, as a person needs it to decide (``approval_text``)."""
        key = _selected(self._table("approvals"))
        chosen = next((a for a in self.snapshot.approvals if a.id == key), None)
        if chosen is None:
            self._show_text("#approval-body", Text(NO_HELD))
            return
        self._show_text("#approval-body", approval_text(chosen, now, self.keys_text(chosen)))

    def _reload_lock(self) -> None:
        if self.lock_path is None:
            return
        try:
            mtime: float | None = self.lock_path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime == self._lock_mtime and (self._lock is not None or mtime is None):
            return
        self._lock_mtime = mtime
        try:
            # An unapproved (cloned) lock pins nothing here either; the status line says why.
            self._lock, self.lock_error = lockfile.read_trusted(self.lock_path)
        except ZtmcpError as exc:
            self._lock = None
            self.lock_error = exc.message
        self._servers_dirty = True

    def _show_servers(self) -> None:
        pins = dict(self._lock.pins) if self._lock is not None else {}
        rows: list[tuple[str, Cells]] = []
        everyone = set(pins) | set(self.seen) | set(self.observed) | set(self.first_seen)
        for name in sorted(everyone):
            pin = pins.get(name)
            first = self.first_seen.get(name)
            if pin is None and first is not None:  # enforced by `ztmcp run`, not in the lock
                pin = first.pin()
            facts = self.seen.get(name, ServerSeen())
            state = status(pin, self.observed.get(name), facts.last_pin_rule == "pins.drift")
            if pin is None:
                source, tools, digest = "-", "-", "-"
            else:
                source, tools, digest = pin.source, str(len(pin.tools)), pin.digest[7:19]
            last = facts.last[11:19] if facts.last else "-"
            cells = (
                name,
                state,
                source,
                tools,
                digest,
                str(facts.sessions),
                last,
                str(facts.pin_findings),
            )
            rows.append((name, cells))
        _sync(self._table("servers"), rows)
        self._show_drift(_selected(self._table("servers")))

    def _show_drift(self, server: str | None) -> None:
        if server is None:
            where = self.lock_path or "ztmcp.lock"
            self._show_text(
                "#drift-body",
                Text(f"No servers yet: none pinned in {where}, none seen in the audit."),
            )
            return
        pin = self._lock.get(server) if self._lock is not None else None
        first = self.first_seen.get(server)
        if pin is None and first is not None:
            pin = first.pin()
        lock_dir = self.lock_path.parent if self.lock_path is not None else None
        text = Text()
        text.append(f"{safe(server)}: observed against pinned\n", style="bold")
        text.append(
            safe_lines(
                "\n".join(drift_view(pin, self.observed.get(server), lock_dir, self._manifests))
            )
        )
        facts = self.seen.get(server, ServerSeen())
        text.append(f"\n\npin findings in traffic: {facts.pin_findings}", style="bold")
        if facts.last_pin_rule:
            text.append(f"\nlatest: {safe(facts.last_pin_rule)}")
            for part in facts.last_pin_evidence.split("; "):
                if part:
                    text.append(f"\n  {safe(part)}")
        if pin is None or facts.pin_findings or server in self.observed:
            text.append(f"\n\nreview with `ztmcp diff {safe(server)}`, then pin with `ztmcp pin`")
        self._show_text("#drift-body", text)

    def _show_status(self) -> None:
        servers = len(self.seen)
        parts = [f"{len(self.recent)} records", f"{servers} server{'' if servers == 1 else 's'}"]
        if self.corrupt:
            parts.append(
                f"{self.corrupt} unreadable audit line(s), last {self.last_corrupt}: "
                "run `ztmcp audit verify`"
            )
        if self.read_errors:
            parts.append(self.read_errors[-1])
        if self.state_error:
            parts.append(f"state: {self.state_error}")
        if self.lock_error:
            parts.append(f"lock: {self.lock_error}")
        status = self._widget("#status")
        problem = bool(self.corrupt or self.state_error or self.lock_error)
        if status.has_class("problem") != problem:
            status.set_class(problem, "problem")
        self._show_text("#status", Text(safe(" · ".join(parts))))

    # -- events --------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self._main_ready():
            return
        table_id = event.data_table.id
        key = None if event.row_key.value is None else str(event.row_key.value)
        if table_id == "servers-table":
            self._show_drift(key)
        elif table_id == "grants-table":
            self._refresh_keys()
        elif table_id == "approvals-table":
            self._show_approval(self.clock())
            self._refresh_keys()

    def on_traffic_view_highlighted(self, event: TrafficView.Highlighted) -> None:
        if not self._main_ready():
            return
        record = self.recent.get(event.key)
        if record is not None:
            self._show_detail(record)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not self._main_ready():
            return
        if event.pane.id is not None:
            self._focus_tab(event.pane.id)
        self._refresh_keys()

    def _show_detail(self, record: dict[str, Any]) -> None:
        found = findings(record)
        text = Text()
        text.append("findings\n", style="bold")
        text.append(("\n".join(found) if found else "none") + "\n\n")
        text.append("record (the audit holds digests, not content)\n", style="bold")
        text.append(pretty(record))
        self._show_text("#detail-body", text)

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("grant", "deny", "allow_once", "revoke", "show_tab") and not (
            self._main_ready()
        ):
            return False
        if action in ("grant", "deny", "allow_once"):  # on the call the Approvals tab selects
            if self._tabs.active != "approvals":
                return False
            approval = self._selected_held()
            if approval is None:
                return False
            return not (action == "grant" and approval.ask)  # "ask": judged per call
        if action == "revoke":
            active = self._tabs.active == "grants"
            return active and self._selected_grant() is not None
        return True

    def action_show_tab(self, tab: str) -> None:
        self._tabs.active = tab
        self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        if tab == "traffic":
            self.traffic.focus()
        else:
            self._table(tab).focus()

    def keys_text(self, approval: Approval | None = None) -> str:
        """What the keys do to a held call, e.g. ``o: allow once · 1: 5m00s · 2: 15m00s ·
        3: 1h00m · d: deny``; an ``ask`` call has no grant keys."""
        times = [f"{n}: grant {format_duration(int(t))}" for n, t in enumerate(self.grant_times, 1)]
        if approval is not None and approval.ask:
            times = []
        return " · ".join(["o: allow once", *times, "d: deny"])

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.keys_text()))

    def _selected_held(self) -> Approval | None:
        """The held call under the cursor of the Approvals tab; never another one (a key acts
        on the call the screen shows, or on nothing)."""
        key = _selected(self._table("approvals"))
        return next((a for a in self.snapshot.approvals if a.id == key), None)

    def _selected_approval(self) -> str | None:
        held = self._selected_held()
        return None if held is None else held.id

    def _selected_grant(self) -> str | None:
        key = _selected(self._table("grants"))
        now = self.clock()
        for grant in self.snapshot.grants:
            if grant.id == key and grant.live(now):
                return key
        return None

    def action_grant(self, choice: int) -> None:
        approval_id = self._selected_approval()
        if approval_id is None or not 0 <= choice < len(self.grant_times):
            return
        seconds = self.grant_times[choice]

        def grant() -> str:
            given = self.state.grant(approval_id, seconds)
            left = countdown(given.expires, given.created)
            return f"granted {given.server} {given.tool} for {left} (grant {given.id})"

        self._in_worker(grant)

    def action_allow_once(self) -> None:
        approval_id = self._selected_approval()
        if approval_id is None:
            return

        def allow() -> str:
            allowed = self.state.allow_once(approval_id)
            return f"allowed {allowed.server} {allowed.tool} once (request {allowed.id})"

        self._in_worker(allow)

    def action_deny(self) -> None:
        approval_id = self._selected_approval()
        if approval_id is None:
            return

        def deny() -> str:
            denied = self.state.deny(approval_id)
            return f"denied {denied.server} {denied.tool} (request {denied.id})"

        self._in_worker(deny)

    def save_baselines(self, tools: Mapping[Key, Baseline], learned_at: float) -> None:
        """The baselines the Timeline learned, saved in state.db for the relay's anomaly
        judge, on the state worker (a failure is a notice)."""

        def save() -> None:
            self.state.save_baselines(tools, learned_at)

        self._in_worker(save)

    def respond(self, servers: set[str], why: dict[str, Any]) -> None:
        """Under ``revoke_on_anomaly``: revoke the live grants on ``servers`` (an agent's
        servers, after an anomaly of its), on the state worker; the outcome is a notice."""
        if not self.revoke_on_anomaly or not servers:
            return

        def revoke() -> str | None:
            revoked = self.state.revoke_servers(servers, why)
            if not revoked:
                return None
            names = ", ".join(sorted(f"{g.server} {g.tool}" for g in revoked))
            return f"anomaly ({why.get('anomaly.kind')}): revoked {len(revoked)} grant(s): {names}"

        self._in_worker(revoke)

    def action_revoke(self) -> None:
        grant_id = self._selected_grant()
        if grant_id is None:
            return

        def revoke() -> str:
            revoked = self.state.revoke(grant_id)
            if revoked is None:
                return f"grant {grant_id} was already revoked"
            return f"revoked {revoked.server} {revoked.tool} (grant {revoked.id})"

        self._in_worker(revoke)


def make_app(
    *,
    since: float | None = None,
    lock_path: Path | None = None,
    clock: Callable[[], float] = time.time,
    interval: float | None = 0.5,
    heartbeat: bool = True,
    cap: int = CAP,
    who: str | None = None,
    grant_times: tuple[float, float, float] = GRANT_TIMES,
    desktop: bool = False,
    revoke_on_anomaly: bool = False,
) -> ZtmcpApp:
    """The app over ``$ZTMCP_HOME`` (audit logs, state.db) and the project's ``ztmcp.lock``."""
    return ZtmcpApp(
        audit_dir=paths.audit_dir(),
        db=db_path(),
        lock_path=lock_path if lock_path is not None else Path.cwd() / lockfile.LOCK_FILE,
        since=since,
        clock=clock,
        interval=interval,
        heartbeat=heartbeat,
        cap=cap,
        who=who,
        grant_times=grant_times,
        desktop=desktop,
        revoke_on_anomaly=revoke_on_anomaly,
    )
