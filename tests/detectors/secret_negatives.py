"""A realistic corpus of values that are not secrets, built from material on this machine.

The secrets detector's false positives on unseen data come from ordinary values and from text
beside credential words (source code, documentation, commit messages), not from random ids
alone. Each corpus here is real or generated text, read at test time (nothing copied from a
rule set's test data or from the eval splits):

- ``code``: lines with a credential word (key, secret, token, password, auth …) from the
  installed dependencies' Python sources (their own licences; read, never committed), test
  directories skipped (they hold fake keys on purpose);
- ``js``: the same from the MCP reference servers' npm tree (``.peers``), when installed;
- ``lockfiles``: every line of this project's ``uv.lock`` and of the peers' ``package-lock.json``
  (sha256 digests, sha512 integrity strings, registry URLs);
- ``git``: ``<commit SHA> <subject>`` of this repository's history;
- ``peers``: every string of a recorded session with each reference MCP server, through the
  official SDK (``tests/detectors/secret_negatives_peers.json``, written by
  ``python -m tests.detectors.secret_negatives --record``: the servers are MIT-licensed, the
  files they read are this project's own);
- ``generated``: UUIDs, image digests, base64 of binaries on this machine, URLs with long
  query ids, package names, CSS-module and bundle hashes, i18n keys, minified identifiers,
  and the placeholder keys of providers' documentation (``AKIAIOSFODNN7EXAMPLE``, ``sk-...``).

``python -m tests.detectors.secret_negatives`` prints the blocking rate (HIGH or CRITICAL) per
corpus and the blocked values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[2]
PEERS: Final = Path(os.environ.get("ZTMCP_PEERS_DIR", ROOT / ".peers"))
FIXTURE: Final = Path(__file__).with_name("secret_negatives_peers.json")
_CREDENTIAL: Final = re.compile(r"(?i)key|secret|token|passw|pwd|auth|credential|bearer")
_SKIP_DIRS: Final = frozenset({"test", "tests", "testing", "testdata", "fixtures", "examples"})


def _keyword_lines(root: Path, suffixes: tuple[str, ...], every: int) -> list[str]:
    """Every ``every``-th distinct line (8 to 400 characters) with a credential word, in the
    files under ``root`` ending in ``suffixes``, walked in sorted order (deterministic)."""
    seen: dict[str, None] = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(suffixes) or name.startswith("test_"):
                continue
            try:
                text = Path(directory, name).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for line in text.splitlines():
                line = line.strip()
                if 8 <= len(line) <= 400 and _CREDENTIAL.search(line):
                    seen.setdefault(line)
    return list(seen)[::every]


def code(every: int = 4) -> list[str]:
    return _keyword_lines(Path(sysconfig.get_paths()["purelib"]), (".py",), every)


def js(every: int = 1) -> list[str]:
    root = PEERS / "npm" / "node_modules"
    return _keyword_lines(root, (".js", ".ts", ".md"), every) if root.is_dir() else []


def lockfiles() -> list[str]:
    out: list[str] = []
    for path in (ROOT / "uv.lock", PEERS / "npm" / "package-lock.json"):
        if path.is_file():
            out += [ln.strip() for ln in path.read_text("utf-8").splitlines() if len(ln) > 8]
    return list(dict.fromkeys(out))


def git(limit: int = 600) -> list[str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "log", "--format=%H %s", "-n", str(limit)],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return done.stdout.splitlines()


def peers() -> list[str]:
    if not FIXTURE.is_file():
        return []
    values = json.loads(FIXTURE.read_text("utf-8"))
    assert isinstance(values, list)
    return [str(v) for v in values]


def _binaries() -> list[bytes]:
    """Bytes of small binary files on this machine (the interpreter, shared objects)."""
    paths = [Path(sys.executable).resolve()]
    lib = Path(sysconfig.get_paths()["platlib"])
    paths += sorted(lib.glob("*.so"))[:6] + sorted(lib.glob("*/*.png"))[:6]
    out = []
    for path in paths:
        try:
            with path.open("rb") as f:
                out.append(f.read(4096))
        except OSError:
            continue
    return out


_WORDS: Final = tuple(
    [
        "account",
        "settings",
        "profile",
        "login",
        "password",
        "reset",
        "token",
        "session",
        "user",
        "auth",
        "key",
        "secret",
        "billing",
        "invoice",
        "dashboard",
        "search",
        "results",
        "header",
        "footer",
        "modal",
        "button",
        "label",
        "error",
    ]
)


# How code, configuration and docs name a credential without holding one, in the languages and
# formats tool arguments carry: references, calls, types, settings about a secret, templates.
_IDIOMS: Final = (
    "const {cred} = await get{Cred}({ctx});",
    "let {cred} = process.env.{CRED} ?? '';",
    "this.{cred} = options.{cred} || null;",
    "{cred}, err := {pkg}.New{Cred}({ctx})",
    'if {cred} == "" {{ return nil, Err{Cred}Missing }}',
    "@{cred} = ENV.fetch('{CRED}')",
    'String {cred} = request.getParameter("{cred}");',
    "private final {Cred}Provider {cred}Provider;",
    'var {cred} = Configuration["{Pkg}:{Cred}"];',
    "${cred} = $_POST['{cred}'] ?? '';",
    "{cred} = var.{pkg}_{cred}",
    "{cred}: ${{{{ secrets.{CRED} }}}}",
    "{cred}: !vault |",
    "valueFrom: {{ secretKeyRef: {{ name: {pkg}-{cred}, key: {cred} }} }}",
    "export {CRED}=$(vault kv get -field={cred} secret/{pkg})",
    "{cred}_file = /run/secrets/{pkg}_{cred}",
    "{cred}_type: bearer",
    "{cred}_min_length = 12",
    "{cred}_rotation_days: 90",
    "{cred}_header: X-{Pkg}-{Cred}",
    "auth_method = client_secret_basic",
    "{cred}_endpoint = https://{pkg}.example.com/oauth/{cred}",
    "def refresh_{cred}(self, {cred}: str | None = None) -> {Cred}Response:",
    '{cred}: Optional[{Cred}] = Field(default=None, description="The {cred}.")',
    'assert response.{cred} is not None, "expected a {cred}"',
    'log.debug("{cred} refreshed for %s", {pkg}_client.name)',
    "The {cred} expires after one hour; call refresh_{cred}() before then.",
    "Set {CRED} in your environment, then run `{pkg} login`.",
    "{cred} = {Pkg}{Cred}.from_env()",
    '{cred} = keyring.get_password("{pkg}", user)',
    "{cred} = hashlib.sha256({cred}_bytes).hexdigest()",
    "const {{ {cred} }} = useAuth();",
    '<input type="password" name="{cred}" autocomplete="current-password">',
    '{Pkg}.{Cred}.Invalid = "The {cred} you entered is not valid"',
    "{pkg}.{cred}.placeholder=Enter your {cred}",
    '{cred}_hash = "{hex32}"',
    "{cred}_sha256: {hex64}",
    "{cred}_fingerprint: {hex40}",
    "{CRED}_REGEX=^[A-Za-z0-9_-]{{20,}}$",
    "{cred}_commit: {hex40}",
    "{cred}_expires_at: 2026-0{d1}-1{d2}T0{d2}:3{d1}:00Z",
    "{cred}_rotated: 2025-1{d1}-0{d2} 1{d2}:0{d1}:59",
    "{cred}_owner_email: ops-{pkg}{d1}@example.com",
    "{cred}_host: {pkg}-gw-0{d2}.eu-west-{d1}.internal",
    "{cred}_device_mac: 00:1A:2B:3C:4D:{d1}{d2}",
    '"tokenizer": "cl100k_base"',
    "tokenizer: bert-base-uncased-v{d1}",
    "passwordless_login: enabled_v{d2}",
)
_CREDS: Final = (
    "token",
    "apiKey",
    "secret",
    "password",
    "accessToken",
    "clientSecret",
    "authToken",
    "refreshToken",
    "privateKey",
    "secretKey",
)
_PKGS: Final = ("github", "stripe", "billing", "auth", "storage", "payments", "slack", "vault")


def _names(rng: random.Random) -> dict[str, str]:
    cred = rng.choice(_CREDS)
    pkg = rng.choice(_PKGS)
    snake = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", cred).lower()
    return {
        "cred": cred if rng.random() < 0.5 else snake,
        "Cred": cred[0].upper() + cred[1:],
        "CRED": snake.upper(),
        "pkg": pkg,
        "Pkg": pkg.capitalize(),
        "ctx": rng.choice(("ctx", "config", "session", "req")),
        "d1": str(rng.randint(1, 9)),
        "d2": str(rng.randint(0, 9)),
        "hex32": hashlib.md5(rng.randbytes(16)).hexdigest(),
        "hex40": hashlib.sha1(rng.randbytes(16)).hexdigest(),
        "hex64": hashlib.sha256(rng.randbytes(16)).hexdigest(),
    }


def generated(seed: int = 23) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(60):
        raw = rng.randbytes(32)
        digest = hashlib.sha256(raw).hexdigest()
        ident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        words = rng.sample(_WORDS, 3)
        out += [
            f"docker pull ghcr.io/acme/api@sha256:{digest}",
            f"image: registry.example.com/team/web:{i}.{i % 7}@sha256:{digest}",
            f"https://shop.example.com/checkout?session_id={ident}&step={i % 4}",
            "https://maps.example.com/embed?pb=!1m18!1m12!1m3!1d"
            + base64.urlsafe_b64encode(raw).decode().rstrip("="),
            f"https://cdn.example.com/assets/index-{digest[:8]}.js",
            f".css-{base64.b32encode(raw[:5]).decode().lower()} {{ color: red }}",
            f"styles_{words[0]}__{base64.urlsafe_b64encode(raw[:4]).decode().rstrip('=')}",
            f"{words[0]}.{words[1]}.{words[2]}Placeholder",
            f"i18n: {words[0]}_{words[1]}.{words[2]}_title",
            f"github.com/{words[0]}/{words[1]}-go/v{i % 5} v0.{i}.{i % 3}",
            f"@{words[0]}/{words[1]}-{words[2]}@^{i % 9}.{i}.0",
            f'{words[0]}_{words[1]} = {{ version = "0.{i}", features = ["{words[2]}"] }}',
            f"request_id={ident} trace={digest[:32]} span={digest[32:48]}",
            f'etag: W/"{digest[:27]}"',
            f"sha512-{base64.b64encode(hashlib.sha512(raw).digest()).decode()}",
            f'{{"nextPageToken": "{base64.urlsafe_b64encode(raw[:18]).decode()}"}}',
            f'{{"_meta": {{"progressToken": "{base64.b32encode(raw[:10]).decode()}"}}}}',
            f"sync_token: {base64.urlsafe_b64encode(raw[18:30]).decode()}",
            f"postgres://postgres:postgres@localhost:{5432 + i}/app_{words[0]}",
            f"amqp://guest:guest@rabbitmq:5672/{words[1]}",
            f"Credentials go in the URL: https://{words[0]}:{words[1]}@www.example.com/{words[2]}",
        ]
    for blob in _binaries():
        for start in range(0, min(len(blob), 2048), 512):
            out.append(base64.b64encode(blob[start : start + 384]).decode())
    minified = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_$") for _ in range(2000))
    out += [
        f"function({minified[i : i + 2]},{minified[i + 2]}){{return {minified[i + 3 : i + 6]}"
        f".{_WORDS[i % len(_WORDS)]}Token({minified[i + 6]})}}"
        for i in range(0, 1800, 20)
    ]
    out += [t.format(**_names(rng)) for _ in range(6) for t in _IDIOMS]
    out += [  # documentation placeholders of providers and tools
        "AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "OPENAI_API_KEY=sk-...",
        "export OPENAI_API_KEY='sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
        "ANTHROPIC_API_KEY=sk-ant-...",
        "Authorization: Bearer <YOUR_TOKEN>",
        "Authorization: Bearer $GITHUB_TOKEN",
        'curl -H "Authorization: token ${{ secrets.GITHUB_TOKEN }}" https://api.github.com',
        "STRIPE_SECRET_KEY=sk_test_...",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "api_key: YOUR_API_KEY",
        '"apiKey": "<your-api-key>"',
        "password: ********",
        "DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost:5432/app",
        'token = os.environ["HF_TOKEN"]',
        "npm config set //registry.npmjs.org/:_authToken=${NPM_TOKEN}",
        "SLACK_BOT_TOKEN=xoxb-your-token",
    ]
    return out


CORPORA: Final[dict[str, Callable[[], list[str]]]] = {
    "code": code,
    "js": js,
    "lockfiles": lockfiles,
    "git": git,
    "peers": peers,
    "generated": generated,
}


# -- recording the peers' traffic -----------------------------------------------------------


def _strings(value: Any, out: dict[str, None]) -> None:
    if isinstance(value, str):
        for line in value.splitlines():
            if 8 <= len(line.strip()) <= 20000:
                out.setdefault(line.strip())
    elif isinstance(value, dict):
        for k, v in value.items():
            _strings(k, out)
            _strings(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _strings(v, out)


async def _session(
    argv: list[str], calls: list[tuple[str, dict[str, Any]]], out: dict[str, None]
) -> None:
    import anyio
    from mcp import Client, StdioServerParameters

    # The memory server keeps its graph in a file of our own, not in its package directory.
    memory = Path(os.environ.get("TMPDIR", "/tmp")) / f"ztmcp-negatives-{os.getpid()}.jsonl"
    env = {**os.environ, "MEMORY_FILE_PATH": str(memory)}
    params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=str(ROOT), env=env)
    with anyio.fail_after(60):
        async with Client(params, mode="legacy", cache=None) as client:
            tools = (await client.list_tools()).tools
            _strings([t.model_dump(mode="json") for t in tools], out)
            for name, arguments in calls:
                try:
                    result = await client.call_tool(name, arguments)
                except Exception as exc:  # a refused call is traffic too
                    _strings(str(exc), out)
                    continue
                _strings(result.model_dump(mode="json"), out)
            try:
                for resource in (await client.list_resources()).resources[:8]:
                    read = await client.read_resource(str(resource.uri))
                    _strings(read.model_dump(mode="json"), out)
            except Exception as exc:
                _strings(str(exc), out)
    memory.unlink(missing_ok=True)


def record() -> None:
    """Record a session with each reference server into ``FIXTURE`` (strings only)."""
    import anyio

    sys.path.insert(0, str(ROOT))
    from tests.e2e.peers import Peers

    p = Peers(PEERS)
    out: dict[str, None] = {}
    sessions: list[tuple[list[str], list[tuple[str, dict[str, Any]]]]] = [
        (
            p.everything,
            [
                ("echo", {"message": "hello from the negatives corpus"}),
                ("get-sum", {"a": 2, "b": 3}),
                ("get-tiny-image", {}),
                ("get-resource-links", {"count": 3}),
                ("get-annotated-message", {"messageType": "success", "includeImage": True}),
                ("get-structured-content", {"location": "New York"}),
            ],
        ),
        (
            [p.filesystem, str(ROOT / "ztmcp")],
            [
                ("list_allowed_directories", {}),
                ("directory_tree", {"path": str(ROOT / "ztmcp" / "state")}),
                ("read_text_file", {"path": str(ROOT / "ztmcp" / "errors.py")}),
                ("read_text_file", {"path": str(ROOT / "ztmcp" / "state" / "db.py")}),
                ("get_file_info", {"path": str(ROOT / "ztmcp" / "session.py")}),
                ("search_files", {"path": str(ROOT / "ztmcp"), "pattern": "*.py"}),
            ],
        ),
        (
            p.memory,
            [
                (
                    "create_entities",
                    {
                        "entities": [
                            {
                                "name": "ztmcp",
                                "entityType": "project",
                                "observations": ["checks MCP traffic", "has an audit log"],
                            }
                        ]
                    },
                ),
                ("read_graph", {}),
                ("search_nodes", {"query": "audit"}),
            ],
        ),
        (
            p.git(str(ROOT)),
            [
                ("git_log", {"repo_path": str(ROOT), "max_count": 40}),
                ("git_branch", {"repo_path": str(ROOT), "branch_type": "local"}),
            ],
        ),
        (
            p.time,
            [
                ("get_current_time", {"timezone": "Europe/Paris"}),
                (
                    "convert_time",
                    {"source_timezone": "UTC", "time": "10:30", "target_timezone": "Asia/Tokyo"},
                ),
            ],
        ),
    ]
    for argv, calls in sessions:
        anyio.run(_session, argv, calls, out)
    values = list(out)
    FIXTURE.write_text(json.dumps(values, indent=0, ensure_ascii=False) + "\n", "utf-8")
    print(f"{len(values)} strings -> {FIXTURE}")


def blocking(text: str) -> list[Any]:
    """The findings of ``secrets.scan`` that block (HIGH or CRITICAL)."""
    from ztmcp.detectors import secrets
    from ztmcp.detectors.findings import RANK
    from ztmcp.severity import Severity

    return [f for f in secrets.scan(text) if RANK[f.severity] >= RANK[Severity.HIGH]]


def main() -> None:
    verbose = "-v" in sys.argv[1:]
    for name, build in CORPORA.items():
        values = build()
        blocked = [(v, blocking(v)[0]) for v in values if blocking(v)]
        rate = 100 * len(blocked) / max(1, len(values))
        print(f"{name:10} {len(values):6} values  blocking {len(blocked):4}  ({rate:.2f} %)")
        for value, finding in blocked if verbose else ():
            print(f"    {finding.rule:28} {value[:140]!r}")


if __name__ == "__main__":
    if "--record" in sys.argv[1:]:
        record()
    else:
        main()
