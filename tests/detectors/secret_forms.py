"""Secrets as code and configuration carry them: a service's credential key, an assignment, a
value; and benign values in the same forms.

The unseen split's positives are other providers' keys wrapped in tool arguments. A rule per
provider does not generalise; what does is the way credentials are written, which is the same
for every provider: ``<service>_<api_key|token|secret|…> <=|:|:=|=>> <quote?><value><quote?>``
in env files, JSON, YAML, TOML, Go/Python/JS/Java/PHP/Ruby/C# code, CLI flags, headers, URL
queries, URLs with credentials and connection strings. This module draws them from:

- ``SERVICES``: a few hundred SaaS and infrastructure names, written from general knowledge
  (not from a scanner's rule list);
- ``SUFFIXES``: the credential words keys end in;
- ``FORMS``: the syntax around key and value (``{K}`` the key in the form's naming convention,
  ``{V}`` the value, ``{S}`` the service name);
- ``ALPHABETS``: the value shapes providers use (hex, base62, base64/base64url, UUIDs, lower
  alphanumerics, upper alphanumerics, prefixed tokens), at their usual lengths.

``positives`` draws (form, alphabet, text); ``negatives`` puts benign values in the same
forms: placeholders, references to variables and secret stores, file paths, numbers, words,
and ids, digests and URLs under keys that say what they are (``_id``, ``_hash``, ``_url``).
Nothing is copied from a rule set's test data or from the eval splits; the draws are seeded.

``python -m tests.detectors.secret_forms`` prints recall per form and per alphabet and the
negatives' blocking rate per form (``-v`` lists the misses).
"""

from __future__ import annotations

import hashlib
import random
import re
import string
import sys
import uuid
from collections.abc import Callable
from typing import Final

SERVICES: Final[tuple[str, ...]] = tuple(
    """
    acme ably abstract accuweather activecampaign adroll aeris affinity agora aiven airbrake
    airship aircall algolia alpaca amplitude anodot apify apollo appcenter appdynamics appfollow
    appsignal appveyor aptible arangodb asaas assemblyai atera autodesk autopilot avalara aweber
    axonaut backblaze bamboohr baremetrics baserow beamer bigcommerce bitly bitpay bitmex
    blitapp blocknative bluesnap bonusly box braze brevo browserstack buddy bugherd bugsnag
    builtwith bunny buttercms cal calendly campaignmonitor canny capsule carbon cartodb
    censys chargebee chargify chartmogul chatwork checkly checkout circle clearbit clickup
    clockify close cloudinary cloudsmith coda codacy codeclimate codemagic coinapi coingecko
    coinmarketcap commercetools contentstack convertkit copper couchbase courier crowdin
    currencylayer customerio cypress dailymotion deepgram deepl deepseek delighted deno
    deputy dev.to digicert directus disqus dnsimple docusign dotdigital drift duda dwolla
    dynatrace easypost elastic emailoctopus envoy eventbrite everhour exotel expo fauna
    fireworks flagsmith fleetbase float flowdock folk formstack foursquare freshdesk front
    fullstory gandi geckoboard gemini getresponse ghost giphy gitbook gladia gong gorgias
    gotify goshippo greenhouse gumroad harvest helpscout helpcrunch hellosign hetzner hive
    honeybadger honeycomb hootsuite hunter imagekit imgur infobip inngest instatus ipinfo
    ipstack iterable jotform kajabi keen kickbox klaviyo knock kustomer lambdatest launchpad
    lemlist lemonsqueezy lever lightstep linode livechat lokalise loggly logz loops lucid
    magento mailerlite mailjet mailtrap mandrill marketo mediastack melissa metabase mezmo
    miro mistral mixpanel mode monday mongodb moralis mux neon netcore nexmo ngrok nightfall
    nomad nylas ollama omnisend onesignal opsgenie optimizely ordermark outreach packagecloud
    pagerduty paddle pandadoc paperform parsehub pastebin paypal paystack payoneer pendo
    persona pinecone pipedrive pipedream pivotal plausible podio polygon positionstack
    posthog postmark prismic productboard pusher qdrant qualtrics quickbooks raygun razorpay
    rebrandly recurly redis refiner remote replit resend retool ringcentral rollbar rootly
    salesforce salesloft saucelabs scaleway scrapingbee segment semaphore shipengine shipstation
    shortcut signalwire sinch smartsheet smsapi sparkpost splunk spotify stackhawk statuspage
    storyblok strapi streak stytch surveymonkey swiftype sylius taiga tatum teamcity teamwork
    telnyx testingbot textmagic thinkific ticketmaster tiingo todoist together toggl tomtom
    trefle tripadvisor trufflehog turso twelvedata uploadcare upstash uptimerobot userflow
    vercel vimeo vonage vultr wakatime weatherstack webflow webex weights whatsapp wistia
    woocommerce workos wrike xero youneedabudget zapier zeplin zerobounce zoho zoom zulip
    """.split()  # noqa: SIM905 (a list of words, read as prose)
)

# What credential keys end in. (the suffix, how it is spelt in snake case)
SUFFIXES: Final[tuple[str, ...]] = (
    "api_key",
    "apikey",
    "api_token",
    "token",
    "access_token",
    "auth_token",
    "secret",
    "secret_key",
    "api_secret",
    "client_secret",
    "access_key",
    "private_key",
    "password",
    "key",
    "pat",
)


def _words(service: str, suffix: str) -> list[str]:
    return re.split(r"[^a-z0-9]+", f"{service}_{suffix}")


def snake(service: str, suffix: str) -> str:
    return "_".join(_words(service, suffix))


def upper(service: str, suffix: str) -> str:
    return snake(service, suffix).upper()


def camel(service: str, suffix: str) -> str:
    first, *rest = _words(service, suffix)
    return first + "".join(w.capitalize() for w in rest)


def pascal(service: str, suffix: str) -> str:
    return "".join(w.capitalize() for w in _words(service, suffix))


def kebab(service: str, suffix: str) -> str:
    return "-".join(_words(service, suffix))


def header(service: str, suffix: str) -> str:
    return "-".join(w.capitalize() for w in _words(service, suffix))


def dotted(service: str, suffix: str) -> str:
    return ".".join(_words(service, suffix))


_NAMING: Final[dict[str, Callable[[str, str], str]]] = {
    "snake": snake,
    "upper": upper,
    "camel": camel,
    "pascal": pascal,
    "kebab": kebab,
    "header": header,
    "dotted": dotted,
}

# (form name, naming convention of {K}, template). Templates use str.format: literal braces
# are doubled.
FORMS: Final[tuple[tuple[str, str, str], ...]] = (
    ("env", "upper", "{K}={V}"),
    ("env_export", "upper", 'export {K}="{V}"'),
    ("env_quoted", "upper", "{K}='{V}'"),
    ("docker_env", "upper", "docker run -e {K}={V} --rm {S}/agent:latest"),
    ("json", "snake", '{{"{K}": "{V}"}}'),
    ("json_camel", "camel", '{{"name": "{S}", "{K}": "{V}", "enabled": true}}'),
    ("yaml", "snake", "{K}: {V}"),
    ("yaml_quoted", "snake", '{K}: "{V}"'),
    ("yaml_nested", "snake", "integrations:\n  {S}:\n    {K}: '{V}'\n    region: eu"),
    ("toml", "snake", '[{S}]\n{K} = "{V}"'),
    ("ini", "snake", "[{S}]\n{K} = {V}"),
    ("properties", "dotted", "{K}={V}"),
    ("python", "upper", '{K} = "{V}"'),
    ("python_kwarg", "snake", 'client = Client({K}="{V}", timeout=30)'),
    ("python_dict", "snake", "config = {{'{K}': '{V}'}}"),
    ("python_environ", "upper", 'os.environ["{K}"] = "{V}"'),
    ("go_short", "camel", '{K} := "{V}"'),
    ("go_var", "camel", 'var {K} string = "{V}"'),
    ("go_const", "pascal", 'const {K} = "{V}"'),
    ("go_struct", "pascal", '{K}: "{V}",'),
    ("js_const", "camel", "const {K} = '{V}';"),
    ("js_object", "camel", "new Client({{ {K}: '{V}' }})"),
    ("js_env", "upper", 'process.env.{K} = "{V}";'),
    ("ts_typed", "camel", 'const {K}: string = "{V}";'),
    ("java", "upper", 'private static final String {K} = "{V}";'),
    ("csharp", "pascal", 'var {K} = "{V}";'),
    ("appsettings", "pascal", '"{K}": "{V}"'),
    ("php_array", "snake", "'{K}' => '{V}',"),
    ("php_define", "upper", "define('{K}', '{V}');"),
    ("ruby", "snake", "config.{K} = '{V}'"),
    ("ruby_hash", "snake", "{K}: '{V}',"),
    ("rust", "upper", 'const {K}: &str = "{V}";'),
    ("terraform", "snake", '{K} = "{V}"'),
    ("xml", "camel", "<{K}>{V}</{K}>"),
    ("xml_attr", "camel", '<add key="{K}" value="{V}" />'),
    ("cli_flag", "kebab", "{S} login --{K} {V}"),
    ("cli_flag_eq", "kebab", "{S}-cli deploy --{K}={V} --yes"),
    ("header", "header", "X-{K}: {V}"),
    ("curl_header", "header", 'curl -H "X-{K}: {V}" https://api.{S}.io/v1/me'),
    ("url_query", "snake", "https://api.{S}.io/v2/items?{K}={V}&limit=10"),
    ("k8s_env", "upper", 'env:\n  - name: {K}\n    value: "{V}"'),
    ("github_actions", "upper", "env:\n  {K}: {V}"),
    ("markdown", "upper", "Set `{K}` to `{V}` in your environment."),
    ("prose", "snake", "my {S} {K} is {V}"),
)

# Written after the mechanism was built on ``FORMS`` and measured once, not tuned on: other
# languages, shells and tools (``python -m tests.detectors.secret_forms --held-out``).
HELD_OUT_FORMS: Final[tuple[tuple[str, str, str], ...]] = (
    ("powershell", "upper", '$env:{K} = "{V}"'),
    ("cmd_set", "upper", "set {K}={V}"),
    ("dockerfile", "upper", "ENV {K}={V}"),
    ("docker_arg", "upper", "ARG {K}={V}"),
    ("heroku_config", "upper", "heroku config:set {K}={V} -a {S}-prod"),
    ("gh_secret", "upper", 'gh secret set {K} --body "{V}"'),
    ("kubectl", "snake", "kubectl create secret generic {S} --from-literal={K}={V}"),
    ("netrc", "snake", "machine api.{S}.io login deploy password {V}"),
    ("swift", "camel", 'let {K} = "{V}"'),
    ("kotlin", "camel", 'val {K} = "{V}"'),
    ("dart", "camel", "final {K} = '{V}';"),
    ("elixir", "snake", 'config :app, {K}: "{V}"'),
    ("lua", "snake", 'local {K} = "{V}"'),
    ("perl", "snake", "my ${K} = '{V}';"),
    ("r_lang", "snake", '{K} <- "{V}"'),
    ("setter", "pascal", 'client.Set{K}("{V}");'),
    ("js_headers", "header", "headers['X-{K}'] = '{V}';"),
    ("python_headers", "header", 'requests.get(url, headers={{"X-{K}": "{V}"}})'),
    ("hcl_default", "snake", 'variable "{K}" {{\n  default = "{V}"\n}}'),
    ("json_nested", "snake", '{{"{S}": {{"credentials": {{"{K}": "{V}"}}}}}}'),
)

# Forms that carry a value with no key name: the credential is recognised by where it sits.
URL_FORMS: Final[tuple[tuple[str, str], ...]] = (
    ("url_userinfo", "https://deploy:{V}@git.{S}.io/team/app.git"),
    ("postgres", "postgres://app:{V}@db.{S}.internal:5432/app"),
    ("mongodb", "mongodb+srv://svc:{V}@cluster0.{S}.mongodb.net/prod?retryWrites=true"),
    ("redis", "redis://default:{V}@cache.{S}.internal:6379/0"),
    ("redis_no_user", "redis://:{V}@cache.{S}.internal:6379/0"),
    ("go_dsn", 'DSN = "app:{V}@tcp(db.{S}.internal:3306)/app"'),
    ("json_dsn", '{{"dsn": "postgres://app:{V}@db.{S}.internal/app"}}'),
    ("amqp", "amqp://worker:{V}@mq.{S}.internal:5672/"),
    ("ado_string", "Server=tcp:{S}.database.windows.net;User ID=app;Password={V};Encrypt=True;"),
    ("bearer", "Authorization: Bearer {V}"),
    ("basic_curl", "curl -u admin:{V} https://{S}.internal/api"),
)

_B62: Final = string.ascii_letters + string.digits
ALPHABETS: Final[dict[str, Callable[[random.Random], str]]] = {
    "hex32": lambda r: "".join(r.choice("0123456789abcdef") for _ in range(32)),
    "hex40": lambda r: "".join(r.choice("0123456789abcdef") for _ in range(40)),
    "hex64": lambda r: "".join(r.choice("0123456789abcdef") for _ in range(64)),
    "HEX32": lambda r: "".join(r.choice("0123456789ABCDEF") for _ in range(32)),
    "base62_20": lambda r: _b62(r, 20),
    "base62_32": lambda r: _b62(r, 32),
    "base62_48": lambda r: _b62(r, 48),
    "base64url_43": lambda r: _edge(r, 43, _B62 + "-_"),
    "base64_44": lambda r: _edge(r, 43, _B62 + "+/") + "=",
    "base64_88": lambda r: _edge(r, 86, _B62 + "+/") + "==",
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "UUID": lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4)).upper(),
    "lower36_32": lambda r: _edge(r, 32, string.ascii_lowercase + string.digits),
    "upper36_40": lambda r: _edge(r, 40, string.ascii_uppercase + string.digits),
    "prefixed_": lambda r: _prefix(r) + "_" + _b62(r, 32),
    "prefixed-": lambda r: _prefix(r) + "-" + _b62(r, 40),
    "prefixed.": lambda r: _prefix(r) + "." + _edge(r, 43, _B62 + "-_"),
}


def _edge(r: random.Random, n: int, alphabet: str) -> str:
    """``n`` characters of ``alphabet`` with a letter or digit at both ends, and a digit and
    a letter inside (generated keys have both; a draw without is a word or a number)."""
    while True:
        s = [r.choice(alphabet) for _ in range(n)]
        ends = [c for c in alphabet if c.isalnum()]
        s[0], s[-1] = r.choice(ends), r.choice(ends)
        v = "".join(s)
        if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
            return v


def _b62(r: random.Random, n: int) -> str:
    return _edge(r, n, _B62)


def _prefix(r: random.Random) -> str:
    """A provider prefix of 2-4 letters, not one of a provider whose shape the detector knows:
    a value that starts with one is judged by that provider's rule alone
    (``secrets._KNOWN_PREFIX``: ``hf_``, ``sm_``, ``ghp_`` …), so such a draw would test that
    rule, not the forms."""
    from ztmcp.detectors.secrets import _KNOWN_PREFIX

    while True:
        p = "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(2, 4)))
        if not any(_KNOWN_PREFIX.match(p + sep) for sep in "_-."):
            return p


def key_name(naming: str, service: str, suffix: str) -> str:
    return _NAMING[naming](service, suffix)


def render(form: tuple[str, str, str], service: str, suffix: str, value: str) -> str:
    _name, naming, template = form
    return template.format(K=key_name(naming, service, suffix), V=value, S=service)


def positives(
    seed: int = 23, per_cell: int = 3, forms: tuple[tuple[str, str, str], ...] = FORMS
) -> list[tuple[str, str, str]]:
    """(form, alphabet, text): every form by every alphabet, ``per_cell`` draws each, with a
    random service and credential suffix; then the keyless URL and header forms."""
    rng = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    if forms is not FORMS:
        for form in forms:
            for alpha, draw in ALPHABETS.items():
                for _ in range(per_cell):
                    service, suffix = rng.choice(SERVICES), rng.choice(SUFFIXES)
                    out.append((form[0], alpha, render(form, service, suffix, draw(rng))))
        return out
    for form in forms:
        for alpha, draw in ALPHABETS.items():
            for _ in range(per_cell):
                service, suffix = rng.choice(SERVICES), rng.choice(SUFFIXES)
                out.append((form[0], alpha, render(form, service, suffix, draw(rng))))
    for name, template in URL_FORMS:
        for alpha, draw in ALPHABETS.items():
            for _ in range(per_cell):
                # in a URL's user information a '/' is percent-encoded (RFC 3986)
                value = draw(rng)
                value = value.replace("/", "%2F") if "://" in template else value
                out.append((name, alpha, template.format(V=value, S=rng.choice(SERVICES))))
    return out


# Benign values a credential key is followed by. ``{K}`` / ``{U}``: the key in its form's and
# in upper snake case; ``{S}`` the service.
BENIGN_VALUES: Final[tuple[str, ...]] = (
    "${{{U}}}",
    "${{{U}:-}}",
    "$({S} auth print-token)",
    "{{{{ .Values.{S}.token }}}}",
    "${{{{ secrets.{U} }}}}",
    "<{U}>",
    "<your-{S}-api-key>",
    "your_{S}_api_key_here",
    "YOUR_{U}",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "****************",
    "sk-...",
    "changeme",
    "os.getenv('{U}')",
    "process.env.{U}",
    "env.{U}",
    "settings.{U}",
    "config.get('{S}').get('token')",
    "/run/secrets/{S}_token",
    "~/.config/{S}/credentials.json",
    "./secrets/{S}.key",
    "vault:secret/data/{S}#token",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:{S}-token-AbCdEf",
    "projects/my-project/secrets/{S}-api-key/versions/latest",
    "op://Engineering/{S}/credential",
    "3600",
    "true",
    "none",
    "null",
    "required",
    "optional",
    "Bearer",
    "{U}",
)

# Keys that say what the value is about a credential, with the values they hold: ids, digests,
# URLs, lengths, dates, names. (suffix, value drawer)
BENIGN_KEYED: Final[tuple[tuple[str, Callable[[random.Random], str]], ...]] = (
    ("client_id", lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4))),
    ("key_id", lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4))),
    ("token_id", lambda r: _b62(r, 24)),
    ("account_id", lambda r: "".join(r.choice("0123456789abcdef") for _ in range(32))),
    ("token_hash", lambda r: hashlib.sha256(r.randbytes(16)).hexdigest()),
    ("secret_sha256", lambda r: hashlib.sha256(r.randbytes(16)).hexdigest()),
    ("api_key_fingerprint", lambda r: hashlib.md5(r.randbytes(16)).hexdigest()),
    ("token_url", lambda r: "https://auth.example.com/oauth2/token"),
    ("token_endpoint", lambda r: "https://login.example.net/oauth/v2/token"),
    ("token_expires_at", lambda r: f"2026-{r.randint(1, 12):02d}-{r.randint(10, 28)}T10:00:00Z"),
    ("token_ttl", lambda r: str(r.randint(60, 86400))),
    ("api_key_name", lambda r: f"ci-deploy-{r.randint(1, 99)}"),
    ("api_key_header", lambda r: "X-Api-Key"),
    ("secret_name", lambda r: "prod/payments/stripe"),
    ("secret_version", lambda r: str(r.randint(1, 40))),
    ("token_type", lambda r: "bearer"),
    ("password_min_length", lambda r: str(r.randint(8, 20))),
    ("api_version", lambda r: "2024-06-01"),
    ("api_base", lambda r: "https://api.example.com/v1"),
    ("next_page_token", lambda r: _b62(r, 32)),
)


def negatives(
    seed: int = 23, per_form: int = 12, forms: tuple[tuple[str, str, str], ...] = FORMS
) -> list[tuple[str, str]]:
    """(form, text): benign values under credential keys in every form, and ids, digests,
    URLs and other values under keys that say what they are."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for form in forms:
        for _ in range(per_form):
            service, suffix = rng.choice(SERVICES), rng.choice(SUFFIXES)
            value = rng.choice(BENIGN_VALUES).format(
                U=upper(service, suffix), S=service.replace(".", "")
            )
            out.append((form[0], render(form, service, suffix, value)))
        for _ in range(per_form if "{K}" in form[2] else 0):  # (the key says what it is)
            service = rng.choice(SERVICES)
            suffix, draw = rng.choice(BENIGN_KEYED)
            out.append((form[0], render(form, service, suffix, draw(rng))))
    for name, template in URL_FORMS if forms is FORMS else ():
        for value in ("${DB_PASSWORD}", "<password>", "****", "%s", "{password}", "$(cat /run/s)"):
            out.append((name, template.format(V=value, S=rng.choice(SERVICES))))
    return out


# -- passwords of every printable character, and the short key words (issue 23, eighth round) --
# A password is typed, not generated: any printable ASCII character but white space. Inside
# quotes it runs to its closing quote (the quote itself escaped with a backslash, as in every
# language with string literals); unquoted, the characters that end a value in configuration
# and code (``_UNQUOTED_ENDS``) end it there too, so an unquoted form draws without them.
PASSWORD_SUFFIXES: Final[tuple[str, ...]] = (
    "password", "pass", "passwd", "pwd", "db_pass", "smtp_pass", "key_pass", "contrasena",
)  # fmt: skip
_PRINTABLE: Final = "".join(c for c in string.printable if not c.isspace())
_UNQUOTED_ENDS: Final = "\"'`,;)}]<>&\\"
# The weak words of gitleaks' generic rule, as a key's last part, with generated values.
WEAK_SUFFIXES: Final[tuple[str, ...]] = ("creds", "auth", "access", "api")
_PW_FORMS: Final = FORMS + HELD_OUT_FORMS


def _quote_around(template: str) -> str | None:
    """The quote ``{V}`` is written inside in ``template``, or None."""
    i = template.index("{V}")
    before, after = template[i - 1 : i], template[i + 3 : i + 4]
    return before if before and before == after and before in "\"'`" else None


def password(r: random.Random, quote: str | None) -> str:
    """12 to 24 printable characters with a lower-case and an upper-case letter, a digit and a
    punctuation mark (what a password policy asks), written for a value inside ``quote``
    (escaped) or unquoted (``_UNQUOTED_ENDS`` left out)."""
    alphabet = _PRINTABLE if quote else "".join(c for c in _PRINTABLE if c not in _UNQUOTED_ENDS)
    punct = [c for c in alphabet if not c.isalnum()]
    while True:
        chars = [r.choice(alphabet) for _ in range(r.randint(12, 24))]
        chars[:4] = (
            r.choice(string.ascii_lowercase),
            r.choice(string.ascii_uppercase),
            r.choice(string.digits),
            r.choice(punct),
        )
        r.shuffle(chars)
        value = "".join(chars)
        # in a string literal a backslash is written twice, and the quote escaped
        return value.replace("\\", "\\\\").replace(quote, "\\" + quote) if quote else value


def password_positives(seed: int = 8, per_form: int = 12) -> list[tuple[str, str, str]]:
    """(form, value, text): a password under a password key in every form of ``FORMS`` and
    ``HELD_OUT_FORMS`` (the value as written: escaped inside its quotes); then generated
    values under the weak words as a key's last part."""
    rng = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    for form in _PW_FORMS:
        quote = _quote_around(form[2])
        for _ in range(per_form):
            value = password(rng, quote)
            service, suffix = rng.choice(SERVICES), rng.choice(PASSWORD_SUFFIXES)
            out.append((form[0], value, render(form, service, suffix, value)))
    for form in _PW_FORMS:
        for _ in range(per_form // 3):
            value = rng.choice(list(ALPHABETS.values()))(rng)
            service, suffix = rng.choice(SERVICES), rng.choice(WEAK_SUFFIXES)
            out.append((form[0] + "/weak", value, render(form, service, suffix, value)))
    return out


# Benign values in quotes under a password key: templates, references, prose, patterns.
BENIGN_PASSWORDS: Final[tuple[str, ...]] = (
    "${{DB_PASSWORD}}",
    "{{{{ .Values.pw }}}}",
    "%(pw)s",
    "%s",
    "",
    "must be at least 8 characters; see docs",
    "Enter your password (8+ chars)",
    "^[a-z]+$",
    "^(?=.*[A-Z])(?=.*\\d).{{8,}}$",
    "<password>",
    "<%= ENV['DB_PASS'] %>",
    "changeme",
    "********",
    "$DB_PASS",
)
# Ordinary values under the weak words: what the words name when they name no credential.
BENIGN_WEAK: Final[tuple[str, ...]] = (
    "basic", "bearer", "oauth2", "read-only", "read-write", "public-read", "v2", "v1beta1",
    "./creds.json", "/etc/app/creds.yaml", "none", "private", "internal", "admin",
    "oauth2-client-credentials", "2024-06-01", "https://api.example.com/v1", "api.example.com",
)  # fmt: skip
# The same keys in code and prose that is not an assignment of a literal.
BENIGN_KEY_TEXTS: Final[tuple[str, ...]] = (
    'password == ""',
    "password = get_password(user)",
    'db_pass = os.environ["DB_PASS"]',
    "DB_PASS = settings.DB_PASS",
    "Pass `stream=True` to receive tokens as they arrive.",
    "You can also pass `default_to_notebook=False` to get back raw HTML.",
    "kwargs to pass to `httpx2.request`.",
    "update WPT for WebCryptoAPI to 4c2fd05ed5",
    "api_client.location = 'us-central1'",
    "const fetchWithAuth = x509Authentication ? a : b",
    "str(_encode_auth('username%3Apassword'))",
    "'PKAddShareablePassConfiguration', 'PKBarcodeEventConfigurationRequest'",
    "if auth_reply.method == SOCKS5AuthMethod.USERNAME_PASSWORD:",
    "access_level = 'admin'",
    "bypass = 'Zq8;rT2&mK!x'",
    "passport = 'X12345678'",
)


def password_negatives(seed: int = 8, per_form: int = 6) -> list[tuple[str, str]]:
    """(form, text): ``BENIGN_PASSWORDS`` under password keys in every quoted form,
    ``BENIGN_WEAK`` under the weak words in every form, and ``BENIGN_KEY_TEXTS``."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for form in _PW_FORMS:
        for _ in range(per_form if _quote_around(form[2]) else 0):
            service, suffix = rng.choice(SERVICES), rng.choice(PASSWORD_SUFFIXES)
            value = rng.choice(BENIGN_PASSWORDS).format()
            out.append((form[0], render(form, service, suffix, value)))
        for _ in range(per_form):
            service, suffix = rng.choice(SERVICES), rng.choice(WEAK_SUFFIXES)
            out.append((form[0] + "/weak", render(form, service, suffix, rng.choice(BENIGN_WEAK))))
    out += [("code", t) for t in BENIGN_KEY_TEXTS]
    return out


def blocking(text: str) -> bool:
    from ztmcp.detectors import secrets
    from ztmcp.detectors.findings import RANK
    from ztmcp.severity import Severity

    return any(RANK[f.severity] >= RANK[Severity.HIGH] for f in secrets.scan(text))


def _table(title: str, rows: dict[str, list[bool]]) -> None:
    total = sum(len(v) for v in rows.values())
    hit = sum(sum(v) for v in rows.values())
    print(f"{title}: {hit}/{total} ({100 * hit / max(1, total):.1f} %)")
    for name, got in rows.items():
        print(f"  {name:16} {sum(got):4}/{len(got):<4} ({100 * sum(got) / len(got):5.1f} %)")


def _keywords_main(verbose: bool) -> None:
    """``--keywords``: the passwords of every printable character and the weak words."""
    by_form: dict[str, list[bool]] = {}
    missed: list[str] = []
    for form, _value, text in password_positives():
        found = blocking(text)
        by_form.setdefault(form.split("/")[0] if "/" not in form else "weak words", []).append(
            found
        )
        if not found:
            missed.append(f"{form:18} {text!r}")
    _table("passwords and weak words, recall", by_form)
    benign: dict[str, list[bool]] = {}
    blocked: list[str] = []
    for form, text in password_negatives():
        hit = blocking(text)
        benign.setdefault("weak words" if form.endswith("/weak") else form, []).append(hit)
        if hit:
            blocked.append(f"{form:18} {text!r}")
    _table("benign twins blocking", benign)
    for line in [*missed, "-- blocked negatives --", *blocked] if verbose else ():
        print("   ", line[:200])


def main() -> None:
    verbose = "-v" in sys.argv[1:]
    if "--keywords" in sys.argv[1:]:
        _keywords_main(verbose)
        return
    forms = HELD_OUT_FORMS if "--held-out" in sys.argv[1:] else FORMS
    by_form: dict[str, list[bool]] = {}
    by_alpha: dict[str, list[bool]] = {}
    missed: list[str] = []
    for form, alpha, text in positives(forms=forms):
        found = blocking(text)
        by_form.setdefault(form, []).append(found)
        by_alpha.setdefault(alpha, []).append(found)
        if not found:
            missed.append(f"{form:14} {alpha:12} {text!r}")
    _table("recall per form", by_form)
    _table("recall per alphabet", by_alpha)
    benign: dict[str, list[bool]] = {}
    blocked: list[str] = []
    for form, text in negatives(forms=forms):
        hit = blocking(text)
        benign.setdefault(form, []).append(hit)
        if hit:
            blocked.append(f"{form:14} {text!r}")
    _table("negatives blocking per form", benign)
    for line in [*missed, "-- blocked negatives --", *blocked] if verbose else ():
        print("   ", line[:200])


if __name__ == "__main__":
    main()
