"""The rule modules are data, and the engines run exactly that data.

``ztmcp/detectors/rules/`` holds frozen ``Rule`` values with their triggers; the engines
(``detectors.instructions``, ``detectors.secrets``) compile them one to one, in order.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.detectors import instructions, secrets
from ztmcp.detectors.rules import instructions as instruction_rules
from ztmcp.detectors.rules import secrets as secret_rules

RULES_DIR = Path(instructions.__file__).parent / "rules"


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_rule_modules_import_only_the_severity_leaf(path: Path) -> None:
    """Data, not engine: a rule module needs nothing of ztmcp but ``Severity``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m and m.startswith("ztmcp")} <= {"ztmcp.severity"}


def test_rules_are_frozen() -> None:
    for rule in (instruction_rules.RULES[0], secret_rules.RULES[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            rule.rule = "changed"  # type: ignore[misc]


def test_instruction_engine_runs_the_data_in_order() -> None:
    assert len(instructions.RULES) == len(instruction_rules.RULES) > 20
    for compiled, rule in zip(instructions.RULES, instruction_rules.RULES, strict=True):
        assert (compiled.rule, compiled.category, compiled.pattern.pattern, compiled.message) == (
            rule.rule,
            rule.category,
            rule.pattern,
            rule.message,
        )
        assert (compiled.description, compiled.content) == (rule.description, rule.content)
        assert compiled.triggers == tuple(rule.triggers)
        # A rule without triggers would never run (but the one that runs after a directive).
        assert compiled.triggers or rule.rule == "instr.risky_code"


def test_secret_engine_runs_the_data_in_order() -> None:
    assert len(secrets.PROVIDERS) == len(secret_rules.RULES) > 50
    for (rule_id, name, rx, severity), rule in zip(
        secrets.PROVIDERS, secret_rules.RULES, strict=True
    ):
        assert (rule_id, name, rx.pattern, severity) == (
            rule.rule,
            rule.provider,
            rule.pattern,
            rule.severity,
        )


_WITH_LITERAL = [r for r in secret_rules.RULES if r.required is not None]


@pytest.mark.parametrize("rule", _WITH_LITERAL, ids=lambda r: f"{r.rule}:{r.required}")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_required_literal_is_in_every_match(rule: secret_rules.Rule, data: st.DataObject) -> None:
    """The engine skips a shape whose ``required`` literal is absent: that loses nothing only
    if every match of the shape holds the literal."""
    body = rule.pattern.removeprefix(secret_rules.B).removeprefix(secret_rules.DS)
    text = data.draw(st.from_regex(re.compile(body), fullmatch=True))
    m = re.compile(rule.pattern).search(text)
    if m is not None:
        assert rule.required in m.group(0)
