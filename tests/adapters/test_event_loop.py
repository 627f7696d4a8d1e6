"""The proxy's event loop: uvloop with mitmproxy's eager task factory, or asyncio's own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ztmcp.adapters import event_loop
from ztmcp.errors import UsageError

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (Windows)")


async def _returns(value: int) -> int:
    return value


async def _eager_and_threads() -> tuple[bool, int]:
    """What mitmproxy's Master.run does first: the eager factory, then tasks and threads."""
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    task = asyncio.create_task(_returns(1))
    done_at_once = task.done()  # eager: a coroutine that never suspends is finished already
    return done_at_once, await task + await asyncio.to_thread(lambda: 1)


def test_default_is_uvloop_and_runs_mitmproxys_eager_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZTMCP_EVENT_LOOP", raising=False)
    factory = event_loop.factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    assert asyncio.run(_eager_and_threads(), loop_factory=factory) == (True, 2)


def test_plain_uvloop_cannot_take_the_eager_factory() -> None:
    """Why the shim exists: if a uvloop release fixes this, the shim can go."""
    loop = uvloop.new_event_loop()
    coro = _returns(1)
    try:
        loop.set_task_factory(asyncio.eager_task_factory)
        with pytest.raises(TypeError, match="eager_start"):
            loop.create_task(coro)
    finally:
        coro.close()
        loop.close()


def test_other_task_factories_are_installed_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZTMCP_EVENT_LOOP", raising=False)
    factory = event_loop.factory()
    assert factory is not None

    def mine(loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object) -> asyncio.Task[int]:
        return asyncio.Task(coro, loop=loop)  # type: ignore[arg-type]

    async def check() -> object:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(mine)
        return loop.get_task_factory()

    assert asyncio.run(check(), loop_factory=factory) is mine


def test_eager_task_honours_an_explicit_eager_start() -> None:
    async def check() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        eager = event_loop.eager_task(loop, _returns(1))
        lazy = event_loop.eager_task(loop, _returns(2), eager_start=False)
        states = (eager.done(), lazy.done())
        await asyncio.gather(eager, lazy)
        return states

    assert asyncio.run(check()) == (True, False)


@pytest.mark.parametrize("value", ["asyncio", " AsyncIO "])
def test_asyncio_can_be_chosen(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ZTMCP_EVENT_LOOP", value)
    assert event_loop.factory() is None


def test_unknown_loop_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTMCP_EVENT_LOOP", "trio")
    with pytest.raises(UsageError, match="trio"):
        event_loop.factory()


def test_proxy_refuses_an_unknown_loop_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "ZTMCP_EVENT_LOOP": "trio", "ZTMCP_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "ztmcp", "proxy", "http://127.0.0.1:9/mcp", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "ztmcp: error: ZTMCP_EVENT_LOOP='trio' is not an event loop ztmcp knows",
        "  hint: use one of uvloop, asyncio, or unset it",
    ]
