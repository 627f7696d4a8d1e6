"""What a sandboxed server may touch: the profile, its network rules, and the ``[sandbox]`` table.

Deny by default: a profile grants nothing until it names a path, a host or a variable. The
``[sandbox]`` table of ``ztmcp.toml`` holds one profile per server-name glob; every entry that
matches a server's name adds its grants (grants only ever add), and the command line's
``--allow-*`` options add to those. Bad entries are one-line policy errors at start.

    [sandbox]
    enforce = true                  # every server run under this policy is sandboxed

    [sandbox.servers."fetch*"]
    allow_net = ["api.example.com", "*.example.org:8443"]
    allow_read = ["~/src/docs"]
    allow_write = ["~/scratch/fetch"]
    env = ["FETCH_USER_AGENT"]      # passed through from ztmcp's environment
    secrets = { API_TOKEN = "example-token" }   # variable = keyring secret name
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ztmcp.errors import PolicyError, UsageError

# A host without a port allows the web's two ports only; ``host:*`` allows every port.
DEFAULT_PORTS: Final = (80, 443)
_HOST_GLOB: Final = re.compile(r"^[A-Za-z0-9*?.\-_\[\]:]+$")
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE_KEYS: Final = frozenset({"enforce", "servers", "upstream_ca"})
_SERVER_KEYS: Final = frozenset(
    {"allow_read", "allow_write", "allow_net", "env", "secrets", "intercept_tls", "on_secret"}
)
ON_SECRET: Final = ("deny", "flag")  # what the gate does with a secret in an intercepted body


@dataclass(frozen=True, slots=True)
class NetRule:
    """One allowed destination: a host glob (case-insensitive) and a port, or any port."""

    host: str
    port: int | None  # None: any port
    spec: str  # as the user wrote it, for audit records and refusals

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and port != self.port:
            return False
        return fnmatch.fnmatchcase(host.lower().rstrip("."), self.host)


def parse_net(spec: str) -> tuple[NetRule, ...]:
    """``host``, ``host:port``, ``host:*``, ``[v6]:port``; globs in the host (``*.example.com``)."""
    text = spec.strip()
    example = "e.g. api.example.com, *.example.org:8443, 127.0.0.1:8080 or host:*"
    if text.startswith("["):  # [::1]:8080
        end = text.find("]")
        host, rest = text[1:end], text[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise UsageError(f"bad network rule {spec!r}", hint=example)
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, None
    host = host.lower().rstrip(".")
    if not host or not _HOST_GLOB.match(host):
        raise UsageError(f"bad network rule {spec!r}: no host", hint=example)
    if host.strip("*?.") == "":
        raise UsageError(
            f"network rule {spec!r} allows every host",
            hint="name the hosts the server needs (globs such as *.example.com are fine)",
        )
    if port_text is None:
        return tuple(NetRule(host, port, text) for port in DEFAULT_PORTS)
    if port_text == "*":
        return (NetRule(host, None, text),)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"bad network rule {spec!r}: port {port_text!r}", hint=example)
    return (NetRule(host, int(port_text), text),)


@dataclass(frozen=True, slots=True)
class Profile:
    """A sandboxed server's grants. Paths may use ``~`` and globs; they are resolved at launch."""

    allow_read: tuple[str, ...] = ()
    allow_write: tuple[str, ...] = ()
    allow_net: tuple[NetRule, ...] = ()
    env: tuple[str, ...] = ()  # variables passed through from ztmcp's environment
    secrets: Mapping[str, str] = field(default_factory=dict)  # variable -> keyring secret name
    intercept_tls: bool = False  # decrypt allowed HTTPS with the ztmcp CA and scan the bodies
    on_secret: str | None = None  # "deny" (the default) or "flag"

    @property
    def secret_action(self) -> str:
        return self.on_secret or "deny"

    def net_rule(self, host: str, port: int) -> NetRule | None:
        """The first rule allowing ``host:port``, or None (refused)."""
        return next((r for r in self.allow_net if r.matches(host, port)), None)

    def merged(self, other: Profile) -> Profile:
        """Both profiles' grants (grants only add)."""
        return Profile(
            allow_read=_unique(self.allow_read + other.allow_read),
            allow_write=_unique(self.allow_write + other.allow_write),
            allow_net=_unique(self.allow_net + other.allow_net),
            env=_unique(self.env + other.env),
            secrets={**self.secrets, **other.secrets},
            intercept_tls=self.intercept_tls or other.intercept_tls,
            # the stricter wins: deny if either says deny, flag only if one says flag
            on_secret="deny"
            if "deny" in (self.on_secret, other.on_secret)
            else (self.on_secret or other.on_secret),
        )


def _unique[T](items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))


def env_name(name: str, where: str) -> str:
    if not _ENV_NAME.match(name):
        raise UsageError(f"{where}: {name!r} is not an environment variable name")
    return name


@dataclass(frozen=True, slots=True)
class SandboxTable:
    """The validated ``[sandbox]`` table."""

    enforce: bool = False
    servers: tuple[tuple[str, Profile], ...] = ()  # (name glob, profile), in file order
    upstream_ca: str | None = None  # with intercept_tls: a CA the gate trusts upstream (PEM)

    def profile_for(self, server: str) -> Profile | None:
        """Every matching entry's grants together; None when no entry names the server."""
        found = [p for glob, p in self.servers if fnmatch.fnmatchcase(server, glob)]
        if not found:
            return None
        merged = Profile()
        for profile in found:
            merged = merged.merged(profile)
        return merged


def _strings(origin: str, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(
            f"{origin}: {where} must be a list of strings", hint=f'for example: {where} = ["…"]'
        )
    return tuple(value)


def _server_profile(origin: str, name: str, table: Any) -> Profile:
    from ztmcp.names import SERVER, refusal_shown  # the rule [[access.rule]] globs are read by

    why = refusal_shown(SERVER, name)
    if why is not None:
        raise PolicyError(
            f"{origin}: [sandbox.servers] {why} is no server name or glob",
            hint='for example: [sandbox.servers."fetch*"]',
        )
    where = f"[sandbox.servers.{name!r}]"
    if not isinstance(table, dict):
        raise PolicyError(f"{origin}: {where} must be a table")
    extra = sorted(set(table) - _SERVER_KEYS)
    if extra:
        raise PolicyError(
            f"{origin}: unknown key {extra[0]!r} in {where}",
            hint=f"valid keys there: {', '.join(sorted(_SERVER_KEYS))}",
        )
    try:
        nets = tuple(
            rule
            for spec in _strings(origin, f"{where} allow_net", table.get("allow_net", []))
            for rule in parse_net(spec)
        )
        env = tuple(
            env_name(n, f"{origin}: {where} env")
            for n in _strings(origin, f"{where} env", table.get("env", []))
        )
        secrets_raw = table.get("secrets", {})
        if not isinstance(secrets_raw, dict) or not all(
            isinstance(v, str) and v for v in secrets_raw.values()
        ):
            raise PolicyError(
                f"{origin}: {where} secrets must map variable names to keyring secret names",
                hint='for example: secrets = { API_TOKEN = "example-token" }',
            )
        secrets = {env_name(k, f"{origin}: {where} secrets"): v for k, v in secrets_raw.items()}
    except UsageError as exc:
        raise PolicyError(exc.message, hint=exc.hint) from None
    intercept = table.get("intercept_tls", False)
    if not isinstance(intercept, bool):
        raise PolicyError(f"{origin}: {where} intercept_tls must be true or false")
    on_secret = table.get("on_secret")
    if on_secret is not None and on_secret not in ON_SECRET:
        raise PolicyError(
            f"{origin}: {where} on_secret must be one of {', '.join(ON_SECRET)}",
            hint='on_secret = "deny" refuses the request; "flag" records it and lets it go',
        )
    return Profile(
        intercept_tls=intercept,
        on_secret=on_secret,
        allow_read=_strings(origin, f"{where} allow_read", table.get("allow_read", [])),
        allow_write=_strings(origin, f"{where} allow_write", table.get("allow_write", [])),
        allow_net=nets,
        env=env,
        secrets=secrets,
    )


def parse_table(data: Any, origin: str) -> SandboxTable:
    """Validate a ``[sandbox]`` table (already merged from the policy files)."""
    if data is None:
        return SandboxTable()
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: [sandbox] must be a table")
    extra = sorted(set(data) - _TABLE_KEYS)
    if extra:
        raise PolicyError(
            f"{origin}: unknown key {extra[0]!r} in [sandbox]",
            hint=f"valid keys there: {', '.join(sorted(_TABLE_KEYS))}",
        )
    enforce = data.get("enforce", False)
    if not isinstance(enforce, bool):
        raise PolicyError(f"{origin}: [sandbox] enforce must be true or false")
    servers = data.get("servers", {})
    if not isinstance(servers, dict):
        raise PolicyError(f"{origin}: [sandbox.servers] must be a table of server-name globs")
    upstream_ca = data.get("upstream_ca")
    if upstream_ca is not None and (not isinstance(upstream_ca, str) or not upstream_ca):
        raise PolicyError(f"{origin}: [sandbox] upstream_ca must be the path of a PEM file")
    return SandboxTable(
        enforce=enforce,
        upstream_ca=upstream_ca,
        servers=tuple((glob, _server_profile(origin, glob, t)) for glob, t in servers.items()),
    )
