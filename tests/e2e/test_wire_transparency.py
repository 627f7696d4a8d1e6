"""Wire transparency: an allowed frame crosses ``ztmcp run`` byte for byte, both ways.

The test is the agent: it writes raw JSON-RPC lines to ``ztmcp run -- python RECORDER.py``.
The recorder is a tiny MCP-ish server (written to tmp_path) that logs every byte it reads and
every byte it writes, and answers with deliberately odd but valid JSON (spacing, key order,
unicode escapes, raw UTF-8, exponents, CRLF). At the end, what the server read must equal what
the agent wrote, and what the agent read must equal what the server wrote.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO

import pytest

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 15.0  # per expected line; a cold interpreter start fits many times over
EXIT_TIMEOUT = 30.0

RECORDER = textwrap.dedent(
    r'''
    """A stdio MCP-ish server that records every byte it reads and writes."""
    import json, os, sys

    recv_log = open(sys.argv[1], "wb", buffering=0)
    sent_log = open(sys.argv[2], "wb", buffering=0)

    def send(frame):
        sent_log.write(frame)
        view = memoryview(frame)
        while view:
            view = view[os.write(1, view):]

    def rid(msg):
        return json.dumps(msg["id"]).encode()

    # Right after start, as real servers do: a notification nobody asked for.
    send(b'{"method" : "notifications/tools/list_changed",  "jsonrpc":"2.0"}\n')

    pending_call = None
    buf = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        recv_log.write(chunk)
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            msg = json.loads(line)
            method = msg.get("method")
            if method == "initialize":
                send(b'{ "result" : {"serverInfo":{"version":"1.0", "name":'
                     b'"recorder \\u00e9\\ud83d\\ude00"},'
                     b'"protocolVersion" :"2025-11-25","capabilities":{"tools":{ }},'
                     b'"instructions":"caf\xc3\xa9 \xe2\x9c\x93 \\/ \\"q\\" \\t"} ,'
                     b'"jsonrpc":"2.0", "id":'
                     + rid(msg) + b'}\n')
            elif method == "tools/list":
                send(b'{"jsonrpc":"2.0","id":' + rid(msg) + b',"result":{"tools":[{"name":"echo",'
                     b'"inputSchema":{"type":"object","properties":{"x":{"type":"number"}}},'
                     b'"outputSchema":{"type":"object"} , '
                     b'"description":"\\u0045cho \xf0\x9f\x94\x81"}]}}\r\n')
            elif method == "tools/call":
                pending_call = msg["id"]
                send(b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info",'
                     b'"data":{"b":[1,2.50,-0,1E+2],"a":null}}}\n')
                send(b'{"id":"s\\u00e9rv-1","jsonrpc":"2.0","method":"sampling/createMessage",'
                     b'"params":{"maxTokens":5,"messages":[{"role":"user","content":'
                     b'{"type":"text","text":"\\u2028hi"}}]}}\n')
            elif method is None and msg.get("id") == "s\u00e9rv-1":
                send(b'{"result":{"structuredContent":{"z":1, "a":[ ]},"content":[{"text":'
                     b'"{\\"z\\":1,\\"a\\":[]}","type":"text"}],"isError":false},"id":'
                     + json.dumps(pending_call).encode() + b',"jsonrpc":"2.0"}\n')
            elif method == "ping":
                send(b'{"jsonrpc":"2.0","id":' + rid(msg) + b',"result":{}}\n')
    '''
)

# What the agent writes, frame by frame; a list entry is written in pieces (split frames,
# several frames in one write). Each tuple: (chunks to write, lines to expect back).
AGENT_SCRIPT: list[tuple[list[bytes], int]] = [
    # The server's unprompted list_changed arrives first; the initialize answer next.
    (
        [
            b'{ "id" :1,"method":"initialize" , "params":{"protocolVersion":"2025-11-25",'
            b'"capabilities":{"sampling":{}},"clientInfo":{"version":"0.0.1","name":'
            b'"wire \\u2013 test \\ud83d\\ude00"}},"jsonrpc":"2.0"}\n'
        ],
        2,
    ),
    ([b'\t{"jsonrpc":"2.0","method":"notifications/initialized"}  \n'], 0),
    # A request split mid-token across writes, then CRLF-terminated.
    ([b'{"jsonrpc":"2.0","id":"a-\\u00e9","meth', b'od":"tools/list","params":{}}\r\n'], 1),
    # tools/call: exponents, negative zero, the largest safe int (larger ones are refused:
    # docs/decoder.md), escaped slash, raw UTF-8, odd spacing.
    (
        [
            b'{"params":{"arguments":{"x":1.0E+2,"y":-0.0,"big":9007199254740991,'
            b'"s":"\\/path \\u0000 \xc3\xa9\xe2\x9c\x93",'
            b'"nested":[[],{},[{"k":[true,false,null]}]]},'
            b'"name":"echo" ,"_meta":{"progressToken":7}},'
            b'"method":"tools/call","id":2,"jsonrpc":"2.0"}\n'
        ],
        2,  # the log notification and the server's sampling request
    ),
    # The agent answers the server's sampling request; then the tool result comes back.
    (
        [
            b'{"jsonrpc":"2.0","id":"s\\u00e9rv-1","result":{"model":"m","role":"assistant",'
            b'"content":{"type":"text","text":"\xe2\x9c\x93 \\ud83d\\ude00"},'
            b'"stopReason":"endTurn"}}\n'
        ],
        1,
    ),
    # Two frames in one write.
    (
        [
            b'{"jsonrpc":"2.0","id":3,"method":"ping"}\n'
            b'{"jsonrpc": "2.0", "id": 4, "method": "ping", "params": {"_meta": {}}}\n'
        ],
        2,
    ),
]


class LineReader:
    """Reads a pipe on a thread into a queue, so every read the test makes is bounded."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue()
        self.received = bytearray()
        self._buf = b""
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe: IO[bytes]) -> None:
        while True:
            chunk = pipe.read(65536) or b""  # raw pipe: one read(2), whatever is there
            self.chunks.put(chunk)
            if not chunk:
                return

    def lines(self, count: int, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout * max(count, 1)
        out: list[bytes] = []
        while len(out) < count:
            while b"\n" in self._buf and len(out) < count:
                line, self._buf = self._buf.split(b"\n", 1)
                out.append(line + b"\n")
            if len(out) == count:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} line(s), got {out!r} + {self._buf!r}")
            try:
                chunk = self.chunks.get(timeout=remaining)
            except queue.Empty:
                continue
            if not chunk:
                raise AssertionError(f"stream ended after {out!r} + {self._buf!r}")
            self.received += chunk
            self._buf += chunk
        return out

    def rest(self, timeout: float) -> bytes:
        """Everything until end of stream (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the stream did not end")
            try:
                chunk = self.chunks.get(timeout=remaining)
            except queue.Empty:
                continue
            if not chunk:
                self._thread.join(timeout=1.0)
                tail, self._buf = self._buf, b""
                return tail
            self.received += chunk
            self._buf += chunk


def test_frames_cross_byte_for_byte(
    tmp_path: Path, ztmcp_argv: list[str], child_env: dict[str, str], ztmcp_home: Path
) -> None:
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    recv_log, sent_log = tmp_path / "server-received.bin", tmp_path / "server-sent.bin"
    stderr_path = tmp_path / "ztmcp.stderr"
    argv = [
        *ztmcp_argv,
        "run",
        "--name",
        "recorder",
        "--",
        sys.executable,
        str(recorder),
        str(recv_log),
        str(sent_log),
    ]

    agent_sent = bytearray()
    agent_lines: list[bytes] = []
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=child_env,
            cwd=tmp_path,
            bufsize=0,
        )
        try:
            assert proc.stdin is not None and proc.stdout is not None
            reader = LineReader(proc.stdout)
            for chunks, expect in AGENT_SCRIPT:
                for piece in chunks:
                    proc.stdin.write(piece)
                    agent_sent += piece
                    if len(chunks) > 1:
                        time.sleep(0.05)  # let the relay see a partial frame
                agent_lines += reader.lines(expect, READ_TIMEOUT)
            proc.stdin.close()
            tail = reader.rest(EXIT_TIMEOUT)
            code = proc.wait(timeout=EXIT_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    stderr_text = stderr_path.read_text(errors="replace")
    assert code == 0, stderr_text
    assert tail == b"", tail

    server_received = recv_log.read_bytes()
    server_sent = sent_log.read_bytes()
    # Sanity: the script really exercised both directions and the server→client request.
    assert len(agent_lines) == 8
    assert b"sampling/createMessage" in server_sent and b"s\\u00e9rv-1" in agent_sent
    # The point of the test.
    assert server_received == bytes(agent_sent), stderr_text
    assert bytes(reader.received) == server_sent, stderr_text
    assert b"".join(agent_lines) == server_sent

    # And ztmcp recorded every frame as forwarded untouched, in an intact chain.
    logs = sorted((ztmcp_home / "audit").glob("*-recorder-*.jsonl"))
    assert len(logs) == 1, logs
    records = [json.loads(line) for line in logs[0].read_bytes().splitlines()]
    messages = [r for r in records if r["event"] == "message"]
    assert len(messages) == 7 + 8, [r.get("mcp.method.name") for r in messages]
    assert {r["outcome"] for r in messages} == {"forwarded"}, messages
    assert records[-1]["event"] == "session.end" and records[-1]["unanswered"] == 0
    verify = subprocess.run(
        [*ztmcp_argv, "audit", "verify"],
        env=child_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
