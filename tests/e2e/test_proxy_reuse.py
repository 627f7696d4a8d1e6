"""``ztmcp proxy`` reuses upstream connections: the official SDK client (a new connection per
call) against server-everything, with a counting TCP relay in between that sees every
connection the proxy opens upstream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import pytest
from mcp import Client

from tests.e2e.peers import Peers
from tests.e2e.test_proxy_sdk import SESSION_TIMEOUT, everything_server, ztmcp_proxy

pytestmark = pytest.mark.e2e

CALLS = 30


class Relay:
    """127.0.0.1:port → target, in a thread with its own loop; counts accepted connections."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),),
                                        daemon=True)  # fmt: skip

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()

    @contextmanager
    def running(self) -> Iterator[Relay]:
        self._thread.start()
        assert self._ready.wait(10), "the relay did not start"
        try:
            yield self
        finally:
            assert self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)


async def echo_calls(url: str) -> list[str]:
    texts = []
    with anyio.fail_after(SESSION_TIMEOUT):
        async with Client(url, mode="legacy", cache=None) as client:
            for i in range(CALLS):
                result = await client.call_tool("echo", {"message": f"call {i}"})
                texts.append(result.content[0].text)  # type: ignore[union-attr]
    return texts


@pytest.mark.parametrize("reuse", [True, False])
def test_sdk_calls_share_upstream_connections(
    reuse: bool, peers: Peers, ztmcp_argv: list[str], child_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**child_env}
    if not reuse:
        env["ZTMCP_MITM_NO_REUSE"] = "1"
    with (
        everything_server(peers) as upstream,
        Relay(urlsplit(upstream).port or 0).running() as relay,
    ):
        relayed = f"http://127.0.0.1:{relay.port}/mcp"
        with ztmcp_proxy(ztmcp_argv, relayed, env, tmp_path, "--name", "everything") as local:
            texts = anyio.run(echo_calls, local)
    assert texts == [f"Echo: call {i}" for i in range(CALLS)]
    if reuse:  # the handshake, the GET stream, and a connection or two taking turns
        assert relay.accepted <= 6, relay.accepted
    else:  # one per POST, at least
        assert relay.accepted >= CALLS, relay.accepted
