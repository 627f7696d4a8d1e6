"""The launcher's rules as data: ``plan()`` over a fake host, properties over random grants."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztmcp.errors import PolicyError, UsageError
from ztmcp.sandbox.bwrap import NEVER, Host, plan, within
from ztmcp.sandbox.profile import Profile, parse_net, parse_table

HOME_DIRS = (".ssh", ".aws", ".config/gcloud", ".config/app", "src/a", "src/b", "notes")


def make_host(root: Path) -> Host:
    home = root / "home"
    for rel in HOME_DIRS:
        (home / rel).mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "id_rsa").write_text("key")
    (home / ".npmrc").write_text("//registry/:_authToken=x")
    state = root / "state"
    state.mkdir(exist_ok=True)
    return Host(
        home=home,
        state_dir=state,
        cwd=home / "src",
        environ={
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "AWS_SECRET_ACCESS_KEY": "x",
            "OPENAI_API_KEY": "y",
            "LC_ALL": "C",
            "KEEP_ME": "1",
        },
        bwrap=Path("/usr/bin/bwrap"),
        python=Path("/usr/bin/python3"),
        python_prefix=Path("/usr"),
    )


def no_secret(name: str) -> str:
    raise AssertionError(f"secret {name} read without a policy naming it")


def test_defaults(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    p = plan(Profile(), ["/usr/bin/true"], host, egress_socket=None, secret=no_secret)
    argv = list(p.argv)
    for flag in (
        "--unshare-user",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
    ):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--unshare-all" not in argv  # it only *tries* the user namespace
    assert ["--tmpfs", str(host.home)] == argv[argv.index(str(host.home)) - 1 :][:2]
    assert p.mounts == ()
    assert set(p.env) == {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR"}
    assert argv[-1] == "/usr/bin/true"


def test_env_allow_list_and_secrets(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    profile = Profile(env=("KEEP_ME",), secrets={"API_TOKEN": "tok"})
    p = plan(profile, ["/usr/bin/true"], host, egress_socket=None, secret=lambda n: f"<{n}>")
    assert p.env["KEEP_ME"] == "1" and p.env["API_TOKEN"] == "<tok>"
    assert "AWS_SECRET_ACCESS_KEY" not in p.env and "OPENAI_API_KEY" not in p.env
    assert "<tok>" not in " ".join(p.argv)  # secrets travel in the environment only


def test_grant_inside_a_secret_dir_is_refused(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    with pytest.raises(UsageError, match="never reaches"):
        plan(
            Profile(allow_read=("~/.ssh",)),
            ["/usr/bin/true"],
            host,
            egress_socket=None,
            secret=no_secret,
        )
    with pytest.raises(UsageError, match="contains"):
        plan(
            Profile(allow_write=("~",)),
            ["/usr/bin/true"],
            host,
            egress_socket=None,
            secret=no_secret,
        )


def test_read_grant_of_home_masks_the_secrets(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    p = plan(
        Profile(allow_read=("~",)), ["/usr/bin/true"], host, egress_socket=None, secret=no_secret
    )
    argv = list(p.argv)
    for rel in (".ssh", ".aws", ".config/gcloud"):
        path = str(host.home / rel)
        assert path in p.masked
        assert argv.index(path) > argv.index("--ro-bind", argv.index(str(host.home)) - 2)
    assert str(host.home / ".npmrc") in p.masked
    assert str(host.state_dir) not in p.masked  # not below the grant: not mounted at all


def test_argument_files_are_mounted_read_only_but_never_secrets(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    config = host.home / "notes" / "server.json"
    config.write_text("{}")
    command = ["/usr/bin/true", str(config), "~/.ssh/id_rsa", str(host.home / "src")]
    p = plan(Profile(), command, host, egress_socket=None, secret=no_secret)
    assert [(m.path, m.writable) for m in p.mounts] == [(str(config), False)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reads=st.lists(
        st.sampled_from(
            [
                "~",
                "~/src",
                "~/src/*",
                "~/.config",
                "~/notes",
                "~/.ssh",
                "~/.config/gcloud",
                "~/.config/app",
            ]
        ),
        max_size=4,
    ),
    writes=st.lists(
        st.sampled_from(["~/src/a", "~/notes", "~/.config", "~", "~/src/*"]), max_size=3
    ),
)
def test_no_plan_exposes_a_never_path(tmp_path: Path, reads: list[str], writes: list[str]) -> None:
    """Whatever is granted, a plan either refuses or leaves every NEVER path unreachable:
    not under any mount, or masked after the last mount that exposes it."""
    host = make_host(tmp_path)
    try:
        p = plan(
            Profile(allow_read=tuple(reads), allow_write=tuple(writes)),
            ["/usr/bin/true"],
            host,
            egress_socket=None,
            secret=no_secret,
        )
    except UsageError:
        return
    argv = list(p.argv)
    never = [str(host.home) + n[1:] if n.startswith("~") else n for n in NEVER]
    never.append(str(host.state_dir))
    for secret in never:
        exposing = [m for m in p.mounts if within(secret, m.path)]
        if not exposing or not os.path.exists(secret):
            continue
        assert secret in p.masked, (secret, exposing)
        assert not any(m.writable and within(secret, m.path) for m in p.mounts)
        last_mount = max(i for i, a in enumerate(argv) if a in {m.path for m in exposing})
        assert max(i for i, a in enumerate(argv) if a == secret) > last_mount


def test_net_rules() -> None:
    (web80, web443) = parse_net("api.example.com")
    assert (web80.port, web443.port) == (80, 443)
    (rule,) = parse_net("*.example.org:8443")
    assert rule.matches("a.example.org", 8443) and not rule.matches("example.org", 8443)
    assert not rule.matches("a.example.org", 443)
    (anyport,) = parse_net("127.0.0.1:*")
    assert anyport.matches("127.0.0.1", 1) and not anyport.matches("127.0.0.2", 1)
    for bad in ("*", "*.*", "host:0", "host:99999", "host:x", ""):
        with pytest.raises(UsageError):
            parse_net(bad)


def test_table() -> None:
    table = parse_table(
        {
            "enforce": True,
            "servers": {
                "fetch*": {"allow_net": ["a.example"]},
                "fetch-x": {"allow_read": ["~/x"], "env": ["A"]},
            },
        },
        "ztmcp.toml",
    )
    assert table.enforce
    both = table.profile_for("fetch-x")
    assert both is not None and both.allow_read == ("~/x",) and both.env == ("A",)
    assert both.net_rule("a.example", 443) is not None
    assert table.profile_for("other") is None
    for bad in (
        {"servers": {"x": {"allow_nte": []}}},
        {"enfroce": True},
        {"servers": {"x": {"allow_net": ["*"]}}},
        {"servers": {"x": {"env": ["1A"]}}},
        {"servers": {"x": {"secrets": {"A": 1}}}},
        {"servers": {"": {}}},  # server globs by the rule [[access.rule]] server is read by
        {"servers": {"fetch\u202e": {}}},
        {"servers": {" fetch": {}}},
    ):
        with pytest.raises(PolicyError):
            parse_table(bad, "ztmcp.toml")


def test_launcher_caches_are_private_overlays_and_offline(tmp_path: Path) -> None:
    host = make_host(tmp_path)
    (host.home / ".npm" / "_npx").mkdir(parents=True)
    (host.home / ".cache" / "uv").mkdir(parents=True)
    for launcher, cache, offline in (
        ("npx", host.home / ".npm", "npm_config_offline"),
        ("uvx", host.home / ".cache" / "uv", "UV_OFFLINE"),
    ):
        p = plan(Profile(), [launcher, "pkg"], host, egress_socket=None, secret=no_secret)
        argv = list(p.argv)
        at = argv.index("--overlay-src")
        assert argv[at : at + 4] == ["--overlay-src", str(cache), "--tmp-overlay", str(cache)]
        assert ["--ro-bind", str(cache), str(cache)] not in [
            argv[i : i + 3] for i in range(len(argv))
        ]
        assert [m.mode for m in p.mounts if m.path == str(cache)] == ["overlay"]
        assert offline in p.env
    # A variable the profile passes through wins over the launcher's offline default.
    host = replace(host, environ={**host.environ, "npm_config_offline": "false"})
    p = plan(
        Profile(env=("npm_config_offline",)),
        ["npx", "pkg"],
        host,
        egress_socket=None,
        secret=no_secret,
    )
    assert p.env["npm_config_offline"] == "false"
    # A writable grant of the cache is a bind, not an overlay.
    p = plan(
        Profile(allow_write=(str(host.home / ".npm"),)),
        ["npx", "pkg"],
        host,
        egress_socket=None,
        secret=no_secret,
    )
    assert [m.mode for m in p.mounts if m.path == str(host.home / ".npm")] == ["rw"]
