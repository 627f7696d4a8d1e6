"""What a name, a host, an origin or a URL may be, wherever it comes from.

A server, agent or tool name reaches the audit log, the state databases and policy matching
from two places: a policy file (``[[access.rule]] server = "…"``) and the command line
(``ztmcp proxy --name``, ``ztmcp grant SERVER TOOL``). Both read it through the one ``Kind``
here: ``ztmcp.policy`` (and ``ztmcp.credentials`` for hosts and secret names) on one side,
``ztmcp.cli.values`` (typer) and ``ztmcp.cli.run_cmd`` (argparse) on the other. A rule is data
(a frozen ``Kind``); ``Kind.refusal`` is pure and says why a value is refused, or None; each
entry point raises its own error (a ``PolicyError`` naming the file and key, a ``UsageError``
naming the option), so the two cannot drift apart.

Every kind refuses: the empty string, more than its length limit, any character that could
act on or hide in a terminal (``ztmcp.terminal.unsafe``: C0/C1 controls, bidi and zero-width
format characters, line separators, lone surrogates, which a file name in invalid UTF-8
decodes to), and whitespace at either end. Then the kind's own shape, if it has one.

Nothing here imports more than ``re``, ``dataclasses`` and ztmcp's ``errors`` and
``terminal``: ``ztmcp run`` reads its ``--name`` through it before the server starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from ztmcp.errors import UsageError
from ztmcp.terminal import unsafe

MAX_NAME: Final = 256  # characters of a server, agent or tool name (or its glob)
MAX_TEXT: Final = 1000  # characters of free text an option records (a grant's reason)
MAX_URL: Final = 2048
SHOWN: Final = 60  # characters of a refused value an error shows

# A host as ztmcp compares it (lower-case): a DNS name or IPv4 address, or an IPv6 address.
DOMAIN: Final = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
IPV6: Final = r"[0-9a-f:.]+"
_PORT: Final = r"[0-9]{1,5}"
# A Host or Origin header's host, compared as given: a DOMAIN, or one with '_' (a Docker
# Compose service such as mcp_server is reached by that name, and sends it as its Host).
_HOST_NAME: Final = r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?"
# An origin's scheme (RFC 3986): http and https, and the schemes browsers give extensions and
# webviews (chrome-extension://ID, moz-extension://UUID, vscode-webview://ID, tauri://localhost).
_SCHEME: Final = r"[a-z][a-z0-9+.-]*"


def _port(value: str) -> str | None:
    """The port after the last ':' (if the value ends in one) is 1 to 65535."""
    match = re.search(r":([0-9]{1,5})/?$", value)
    if match is not None and not 0 < int(match.group(1)) < 65536:
        return f"port {match.group(1)} is not from 1 to 65535"
    return None


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of identifier: how a refusal calls it, its limit and shape, and what to do."""

    noun: str  # "server name": what a refusal calls the value
    hint: str  # what a good one looks like
    max_chars: int = MAX_NAME
    # A regular expression the whole value must match (after ``fold``); compiled on first use
    # (re's cache), not at import: ``ztmcp run`` imports this module with the policy.
    shape: str | None = None
    check: Callable[[str], str | None] | None = None  # a further rule: the reason, or None
    fold: bool = False  # compared lower-case (hosts, origins): parsed to lower case
    empty: bool = False  # the empty string is a value (free text)
    spaces: bool = True  # inner whitespace allowed

    def called(self, noun: str) -> Kind:
        """The same rule under another name (a server name and a tool name share it)."""
        return replace(self, noun=noun)

    def refusal(self, value: str) -> str | None:
        """Why ``value`` is no such identifier (a short phrase, without the value), or None."""
        if not value:
            return None if self.empty else "empty"
        if len(value) > self.max_chars:
            return f"longer than {self.max_chars} characters"
        bad = next((c for c in value if unsafe(c)), None)
        if bad is not None:
            return f"a control or invisible character, U+{ord(bad):04X}"
        if value.strip() != value:
            return "whitespace at the start or end"
        if not self.spaces and any(c.isspace() for c in value):
            return "whitespace inside"
        folded = value.lower() if self.fold else value
        if self.shape is not None and not re.fullmatch(self.shape, folded):
            return "not of the form the hint shows"
        return None if self.check is None else self.check(folded)

    def parse(self, value: str) -> str:
        """The value as ztmcp keeps it; call only when ``refusal`` found nothing."""
        return value.lower() if self.fold else value


# A server, agent or tool name, or a glob of them (the policy's rules are globs; a name is
# matched against them, never used as a pattern): any printable text.
NAME: Final = Kind(
    "name",
    hint=f"use printable text up to {MAX_NAME} characters, with no control characters",
)
SERVER: Final = NAME.called("server name")
AGENT: Final = NAME.called("agent name")
TOOL: Final = NAME.called("tool name")

# A name that becomes a file name or a keyring entry: a pinned server (ztmcp.manifests/NAME.json)
# or a secret.
FILE_NAME: Final = Kind(
    "name",
    hint="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    max_chars=64,
    shape=r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
)
PINNED: Final = FILE_NAME.called("server name")  # of a pin
SECRET: Final = FILE_NAME.called("secret name")

# A Host header the proxy accepts: host[:port] (an IPv6 address in brackets).
HOST: Final = Kind(
    "host",
    hint="for example: --allow-host myhost.local:8931 or --allow-host [::1]:8931",
    shape=rf"(?:{_HOST_NAME}|\[{IPV6}\])(?::{_PORT})?",
    check=_port,
    fold=True,
    spaces=False,
)
# An Origin header the proxy accepts: scheme://host[:port] (``null`` is no origin to allow:
# every sandboxed frame and file:// page sends it).
ORIGIN: Final = Kind(
    "origin",
    hint="for example: --allow-origin https://app.example.com (scheme, host, port; no path)",
    shape=rf"{_SCHEME}://(?:{_HOST_NAME}|\[{IPV6}\])(?::{_PORT})?/?",
    check=_port,
    fold=True,
    spaces=False,
)
# A URL: printable, one word; its scheme, host and port are read by whoever uses it
# (``runtime.parse_upstream`` for ``ztmcp proxy URL``, with its own one-line errors).
URL: Final = Kind(
    "URL",
    hint="for example: https://mcp.example.com/mcp or http://127.0.0.1:3001/mcp",
    max_chars=MAX_URL,
    spaces=False,
)
# Free text that is recorded (a grant's reason): printable, may be empty.
TEXT: Final = Kind(
    "text",
    hint=f"use printable text up to {MAX_TEXT} characters, on one line",
    max_chars=MAX_TEXT,
    empty=True,
)
# One word a command compares or records as given: a grant id, a digest, a signer identity
# (an e-mail address or a workflow URI), an OIDC issuer.
WORD: Final = Kind(
    "value",
    hint="use printable characters without spaces",
    max_chars=MAX_URL,
    spaces=False,
)


def refusal_shown(kind: Kind, value: str) -> str | None:
    """Why ``kind`` refuses ``value``, after the value cut and ``repr``-escaped (and escaped
    again when printed): ``'a b' (holds a space)``; None when it does not. Every error that
    names a refused name (the command line, the policy's tables, ``[watch] name``) says it so."""
    reason = kind.refusal(value)
    if reason is None:
        return None
    shown = value if len(value) <= SHOWN else value[:SHOWN] + "…"
    return f"{shown!r} ({reason})"


def refused(kind: Kind, where: str, value: str) -> UsageError | None:
    """The command-line error for ``value`` given as ``where`` (an option or an argument),
    or None."""
    why = refusal_shown(kind, value)
    if why is None:
        return None
    return UsageError(f"invalid {kind.noun} for {where}: {why}", hint=kind.hint)


def check(kind: Kind, where: str, value: str) -> str:
    """``value`` as ztmcp keeps it; ``UsageError`` when ``kind`` refuses it."""
    error = refused(kind, where, value)
    if error is not None:
        raise error
    return kind.parse(value)
