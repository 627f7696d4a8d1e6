"""``schema``: ``tools/call`` arguments against the ``inputSchema`` the server listed.

Arguments outside the listed schema are how parameter smuggling works (an extra ``cc`` field,
a path where a number belongs); a structured result outside ``outputSchema`` breaks clients.
The check is pure: it reads the tools from ``ctx.extra[TOOLS_KEY]`` — a mapping of tool name
to the tool object as last seen in a ``tools/list`` response of this server — which the
Session maintains. With no listed tool by that name the check says nothing (pins/access own
unknown tools).

Schemas come from the server, so they are hostile input, and the work they ask for is bounded:

- remote ``$ref`` is never fetched (a registry that refuses every retrieval); schemas above
  ``max_schema_bytes`` are refused; the meta-schema check of a schema runs bounded too;
- regular expressions (``pattern``, ``patternProperties``, and the ``additionalProperties``
  that depends on them) run on RE2 (``google-re2``): linear time, whatever the pattern and the
  string. A pattern RE2 cannot compile (a back-reference, a look-around, a repetition too
  large) is refused (rule ``….bad_pattern``): never evaluated with Python's backtracking
  ``re``, never skipped. ``unevaluatedProperties`` next to ``patternProperties`` is refused
  the same way (jsonschema matches those with ``re``);
- every keyword evaluation counts against a budget of ``MAX_STEPS`` per validation (a
  schema of nested ``anyOf`` over ``$ref`` asks for exponential work): past it the check
  denies (``….unevaluable``), it never accepts unchecked arguments; runaway ``$ref``
  recursion is caught the same way;
- ``uniqueItems`` compares canonical keys in a set (jsonschema compares unhashable items
  pairwise: quadratic).

Format assertions are not enabled (``format`` is an annotation), so ``format: regex`` never
runs a pattern.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ztmcp.checks.base import Context, IdentityMemo, Severity, Verdict
from ztmcp.checks.config import Configurable, OnFinding, ladder
from ztmcp.jsonrpc import INVALID_PARAMS, Direction, Kind, Message

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

TOOLS_KEY: Final = "tools"  # ctx.extra["tools"]: Mapping[str, tool dict] from the last tools/list
ACTIONS: Final = (OnFinding.DENY, OnFinding.FLAG)  # the first is the default of ``action``
OUTPUT_ACTIONS: Final = (OnFinding.FLAG, OnFinding.DENY)  # and of ``output_action``
DEFAULT_MAX_SCHEMA_BYTES: Final = 256 * 1024
MAX_STEPS: Final = 50_000  # keyword evaluations per validation (a reference costs more)
_RE2_MAX_MEM: Final = 8 << 20  # bytes RE2 may use to compile one pattern
_MAX_ERRORS: Final = 5


class _BadPattern(Exception):
    """A schema regular expression that RE2 cannot run."""


class _Exhausted(Exception):
    """A validation that asked for more than ``MAX_STEPS`` keyword evaluations."""


_budget = threading.local()


@functools.cache
def _registry() -> Any:
    """A referencing registry that refuses every retrieval: remote ``$ref`` is never fetched."""
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def no_remote(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=no_remote)  # type: ignore[call-arg]


@functools.lru_cache(maxsize=1024)
def _re2(pattern: str) -> Any:
    """The RE2 program of a schema pattern; ``_BadPattern`` when RE2 cannot compile it."""
    import re2  # type: ignore[import-untyped, unused-ignore]

    options = re2.Options()
    options.log_errors = False
    options.max_mem = _RE2_MAX_MEM
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise _BadPattern(str(exc)) from None


def _search(pattern: Any, text: str) -> bool:
    if not isinstance(pattern, str):
        raise _BadPattern("a pattern that is not a string")
    return _re2(pattern).search(text) is not None


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError("does not match the pattern")


def _pattern_properties(
    validator: Any, patterns: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object") or not isinstance(patterns, Mapping):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str]:
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return {k for k in instance if k not in properties and not any(_search(p, k) for p in patterns)}


def _additional_properties(
    validator: Any, allowed: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(allowed, "object"):
        for extra in sorted(extras):
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        yield ValidationError(f"{len(extras)} additional properties are not allowed")


def _key(value: Any) -> Any:
    """A hashable key equal for JSON-equal values (1 == 1.0; true is not 1)."""
    if value is True or value is False:
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", int(value) if isinstance(value, float) and value.is_integer() else value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(_key(v) for v in value))
    if isinstance(value, Mapping):
        return ("o", frozenset((k, _key(v)) for k, v in value.items()))
    return ("z", None) if value is None else ("?", id(value))


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if unique and validator.is_type(instance, "array"):
        keys = {_key(item) for item in instance}
        if len(keys) != len(instance):
            yield ValidationError("has non-unique elements")


_OWN: Final = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}


# What a keyword costs in steps: following a reference (a JSON-pointer lookup) costs about as
# much as twenty-five plain keywords.
_REF_COST: Final = 25
_REFS: Final = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})


def _counted(keyword: Any, cost: int = 1) -> Any:
    """A keyword function that spends ``cost`` steps of the current validation's budget."""

    def step(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        left = getattr(_budget, "left", 0) - cost
        _budget.left = left
        if left < 0:
            raise _Exhausted
        return keyword(validator, value, instance, schema)

    return step


def _bounded(base: Any) -> Any:
    """``base`` (a jsonschema validator class) with RE2 patterns and a step budget."""
    from jsonschema import validators  # type: ignore[import-untyped, unused-ignore]

    own = {k: v for k, v in _OWN.items() if k in base.VALIDATORS}
    keywords = {**base.VALIDATORS, **own}
    counted = {k: _counted(v, _REF_COST if k in _REFS else 1) for k, v in keywords.items()}
    return validators.extend(base, counted)


@functools.lru_cache(maxsize=512)
def _compiled(schema_json: str) -> tuple[Any, _Plan | None]:
    """A validator for a canonical schema text, and its ``_Plan`` (jsonschema is imported on
    first use). An invalid schema raises ``SchemaError`` here, before any plan is used."""
    import jsonschema  # type: ignore[import-untyped, unused-ignore]
    from jsonschema import validators
    from jsonschema.exceptions import SchemaError

    schema = json.loads(schema_json)
    if '"unevaluatedProperties"' in schema_json and '"patternProperties"' in schema_json:
        raise _BadPattern("unevaluatedProperties with patternProperties")
    # jsonschema switches to the stock validator class of a nested ``$schema`` (its Python
    # ``re`` patterns, no step budget): a dialect change inside a tool schema is refused.
    if schema_json.count('"$schema":') > (1 if "$schema" in schema else 0):
        raise SchemaError("a nested $schema changes the dialect inside the schema")
    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = _bounded(base)
    meta = _bounded(validators.validator_for(base.META_SCHEMA, default=base))
    _budget.left = MAX_STEPS
    for error in meta(base.META_SCHEMA).iter_errors(schema):
        raise SchemaError.create_from(error)
    return cls(schema, registry=_registry()), _plan(schema)


# JSON types as Python values; bool is not an integer or a number in any JSON Schema draft.
_JSON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}
_ANNOTATIONS: Final = frozenset({"description", "title", "default", "examples", "$comment"})
_PLAN_ROOT: Final = _ANNOTATIONS | {
    "$schema",
    "type",
    "properties",
    "required",
    "additionalProperties",
}
_PLAN_PROPERTY: Final = _ANNOTATIONS | {"type", "enum"}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a flat object schema asks (typed properties, required names, string enums), to
    accept plainly valid arguments without jsonschema (about 20 µs per call saved on the
    critical path). Only ever accepts: anything it does not say yes to goes to jsonschema,
    which has the last word."""

    required: tuple[str, ...]
    types: Mapping[str, tuple[type, ...] | None]  # None: any value
    enums: Mapping[str, frozenset[str]]
    closed: bool  # additionalProperties: false

    def accepts(self, instance: Any) -> bool:
        if type(instance) is not dict:
            return False
        for name in self.required:
            if name not in instance:
                return False
        types, enums = self.types, self.enums
        for name, value in instance.items():
            if name not in types:
                if self.closed:
                    return False
                continue
            allowed = types[name]
            if allowed is not None:
                if type(value) is bool:  # isinstance(True, int) holds in Python, not in JSON
                    if bool not in allowed:
                        return False
                elif not isinstance(value, allowed):
                    return False
            if name in enums and (type(value) is not str or value not in enums[name]):
                return False
        return True


def _property_plan(sub: Any) -> tuple[tuple[type, ...] | None, frozenset[str] | None] | None:
    if sub is True or sub == {}:
        return None, None
    if not isinstance(sub, dict) or not sub.keys() <= _PLAN_PROPERTY:
        return None
    declared = sub.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if names is None:
        allowed = None
    elif isinstance(names, list) and names and all(n in _JSON_TYPES for n in names):
        allowed = tuple(t for n in names for t in _JSON_TYPES[n])
    else:
        return None
    enum = sub.get("enum")
    if enum is None:
        return allowed, None
    if not isinstance(enum, list) or not enum or not all(isinstance(v, str) for v in enum):
        return None
    return allowed, frozenset(enum)


def _plan(schema: Any) -> _Plan | None:
    """The ``_Plan`` of a schema, or None when it asks for more than a plan can say (nested
    constraints, bounds, patterns, formats, combinators, ``$ref`` …)."""
    if (
        not isinstance(schema, dict)
        or not schema.keys() <= _PLAN_ROOT
        or schema.get("type") != "object"
    ):
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    closed = schema.get("additionalProperties", True)
    if (
        not isinstance(properties, dict)
        or not isinstance(closed, bool)
        or not isinstance(required, list)
        or not all(isinstance(r, str) for r in required)
    ):
        return None
    types: dict[str, tuple[type, ...] | None] = {}
    enums: dict[str, frozenset[str]] = {}
    for name, sub in properties.items():
        planned = _property_plan(sub)
        if planned is None:
            return None
        types[name], enum = planned
        if enum is not None:
            enums[name] = enum
    return _Plan(tuple(required), types, enums, not closed)


@dataclass(frozen=True, slots=True)
class SchemaConfig:
    """``[schema]``: ``action`` for arguments, ``output_action`` for structured results."""

    KEYS: ClassVar[frozenset[str]] = frozenset({"action", "output_action", "max_schema_bytes"})
    action: OnFinding = ACTIONS[0]
    output_action: OnFinding = OUTPUT_ACTIONS[0]
    max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES

    def __post_init__(self) -> None:
        if self.action not in ACTIONS or self.output_action not in OUTPUT_ACTIONS:
            raise ValueError(f"schema actions must be one of {', '.join(ACTIONS)}")
        if self.max_schema_bytes <= 0:
            raise ValueError("max_schema_bytes must be positive")


class SchemaCheck(Configurable[SchemaConfig]):
    name = "schema"

    def __init__(
        self,
        action: str = ACTIONS[0],
        output_action: str = OUTPUT_ACTIONS[0],
        max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES,
    ) -> None:
        self.config = SchemaConfig(OnFinding(action), OnFinding(output_action), max_schema_bytes)
        self.action = self.config.action
        self.output_action = self.config.output_action
        self.max_schema_bytes = max_schema_bytes
        self._texts: IdentityMemo[str] = IdentityMemo()  # listed schema -> its canonical JSON

    @classmethod
    def from_config(cls, config: SchemaConfig) -> SchemaCheck:
        return cls(config.action, config.output_action, config.max_schema_bytes)

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        tools = ctx.extra.get(TOOLS_KEY)
        if not isinstance(tools, Mapping):
            return None
        if msg.direction is Direction.TO_SERVER and msg.method == "tools/call":
            tool = tools.get(msg.tool_name or "")
            if not isinstance(tool, Mapping):
                return None
            arguments = msg.params.get("arguments", {})
            return self._validate(
                tool.get("inputSchema"), arguments, "arguments", self.action, "schema.arguments"
            )
        if (
            msg.direction is Direction.TO_CLIENT
            and msg.kind is Kind.RESPONSE
            and ctx.request is not None
            and ctx.request.method == "tools/call"
        ):
            tool = tools.get(ctx.request.tool_name or "")
            result = msg.body.get("result")
            if not isinstance(tool, Mapping) or not isinstance(result, Mapping):
                return None
            if (
                "outputSchema" not in tool
                or result.get("isError") is True
                or "structuredContent" not in result
            ):
                return None
            return self._validate(
                tool["outputSchema"],
                result["structuredContent"],
                "structured result",
                self.output_action,
                "schema.output",
            )
        return None

    def _verdict(
        self, action: OnFinding, rule: str, reason: str, evidence: str | None = None
    ) -> Verdict:
        # A schema mismatch always counts (no threshold); nothing is rewritten.
        step = ladder(Severity.MEDIUM, Severity.LOW, action)
        assert step is not None
        return step.verdict(
            self.name,
            rule,
            reason,
            Severity.MEDIUM,
            evidence=evidence,
            code=INVALID_PARAMS,
            hint="call the tool with arguments that match its listed inputSchema",
        )

    def _validate(
        self, schema: Any, instance: Any, what: str, action: OnFinding, rule: str
    ) -> Verdict | None:
        if schema is None:
            return None
        if not isinstance(schema, Mapping):
            return self._verdict(
                action, f"{rule}.bad_schema", f"the tool's schema for {what} is not a JSON object"
            )
        try:
            text = self._texts.get(
                schema, lambda: json.dumps(schema, sort_keys=True, separators=(",", ":"))
            )
        except (TypeError, ValueError, RecursionError):
            return self._verdict(action, f"{rule}.bad_schema", "the tool's schema is not JSON")
        if len(text) > self.max_schema_bytes:
            return self._verdict(
                action,
                f"{rule}.schema_too_large",
                f"the tool's schema exceeds {self.max_schema_bytes} bytes",
            )
        from jsonschema.exceptions import (
            SchemaError,
            _RefResolutionError,
        )
        from referencing.exceptions import Unresolvable

        try:
            validator, plan = _compiled(text)
            if plan is not None and plan.accepts(instance):
                return None
            _budget.left = MAX_STEPS
            errors = []
            for error in validator.iter_errors(instance):
                errors.append(error)
                if len(errors) >= _MAX_ERRORS:
                    break
        except SchemaError:
            return self._verdict(action, f"{rule}.bad_schema", "the tool's schema is invalid")
        except _BadPattern:
            return self._verdict(
                action,
                f"{rule}.bad_pattern",
                "the tool's schema holds a regular expression that cannot be "
                "evaluated in bounded time (RE2 refuses it)",
            )
        except _Exhausted:
            return self._verdict(
                action,
                f"{rule}.unevaluable",
                f"the tool's schema needs more than {MAX_STEPS} evaluation steps",
            )
        except (
            RecursionError,
            Unresolvable,
            _RefResolutionError,
            ValueError,
            TypeError,
            LookupError,
        ):
            return self._verdict(
                action,
                f"{rule}.unevaluable",
                "the tool's schema cannot be evaluated safely (remote or runaway $ref)",
            )
        if not errors:
            return None
        where = ", ".join(_where(e) for e in errors)
        return self._verdict(
            action,
            rule,
            f"the {what} do not match the tool's schema at {where}",
            evidence=";".join(e.validator for e in errors if isinstance(e.validator, str)),
        )


def _where(error: ValidationError) -> str:
    """A JSON-pointer-like location and the failed keyword; never the offending value."""
    path = "/".join(str(p)[:40] for p in error.absolute_path) or "(root)"
    return f"{path} ({error.validator})"
