"""What differs between a pin and what a server was seen to offer, as structured changes.

The one comparison behind ``ztmcp diff``, the confirmation ``ztmcp pin`` asks before it
accepts a changed server, the check of a signed manifest against the live server, and the
TUI's drift view. Each of those renders the same ``Change`` values (``line`` gives the one
readable line each; ``Change.to_json`` the form for scripts).

Detail depends on what is kept: per field when the pinned manifest stored next to the lock
still matches the pin's digest (``compare``), per item digest from the lock alone otherwise.
Egress the sandbox refused beyond a pinned profile is drift too (docs/sandbox.md): it counts
only against the profile pinned now, since re-pinning accepts it.

Pure: no file, database or terminal; callers read the state and print.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from ztmcp.manifest import KINDS, NOUNS, SERVER_KEYS, SERVER_KIND, Manifest, canonical_json

if TYPE_CHECKING:
    from ztmcp.lockfile import Pin


class Subject(StrEnum):
    """What changed: the server's own fields, one kind of listed item, or its egress."""

    SERVER = SERVER_KIND
    TOOL = "tools"
    PROMPT = "prompts"
    RESOURCE_TEMPLATE = "resourceTemplates"
    EGRESS = "egress"


class Kind(StrEnum):
    ADDED = "added"  # observed, not pinned
    REMOVED = "removed"  # pinned, not observed
    CHANGED = "changed"


# Manifest kinds in the order they are compared (and shown).
_ITEMS: Final = tuple(Subject(kind) for kind in KINDS)
_NESTING: Final = 6  # how deep a field path goes before a sub-object is shown whole


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. Values are JSON text; ``None`` where the field is absent.

    - ``subject`` SERVER: ``path`` is the field (``version``); an empty ``path`` means the
      server fields differ by digest (no pinned manifest to say which).
    - an item subject: ``name`` is the item; ``path`` the field inside it
      (``inputSchema.properties.force``), or empty when the item itself was added, removed or
      changed by digest (``old``/``new`` then hold the digests).
    - EGRESS: ``name`` is the destination (``host:port``) refused ``refused`` times, last at
      ``last_seen`` (seconds since the epoch).
    """

    subject: Subject
    kind: Kind
    name: str = ""
    path: str = ""
    old: str | None = None
    new: str | None = None
    refused: int = 0
    last_seen: float = 0.0

    @property
    def by_digest(self) -> bool:
        """Known only as a different digest: the lock alone, without the pinned manifest."""
        return self.kind is Kind.CHANGED and not self.path and self.subject is not Subject.EGRESS

    @property
    def item(self) -> str:
        """The item named for people (``tool 'echo'``); ``""`` for the server and egress."""
        noun = NOUNS.get(self.subject.value)
        return f"{noun} {self.name!r}" if noun is not None else ""

    @property
    def field(self) -> str:
        """The top-level field that changed (``description``, ``inputSchema``), or ``""``."""
        return self.path.split(".", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The change for ``--json`` output: values as JSON, digests as strings."""
        doc: dict[str, Any] = {"subject": self.subject.value, "kind": self.kind.value}
        if self.name:
            doc["name"] = self.name
        if self.path:
            doc["path"] = self.path
        for key, value in (("old", self.old), ("new", self.new)):
            if value is not None:
                doc[key] = value if self.by_digest else json.loads(value)
        if self.subject is Subject.EGRESS:
            doc["refused"] = self.refused
            doc["last_seen"] = _stamp(self.last_seen)
        return doc


@dataclass(frozen=True, slots=True)
class Egress:
    """A destination the sandbox refused for a server, against the profile pinned then."""

    destination: str  # host:port
    refused: int
    last_seen: float
    profile: str  # the digest of the pinned sandbox profile it was refused against


_ABSENT: Final = object()  # a missing field (a JSON null inside a schema is a value)


def _text(value: Any) -> str | None:
    return None if value is _ABSENT else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _same(old: Any, new: Any) -> bool:
    """Equal as the digests see them (RFC 8785): ``true`` is not ``1`` (Python says it is),
    ``1.0`` is ``1``."""
    if old is _ABSENT or new is _ABSENT:
        return old is new
    return canonical_json(old) == canonical_json(new)


def _fields(
    subject: Subject, name: str, path: str, old: Any, new: Any, out: list[Change], depth: int
) -> None:
    """Field by field below ``path``; sub-objects down to ``_NESTING`` levels."""
    if _same(old, new):
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping) and depth < _NESTING:
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}"
            _fields(
                subject, name, sub, old.get(key, _ABSENT), new.get(key, _ABSENT), out, depth + 1
            )
        return
    kind = Kind.ADDED if old is _ABSENT else Kind.REMOVED if new is _ABSENT else Kind.CHANGED
    out.append(Change(subject, kind, name, path, _text(old), _text(new)))


def _chosen(kinds: Collection[str] | None) -> tuple[bool, tuple[Subject, ...]]:
    """Whether the server fields are compared, and which item kinds. ``None``: everything;
    else what was observed (``ztmcp run`` sees the lists an agent asked for, and the server
    fields only when it saw the handshake: ``SERVER_KIND``)."""
    if kinds is None:
        return True, _ITEMS
    unknown = set(kinds) - {SERVER_KIND, *KINDS}
    if unknown:
        raise ValueError(f"not a manifest kind: {sorted(unknown)[0]!r}")
    return SERVER_KIND in kinds, tuple(s for s in _ITEMS if s.value in kinds)


def _items[V](
    subject: Subject,
    old: Mapping[str, V],
    new: Mapping[str, V],
    changed: Callable[[Subject, str, V, V], Iterable[Change]],
) -> Iterator[Change]:
    """One kind's items by name: added, removed, or what ``changed`` finds in both."""
    for name in sorted(set(old) | set(new)):
        if name not in old:
            yield Change(subject, Kind.ADDED, name)
        elif name not in new:
            yield Change(subject, Kind.REMOVED, name)
        else:
            yield from changed(subject, name, old[name], new[name])


def _field_changes(
    subject: Subject, name: str, was: Mapping[str, Any], now: Mapping[str, Any]
) -> list[Change]:
    found: list[Change] = []
    for key in KINDS[subject.value]:
        _fields(subject, name, key, was.get(key, _ABSENT), now.get(key, _ABSENT), found, 0)
    return found


def _digest_change(subject: Subject, name: str, was: str, now: str) -> list[Change]:
    return [] if was == now else [Change(subject, Kind.CHANGED, name, old=was, new=now)]


def compare(
    pinned: Manifest, observed: Manifest, *, kinds: Collection[str] | None = None
) -> tuple[Change, ...]:
    """Per field: every difference between two manifests, server fields first, then each
    kind's items by name, each item's fields in the order the manifest defines them."""
    server, subjects = _chosen(kinds)
    out: list[Change] = []
    if server:
        old_server, new_server = pinned.server(), observed.server()
        for key in SERVER_KEYS:
            old_value, new_value = old_server.get(key, _ABSENT), new_server.get(key, _ABSENT)
            _fields(Subject.SERVER, "", key, old_value, new_value, out, 0)
    for subject in subjects:
        old, new = pinned.items(subject.value), observed.items(subject.value)
        out.extend(_items(subject, old, new, _field_changes))
    return tuple(out)


def _by_digest(pin: Pin, observed: Manifest, kinds: Collection[str] | None) -> list[Change]:
    server, subjects = _chosen(kinds)
    out: list[Change] = []
    if server and observed.server_digest != pin.server_digest:
        out.append(
            Change(Subject.SERVER, Kind.CHANGED, old=pin.server_digest, new=observed.server_digest)
        )
    for subject in subjects:
        old, new = pin.items(subject.value), observed.item_digests(subject.value)
        out.extend(_items(subject, old, new, _digest_change))
    return out


def drift(
    pin: Pin,
    observed: Manifest | None,
    *,
    pinned: Manifest | None = None,
    kinds: Collection[str] | None = None,
    egress: Iterable[Egress] = (),
) -> tuple[Change, ...]:
    """Everything ``observed`` (and the sandbox's refused ``egress``) differs from ``pin`` in.

    ``pinned`` is the stored pinned manifest: used for per-field detail only when it is the
    one the pin's digest names (a stale or edited file falls back to the lock's digests).
    ``kinds`` limits the comparison to what was observed (see ``compare``); ``observed``
    None compares egress alone.
    """
    out: list[Change] = []
    if observed is not None:
        if pinned is not None and pinned.digest == pin.digest:
            out.extend(compare(pinned, observed, kinds=kinds))
        else:
            out.extend(_by_digest(pin, observed, kinds))
    profile = pin.sandbox.digest if pin.sandbox is not None else None
    out.extend(
        Change(Subject.EGRESS, Kind.ADDED, e.destination, refused=e.refused, last_seen=e.last_seen)
        for e in sorted(egress, key=lambda e: e.destination)
        if profile is not None and e.profile == profile
    )
    return tuple(out)


# -- rendering: one line a change ------------------------------------------------------------


def _short(text: str, width: int = 72) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _excerpt(old: str, new: str, before: int = 16, width: int = 56) -> str:
    """Two values around their first difference, so a long description's change shows."""
    old_value, new_value = json.loads(old), json.loads(new)
    if not (isinstance(old_value, str) and isinstance(new_value, str)):
        return f"{_short(old)} -> {_short(new)}"
    same = 0
    for a, b in zip(old_value, new_value, strict=False):
        if a != b:
            break
        same += 1
    start = max(0, same - before)
    if start == 0:
        return f"{_short(old)} -> {_short(new)}"
    cut = (_text(old_value[start:]), _text(new_value[start:]))
    return f"…{_short(cut[0] or '', width)} -> …{_short(cut[1] or '', width)}"


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _what(change: Change) -> str:
    if change.kind is Kind.ADDED:
        return f"added {_short(change.new or '')}" if change.path else "added (not pinned)"
    if change.kind is Kind.REMOVED:
        return f"removed (was {_short(change.old or '')})" if change.path else "removed"
    if change.by_digest:
        return f"changed ({change.old} -> {change.new})"
    return _excerpt(change.old or "null", change.new or "null")


def line(change: Change) -> str:
    """The change in one readable line (untrusted text: escape it where it is printed)."""
    if change.subject is Subject.EGRESS:
        return (
            f"egress to {change.name}: not in the pinned sandbox profile "
            f"(refused {change.refused}x, last {_stamp(change.last_seen)})"
        )
    if change.subject is Subject.SERVER:
        if change.by_digest:
            return "server name, version or instructions changed"
        return f"server.{change.path}: {_what(change)}"
    where = change.item
    if change.path:
        where = f"{where}: {change.path}"
    return f"{where}: {_what(change)}"


def lines(changes: Iterable[Change]) -> list[str]:
    return [line(change) for change in changes]
