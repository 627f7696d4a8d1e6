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
CHECK_ORDER: Final = ("envelope", "pins", "access", "schema", "poisoning", "injection", "secrets")

# Detection checks: each validates its own policy table (threshold/actions) via from_table.
_DETECTION: Final[Mapping[str, Any]] = {
    "schema": SchemaCheck,
    "poisoning": PoisoningCheck,
    "injection": InjectionCheck,
    "secrets": SecretsCheck,
}

_TOP_KEYS: Final = {
    "mode", "checks", "limits", "envelope", "pins", "access", "proxy", "sandbox", *_DETECTION
}
_TABLE_KEYS: Final = {
    "limits": {"max_message_bytes", "max_depth"},
    "envelope": {"allow_methods"},
    "pins": {"mode", "lockfile"},
    "access": set(AccessCheck.KEYS),
    "proxy": {"header"},
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

    ordered = tuple(c for c in CHECK_ORDER if c in checks)
    return Policy(mode=mode, checks=ordered, limits=limits, allow_methods=tuple(methods),
                  detection=detection, pins_mode=pins_mode, lockfile=Path(lockfile),
                  access=access, upstream_headers=upstream_headers)


def load_policy(explicit: Path | None, *, cwd: Path, user_config: Path) -> Policy:
    """The effective policy: ``explicit`` or ``cwd/ztmcp.toml``, over the user config."""
    sources: list[Path] = []
    data: dict[str, Any] = {}
    if user_config.is_file():
        data = _read(user_config)
        sources.append(user_config)
    project = explicit if explicit is not None else cwd / PROJECT_FILE
    if explicit is not None or project.is_file():
        data = _merge(data, _read(project))
        sources.append(project)
    origin = " over ".join(str(p) for p in reversed(sources)) or "default policy"
    policy = parse_policy(data, origin)
    return replace(policy, sources=tuple(sources))


def _detection_factory(name: str) -> Callable[[Policy], Check]:
    def build(policy: Policy) -> Check:
        check: Check = _DETECTION[name].from_table(policy.detection.get(name, {}), "policy")
        return check

    return build


def _pins(policy: Policy) -> Check:
    from ztmcp import lockfile

    path = policy.lockfile if policy.lockfile.is_absolute() else Path.cwd() / policy.lockfile
    lock = lockfile.read(path) if policy.pins_mode != "off" else lockfile.Lockfile(path)
    return PinsCheck(lock, policy.pins_mode)


_FACTORIES: Final[Mapping[str, Callable[[Policy], Check]]] = {
    "envelope": lambda p: EnvelopeCheck(p.allow_methods),
    "pins": _pins,
    "access": lambda p: AccessCheck.from_table(p.access, "policy"),
    **{name: _detection_factory(name) for name in _DETECTION},
}


def build_checks(policy: Policy) -> list[Check]:
    """The one place policy becomes check objects, in ``CHECK_ORDER``."""
    return [_FACTORIES[name](policy) for name in policy.checks]
