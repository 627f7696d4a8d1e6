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

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from ztmcp.behaviour.fingerprint import Keyed, texts

ELICIT: Final = "elicitation/create"
# Requests that may come back ``input_required`` and be retried with ``inputResponses``.
RETRIED: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
MAX_DEPTH: Final = 64


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
