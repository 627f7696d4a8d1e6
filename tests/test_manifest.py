"""Manifest: canonical digests (RFC 8785), ordering independence, what is pinned, diff, JSON."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ztmcp.drift import compare, lines
from ztmcp.errors import PinError
from ztmcp.manifest import FORMAT, Manifest, canonical_item, item_digest

ECHO: dict[str, Any] = {
    "name": "echo",
    "title": "Echo",
    "description": "Echoes back the input string",
    "inputSchema": {
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    },
    "annotations": {"readOnlyHint": True, "destructiveHint": False},
}
ADD: dict[str, Any] = {
    "name": "add",
    "description": "Adds two numbers.",
    "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}}},
    "outputSchema": {"type": "object", "properties": {"sum": {"type": "integer"}}},
}
PROMPT: dict[str, Any] = {
    "name": "greet",
    "description": "Greets",
    "arguments": [{"name": "who", "required": True}],
}
TEMPLATE: dict[str, Any] = {
    "name": "file",
    "uriTemplate": "file:///{path}",
    "mimeType": "text/plain",
}


def diff(pinned: Manifest, observed: Manifest) -> list[str]:
    """The per-field difference, as ``ztmcp diff`` prints it (``ztmcp.drift``)."""
    return lines(compare(pinned, observed))


def build(**over: Any) -> Manifest:
    args: dict[str, Any] = {
        "server_name": "demo",
        "server_version": "1.0",
        "instructions": "Use me well.",
        "tools": [ECHO, ADD],
        "prompts": [PROMPT],
        "resource_templates": [TEMPLATE],
    }
    args.update(over)
    return Manifest.from_lists(**args)


def test_digest_is_stable_and_well_formed() -> None:
    a, b = build(), build()
    assert a.digest == b.digest
    assert a.digest.startswith("sha256:") and len(a.digest) == 7 + 64
    # Known-answer: RFC 8785 sorts keys and writes no whitespace.
    import hashlib

    item = {"name": "x", "description": "é"}
    expected = hashlib.sha256('{"description":"é","name":"x"}'.encode()).hexdigest()
    assert item_digest("tools", item) == "sha256:" + expected


def test_order_of_items_and_keys_does_not_matter() -> None:
    shuffled = {k: ECHO[k] for k in reversed(list(ECHO))}
    shuffled["inputSchema"] = {k: ECHO["inputSchema"][k] for k in reversed(ECHO["inputSchema"])}
    assert build(tools=[ADD, shuffled]).digest == build().digest
    assert list(build(tools=[ADD, ECHO]).tools) == ["add", "echo"]


def test_meta_icons_nulls_and_unknown_fields_are_not_pinned() -> None:
    noisy = copy.deepcopy(ECHO)
    noisy["_meta"] = {"io.modelcontextprotocol/x": 1}
    noisy["icons"] = [{"src": "https://example.com/i.png"}]
    noisy["execution"] = {"taskSupport": "forbidden"}
    noisy["outputSchema"] = None
    noisy["annotations"] = {**ECHO["annotations"], "x-vendor": True, "title": None}
    assert item_digest("tools", noisy) == item_digest("tools", ECHO)
    assert "_meta" not in canonical_item("tools", noisy)
    assert build(tools=[noisy, ADD]).digest == build().digest


def test_every_pinned_field_changes_the_digest() -> None:
    base = item_digest("tools", ECHO)
    for key, value in [
        ("description", "Echoes back the input string."),
        ("title", "Echo!"),
        ("inputSchema", {"type": "object"}),
        ("outputSchema", {"type": "object"}),
        ("annotations", {"readOnlyHint": True, "destructiveHint": True}),  # flipped hint
    ]:
        changed = {**ECHO, key: value}
        assert item_digest("tools", changed) != base, key


def test_annotation_flip_changes_item_and_whole_digest() -> None:
    flipped = copy.deepcopy(ECHO)
    flipped["annotations"]["destructiveHint"] = True
    assert build(tools=[flipped, ADD]).digest != build().digest
    assert (
        build(tools=[flipped, ADD]).item_digests("tools")["add"]
        == build().item_digests("tools")["add"]
    )


def test_server_fields_count_in_the_whole_digest_only() -> None:
    assert build(server_version="1.1").digest != build().digest
    assert build(instructions="Other.").digest != build().digest
    assert build(server_version="1.1").item_digests("tools") == build().item_digests("tools")
    assert build(instructions="").digest == build(instructions=None).digest


def test_duplicate_and_nameless_items_are_errors() -> None:
    with pytest.raises(PinError, match="listed twice"):
        build(tools=[ECHO, ECHO])
    with pytest.raises(PinError, match="no name"):
        build(tools=[{"description": "x"}])
    with pytest.raises(PinError, match="canonicalise"):
        build(tools=[{"name": "big", "inputSchema": {"maximum": 2**60}}])


def test_json_round_trip() -> None:
    m = build()
    text = m.to_json()
    assert json.loads(text)["format"] == FORMAT
    assert Manifest.from_json(text) == m
    assert Manifest.from_json(text).digest == m.digest
    assert m.to_json() == build(tools=[ADD, ECHO]).to_json()  # stable text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"format": "other"}', "format must be"),
        (f'{{"format": "{FORMAT}", "tools": {{}}}}', "tools must be a list"),
        (f'{{"format": "{FORMAT}", "tools": [{{"name": ""}}]}}', r"tools\[0\].name"),
        (f'{{"format": "{FORMAT}", "tools": [{{"name": "a", "x": 1}}]}}', "unknown key 'x'"),
        (f'{{"format": "{FORMAT}", "server": {{"name": 1}}}}', "server.name must be a string"),
        (f'{{"format": "{FORMAT}", "extra": 1}}', "unknown key 'extra'"),
        (f'{{"format": "{FORMAT}", "tools": [{{"name": "a"}}, {{"name": "a"}}]}}', "twice"),
    ],
)
def test_from_json_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(PinError, match=message) as caught:
        Manifest.from_json(text, "m.json")
    assert caught.value.message.startswith("m.json: ")
    assert "\n" not in caught.value.message


def test_diff_is_readable_per_field() -> None:
    changed = copy.deepcopy(ECHO)
    changed["description"] = "Deletes everything"
    changed["annotations"]["destructiveHint"] = True
    changed["inputSchema"]["properties"]["force"] = {"type": "boolean"}
    new = {"name": "new_tool", "description": "New"}
    observed = build(tools=[changed, new], server_version="2.0", prompts=[])
    lines = diff(build(), observed)
    assert 'server.version: "1.0" -> "2.0"' in lines
    assert (
        'tool \'echo\': description: "Echoes back the input string" -> "Deletes everything"'
        in lines
    )
    assert "tool 'echo': annotations.destructiveHint: false -> true" in lines
    assert 'tool \'echo\': inputSchema.properties.force: added {"type": "boolean"}' in lines
    assert "tool 'add': removed" in lines
    assert "tool 'new_tool': added (not pinned)" in lines
    assert "prompt 'greet': removed" in lines
    assert diff(build(), build()) == []


def test_diff_truncates_long_values() -> None:
    long = {**ECHO, "description": "x" * 500}
    (line,) = diff(build(tools=[ECHO, ADD]), build(tools=[long, ADD]))
    assert len(line) < 200 and line.endswith("…")


# -- the fast canonical path agrees with rfc8785 ---------------------------------------------

CANONICAL_CASES = [
    {"b": 1, "a": [True, False, None], "c": {"z": "", "y": []}},
    {"s": '\x00\x01\x1f\x7f\u2028\u2029"\\\b\f\n\r\t/'},
    {"emoji": "😀 𝄞 é ß 中文", "nested": [[[{"k": "v"}]]]},
    {"max": 2**53 - 1, "min": -(2**53 - 1), "zero": 0, "neg": -5},
    {"A": 1, "a": 2, "_": 3, "0": 4, "~": 5},  # ASCII order
    # These leave the fast path; the result must still be rfc8785's.
    {"float": 1.0, "exp": 1e21, "small": 5e-324, "neg0": -0.0, "pi": 3.141592653589793},
    {"\ue000": 1, "😀": 2, "é": 3},  # non-ASCII keys: UTF-16 order
    ["a", {"x": 0.5}],
]


@pytest.mark.parametrize("value", CANONICAL_CASES)
def test_canonical_json_is_rfc8785(value: object) -> None:
    import rfc8785

    from ztmcp.manifest import canonical_json

    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [{"n": 2**53}, {"s": "\ud800"}, {"f": float("nan")}])
def test_canonical_json_refuses_what_rfc8785_refuses(value: object) -> None:
    from ztmcp.errors import PinError
    from ztmcp.manifest import canonical_json

    with pytest.raises(PinError, match="cannot canonicalise"):
        canonical_json(value)


def test_canonical_json_agrees_on_realistic_tools() -> None:
    import rfc8785

    from ztmcp.manifest import canonical_json

    for i in range(60):
        tool = {
            "name": f"tool_{i}",
            "description": f"Reads record {i}. « Unicode » — 😀\n\tIndented.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z]+\\d*$"},
                    "limit": {"type": "integer", "minimum": -i, "maximum": 10**i % 2**53},
                },
                "required": ["id"],
                "additionalProperties": i % 2 == 0,
            },
            "annotations": {"readOnlyHint": True, "destructiveHint": None},
        }
        assert canonical_json(tool) == rfc8785.dumps(tool)
