"""The [watch] and [export] tables: anything unknown or ill-typed refuses the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from ztmcp.errors import PolicyError
from ztmcp.watch.policy import WatchPolicy, load, parse


def test_defaults_and_a_full_table(tmp_path: Path) -> None:
    assert load(None) == WatchPolicy()
    path = tmp_path / "p.toml"
    path.write_text(
        '[watch]\nname = "a"\nsecrets = "deny"\ninjection = "deny"\nstore_content = true\n'
        'openai_compatible = ["llm.corp"]\n[export]\notlp_endpoint = "http://h:4318"\n'
    )
    assert load(path) == WatchPolicy("a", "deny", "deny", True, ("llm.corp",), "http://h:4318")


@pytest.mark.parametrize(
    "data",
    [
        {"watch": {"secret": "deny"}},
        {"watch": {"secrets": "allow"}},
        {"watch": {"injection": "redact"}},
        {"watch": {"store_content": "yes"}},
        {"watch": {"openai_compatible": "llm.corp"}},
        {"watch": {"name": ""}},
        {"watch": {"name": "agent\x1b]0;x\x07"}},  # the rule --name is read by
        {"watch": {"name": " agent"}},
        {"export": {"otlp_endpoint": "grpc://h:4317"}},
        {"export": {"endpoint": "http://h"}},
        {"watch": []},
    ],
)
def test_refused(data: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        parse(data, "p.toml")
