"""Policy: ``ztmcp.toml`` in the project over the user config, turned into check objects.

Bad policy is a one-line error at start that names the file, the key and the fix; it is never
replaced by a silent default. Unknown keys are errors too: a typo must not disable a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from ztmcp.checks.access import AccessCheck
from ztmcp.checks.base import Check
from ztmcp.checks.envelope import EnvelopeCheck
from ztmcp.checks.flow import FlowCheck
from ztmcp.checks.injection import InjectionCheck
from ztmcp.checks.pins import MODES as PIN_MODES
from ztmcp.checks.pins import PinsCheck
from ztmcp.checks.poisoning import PoisoningCheck
from ztmcp.checks.schema import SchemaCheck
from ztmcp.checks.secrets import SecretsCheck
from ztmcp.credentials import HeaderRule, parse_header_rules
from ztmcp.errors import PolicyError
from ztmcp.jsonrpc import DEFAULT_LIMITS, Limits
from ztmcp.sandbox.profile import parse_table as parse_sandbox_table
from ztmcp.session import Mode

PROJECT_FILE: Final = "ztmcp.toml"

# Every check ztmcp knows, in the fixed order the Session runs them.
CHECK_ORDER: Final = (
    "envelope", "pins", "access", "schema", "poisoning", "injection", "secrets", "flow"
)

# Detection checks: each validates its own policy table (threshold/actions) via from_table.
_DETECTION: Final[Mapping[str, Any]] = {
    "schema": SchemaCheck,
    "poisoning": PoisoningCheck,
    "injection": InjectionCheck,
    "secrets": SecretsCheck,
}

_TOP_KEYS: Final = {
    "mode", "checks", "limits", "envelope", "pins", "access", "proxy", "sandbox", *_DETECTION,
    "flow", "capabilities",
}
_TABLE_KEYS: Final = {
    "limits": {"max_message_bytes", "max_depth"},
    "envelope": {"allow_methods"},
    "pins": {"mode", "lockfile"},
    "access": set(AccessCheck.KEYS),
    "proxy": {"header"},
    "flow": set(FlowCheck.KEYS),
    **{name: set(cls.KEYS) for name, cls in _DETECTION.items()},
}


@dataclass(frozen=True, slots=True)
class Policy:
    mode: Mode = Mode.ENFORCE
    checks: tuple[str, ...] = CHECK_ORDER
    limits: Limits = DEFAULT_LIMITS
    allow_methods: tuple[str, ...] = ()
    sources: tuple[Path, ...] = field(default=())
    # Validated tables of the detection checks ([schema], [poisoning], [injection], [secrets]).
    detection: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # [pins]: "tofu" (unpinned servers are pinned on first use, see ztmcp.pinning), "strict",
    # "off"; a relative lockfile path is resolved against the directory ztmcp runs in.
    pins_mode: str = "tofu"
    lockfile: Path = Path("ztmcp.lock")
    # The validated [access] table (default and per-tool rules).
    access: Mapping[str, Any] = field(default_factory=dict)
    # [[proxy.header]]: headers (brokered secrets) `ztmcp proxy` adds upstream-side.
    upstream_headers: tuple[HeaderRule, ...] = ()
    # [flow] and [[capabilities]] (ztmcp.checks.flow, ztmcp.behaviour.capabilities), validated.
    flow: Mapping[str, Any] = field(default_factory=dict)
    capabilities: tuple[Mapping[str, Any], ...] = ()


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file", hint="check the --policy path") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    import tomllib  # only when there is a file to read: 20 ms of ztmcp run's start-up

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc})", hint="fix the syntax there") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _unknown(path: str, where: str, keys: set[str], known: set[str]) -> None:
    extra = sorted(keys - known)
    if extra:
        raise PolicyError(
            f"{path}: unknown key {extra[0]!r} in {where}",
            hint=f"valid keys there: {', '.join(sorted(known))}",
        )


def _positive_int(path: str, table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(
            f"{path}: [limits] {key} must be a positive integer, got {value!r}",
            hint=f"for example: {key} = {default}",
        )
    return value


class _NoGrants:
    """Stands in for the grant store while policy is only validated (no database opened)."""

    def live(self, server: str, tool: str, now: float) -> list[Any]:
        return []


_NO_GRANTS: Final = _NoGrants()


def parse_policy(data: Mapping[str, Any], origin: str) -> Policy:
    """Validate a merged policy mapping; ``origin`` names the file(s) in errors."""
    _unknown(origin, "the top level", set(data), _TOP_KEYS)
    for table, known in _TABLE_KEYS.items():
        value = data.get(table, {})
        if not isinstance(value, dict):
            raise PolicyError(f"{origin}: {table} must be a table", hint=f"write it as [{table}]")
        _unknown(origin, f"[{table}]", set(value), known)

    raw_mode = data.get("mode", Mode.ENFORCE.value)
    try:
        mode = Mode(raw_mode)
    except ValueError:
        raise PolicyError(
            f'{origin}: mode must be "enforce" or "monitor", got {raw_mode!r}',
            hint='set mode = "enforce" (block) or mode = "monitor" (record only)',
        ) from None

    checks = data.get("checks", list(CHECK_ORDER))
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise PolicyError(
            f"{origin}: checks must be a list of check names",
            hint=f"for example: checks = {list(CHECK_ORDER)}",
        )
    unknown = [c for c in checks if c not in CHECK_ORDER]
    if unknown:
        raise PolicyError(
            f"{origin}: unknown check {unknown[0]!r} in checks",
            hint=f"known checks: {', '.join(CHECK_ORDER)}",
        )
    if not checks:
        raise PolicyError(
            f"{origin}: checks is empty (that would allow everything)",
            hint="remove the key to run every check",
        )

    limits_table = data.get("limits", {})
    limits = Limits(
        max_bytes=_positive_int(
            origin, limits_table, "max_message_bytes", DEFAULT_LIMITS.max_bytes
        ),
        max_depth=_positive_int(origin, limits_table, "max_depth", DEFAULT_LIMITS.max_depth),
    )

    methods = data.get("envelope", {}).get("allow_methods", [])
    if not isinstance(methods, list) or not all(isinstance(m, str) and m for m in methods):
        raise PolicyError(
            f"{origin}: [envelope] allow_methods must be a list of method names",
            hint='for example: allow_methods = ["vendor/custom"]',
        )

    pins = data.get("pins", {})
    pins_mode = pins.get("mode", "tofu")
    if pins_mode not in PIN_MODES:
        raise PolicyError(
            f"{origin}: [pins] mode must be one of {', '.join(PIN_MODES)}, got {pins_mode!r}",
            hint='for example: mode = "tofu"',
        )
    lockfile = pins.get("lockfile", "ztmcp.lock")
    if not isinstance(lockfile, str) or not lockfile:
        raise PolicyError(
            f"{origin}: [pins] lockfile must be a file path",
            hint='for example: lockfile = "ztmcp.lock"',
        )

    detection = {name: dict(data.get(name, {})) for name in _DETECTION}
    for name, cls in _DETECTION.items():
        cls.from_table(detection[name], origin)  # bad values fail here, at start

    access = dict(data.get("access", {}))
    AccessCheck.from_table(access, origin, grants=_NO_GRANTS)  # bad rules fail here, at start
    if access and "access" not in checks:
        raise PolicyError(
            f"{origin}: [access] is set but the access check is not in checks",
            hint='add "access" to checks (or remove the key to run every check)',
        )

    upstream_headers = parse_header_rules(data.get("proxy", {}).get("header", []), origin)
    parse_sandbox_table(data.get("sandbox"), origin)  # validated here; used by ztmcp.sandbox

    flow = dict(data.get("flow", {}))
    capabilities = data.get("capabilities", [])
    FlowCheck.from_table(flow, origin, capabilities)  # bad values fail here, at start

    ordered = tuple(c for c in CHECK_ORDER if c in checks)
    return Policy(mode=mode, checks=ordered, limits=limits, allow_methods=tuple(methods),
                  detection=detection, pins_mode=pins_mode, lockfile=Path(lockfile),
                  access=access, upstream_headers=upstream_headers, flow=flow,
                  capabilities=tuple(capabilities))


def _stderr(line: str) -> None:
    import sys

    from ztmcp.terminal import safe_lines

    sys.stderr.write(f"ztmcp: {safe_lines(line)}\n")
    sys.stderr.flush()


def load_policy(
    explicit: Path | None,
    *,
    cwd: Path,
    user_config: Path,
    say: Callable[[str], None] | None = None,
) -> Policy:
    """The effective policy: ``explicit`` or ``cwd/ztmcp.toml``, over the user config.

    The user config and an ``explicit`` ``--policy FILE`` (typed by the user) are the user's
    word. A project ``ztmcp.toml`` came with the repository: it applies when it only tightens
    the user's policy (``loosenings`` finds nothing) or when the person approved its exact
    content (``ztmcp trust``); otherwise it is ignored, the user's own policy applies (fail
    closed) and ``say`` gets one line naming the command that reviews it.
    """
    sources: list[Path] = []
    user: dict[str, Any] = {}
    if user_config.is_file():
        user = _read(user_config)
        sources.append(user_config)
    data = user
    project_named_lock = False
    if explicit is not None:
        data = _merge(user, _read(explicit))
        sources.append(explicit)
    else:
        project = cwd / PROJECT_FILE
        if project.is_file():
            verdict = project_verdict(project, user, cwd)
            if verdict.applies:
                data = _merge(user, verdict.data)
                sources.append(project)
                project_named_lock = "lockfile" in verdict.data.get("pins", {})
            else:
                (say or _stderr)(verdict.notice())
    origin = " over ".join(str(p) for p in reversed(sources)) or "default policy"
    policy = parse_policy(data, origin)
    if project_named_lock:  # a path a repository file names stays inside the repository
        from ztmcp.trust import TrustError, confined

        where = policy.lockfile if policy.lockfile.is_absolute() else cwd / policy.lockfile
        try:
            confined(where, cwd, f"{cwd / PROJECT_FILE}: [pins] lockfile")
        except TrustError as exc:
            raise PolicyError(exc.message, hint=exc.hint) from None
    return replace(policy, sources=tuple(sources))


# -- repository files: what a project ztmcp.toml may change without an approval ---------------

_PIN_RANK: Final = {"off": 0, "tofu": 1, "strict": 2}
_ACCESS_RANK: Final = {"allow": 0, "annotations": 1, "grant": 2, "deny": 3}
_ACTION_RANK: Final = {"flag": 0, "redact": 1, "rewrite": 1, "deny": 2}
_SEVERITY_RANK: Final = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _detection_default(table: str, key: str) -> Any:
    """A detection key's value when the user's config leaves it out (the check's default)."""
    from ztmcp.checks import injection, poisoning, schema
    from ztmcp.checks import secrets as secrets_check
    from ztmcp.detectors.findings import BLOCKING

    if key == "threshold":
        return BLOCKING.value
    if key == "max_schema_bytes":
        return schema.DEFAULT_MAX_SCHEMA_BYTES
    choices = {  # policy_choice: the first allowed value is the default
        ("poisoning", "action"): poisoning.ACTIONS,
        ("injection", "action"): injection.ACTIONS,
        ("schema", "action"): schema.ACTIONS,
        ("schema", "output_action"): ("flag", "deny"),  # as SchemaCheck.from_table reads it
        ("secrets", "outbound"): secrets_check.OUTBOUND_ACTIONS,
        ("secrets", "inbound"): secrets_check.INBOUND_ACTIONS,
    }[(table, key)]
    return choices[0]


def _rank_at_least(ranks: Mapping[str, int]) -> Callable[[Any, Any], bool]:
    return lambda old, new: ranks.get(str(new), -1) >= ranks.get(str(old), 99)


def _rank_at_most(ranks: Mapping[str, int]) -> Callable[[Any, Any], bool]:
    return lambda old, new: ranks.get(str(new), 99) <= ranks.get(str(old), -1)


def _not_more(old: Any, new: Any) -> bool:
    return isinstance(new, int) and isinstance(old, int) and new <= old


def _subset(old: Any, new: Any) -> bool:
    return isinstance(new, list) and set(map(str, new)) <= set(map(str, old or []))


def _superset(old: Any, new: Any) -> bool:
    return isinstance(new, list) and set(map(str, new)) >= set(map(str, old))


# (table, key) -> (the user's value when unset, "is new at least as strict as old?").
# A key missing here (proxy.header, pins.lockfile, anything new) always needs an approval:
# what the table does not know to be tighter is treated as loosening.
_TIGHTER: Final[Mapping[tuple[str, str], tuple[Any, Callable[[Any, Any], bool]]]] = {
    ("", "mode"): ("enforce", lambda old, new: new == "enforce" or new == old),
    ("", "checks"): (list(CHECK_ORDER), _superset),
    ("limits", "max_message_bytes"): (DEFAULT_LIMITS.max_bytes, _not_more),
    ("limits", "max_depth"): (DEFAULT_LIMITS.max_depth, _not_more),
    ("envelope", "allow_methods"): ([], _subset),
    ("pins", "mode"): ("tofu", _rank_at_least(_PIN_RANK)),
    ("pins", "lockfile"): ("ztmcp.lock", lambda old, new: new == old),
    ("access", "default"): ("allow", _rank_at_least(_ACCESS_RANK)),
    ("access", "hold_seconds"): (None, lambda old, new: True),  # a hold still needs a grant
    ("access", "rule"): ([], lambda old, new: True),  # judged with the default, below
}


def _rules_tighter(old: list[Any], new: list[Any], default: str) -> bool:
    """New rules are ``deny`` rules, then the user's rules unchanged, then rules at least as
    strict as the default (they only decide tools the user's rules left to the default)."""
    if not isinstance(new, list) or not all(isinstance(r, dict) for r in new):
        return False
    for start in range(len(new) - len(old) + 1):
        head, middle = new[:start], new[start : start + len(old)]
        tail = new[start + len(old) :]
        if middle != old:
            continue
        if all(r.get("action") == "deny" for r in head) and all(
            _ACCESS_RANK.get(str(r.get("action")), -1) >= _ACCESS_RANK.get(default, 99)
            for r in tail
        ):
            return True
    return False


def loosenings(user: Mapping[str, Any], project: Mapping[str, Any]) -> list[str]:
    """What ``project`` (a repository's ztmcp.toml) would loosen in ``user``'s policy, one
    readable line each; empty when it only tightens it (then it needs no approval)."""
    found: list[str] = []
    for top, value in project.items():
        tables = [("", top, value)]
        if isinstance(value, dict) and top not in ("",):
            tables = [(top, k, v) for k, v in value.items()]
        for table, key, new in tables:
            where = f"[{table}] {key}" if table else key
            user_table = user.get(table, {}) if table else user
            old_set = isinstance(user_table, dict) and key in user_table
            if table in _DETECTION:
                default = _detection_default(table, key) if key in _DETECTION[table].KEYS else None
                ranks = _SEVERITY_RANK if key == "threshold" else _ACTION_RANK
                test: Callable[[Any, Any], bool] = (
                    _not_more if key == "max_schema_bytes" else
                    _rank_at_most(ranks) if key == "threshold" else _rank_at_least(ranks)
                )  # fmt: skip
            elif (table, key) in _TIGHTER:
                default, test = _TIGHTER[(table, key)]
            else:
                found.append(f"{where} = {_short(new)} (only the user's config may set it)")
                continue
            old = user_table[key] if old_set else default
            if new == old:
                continue
            if (table, key) == ("access", "rule"):
                access = {**user.get("access", {}), **project.get("access", {})}
                if not _rules_tighter(list(old or []), new, str(access.get("default", "allow"))):
                    found.append(f"[access] rule: {_short(new)} (not only stricter rules)")
                continue
            if not test(old, new):
                found.append(f"{where}: {_short(old)} -> {_short(new)}")
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class ProjectVerdict:
    """Whether a project ``ztmcp.toml`` applies, and why."""

    path: Path
    data: Mapping[str, Any]
    digest: str
    loosens: tuple[str, ...]
    approved: bool

    @property
    def applies(self) -> bool:
        return self.approved or not self.loosens

    def notice(self) -> str:
        first = self.loosens[0] if self.loosens else ""
        more = f" and {len(self.loosens) - 1} more" if len(self.loosens) > 1 else ""
        return (
            f"ignoring {self.path}: not approved, it would loosen your policy ({first}{more}); "
            f"your own config applies. Review and approve it with `ztmcp trust {self.path}`"
        )


def project_verdict(project: Path, user: Mapping[str, Any], cwd: Path) -> ProjectVerdict:
    """Read a repository's ztmcp.toml (inside ``cwd``, links not followed out of it) and judge
    it against the user's own policy mapping."""
    import tomllib

    from ztmcp import trust

    try:
        raw = trust.read_confined(project, cwd, "project policy")
    except trust.TrustError as exc:
        raise PolicyError(exc.message, hint=exc.hint) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{project}: not UTF-8 text", hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{project}: not valid TOML ({exc})", hint="fix the syntax") from None
    # A broken file is an error even when it would be ignored: a typo in the user's own
    # project file must not read as "not approved"; a repository can at worst stop ztmcp
    # from starting in its directory (closed), never loosen it.
    parse_policy(_merge(dict(user), data), f"{project}")
    digest = trust.digest(raw)
    return ProjectVerdict(
        project, data, digest, tuple(loosenings(user, data)), trust.approved(project, digest)
    )


def _detection_factory(name: str) -> Callable[[Policy], Check]:
    def build(policy: Policy) -> Check:
        check: Check = _DETECTION[name].from_table(policy.detection.get(name, {}), "policy")
        return check

    return build


def _pins(policy: Policy) -> Check:
    from ztmcp import lockfile

    path = policy.lockfile if policy.lockfile.is_absolute() else Path.cwd() / policy.lockfile
    if policy.pins_mode == "off":
        return PinsCheck(lockfile.Lockfile(path), policy.pins_mode)
    lock, notice = lockfile.read_trusted(path)  # an unapproved lock pins nothing
    if notice is not None:
        _stderr(notice)
    return PinsCheck(lock, policy.pins_mode)


_FACTORIES: Final[Mapping[str, Callable[[Policy], Check]]] = {
    "envelope": lambda p: EnvelopeCheck(p.allow_methods),
    "pins": _pins,
    "access": lambda p: AccessCheck.from_table(p.access, "policy"),
    "flow": lambda p: FlowCheck.from_table(p.flow, "policy", list(p.capabilities)),
    **{name: _detection_factory(name) for name in _DETECTION},
}


def build_checks(policy: Policy) -> list[Check]:
    """The one place policy becomes check objects, in ``CHECK_ORDER``."""
    return [_FACTORIES[name](policy) for name in policy.checks]
