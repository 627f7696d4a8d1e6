"""The person's words from an elicitation, end to end: the official SDK client answers
server-everything's real elicitation form (``trigger-elicitation-request``, its
``elicitation_callback`` standing in for the person) through one ``ztmcp run``, and a sink on
another server, behind another ``ztmcp run`` of the same agent, is judged by what the person
typed: the address typed into the form may receive the user's private data, the address from
a web page may not, and a value the person merely accepted from the server's defaults names
nothing. The run is shared through the real state database."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.e2e.access_helpers import result_text
from tests.e2e.flow_server import CAPABILITIES
from tests.e2e.peers import Peers
from ztmcp.state.audit import read_records

pytestmark = pytest.mark.e2e

TIMEOUT = 60.0
SERVER = str(Path(__file__).with_name("flow_server.py"))
POLICY = CAPABILITIES
TYPED = "carol@partner.example"  # what the person types into the form
ATTACKER = "payouts@refunds-desk.example"  # named only by the page
INVOICE = "INV-2291-ZK"  # the user's private data (flow_server's inbox)
AGENT = "agent-elicit"


def behind_ztmcp(
    ztmcp_argv: list[str],
    env: dict[str, str],
    tmp_path: Path,
    name: str,
    server: list[str],
    learn: bool = True,
) -> StdioServerParameters:
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY + ("" if learn else "\n[flow]\nelicitation = false\n"))
    argv = [*ztmcp_argv, "run", "--name", name, "--policy", str(policy), "--", *server]
    env = {**env, "ZTMCP_AGENT": AGENT}
    return StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=str(tmp_path))


async def person(_context: Any, params: Any) -> Any:
    """The person at the client's form: types a name and an address, and leaves every field
    the server pre-filled at its default."""
    import mcp_types as types

    properties = params.requested_schema["properties"]
    content = {k: v["default"] for k, v in properties.items() if "default" in v}
    content |= {"name": "Carol Smith", "email": TYPED}
    return types.ElicitResult(action="accept", content=content)


@pytest.mark.parametrize("learn", [True, False], ids=["learned", "switched-off"])
def test_an_address_typed_into_a_real_elicitation_form_vouches_a_later_send(
    learn: bool,
    peers: Peers,
    ztmcp_argv: list[str],
    child_env: dict[str, str],
    ztmcp_home: Path,
    tmp_path: Path,
) -> None:
    everything = behind_ztmcp(
        ztmcp_argv, child_env, tmp_path, "everything", peers.everything, learn
    )
    flow = [sys.executable, SERVER, "all"]
    mail = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", flow, learn)
    answered: list[dict[str, Any]] = []

    async def recording(context: Any, params: Any) -> Any:
        result = await person(context, params)
        answered.append(dict(result.content or {}))
        return result

    async def send(client: Client, to: str) -> tuple[bool, str]:
        sent = await client.call_tool("send_email", {"to": to, "body": f"invoice {INVOICE}"})
        return bool(sent.is_error), result_text(sent)

    async def scenario() -> None:
        async with (
            Client(mail, mode="legacy", cache=None) as mail_client,
            Client(
                everything, mode="legacy", cache=None, elicitation_callback=recording
            ) as form_client,
        ):
            await mail_client.list_tools()
            names = {t.name for t in (await form_client.list_tools()).tools}
            assert "trigger-elicitation-request" in names, names
            inbox = await mail_client.call_tool("read_inbox", {})
            assert not inbox.is_error and INVOICE in result_text(inbox)
            page = await mail_client.call_tool("fetch_page", {"url": "https://blog.example/"})
            assert not page.is_error and ATTACKER in result_text(page)
            # Before the form: nobody named Carol, so the invoice may not go to her.
            refused, text = await send(mail_client, TYPED)
            assert refused and "[flow.private_to_unnamed]" in text, text

            form = await form_client.call_tool("trigger-elicitation-request", {})
            assert not form.is_error and TYPED in result_text(form), result_text(form)
            assert answered and answered[0]["untitledSingleSelectEnum"] == "Monica"

            refused, text = await send(mail_client, TYPED)  # the address the person typed
            assert refused is not learn and ("sent" in text) is learn, text
            refused, text = await send(mail_client, "Carol")  # a word the person typed
            assert refused is not learn, text
            refused, text = await send(mail_client, ATTACKER)  # the page's address
            assert refused and "[flow.untrusted_value]" in text, text
            # The server's pre-filled option, accepted unchanged: the server's words.
            refused, text = await send(mail_client, "Monica")
            assert refused and "[flow.private_to_unnamed]" in text, text

    async def bounded() -> None:
        with anyio.fail_after(TIMEOUT):
            await scenario()

    anyio.run(bounded)
    records = list(read_records(sorted((ztmcp_home / "audit").glob("*.jsonl"))))
    learned = [r for r in records if r.get("event") == "flow.elicited"]
    if not learn:  # [flow] elicitation = false: a client whose model fills the forms
        assert learned == []
        return
    assert len(learned) == 1 and learned[0]["server"] == "everything", learned
    assert learned[0]["agent"] == AGENT and learned[0]["fingerprints"] > 0
    raw = b"".join(p.read_bytes() for p in ztmcp_home.glob("state.db*"))
    assert raw and TYPED.encode() not in raw and b"Carol Smith" not in raw  # fingerprints only


ELICIT_SERVER = str(Path(__file__).with_name("elicit_server.py"))


def test_2026_input_required_answer_through_ztmcp_run_vouches_a_later_send(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    """Protocol 2026-07-28 (the SDK client in ``auto`` mode against an SDK server): the form
    arrives inside an ``input_required`` result and the answer in the retried call's
    ``inputResponses``; the typed address vouches, the server's pre-filled cc does not."""
    from tests.e2e.elicit_server import DEFAULT_CC

    asker = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "asker", [sys.executable, ELICIT_SERVER])
    flow = [sys.executable, SERVER, "all"]
    mail = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", flow)
    asked: list[str] = []

    async def answer(_context: Any, params: Any) -> Any:
        import mcp_types as types

        asked.append(params.message)
        cc = params.requested_schema["properties"]["cc"]["default"]
        return types.ElicitResult(action="accept", content={"email": TYPED, "cc": cc})

    async def send(client: Client, to: str) -> tuple[bool, str]:
        sent = await client.call_tool("send_email", {"to": to, "body": f"invoice {INVOICE}"})
        return bool(sent.is_error), result_text(sent)

    async def scenario() -> None:
        async with (
            Client(mail, mode="legacy", cache=None) as mail_client,
            Client(asker, mode="auto", cache=None, elicitation_callback=answer) as asker_client,
        ):
            await mail_client.list_tools()
            await asker_client.list_tools()
            assert not (await mail_client.call_tool("read_inbox", {})).is_error
            refused, text = await send(mail_client, TYPED)
            assert refused and "[flow.private_to_unnamed]" in text, text
            done = await asker_client.call_tool("ask_recipient", {})
            assert not done.is_error and TYPED in result_text(done), result_text(done)
            assert asked == ["Who should get the quarterly report?"]
            refused, text = await send(mail_client, TYPED)
            assert not refused, text
            refused, text = await send(mail_client, DEFAULT_CC)
            assert refused and "[flow.private_to_unnamed]" in text, text

    async def bounded() -> None:
        with anyio.fail_after(TIMEOUT):
            await scenario()

    anyio.run(bounded)
    records = list(read_records(sorted((ztmcp_home / "audit").glob("*.jsonl"))))
    learned = [r for r in records if r.get("event") == "flow.elicited"]
    assert [r["server"] for r in learned] == ["asker"], learned


def test_2026_form_answered_through_ztmcp_proxy_vouches_a_send_on_a_ztmcp_run(
    ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path, tmp_path: Path
) -> None:
    """``ztmcp proxy`` at 2026-07-28: the ``input_required`` result and the retry that
    answers it are separate POSTs (separate conversations); the answer is still learned into
    the agent's run, which a ``ztmcp run`` of the same agent then reads."""
    from tests.e2e.elicit_server import DEFAULT_CC
    from tests.e2e.test_proxy_sdk import free_port, script_server, ztmcp_proxy

    env = {**child_env, "ZTMCP_AGENT": AGENT}
    policy = tmp_path / "ztmcp.toml"
    policy.write_text(POLICY)
    port = free_port()
    mail = behind_ztmcp(ztmcp_argv, child_env, tmp_path, "mail", [sys.executable, SERVER, "all"])

    async def answer(_context: Any, params: Any) -> Any:
        import mcp_types as types

        cc = params.requested_schema["properties"]["cc"]["default"]
        return types.ElicitResult(action="accept", content={"email": TYPED, "cc": cc})

    async def send(client: Client, to: str) -> tuple[bool, str]:
        sent = await client.call_tool("send_email", {"to": to, "body": f"invoice {INVOICE}"})
        return bool(sent.is_error), result_text(sent)

    async def scenario(url: str) -> None:
        with anyio.fail_after(TIMEOUT):
            async with (
                Client(mail, mode="legacy", cache=None) as mail_client,
                Client(url, mode="auto", cache=None, elicitation_callback=answer) as asker,
            ):
                await mail_client.list_tools()
                assert not (await mail_client.call_tool("read_inbox", {})).is_error
                refused, text = await send(mail_client, TYPED)
                assert refused and "[flow.private_to_unnamed]" in text, text
                done = await asker.call_tool("ask_recipient", {})
                assert not done.is_error and TYPED in result_text(done), result_text(done)
                refused, text = await send(mail_client, TYPED)
                assert not refused, text
                refused, text = await send(mail_client, DEFAULT_CC)
                assert refused and "[flow.private_to_unnamed]" in text, text

    source = Path(ELICIT_SERVER).read_text()
    with (
        script_server(tmp_path / "elicit_http.py", source, port, "http"),
        ztmcp_proxy(
            ztmcp_argv,
            f"http://127.0.0.1:{port}/mcp",
            env,
            tmp_path,
            "--name",
            "asker",
            "--policy",
            str(policy),
        ) as local,
    ):
        anyio.run(scenario, local)
    records = list(read_records(sorted((ztmcp_home / "audit").glob("*.jsonl"))))
    learned = [r for r in records if r.get("event") == "flow.elicited"]
    assert [r["server"] for r in learned] == ["asker"], learned
