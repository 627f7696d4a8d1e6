"""A fresh benign corpus: the real ``tools/list`` of published MCP servers that dev does not hold.

Dev's benign descriptions are the tool lists of 45 npm and PyPI servers; the unseen split has
others. This script installs pinned versions of other published servers into a cache outside
the repository, starts each with dummy credentials in a bounded time, asks ``tools/list``
through the official ``mcp`` Python SDK client and writes the tools in the eval format
(``kind`` ``tool_description``, ``label`` ``benign``, ``source`` ``npm:NAME@VER`` /
``pypi:NAME@VER``), so ``ztmcp eval`` measures the false-positive rate on servers no rule was
written against. Only the pinned list and this recipe are committed: the descriptions are
other projects' text.

    python -m tests.detectors.real_servers install        # npm + uv into the cache (once)
    python -m tests.detectors.real_servers collect        # tools/list of each, into the cache
    ztmcp eval CACHE/tools_tune.jsonl CACHE/tools_heldout.jsonl

The servers are split in two halves by name before any rule was changed (``half``: the first
byte of the SHA-256 of the package name, even: tuned, odd: held out). Fixes were made looking at
the tuned half only; the held-out half is reported as totals.

The cache is ``$ZTMCP_REAL_SERVERS`` (default ``/tmp/ztmcp-real-servers``). npm packages are
installed with ``--ignore-scripts`` (no browser or binary downloads) into a prefix each, PyPI
servers into a venv each with uv. A server gets an empty ``HOME`` in the cache, ``PATH``, and
the dummy variables listed here: nothing of the caller's environment.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

CACHE: Final = Path(os.environ.get("ZTMCP_REAL_SERVERS", "/tmp/ztmcp-real-servers"))
START_TIMEOUT: Final = 60.0  # seconds for one server to start and list its tools
INSTALL_TIMEOUT: Final = 600.0
# dev's tools carry these keys (name, title, description, inputSchema, annotations)
KEPT: Final = ("name", "title", "description", "inputSchema", "annotations")
DUMMY: Final = "dummy-0000000000000000"


@dataclass(frozen=True)
class Server:
    eco: str  # "npm" or "pypi"
    package: str
    version: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    bin: str | None = None  # the executable, when the package has several
    # PyPI: servers written for the 1.x SDK are installed with "mcp<2" (pip would take the
    # latest, whose server API they do not know); True for those that need 2.x
    mcp2: bool = False
    # dependencies as they were on this day (uv --exclude-newer, npm --before), for servers that
    # break on what their open ranges resolve to today
    asof: str | None = None
    fresh: bool = False  # the second batch: chosen before any fix, measured only before/after
    late: bool = False  # the third: chosen after the fix, never looked at before it was measured

    @property
    def source(self) -> str:
        return f"{self.eco}:{self.package}@{self.version}"

    @property
    def slug(self) -> str:
        return self.package.replace("@", "").replace("/", "__")

    @property
    def half(self) -> str:
        if self.late:
            return "late"
        if self.fresh:
            return "fresh"
        return "tune" if hashlib.sha256(self.package.encode()).digest()[0] % 2 == 0 else "heldout"


def _npm(
    package: str,
    version: str,
    *args: str,
    asof: str | None = None,
    bin: str | None = None,
    **env: str,
) -> Server:
    return Server("npm", package, version, args, env, bin, asof=asof)


def _pypi(
    package: str,
    version: str,
    *args: str,
    asof: str | None = None,
    bin: str | None = None,
    **env: str,
) -> Server:
    return Server("pypi", package, version, args, env, bin, asof=asof)


# None of these is in dev's tool_descriptions.jsonl nor among the e2e peers (checked by
# test-free assertion in main: dev's sources are read when present).
SERVERS: Final = (
    _npm("@modelcontextprotocol/server-github", "2025.4.8", GITHUB_PERSONAL_ACCESS_TOKEN=DUMMY),
    _npm(
        "@modelcontextprotocol/server-slack",
        "2025.4.25",
        SLACK_BOT_TOKEN=DUMMY,
        SLACK_TEAM_ID="T000",
    ),
    _npm(
        "@modelcontextprotocol/server-gitlab",
        "2025.4.25",
        GITLAB_PERSONAL_ACCESS_TOKEN=DUMMY,
        GITLAB_API_URL="http://127.0.0.1:9/api/v4",
    ),
    _npm("@modelcontextprotocol/server-gdrive", "2025.1.14"),
    _npm("@modelcontextprotocol/server-redis", "2025.4.25", "redis://127.0.0.1:9"),
    _npm("@modelcontextprotocol/server-everart", "0.6.2", EVERART_API_KEY=DUMMY),
    _npm("@notionhq/notion-mcp-server", "2.5.2", NOTION_TOKEN=DUMMY),
    _npm("@supabase/mcp-server-supabase", "0.13.0", SUPABASE_ACCESS_TOKEN=DUMMY),
    _npm("@stripe/mcp", "0.3.3", "--tools=all", STRIPE_SECRET_KEY="sk_test_" + DUMMY),
    _npm("@sentry/mcp-server", "0.39.0", SENTRY_ACCESS_TOKEN=DUMMY),
    _npm("@heroku/mcp-server", "1.2.8", asof="2026-09-23", HEROKU_API_KEY=DUMMY),
    _npm("mcp-server-kubernetes", "4.1.7"),
    _npm(
        "@benborla29/mcp-server-mysql",
        "2.0.9",
        MYSQL_HOST="127.0.0.1",
        MYSQL_PORT="9",
        MYSQL_USER="root",
        MYSQL_PASS=DUMMY,
        MYSQL_DB="db",
    ),
    _npm("@neondatabase/mcp-server-neon", "0.6.5", "start", DUMMY),
    _npm("@shopify/dev-mcp", "1.16.0"),
    _npm(
        "@translated/lara-mcp",
        "1.0.6",
        LARA_ACCESS_KEY_ID=DUMMY,
        LARA_ACCESS_KEY_SECRET=DUMMY,
    ),
    _npm("mongodb-mcp-server", "3.0.4"),
    _npm("@apify/actors-mcp-server", "0.16.0", APIFY_TOKEN=DUMMY),
    _npm("@browsermcp/mcp", "0.1.3"),
    _npm("@executeautomation/playwright-mcp-server", "1.0.12"),
    _npm("@mapbox/mcp-server", "0.14.0", MAPBOX_ACCESS_TOKEN="pk." + DUMMY),
    _npm("figma-developer-mcp", "0.13.2", "--stdio", FIGMA_API_KEY=DUMMY),
    _npm("@wonderwhy-er/desktop-commander", "0.2.52", bin="desktop-commander"),
    _npm("@pinecone-database/mcp", "0.3.0", PINECONE_API_KEY=DUMMY),
    _npm("@netlify/mcp", "1.15.1"),
    _npm("nx-mcp", "0.25.0"),
    _npm("@perplexity-ai/mcp-server", "1.2.1", PERPLEXITY_API_KEY=DUMMY),
    _npm("@gongrzhe/server-gmail-autoauth-mcp", "1.1.11"),
    _npm("@kazuph/mcp-taskmanager", "1.1.1"),
    _npm("@azure-devops/mcp", "2.10.0", "contoso"),
    _npm("@chakra-ui/react-mcp", "2.1.1"),
    _npm("airtable-mcp-server", "1.14.0", AIRTABLE_API_KEY="pat" + DUMMY),
    _npm("@upstash/mcp-server", "0.3.0", "run", "someone@example.com", DUMMY),
    _npm("@mui/mcp", "0.1.6"),
    _npm("todoist-mcp", "1.3.4", API_KEY=DUMMY),
    _npm("@brightdata/mcp", "2.11.3", API_TOKEN=DUMMY),
    _npm(
        "@line/line-bot-mcp-server",
        "0.5.0",
        CHANNEL_ACCESS_TOKEN=DUMMY,
        DESTINATION_USER_ID="U0000",
    ),
    _npm("@vapi-ai/mcp-server", "0.0.11", VAPI_TOKEN=DUMMY),
    _npm("resend-mcp", "2.22.0", RESEND_API_KEY="re_" + DUMMY),
    _npm("@cloudflare/mcp-server-cloudflare", "0.2.0", "run", "0000"),
    _pypi(
        "mcp-atlassian",
        "0.23.1",
        JIRA_URL="http://127.0.0.1:9",
        JIRA_USERNAME="a@example.com",
        JIRA_API_TOKEN=DUMMY,
        CONFLUENCE_URL="http://127.0.0.1:9/wiki",
        CONFLUENCE_USERNAME="a@example.com",
        CONFLUENCE_API_TOKEN=DUMMY,
    ),
    _pypi("mcp-server-qdrant", "0.8.1", QDRANT_URL="http://127.0.0.1:9", COLLECTION_NAME="c"),
    _pypi("chroma-mcp", "0.2.6", "--client-type", "ephemeral", asof="2025-09-01"),
    _pypi("mcp-clickhouse", "0.7.0", CLICKHOUSE_HOST="127.0.0.1", CLICKHOUSE_PASSWORD=DUMMY),
    _pypi("mcp-server-sqlite", "2025.4.25", "--db-path", "{home}/test.db"),
    _pypi("mcp-server-sentry", "2025.1.14", "--auth-token", DUMMY),
    _pypi("duckduckgo-mcp-server", "0.7.0"),
    _pypi("kagimcp", "1.0.2", KAGI_API_KEY=DUMMY),
    _pypi("mcp-server-motherduck", "1.1.0", "--db-path", ":memory:"),
    _pypi("mcp-obsidian", "0.2.3", OBSIDIAN_API_KEY=DUMMY),
    _pypi("excel-mcp-server", "2.2.2", "stdio"),
    _pypi("office-word-mcp-server", "1.1.11"),
    _pypi("mcp-pandoc", "0.11.1"),
    _pypi("mcp-server-docker", "0.3.0"),
    _pypi("awslabs-aws-documentation-mcp-server", "1.2.3"),
    _pypi("awslabs-dynamodb-mcp-server", "2.1.8"),
    _pypi("awslabs-cloudwatch-mcp-server", "0.3.1", AWS_REGION="us-east-1"),
    _pypi(
        "postgres-mcp", "0.3.0", asof="2025-06-01", DATABASE_URI="postgresql://u:p@127.0.0.1:9/db"
    ),
    _pypi("mcp-snowflake-server", "0.4.0", asof="2025-05-01"),
    _pypi("opensearch-mcp-server-py", "0.12.0", OPENSEARCH_URL="http://127.0.0.1:9"),
    _pypi("mcp-server-calculator", "0.2.1"),
    _pypi("hass-mcp", "0.6.1", HA_URL="http://127.0.0.1:9", HA_TOKEN=DUMMY),
    _pypi("mcp-alchemy", "2026.10.15.202659", DB_URL="sqlite:///{home}/alchemy.db"),
    _pypi("redis-mcp-server", "0.5.1", REDIS_HOST="127.0.0.1", REDIS_PORT="9"),
    _pypi(
        "mcp-server-datahub", "0.8.0", DATAHUB_GMS_URL="http://127.0.0.1:9", DATAHUB_GMS_TOKEN=DUMMY
    ),
    _pypi("mcp-server-tree-sitter", "0.7.0"),
    _pypi("mcp-youtube-transcript", "0.3.5"),
    _pypi("paper-search-mcp", "0.1.4"),
    _pypi("mcp-neo4j-data-modeling", "0.8.2"),
    _pypi("mcp-neo4j-memory", "0.4.5", NEO4J_URL="bolt://127.0.0.1:9", NEO4J_PASSWORD=DUMMY),
    _pypi("mcp-server-duckdb", "1.1.0", "--db-path", "{home}/duck.db"),
    _pypi("mysql-mcp-server", "0.4.4", MYSQL_HOST="127.0.0.1", MYSQL_PORT="9", MYSQL_USER="u"),
    _pypi("kubernetes-mcp-server", "0.0.69"),
    _pypi("logfire-mcp", "0.9.0", asof="2026-08-01", LOGFIRE_READ_TOKEN=DUMMY),
    _pypi("semgrep-mcp", "0.9.0", asof="2025-10-01"),
    _pypi("mcp-server-bigquery", "0.3.2", "--project", "p", "--location", "US"),
    _pypi("pubmedmcp", "0.1.4"),
    _pypi("dbt-mcp", "2.8.0", DBT_PROJECT_DIR="{home}", DISABLE_DBT_CLI="true"),
    _pypi("wcgw", "5.6.7"),
    _pypi("mcp-google-sheets", "0.6.3"),
    _pypi("jupyter-mcp-server", "2.2.4"),
    _pypi("mcp-server-spotify", "0.4.0", SPOTIFY_CLIENT_ID=DUMMY, SPOTIFY_CLIENT_SECRET=DUMMY),
    # The second batch, chosen after the first was measured and before any rule was changed
    # (the first batch's tuned half had no false positive to tune on; see docs/detection.md).
    *(
        Server(s.eco, s.package, s.version, s.args, s.env, s.bin, s.mcp2, s.asof, fresh=True)
        for s in (
            _npm(
                "@zereight/mcp-gitlab",
                "2.1.64",
                bin="mcp-gitlab",
                GITLAB_PERSONAL_ACCESS_TOKEN=DUMMY,
            ),
            _npm("@pandacss/mcp", "1.12.1"),
            _npm("cclsp", "0.7.0"),
            _npm("@cocal/google-calendar-mcp", "2.6.3"),
            _npm("@bytebase/dbhub", "1.4.0", "--dsn", "sqlite:///{home}/hub.db"),
            _npm("@shortcut/mcp", "0.25.0", SHORTCUT_API_TOKEN=DUMMY),
            _npm(
                "@dynatrace-oss/dynatrace-mcp-server",
                "2.1.2",
                DT_ENVIRONMENT="https://abc12345.apps.dynatrace.com",
            ),
            _npm("@testsprite/testsprite-mcp", "0.0.45", API_KEY=DUMMY),
            _npm("n8n-mcp", "2.87.0", MCP_MODE="stdio"),
            _npm("@salesforce/mcp", "0.30.15", "--orgs", "DEFAULT_TARGET_ORG"),
            _pypi("pdf-tools-mcp", "0.1.4"),
            _pypi("web-forager", "4.0.0"),
            _pypi("cli-mcp-server", "0.2.5", ALLOWED_DIR="{home}"),
            _pypi("awslabs-aws-pricing-mcp-server", "1.1.1"),
            _pypi("awslabs-memcached-mcp-server", "1.1.1"),
            _pypi("office-powerpoint-mcp-server", "2.0.7"),
            _pypi("mcp-grafana", "2.1.1", GRAFANA_URL="http://127.0.0.1:9"),
            _pypi("mcp-yahoo-finance", "0.2.0"),
            _pypi("mcp-scholarly", "0.1.0"),
            _pypi("rootly-mcp-server", "2.3.22", ROOTLY_API_TOKEN=DUMMY),
            _pypi(
                "ha-mcp", "8.7.0", HOMEASSISTANT_URL="http://127.0.0.1:9", HOMEASSISTANT_TOKEN=DUMMY
            ),
            _pypi("pymupdf4llm-mcp", "1.28.0"),
            _pypi("tilt-mcp", "0.1.3"),
            _pypi("biocontext-kb", "0.2.1"),
            _pypi(
                "mfa-servicenow-mcp",
                "1.25.4",
                bin="servicenow-mcp",
                SERVICENOW_INSTANCE_URL="http://127.0.0.1:9",
            ),
            _pypi("lean-lsp-mcp", "0.32.0"),
            _pypi("mcp-ocr", "0.2.0"),
        )
    ),
    # The third batch, chosen after the rule change and measured once, before and after it.
    *(
        Server(s.eco, s.package, s.version, s.args, s.env, s.bin, s.mcp2, s.asof, late=True)
        for s in (
            _npm("@jpisnice/shadcn-ui-mcp-server", "2.0.0"),
            _npm("@agent-infra/mcp-server-browser", "1.2.29"),
            _npm("xcodebuildmcp", "2.7.0", "mcp", bin="xcodebuildmcp"),
            _npm("@cyanheads/git-mcp-server", "2.15.3"),
            _npm("@tacticlaunch/mcp-linear", "1.4.3", LINEAR_API_TOKEN=DUMMY),
            _npm(
                "@aashari/mcp-server-atlassian-jira",
                "3.3.0",
                ATLASSIAN_SITE_NAME="example",
                ATLASSIAN_USER_EMAIL="a@example.com",
                ATLASSIAN_API_TOKEN=DUMMY,
            ),
            _npm("@gleanwork/local-mcp-server", "0.7.6", GLEAN_INSTANCE="x", GLEAN_API_TOKEN=DUMMY),
            _npm("@openbnb/mcp-server-airbnb", "0.3.0"),
            _npm("@mzxrai/mcp-webresearch", "0.1.7"),
            _npm("@googlemaps/code-assist-mcp", "0.2.1"),
            _npm("@microsoft/clarity-mcp-server", "2.0.1", "--clarity_api_token", DUMMY),
            _npm("@cloudflare/playwright-mcp", "0.0.5"),
            _npm("@sveltejs/mcp", "0.1.26"),
            _pypi("code-review-graph", "2.3.9"),
            _pypi("jcodemunch-mcp", "1.108.399"),
            _pypi("minimax-coding-plan-mcp", "0.0.5", MINIMAX_API_KEY=DUMMY),
            _pypi("awslabs-aws-location-mcp-server", "2.1.1"),
            _pypi("mcp-stata", "3.3.0"),
            _pypi("notebooklm-mcp-cli", "0.15.8", bin="notebooklm-mcp"),
        )
    ),
)


def _uv() -> str:
    for candidate in (os.environ.get("UV", ""), shutil.which("uv") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("uv not found: set UV=/path/to/uv")


def _log(server: Server, what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {server.source}: {what}", file=sys.stderr, flush=True)


def _run(cmd: list[str], log: Any, env: Mapping[str, str]) -> str | None:
    try:
        done = subprocess.run(
            cmd, stdout=log, stderr=log, env=env, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return "timed out"
    return f"exit status {done.returncode}" if done.returncode else None


def install(server: Server) -> bool:
    where = CACHE / server.eco / server.slug
    stamp = where / "installed"
    if stamp.exists():
        return True
    where.mkdir(parents=True, exist_ok=True)
    log = (where / "install.log").open("w")
    if server.eco == "npm":
        cmd = [
            "npm",
            "install",
            "--prefix",
            str(where),
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            *((f"--before={server.asof}",) if server.asof else ()),
            f"{server.package}@{server.version}",
        ]
        steps = [cmd]
    else:
        venv = where / "venv"
        steps = [
            [_uv(), "venv", "--quiet", "--clear", "--python", "python3", str(venv)],
            [
                _uv(),
                "pip",
                "install",
                "--quiet",
                "--python",
                str(venv / "bin" / "python"),
                *(("--exclude-newer", server.asof) if server.asof else ()),
                f"{server.package}=={server.version}",
                *(() if server.mcp2 else ("mcp<2",)),
            ],
        ]
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for cmd in steps:
        outcome = _run(cmd, log, env)
        if outcome and server.eco == "pypi" and cmd[-1] == "mcp<2":
            # requires the 2.x SDK: then it was written for it
            print("retrying without mcp<2", file=log, flush=True)
            outcome = _run(cmd[:-1], log, env)
        if outcome:
            _log(server, f"install failed: {outcome} (see {where / 'install.log'})")
            return False
    stamp.write_text(server.source)
    _log(server, "installed")
    return True


def command(server: Server) -> list[str]:
    where = CACHE / server.eco / server.slug
    home = CACHE / "home" / server.slug
    args = [a.replace("{home}", str(home)) for a in server.args]
    if server.eco == "npm":
        meta = json.loads((where / "node_modules" / server.package / "package.json").read_text())
        bins = meta.get("bin") or {}
        if isinstance(bins, str):  # npm links it under the unscoped name
            bins = {server.package.rsplit("/", 1)[-1]: bins}
        name = server.bin or (next(iter(bins)) if len(bins) == 1 else None)
        if name is None:
            raise SystemExit(f"{server.source}: several executables {sorted(bins)}: set bin")
        return [str(where / "node_modules" / ".bin" / name.rsplit("/", 1)[-1]), *args]
    venv = where / "venv"
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m, json, sys;"
            "print(json.dumps(sorted(e.name for e in m.distribution(sys.argv[1]).entry_points"
            " if e.group == 'console_scripts')))",
            server.package,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    scripts: list[str] = json.loads(out.stdout)
    name = server.bin
    if name is None:
        if len(scripts) == 1:
            name = scripts[0]
        elif server.package in scripts:
            name = server.package
        else:
            raise SystemExit(f"{server.source}: several executables {scripts}: set bin")
    return [str(venv / "bin" / name), *args]


def _environment(server: Server) -> dict[str, str]:
    home = CACHE / "home" / server.slug
    home.mkdir(parents=True, exist_ok=True)
    node = Path(shutil.which("node") or "/usr/bin/node").parent
    env = {
        "HOME": str(home),
        "PATH": f"{node}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "NODE_NO_WARNINGS": "1",
    }
    env.update({k: v.replace("{home}", str(home)) for k, v in server.env.items()})
    return env


async def _list_tools(server: Server) -> list[dict[str, Any]]:
    from mcp import ClientSession, StdioServerParameters, types
    from mcp.client.stdio import stdio_client

    cmd = command(server)
    params = StdioServerParameters(
        command=cmd[0],
        args=cmd[1:],
        env=_environment(server),
        cwd=str(CACHE / "home" / server.slug),
    )
    errlog = (CACHE / server.eco / server.slug / "server.log").open("w")
    tools: list[dict[str, Any]] = []
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        cursor: str | None = None
        for _ in range(100):  # pages
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            for tool in page.tools:
                raw = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                tools.append({k: raw[k] for k in KEPT if k in raw})
            cursor = page.next_cursor
            if not cursor:
                break
    return tools


def collect(server: Server) -> list[dict[str, Any]] | str:
    """The server's tools, or why it could not be listed."""

    async def bounded() -> list[dict[str, Any]]:
        return await asyncio.wait_for(_list_tools(server), START_TIMEOUT)

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        return f"no tools/list answer within {START_TIMEOUT:.0f} s"
    except BaseException as e:  # any failure to start is a skip, said why
        if isinstance(e, KeyboardInterrupt):
            raise
        while isinstance(e, BaseExceptionGroup) and e.exceptions:
            e = e.exceptions[0]
        text = str(e).strip().splitlines()
        return f"{type(e).__name__}: {text[0][:200] if text else ''}"


def samples(server: Server, tools: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for tool in tools:
        digest = hashlib.sha256(json.dumps(tool, sort_keys=True).encode()).hexdigest()[:6]
        yield {
            "id": f"{server.source}:{tool.get('name')}:{digest}",
            "source": server.source,
            "kind": "tool_description",
            "tool": tool,
            "label": "benign",
            "attack_type": None,
        }


def dev_sources(path: Path) -> set[str]:
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text().splitlines():
        source = json.loads(line).get("source", "")
        if source.startswith(("npm:", "pypi:")):
            names.add(source.split(":", 1)[1].rsplit("@", 1)[0])
    return names


def report(paths: Iterable[Path]) -> str:
    """Per server: tools, false positives at the blocking severity, tools one weak signal away
    (a MEDIUM finding and no HIGH one), and the rules behind both."""
    from ztmcp.detectors.findings import RANK
    from ztmcp.evaluation import KINDS, load
    from ztmcp.severity import Severity

    _key, detector = KINDS["tool_description"]
    rows: dict[str, list[int]] = {}
    rules: dict[str, Counter[str]] = {}
    total = [0, 0, 0]
    for _path, _line, sample in load(paths):
        found = detector(sample["tool"])
        high = {f.rule for f in found if RANK[f.severity] >= RANK[Severity.HIGH]}
        medium = {f.rule for f in found if f.severity == Severity.MEDIUM}
        row = rows.setdefault(sample["source"], [0, 0, 0])
        seen = rules.setdefault(sample["source"], Counter())
        for i, hit in enumerate((True, bool(high), bool(medium) and not high)):
            row[i] += hit
            total[i] += hit
        seen.update(f"{r} (high)" for r in high)
        seen.update(r for r in medium if not high)
    lines = [
        "| server | tools | FP (high) | one weak signal away | rules |",
        "|---|---|---|---|---|",
    ]
    for source, (n, fp, medium) in sorted(
        rows.items(), key=lambda kv: (-kv[1][1], -kv[1][2], kv[0])
    ):
        hits = ", ".join(f"{r} {c}" for r, c in rules[source].most_common())
        lines.append(f"| {source} | {n} | {fp} | {medium} | {hits} |")
    n, fp, medium = total
    lines.append(
        f"| all ({len(rows)} servers) | {n} | {fp} ({100 * fp / max(n, 1):.1f} %) "
        f"| {medium} ({100 * medium / max(n, 1):.1f} %) | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("install", "collect", "list", "report"))
    parser.add_argument("--only", nargs="*", help="package names")
    args = parser.parse_args(argv)
    chosen = [s for s in SERVERS if not args.only or s.package in args.only]
    overlap = dev_sources(
        Path(__file__).resolve().parents[3] / "shared/eval/dev/tool_descriptions.jsonl"
    )
    overlap |= dev_sources(Path("/work/shared/eval/dev/tool_descriptions.jsonl"))
    clash = sorted({s.package for s in SERVERS} & overlap)
    if clash:
        raise SystemExit(f"in dev already: {clash}")
    if args.step == "report":
        for half in ("tune", "heldout", "fresh", "late"):
            print(f"{half}:\n{report([CACHE / f'tools_{half}.jsonl'])}\n")
        return 0
    if args.step == "list":
        for s in chosen:
            print(f"{s.half:8} {s.source}")
        return 0
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.step == "install":
        failed = [s.source for s in chosen if not install(s)]
        print(f"installed {len(chosen) - len(failed)} of {len(chosen)}; failed: {failed}")
        return 0
    status: dict[str, Any] = {}
    status_file = CACHE / "status.json"
    if status_file.exists():
        status = json.loads(status_file.read_text())
    for s in chosen:
        if not (CACHE / s.eco / s.slug / "installed").exists():
            status[s.source] = {"half": s.half, "skipped": "not installed"}
            continue
        _log(s, "listing")
        got = collect(s)
        if isinstance(got, str):
            status[s.source] = {"half": s.half, "skipped": got}
            _log(s, f"skipped: {got}")
        else:
            status[s.source] = {"half": s.half, "tools": list(samples(s, got))}
            _log(s, f"{len(got)} tools")
        status_file.write_text(json.dumps(status, indent=1))
    for half in ("tune", "heldout", "fresh", "late"):
        with (CACHE / f"tools_{half}.jsonl").open("w") as out:
            for _source, entry in sorted(status.items()):
                if entry["half"] == half:
                    for sample in entry.get("tools", []):
                        out.write(json.dumps(sample, ensure_ascii=False) + "\n")
    listed = [k for k, v in status.items() if v.get("tools")]
    empty = [k for k, v in status.items() if "tools" in v and not v["tools"]]
    skipped = {k: v["skipped"] for k, v in status.items() if "skipped" in v}
    print(f"listed {len(listed)} servers, {len(empty)} with no tools, skipped {len(skipped)}:")
    for k, why in sorted(skipped.items()):
        print(f"  {k}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
