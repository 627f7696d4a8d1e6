from __future__ import annotations

from pathlib import Path

import pytest

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
