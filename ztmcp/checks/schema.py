"""``schema``: ``tools/call`` arguments against the ``inputSchema`` the server listed.

Arguments outside the listed schema are how parameter smuggling works (an extra ``cc`` field,
a path where a number belongs); a structured result outside ``outputSchema`` breaks clients.
The check is pure: it reads the tools from ``ctx.extra[TOOLS_KEY]`` — a mapping of tool name
to the tool object as last seen in a ``tools/list`` response of this server — which the
Session maintains. With no listed tool by that name the check says nothing (pins/access own
unknown tools).

Schemas come from the server, so they are hostile input: remote ``$ref`` is never fetched (a
registry that refuses every retrieval), schemas above ``max_schema_bytes`` are refused,
recursion is bounded by the argument depth limit and caught, and ``pattern`` keywords run
only when the regex has no nested quantifier and the string is short (Python's ``re`` can
backtrack exponentially).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ztmcp.checks.base import Action, Context, IdentityMemo, Severity, Verdict
from ztmcp.detectors.findings import policy_choice
from ztmcp.errors import PolicyError
from ztmcp.jsonrpc import INVALID_PARAMS, Direction, Kind, Message

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

TOOLS_KEY: Final = "tools"  # ctx.extra["tools"]: Mapping[str, tool dict] from the last tools/list
ACTIONS: Final = ("deny", "flag")
DEFAULT_MAX_SCHEMA_BYTES: Final = 256 * 1024
_MAX_PATTERN: Final = 1000
_MAX_PATTERN_SUBJECT: Final = 10_000
_NESTED_QUANTIFIER: Final = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")
_MAX_ERRORS: Final = 5


@functools.cache
def _registry() -> Any:
    """A referencing registry that refuses every retrieval: remote ``$ref`` is never fetched."""
    from referencing import Registry
    from referencing.exceptions import NoSuchResource

    def no_remote(uri: str) -> Any:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]

    return Registry(retrieve=no_remote)  # type: ignore[call-arg]


def _safe_pattern(
    validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "string") or not isinstance(pattern, str):
        return
    if len(pattern) > _MAX_PATTERN or _NESTED_QUANTIFIER.search(pattern) \
            or len(instance) > _MAX_PATTERN_SUBJECT:
        return  # not evaluated: a pattern we cannot run in bounded time
    try:
        if re.search(pattern, instance) is None:
            yield ValidationError("does not match the pattern")
    except re.error:
        return


@functools.lru_cache(maxsize=512)
def _compiled(schema_json: str) -> tuple[Any, _Plan | None]:
    """A validator for a canonical schema text, and its ``_Plan`` (jsonschema is imported on
    first use). An invalid schema raises ``SchemaError`` here, before any plan is used."""
    import jsonschema  # type: ignore[import-untyped]
    from jsonschema import validators

    schema = json.loads(schema_json)
    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = validators.extend(base, {"pattern": _safe_pattern})
    cls.check_schema(schema)
    return cls(schema, registry=_registry()), _plan(schema)


# JSON types as Python values; bool is not an integer or a number in any JSON Schema draft.
_JSON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),), "array": (list,), "object": (dict,),
}
_ANNOTATIONS: Final = frozenset({"description", "title", "default", "examples", "$comment"})
_PLAN_ROOT: Final = _ANNOTATIONS | {"$schema", "type", "properties", "required",
                                    "additionalProperties"}
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
    if not isinstance(schema, dict) or not schema.keys() <= _PLAN_ROOT \
            or schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    closed = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(closed, bool) \
            or not isinstance(required, list) or not all(isinstance(r, str) for r in required):
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


class SchemaCheck:
    name = "schema"

    def __init__(self, action: str = "deny", output_action: str = "flag",
                 max_schema_bytes: int = DEFAULT_MAX_SCHEMA_BYTES) -> None:
        if action not in ACTIONS or output_action not in ACTIONS:
            raise ValueError(f"schema actions must be one of {', '.join(ACTIONS)}")
        self.action = action
        self.output_action = output_action
        self.max_schema_bytes = max_schema_bytes
        self._texts: IdentityMemo[str] = IdentityMemo()  # listed schema -> its canonical JSON

    KEYS: Final = frozenset({"action", "output_action", "max_schema_bytes"})

    @classmethod
    def from_table(cls, table: Mapping[str, Any], origin: str) -> SchemaCheck:
        """From the ``[schema]`` policy table (action, output_action, max_schema_bytes)."""
        size = table.get("max_schema_bytes", DEFAULT_MAX_SCHEMA_BYTES)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise PolicyError(f"{origin}: [schema] max_schema_bytes must be a positive integer",
                              hint=f"for example: max_schema_bytes = {DEFAULT_MAX_SCHEMA_BYTES}")
        return cls(policy_choice(table, "action", ACTIONS, origin, "schema"),
                   policy_choice(table, "output_action", ("flag", "deny"), origin, "schema"),
                   size)

    def check(self, msg: Message, ctx: Context) -> Verdict | None:
        tools = ctx.extra.get(TOOLS_KEY)
        if not isinstance(tools, Mapping):
            return None
        if msg.direction is Direction.TO_SERVER and msg.method == "tools/call":
            tool = tools.get(msg.tool_name or "")
            if not isinstance(tool, Mapping):
                return None
            arguments = msg.params.get("arguments", {})
            return self._validate(tool.get("inputSchema"), arguments, "arguments", self.action,
                                  "schema.arguments")
        if msg.direction is Direction.TO_CLIENT and msg.kind is Kind.RESPONSE \
                and ctx.request is not None and ctx.request.method == "tools/call":
            tool = tools.get(ctx.request.tool_name or "")
            result = msg.body.get("result")
            if not isinstance(tool, Mapping) or not isinstance(result, Mapping):
                return None
            if "outputSchema" not in tool or result.get("isError") is True \
                    or "structuredContent" not in result:
                return None
            return self._validate(tool["outputSchema"], result["structuredContent"],
                                  "structured result", self.output_action, "schema.output")
        return None

    def _verdict(self, action: str, rule: str, reason: str, evidence: str | None = None) \
            -> Verdict:
        kind = Action.DENY if action == "deny" else Action.FLAG
        return Verdict(kind, self.name, rule, reason, Severity.MEDIUM, evidence=evidence,
                       code=INVALID_PARAMS,
                       hint="call the tool with arguments that match its listed inputSchema")

    def _validate(self, schema: Any, instance: Any, what: str, action: str, rule: str) \
            -> Verdict | None:
        if schema is None:
            return None
        if not isinstance(schema, Mapping):
            return self._verdict(action, f"{rule}.bad_schema", f"the tool's schema for {what} "
                                 "is not a JSON object")
        try:
            text = self._texts.get(
                schema, lambda: json.dumps(schema, sort_keys=True, separators=(",", ":"))
            )
        except (TypeError, ValueError, RecursionError):
            return self._verdict(action, f"{rule}.bad_schema", "the tool's schema is not JSON")
        if len(text) > self.max_schema_bytes:
            return self._verdict(action, f"{rule}.schema_too_large",
                                 f"the tool's schema exceeds {self.max_schema_bytes} bytes")
        from jsonschema.exceptions import (
            SchemaError,
            _RefResolutionError,
        )
        from referencing.exceptions import Unresolvable

        try:
            validator, plan = _compiled(text)
            if plan is not None and plan.accepts(instance):
                return None
            errors = []
            for error in validator.iter_errors(instance):
                errors.append(error)
                if len(errors) >= _MAX_ERRORS:
                    break
        except SchemaError:
            return self._verdict(action, f"{rule}.bad_schema", "the tool's schema is invalid")
        except (RecursionError, Unresolvable, _RefResolutionError, ValueError, TypeError,
                LookupError):
            return self._verdict(action, f"{rule}.unevaluable",
                                 "the tool's schema cannot be evaluated safely (remote or "
                                 "runaway $ref)")
        if not errors:
            return None
        where = ", ".join(_where(e) for e in errors)
        return self._verdict(action, rule, f"the {what} do not match the tool's schema at {where}",
                             evidence=";".join(e.validator for e in errors if
                                               isinstance(e.validator, str)))


def _where(error: ValidationError) -> str:
    """A JSON-pointer-like location and the failed keyword; never the offending value."""
    path = "/".join(str(p)[:40] for p in error.absolute_path) or "(root)"
    return f"{path} ({error.validator})"
