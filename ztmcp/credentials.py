"""Credential brokering: upstream tokens live in the OS keyring and reach only the upstream.

The policy names which upstream gets which secret as which header::

    [[proxy.header]]
    upstream = "https://api.example.com/mcp*"
    name = "Authorization"
    value = "Bearer {secret:github}"

``ztmcp proxy`` resolves the rules for its upstream URL once, at start, into a plain
``dict[str, str]`` that its addon adds to every request it forwards upstream. The agent never
holds the secret, and the value appears in no log, audit record or error message.

A request in which the agent sends a header that ztmcp brokers for that upstream is refused
(``agent_conflicts``): replacing it silently would hide a client that holds credentials of its
own, forwarding it would let the agent pick the identity. The client config should drop it.

Secrets are stored under the keyring service ``ztmcp``. Keyring backends cannot list their
entries, so the names (never the values) are kept in ``$ZTMCP_HOME/secrets.json``. The
``keyring`` package is imported only when a secret is read or written: ``ztmcp run`` and policy
validation never pay for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from ztmcp import names
from ztmcp.documents import read_file
from ztmcp.errors import ZtmcpError

SERVICE: Final = "ztmcp"
MAX_SECRET_BYTES: Final = 16 * 1024

_PLACEHOLDER: Final = re.compile(r"\{secret:([^{}]*)\}")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name (RFC 9110)
# A literal host, or "*." and a domain: a secret never goes to "any host".
_HOST: Final = re.compile(rf"(\*\.)?(?:{names.DOMAIN})|{names.IPV6}")  # the CLI's host rule
_RULE_KEYS: Final = frozenset({"upstream", "name", "value"})

# Headers the proxy itself owns: framing, routing and the MCP headers checked against the body.
RESERVED_HEADERS: Final = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
        "origin",
        "accept",
        "mcp-session-id",
        "mcp-protocol-version",
        "mcp-method",
        "mcp-name",
        "last-event-id",
    }
)

_NO_BACKEND_HINT: Final = (
    "install a keyring backend for this machine (on a headless box: `pip install keyrings.alt`, "
    "a plaintext file), or pick one with PYTHON_KEYRING_BACKEND=module.Class"
)


class CredentialError(ZtmcpError):
    """A secret cannot be stored, read or resolved, or the keyring cannot be used."""


@dataclass(frozen=True, slots=True)
class HeaderRule:
    """One ``[[proxy.header]]`` entry: which upstream URLs get header ``name`` = ``value``."""

    upstream: str
    name: str
    value: str  # a template: literal text and {secret:NAME} placeholders

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(_PLACEHOLDER.findall(self.value))

    def matches(self, url: str) -> bool:
        """Does the upstream ``url`` fall under this rule (scheme, host, port, path glob)?"""
        import fnmatch

        want, got = _split(self.upstream), _split(url)
        if want is None or got is None or want[0] != got[0] or want[2] != got[2]:
            return False
        host = want[1]
        if host.startswith("*."):
            if not got[1].endswith(host[1:]):
                return False
        elif host != got[1]:
            return False
        return fnmatch.fnmatchcase(got[3] or "/", want[3] or "*")


def _split(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, lower-case host, port, path) of an http(s) URL, or None."""
    from urllib.parse import urlsplit  # here, not at import: `ztmcp run` starts without it

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default, parts.path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_header_rules(raw: Any, origin: str) -> tuple[HeaderRule, ...]:
    """Validate ``[[proxy.header]]``; every mistake is a one-line PolicyError at start."""
    from ztmcp.errors import PolicyError

    example = (
        '[[proxy.header]] upstream = "https://api.example.com/*" name = "Authorization" '
        'value = "Bearer {secret:github}"'
    )
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise PolicyError(f"{origin}: [proxy] header must be a list of tables", hint=example)
    rules: list[HeaderRule] = []
    for index, table in enumerate(raw, 1):
        where = f"[[proxy.header]] #{index}"
        extra = sorted(set(table) - _RULE_KEYS)
        if extra:
            raise PolicyError(
                f"{origin}: unknown key {extra[0]!r} in {where}",
                hint=f"valid keys there: {', '.join(sorted(_RULE_KEYS))}",
            )
        for key in sorted(_RULE_KEYS):
            if not isinstance(table.get(key), str) or not table[key]:
                raise PolicyError(f'{origin}: {where} needs {key} = "…" (a string)', hint=example)
        upstream, name, value = table["upstream"], table["name"], table["value"]
        parts = _split(upstream)
        if parts is None or not _HOST.fullmatch(parts[1]) or any(c in upstream for c in "?#"):
            raise PolicyError(
                f"{origin}: {where} upstream {upstream!r} is not an http(s) URL glob with an "
                "explicit host",
                hint='name the host, for example "https://api.example.com/*" or '
                '"https://*.example.com/mcp"; a * glob goes in the path only',
            )
        if not _TOKEN.fullmatch(name):
            raise PolicyError(
                f"{origin}: {where} name {name!r} is not an HTTP header name",
                hint='for example: name = "Authorization"',
            )
        if name.lower() in RESERVED_HEADERS:
            raise PolicyError(
                f"{origin}: {where} name {name!r} is a header ztmcp manages itself",
                hint="broker credentials in Authorization or a custom header",
            )
        if "\r" in value or "\n" in value or "\0" in value:
            raise PolicyError(f"{origin}: {where} value contains a line break")
        _check_template(value, origin, where)
        rule = HeaderRule(upstream=upstream, name=name, value=value)
        if rule.secrets and parts[0] == "http" and not _is_loopback(parts[1]):
            raise PolicyError(
                f"{origin}: {where} sends a secret to {upstream!r} over plain http",
                hint="use https:// (plain http is allowed only for a loopback upstream)",
            )
        rules.append(rule)
    return tuple(rules)


def _check_template(value: str, origin: str, where: str) -> None:
    from ztmcp.errors import PolicyError

    for found in _PLACEHOLDER.finditer(value):
        if names.SECRET.refusal(found.group(1)) is not None:
            raise PolicyError(
                f"{origin}: {where} value names an invalid secret {found.group(1)!r}",
                hint="secret names are letters, digits, '.', '_' and '-' (see `ztmcp secret list`)",
            )
    if "{" in _PLACEHOLDER.sub("", value) or "}" in _PLACEHOLDER.sub("", value):
        raise PolicyError(
            f"{origin}: {where} value has a brace that is not a {{secret:NAME}} placeholder",
            hint='for example: value = "Bearer {secret:github}"',
        )


def rules_for(rules: Iterable[HeaderRule], upstream: str) -> dict[str, HeaderRule]:
    """The rule that applies to each header name for ``upstream``: first match wins."""
    chosen: dict[str, HeaderRule] = {}
    for rule in rules:
        if rule.matches(upstream):
            chosen.setdefault(rule.name.lower(), rule)
    return chosen


class SecretReader(Protocol):
    def get(self, name: str) -> str: ...


def resolve(rules: Iterable[HeaderRule], upstream: str, secrets: SecretReader) -> dict[str, str]:
    """The headers to add to every request to ``upstream``, secrets filled in (at start)."""
    headers: dict[str, str] = {}
    for rule in rules_for(rules, upstream).values():
        value = _PLACEHOLDER.sub(lambda m: secrets.get(m.group(1)), rule.value)
        headers[rule.name] = value
    return headers


def agent_conflicts(agent_headers: Iterable[str], brokered: Mapping[str, str]) -> tuple[str, ...]:
    """Header names the agent sent that ztmcp brokers: such a request is refused, not patched."""
    mine = {name.lower() for name in brokered}
    return tuple(sorted({h for h in agent_headers if h.lower() in mine}, key=str.lower))


def redact(text: str, brokered: Mapping[str, str]) -> str:
    """``text`` with every brokered header value replaced (for error messages from libraries)."""
    for value in sorted(brokered.values(), key=len, reverse=True):
        if value:
            text = text.replace(value, "[REDACTED:credential]")
    return text


def check_name(name: str) -> str:
    """A secret's name (``ztmcp.names.SECRET``, the rule ``ztmcp secret NAME`` reads by)."""
    if names.SECRET.refusal(name) is not None:
        raise CredentialError(f"invalid secret name {name!r}", hint=names.SECRET.hint)
    return name


def check_value(value: str) -> str:
    if not value:
        raise CredentialError("empty secret value", hint="paste the token, or pipe it on stdin")
    if "\r" in value or "\n" in value or "\0" in value:
        raise CredentialError(
            "the secret value has a line break inside it",
            hint="a header value is one line: pipe only the token",
        )
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise CredentialError(f"the secret value is over {MAX_SECRET_BYTES} bytes")
    return value


class SecretStore:
    """Secrets in the OS keyring (service ``ztmcp``), their names in ``index``."""

    def __init__(self, index: Path | None = None) -> None:
        if index is None:
            from ztmcp.state import paths

            index = paths.home() / "secrets.json"
        self.index = index

    def names(self) -> list[str]:
        try:
            data = json.loads(read_file(self.index).decode("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError, RecursionError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc).split(":")[0]
            raise CredentialError(
                f"{self.index}: unreadable secret index ({reason})",
                hint="delete the file; then `ztmcp secret set NAME` again for each secret",
            ) from None
        names = data.get("names") if isinstance(data, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CredentialError(
                f"{self.index}: not a ztmcp secret index",
                hint="delete the file; then set the secrets again",
            )
        return sorted(set(names))

    def _write_names(self, names: Iterable[str]) -> None:
        from ztmcp.state.paths import write_atomic

        self.index.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps({"names": sorted(set(names))}, indent=1) + "\n"
        write_atomic(self.index, body.encode("utf-8"), mode=0o600)  # private to the user

    def get(self, name: str) -> str:
        value = _keyring_call("read", lambda kr: kr.get_password(SERVICE, check_name(name)))
        if value is None:
            raise CredentialError(
                f"no secret named {name!r} in the keyring (service {SERVICE!r})",
                hint=f"store it with `ztmcp secret set {name}`",
            )
        return str(value)

    def exists(self, name: str) -> bool:
        return _keyring_call("read", lambda kr: kr.get_password(SERVICE, name)) is not None

    def set(self, name: str, value: str) -> None:
        check_name(name)
        check_value(value)
        _keyring_call("store", lambda kr: kr.set_password(SERVICE, name, value))
        self._write_names([*self.names(), name])

    def delete(self, name: str) -> bool:
        """Remove the secret; False when there was none (the index is cleaned either way)."""
        check_name(name)
        from keyring.errors import PasswordDeleteError

        def remove(kr: Any) -> bool:
            try:
                kr.delete_password(SERVICE, name)
            except PasswordDeleteError:
                return False
            return True

        found: bool = _keyring_call("delete", remove)
        known = self.names()
        if name in known:
            self._write_names(n for n in known if n != name)
        return found or name in known


def _keyring_call(what: str, call: Any) -> Any:
    """Run ``call(keyring)``; a missing backend or a backend failure is one CredentialError."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    try:
        return call(keyring)
    except NoKeyringError:
        raise CredentialError(
            f"cannot {what} secrets: no keyring backend is available on this machine",
            hint=_NO_BACKEND_HINT,
        ) from None
    except KeyringError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CredentialError(
            f"cannot {what} secrets: the keyring refused ({reason})",
            hint="unlock the keyring, or pick another backend with PYTHON_KEYRING_BACKEND",
        ) from None


def upstream_headers(rules: Iterable[HeaderRule], upstream: str) -> dict[str, str]:
    """What ``ztmcp proxy`` calls at start: resolved headers for ``upstream`` from the keyring."""
    rules = tuple(rules)
    if not rules_for(rules, upstream):
        return {}
    return resolve(rules, upstream, SecretStore())


def brokered_headers(
    upstream: str, rules: Iterable[HeaderRule], given: Mapping[str, str] | None = None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The headers to add upstream, and the secret values in them: the keyring's values and
    the headers built from them (literal headers such as a tenant name are not secret).
    Headers ``given`` programmatically all count as secret and are overridden by the rules."""
    rules = tuple(rules)
    given = dict(given or {})
    secrets = [*given.values()]
    chosen = rules_for(rules, upstream)
    headers: dict[str, str] = {}
    if chosen:
        store = SecretStore()

        class Reading:
            def get(self, name: str) -> str:
                value = store.get(name)
                secrets.append(value)
                return value

        headers = resolve(rules, upstream, Reading())
        secrets += [headers[r.name] for r in chosen.values() if r.secrets]
    return {**given, **headers}, tuple(secrets)
