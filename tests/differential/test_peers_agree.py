"""Differential test: every frame ``jsonrpc.parse`` accepts means the same to every peer.

A corpus of frames (hand-written adversarial ones, hypothesis-generated ones with a fixed seed,
and deterministic re-spellings of each: escapes, number forms, key case, whitespace) goes once
through each reader, in one batch per process:

- Python's ``json`` (what ztmcp's checks read: the ``Message`` itself is compared too),
- pydantic's JSON parser (``pydantic_core.from_json``, the Python SDK's reader), and the SDK's
  models themselves for ``tools/call`` requests they accept,
- Node's ``JSON.parse`` (the TypeScript SDK's reader), ``node_reader.js``,
- Go's ``encoding/json`` into mcp-go-like structs and into ``map[string]any``, ``go_reader.go``
  (built here with ``go build`` into pytest's cache directory).

For every accepted frame the method, ``params.name`` and ``params.arguments`` must be equal in
every reader, and so must the whole frame in every reader that decodes it generically (numbers
compared as IEEE doubles, booleans apart from numbers). Any disagreement fails the test and
prints the frame.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mcp.types
import pydantic
import pydantic_core
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.differential.frames import clean_tool_calls, frames
from ztmcp.errors import ProtocolError
from ztmcp.jsonrpc import Direction, Message, parse

HERE = Path(__file__).parent
ENVELOPE = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":%s}'

# Frames that sit on the edges where readers have been seen to differ.
HANDWRITTEN_PARAMS = [
    '{"name":"echo","arguments":{"m":"\\u2028\\u2029\\u0000\\ud83d\\ude00"}}',
    '{"name":"echo","arguments":{"__proto__":{"x":1},"constructor":1,"toString":2}}',
    '{"name":"echo","arguments":{"a":4.9e-324,"b":2.2250738585072011e-308,"c":1e-400}}',
    '{"name":"echo","arguments":{"a":1.7976931348623157e308,"b":-0,"c":-0.0,"d":0e5}}',
    '{"name":"echo","arguments":{"a":0.1000000000000000055511151231257827021181583404541015625}}',
    '{"name":"echo","arguments":{"a":9007199254740993.0,"b":123456789012345678901234567890e-20}}',
    '{"name":"echo","arguments":{"a":9007199254740991,"b":-9007199254740991,"c":1E+2}}',
    '{"name":"echo","arguments":{"":1," name":2,"name ":3,"na\\u200bme":4}}',
    '{"name":"echo","arguments":{"Name":"x","NAME":"y"}}',  # refused: folded duplicate
    '{"name":"echo","arguments":{"K":1,"\\u212a":2}}',  # refused: Kelvin sign
    '{"Name":"echo"}',  # refused: case variant
    '{"n\\u0061me":"echo","\\u0061rguments":{"x":[1,2,{"y":null}]}}',
    '{"name":"\\u212aill","arguments":{}}',  # Kelvin in a value is just a character
    '{"name":"echo","arguments":null}',
    '{"name":"echo"}',
    '{"name":null,"arguments":{"x":true}}',
    "null",
    "[]",
    '{"name":"\\ud800"}',  # refused: lone surrogate
    '{"name":"echo","arguments":{"x":NaN}}',  # refused
    '{"name":"echo","arguments":{"x":1e400}}',  # refused
    '{"name":"echo","arguments":{"x":12345678901234567890}}',  # refused
    '{"name":"echo","arguments":' + '{"a":' * 60 + "1" + "}" * 60 + "}",
]
HANDWRITTEN = [(ENVELOPE % p).encode() for p in HANDWRITTEN_PARAMS] + [
    b'{"method":"tools/call","jsonrpc":"2.0","id":"\\u0031","params":{"name":"e"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e"},"Method":"x"}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/\\u0063all","params":{"name":"e"}}',
    b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e"}}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e"}} ',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"e\xc0\xaf"}}',
]


def _scalar(value: Any, *, escape_all: bool, numbers: str) -> str:
    if isinstance(value, str):
        if not escape_all:
            return json.dumps(value, ensure_ascii=False)
        units = value.encode("utf-16-be", "surrogatepass")
        hexes = (units[i : i + 2].hex() for i in range(0, len(units), 2))
        return '"' + "".join(f"\\u{h.upper() if numbers == 'alt' else h}" for h in hexes) + '"'
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int) and numbers == "alt":
        return f"{value}.0" if value % 2 else f"{value}e0"
    if isinstance(value, float) and numbers == "alt":
        return f"{value:.17e}"
    return json.dumps(value)


def dump(
    value: Any, *, escape_all: bool = False, numbers: str = "plain", key: Callable[[str], str] = str
) -> str:
    """Serialise ``value`` in one of several spellings every peer should read alike."""
    if isinstance(value, dict):
        members = (
            f"{_scalar(key(k), escape_all=escape_all, numbers=numbers)}:"
            f"{dump(v, escape_all=escape_all, numbers=numbers, key=key)}"
            for k, v in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        items = (dump(v, escape_all=escape_all, numbers=numbers, key=key) for v in value)
        return "[ " + " , ".join(items) + " ]"
    return _scalar(value, escape_all=escape_all, numbers=numbers)


def _respellings(raw: bytes) -> list[bytes]:
    """Variants of an accepted frame: the same value spelled differently, or keys perturbed."""
    body = json.loads(raw)
    go_letters = str.maketrans({"k": "\u212a", "s": "\u017f", "K": "\u212a"})
    spellings = [
        dump(body),
        dump(body, escape_all=True),
        dump(body, numbers="alt"),
        dump(body, escape_all=True, numbers="alt"),
        dump(body, key=str.upper),
        dump(body, key=lambda k: k[:1].upper() + k[1:]),
        dump(body, key=lambda k: k.translate(go_letters)),
        json.dumps(body, indent=1, ensure_ascii=True),
    ]
    return [s.encode("utf-8", "surrogatepass") for s in spellings]


def _generated(strategy: st.SearchStrategy[bytes], count: int) -> list[bytes]:
    out: list[bytes] = []

    @settings(
        max_examples=count,
        derandomize=True,  # a fixed seed: the same corpus on every run
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(raw: bytes) -> None:
        out.append(raw)

    collect()
    return out


def _accepted(raw: bytes) -> Message | None:
    try:
        return parse(raw, Direction.TO_SERVER)
    except ProtocolError:
        return None


def corpus() -> list[bytes]:
    base = HANDWRITTEN + _generated(frames(), 150) + _generated(clean_tool_calls(), 250)
    frames_: list[bytes] = list(base)
    for raw in base:
        if _accepted(raw) is not None:
            frames_.extend(_respellings(raw))
    return list(dict.fromkeys(frames_))


# -- the readers ---------------------------------------------------------------------------


def _view(value: Any) -> dict[str, Any]:
    """Method, params.name and params.arguments as a reader sees them; missing is None."""
    if not isinstance(value, dict):
        return {"method": None, "name": None, "arguments": None}
    params = value.get("params")
    params = params if isinstance(params, dict) else {}
    return {
        "method": value.get("method"),
        "name": params.get("name"),
        "arguments": params.get("arguments"),
    }


def _read(loads: Callable[[bytes], Any], raw: bytes) -> dict[str, Any]:
    """An in-process reader's view, or the error it raised."""
    try:
        return _view(loads(raw))
    except ValueError as exc:
        return {"error": str(exc)}


def _sdk_view(raw: bytes) -> dict[str, Any] | None:
    """What the Python SDK's models read, or None where they refuse the frame."""
    try:
        request = mcp.types.JSONRPCRequest.model_validate_json(raw)
        if request.method != "tools/call":
            return None
        params = mcp.types.CallToolRequestParams.model_validate(request.params)
    except pydantic.ValidationError:
        return None
    return {"method": request.method, "name": params.name, "arguments": params.arguments}


def _whole(loads: Callable[[bytes], Any], raw: bytes) -> Any:
    try:
        return loads(raw)
    except ValueError as exc:
        return f"error: {exc}"


def _peer_view(seen: dict[str, Any]) -> dict[str, Any]:
    """A node or Go reader's line: its view, or the error it raised."""
    if not seen["ok"]:
        return {"error": seen.get("error")}
    return {key: seen.get(key) for key in ("method", "name", "arguments")}


def _canonical(value: Any) -> Any:
    """Numbers as IEEE doubles (-0 equals 0), booleans and null kept apart from numbers."""
    if value is None or isinstance(value, bool):
        return ["literal", value]
    if isinstance(value, int | float):
        return ["number", repr(float(value) + 0.0)]
    if isinstance(value, str):
        return ["string", value]
    if isinstance(value, list):
        return ["array", [_canonical(v) for v in value]]
    return ["object", {k: _canonical(v) for k, v in value.items()}]


def _text(view: dict[str, Any]) -> str:
    return json.dumps(_canonical(view), sort_keys=True, ensure_ascii=True)


def _batch(argv: list[str], frames_: list[bytes]) -> list[dict[str, Any]]:
    lines = "".join(base64.b64encode(raw).decode("ascii") + "\n" for raw in frames_)
    done = subprocess.run(argv, input=lines.encode(), capture_output=True, timeout=60, check=True)
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(frames_), done.stderr.decode(errors="replace")
    return out


def _go_reader(cache: Path) -> Path:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed: the Go encoding/json reader cannot be built")
    source = HERE / "go_reader.go"
    binary = cache / f"go_reader-{hashlib.sha256(source.read_bytes()).hexdigest()[:16]}"
    if not binary.exists():
        # GOPATH mode and the local toolchain: a one-file, standard-library-only build that
        # needs no go.mod and never downloads anything.
        env = {
            **os.environ,
            "GOCACHE": str(cache / "gocache"),
            "GO111MODULE": "off",
            "GOFLAGS": "",
            "GOTOOLCHAIN": "local",
        }
        partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
        subprocess.run(
            [go, "build", "-o", str(partial), str(source)],
            env=env,
            cwd=cache,
            check=True,
            timeout=110,
            capture_output=True,
        )
        os.replace(partial, binary)  # atomic: a concurrent run sees no half-written binary
    return binary


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JSON.parse reader cannot run")
    return node


def test_every_accepted_frame_means_the_same_to_every_peer(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # pytest's cache keeps the Go build between runs; without it (-p no:cacheprovider), a
    # temporary directory does.
    config_cache = getattr(request.config, "cache", None)
    cache = (
        Path(config_cache.mkdir("ztmcp-differential"))
        if config_cache is not None
        else tmp_path_factory.mktemp("ztmcp-differential")
    )
    go_reader = _go_reader(cache)
    node = _node()
    all_frames = corpus()
    accepted = [(raw, msg) for raw in all_frames if (msg := _accepted(raw)) is not None]
    refused = len(all_frames) - len(accepted)
    assert len(all_frames) >= 2000 and len(accepted) >= 1000 and refused >= 100
    frames_ = [raw for raw, _ in accepted]

    go_views = _batch([str(go_reader)], frames_)
    node_views = _batch([node, str(HERE / "node_reader.js")], frames_)

    failures: list[str] = []
    for (raw, msg), go, js in zip(accepted, go_views, node_views, strict=True):
        checked = {
            "method": msg.body.get("method"),
            "name": msg.params.get("name"),
            "arguments": msg.params.get("arguments"),
        }
        want = _text(checked)
        readers = {
            "python json": _read(json.loads, raw),
            "pydantic": _read(pydantic_core.from_json, raw),
            "node JSON.parse": _peer_view(js),
            "go map[string]any": _peer_view(go["generic"]),
        }
        for label, seen in readers.items():
            if (got := _text(seen)) != want:
                failures.append(f"{label}: {raw!r}\n  ztmcp: {want}\n  peer:  {got}")
        # The Python SDK's own models (pydantic, populate_by_name) where they accept the frame.
        sdk = _sdk_view(raw)
        if sdk is not None and (got := _text(sdk)) != want:
            failures.append(f"python SDK models: {raw!r}\n  ztmcp: {want}\n  peer:  {got}")
        # The whole frame, too: what reaches the model or the tool is every value, not only
        # the routing fields.
        whole = _text(msg.body)
        for label, full in [
            ("pydantic (whole frame)", _whole(pydantic_core.from_json, raw)),
            ("node JSON.parse (whole frame)", js.get("body", js.get("error"))),
            (
                "go map[string]any (whole frame)",
                go["generic"].get("body", go["generic"].get("error")),
            ),
        ]:
            if (got := _text(full)) != whole:
                failures.append(f"{label}: {raw!r}\n  ztmcp: {whole}\n  peer:  {got}")
        # Go's structs read "" for a missing or null string, and refuse a frame whose jsonrpc,
        # method, name or arguments have another type: a refusal, not a disagreement.
        struct = go["struct"]
        typed = (
            isinstance(msg.body.get("jsonrpc"), str | None)
            and isinstance(checked["method"], str | None)
            and isinstance(checked["name"], str | None)
            and isinstance(checked["arguments"], dict | None)
            and isinstance(msg.body.get("params"), dict | None)
        )
        if typed or struct["ok"]:
            want_struct = _text({**checked, "method": checked["method"] or None,
                                 "name": checked["name"] or None})  # fmt: skip
            seen = _peer_view(struct)
            seen.update(method=seen.get("method") or None, name=seen.get("name") or None)
            if (got := _text(seen)) != want_struct:
                failures.append(f"go structs: {raw!r}\n  ztmcp: {want_struct}\n  peer:  {got}")
    assert not failures, f"{len(failures)} disagreements:\n" + "\n".join(failures[:20])
