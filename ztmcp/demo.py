"""``ztmcp demo``: a scripted agent meets a deliberately untrustworthy server via ``ztmcp run``.

The agent is the official SDK client; the server is :mod:`ztmcp.demo_server`, spawned by a real
``ztmcp run`` child process, exactly as an MCP client would configure it. Nothing in the report
is assumed: every status comes from what the agent received and from the session's audit
records, so a check that is missing from this build shows up as "passed", with the reason.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from ztmcp.errors import ZtmcpError
from ztmcp.policy import CHECK_ORDER
from ztmcp.state import paths
from ztmcp.state.audit import read_records, session_files, verify_file

if TYPE_CHECKING:
    from anyio.abc import Process

SERVER_NAME: Final = "demo"
AGENT_NAME: Final = "ztmcp-demo-agent"
SERVER_MODULE: Final = "ztmcp.demo_server"
UNKNOWN_METHOD: Final = "demo/exfiltrate"
GRANT: Final = "ztmcp grant"  # marks the developer's step in SCRIPT; never sent as MCP
TIMEOUT: Final = 20.0  # seconds for any one request; the demo normally takes ~4 s in all

# Both patterns are built so this file holds nothing a secret scanner would flag.
_AWS_KEY_ID: Final = re.compile("AK" + r"IA[0-9A-Z]{16}")
_KEY_HEADER: Final = "-----BEGIN " + "OPENSSH PRIVATE KEY-----"


def fake_private_key() -> str:
    """An OpenSSH-looking private key. FAKE: fixed filler bytes, generated at run time."""
    body = base64.b64encode(b"openssh-key-v1\0" + b"ztmcp demo: not a real key. " * 8).decode()
    lines = [body[i : i + 70] for i in range(0, len(body), 70)]
    return "\n".join([_KEY_HEADER, *lines, _KEY_HEADER.replace("BEGIN", "END")]) + "\n"


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the scripted agent does."""

    key: str
    label: str
    method: str
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    risk: str = ""  # what is wrong with this traffic; empty for honest traffic
    watch: tuple[str, ...] = ()  # the checks meant to catch it


SCRIPT: Final = (
    Action(
        "list_tools",
        "list tools",
        "tools/list",
        risk="add's description hides <IMPORTANT> instructions to read ~/.ssh/id_rsa",
        watch=("poisoning",),
    ),
    Action(
        "get_weather", 'get_weather(city="Berlin")', "tools/call", "get_weather", {"city": "Berlin"}
    ),
    Action("add", "add(a=2, b=3)", "tools/call", "add", {"a": 2, "b": 3}),
    Action(
        "add_with_key",
        "add(a=2, b=3, sidenote=<private key>)",
        "tools/call",
        "add",
        {"a": 2, "b": 3, "sidenote": fake_private_key()},
        risk="an agent that obeyed the poisoned description sends ~/.ssh/id_rsa (fake)",
        watch=("secrets",),
    ),
    Action(
        "deploy_ungranted",
        'get_deploy_config(environment="staging"), no grant yet',
        "tools/call",
        "get_deploy_config",
        {"environment": "staging"},
        risk="the policy says this tool needs a just-in-time grant",
        watch=("access",),
    ),
    Action(
        "grant",
        f"you: ztmcp grant {SERVER_NAME} get_deploy_config --for 5m",
        GRANT,
        "get_deploy_config",
    ),
    Action(
        "get_deploy_config",
        'get_deploy_config(environment="staging"), granted',
        "tools/call",
        "get_deploy_config",
        {"environment": "staging"},
        risk="the result carries an AWS access key pair (AWS's documented fake one)",
        watch=("secrets",),
    ),
    Action(
        "unknown_method",
        f"{UNKNOWN_METHOD} (not an MCP method)",
        UNKNOWN_METHOD,
        arguments={"path": "~/.ssh/id_rsa"},
        risk="a request outside the MCP method set",
        watch=("envelope",),
    ),
)


@dataclass(slots=True)
class Received:
    """What the agent got back for one action (JSON-ready)."""

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


@dataclass(slots=True)
class Step:
    key: str
    label: str
    risk: str
    status: str  # passed | flagged | changed | stopped | unknown
    detail: str  # one line: what the agent got, or why it was stopped
    note: str  # why a risky step passed, e.g. "no secrets check enabled in this build"
    by: dict[str, Any] | None  # the deciding verdict from the audit: check, rule, reason
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    audit: list[dict[str, Any]]


@dataclass(slots=True)
class Report:
    ztmcp_home: str
    policy_file: str
    audit_log: str | None
    mode: str | None
    checks: list[str]  # active in this session (from its session.start record)
    available_checks: list[str]  # every check this build has
    protocol_version: str | None
    tools_listed: list[str]
    tools_filtered: list[str]
    poison_reached_agent: bool
    aws_key_reached_agent: bool
    private_key_request: str | None  # the audit outcome of the request that carried it
    secrets_in_audit: list[str]  # fake secrets found verbatim in the audit log (should be none)
    steps: list[Step]
    summary: dict[str, int]
    verify: dict[str, Any]
    elapsed_s: float
    server_stderr: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


GRANT_ARGV: Final = (
    "grant",
    SERVER_NAME,
    "get_deploy_config",
    "--for",
    "5m",
    "--reason",
    "ztmcp demo",
)


def write_policy(home: Path) -> Path:
    """The demo's policy: every check this build has, enforcing, and one tool that needs a
    just-in-time grant. Rewritten on every run."""
    path = home / "demo" / "ztmcp.toml"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(
        "# Written by `ztmcp demo` on every run; edits here are overwritten.\n"
        "# It enforces every check this build of ztmcp has. All keys: examples/ztmcp.toml.\n"
        'mode = "enforce"\n'
        f"checks = {json.dumps(list(CHECK_ORDER))}\n"
        "\n[[access.rule]]\n"
        f'server = "{SERVER_NAME}"\n'
        'tool = "get_deploy_config"\n'
        'action = "grant"\n',
        encoding="utf-8",
    )
    return path


def run_demo(progress: Progress = _quiet) -> Report:
    """Run the scripted agent against the demo server behind ``ztmcp run``; raises ZtmcpError."""
    import anyio

    started = time.monotonic()
    home = paths.home()
    policy = write_policy(home)
    _revoke_leftover_grants()
    before = set(session_files(paths.audit_dir()))
    nonce = secrets.token_hex(6)
    command = [
        sys.executable,
        "-m",
        "ztmcp",
        "run",
        "--name",
        SERVER_NAME,
        "--policy",
        str(policy),
        "--grace",
        "1",
        "--",
        sys.executable,
        "-m",
        SERVER_MODULE,
    ]
    # The demo server is ztmcp's own code: it inherits this environment, as under a shell.
    env = {**os.environ, "ZTMCP_HOME": str(home), "PYTHONUNBUFFERED": "1"}

    progress("starting the demo server behind `ztmcp run` (official MCP SDK on both ends) …")
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            protocol, received = anyio.run(_agent, command, env, nonce, errlog, progress)
        except Exception as exc:
            errlog.seek(0)
            tail = "\n".join(errlog.read().strip().splitlines()[-15:])
            raise ZtmcpError(
                f"the demo agent could not finish talking to `ztmcp run`: {_describe(exc)}"
                + (f"\nztmcp run / server stderr:\n{tail}" if tail else ""),
                hint="try `ztmcp run --name demo -- python -m ztmcp.demo_server` to see it fail",
            ) from None
        errlog.seek(0)
        stderr = errlog.read()

    log = _find_log(set(session_files(paths.audit_dir())) - before, f"{AGENT_NAME}/{nonce}")
    records = list(read_records([log])) if log else []
    report = analyse(records, received, protocol)
    report.ztmcp_home = str(home)
    report.policy_file = str(policy)
    report.audit_log = str(log) if log else None
    report.server_stderr = stderr[-4000:]
    if log is not None:
        result = verify_file(log)
        report.verify = {
            "ok": result.ok,
            "records": result.records,
            "closed": result.closed,
            "error": result.error,
        }
        report.secrets_in_audit = _leaks(log.read_text(encoding="utf-8", errors="replace"))
    report.elapsed_s = round(time.monotonic() - started, 2)
    return report


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _agent(
    command: list[str], env: dict[str, str], nonce: str, errlog: TextIO, progress: Progress
) -> tuple[str | None, dict[str, Received]]:
    """The scripted agent: connect, run SCRIPT, return what came back for each action."""
    import anyio

    t0 = time.monotonic()
    # Spawned before the SDK is imported: both sides then load it at once (~1.5 s saved).
    process = await anyio.open_process(
        command, env=env, stderr=errlog, start_new_session=sys.platform != "win32"
    )
    try:
        from mcp import Client, types
        from mcp.shared.exceptions import MCPError

        # The SDK warns when a tool it calls was not listed; in this demo that is the point.
        for name in ("mcp", "client"):  # mcp.client.session logs as "client"
            logging.getLogger(name).setLevel(logging.ERROR)
        received: dict[str, Received] = {}
        agent = types.Implementation(name=AGENT_NAME, version=nonce)
        async with Client(
            _attach(process),
            mode="auto",
            cache=None,
            read_timeout_seconds=TIMEOUT,
            client_info=agent,
        ) as client:
            protocol = client.protocol_version
            progress(
                f"connected in {time.monotonic() - t0:.1f} s (MCP {protocol}); "
                f"the agent runs {len(SCRIPT)} actions …"
            )
            for action in SCRIPT:
                got = Received()
                try:
                    if action.method == GRANT:  # the developer's step, with the real CLI
                        got = await _grant(env)
                    elif action.method == "tools/list":
                        listing = await client.list_tools()
                        got.result = {"tools": [_dump(t) for t in listing.tools]}
                    elif action.method == "tools/call" and action.tool is not None:
                        got.result = _dump(await client.call_tool(action.tool, action.arguments))
                    else:  # a raw request, to show what happens to a method outside MCP
                        got.result = _dump(
                            await client.session.send_request(
                                types.Request(method=action.method, params=action.arguments),
                                types.EmptyResult,
                            )
                        )
                except MCPError as exc:
                    got.error = {"code": exc.code, "message": exc.message}
                except (RuntimeError, ValueError) as exc:  # e.g. a result that fails its schema
                    got.error = {"code": None, "message": f"{type(exc).__name__}: {exc}"}
                received[action.key] = got
    finally:
        with anyio.CancelScope(shield=True):
            await _stop(process)
    return protocol, received


def _revoke_leftover_grants() -> None:
    """A grant from a previous run (it lasts 5 minutes) would let the "no grant yet" step
    through: revoke the demo server's live grants first, audited like `ztmcp revoke`."""
    from ztmcp.state.approvals import Operator

    with Operator("ztmcp-demo") as operator:
        for grant in operator.grants.grants():
            if grant.server == SERVER_NAME:
                operator.revoke(grant.id)


async def _grant(env: dict[str, str]) -> Received:
    """The developer's step: the person who ran ``ztmcp demo`` grants the tool (in process, as
    ``ztmcp grant`` does after its terminal confirmation; a child process with no terminal
    could not). It binds the grant to the tool digest that the refused call recorded; the
    proxy writes that record on its audit thread, so retry briefly (bounded) until it is
    there."""
    import anyio

    from ztmcp.cli.grant_cmd import _resolve_digest, give
    from ztmcp.durations import parse_duration

    _, server, tool, _, duration, _, why = GRANT_ARGV
    deadline = time.monotonic() + 10.0
    while True:
        try:
            bound = _resolve_digest(server, tool, None)
            line = give(server, tool, parse_duration(duration), bound, why=why)
            return Received(result={"granted": line})
        except ZtmcpError as exc:
            if time.monotonic() > deadline:
                return Received(error={"code": 2, "message": exc.diagnostics()})
        await anyio.sleep(0.2)


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


@asynccontextmanager
async def _attach(process: Process) -> AsyncIterator[tuple[Any, Any]]:
    """An SDK transport over an already running child: newline-delimited JSON-RPC both ways."""
    import anyio
    from mcp import types
    from mcp.shared.message import SessionMessage

    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    incoming_tx, incoming_rx = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    outgoing_tx, outgoing_rx = anyio.create_memory_object_stream[SessionMessage](0)

    async def read() -> None:
        buffer = b""
        async with incoming_tx:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                async for chunk in stdout:
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    for line in filter(None, (raw.strip() for raw in lines)):
                        try:
                            parsed = types.jsonrpc_message_adapter.validate_json(
                                line, by_name=False
                            )
                            await incoming_tx.send(SessionMessage(parsed))
                        except ValueError as exc:
                            await incoming_tx.send(exc)

    async def write() -> None:
        async with outgoing_rx:
            with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for message in outgoing_rx:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await stdin.send(data.encode() + b"\n")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(read)
        tasks.start_soon(write)
        try:
            yield incoming_rx, outgoing_tx
        finally:
            with anyio.CancelScope(shield=True):
                await _stop(process)
            tasks.cancel_scope.cancel()


async def _stop(process: Process) -> None:
    """Close the child's stdin (``ztmcp run`` then ends the session cleanly); kill if it lingers."""
    import anyio

    with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        if process.stdin is not None:
            await process.stdin.aclose()
    deadline = time.monotonic() + 4.0  # ztmcp run gives the server --grace 1 s
    while process.returncode is None and time.monotonic() < deadline:
        await anyio.sleep(0.02)
    if process.returncode is None:
        process.kill()
        with anyio.move_on_after(2.0):
            await process.wait()


def _find_log(candidates: Iterable[Path], client: str) -> Path | None:
    """This run's session log: a new file whose records name this run's agent."""
    for path in sorted(candidates):
        if any(r.get("client") == client for r in read_records([path])):
            return path
    return None


def _leaks(text: str) -> list[str]:
    """Fake secrets of this demo found verbatim (a redacted marker such as a PEM header is fine)."""
    found = []
    if _AWS_KEY_ID.search(text):
        found.append("aws_access_key_id")
    if "bPxRfiCY" + "DEMOSECRET" in text:
        found.append("aws_secret_access_key")
    if fake_private_key().splitlines()[1] in text:
        found.append("private_key")
    return found


# -- analysis: statuses from audit records, details from what the agent received -------------


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": record.get("seq"),
        "direction": record.get("direction"),
        "kind": record.get("kind"),
        "jsonrpc.request.id": record.get("jsonrpc.request.id"),
        "outcome": record.get("outcome"),
        "verdicts": [
            {k: v.get(k) for k in ("check", "action", "rule", "reason")}
            for v in record.get("verdicts") or []
        ],
    }


def _records_for(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each action's request record and, when the request went through, its response record."""
    messages = [r for r in records if r.get("event") == "message"]
    requests = [
        r for r in messages if r.get("direction") == "to_server" and r.get("kind") == "request"
    ]
    responses = [
        r for r in messages if r.get("direction") == "to_client" and r.get("kind") == "response"
    ]
    seen: dict[tuple[str, str | None], int] = {}
    out: dict[str, list[dict[str, Any]]] = {}
    for action in SCRIPT:
        key = (action.method, action.tool)
        nth = seen.get(key, 0)
        seen[key] = nth + 1
        matching = [
            r
            for r in requests
            if r.get("mcp.method.name") == action.method
            and r.get("gen_ai.tool.name") == action.tool
        ]
        if nth >= len(matching):
            out[action.key] = []
            continue
        request = matching[nth]
        rid, seq = request.get("jsonrpc.request.id"), int(request.get("seq", 0))
        answer = next(
            (
                r
                for r in responses
                if r.get("jsonrpc.request.id") == rid and int(r.get("seq", 0)) > seq
            ),
            None,
        )
        out[action.key] = [request] if answer is None else [request, answer]
    return out


_RANK: Final = {
    "denied": "stopped",
    "dropped": "stopped",
    "rewritten": "changed",
    "flagged": "flagged",
    "forwarded": "passed",
}
_ORDER: Final = ("stopped", "changed", "flagged", "passed")


def _status(records: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    if not records:
        return "unknown", None
    statuses = [_RANK.get(str(r.get("outcome")), "unknown") for r in records]
    status = min(statuses, key=lambda s: _ORDER.index(s) if s in _ORDER else -1)
    if status == "passed":
        return status, None
    wanted = {"stopped": "deny", "changed": "rewrite", "flagged": None}.get(status)
    for record in records:
        for v in record.get("verdicts") or []:
            if wanted is None or v.get("action") == wanted:
                return status, {k: v.get(k) for k in ("check", "rule", "reason")}
    return status, None


def _note(action: Action, status: str, active: list[str]) -> str:
    """Why a risky step passed, from the checks the session actually ran."""
    if status != "passed" or not action.watch:
        return ""
    ran = [c for c in action.watch if c in active]
    if ran:
        return f"the {' and '.join(ran)} check let it through"
    if all(c not in CHECK_ORDER for c in action.watch):
        return f"no {' or '.join(action.watch)} check enabled in this build"
    return f"the {' and '.join(action.watch)} check is turned off by the policy"


def _shown(result: dict[str, Any]) -> str:
    structured = result.get("structuredContent")
    if structured is not None:
        text = json.dumps(structured, ensure_ascii=False)
    else:
        text = " ".join(c.get("text", f"<{c.get('type')}>") for c in result.get("content", []))
    text = " ".join(text.split())
    return text if len(text) <= 110 else text[:107] + "…"


def _detail(action: Action, got: Received, status: str) -> str:
    if got.error is not None:
        return f"error {got.error['code']}: {got.error['message']}"
    result = got.result or {}
    if action.method == "tools/list":
        return ""  # filled in by analyse, which knows the whole listing
    if result.get("isError"):
        return f"tool error: {_shown(result)}"
    if action.key == "get_deploy_config" or action.key == "deploy_ungranted":
        if _AWS_KEY_ID.search(json.dumps(result)):
            return "the fake AWS key reached the agent"
        return f"{_shown(result)} (no AWS key left)"
    if action.key == "add_with_key" and status in ("passed", "flagged"):
        return f"{_shown(result)} (the server received the fake key)"
    return _shown(result)


def analyse(
    records: list[dict[str, Any]], received: dict[str, Received], protocol: str | None
) -> Report:
    """The report for one run: statuses from the audit records, details from what the agent got."""
    start = next((r for r in records if r.get("event") == "session.start"), {})
    active = [str(c) for c in start.get("checks", [])]
    by_action = _records_for(records)
    steps: list[Step] = []
    listed: list[dict[str, Any]] = []
    for action in SCRIPT:
        got = received.get(action.key, Received(error={"code": None, "message": "not run"}))
        mine = by_action.get(action.key, [])
        status, by = _status(mine)
        detail = _detail(action, got, status)
        if action.method == GRANT:  # the developer's step: no MCP traffic, the CLI's answer
            status = "granted" if got.result is not None else "unknown"
            detail = str((got.result or {}).get("granted") or (got.error or {}).get("message"))
        if action.method == "tools/list" and got.result is not None:
            listed = list(got.result.get("tools", []))
        steps.append(
            Step(
                action.key,
                action.label,
                action.risk,
                status,
                detail,
                _note(action, status, active),
                by,
                got.result,
                got.error,
                [_compact(r) for r in mine],
            )
        )

    expected = _expected_tools()
    names = [str(t.get("name")) for t in listed]
    filtered = [n for n in expected if n not in names]
    poison = any("<IMPORTANT>" in str(t.get("description", "")) for t in listed)
    if steps and steps[0].detail == "":
        parts = [f"listed: {', '.join(names) or 'none'}"]
        if filtered:
            parts.append(f"filtered out: {', '.join(filtered)}")
        parts.append(
            "the poisoned description reached the agent"
            if poison
            else "no poisoned description reached the agent"
        )
        steps[0].detail = "; ".join(parts)

    deploy = received.get("get_deploy_config", Received())
    key_records = by_action.get("add_with_key", [])
    summary = {s: sum(1 for st in steps if st.status == s) for s in (*_ORDER, "unknown")}
    return Report(
        ztmcp_home="",
        policy_file="",
        audit_log=None,
        mode=start.get("mode"),
        checks=active,
        available_checks=list(CHECK_ORDER),
        protocol_version=protocol,
        tools_listed=names,
        tools_filtered=filtered,
        poison_reached_agent=poison,
        aws_key_reached_agent=bool(_AWS_KEY_ID.search(json.dumps(asdict(deploy)))),
        private_key_request=key_records[0].get("outcome") if key_records else None,
        secrets_in_audit=[],
        steps=steps,
        summary=summary,
        verify={"ok": False, "records": 0, "closed": False, "error": "no audit log found"},
        elapsed_s=0.0,
    )


def _expected_tools() -> list[str]:
    """The demo server's tools, in the order it defines them (the script, not an outcome)."""
    return ["get_weather", "add", "get_deploy_config"]
