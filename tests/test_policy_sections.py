"""The policy's check sections: a table that is absent reads as its config's default, and the
flow check's module (with the run tracker behind it) loads only when a policy has a [flow] or
[[capabilities]] table or the flow check is built."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.policy import _SECTIONS, Table, parse_policy

ROOT = Path(__file__).resolve().parents[1]
FLOW_MODULES = (
    "ztmcp.checks.flow",
    "ztmcp.behaviour.run",
    "ztmcp.behaviour.elicited",
    "ztmcp.behaviour.fingerprint",
    "ztmcp.behaviour.anomaly",
    "ztmcp.behaviour.capabilities",
)


def test_an_empty_table_reads_as_the_default_config() -> None:
    """So a section whose table is absent need not be parsed (nor its module loaded)."""
    for name, section in _SECTIONS.items():
        parsed = section.parse(Table({}, name, "p", section.keys, {}))
        assert parsed == section.config(), name


def test_each_section_names_the_top_level_tables_its_config_reads() -> None:
    for name, section in _SECTIONS.items():
        assert section.top == getattr(section.config, "TOP_KEYS", frozenset()), name


# Tables with values other than the defaults, to mix into a policy.
_TABLES: dict[str, Any] = {
    "envelope": {"allow_methods": ["vendor/x"]},
    "pins": {"mode": "strict"},
    "access": {"default": "grant", "rule": [{"tool": "read_*", "action": "allow"}]},
    "schema": {"action": "flag"},
    "poisoning": {"threshold": "medium"},
    "injection": {"action": "redact"},
    "secrets": {"inbound": "deny"},
    "flow": {"trifecta": "deny", "exempt": [{"server": "notes", "tool": "get_*"}]},
    "capabilities": [{"tool": "send_*", "labels": ["public_sink"]}],
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(_TABLES)), unique=True), st.booleans())
def test_every_config_is_what_parsing_its_table_gives(tables: list[str], empty: bool) -> None:
    """Differential: whichever tables a policy sets (or sets empty), each check's config is
    what the section's parser makes of its table, present or not (the eager reading)."""
    data: dict[str, Any] = {
        t: ({} if empty and t != "capabilities" else _TABLES[t]) for t in tables
    }
    policy = parse_policy(data, "p")
    for name, section in _SECTIONS.items():
        eager = section.parse(Table(data.get(name), name, "p", section.keys, data))
        assert policy.config(section.config) == eager, name


_PROBE = """
import json, sys
from pathlib import Path
from ztmcp.policy import build_checks, parse_policy
policy = parse_policy(json.loads(sys.argv[1]), "p")
loaded = [m for m in {flow} if m in sys.modules]
build_checks(policy)
built = [m for m in {flow} if m in sys.modules]
print(json.dumps([loaded, built]))
"""


def _loaded(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.replace("{flow}", repr(FLOW_MODULES)), json.dumps(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded, built = json.loads(done.stdout)
    return loaded, built


def test_the_flow_modules_load_only_for_a_flow_table_or_the_flow_check() -> None:
    loaded, built = _loaded({"checks": ["envelope", "pins", "access"]})
    assert loaded == [] and built == []
    loaded, built = _loaded({})  # every check, flow among them: built, not before
    assert loaded == [] and set(built) == set(FLOW_MODULES)
    loaded, _ = _loaded({"flow": {"trifecta": "deny"}})
    assert "ztmcp.checks.flow" in loaded
    loaded, _ = _loaded({"capabilities": _TABLES["capabilities"], "checks": ["envelope"]})
    assert "ztmcp.behaviour.capabilities" in loaded
