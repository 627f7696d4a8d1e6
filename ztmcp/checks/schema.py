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
def _compiled(schema_json: str) -> Any:
    """A validator for a canonical schema text (jsonschema is imported on first use)."""
    import jsonschema  # type: ignore[import-untyped]
    from jsonschema import validators

    schema = json.loads(schema_json)
    base = validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls = validators.extend(base, {"pattern": _safe_pattern})
    cls.check_schema(schema)
    return cls(schema, registry=_registry())


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
            validator = _compiled(text)
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
