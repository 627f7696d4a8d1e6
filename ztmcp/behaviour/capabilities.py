"""Capabilities per tool: what a tool does with data, which the flow check reasons about.

Four labels (docs/behaviour.md): ``private_data`` (returns the user's data),
``untrusted_content`` (returns text others wrote), ``public_sink`` (sends data outside) and
``destructive`` (changes or deletes what cannot be taken back). One tool's labels come from
the first source that says anything about it, in this order:

1. the policy's ``[[capabilities]]`` tables (``server`` and ``tool`` globs, ``labels``); the
   first table that matches wins, and ``labels = []`` says "none" on purpose;
2. the publisher's declarations in the signed manifest (a change is drift like any other);
3. MCP annotations: ``openWorldHint`` true → ``untrusted_content``, and ``public_sink``
   unless ``readOnlyHint`` is true; ``destructiveHint`` true (and not read-only) →
   ``destructive``. Annotations only ever add labels: a server cannot annotate a tool safe;
4. a heuristic over the tool's name and schema (``HEURISTIC``), documented and conservative.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ztmcp.errors import PolicyError


class Label(StrEnum):
    PRIVATE = "private_data"
    UNTRUSTED = "untrusted_content"
    SINK = "public_sink"
    DESTRUCTIVE = "destructive"


class Source(StrEnum):
    POLICY = "policy"
    MANIFEST = "manifest"
    ANNOTATIONS = "annotations"
    HEURISTIC = "heuristic"


@dataclass(frozen=True, slots=True)
class Capabilities:
    labels: frozenset[Label]
    source: Source

    def has(self, label: Label) -> bool:
        return label in self.labels

    def describe(self) -> str:
        names = ", ".join(sorted(str(label) for label in self.labels)) or "none"
        return f"{names} ({self.source})"


@dataclass(frozen=True, slots=True)
class CapabilityRule:
    """One ``[[capabilities]]`` table."""

    server: str
    tool: str
    labels: frozenset[Label]

    def matches(self, server: str, tool: str) -> bool:
        return fnmatch.fnmatchcase(server, self.server) and fnmatch.fnmatchcase(tool, self.tool)


RULE_KEYS: Final = frozenset({"server", "tool", "labels"})


def parse_rules(tables: Any, origin: str) -> tuple[CapabilityRule, ...]:
    """Validate the ``[[capabilities]]`` array of tables; bad values fail at start."""
    if tables is None:
        return ()
    if not isinstance(tables, list):
        raise PolicyError(
            f"{origin}: capabilities must be an array of tables",
            hint='write each as [[capabilities]] with server, tool and labels = ["public_sink"]',
        )
    rules: list[CapabilityRule] = []
    known = ", ".join(label.value for label in Label)
    for index, table in enumerate(tables):
        where = f"{origin}: [[capabilities]] #{index + 1}"
        if not isinstance(table, dict):
            raise PolicyError(f"{where} must be a table", hint="write it as [[capabilities]]")
        extra = sorted(set(table) - RULE_KEYS)
        if extra:
            raise PolicyError(
                f"{where}: unknown key {extra[0]!r}", hint="keys: server, tool, labels"
            )
        server, tool, labels = table.get("server", "*"), table.get("tool", "*"), table.get("labels")
        if not isinstance(server, str) or not server or not isinstance(tool, str) or not tool:
            raise PolicyError(
                f"{where}: server and tool must be non-empty globs",
                hint='for example: server = "bank*", tool = "send_*"',
            )
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise PolicyError(
                f"{where}: labels must be a list of label names", hint=f"known labels: {known}"
            )
        try:
            parsed = frozenset(Label(x) for x in labels)
        except ValueError:
            bad = next(x for x in labels if x not in {label.value for label in Label})
            raise PolicyError(
                f"{where}: unknown label {bad!r}", hint=f"known labels: {known}"
            ) from None
        rules.append(CapabilityRule(server, tool, parsed))
    return tuple(rules)


# The heuristic: name words (split on _ - . and camelCase) that mark a label. A tool whose
# name says nothing gets no label from it; its input schema can add ``public_sink`` (a
# recipient/url/channel-like argument next to a body-like argument).
HEURISTIC: Final[Mapping[Label, frozenset[str]]] = {
    Label.SINK: frozenset(
        {
            "send",
            "post",
            "publish",
            "share",
            "email",
            "mail",
            "message",
            "reply",
            "forward",
            "upload",
            "pay",
            "transfer",
            "invite",
            "tweet",
            "comment",
            "notify",
            "webhook",
            "schedule",
            "submit",
            "push",
            "fetch",
            "request",
            "http",
        }
    ),
    Label.UNTRUSTED: frozenset(
        {
            "web",
            "webpage",
            "url",
            "fetch",
            "browse",
            "search",
            "inbox",
            "email",
            "emails",
            "mail",
            "messages",
            "message",
            "issue",
            "issues",
            "comments",
            "read",
            "download",
            "http",
            "page",
            "reviews",
            "feed",
            "channel",
        }
    ),
    Label.PRIVATE: frozenset(
        {
            "inbox",
            "emails",
            "email",
            "file",
            "files",
            "contacts",
            "contact",
            "calendar",
            "balance",
            "transactions",
            "transaction",
            "user",
            "profile",
            "account",
            "iban",
            "messages",
            "history",
            "drive",
            "notes",
            "secret",
            "password",
            "info",
            "information",
        }
    ),
    Label.DESTRUCTIVE: frozenset(
        {
            "delete",
            "remove",
            "drop",
            "destroy",
            "cancel",
            "update",
            "reset",
            "revoke",
            "kill",
            "wipe",
            "purge",
            "overwrite",
            "password",
        }
    ),
}
_READ_VERBS: Final = frozenset({"get", "list", "read", "search", "find", "query", "show", "fetch"})
_DESTINATION_ARGS: Final = frozenset(
    {
        "to",
        "recipient",
        "recipients",
        "url",
        "channel",
        "email",
        "address",
        "iban",
        "webhook",
        "destination",
        "user",
        "target",
    }
)
_BODY_ARGS: Final = frozenset({"body", "content", "text", "message", "data", "subject", "amount"})
_WORDS: Final = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def name_words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def heuristic(name: str, definition: Mapping[str, Any] | None) -> frozenset[Label]:
    words = name_words(name)
    if not words:
        return frozenset()
    verb, nouns = words[0], set(words[1:]) or set(words)
    labels: set[Label] = set()
    reads = verb in _READ_VERBS
    if reads and nouns & HEURISTIC[Label.UNTRUSTED]:
        labels.add(Label.UNTRUSTED)
    if reads and nouns & HEURISTIC[Label.PRIVATE]:
        labels.add(Label.PRIVATE)
    if not reads and verb in HEURISTIC[Label.SINK]:
        labels.add(Label.SINK)
    if not reads and verb in HEURISTIC[Label.DESTRUCTIVE]:
        labels.add(Label.DESTRUCTIVE)
    if not reads and Label.SINK not in labels and definition is not None:
        props = (definition.get("inputSchema") or {}).get("properties")
        if isinstance(props, Mapping):
            keys = {str(k).lower() for k in props}
            if keys & _DESTINATION_ARGS and keys & _BODY_ARGS:
                labels.add(Label.SINK)
    if verb in {"fetch", "browse"} or "url" in words:
        labels.update({Label.UNTRUSTED, Label.SINK})  # a URL the agent picks carries data out
    return frozenset(labels)


def from_annotations(definition: Mapping[str, Any] | None) -> frozenset[Label] | None:
    notes = definition.get("annotations") if definition is not None else None
    if not isinstance(notes, Mapping):
        return None
    labels: set[Label] = set()
    read_only = notes.get("readOnlyHint") is True
    if notes.get("openWorldHint") is True:
        labels.add(Label.UNTRUSTED)
        if not read_only:
            labels.add(Label.SINK)
    if notes.get("destructiveHint") is True and not read_only:
        labels.add(Label.DESTRUCTIVE)
    return frozenset(labels) if labels else None


def resolve(
    server: str,
    tool: str,
    definition: Mapping[str, Any] | None = None,
    *,
    rules: Sequence[CapabilityRule] = (),
    declared: Mapping[str, Sequence[str]] | None = None,
) -> Capabilities:
    """The labels of ``server``'s ``tool``, from the first source that speaks (see above)."""
    for rule in rules:
        if rule.matches(server, tool):
            return Capabilities(rule.labels, Source.POLICY)
    if declared is not None and tool in declared:
        labels = frozenset(Label(x) for x in declared[tool] if x in Label.__members__.values())
        return Capabilities(labels, Source.MANIFEST)
    noted = from_annotations(definition)
    if noted is not None:
        return Capabilities(noted | heuristic(tool, definition), Source.ANNOTATIONS)
    return Capabilities(heuristic(tool, definition), Source.HEURISTIC)
