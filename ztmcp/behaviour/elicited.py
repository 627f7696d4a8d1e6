"""The person's own words from MCP elicitation answers (docs/behaviour.md, "Elicitation").

An elicitation is the one place the MCP wire carries what the *person* typed or chose: a
server asks (``elicitation/create``: a message and a flat requested schema), the client shows
a form, and its answer (``action: "accept"`` with ``content``) is what the person entered. Two
shapes, one rule:

* handshake era: a server -> client ``elicitation/create`` request, answered by the client's
  JSON-RPC response;
* 2026-07-28 era: a ``tools/call`` (``prompts/get``, ``resources/read``) result with
  ``resultType: "input_required"`` and ``inputRequests`` (key -> embedded request); the client
  retries the call with ``inputResponses`` under the same keys.

The rule (``person_prints``): the fingerprints (values and plain words, as for a user turn) of
the answer's content, **less every fingerprint of anything the server sent in the request**:
its message, its schema's titles, descriptions, defaults, enum values and ``const`` options,
even its property names. A value the person accepted unchanged from a server default, or
picked from the server's options, is the server's words, not the person's; the difference
takes them out by construction, whatever field of the schema carried them. Only a form-mode
request's accepted answer counts (``decline``/``cancel`` and URL mode carry nothing the person
typed); anything malformed counts for nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from ztmcp.behaviour.fingerprint import Keyed, texts

ELICIT: Final = "elicitation/create"
# Requests that may come back ``input_required`` and be retried with ``inputResponses``.
RETRIED: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
MAX_DEPTH: Final = 64
MAX_ASKED: Final = 256  # slots awaiting their retry per pipeline (the oldest is dropped)
MAX_FORMS: Final = 8  # forms one slot may hold; beyond, the slot's answer teaches nothing


def form(request: Any) -> Mapping[str, Any] | None:
    """The params of a form-mode elicitation request (``{"method", "params"}``); None for a
    URL-mode one, another method, or anything malformed."""
    if not isinstance(request, Mapping) or request.get("method") != ELICIT:
        return None
    params = request.get("params")
    if not isinstance(params, Mapping) or params.get("mode", "form") != "form":
        return None
    return params


def accepted(result: Any) -> Mapping[str, Any] | None:
    """The content of an accepted answer; None for ``decline``, ``cancel`` or anything else."""
    if not isinstance(result, Mapping) or result.get("action") != "accept":
        return None
    content = result.get("content")
    return content if isinstance(content, Mapping) else None


def _server_texts(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string and number the server sent, keys included (a property name is its word
    too)."""
    if depth > MAX_DEPTH:
        raise ValueError("elicitation request nested too deeply")
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _server_texts(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _server_texts(item, depth + 1)
    else:
        yield from texts(value)


def server_prints(hasher: Keyed, params: Mapping[str, Any]) -> frozenset[int]:
    """What the server said in its request: values and plain words of every text in it."""
    said = list(_server_texts(params))
    return hasher.of(said).union(*(hasher.words(t) for t in said))


def person_prints(
    hasher: Keyed, request: Any, result: Any, *, also: Iterable[Any] = ()
) -> frozenset[int]:
    """The fingerprints the person added in an accepted form answer: the content's values
    and plain words less everything the server sent in ``request`` (see the module
    docstring), and in each of ``also`` (other forms the answer may be to: when the server
    gave two forms the same slot, its words in either never count). Empty when the answer
    does not count."""
    params = form(request)
    content = accepted(result) if params is not None else None
    if params is None or not content:
        return frozenset()
    given = [t for value in content.values() for t in texts(value)]
    if not given:
        return frozenset()
    prints = hasher.of(given).union(*(hasher.words(t) for t in given))
    prints -= server_prints(hasher, params)
    for other in also:
        if prints:
            other_params = other.get("params") if isinstance(other, Mapping) else None
            prints -= server_prints(
                hasher, other_params if isinstance(other_params, Mapping) else {}
            )
    return prints


def input_requests(result: Any) -> Mapping[str, Any]:
    """The embedded elicitation requests of an ``input_required`` result, by key."""
    if not isinstance(result, Mapping) or result.get("resultType") != "input_required":
        return {}
    asked = result.get("inputRequests")
    if not isinstance(asked, Mapping):
        return {}
    return {str(k): v for k, v in asked.items() if form(v) is not None}


def request_state(value: Any) -> str:
    """The opaque ``requestState`` of an ``input_required`` result or of its retry ("" when
    there is none): an answer counts only for the form issued with the same state."""
    state = value.get("requestState") if isinstance(value, Mapping) else None
    return state if isinstance(state, str) else ""


def input_responses(params: Any) -> Mapping[str, Any]:
    """The answers a retried request carries, by the key of the input request they answer."""
    if not isinstance(params, Mapping):
        return {}
    given = params.get("inputResponses")
    return {str(k): v for k, v in given.items()} if isinstance(given, Mapping) else {}


# (method, tool name or resource uri, input key, request state)
Slot = tuple[str, str, str, str]


class AskedForms:
    """The 2026-07-28 forms awaiting the client's retry, by slot. One per pipeline (held by
    the flow check, like its once-allowances), shared by its Sessions: under ``ztmcp proxy``
    without a session id every POST is its own conversation, so the retry that answers a
    form reaches another Session than the result that carried it. A slot the server reused
    keeps every form given in it (its words in any of them never count); past ``MAX_FORMS``
    it answers nothing, and a slot dropped over ``MAX_ASKED`` is simply not learned (the
    strict side: nothing is named)."""

    def __init__(self, bound: int = MAX_ASKED, per_slot: int = MAX_FORMS) -> None:
        self.bound, self.per_slot = bound, per_slot
        self._slots: dict[Slot, list[Any]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    def ask(self, slot: Slot, request: Any) -> None:
        with self._lock:
            forms = self._slots.pop(slot, [])
            if len(forms) <= self.per_slot:  # one more marks the slot as teaching nothing
                forms.append(request)
            while len(self._slots) >= self.bound:
                self._slots.pop(next(iter(self._slots)))
            self._slots[slot] = forms

    def answer(self, slot: Slot) -> list[Any]:
        """The forms an answer in ``slot`` may be to (used up); empty when it counts for
        nothing."""
        with self._lock:
            forms = self._slots.pop(slot, [])
        return forms if len(forms) <= self.per_slot else []
