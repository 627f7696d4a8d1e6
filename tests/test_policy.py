from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.errors import PolicyError
from ztmcp.policy import CHECK_ORDER, build_checks, load_policy
from ztmcp.session import Mode


def load(tmp_path: Path, project: str | None = None, user: str | None = None):  # type: ignore[no-untyped-def]
    user_file = tmp_path / "home" / "config.toml"
    if user is not None:
        user_file.parent.mkdir(parents=True, exist_ok=True)
        user_file.write_text(user)
    if project is not None:
        (tmp_path / "ztmcp.toml").write_text(project)
    return load_policy(None, cwd=tmp_path, user_config=user_file)


def error(tmp_path: Path, project: str) -> str:
    with pytest.raises(PolicyError) as info:
        load(tmp_path, project)
    return info.value.diagnostics()


def test_defaults_without_any_file(tmp_path: Path) -> None:
    policy = load(tmp_path)
    assert policy.mode is Mode.ENFORCE and policy.checks == CHECK_ORDER and policy.sources == ()
    assert [c.name for c in build_checks(policy)] == list(CHECK_ORDER)


def test_project_over_user(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        project='[envelope]\nallow_methods = ["vendor/a"]\n',
        # the project narrows the user's methods: a tightening needs no approval
        user='mode = "monitor"\n[limits]\nmax_depth = 12\n'
        '[envelope]\nallow_methods = ["x/y", "vendor/a"]\n',
    )
    assert policy.mode is Mode.MONITOR
    assert policy.limits.max_depth == 12
    assert policy.allow_methods == ("vendor/a",)
    assert len(policy.sources) == 2
    envelope = build_checks(policy)[0]
    assert isinstance(envelope, EnvelopeCheck)


@pytest.mark.parametrize(
    ("text", "must_say"),
    [
        ('mode = "block"', ["ztmcp.toml", "mode", "enforce"]),
        ("[limits]\nmax_depth = -1", ["[limits] max_depth", "positive integer", "max_depth = 64"]),
        ("[limits]\nmax_depht = 3", ["unknown key 'max_depht'", "max_depth"]),
        ("colour = 1", ["unknown key 'colour'", "top level"]),
        ('checks = ["envelope", "magic"]', ["unknown check 'magic'", "known checks"]),
        ("checks = []", ["allow everything"]),
        ('[envelope]\nallow_methods = "x"', ["allow_methods", "list"]),
        ("limits = 3", ["limits must be a table"]),
        ("mode = [", ["not valid TOML"]),
    ],
)
def test_bad_policy_is_one_clear_error_naming_file_key_and_fix(
    tmp_path: Path, text: str, must_say: list[str]
) -> None:
    message = error(tmp_path, text)
    for fragment in must_say:
        assert fragment in message
    assert "Traceback" not in message


def test_explicit_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.toml", cwd=tmp_path, user_config=tmp_path / "u.toml")
    assert "nope.toml" in info.value.message


def test_non_utf8_file(tmp_path: Path) -> None:
    (tmp_path / "ztmcp.toml").write_bytes(b'mode = "\xff"')
    with pytest.raises(PolicyError) as info:
        load_policy(None, cwd=tmp_path, user_config=tmp_path / "u.toml")
    assert "UTF-8" in info.value.message


# Every key of every check's table: a bad value is one line naming the file, the table and
# key, and a fix (the values are parsed in the same pass that validates them).
@pytest.mark.parametrize(
    ("text", "must_say"),
    [
        ('[envelope]\nallow_methods = [""]', ["[envelope] allow_methods", "vendor/custom"]),
        ("[envelope]\nallow = 1", ["unknown key 'allow'", "[envelope]", "allow_methods"]),
        ('[pins]\nmode = "loose"', ["[pins] mode must be one of", "'tofu'", 'mode = "tofu"']),
        ("[pins]\nlockfile = 3", ["[pins] lockfile must be a file path", "ztmcp.lock"]),
        ("[pins]\nmodes = 3", ["unknown key 'modes'", "[pins]", "lockfile, mode"]),
        ('[access]\ndefault = "open"', ["[access] default must be one of", 'default = "allow"']),
        ('[access]\nhold_seconds = "1m"', ["[access] hold_seconds must be a number from 0"]),
        ("[access]\nrule = 3", ["[access] rule must be a list of tables", "[[access.rule]]"]),
        ('[[access.rule]]\ntool = "x"\naction = "maybe"', ["[[access.rule]] #1 action"]),
        ('[[access.rule]]\ntool = "x"\naction = "deny"\nwho = 1', ["unknown key 'who'"]),
        ('[[access.rule]]\ntool = "x"\naction = "deny"\nserver = ""', ["#1 server must be"]),
        ("access = {rule = [3]}", ["[[access.rule]] #1 must be a table"]),
        ('[schema]\naction = "redact"', ["[schema] action must be one of 'deny', 'flag'"]),
        ('[schema]\noutput_action = "x"', ["[schema] output_action", 'output_action = "flag"']),
        ("[schema]\nmax_schema_bytes = 0", ["[schema] max_schema_bytes", "positive integer"]),
        ('[schema]\nmax_schema_bytes = "1k"', ["max_schema_bytes = 262144"]),
        ('[poisoning]\naction = "redact"', ["[poisoning] action", 'action = "rewrite"']),
        ('[poisoning]\nthreshold = "severe"', ["[poisoning] threshold", 'threshold = "high"']),
        ("[injection]\nthreshold = 2", ["[injection] threshold must be low, medium, high"]),
        ('[injection]\naction = "rewrite"', ["[injection] action", 'action = "deny"']),
        ('[secrets]\noutbound = "drop"', ["[secrets] outbound", 'outbound = "deny"']),
        ('[secrets]\ninbound = "rewrite"', ["[secrets] inbound", 'inbound = "redact"']),
        ("[secrets]\nthreshhold = 'low'", ["unknown key 'threshhold'", "inbound, outbound"]),
        ("secrets = 1", ["secrets must be a table", "[secrets]"]),
        ("[proxy]\nheaders = []", ["unknown key 'headers'", "[proxy]"]),
    ],
)
def test_every_check_table_error_is_one_line_with_key_and_hint(
    tmp_path: Path, text: str, must_say: list[str]
) -> None:
    (tmp_path / "p.toml").write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "p.toml", cwd=tmp_path, user_config=tmp_path / "u.toml")
    message = info.value.diagnostics()
    for fragment in must_say:
        assert fragment in message, (fragment, message)
    assert info.value.hint, message  # every such error says what to do
    assert "\n" not in info.value.message and "Traceback" not in message


def test_a_table_is_parsed_into_typed_values(tmp_path: Path) -> None:
    from ztmcp.checks.access import AccessConfig, AccessDefault, Rule, RuleAction
    from ztmcp.checks.base import Severity
    from ztmcp.checks.config import OnFinding
    from ztmcp.checks.schema import SchemaConfig

    path = tmp_path / "p.toml"
    path.write_text(
        '[schema]\naction = "flag"\nmax_schema_bytes = 10\n'
        '[poisoning]\nthreshold = "critical"\n'
        '[access]\ndefault = "grant"\nhold_seconds = 5\n'
        '[[access.rule]]\ntool = "read_*"\naction = "allow"\n'
    )
    policy = load_policy(path, cwd=tmp_path, user_config=tmp_path / "u.toml")
    assert policy.config(SchemaConfig) == SchemaConfig(OnFinding.FLAG, OnFinding.FLAG, 10)
    assert policy.access == AccessConfig("grant", (Rule("*", "read_*", "allow"),), 5.0)
    assert policy.access.default is AccessDefault.GRANT
    assert policy.access.rule[0].action is RuleAction.ALLOW
    from ztmcp.checks.poisoning import PoisoningConfig

    assert policy.config(PoisoningConfig).threshold is Severity.CRITICAL


def _toml_values() -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.booleans(),
        st.integers(-5, 10**7),
        st.floats(allow_nan=False),
        st.sampled_from(
            [
                "flag",
                "deny",
                "redact",
                "rewrite",
                "high",
                "low",
                "tofu",
                "grant",
                "allow",
                "annotations",
                "x",
                "",
            ]
        ),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["tool", "action", "server", "x"]), inner, max_size=3)
        ),
        max_leaves=8,
    )


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_table_either_parses_or_is_one_policy_error(data: st.DataObject) -> None:
    """Fault boundary: whatever a table holds, parsing answers with a Policy whose configs
    are typed, or a PolicyError; never another exception, never a half-read table."""
    from ztmcp.policy import _SECTIONS, parse_policy

    name = data.draw(st.sampled_from(sorted(_SECTIONS)))
    keys = [*sorted(_SECTIONS[name].keys), "typo"]
    table = data.draw(st.dictionaries(st.sampled_from(keys), _toml_values(), max_size=4))
    try:
        policy = parse_policy({name: table}, "p.toml")
    except PolicyError as exc:
        assert exc.message.startswith("p.toml: ") and "\n" not in exc.message
        return
    config = policy.config(_SECTIONS[name].config)
    assert "typo" not in table
    for key in _SECTIONS[name].keys:  # every value given is the one read
        if key in table and key != "rule":
            assert _plain(getattr(config, key)) == table[key], key


def _plain(value: object) -> object:
    """A config value as TOML wrote it (tuples were lists, paths were strings)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value
