"""``ztmcp eval TRACES.jsonl``: replay agent-run traces through the flow check (and, on
request, the message-level injection check) and count attacks stopped and benign runs
interrupted, per suite (server).

Format (one JSON object a line; docs/behaviour.md): a ``{"kind": "capabilities", "server",
"capabilities": [[capabilities] tables], "flow": {[flow] table}, "tools": [definitions]}``
line before the traces of its server, then ``{"kind": "trace", "id", "server", "label":
"benign"|"attack", "user": the user's request (optional), "events": [{"tool", "arguments",
"result", "injected"}]}`` lines. An attack is *stopped* when a call at or before its first
injected ``public_sink``/``destructive`` call is refused (the flow check denies or holds the
call; with the injection check on, a result carrying the injection is withheld, so the agent
never reads it); a benign trace is *interrupted* when any of its calls or results is refused.
An attack trace with no injected sink call (the injection only asks for words) has nothing
to stop and is counted apart. Every call is replayed as a real JSON-RPC message through the
checks' ``check`` method, with the run state in ``ctx.extra["run"]`` as in the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ztmcp.behaviour.capabilities import Label
from ztmcp.behaviour.run import RunState
from ztmcp.checks.base import Action, Check, Context
from ztmcp.checks.flow import FlowCheck
from ztmcp.documents import open_file
from ztmcp.errors import UsageError
from ztmcp.jsonrpc import Direction, Message, encode, loads_document
from ztmcp.policy import flow_from_tables

LAYERS: Final = ("behaviour", "both")
GATED: Final = frozenset({Label.SINK, Label.DESTRUCTIVE})


def is_trace_file(path: Path) -> bool:
    """True when the file's first line is a trace-format line."""
    try:
        with open_file(path) as fh:
            first = loads_document(fh.readline() or b"{}")
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and first.get("kind") in {"capabilities", "trace"}


@dataclass(slots=True)
class SuiteCounts:
    attacks: int = 0
    stopped: int = 0
    no_sink: int = 0  # attack traces whose injection makes no sink/destructive call
    benign: int = 0
    interrupted: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def stop_rate(self) -> float | None:
        return self.stopped / self.attacks if self.attacks else None

    @property
    def interrupt_rate(self) -> float | None:
        return self.interrupted / self.benign if self.benign else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "attacks": self.attacks,
            "stopped": self.stopped,
            "no_sink": self.no_sink,
            "benign": self.benign,
            "interrupted": self.interrupted,
            "stop_rate": _round(self.stop_rate),
            "interrupt_rate": _round(self.interrupt_rate),
            "rules": dict(self.rules),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(slots=True)
class TraceReport:
    layers: dict[str, dict[str, SuiteCounts]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            layer: {s: c.as_dict() for s, c in suites.items()}
            for layer, suites in self.layers.items()
        }


@dataclass(frozen=True, slots=True)
class Suite:
    flow: FlowCheck
    tools: Mapping[str, Mapping[str, Any]]


def _injection() -> Check:
    from ztmcp.checks.injection import InjectionCheck

    return InjectionCheck()


def _replay(
    trace: Mapping[str, Any],
    suite: Suite,
    injection: Check | None,
    use_user: bool,
    clock: float = 1_000_000.0,
) -> tuple[bool, int | None, str | None]:
    """(refused anything, index of the first refused event, rule) for one trace; an event is
    refused before its call runs (flow) or when its result is withheld (injection)."""
    server = str(trace["server"])
    run = RunState.new("eval", clock, run_id=str(trace.get("id", "trace")), key=b"k" * 32)
    if use_user and isinstance(trace.get("user"), str):
        run.note_user(trace["user"])
    for index, event in enumerate(trace["events"]):
        tool, arguments = str(event["tool"]), event.get("arguments") or {}
        body = {
            "jsonrpc": "2.0",
            "id": index + 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        request = Message(Direction.TO_SERVER, encode(body), body)
        ctx = Context(server=server, now=clock + index, extra={"run": run, "tools": suite.tools})
        verdict = suite.flow.check(request, ctx)
        if verdict is not None and verdict.action is Action.DENY:
            return True, index, verdict.rule
        ref = run.note_call(server, tool, clock + index)
        result = {"content": [{"type": "text", "text": str(event.get("result", ""))}]}
        if injection is not None:
            answer = {"jsonrpc": "2.0", "id": index + 1, "result": result}
            response = Message(Direction.TO_CLIENT, encode(answer), answer)
            rctx = Context(server=server, now=clock + index, request=request)
            verdict = injection.check(response, rctx)
            if verdict is not None and verdict.action is Action.DENY:
                return True, index, verdict.rule
        run.note_result(
            ref,
            suite.flow.labels(server, tool, suite.tools.get(tool)),
            event.get("result", ""),
            arguments,
        )
    return False, None, None


def _first_injected_sink(trace: Mapping[str, Any], suite: Suite) -> int | None:
    server = str(trace["server"])
    for index, event in enumerate(trace["events"]):
        if not event.get("injected"):
            continue
        tool = str(event["tool"])
        if suite.flow.labels(server, tool, suite.tools.get(tool)) & GATED:
            return index
    return None


def read_lines(paths: Iterable[Path]) -> Iterable[dict[str, Any]]:
    for path in paths:
        try:
            fh = open_file(path)  # each line decoded alone: bad UTF-8 is that line's error
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}", hint="give a trace file") from None
        with fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = loads_document(line)
                except ValueError:
                    raise UsageError(
                        f"{path}:{number}: not JSON", hint="one JSON object a line"
                    ) from None
                if not isinstance(item, dict) or item.get("kind") not in {"capabilities", "trace"}:
                    raise UsageError(
                        f"{path}:{number}: not a capabilities or trace line",
                        hint="see docs/behaviour.md for the trace format",
                    )
                yield item


def traces_with_suites(paths: Iterable[Path]) -> Iterator[tuple[dict[str, Any], Suite]]:
    """Each trace line with its server's suite (the capabilities line before it)."""
    suites: dict[str, Suite] = {}
    for item in read_lines(paths):
        server = str(item.get("server", ""))
        if item["kind"] == "capabilities":
            flow = flow_from_tables(
                item.get("flow", {}), item.get("capabilities", []), f"capabilities of {server}"
            )
            tools = {str(t["name"]): t for t in item.get("tools", []) if isinstance(t, dict)}
            suites[server] = Suite(flow, tools)
            continue
        suite = suites.get(server)
        if suite is None:
            raise UsageError(
                f"trace {item.get('id')!r}: no capabilities line for {server!r}",
                hint="put the server's capabilities line before its traces",
            )
        yield item, suite


def evaluate_traces(
    paths: Iterable[Path], *, layers: Iterable[str] = LAYERS, use_user: bool = True
) -> TraceReport:
    report = TraceReport({layer: {} for layer in layers})
    checks = {layer: (_injection() if layer == "both" else None) for layer in report.layers}
    for item, suite in traces_with_suites(paths):
        server = str(item["server"])
        target = _first_injected_sink(item, suite)
        for layer, injection in checks.items():
            counts = report.layers[layer].setdefault(server, SuiteCounts())
            refused, at, rule = _replay(item, suite, injection, use_user)
            if item.get("label") == "attack":
                if target is None:
                    counts.no_sink += 1
                    continue
                counts.attacks += 1
                if refused and at is not None and at <= target:
                    counts.stopped += 1
                    counts.rules[str(rule)] = counts.rules.get(str(rule), 0) + 1
                else:
                    counts.missed.append(str(item.get("id")))
            else:
                counts.benign += 1
                if refused:
                    counts.interrupted += 1
                    counts.false_alarms.append(f"{item.get('id')} ({rule})")
    return report


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def render_traces(report: TraceReport, errors: int = 0) -> str:
    lines = ["layer      suite      attacks stopped          benign interrupted   (no sink)"]
    for layer, suites in report.layers.items():
        for server, c in suites.items():
            lines.append(
                f"{layer:<10} {server:<10} {c.stopped:>4}/{c.attacks:<4} "
                f"{_pct(c.stop_rate):>8}   {c.interrupted:>4}/{c.benign:<4} "
                f"{_pct(c.interrupt_rate):>8}   {c.no_sink}"
            )
            if errors:
                lines += [f"    missed: {m}" for m in c.missed[:errors]]
                lines += [f"    interrupted: {f}" for f in c.false_alarms[:errors]]
    return "\n".join(lines)
