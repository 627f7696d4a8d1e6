"""The Timeline tab: one agent's LLM calls, MCP messages, egress and behaviour findings in order.

Ordering, ownership and linking are ``ztmcp.watch.timeline``'s (``LiveTimeline``, the
incremental form of ``timeline()`` that ``ztmcp audit show --agent`` prints): this module only
turns linked records into rows (``row``, pure) and shows them. The pane is fed by the same
audit tail as the Traffic tab (``TimelinePane.add`` with each poll's new entries); it keeps the
newest ``cap`` records in memory to open another agent's timeline without reading the log
again, and the selected agent's rows in a bounded view that follows the newest record.

Behaviour findings are highlighted, and one arriving live is also announced whichever tab is
open: anomalies (each call, result and egress attempt judged as it arrives against the
baselines learned from the audit history before the pane opened: ``anomalies``), the flow
check's verdicts on MCP records (``check = "flow"``: ``flow.trifecta``,
``flow.untrusted_value``, ``flow.private_to_unnamed``, ``flow.rate_limit``,
``flow.approval_required``) and the ``flow.revoke`` event its response writes.
"""

from __future__ import annotations

import enum
import json
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.strip import Strip
from textual.widgets import DataTable, Static

from ztmcp.documents import open_file
from ztmcp.outcomes import label
from ztmcp.sandbox.visible import EVENTS as EGRESS_EVENTS
from ztmcp.sandbox.visible import destination
from ztmcp.sandbox.visible import detail as egress_detail
from ztmcp.sandbox.visible import verdict as egress_verdict
from ztmcp.state.baselines import Detector, history, record_time
from ztmcp.terminal import safe
from ztmcp.tui.traffic import TrafficView
from ztmcp.tui.watcher import CAP, Entry, findings, pretty
from ztmcp.watch.timeline import AGENT_FIELD, LiveTimeline

COLUMNS: Final = ("time", "kind", "source", "what", "detail")
WIDTHS: Final = (12, 6, 14, 24)  # every column but the last (detail)
MIN_WIDTHS: Final = (8, 6, 8, 9)  # what each keeps on a narrow terminal
MIN_LAST: Final = 20
MAX_AGENTS: Final = 500  # names listed; more are counted, never listed past the bound
MAX_NOTICES: Final = 3  # live findings announced per poll (the rest as a count)
ANOMALY: Final = "anomaly"  # a record of the TUI's own: a call judged against the baselines
FLOW_EVENTS: Final = frozenset({"flow.revoke", "anomaly.revoke"})
HIDDEN: Final = frozenset({"ztmcp.link", "ztmcp.unprompted", "prev", "mac", "hash"})
START_BYTES: Final = 64 * 1024  # a session.start line is far smaller


class Tone(enum.Enum):
    """How a row reads: the style the view gives it."""

    PLAIN = "plain"
    DENIED = "denied"  # refused: a denied call, a refused egress, a refused model call
    WARNING = "warning"  # an unprompted MCP call, a flagged or rewritten one, LLM findings
    FINDING = "finding"  # a behaviour finding: the flow check, a run's grants revoked


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    cells: tuple[str, str, str, str, str]
    tone: Tone


def record_key(record: Mapping[str, Any]) -> str:
    """A record's place in the audit chain: session and sequence number."""
    key = f"{record.get('mcp.session.id', '?')}:{record.get('seq', '?')}"
    return f"{key}:{ANOMALY}" if record.get("event") == ANOMALY else key


def flow_verdicts(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    verdicts = record.get("verdicts")
    if not isinstance(verdicts, list):
        return []
    return [v for v in verdicts if isinstance(v, dict) and v.get("check") == "flow"]


def is_finding(record: Mapping[str, Any]) -> bool:
    """A behaviour finding: a flow verdict on a message, or the run's grants revoked."""
    event = record.get("event")
    return event == ANOMALY or event in FLOW_EVENTS or bool(flow_verdicts(record))


def anomalies(detector: Detector, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each ``tools/call`` request judged against the baselines learned from the audit
    history (``state.baselines.Detector``, the judge ``ztmcp baseline`` uses); an anomaly is a
    record of its own, in the call's place (same time, session and sequence number), so the
    timeline shows it next to the call. Never written to the audit log."""
    out: list[dict[str, Any]] = []
    for record in records:
        for found in detector.feed(record):  # calls, results and egress, in order
            out.append(
                {
                    "event": ANOMALY,
                    "ts": record.get("ts"),
                    "seq": record.get("seq"),
                    "mcp.session.id": record.get("mcp.session.id"),
                    **{k: record[k] for k in (AGENT_FIELD,) if k in record},
                    # a sandbox's egress is in a log of its own: its agent is the relay's
                    **(
                        {AGENT_FIELD: found.key[0]} if found.key[0] in detector.reader.named else {}
                    ),
                    "server": record.get("server"),
                    "gen_ai.tool.name": found.key[2],
                    "anomaly.kind": found.kind,
                    "reason": found.explanation,
                }
            )
    return out


def _time(record: Mapping[str, Any]) -> str:
    ts = str(record.get("ts", ""))
    return ts[11:23] if len(ts) >= 23 else ts


def _int(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"


def _llm(record: Mapping[str, Any]) -> tuple[tuple[str, str, str], Tone]:
    provider = str(record.get("gen_ai.provider.name") or "?")
    model = str(record.get("gen_ai.response.model") or record.get("gen_ai.request.model") or "?")
    parts = [f"#{_int(record.get('seq'))}"]
    tokens_in, tokens_out = (
        record.get("gen_ai.usage.input_tokens"),
        record.get("gen_ai.usage.output_tokens"),
    )
    if tokens_in is not None or tokens_out is not None:
        parts.append(f"{_int(tokens_in)}/{_int(tokens_out)} tok")
    calls = record.get("gen_ai.response.tool_calls")
    names = (
        [str(c.get("name")) for c in calls if isinstance(c, dict)]
        if isinstance(calls, list)
        else []
    )
    if names:
        parts.append("asks " + ", ".join(names))
    tone = Tone.PLAIN
    status = record.get("http.response.status_code")
    if record.get("ztmcp.action") == "deny" or record.get("error.type"):
        tone = Tone.DENIED
        parts.append(f"refused {record.get('error.type') or ''}".rstrip())
    elif isinstance(status, int) and status >= 400:
        tone = Tone.DENIED
        parts.append(f"HTTP {status}")
    found = record.get("ztmcp.findings")
    if isinstance(found, list) and found:
        tone = Tone.DENIED if tone is Tone.DENIED else Tone.WARNING
        parts.append("findings " + ",".join(map(str, found)))
    return (provider, model, " · ".join(parts)), tone


def _mcp(record: Mapping[str, Any]) -> tuple[str, tuple[str, str, str], Tone]:
    arrow = {"to_server": "→", "to_client": "←"}.get(str(record.get("direction")), "?")
    server = str(record.get("server") or "?")
    method = str(record.get("mcp.method.name") or record.get("kind") or "?")
    tool = record.get("gen_ai.tool.name")
    kind = f"{'call' if method == 'tools/call' and tool else 'mcp'}{arrow}"
    what = str(tool) if kind.startswith("call") else f"{method} {tool}" if tool else method
    outcome = label(record)
    parts: list[str] = []
    tone = Tone.PLAIN
    link = record.get("ztmcp.link")
    if record.get("ztmcp.unprompted"):
        parts.append("UNPROMPTED")
        tone = Tone.WARNING
    elif isinstance(link, dict):
        parts.append(f"← llm #{link.get('llm.seq')} {link.get('gen_ai.tool.call.id') or ''}")
    flows = flow_verdicts(record)
    verdicts = record.get("verdicts")
    first = flows[0] if flows else verdicts[0] if isinstance(verdicts, list) and verdicts else None
    if isinstance(first, dict):
        verdict = f"{outcome} {first.get('rule', '')}: {first.get('reason', '')}"
        parts.insert(0 if flows else len(parts), verdict)  # a finding first: narrow columns
    else:
        parts.append(outcome)
    if flows:
        tone = Tone.FINDING
    elif outcome.startswith(("denied", "dropped")):
        tone = Tone.DENIED
    elif outcome.startswith(("rewritten", "flagged")) and tone is Tone.PLAIN:
        tone = Tone.WARNING
    return kind, (server, what, " · ".join(parts)), tone


def row(record: Mapping[str, Any]) -> Row:
    """One linked timeline record as a row (every value through ``safe``). Total: a record
    that cannot be shown (a field of an unexpected type) is a row that says so."""
    try:
        return _row(record)
    except Exception as exc:
        cells = (_time(record), "?", "", str(record.get("event", "?"))[:80], "")
        why = f"cannot show this record ({type(exc).__name__}): see ztmcp audit show --json"
        return Row(record_key(record), (*(safe(c) for c in cells[:4]), why), Tone.DENIED)  # type: ignore[arg-type]


def _row(record: Mapping[str, Any]) -> Row:
    event = str(record.get("event", "?"))
    tone = Tone.PLAIN
    if event == "llm.call":
        kind = "llm"
        (source, what, detail), tone = _llm(record)
    elif event == "message":
        kind, (source, what, detail), tone = _mcp(record)
    elif event in EGRESS_EVENTS:
        kind, source, what = "egress", str(record.get("server") or "watch"), destination(record)
        verdict = egress_verdict(record)
        detail = " ".join(part for part in (verdict, egress_detail(record)) if part)
        tone = Tone.DENIED if verdict == "deny" else Tone.PLAIN
    elif event == ANOMALY:
        kind, source = "anom.", str(record.get("server") or "")
        what = str(record.get("gen_ai.tool.name") or "")
        detail = f"{record.get('anomaly.kind')}: {record.get('reason')}"
        tone = Tone.FINDING
    elif event in FLOW_EVENTS:
        granted = record.get("grant.ids")
        count = len(granted) if isinstance(granted, list) else 0
        kind, source, what = "flow", str(record.get("server") or ""), str(record.get("rule") or "")
        detail = f"the run's grants revoked: {count}"
        tone = Tone.FINDING
    else:
        kind, source, what = "·", str(record.get("server") or ""), event
        detail = str(record.get("reason") or record.get("mode") or "")
    cells = (_time(record), kind, source[:60], what[:80], detail[:200])
    return Row(record_key(record), tuple(safe(c) for c in cells), tone)  # type: ignore[arg-type]


def rows(records: Iterable[Mapping[str, Any]]) -> list[Row]:
    return [row(r) for r in records]


def first_record(path: Path) -> dict[str, Any] | None:
    """The first record of one audit log (its ``session.start``), or None when it cannot be
    read or is not a JSON object on one line within ``START_BYTES``."""
    try:
        with open_file(path) as handle:  # a FIFO put in its place would block the TUI
            head = handle.read(START_BYTES)
    except OSError:
        return None
    line, newline, _ = head.partition(b"\n")
    if not newline:
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nesting 1000+ deep
        return None
    return record if isinstance(record, dict) else None


# -- the view ------------------------------------------------------------------------------

_HEADER = Style(bold=True)
_CURSOR = Style(reverse=True)
STYLES: Final = {
    Tone.PLAIN: Style(),
    Tone.DENIED: Style(color="red"),
    Tone.WARNING: Style(color="yellow", bold=True),
    Tone.FINDING: Style(color="bright_white", bgcolor="dark_red", bold=True),
}


def widths_for(width: int) -> tuple[int, ...]:
    """Column widths leaving the detail at least ``MIN_LAST`` cells: the time gives up its
    milliseconds first, then the widest shrinkable column gives way, never below its
    ``MIN_WIDTHS``."""
    widths = list(WIDTHS)
    while sum(w + 2 for w in widths) + MIN_LAST + 2 > width:
        room = [i for i, w in enumerate(widths) if w > MIN_WIDTHS[i]]
        if not room:
            break
        widest = 0 if 0 in room else max(room, key=lambda i: widths[i] - MIN_WIDTHS[i])
        widths[widest] -= 1
    return tuple(widths)


def _strip(cells: Sequence[str], width: int, style: Style) -> Strip:
    widths = widths_for(width)
    parts = [
        " " + set_cell_size(value, size) + " " for value, size in zip(cells, widths, strict=False)
    ]
    rest = width - sum(w + 2 for w in widths)
    if len(cells) > len(widths) and rest > 2:
        parts.append(" " + set_cell_size(cells[len(widths)], rest - 2) + " ")
    return Strip([Segment(set_cell_size("".join(parts), width), style)], width)


class TimelineView(TrafficView):
    """The traffic view's bounded, line-rendered rows with the timeline's columns; a row's
    last cell is its ``Tone`` (not shown: it picks the style)."""

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        if y == 0:
            return _strip(COLUMNS, width, base + _HEADER)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, base)
        cells = self._rows[index][1]
        style = base + STYLES[Tone(cells[-1])]
        if index == self.cursor:
            style += _CURSOR if self.has_focus else Style(bold=True, underline=True)
        return _strip(cells[:-1], width, style)

    def show(self, shown: Iterable[Row], *, replace: bool = False) -> None:
        """Append rows (newest last), or ``replace`` them all, keeping the selected row."""
        items = [(r.key, (*r.cells, r.tone.value)) for r in shown]
        if not replace:
            self.append(items)
            return
        selected = self.selected
        follow = self.cursor < 0 or self.cursor >= len(self._rows) - 1
        self._rows.clear()
        self._stamps.clear()
        self.cursor = -1
        self.append(items)
        keys = [key for key, _ in items]
        if not follow and selected in keys:
            self._select(keys.index(selected))
        if not items:
            self.refresh()


# -- the pane ------------------------------------------------------------------------------

NO_AGENT: Final = (
    "No agent yet. Records name their agent when it runs under `ztmcp watch` (or a `ztmcp run` "
    "it started); its LLM calls, MCP messages, egress and flow findings show here in order."
)


class TimelinePane(Horizontal):
    """The agents seen (left) and the selected one's timeline, with the selected record."""

    def __init__(
        self, *, audit_dir: Path | None = None, cap: int = CAP, id: str | None = "timeline-pane"
    ) -> None:
        super().__init__(id=id)
        self.audit_dir = audit_dir
        self.cap = cap
        self._looked: OrderedDict[Any, None] = OrderedDict()  # sessions whose start was read
        self.records: deque[dict[str, Any]] = deque(maxlen=cap)  # to open another agent
        self.agents: set[str] = set()
        self.unlisted: set[str] = set()  # agents past MAX_AGENTS (as many again, counted)
        self._owner: OrderedDict[Any, str] = OrderedDict()  # session -> agent (bounded)
        self.live: LiveTimeline | None = None
        self.detector: Detector | None = None
        self.learned_until = 0.0  # records up to this time taught the detector

    def compose(self) -> ComposeResult:
        yield DataTable(id="timeline-table", cursor_type="row")
        with Vertical(id="timeline-main"):
            yield TimelineView(id="timeline-view", cap=self.cap)
            with VerticalScroll(id="timeline-detail"):
                yield Static(Text(NO_AGENT), id="timeline-body")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("agent")
        if self.audit_dir is not None:
            # The baselines learn from the audit history up to now (``--since`` shortens the
            # view, not what they need: days); every record newer than it is judged live.
            past = history(self.audit_dir, getattr(self.app, "clock", time.time)())
            self.learned_until = past[-1][0] if past else 0.0
            self.detector = Detector.from_history(r for _, r in past)
            save = getattr(self.app, "save_baselines", None)
            if save is not None and past:  # for the relay's judge (ztmcp.behaviour.anomaly)
                save(self.detector.learned.tools, self.learned_until)

    @property
    def view(self) -> TimelineView:
        return self.query_one(TimelineView)

    @property
    def agent(self) -> str | None:
        return None if self.live is None else self.live.agent

    def _agent_of(self, record: Mapping[str, Any]) -> str | None:
        name = record.get(AGENT_FIELD)
        if isinstance(name, str):
            return name
        return self._owner.get(record.get("mcp.session.id"))

    def add(self, entries: Sequence[Entry]) -> None:
        """A poll's new audit entries (in time order): new agents listed, the selected
        agent's timeline extended, behaviour findings announced."""
        if not entries:
            return
        batch = [*self._starts(entries), *(e.record for e in entries)]
        found: list[dict[str, Any]] = []
        if self.detector is None:  # no audit directory: the first poll is the history
            self.detector = Detector.from_history(batch)
            self.learned_until = max(
                (t for r in batch if (t := record_time(r)) is not None), default=0.0
            )
        else:  # what the history did not hold is judged
            found = anomalies(self.detector, [r for r in batch if self._newer(r)])
            batch.extend(found)
        self.records.extend(batch)
        before = len(self.agents) + len(self.unlisted)
        for record in batch:
            name, session = record.get(AGENT_FIELD), record.get("mcp.session.id")
            if not isinstance(name, str):
                continue
            if session is not None:
                self._owner[session] = name
                self._owner.move_to_end(session)
                while len(self._owner) > self.cap:
                    self._owner.popitem(last=False)
            if name in self.agents or name in self.unlisted:
                continue
            if len(self.agents) < MAX_AGENTS:
                self.agents.add(name)
            elif len(self.unlisted) < MAX_AGENTS:
                self.unlisted.add(name)
        if len(self.agents) + len(self.unlisted) != before:
            self._list_agents()
        if self.live is None:
            newest = next(
                (a for r in reversed(batch) if (a := self._agent_of(r)) in self.agents), None
            )
            if newest is not None:
                self.select(newest)
        else:
            update = self.live.add(batch)
            if update.relinked:
                self.view.show(rows(self.live.linked), replace=True)
            elif update.appended:
                self.view.show(rows(update.appended))
        # Announced: findings newer than the history the pane opened on (live ones).
        self._announce([r for r in batch if is_finding(r) and self._newer(r)])
        for anomaly in found:
            self._respond(anomaly)

    def _respond(self, anomaly: Mapping[str, Any]) -> None:
        """The run's grants go (``ztmcp tui --revoke-on-anomaly``): the live grants on every
        server the anomaly's agent called in the records held, and the anomaly's own."""
        agent = self._agent_of(anomaly)
        servers = {
            server
            for r in self.records
            if agent is not None  # an unnamed agent's run is its anomaly's server alone
            and r.get("event") == "message"
            and self._agent_of(r) == agent
            and isinstance(server := r.get("server"), str)
        }
        if isinstance(anomaly.get("server"), str):
            servers.add(anomaly["server"])
        why = {k: anomaly.get(k) for k in ("anomaly.kind", "reason", "server", "gen_ai.tool.name")}
        respond = getattr(self.app, "respond", None)
        if respond is not None:
            respond(servers, {**why, "rule": "anomaly", AGENT_FIELD: agent})

    def _newer(self, record: Mapping[str, Any]) -> bool:
        """Newer than the history the baselines learned (a record without a time: yes)."""
        at = record_time(record)
        return at is None or at > self.learned_until

    def _starts(self, entries: Sequence[Entry]) -> list[dict[str, Any]]:
        """The ``session.start`` records of sessions first seen without an agent's name on
        their records (the first poll keeps only the newest records: a long session's start
        may be older). A session's start names the agent that started it; it is its log's
        first line, read once per session (at most ``START_BYTES``)."""
        found: list[dict[str, Any]] = []
        named = {e.record.get("mcp.session.id") for e in entries if AGENT_FIELD in e.record}
        for entry in entries:
            session = entry.record.get("mcp.session.id")
            if (
                session is None
                or AGENT_FIELD in entry.record
                or session in self._owner
                or session in named
                or session in self._looked
            ):
                continue
            self._looked[session] = None
            while len(self._looked) > self.cap:
                self._looked.popitem(last=False)
            name, _, line = entry.key.rpartition(":")
            if self.audit_dir is None or line == "1" or "/" in name:
                continue
            start = first_record(self.audit_dir / name)
            if start is not None and start.get("mcp.session.id") == session:
                found.append(start)
        return found

    def select(self, agent: str) -> None:
        """Show ``agent``'s timeline, built from the records in memory, at its newest row."""
        if self.live is not None and self.live.agent == agent:
            return
        known = [session for session, name in self._owner.items() if name == agent]
        self.live = LiveTimeline(agent, self.records, cap=self.cap, sessions=known)
        self.view.cursor = -1
        self.view.show(rows(self.live.linked), replace=True)
        table = self.query_one(DataTable)
        names = [str(k.value) for k in table.rows]
        if agent in names and table.cursor_row != names.index(agent):
            table.move_cursor(row=names.index(agent))
        if not self.live.linked:
            self._detail(None)

    def _list_agents(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        names = sorted(self.agents)
        for name in names:
            table.add_row(Text(safe(name), no_wrap=True, overflow="ellipsis"), key=name)
        if self.unlisted:
            more = f"{len(self.unlisted)}{'+' if len(self.unlisted) >= MAX_AGENTS else ''}"
            table.add_row(Text(f"{more} more, not listed", style="dim"), key="\0more")
        if self.agent in names:
            table.move_cursor(row=names.index(self.agent))

    def _announce(self, found: list[dict[str, Any]]) -> None:
        for record in found[:MAX_NOTICES]:
            flows = flow_verdicts(record)
            rule = flows[0].get("rule") if flows else record.get("rule") or record.get("event")
            if record.get("event") == ANOMALY:
                rule = f"{record.get('anomaly.kind')} anomaly: {record.get('reason')}"
            where = record.get("server") or "?"
            who = self._agent_of(record) or "?"
            self.app.notify(
                f"{safe(rule)} on {safe(where)} (agent {safe(who)}): press l for its timeline",
                title="Behaviour finding",
                severity="warning",
                markup=False,
            )
        if len(found) > MAX_NOTICES:
            self.app.notify(
                f"{len(found) - MAX_NOTICES} more behaviour findings",
                severity="warning",
                markup=False,
            )

    def _detail(self, record: Mapping[str, Any] | None) -> None:
        body = self.query_one("#timeline-body", Static)
        if record is None:
            body.update(Text(NO_AGENT if self.live is None else "No records of this agent yet."))
            return
        text = Text()
        link = record.get("ztmcp.link")
        if record.get("ztmcp.unprompted"):
            text.append("unprompted: ", style="bold yellow")
            text.append("no model turn of this agent asked for this tool call\n\n")
        elif isinstance(link, dict):
            text.append("asked for by ", style="bold")
            text.append(
                safe(
                    f"the model turn llm #{link.get('llm.seq')} (tool call "
                    f"{link.get('gen_ai.tool.call.id')}, linked by {link.get('by')})"
                )
                + "\n\n"
            )
        found = findings(record)
        text.append("findings\n", style="bold")
        text.append(("\n".join(found) if found else "none") + "\n\n")
        text.append("record (the audit holds digests, not content)\n", style="bold")
        # the chain fields are for `ztmcp audit verify`, not for reading
        text.append(pretty({k: v for k, v in record.items() if k not in HIDDEN}))
        body.update(text)

    # -- events --------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        table = self.query_one(DataTable)
        if table.row_count == 0 or table.cursor_row >= table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None and key in self.agents:
            self.select(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.view.focus()

    def on_traffic_view_highlighted(self, event: TrafficView.Highlighted) -> None:
        event.stop()
        if self.live is None:
            return
        found = next((r for r in reversed(self.live.linked) if record_key(r) == event.key), None)
        self._detail(found)
