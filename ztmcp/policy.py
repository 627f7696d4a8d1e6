"""Policy: ``ztmcp.toml`` in the project over the user config, turned into check objects.

Bad policy is a one-line error at start that names the file, the key and the fix; it is never
replaced by a silent default. Unknown keys are errors too: a typo must not disable a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ztmcp.checks import access as access_check
from ztmcp.checks import injection, pins, poisoning, schema, secrets
from ztmcp.checks.access import AccessCheck, AccessConfig, Rule
from ztmcp.checks.base import Check, Severity
from ztmcp.checks.config import CheckConfig, Configurable, OnFinding
from ztmcp.checks.envelope import EnvelopeCheck, EnvelopeConfig
from ztmcp.checks.injection import InjectionCheck, InjectionConfig
from ztmcp.checks.pins import PinMode, PinsCheck, PinsConfig
from ztmcp.checks.poisoning import PoisoningCheck, PoisoningConfig
from ztmcp.checks.schema import SchemaCheck, SchemaConfig
from ztmcp.checks.secrets import SecretsCheck, SecretsConfig
from ztmcp.detectors.findings import BLOCKING
from ztmcp.documents import loads_toml, read_file
from ztmcp.errors import PolicyError
from ztmcp.jsonrpc import DEFAULT_LIMITS, Limits
from ztmcp.session import Mode

if TYPE_CHECKING:
    from ztmcp.checks.flow import FlowCheck, FlowConfig, RateLimit
    from ztmcp.credentials import HeaderRule
    from ztmcp.names import Kind

PROJECT_FILE: Final = "ztmcp.toml"


# -- reading one table: each value typed as it is taken, in one pass --------------------------


def _unknown(path: str, where: str, keys: set[str], known: Collection[str]) -> None:
    extra = sorted(keys - set(known))
    if extra:
        raise PolicyError(
            f"{path}: unknown key {extra[0]!r} in {where}",
            hint=f"valid keys there: {', '.join(sorted(known))}",
        )


class Table:
    """One policy table (``[injection]`` …) being read: unknown keys are refused on entry,
    and each value is checked as it is taken, with a one-line error naming the file, the key
    and a fix. Missing keys read as the default given."""

    __slots__ = ("_raw", "_top", "origin", "where")

    def __init__(
        self,
        raw: object,
        section: str,
        origin: str,
        keys: Collection[str],
        top: Mapping[str, object] | None = None,
        *,
        where: str | None = None,
    ) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise PolicyError(
                f"{origin}: {section} must be a table", hint=f"write it as [{section}]"
            )
        self.where = where or f"[{section}]"  # how errors name it: [access], [[access.rule]] #2
        _unknown(origin, self.where, set(raw), keys)
        self._raw: Mapping[str, object] = raw
        self._top: Mapping[str, object] = top or {}
        self.origin = origin

    def top(self, key: str) -> object:
        """A top-level value this table's check also reads (a list of tables elsewhere)."""
        return self._top.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._raw

    def get(self, key: str, default: object = None) -> object:
        return self._raw.get(key, default)

    def error(self, key: str, must: str, hint: str | None = None) -> PolicyError:
        return PolicyError(f"{self.origin}: {self.where} {key} {must}", hint=hint)

    def choice[E: StrEnum](self, key: str, allowed: tuple[E, ...], hint: str | None = None) -> E:
        """One of ``allowed`` (the first is the default)."""
        value = self._raw.get(key, allowed[0])
        for option in allowed:
            if isinstance(value, str) and value == option.value:
                return option
        listed = ", ".join(repr(a.value) for a in allowed)
        raise self.error(
            key,
            f"must be one of {listed}, got {value!r}",
            hint or f'for example: {key} = "{allowed[0].value}"',
        )

    def severity(self, key: str = "threshold", default: Severity = BLOCKING) -> Severity:
        """A finding severity (``threshold`` of a detection check)."""
        value = self._raw.get(key, default.value)
        if isinstance(value, str):
            try:
                return Severity(value.strip().lower())
            except ValueError:
                pass
        raise self.error(
            key,
            f"must be low, medium, high or critical, got {value!r}",
            f'for example: {key} = "{default.value}"',
        )

    def positive_int(self, key: str, default: int) -> int:
        value = self._raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(
                key, f"must be a positive integer, got {value!r}", f"for example: {key} = {default}"
            )
        return value

    def number(self, key: str, default: float, low: float, high: float, hint: str) -> float:
        value = self._raw.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error(key, f"must be a number from {low:g} to {high:g}, got {value!r}", hint)
        return float(value)

    def text(self, key: str, default: str, must: str, hint: str) -> str:
        value = self._raw.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.error(key, must, hint)
        return value

    def name(self, key: str, kind: Kind, example: str, default: str | None = None) -> str:
        """A name (or glob) read by ``kind``'s rule, the one the command line applies to the
        same field (``ztmcp.names``); ``default`` when the key is left out."""
        value = self._raw.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a {kind.noun} or glob", f"for example: {example}")
        from ztmcp.names import refusal_shown

        why = refusal_shown(kind, value)
        if why is not None:
            raise self.error(
                key, f"must be a {kind.noun} or glob: {why}", f"for example: {example}; {kind.hint}"
            )
        return kind.parse(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._raw.get(key, default)
        if not isinstance(value, bool):
            raise self.error(
                key, "must be true or false", f"for example: {key} = {str(default).lower()}"
            )
        return value

    def names(self, key: str, must: str, hint: str) -> tuple[str, ...]:
        value = self._raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, must, hint)
        return tuple(str(v) for v in value)

    def tables(self, key: str, keys: Collection[str], hint: str) -> list[Table]:
        """An array of tables (``[[access.rule]]``), each read as its own ``Table``."""
        value = self._raw.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, "must be a list of tables", hint)
        name = f"{self.where.strip('[]')}.{key}"
        out: list[Table] = []
        for number, item in enumerate(value, start=1):
            where = f"[[{name}]] #{number}"
            if not isinstance(item, dict):
                raise PolicyError(f"{self.origin}: {where} must be a table", hint=hint)
            out.append(Table(item, name, self.origin, keys, where=where))
        return out


# -- each check's table, parsed into its frozen config --------------------------------------


def _envelope(t: Table) -> EnvelopeConfig:
    return EnvelopeConfig(
        t.names(
            "allow_methods",
            "must be a list of method names",
            'for example: allow_methods = ["vendor/custom"]',
        )
    )


def _pins(t: Table) -> PinsConfig:
    lockfile = t.text(
        "lockfile", "ztmcp.lock", "must be a file path", 'for example: lockfile = "ztmcp.lock"'
    )
    return PinsConfig(t.choice("mode", pins.MODES), Path(lockfile))


def _access_rule(t: Table) -> Rule:
    from ztmcp import names  # here: a policy without rules (every plain run) never loads it

    server = t.name(
        "server", names.SERVER, 'server = "fs" (leave it out for every server)', default="*"
    )
    if "tool" not in t:
        raise t.error(
            "tool",
            "is missing: a rule needs tool = a name or glob",
            'for example: tool = "write_*"',
        )
    tool = t.name("tool", names.TOOL, 'tool = "write_*"')
    if "action" not in t:
        raise t.error("action", "is missing", 'for example: action = "grant"')
    return Rule(
        server, tool, t.choice("action", access_check.RULE_ACTIONS, 'for example: action = "grant"')
    )


def _access(t: Table) -> AccessConfig:
    default = t.choice(
        "default",
        access_check.DEFAULTS,
        'default = "allow" forwards every tool the rules do not name',
    )
    hold = t.number(
        "hold_seconds",
        access_check.HOLD_SECONDS,
        0,
        access_check.MAX_HOLD_SECONDS,
        "hold_seconds = 60 holds an ungranted call a minute while a TUI is attached; 0 never holds",
    )
    rules = t.tables(
        "rule",
        access_check.RULE_KEYS,
        'write each as [[access.rule]] with tool = "…" and action = "…"',
    )
    return AccessConfig(default, tuple(_access_rule(r) for r in rules), hold)


def _schema(t: Table) -> SchemaConfig:
    return SchemaConfig(
        t.choice("action", schema.ACTIONS),
        t.choice("output_action", schema.OUTPUT_ACTIONS),
        t.positive_int("max_schema_bytes", schema.DEFAULT_MAX_SCHEMA_BYTES),
    )


def _poisoning(t: Table) -> PoisoningConfig:
    return PoisoningConfig(t.severity(), t.choice("action", poisoning.ACTIONS))


def _injection(t: Table) -> InjectionConfig:
    return InjectionConfig(t.severity(), t.choice("action", injection.ACTIONS))


def _secrets(t: Table) -> SecretsConfig:
    return SecretsConfig(
        t.severity(),
        t.choice("outbound", secrets.OUTBOUND_ACTIONS),
        t.choice("inbound", secrets.INBOUND_ACTIONS),
    )


def _glob(t: Table, key: str, example: str) -> str:
    from ztmcp import names

    kind = names.SERVER if key == "server" else names.TOOL
    return t.name(key, kind, f'{key} = "{example}"', default="*")


def _rate(t: Table) -> RateLimit:
    from ztmcp.checks.flow import RateLimit

    most = t.get("max")
    if isinstance(most, bool) or not isinstance(most, int) or most < 0:
        raise t.error(
            "max", f"must be a whole number of calls, got {most!r}", "for example: max = 10"
        )
    seconds = t.number(
        "seconds", 60, 0.001, 7 * 86400, "for example: seconds = 60 (a window of a minute)"
    )
    return RateLimit(_glob(t, "server", "bank"), _glob(t, "tool", "send_*"), most, seconds)


def _flow(t: Table) -> FlowConfig:
    """Read only when a policy has a [flow] or [[capabilities]] table (``Section.reads``): the
    flow check's module brings the run tracker with it (``_flow_kinds``)."""
    from ztmcp.behaviour.capabilities import parse_rules
    from ztmcp.checks import flow as flow_check
    from ztmcp.checks.flow import Exempt, FlowConfig

    exempt = t.tables(
        "exempt",
        {"server", "tool"},
        'write each as [[flow.exempt]] with server = "…" and tool = "…" globs',
    )
    rates = t.tables(
        "rate",
        {"server", "tool", "max", "seconds"},
        'for example: rate = [{ tool = "send_*", max = 5, seconds = 60 }]',
    )
    return FlowConfig(
        untrusted_value=t.choice("untrusted_value", flow_check.STRONG),
        private_to_unnamed=t.choice("private_to_unnamed", flow_check.STRONG),
        trifecta=t.choice("trifecta", flow_check.WEAK),
        exempt=tuple(
            Exempt(_glob(e, "server", "notes"), _glob(e, "tool", "get_*")) for e in exempt
        ),
        directed=t.choice("directed", tuple(flow_check.Directed)),
        rate=tuple(_rate(r) for r in rates),
        revoke=t.flag("revoke", False),
        elicitation=t.flag("elicitation", True),
        anomaly=t.choice("anomaly", flow_check.WEAK),
        capabilities=parse_rules(t.top("capabilities"), t.origin),
    )


@dataclass(frozen=True, slots=True)
class Section:
    """A check's policy table: ``kinds`` gives its check and config types (importing their
    module when it is first called: the flow check's brings the run tracker, which a policy
    without [flow] never loads until the check is built), ``parse`` reads the table into the
    config, ``top`` names the top-level tables the config reads besides its own (its
    ``TOP_KEYS``, here so that the top level is validated without importing the module)."""

    kinds: Callable[[], tuple[type[Configurable[Any]], type[CheckConfig]]]
    parse: Callable[[Table], CheckConfig]
    top: frozenset[str] = frozenset()

    @property
    def config(self) -> type[CheckConfig]:
        return self.kinds()[1]

    @property
    def keys(self) -> frozenset[str]:
        return self.config.KEYS

    def reads(self, name: str, data: Mapping[str, object]) -> bool:
        """Whether a policy mapping sets anything this section reads (else its config is
        the default: ``parse`` of an empty table gives the same, tested)."""
        return name in data or any(key in data for key in self.top)

    def build(self, policy: Policy) -> Check:
        check, config = self.kinds()
        return check.from_config(policy.config(config))


def section[C: CheckConfig](
    check: type[Configurable[C]], config: type[C], parse: Callable[[Table], C]
) -> Section:
    """The ``Section`` of a configurable check whose module is light (a new check is one more
    entry below)."""
    return Section(lambda: (check, config), parse)


def _flow_kinds() -> tuple[type[Configurable[Any]], type[CheckConfig]]:
    from ztmcp.checks.flow import FlowCheck, FlowConfig

    return FlowCheck, FlowConfig


# Every check ztmcp knows, in the fixed order the Session runs them.
_SECTIONS: Final[Mapping[str, Section]] = {
    "envelope": section(EnvelopeCheck, EnvelopeConfig, _envelope),
    "pins": section(PinsCheck, PinsConfig, _pins),
    "access": section(AccessCheck, AccessConfig, _access),
    "schema": section(SchemaCheck, SchemaConfig, _schema),
    "poisoning": section(PoisoningCheck, PoisoningConfig, _poisoning),
    "injection": section(InjectionCheck, InjectionConfig, _injection),
    "secrets": section(SecretsCheck, SecretsConfig, _secrets),
    "flow": Section(_flow_kinds, _flow, frozenset({"capabilities"})),
}
CHECK_ORDER: Final = tuple(_SECTIONS)
_DETECTION: Final = ("schema", "poisoning", "injection", "secrets")  # threshold/action tables

_LIMIT_KEYS: Final = frozenset({"max_message_bytes", "max_depth"})
# Top-level keys a check's config reads besides its table (``TOP_KEYS``: [[capabilities]]).
_READ_TOO: Final = {k for s in _SECTIONS.values() for k in s.top}
_TOP_KEYS: Final = {"mode", "checks", "limits", "proxy", "sandbox", *_READ_TOO, *_SECTIONS}


def table_keys() -> dict[str, set[str]]:
    """Every policy table ztmcp reads and its keys (imports every check's module)."""
    return {
        "limits": set(_LIMIT_KEYS),
        "proxy": {"header"},
        **{name: set(s.keys) for name, s in _SECTIONS.items()},
    }


@dataclass(frozen=True, slots=True)
class Configs:
    """Each check's frozen config, by its type; a config not given is its default."""

    items: Mapping[type[CheckConfig], CheckConfig] = field(default_factory=dict)

    def get[C: CheckConfig](self, kind: type[C]) -> C:
        value = self.items.get(kind)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            raise TypeError(f"{kind.__name__}: got a {type(value).__name__}")
        return value


@dataclass(frozen=True, slots=True)
class Policy:
    mode: Mode = Mode.ENFORCE
    checks: tuple[str, ...] = CHECK_ORDER
    limits: Limits = DEFAULT_LIMITS
    sources: tuple[Path, ...] = field(default=())
    configs: Configs = field(default_factory=Configs)
    # [[proxy.header]]: headers (brokered secrets) `ztmcp proxy` adds upstream-side.
    upstream_headers: tuple[HeaderRule, ...] = ()
    # Each source's [sandbox] table as it was read, in ``sources`` order (parsed by
    # ``ztmcp.sandbox.launch.policy_table`` only when a server may be sandboxed).
    sandbox_tables: tuple[tuple[Path, Mapping[str, Any]], ...] = ()

    def config[C: CheckConfig](self, kind: type[C]) -> C:
        """A check's config (``policy.config(SecretsConfig)``)."""
        return self.configs.get(kind)

    @property
    def allow_methods(self) -> tuple[str, ...]:
        return self.config(EnvelopeConfig).allow_methods

    @property
    def pins_mode(self) -> PinMode:
        """ "tofu" (unpinned servers are pinned on first use, see ztmcp.pinning), "strict",
        "off"."""
        return self.config(PinsConfig).mode

    @property
    def lockfile(self) -> Path:
        """Relative: against the directory ztmcp runs in."""
        return self.config(PinsConfig).lockfile

    @property
    def access(self) -> AccessConfig:
        return self.config(AccessConfig)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = read_file(path).decode("utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file", hint="check the --policy path") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    import tomllib  # only when there is a file to read: 20 ms of ztmcp run's start-up

    try:
        return loads_toml(text)
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


def parse_policy(data: Mapping[str, Any], origin: str) -> Policy:
    """Validate and parse a merged policy mapping in one pass; ``origin`` names the file(s)
    in errors."""
    _unknown(origin, "the top level", set(data), _TOP_KEYS)
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

    limits_table = Table(data.get("limits"), "limits", origin, _LIMIT_KEYS)
    limits = Limits(
        max_bytes=limits_table.positive_int("max_message_bytes", DEFAULT_LIMITS.max_bytes),
        max_depth=limits_table.positive_int("max_depth", DEFAULT_LIMITS.max_depth),
    )
    configs = {
        s.config: s.parse(Table(data.get(name), name, origin, s.keys, data))
        for name, s in _SECTIONS.items()
        if s.reads(name, data)
    }
    if data.get("access") and "access" not in checks:
        raise PolicyError(
            f"{origin}: [access] is set but the access check is not in checks",
            hint='add "access" to checks (or remove the key to run every check)',
        )
    proxy = Table(data.get("proxy"), "proxy", origin, {"header"})
    raw_headers = proxy.get("header", [])
    # Without [[proxy.header]] (every stdio run) there is nothing to parse: the credentials
    # module is not loaded before ``ztmcp run``'s first answer. Anything else is parsed there.
    upstream_headers: tuple[HeaderRule, ...] = ()
    if raw_headers != []:
        from ztmcp.credentials import parse_header_rules

        upstream_headers = parse_header_rules(raw_headers, origin)
    if not isinstance(data.get("sandbox", {}), dict):  # its keys: ztmcp.sandbox.profile
        raise PolicyError(f"{origin}: [sandbox] must be a table")

    ordered = tuple(c for c in CHECK_ORDER if c in checks)
    return Policy(
        mode=mode,
        checks=ordered,
        limits=limits,
        configs=Configs(configs),
        upstream_headers=upstream_headers,
    )


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
    read: list[tuple[Path, Mapping[str, Any]]] = []  # each file read once, as read
    user: dict[str, Any] = {}
    if user_config.is_file():
        user = _read(user_config)
        read.append((user_config, user))
    data = user
    project_named_lock = False
    if explicit is not None:
        given = _read(explicit)
        data = _merge(user, given)
        read.append((explicit, given))
    else:
        project = cwd / PROJECT_FILE
        if project.is_file():
            verdict = project_verdict(project, user, cwd)
            if verdict.applies:
                data = _merge(user, verdict.data)
                read.append((project, verdict.data))
                project_named_lock = "lockfile" in verdict.data.get("pins", {})
            else:
                (say or _stderr)(verdict.notice())
    sources = [path for path, _ in read]
    origin = " over ".join(str(p) for p in reversed(sources)) or "default policy"
    policy = parse_policy(data, origin)
    if project_named_lock:  # a path a repository file names stays inside the repository
        from ztmcp.trust import TrustError, confined

        where = policy.lockfile if policy.lockfile.is_absolute() else cwd / policy.lockfile
        try:
            confined(where, cwd, f"{cwd / PROJECT_FILE}: [pins] lockfile")
        except TrustError as exc:
            raise PolicyError(exc.message, hint=exc.hint) from None
    sandbox = tuple((path, table["sandbox"]) for path, table in read if "sandbox" in table)
    return replace(policy, sources=tuple(sources), sandbox_tables=sandbox)


# -- repository files: what a project ztmcp.toml may change without an approval ---------------

_PIN_RANK: Final = {"off": 0, "tofu": 1, "strict": 2}
_ACCESS_RANK: Final = {"allow": 0, "annotations": 1, "grant": 2, "deny": 3}
_ACTION_RANK: Final[Mapping[str, int]] = {
    OnFinding.FLAG: 0,
    OnFinding.REDACT: 1,
    OnFinding.REWRITE: 1,
    OnFinding.DENY: 2,
}
_SEVERITY_RANK: Final = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _detection_default(table: str, key: str) -> object:
    """A detection key's value when the user's config leaves it out (the config's default)."""
    value: object = getattr(_SECTIONS[table].config(), key)
    return value.value if isinstance(value, StrEnum) else value


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
                default = _detection_default(table, key) if key in _SECTIONS[table].keys else None
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
            old: Any = user_table[key] if old_set else default
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
        data = loads_toml(raw.decode("utf-8"))
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


def build_checks(policy: Policy) -> list[Check]:
    """The one place policy becomes check objects, in ``CHECK_ORDER``."""
    return [_SECTIONS[name].build(policy) for name in policy.checks]


def flow_from_tables(
    flow: Mapping[str, Any], capabilities: Any = None, origin: str = "flow policy"
) -> FlowCheck:
    """A flow check from raw ``[flow]`` and ``[[capabilities]]`` tables (``ztmcp eval``'s
    trace files carry them), read by the same parser as ``ztmcp.toml``."""
    from ztmcp.checks.flow import FlowCheck, FlowConfig

    data: dict[str, Any] = {"flow": dict(flow), "checks": ["flow"]}
    if capabilities is not None:
        data["capabilities"] = capabilities
    return FlowCheck.from_config(parse_policy(data, origin).config(FlowConfig))


def start_notices(checks: list[Check], server: str) -> list[str]:
    """What the checks have to say once, at start (``Configurable.start_notice``), safe to
    print (a notice may name a path from a cloned repository)."""
    from ztmcp.terminal import safe_lines

    said = (c.start_notice(server) for c in checks if isinstance(c, Configurable))
    return [safe_lines(line) for line in said if line]
