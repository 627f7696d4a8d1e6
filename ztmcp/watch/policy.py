"""What ``ztmcp watch`` does with what an agent sends to a model: the ``[watch]`` table.

    [watch]
    name = "billing-agent"           # the agent's name (--name wins)
    secrets = "redact"               # a secret in a prompt: flag | redact | deny
    injection = "flag"               # an injection in a tool result fed back: flag | deny
    store_content = false            # never keep prompt or completion text (digests always)
    openai_compatible = ["llm.corp.example:443"]   # more OpenAI-compatible endpoints

    [export]
    otlp_endpoint = "http://127.0.0.1:4318"

An unknown key or value refuses the policy (a typo must not turn a check off).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ztmcp.documents import loads_toml, read_file
from ztmcp.errors import PolicyError

SECRETS: Final = ("flag", "redact", "deny")
INJECTION: Final = ("flag", "deny")
_WATCH_KEYS: Final = frozenset(
    {"name", "secrets", "injection", "store_content", "openai_compatible"}
)
_EXPORT_KEYS: Final = frozenset({"otlp_endpoint"})


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    name: str | None = None
    secrets: str = "redact"
    injection: str = "flag"
    store_content: bool = False
    openai_compatible: tuple[str, ...] = ()
    otlp_endpoint: str | None = None


def _refuse(origin: str, what: str) -> PolicyError:
    return PolicyError(f"{origin}: {what}", hint="see docs/watch.md for the [watch] table")


def _choice(
    table: dict[str, Any], key: str, allowed: tuple[str, ...], default: str, origin: str
) -> str:
    value = table.get(key, default)
    if value not in allowed:
        raise _refuse(origin, f"[watch] {key} must be one of {', '.join(allowed)}")
    return str(value)


def parse(data: dict[str, Any], origin: str) -> WatchPolicy:
    watch = data.get("watch", {})
    export = data.get("export", {})
    if not isinstance(watch, dict) or not isinstance(export, dict):
        raise _refuse(origin, "[watch] and [export] must be tables")
    for table, known, label in ((watch, _WATCH_KEYS, "watch"), (export, _EXPORT_KEYS, "export")):
        unknown = sorted(set(table) - known)
        if unknown:
            raise _refuse(origin, f"unknown key [{label}] {unknown[0]}")
    name = watch.get("name")
    hosts = watch.get("openai_compatible", [])
    endpoint = export.get("otlp_endpoint")
    if name is not None and (not isinstance(name, str) or not name):
        raise _refuse(origin, "[watch] name must be a non-empty string")
    if name is not None:  # the rule `ztmcp watch --name` reads the same name by
        from ztmcp.names import AGENT, refusal_shown

        why = refusal_shown(AGENT, name)
        if why is not None:
            raise _refuse(origin, f"[watch] name must be an agent name: {why}")
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise _refuse(origin, "[watch] openai_compatible must be a list of host names")
    if not isinstance(watch.get("store_content", False), bool):
        raise _refuse(origin, "[watch] store_content must be true or false")
    if endpoint is not None and (
        not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://"))
    ):
        raise _refuse(origin, "[export] otlp_endpoint must be an http:// or https:// URL")
    return WatchPolicy(
        name=name,
        secrets=_choice(watch, "secrets", SECRETS, "redact", origin),
        injection=_choice(watch, "injection", INJECTION, "flag", origin),
        store_content=bool(watch.get("store_content", False)),
        openai_compatible=tuple(hosts),
        otlp_endpoint=endpoint,
    )


def load(path: Path | None) -> WatchPolicy:
    if path is None:
        return WatchPolicy()
    try:
        data = loads_toml(read_file(path).decode("utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}", hint="fix the TOML syntax") from None
    return parse(data, str(path))
