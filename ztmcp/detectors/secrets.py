"""Secrets and personal data: provider keys, private keys, tokens, URL passwords, cards, IDs.

Why our own rules and not detect-secrets or a gitleaks binary: detect-secrets scans line by
line with one regex pass per plugin plus per-line filters (a few MB/s in CPython), and it has no
notion of a masked excerpt or of a span; a gitleaks binary means a subprocess per message. This
module keeps the *shape knowledge* of those projects (the provider formats below follow the
public gitleaks rule set and detect-secrets plugins, MIT/Apache-2.0) in a few prefix-anchored
regexes that CPython scans at tens of MB/s.

Rules (rule id — severity):

- ``secret.private_key`` — CRITICAL — PEM/OpenSSH/PGP private key blocks, and key bodies
  without their BEGIN line (the base64 of the header every OpenSSH, PKCS#1, PKCS#8 or EC
  private key starts with).
- Disguised secrets (``_disguised``): every rule above, HIGH and CRITICAL only, on the text
  with invisible characters removed, on decoded base64/hex runs, on runs that end in a
  reversed provider prefix, on quoted pieces joined and on spaced-out groups joined; the
  finding covers the disguise and its message says which it was.
- ``secret.<provider>`` — HIGH — formats with a provider prefix or checksum-like structure,
  with the lengths and alphabets the providers document (AWS, GitHub, GitLab, Slack, Stripe,
  OpenAI, Anthropic, Hugging Face, npm and ``.npmrc`` auth lines, PyPI, Discord, Telegram,
  Mailchimp, Atlassian, Azure AD and Storage, Vault, SendGrid, Twilio, Shopify, Doppler,
  Heroku, Dynatrace, New Relic, Notion, Pulumi, Square, Sentry, … about 90 shapes).
- ``secret.k8s_secret`` — HIGH — a value under ``data:``/``stringData:`` of a
  ``kind: Secret`` manifest.
- ``secret.jwt`` — HIGH — a JWT whose header decodes to JSON with ``alg``/``typ``.
- ``secret.url_password`` — HIGH — ``scheme://user:password@host`` with a literal password
  (the user may be empty), and ``user:password@…`` without a scheme after a ``dsn`` key.
- ``secret.auth_header`` — HIGH — ``Authorization: Bearer/Basic/token …``, ``curl -u user:pw``.
- ``secret.assignment`` — HIGH — ``password=…``, ``api_key: …``, ``client_secret …``, ``pat: …``
  with a value that is neither a placeholder nor a variable reference nor hex digits in both
  cases (hand-edited, not generated) and has enough entropy (or is letters of one case drawn at
  random, ``values.random_letters``); code, names and prose beside a credential word
  (``os.getenv(``, ``self._token``, ``token revocation.``) are not values
  (``rules.secrets_values``), nor are digests of a secret or pagination tokens.
- ``secret.provider_key`` (and the ids of ``rules.secrets.KEY_PROVIDERS``) — HIGH — a random
  value under a key that names a provider and a credential (``heroku_api_key``), or under
  the provider's name alone (``adafruit: …``, ``DATADOG=…``) when it has one of the
  provider's formats (``rules.secrets.BARE_PROVIDERS``).
- ``secret.gcp_api_key`` — MEDIUM — Google API keys are often public browser/Firebase keys.
- ``pii.card_number`` — HIGH — 13 to 19 digits with a known issuer prefix and a valid Luhn sum.
- ``pii.us_ssn`` — HIGH — ``123-45-6789`` outside the never-issued ranges.
- ``pii.iban`` — LOW — IBANs with a valid mod-97 checksum (payments legitimately carry them).
- ``secret.high_entropy`` — MEDIUM — a long random-looking token with no known shape (support
  signal only: hashes, ids and nonces look the same).

Placeholders are never findings (but for detect-secrets' Artifactory shapes, which follow its
plugin to the letter, x-runs included): values made of ``x``/``*``/``0``, ``<…>``, ``${…}``,
``$VAR``, ``{{…}}``, ``your_…``, ``…here``, ``changeme`` and friends (placeholder *words* only
where a word starts: a random token that happens to contain "fake-" is judged by its shape).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import re
from collections.abc import Callable, Iterator
from functools import cache
from itertools import accumulate, pairwise
from typing import Final, NamedTuple

from ztmcp.detectors import gate, multi, normalise, runs
from ztmcp.detectors.findings import RANK, Finding, shannon_entropy
from ztmcp.detectors.lazyre import LazyPattern, Pattern
from ztmcp.detectors.regex_source import literal_prefixes as _literal_prefixes
from ztmcp.detectors.rules import secrets as data
from ztmcp.detectors.rules import secrets_values as values
from ztmcp.detectors.rules.secrets import DS as _DS
from ztmcp.detectors.rules.secrets import B as _B
from ztmcp.detectors.rules.secrets import C, H, L, M
from ztmcp.severity import Severity

_PRIVATE_KEY: Final = LazyPattern(
    r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:([\s\S]{0,20000}?)-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----)?"
)
# A key body after a BEGIN line with no END line: PEM headers, white space, quotes or escaped
# newlines, then base64. A BEGIN line alone is a marker in code (``b"-----BEGIN …-----"``).
_KEY_BODY: Final = LazyPattern(
    r"(?:[\s\"'+,]|\\[nrt]|(?:Proc-Type|DEK-Info|Comment):[^\n]{0,200}){0,40}"
    r"[A-Za-z0-9+/=]{32}"
)
# A run of base64 as long as ``_KEY_BODY`` asks for after a BEGIN line with no END line.
_KEY_RUN: Final = LazyPattern(r"[A-Za-z0-9+/=]{32}")
_JWT: Final = LazyPattern(
    _B + r"(eyJ[A-Za-z0-9_-]{10,4000})\.(eyJ[A-Za-z0-9_-]{2,8000})(?:\.([A-Za-z0-9_-]{0,2000}))?"
)
# (The user may be empty: Redis writes ``redis://:password@host``.)
_URL_PASSWORD: Final = LazyPattern(
    r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://([^\s:/?#@\"'<>\[\]{}]{0,100}):([^\s/?#@\"'<>]{1,200})@"
    r"[A-Za-z0-9.-]{1,253}"
)
# A data source name without a scheme after a key that names one (``dsn``, ``SENTRY_DSN``,
# ``mysqlDsn``): Go's MySQL driver writes ``user:password@tcp(host:3306)/db``. (With a scheme
# it is a URL, and ``_URL_PASSWORD`` reads it; without one, the driver reads the password up
# to the '@', '/' included: base64 has it. A "password" that starts with ``//`` is a URL's
# authority after its scheme: ``https://public_key@o1.ingest.sentry.io/1`` has no password.)
_DSN_USERINFO: Final = LazyPattern(
    r"(?i)dsn[\"']?[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}[\"'`]?"
    r"([^\s:/?#@\"'<>\[\]{}]{1,100}):(?!//)([^\s?#@\"'<>]{1,200})@([A-Za-z0-9.()-]{1,253})"
)
_AUTH_HEADER: Final = LazyPattern(
    r"(?i:authorization|x-api-key|api-token|x-auth-token|x-jfrog-art-api|private-token|apikey)"
    r"\s{0,3}[:=]\s{0,3}(?i:(?:bearer|basic|token|bot|apikey)\s{1,3})?"
    r"([A-Za-z0-9._~+/=-]{8,2000})"
)
_CURL_USER: Final = LazyPattern(
    r"\bcurl\b[^\n]{0,200}?(?:\s-u\s{0,3}|\s--user[\s=]{1,3})[\"']?([^\s\"':]{1,100}):"
    r"([^\s\"']{1,200})"
)
# A key word of its own: ``key`` after another part of a name (``STRIPE_KEY``, ``app.key``,
# ``mapsKey``), never alone (``key: value`` in a dict, ``hotkey``, ``keyboard``).
# (The literal first, then the look-behind: a look-behind tried at every offset costs more.)
_NAMED_KEY: Final = r"key(?<=[A-Za-z0-9][_.-]key)|(?-i:Key(?<=[a-z0-9]Key))"
# The credential words but ``key`` alone (``_STRONG_KEYWORDS``), then all of them.
_STRONG_WORDS: Final = (
    r"api[_.-]?key|apikey|api[_-]?secret|secret[_-]?key|client[_-]?secret|app[_-]?secret"
    r"|access[_-]?key|access[_-]?token|auth[_-]?token|auth[_-]?key|private[_-]?key|secret|token"
    r"|passw(?:or)?d|passwd|pwd|passphrase|credentials?|license[_-]?key|bearer"
    # ``pass`` as a part of a key (``DB_PASS``, ``smtp_pass``, ``keypass``: not ``bypass``,
    # ``passport``, ``passes``, which ``_keyword_at_boundary`` refuses), and the Spanish word
    # detect-secrets' keyword plugin lists (``contraseña``, ``contrasena``)
    r"|keypass|contrase(?:ñ|n)a|pass"  # (the letter itself: RE2 reads no \u escape)
)
# ``pat`` (a personal access token: ``GITHUB_PAT``, ``pat``) where no letter follows it (not
# ``path``, ``pattern``, ``PATCH``): as ``key``, a short word that is a credential's name in
# some code and an abbreviation in other code, so its value must look generated.
_PAT: Final = r"pat(?![a-z])"
# The weak words of gitleaks' generic rule (``MY_CREDS=…``, ``auth: …``, ``access = …``, ``api:
# …``): as ``key`` alone and ``pat``, as often the name of something that is no credential
# (``auth: "basic"``, ``access: "read-only"``, ``api: "v2"``, ``creds: "./creds.json"``), so
# a value under them alone must look generated (``_looks_generated``). They are common words
# in prose and URLs: a key is looked for near one only where a name's run ends after it with a
# connector and a value (``_weak_spans``).
_WEAK_WORDS: Final = r"creds|auth|access|api"
# ``pass`` and the weak words name a credential only as a key's last part (``DB_PASS``,
# ``MY_CREDS``, ``X_API``: not ``PKSecureElementPassConfiguration``, ``api_client.location``)
# and only when the key is assigned (not the prose ``pass `stream=True```, ``WebCryptoAPI to
# 4c2fd05ed5``): ``_short_word_refused``.
_SHORT_WORDS: Final = "pass|" + _WEAK_WORDS
_SHORT_LAST: Final = LazyPattern(
    r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:" + _SHORT_WORDS + r")$"
)
_CREDENTIAL_WORDS: Final = _STRONG_WORDS + "|" + _NAMED_KEY + "|" + _PAT + "|" + _WEAK_WORDS
# How code and configuration write ``key`` then ``value`` (``secret_forms`` draws each): an
# assignment, a typed declaration (``fooToken: string =``, ``var fooToken string =``,
# ``FOO_KEY: &str =``), a subscript (``os.environ["FOO_KEY"] =``), a call's name and value
# arguments (``define('FOO_KEY', '…')``), an XML element or a name/value pair (``<add
# key="fooKey" value="…"``, Kubernetes ``- name: FOO_KEY`` then ``value: …``), a flag or a word
# (``--foo-key …``, ``the foo key is …``), a setter's one quoted argument (``setFooKey("…")``,
# its quote and backslashes escaped inside),
# R's ``<-``, Make's and Ruby's ``?=``, ``+=``, ``::=``, ``||=``, a comparison (``==``, ``!=``,
# JavaScript's ``===``, ``!==``).
# The first ones are tried first: ``string`` after a key is a type when an ``=`` follows.
_CONNECTOR: Final = (
    r"(?:[\"']?[ \t]{0,3}:[ \t]{0,3}&?[A-Za-z_][A-Za-z0-9_]{0,15}[ \t]{0,3}=(?![=>])"
    r"|[ \t]{1,3}[A-Za-z_][A-Za-z0-9_]{0,15}[ \t]{0,3}=(?![=>])"
    r"|[\"'][ \t]{0,3},[ \t]{0,3}(?=[\"'`])"
    r"|[\"']?>(?=[^\s<]{6,300}</)"
    r"|[\"'][ \t]{1,3}value[ \t]{0,3}=[ \t]{0,3}(?=[\"'])"
    r"|[\"']?[ \t]*\n[ \t]{0,12}value[ \t]{0,3}:"
    r"|`?[ \t]{1,3}(?:is|was|to|as)[ \t]{1,3}"
    r"|\([ \t]{0,3}(?=\"(?:[^\"\s\\]|\\.){6,300}\"[ \t]{0,3}\)"
    r"|'(?:[^'\s\\]|\\.){6,300}'[ \t]{0,3}\))"
    r"|[\"']?\]?[ \t]{0,3}(?:(?:\|\||::|[?+:])?=|=>|[=!]==?|<-|:|[ \t]))"
)
# A character of a value: the next parameter of a URL query or a form body (``&name=``,
# ``&amp;name=``) ends it, so that the next parameter is matched on its own
# (``?token_ttl=3600&password=…``); a secret in one has its '&' percent-encoded.
# A literal escape sequence of a line break, a tab, a quote or an ASCII character (``\n``,
# ``\"``, ``\u000a``, as escaped JSON and string literals hold them) ends it too, as gitleaks'
# rules end a secret at ``\\[nr]``.
# (The backslash first, then what follows it: ``re`` fails a literal on the other characters
# that end a value faster than it enters a look-ahead. Case-sensitive in the case-insensitive
# rules: ``\N``, ``\U0041`` are no escape ``_unescaped`` reads, and a password holding one
# ran on as one value before escapes ended values, and still does. A backslash that starts
# a run ending in an escape is no value character either: ``optional\\n`` is a text escaped
# twice, ``optional`` then a line break, not a value ``optional\``; the run is bounded, so
# that the look-ahead reads at most 16 characters.)
# ``\uXXXX``/``\xXX`` of an ASCII character: the coded escapes every reading here knows.
_CODED: Final = r"u00[0-7][0-9A-Fa-f]|x[0-7][0-9A-Fa-f]"
_ESCAPED_AFTER: Final = rf"(?-i:[nrt\"'`]|{_CODED})"
_VALUE_ESCAPE: Final = r"\\" + _ESCAPED_AFTER
_VALUE_CHAR: Final = (
    rf"[^\s\"'`,;)}}\]<>&\\]|\\(?!\\{{0,15}}{_ESCAPED_AFTER})"
    r"|&(?!(?:amp;)?[A-Za-z_][A-Za-z0-9_.\[\]-]*=)"
)
# A value inside quotes runs to its closing quote, as a string literal does in every language
# that writes one: ``password = "x7#Pq!2v;Lm}"`` holds the whole password, which ``_VALUE_CHAR``
# would end at ``;``. The same quote closes it, an escape of that quote is part of it (``\\"``),
# and what ends a token ends it too: white space (a line break, and a space: a value is a
# token, as detect-secrets' and gitleaks' keyword rules read it; quoted prose is no value) and
# the escapes ``_VALUE_CHAR`` ends at (``\\n``, ``\\u000a``). Without its closing quote within
# the bound (a truncated text, prose in quotes, a line break) a quoted value is read as an
# unquoted one, as before. (Possessive: the run holds no closing quote, so giving some back
# never reaches one but through an escaped quote, which does not close the string.)
_QUOTES: Final = "\"'`"


def _quoted_char(quote: str) -> str:
    """A character of a value inside ``quote``: any but that quote, white space and a
    backslash, or an escape of that quote or of a backslash (``\\\\``, one backslash in a
    string literal), or a backslash ``_VALUE_CHAR`` takes."""
    return rf"[^{quote}\s\\]|\\{quote}|\\\\|\\(?!\\{{0,15}}{_ESCAPED_AFTER})"


# What comes between a connector and its value: blanks, and the value's opening quote if any.
_OPENING: Final = r"[ \t]{0,3}[\"'`]?"


_VALUE_MAX: Final = 300  # the most characters of a value a key rule reads


def _value(least: int, most: int | None = None, line: bool = False) -> str:
    """The one value grammar every key rule reads after ``_OPENING`` (``_KEYWORD``, its head,
    ``_AFTER``): ``least`` to ``most`` characters of the value, up to its closing quote when
    that quote opened it (``_quoted_char``: a quote, then no character of a name, closes it),
    else of ``_VALUE_CHAR``. Without ``most``, an unquoted value's first ``least`` only (a
    look-ahead's test: ``_KEYWORD_HEAD`` matches where ``_KEYWORD`` does, and costs a quoted
    value's read only). With ``line``, an unquoted value may also be its line's rest
    (``_LINE_CHAR``), which the keyword rule judges (``_line_value_end``)."""
    quoted = (
        f"(?<={q})(?:{_quoted_char(q)}){{{least},{_VALUE_MAX}}}+(?={q}(?![A-Za-z0-9_]))"
        for q in _QUOTES
    )
    quoted_first = f"(?<=[{_QUOTES}])(?:" + "|".join(quoted) + ")"
    # (last: the rarest reading)
    rest = f"|(?:{_LINE_CHAR}){{{least},{_LINE_MAX}}}+{_LINE_END}" if line else ""
    if most is None:  # (a test of existence: the cheap reading first, which most values pass)
        return f"(?:(?:{_VALUE_CHAR}){{{least}}}|{quoted_first}{rest})"
    # (one look-behind for any quote first: most values have none, and fail it once)
    return f"(?:{quoted_first}|(?:{_VALUE_CHAR}){{{least},{most}}}{rest})"


# An unquoted value that is the rest of its line, as env files, dotenv, YAML, INI and Java
# properties write one (``DB_PASSWORD=FyT6Fm}o0@wRWKohgEL``, ``db_password: J;mq<U4ySVChmF``):
# the characters that end a value in code (``; ) } ] < >``) are the password's there. Read
# so only when nothing else is (``_VALUE_CHAR``'s reading first) and judged by
# ``_line_value_end`` (the key starts its line, and the rest is no code).
# (A ``;`` before ``name=`` is the next pair of a list of them, ``Password=…;Database=…``: it
# ends the reading, and so does the bound, a password's length: each try reads 64 characters
# at most, where a text dense with keys, ``"password=a;" * N``, tries one per key.)
_LINE_CHAR: Final = r"[^\s\"'`\\&,;]|;(?![A-Za-z_][A-Za-z0-9_.-]*=)"
_LINE_END: Final = r"(?=[ \t\r]*(?![^\n]))"
_LINE_MAX: Final = 64


# (The name's tail is possessive: no connector starts with a character of a name, so giving
# some back never helps, and ``re`` would try each shorter tail against every connector.)
_KEY_NAME: Final = (
    r"(?i)(?<![A-Za-z0-9])([A-Za-z0-9_.-]{0,30}?(?:"
    + _CREDENTIAL_WORDS
    + r")[A-Za-z0-9_.-]{0,20}+)"
)
_KEYWORD: Final = LazyPattern(
    _KEY_NAME + _CONNECTOR + _OPENING + "(" + _value(6, _VALUE_MAX, line=True) + ")"
)
# ``_KEYWORD`` up to its value, which it only looks at: a key's match without the cost of
# reading up to 300 characters of its value (``_keyword_in_windows`` reads the value once,
# up to the next key).
_KEYWORD_HEAD: Final = LazyPattern(
    _KEY_NAME + _CONNECTOR + _OPENING + "(?=" + _value(6, line=True) + ")"
)
# A Kubernetes Secret manifest: ``kind: Secret`` and a ``data:``/``stringData:`` entry, in
# either order within a few lines (as gitleaks' kubernetes-secret-yaml rule). Templated values
# (``{{ … }}``, ``${…}``) are placeholders. Searched in the lower-cased text so that each regex
# starts with a literal ("kind:", "data:"), not tried at every offset.
_K8S_DATA: Final = r"data:(?:(?<=stringdata:)|(?<![a-z]data:))[ \t]*(?:\n[ \t]{1,12}#[^\n]{0,200})?"
_K8S_VALUE: Final = (
    r"\n[ \t]{1,12}[\w.-]{1,100}:[ \t]{0,3}([\"']?[a-z0-9+/=_.-]{8,4096}[\"']?)"
    r"[ \t]*(?=\n|$)"
)
_K8S_KIND: Final = r"kind:(?<![a-z]kind:)[ \t]{0,3}[\"']?secret\b"
_K8S_SECRETS: Final = (
    LazyPattern(_K8S_KIND + r"[\s\S]{0,300}?" + _K8S_DATA + _K8S_VALUE),
    LazyPattern(_K8S_DATA + _K8S_VALUE + r"(?=[\s\S]{0,300}?" + _K8S_KIND + ")"),
)


_CARD: Final = LazyPattern(r"\d(?:[ -]?\d){12,18}")
_SSN: Final = LazyPattern(r"(\d{3})-(\d{2})-(\d{4})")
_IBAN: Final = LazyPattern(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30})\b")
# 4.5 bits a character take 23 distinct characters at least (2 ** 4.5 > 22): a run of
# fewer (``___…``, ``AAAA…``) is not counted character by character.
_ENTROPY_SYMBOLS: Final = 23
_ENTROPY_TOKEN: Final = LazyPattern(
    r"(?<![A-Za-z0-9+/_=-])([A-Za-z0-9+/_=-]{32,512})(?![A-Za-z0-9+/_=-])"
)

_PLACEHOLDER: Final = LazyPattern(
    r"(?i)^(?:[x*#.0_-]{4,}|[x*]+|.*(?:x{5,}|\*{4,}|_here|-here|here$|\$\{|\{\{|%\{|%s"
    # a name in angle brackets (``<your-api-key>``, ``sk-<KEY>``, ``<%= pw %>``), not a '<' or
    # '>' among a quoted password's punctuation (``p@ss<w0rd>;2024!``)
    r"|<[A-Za-z][A-Za-z _.-]{2,}(?:[0-9]{1,3})?>|<%"
    r"|\[redacted\]|\{[A-Za-z_][A-Za-z0-9_.]*\}).*|\$[A-Za-z_(].*|.*\.\.\.?.*|\[[^\]]*\]"
    # Placeholder *words* count where a word starts, not inside a random token ("…12fake-…").
    r"|(?:.*[^a-z0-9])?(?:changeme|change_me|dummy|placeholder|redacted|example_|your[_-]"
    r"|insert[_-]|replace[_-]|fake[_-]|not[_-]a[_-]|sample_).*)$"
)
_NOT_SECRET_SUFFIX: Final = LazyPattern(
    r"(?i)(?:id|ids|name|names|file|files|path|type|size|length|len|url|uri|variable|var|field"
    r"|header|prefix|hint|label|format|policy|manager|provider|store|version|ref|key_id|count"
    r"|expiry|expires|expiration|endpoint|env|_kind|mode"
    # what is said about a secret, not the secret: its digest, its pattern, where it came from
    r"|hash|hashed|digest|fingerprint|checksum|sha\d*|md5|regexp?|pattern|commit"
    r"|host|hostname|domain|server|email|mail|address|addr|owner|user|username|created|updated"
    r"|changed|rotated|date|time|timestamp|[_.-]at|ttl|lifetime|timeout|max[_-]?age)$"
)
_PUBLIC: Final = LazyPattern(r"(?i)public|publishable|pub[_-]?key|csrf|xsrf|authenticity|nonce")
# Tokens that name a position or an operation, not a credential: pagination cursors
# (``nextPageToken``), sync, progress and resumption markers (MCP's ``progressToken``),
# idempotency, tracing and lock tokens. Opaque and random-looking, never a secret. (At a
# word start: ``DYNATRACE_TOKEN`` is Dynatrace's token, not a trace token.)
_NOT_CREDENTIAL_TOKEN: Final = LazyPattern(
    r"(?i)(?:(?<![A-Za-z])|(?-i:(?<=[a-z])(?=[A-Z])))(?:page|cursor|continuation|sync|progress|resum(?:e|ption)|idempoten(?:cy|t)|trace"
    r"|span|correlation|cancel(?:lation)?|fencing|pagination|lock|etag|change|delta|event)"
    r"[_.-]?tokens?$"
)

_UUID: Final = LazyPattern(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Hex digits in both cases: hex encoders write one case, and a random base62/base64 key of 16
# characters or more is made of hex digits alone with odds below 1e-7, so such a value was
# typed or edited by hand (a sample, a key with one letter changed), not generated.
_MIXED_CASE_HEX: Final = LazyPattern(
    r"^(?=[0-9a-fA-F]*[a-f])(?=[0-9a-fA-F]*[A-F])[0-9a-fA-F]{16,}$"
)
# Values with a provider prefix are judged by the provider rule alone (its shape is known).
# ``sk-`` and ``sk_`` are not one provider's: OpenAI, Anthropic, Stripe, DeepSeek, Moonshot,
# ElevenLabs, Clerk, Langfuse … all start secret keys so; the keyword rule judges those.
_KNOWN_PREFIX: Final = LazyPattern(
    r"^(?:xox[abeoprs]|gh[pousr]_|github_pat_|glpat-|glptt-|gldt-|rk_|hf_|npm_|pypi-"
    r"|AKIA|ASIA|AIza|SG\.|hvs\.|glc_|glsa_|pplx-|sgp_|dapi|shp|AKC|ops_|LTAI|dnkey-|duffel_"
    r"|dt0c01\.|EZ[AT]K|FLW|fio-|fo1_|fm[12]|HRKU-|ico-|NRAK-|NRII-|ntn_|sha256~|pscale_|pnu_"
    r"|pul-|rdme_|rubygems_|tk-us-|xkeysib-|sntry[us]_|sm_|shippo_|sq0|tfp_|cmVmdGtu)"
)
_KEYWORDS: Final = LazyPattern(r"(?i)" + _CREDENTIAL_WORDS)
# The credential words without ``key`` alone: a key named only "…_key" is as often a cache,
# sort, header or metadata key, so its value must look generated (``_looks_generated``).
_STRONG_KEYWORDS: Final = LazyPattern(r"(?i)" + _STRONG_WORDS)
# The credential words but ``pat``, and what a token never holds but a regular expression or
# a glob does: ``pat`` is as often a pattern (``pat = "^[A-Za-z0-9_]{20,}$"``, ``pat:
# "src/**/*.py"``), whose digits and capitals look generated, so a key named by ``pat`` alone
# does not take a value with one of these.
_KEYWORDS_NOT_PAT: Final = LazyPattern(r"(?i)" + _STRONG_WORDS + "|" + _NAMED_KEY)
# The credential words but the short ones (``_SHORT_WORDS``): a key holding one at a boundary
# is named by it, wherever it stands.
_LONG_KEYWORDS: Final = LazyPattern(
    r"(?i)" + _STRONG_WORDS.removesuffix("|pass") + "|" + _NAMED_KEY + "|" + _PAT
)
_PATTERN_CHAR: Final = LazyPattern(r"[*^$\\\[{|?(]")
# A credential key that names a provider (``data.KEY_PROVIDERS``): the provider's name, a key
# suffix with a credential word, an assignment, the value. Searched near credential words only.
# Searched in the lower-cased text (same length), so that ``re`` starts only at a provider
# name's first letter; the left boundary is checked by hand, the value read from the text.
_KEY_CHARS: Final = r"[a-z0-9_.-]"  # of a provider's name (``data.KEY_PROVIDERS``) and suffix
_ASSIGNED: Final = r"[\"']?[ \t]{0,3}(?::=|=>|[:=])"
_PROVIDER_KEY: Final = LazyPattern(
    r"((?:" + "|".join(w for _r, _n, w in data.KEY_PROVIDERS) + r")"
    rf"{_KEY_CHARS}{{0,24}}){_ASSIGNED}{_OPENING}(" + _value(10, _VALUE_MAX) + ")"
)
# What follows a credential part inside such a key: the rest of the key (at most a name and
# the suffix: a name's regex, letters, digits, ``[_-]``, ``?`` and ``|``, is at least as long
# as what it matches, tested), then the assignment. "auth" in prose ("Authentication") has
# none, and the rule is not tried around it.
_KEY_TAIL: Final = LazyPattern(
    _KEY_CHARS + f"{{0,{max(len(w) for _r, _n, w in data.KEY_PROVIDERS) + 24}}}" + _ASSIGNED
)
# The provider-key rule anchored (``_provider_in_windows``): its key is a run of ``_KEY_CHARS``
# that ends where an assignment and ten characters of a value follow (``_ASSIGNED_END``), and
# starts at most ``_PROVIDER_REACH`` before that end; only there is the rule tried. (Tried at
# every offset, each of the provider names cost a test there: 5 MB/s on words back to back.)
_PROVIDER_REACH: Final = max(len(w) for _r, _n, w in data.KEY_PROVIDERS) + 24
# (Matched from the assignment's first character, which ``re`` looks for first: a pattern
# that starts with a character class skips every other character in a fast loop; the
# look-behinds check the key's last character, then the assignment and the value from there.)
_ASSIGNING: Final = "[\"' \t:=]"  # the characters ``_ASSIGNED`` starts with
_ASSIGNED_END: Final = LazyPattern(
    rf"{_ASSIGNING}(?<={_KEY_CHARS}{_ASSIGNING})"
    rf"(?<=(?={_ASSIGNED}[ \t]{{0,3}}\S{{10}})[\s\S])"  # (a superset of ``_value(10)``)
)
_PROVIDER_HEAD: Final = LazyPattern(
    r"(?:" + "|".join(w for _r, _n, w in data.KEY_PROVIDERS) + r")"
    rf"{_KEY_CHARS}{{0,24}}(?={_ASSIGNED})"
)
_ASSIGNED_MAX: Final = 6  # the longest ``_ASSIGNED``: a quote, three blanks and ``:=``

# The provider's name alone as the key (``data.BARE_PROVIDERS``: ``adafruit: …``, ``"twitch":
# "…"``, ``export DATADOG=…``, ``$heroku = '…'``): the whole key, no credential word, so the
# value must have the provider's format (``_bare_value``). In the lower-cased text; the name is
# a key of its own (no key character either side: ``twitter_handle``, ``my.sentry`` are other
# keys); the value is read as ``_PROVIDER_KEY`` reads it.
_BARE_NAMES: Final = "|".join(b.key for b in data.BARE_PROVIDERS)
_BARE_SHORTEST: Final = 14  # no format is shorter (tested)
_BARE_KEY: Final = LazyPattern(
    rf"(?<!{_KEY_CHARS})({_BARE_NAMES})(?!{_KEY_CHARS}){_ASSIGNED}[ \t]{{0,3}}[\"'`]?"
    r"((?:" + _VALUE_CHAR + r"){" + str(_BARE_SHORTEST) + r",300})"
)
# Its first test, in ``_TEXT_GATES`` (RE2 reads it in the whole-text set as written, so no
# look-around; the detector gate in its own): the name, the assignment and the shortest
# value's characters (``_VALUE_CHAR``'s superset: ``\\`` and ``&`` are value characters where
# no escape or parameter follows).
_BARE_GATE: Final = (
    rf"(?:{_BARE_NAMES}){_ASSIGNED}[ \t]{{0,3}}[\"'`]?"
    + "[^\\s\"'`,;)}\\]<>]"
    + f"{{{_BARE_SHORTEST}}}"
)
# Per provider: its key as a whole, its rule id and name (``KEY_PROVIDERS``': a name it lacks
# fails the import, not a scan), and its formats (each read case-insensitively, whole).
_RULE_OF: Final = {name: rule_id for rule_id, name, _w in data.KEY_PROVIDERS}
_GENERATED_ONLY: Final = ((LazyPattern(f"(?i){data.GENERATED.pattern}"), data.GENERATED.hex),)
_BARE: Final = tuple(
    (
        LazyPattern(rf"(?i)(?:{b.key})"),
        (_RULE_OF[b.name], b.name),
        tuple((LazyPattern(f"(?i){f.pattern}"), f.hex) for f in b.formats) or _GENERATED_ONLY,
    )
    for b in data.BARE_PROVIDERS
)
# A hex value beside these names a digest (a commit, a lock file's checksum), even under a
# provider whose format is hex: ``"sentry": "<sha>"`` in a renovate config or a lock file.
_DIGEST_CONTEXT: Final = LazyPattern(
    r"(?i)commit|\bsha|digest|checksum|integrity|resolved|lockfile|\brev(?:ision)?\b|\bhash"
)
_DIGEST_REACH: Final = 200
# How far before its assignment's first character a key starts: a name (its regex is at
# least as long as what it matches: letters, ``[_-]?`` and ``|``), a quote and three blanks.
_BARE_REACH: Final = max(len(b.key) for b in data.BARE_PROVIDERS) + _ASSIGNED_MAX
_BARE_SEARCH_MIN: Final = 4096  # past this length RE2 proposes the starts (``_bare_matches``)


# A backslash before a capital: in the lower-cased text the provider-key rule reads values in,
# ``\N`` would read as ``\n``, an escape sequence (``_ESCAPED_AFTER``), which it is not.
_CAPITAL_ESCAPE: Final = LazyPattern(r"\\(?=[NRTUX])")


def _escapes_as_written(text: str, low: str) -> str:
    """``low`` (``lower(text)``, same length) with each backslash before a capital as a
    character of a value that starts no escape sequence (``\\x01``), so that a value ends at
    the escape sequences ``text`` holds only; the capital is lower-cased as the rest (a
    provider's name may start there: ``x\\NPM_TOKEN=``)."""
    if "\\" not in text or _CAPITAL_ESCAPE.search(text) is None:
        return low
    return lower(_CAPITAL_ESCAPE.sub("\x01", text))


def _provider_in_windows(low: str, windows: list[tuple[int, int]]) -> list[re.Match[str]]:
    """``_in_windows(_PROVIDER_KEY, low, windows)``, with ``_PROVIDER_KEY`` tried only at the
    starts a provider's name proposes before the next assignment (a differential test
    compares the two)."""
    out: list[re.Match[str]] = []
    for lo, hi in windows:
        pos = lo
        while (end := _ASSIGNED_END.search(low, pos, hi)) is not None:
            e = end.start()  # no key of a match starting before ``e`` ends elsewhere
            start = max(pos, e - _PROVIDER_REACH)
            found = None
            while (head := _PROVIDER_HEAD.search(low, start, e + _ASSIGNED_MAX)) is not None:
                if head.start() >= e:
                    break
                found = _PROVIDER_KEY.match(low, head.start(), hi)
                if found is not None:
                    break
                start = head.start() + 1
            if found is None:
                pos = e + 1
                continue
            out.append(found)
            pos = found.end()
    return out


def _provider_value(text: str, m: re.Match[str]) -> str | None:
    """The value of a key that names a provider (``m``: its group 2, in ``text``), trimmed of
    prose after it, when it looks generated: no reference, placeholder, URL, hand-edited hex,
    name, identifier or word, and strong (or a UUID). Both provider-key rules ask it."""
    value = text[m.start(2) : m.end(2)]
    if (
        values.is_reference(value, _after(text, m.end(2)))
        or is_placeholder(value)
        or values.is_ordinary(values.trim_prose(value))
    ):
        return None
    value = values.trim_prose(value)
    if (
        len(value) < 10
        or is_placeholder(value)
        or "://" in value
        or _MIXED_CASE_HEX.match(value)
        or (_KEYWORDS.search(value) and values.named(value))
        or _is_identifier(value)
    ):
        return None
    if not _UUID.match(value) and (not _strong(value) or _a_word(value)):
        return None
    return value


@cache
def _bare_search() -> multi.Search:
    return multi.Search(_BARE_GATE)


def _bare_matches(low: str) -> list[re.Match[str]]:
    """``_BARE_KEY.finditer(low)``; on a long text RE2 proposes each next start (the key
    where ``_BARE_GATE``, loosened, matches) and ``re`` matches there, so that ``re`` does not
    try the names' alternation at every offset of a page."""
    finder = _bare_search() if len(low) > _BARE_SEARCH_MIN else None
    view = multi.ascii_view(low) if finder is not None and finder.available else None
    if finder is None or view is None:
        # (a key starts at most ``_BARE_REACH`` before its assignment's first character)
        firsts = [i for i in (low.find(":"), low.find("=")) if i >= 0]
        if not firsts:
            return []
        return list(_BARE_KEY.finditer(low, max(0, min(firsts) - _BARE_REACH)))
    buf = view.encode()
    out: list[re.Match[str]] = []
    pos = finder.start(buf, 0)
    while pos >= 0:
        m = _BARE_KEY.match(low, pos)
        nxt = pos + 1 if m is None else m.end()
        if m is not None:
            out.append(m)
            if len(out) >= 32 and len(out) * 1024 > nxt:  # dense: ``re`` scans for less
                out.extend(_BARE_KEY.finditer(low, nxt))
                return out
        pos = finder.start(buf, nxt)
    return out


@cache
def _bare_of(key: str) -> tuple[tuple[str, str], tuple[tuple[LazyPattern, bool], ...]]:
    """(rule id, provider) whose name ``key`` (lower case, a ``_BARE_KEY`` match: a few
    spellings of the names, so remembered) is, and its formats."""
    return next((named, f) for rx, named, f in _BARE if rx.fullmatch(key))


def _bare_value(text: str, key: str, value: str, start: int) -> tuple[str, str] | None:
    """(rule id, provider) when ``value``, under a key that is a provider's name alone
    (``key``), is that provider's credential: one of the provider's formats, the whole value
    (``data.GENERATED`` where none is known); never digits alone, nor hex digits where the
    format is not hex, nor hex beside a digest's name (``_DIGEST_CONTEXT``)."""
    named, formats = _bare_of(key.lower())
    if value.isdigit() or _LETTER_PIECES.fullmatch(value):
        return None
    hexed = all(c in _HEX_DIGITS for c in value)
    if not any(rx.fullmatch(value) and (is_hex or not hexed) for rx, is_hex in formats):
        return None
    if formats is _GENERATED_ONLY and _NAME_PIECES.fullmatch(value):
        return None  # no format known, and the value reads as a name
    if hexed:
        lo = max(0, start - _DIGEST_REACH)
        if _DIGEST_CONTEXT.search(text, lo, start + len(value) + _DIGEST_REACH):
            return None
    return named


_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
# Three or more short pieces: a name with a version or a region in it
# (``collector_v2_us_east_1_prod``, ``mailgun-mock-server-v2-2024``, ``v2024-06-01-alpine3``,
# ``mapbox/streets-v11``), refused where no format of the provider's is known (``GENERATED``
# takes letters and digits, so a name with a digit): a generated value has a long random run
# (``key-`` and 32 characters, a prefix and 40).
_NAME_PIECES: Final = LazyPattern(r"[A-Za-z0-9]{1,13}(?:[_/+-][A-Za-z0-9]{1,13}){2,}")
# Letters in pieces between ``_``, ``-`` or ``.``, no digit: a name (``BUILD_HOOK_SITE_NAME``),
# where a drawn key of a format with those separators has a digit (all but 6e-5 of Adafruit's
# 32 characters of ``[a-z0-9_-]``).
_LETTER_PIECES: Final = LazyPattern(r"[A-Za-z]+(?:[_.-][A-Za-z]+)+")


# The words a provider-named key must hold (``stripe_auth``, ``github_token``).
_CREDENTIAL_PARTS: Final = (
    "key", "secret", "token", "passw", "pwd", "auth", "credential", "login", "bearer",
)  # fmt: skip
_CREDENTIAL_PART: Final = LazyPattern(r"(?i)" + "|".join(_CREDENTIAL_PARTS))
_PROVIDER_NAMES: Final = tuple(
    (rule_id, name, LazyPattern("(?i)" + word)) for rule_id, name, word in data.KEY_PROVIDERS
)
_MAX_FINDINGS: Final = 200
_AUTH_GATES: Final = (
    "authorization",
    "api-key",
    "api-token",
    "auth-token",
    "art-api",
    "private-token",
    "apikey",
)
_KEYWORD_STEMS: Final = (
    "key", "secret", "token", "pass", "pwd", "credential", "bearer", "contrase",
)  # fmt: skip
# The weak words' stems (``_WEAK_WORDS``), each the whole word.
_WEAK_STEMS: Final = ("creds", "auth", "access", "api")
# The connectors of prose (``_CONNECTOR``'s blanks and ``is``, ``was``, ``to``, ``as``).
_PROSE_CONNECTORS: Final = frozenset(("", "is", "was", "to", "as"))
# A separator inside a run of name characters that ends where a key ends (a superset of the
# keys ``_short_word_refused`` lets prose follow: ``DB_PASS is …``, ``--db-api …``).
_SEPARATED: Final = LazyPattern(r"[_.-][A-Za-z0-9_.-]*$")
# What may follow a key but prose: no blank, or a character of no word, or a typed declaration.
_WEAK_NEXT: Final = LazyPattern(
    r"[ \t]{0,3}(?:[^ \tA-Za-z0-9]|[A-Za-z_][A-Za-z0-9_]{0,15}[ \t]{0,3}=)|(?![ \t])"
)
# The provider-key rule is searched near the keyword stems and the credential parts that hold
# none ("auth", "login"): near every word it accepts (a part holding a stem starts where the
# stem does), so that "heroku_auth: <value>" is found without a keyword beside it.
_PARTS_NOT_STEMS: Final = tuple(
    p for p in _CREDENTIAL_PARTS if not any(stem in p for stem in _KEYWORD_STEMS)
)
_KEYWORD_BACK: Final = 60
_KEYWORD_AHEAD: Final = 360


def _keyword_matches(text: str, low: str) -> list[re.Match[str]]:
    """``_KEYWORD`` matches, searched only near a credential word (a fast ``str.find``)."""
    return _keyword_in_windows(text, _merged(_keyword_spans(low) + _weak_spans(text, low)), _itself)


def _itself(m: re.Match[str]) -> re.Match[str]:
    return m


# ``pat`` is a stem only where no letter follows (``path`` is in most tool calls' arguments).
_PAT_TAIL: Final = LazyPattern(_PAT)


def _keyword_spans(low: str, pat: bool = True) -> list[tuple[int, int]]:
    """The spans around the keyword rule's stems in ``low`` (and ``pat`` where it is a word)."""
    spans = _spans(low, _KEYWORD_STEMS, _KEYWORD_BACK, _KEYWORD_AHEAD)
    if pat:
        spans += _pat_spans(low, _KEYWORD_BACK, _KEYWORD_AHEAD)
    return spans


def _weak_spans(text: str, low: str) -> list[tuple[int, int]]:
    """The spans around the weak words in ``low`` that a key may end with (a weak word names a
    key only as its last part, ``_short_word_refused``): where a connector and a value follow
    the word (``_WEAK_TAIL``, read in ``text``: what ``_KEYWORD`` asks there), and the
    connector is no prose's but after a name written with separators (``MY_API is …``)."""
    spans: list[tuple[int, int]] = []
    n = len(low)
    for stem in _WEAK_STEMS:
        pos = low.find(stem)
        while pos >= 0:
            end = pos + len(stem)
            # (the cheap tests first: a run that goes on, then "the API reference": a word
            # after blanks with no ``=`` soon, where no separator precedes the word)
            if (end == n or text[end] not in _NAME_CHARS) and (
                _WEAK_NEXT.match(text, end) is not None
                or _SEPARATED.search(text, max(0, pos - _KEY_PREFIX), end) is not None
            ):
                tail = _WEAK_TAIL.match(text, end)
                if tail is not None and (
                    tail.group(1).strip(" \t\"'`").lower() not in _PROSE_CONNECTORS
                    or _SEPARATED.search(text, max(0, pos - _KEY_PREFIX), end) is not None
                ):
                    spans.append((max(0, pos - _KEYWORD_BACK), min(n, pos + _KEYWORD_AHEAD)))
            pos = low.find(stem, pos + 1)
    return spans


def _pat_spans(low: str, back: int, ahead: int) -> list[tuple[int, int]]:
    """``_spans(low, ("pat",), back, ahead, _PAT_TAIL)``: ``re`` finds each ``pat`` that is a
    word (``path`` costs nothing), and from each, the last one whose window touches its own
    (found backwards with ``rfind``), as ``_spans`` does for a stem."""
    spans: list[tuple[int, int]] = []
    n = len(low)
    reach = back + ahead
    pos = 0
    while (m := _PAT_TAIL.search(low, pos)) is not None:
        q = m.start()
        spans.append((max(0, q - back), min(n, q + ahead)))
        last = low.rfind("pat", q + 1, q + reach + 3)
        while last > q and _PAT_TAIL.match(low, last) is None:
            last = low.rfind("pat", q + 1, last)
        if last > q:
            spans.append((max(0, last - back), min(n, last + ahead)))
            q = last
        pos = q + 1
    return spans


def _near(
    rx: Pattern, text: str, low: str, words: tuple[str, ...], back: int, ahead: int
) -> list[re.Match[str]]:
    """Non-overlapping matches of ``rx`` that start within ``back`` characters before one of
    ``words`` in ``low`` and end within ``ahead`` after it: a case-insensitive regex without a
    literal prefix would otherwise be tried at every offset of a long text."""
    return _in_windows(rx, text, _windows(low, words, back, ahead))


def _windows(low: str, words: tuple[str, ...], back: int, ahead: int) -> list[tuple[int, int]]:
    """The merged spans from ``back`` before to ``ahead`` after each of ``words`` in ``low``."""
    return _merged(_spans(low, words, back, ahead))


def _spans(
    low: str, words: tuple[str, ...], back: int, ahead: int, tail: Pattern | None = None
) -> list[tuple[int, int]]:
    """``_windows`` before merging (only around the words ``tail`` matches at, if given)."""
    spans: list[tuple[int, int]] = []
    n = len(low)
    reach = back + ahead  # an occurrence this far after another: their windows touch
    for stem in words:
        pos = low.find(stem)
        while pos >= 0:
            if tail is None or tail.match(low, pos) is not None:
                spans.append((max(0, pos - back), min(n, pos + ahead)))
            if tail is None:
                # the windows of the occurrences between this one and the last that touches
                # its window lie inside the two: only those two are needed (text dense with
                # a word costs one ``rfind`` per window, not a step per occurrence)
                last = low.rfind(stem, pos + 1, pos + reach + len(stem))
                if last > 0:
                    spans.append((max(0, last - back), min(n, last + ahead)))
                    pos = last
            pos = low.find(stem, pos + 1)
    return spans


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not spans:
        return []
    spans.sort()
    merged: list[tuple[int, int]] = []
    lo, hi = spans[0]
    for s, e in spans[1:]:
        if s <= hi:
            hi = max(hi, e)
        else:
            merged.append((lo, hi))
            lo, hi = s, e
    merged.append((lo, hi))
    return merged


def _in_windows(rx: Pattern, text: str, windows: list[tuple[int, int]]) -> list[re.Match[str]]:
    """Non-overlapping matches of ``rx`` inside ``windows`` (``_windows``)."""
    out: list[re.Match[str]] = []
    end = -1
    for lo, hi in windows:
        for m in rx.finditer(text, lo, hi):
            if m.start() >= end:
                out.append(m)
                end = m.end()
    return out


# The keyword rule anchored (``_keyword_in_windows``). A key is a run of name characters that
# ends where the run does (no connector starts with a name character, and the name's tail is
# possessive), so a match exists only where a credential word ends within 20 characters of a
# run's end (``_KEY_END``) and a connector and a value follow that end (``_AFTER_KEY``); its
# start is the first position that the look-behind allows at most 30 characters before such a
# word (``_KEY_START``). ``re`` tried every offset of a window instead: a name prefix of up to
# 30 characters, then every credential word, at each one (6.9 s per MB of ``"key"___…``).
_NAME: Final = r"[A-Za-z0-9_.-]"
# The letters the credential words start with (tested): a look-ahead ``re`` fails fast on,
# where trying each word costs more than all the rest.
_WORD_FIRST: Final = "abcklpst"
# ``_NAME`` and ``[_WORD_FIRST]`` as ``re`` reads them case-insensitively, written out for a
# case-sensitive search (tested: the same characters), which ``re`` runs about three times as
# fast: the four others are the ones Unicode case folding maps into ASCII letters.
_FOLDED: Final = "\u0130\u0131\u017f\u212a"
_NAME_EXACT: Final = rf"[A-Za-z0-9_.\-{_FOLDED}]"
_FIRST_EXACT: Final = rf"[{_WORD_FIRST}{_WORD_FIRST.upper()}\u017f\u212a]"
_WORD_END: Final = (
    rf"(?-i:(?={_FIRST_EXACT}))(?:{_CREDENTIAL_WORDS})"
    rf"(?-i:{_NAME_EXACT}{{0,20}}+(?!{_NAME_EXACT}))"
)
_KEY_END: Final = LazyPattern("(?i)" + _WORD_END)
# The longest credential word (tested). A run of ``_LONG_RUN`` or more is taken whole (one
# step, not a try at each word in it), and only its last ``_TAIL`` characters are searched for
# a word that ends it, by a look-behind that steps back that far and looks ahead from there.
_WORD_MAX: Final = 16
_TAIL: Final = _WORD_MAX + 20
_LONG_RUN: Final = _TAIL + 4
# What must follow a key: a connector and a value's first six characters (``{6,300}``
# matches wherever they do). A word that ends a short run is proposed only with it after.
# (A superset of ``_value(6)``: every character of a value, quoted or not, is no white space;
# it only proposes where ``_KEYWORD_HEAD`` is tried, and costs a fraction of the grammar.)
_AFTER: Final = _CONNECTOR + r"[ \t]{0,3}\S{6}"
_AFTER_KEY: Final = LazyPattern(r"(?i)" + _AFTER)
_KEY_END_OR_RUN: Final = LazyPattern(
    rf"(?i){_WORD_END}(?={_AFTER})"
    rf"|(?-i:({_NAME_EXACT}(?<!{_NAME_EXACT}.){_NAME_EXACT}{{{_LONG_RUN - 1},}}+)"
    rf"(?<=(?={_NAME_EXACT}{{0,{_TAIL}}}?((?i:{_WORD_END})))[\s\S]{{{_TAIL}}})?)"
)
# ``_NAME``'s characters as ``re`` reads it case-insensitively (tested).
_NAME_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-" + _FOLDED
)
_KEY_START: Final = LazyPattern(r"(?i)(?<![A-Za-z0-9])" + _NAME)
# Everything up to the last character that is not a name's (where a name's run starts).
_RUN_START: Final = LazyPattern(r"(?i)(?:" + _NAME + r"*+[^A-Za-z0-9_.-])*+")
_KEY_PREFIX: Final = 30  # ``_KEYWORD``'s ``{0,30}?`` before the credential word
# After a weak word that ends its run (``_weak_spans``): what must follow a key.
_WEAK_TAIL: Final = LazyPattern(r"(?i)(" + _CONNECTOR + ")" + _OPENING + _value(6))
# The same in the lower-cased text as RE2 reads it (``_TEXT_GATES``), a superset: a weak word
# that ends its run, after a separator in it or before what ``_WEAK_NEXT`` allows.
_WEAK_WORD: Final = f"(?:{'|'.join(_WEAK_STEMS)})"
_WEAK_GATE: Final = (
    rf"[_.-][a-z0-9_.-]{{0,{_KEY_PREFIX}}}{_WEAK_WORD}(?:[^a-z0-9_.\-]|$)"
    rf"|{_WEAK_WORD}(?:[^a-z0-9_.\- \t]"
    rf"|[ \t]{{1,3}}(?:[^a-z0-9 \t]|[a-z_][a-z0-9_]{{0,15}}[ \t]{{0,3}}=))"
)


def _word_start(text: str, pos: int, end: int) -> int:
    """Where the first credential word at or after ``pos`` that ends a run at ``end`` starts,
    or -1."""
    m = _KEY_END.search(text, pos, end)
    return -1 if m is None else m.start()


def _keyword_in_windows[T](
    text: str, windows: list[tuple[int, int]], judge: Callable[[re.Match[str]], T | None]
) -> list[T]:
    """What ``judge`` makes of the ``_KEYWORD`` matches in ``windows`` (None refuses one), a
    match ending by the next key that starts a run of name characters after its value's first
    character (not ``API_KEY`` in ``"CURRENCYLAYER_API_KEY", "…"``, a piece of a name): as ``re``
    trying every offset, from the end of the last match accepted, or from the value's start
    of the last one refused (a key may start the value: ``token=secret=…``). So a refused
    decoy never hides a key glued to its value (``pat: ^x{20}$|secret: <the secret>``), nor
    a key that starts inside a run of name characters after ``_`` (``…{a____…_token: …``),
    after a value accepted or refused. A refused value is searched again from its start once,
    so the scan stays linear (tests/detectors/test_secret_hostile.py holds its cost per
    character); a differential test compares the two."""
    out: list[T] = []
    for lo, hi in windows:
        head = _first_keyword(text, lo, hi)
        earlier = None  # the last key found inside a value (``token: token: …`` resumes there)
        while head is not None:
            p, value = head.start(), head.end()
            inner = _first_keyword(text, value + 1, hi, run_start=True)
            m = _KEYWORD.match(text, p, hi if inner is None else _parameter_start(text, inner))
            if m is None:  # too little value before the next key: the next start then
                head = _first_keyword(text, p + 1, hi)
                continue
            verdict = judge(m)
            if verdict is not None:
                out.append(verdict)
                # the first key at or after its end: the next run's key (``inner``) when the
                # value reached it, else any key after the value, one inside a run included
                if inner is None or inner.start() != m.end():
                    inner = _first_keyword(text, m.end(), hi)
                head = inner
            elif m.start(2) == value:  # refused: a key that starts its value, or the next
                if earlier is not None and earlier.start() == value:
                    head = earlier
                else:
                    head = _first_keyword(text, value, hi)
            else:
                head = _first_keyword(text, m.start(2), hi)
            earlier = inner
    return out


def _parameter_start(text: str, key: re.Match[str]) -> int:
    """Where the parameter that ``key`` starts starts: before the ``&`` or ``&amp;`` of a URL
    query or a form body (``secret=…&oauth_auth_realms=…``), which ``_VALUE_CHAR`` ends a
    value at only when it sees the next name's ``=``, beyond a match's end."""
    at = key.start()
    for separator in ("&amp;", "&"):
        if text.startswith(separator, at - len(separator)):
            return at - len(separator)
    return at


def _first_keyword(text: str, floor: int, hi: int, run_start: bool = False) -> re.Match[str] | None:
    """The ``_KEYWORD_HEAD`` match that starts first at or after ``floor`` (with its value by
    ``hi``), or that starts a run of name characters if ``run_start``, tried only where one
    can start: at most a few tries per run of name characters with a
    credential word at its end, none elsewhere."""
    pos = floor
    while (found := _KEY_END_OR_RUN.search(text, pos, hi)) is not None:
        pos = found.end()
        a, e = found.span()
        if found.group(1) is not None:  # a long run: a word must end within 20 of its end
            if found.group(2) is None:
                continue
            a, e = found.span(2)
            if _AFTER_KEY.match(text, e, hi) is None:
                continue  # no connector and value after: no start in its run can match
        first = max(floor, a - _KEY_PREFIX)
        run = _RUN_START.match(text, first, a)
        start = _KEY_START.search(text, run.end() if run else first, e)
        while start is not None:
            p = start.start()
            # the first credential word at or after ``p`` that ends the run
            nearest = a if p <= a else _word_start(text, p, e)
            if nearest < 0:
                break
            if nearest - p > _KEY_PREFIX:
                start = _KEY_START.search(text, nearest - _KEY_PREFIX, e)
                continue
            if run_start and p > 0 and text[p - 1] in _NAME_CHARS:
                break  # inside a run (``…_API_KEY``): only its start may be such a key
            m = _KEYWORD_HEAD.match(text, p, hi)
            if m is not None:
                return m
            start = _KEY_START.search(text, p + 1, e)  # not expected (the same language)
    return None


def _keyword_at_boundary(key: str, words: Pattern = _KEYWORDS) -> bool:
    """The credential word is a word of ``key`` (``auth_token``, ``authToken``, ``tokens``):
    it starts one, not the middle of one (``jsonwebtoken``), and ends one, not the start of a
    longer word (``tokenizer``, ``passwordless``, ``secretary``)."""
    # Every credential word, overlapping ones too: ``coinapi_key`` holds ``api_key`` inside a
    # word and ``key`` at a word start.
    pos = 0
    while (m := words.search(key, pos)) is not None:
        i, j = m.start(), m.end()
        pos = i + 1
        starts = i == 0 or not key[i - 1].isalpha() or (key[i].isupper() and key[i - 1].islower())
        rest = key[j:]
        if rest[:1] == "s" and not rest[1:2].islower():
            rest = rest[1:]  # a plural ("tokens", "secrets")
        if starts and not rest[:1].islower():
            return True
    return False


# The context words of the shapes that need text around the token (in ``_TEXT_GATES``).
_CONTEXT_WORDS: Final = tuple(dict.fromkeys(r.context for r in data.RULES if r.context))

# Secrets never contain whitespace: provider shapes run on the runs of token characters only,
# joined by newlines, which is a fraction of a prose or HTML page. ``_CANDIDATE`` is the shape;
# ``runs`` finds the same runs from a class byte string in one pass.
_CANDIDATE_CHARS: Final = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "_-.~:|%+/=@$!#&*;,?'\"`<>(){}[]\\"
)
_CANDIDATE: Final = LazyPattern("[" + re.escape(_CANDIDATE_CHARS) + "]{16,}")
_CANDIDATE_CLASS: Final = runs.table(_CANDIDATE_CHARS)
# A candidate run in the class bytes: a literal pattern, which ``re`` finds faster than
# ``bytes.find`` finds a needle of one repeated byte.
_CANDIDATE_RUN: Final = re.compile(b"a" * 16)
_ALNUM: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_WORD_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# Digits, '-' and ' ' for the card and SSN shapes on ASCII text (``\d`` is wider elsewhere).
_DIGIT_CLASS: Final = bytes(
    0x64 if chr(i).isdigit() and i < 128 else 0x6D if i == 0x2D else 0x73 if i == 0x20 else 0x78
    for i in range(256)
)
_CARD_CLASS: Final = re.compile(rb"d(?:[sm]?d){12,18}")
_SSN_CLASS: Final = re.compile(rb"dddmddmdddd")


class _Shape(NamedTuple):
    """A rule of ``rules.secrets`` ready to run: ``fast`` is its regex without the leading
    boundary look-behind (checked by hand, so that ``re`` can use the literal prefix), ``left``
    which boundary it had ("" for none, "word" for ``_B``, "ds" for ``_DS``). Both regexes are
    compiled at their first use (``lazyre``): most texts run no shape at all."""

    rule: str
    name: str
    severity: Severity
    pattern: LazyPattern  # the whole shape
    fast: LazyPattern
    left: str
    gate: str | None  # the rule's context word
    literal: str | None  # the rule's required literal
    min_entropy: float


def _shape(rule: data.Rule) -> _Shape:
    source = rule.pattern
    whole = LazyPattern(source)
    left = (
        ""
        if rule.context is not None
        else "word"
        if source.startswith(_B)
        else "ds"
        if source.startswith(_DS)
        else ""
    )
    rest = source[len(_B if left == "word" else _DS) :] if left else source
    fast = LazyPattern(rest) if left else whole
    return _Shape(
        rule.rule,
        rule.provider,
        rule.severity,
        whole,
        fast,
        left,
        rule.context,
        rule.required,
        rule.min_entropy,
    )


def _ds_left(text: str, i: int) -> bool:
    """detect-secrets' left boundary before ``text[i]`` (``_DS``)."""
    return i == 0 or text[i - 1] in '=:"' or text[i - 1].isspace()


_WORD_PARTS: Final = LazyPattern(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_PRONOUNCEABLE: Final = LazyPattern(r"(?i)(?=.*[aeiouy])(?!.*(.)\1\1)")


def _reads_as_words(token: str) -> bool:
    """A detect-secrets Artifactory match that is an identifier or a number, not a token:
    letters only, splitting into CamelCase/ALL-CAPS words that each have a vowel and no letter
    three times in a row ("APEventHandler", "APACHECONFIG"), or a number after the prefix
    ("AP1234567890"). Real keys are ~70 random letters and digits (all letters: p ≈ 1e-5)."""
    body = token[3:] if token.startswith("AKC") else token[2:]
    if body.isdigit():
        return True
    if not token.isalpha():
        return False
    return all(_PRONOUNCEABLE.match(w) for w in _WORD_PARTS.findall(token))


_IDENTIFIER_BODY: Final = LazyPattern(r"(?:[A-Za-z0-9]{1,12}[_.-])?([A-Za-z]{12,})\d{0,4}")


def _is_identifier(token: str) -> bool:
    """A match that is a name in code, not a key: after an optional prefix, three or more
    CamelCase/ALL-CAPS words that each have a vowel and no letter three times in a row, then
    at most four digits ("ctr_ControllerNameForTheQueue2"). A random key of that length has
    digits inside and parts without vowels (all but ~1e-5 of them)."""
    m = _IDENTIFIER_BODY.fullmatch(token)
    if m is None:
        return False
    parts = _WORD_PARTS.findall(m.group(1))
    return len(parts) >= 3 and all(_PRONOUNCEABLE.match(w) for w in parts)


_SHAPES: Final = tuple(_shape(rule) for rule in data.RULES)
# (rule id, provider, regex, severity) per shape: the public view of the table.
PROVIDERS: Final = tuple((s.rule, s.name, s.pattern, s.severity) for s in _SHAPES)
# Providers that search the whole text (behind a context word, or detect-secrets' shapes,
# which can be shorter than a candidate run); the others search only the candidate token runs,
# so a text without any (most short strings) skips them all.
_GATED_IDX: Final = tuple(
    i for i, shape in enumerate(_SHAPES) if shape.gate is not None or shape.left == "ds"
)
# The whole-text shapes by context word (detect-secrets' shapes, which have none, always):
# a text is searched only for the shapes whose word it contains.
_BY_GATE: Final[tuple[tuple[str, frozenset[int]], ...]] = tuple(
    (gate, frozenset(i for i in _GATED_IDX if _SHAPES[i].gate == gate))
    for gate in dict.fromkeys(g for g in (_SHAPES[i].gate for i in _GATED_IDX) if g)
)
_NO_GATE: Final = frozenset(i for i in _GATED_IDX if _SHAPES[i].gate is None)
_NO_GATE_ORDER: Final = tuple(sorted(_NO_GATE))  # a short text's shapes, most often


def _gated_here(on: Callable[[str], bool]) -> frozenset[int]:
    """Indexes of the whole-text shapes to search in a text where ``on`` says which context
    words (``_TEXT_GATES``) occur."""
    hit = [indexes for gate, indexes in _BY_GATE if on(gate)]
    return _NO_GATE.union(*hit) if hit else _NO_GATE


# One RE2 pass over a long text's candidate runs says which of these shapes occur at all; the
# others are not searched (``multi``: a looser automaton, never a verdict). The runs are ASCII.
# The text gates' RE2 pass costs less than their word tests past a few dozen characters
# (measured: ``benchmarks/bench_detectors.py --short``); the words serve the shortest texts,
# and any text without RE2 or that RE2 would read otherwise. Both name the same entries.
_SET_MIN: Final = 64
_UNGATED: Final = tuple(
    i for i, shape in enumerate(_SHAPES) if shape.gate is None and shape.left != "ds"
)
_IBAN_AT: Final = len(_UNGATED)
_ENTROPY_AT: Final = _IBAN_AT + 1
_URL_AT: Final = _IBAN_AT + 2


@cache
def _shape_set() -> multi.RegexSet:
    """The shapes widened (``multi.widen``: no look-arounds, no upper repetition bounds): RE2
    builds the set of all shapes about five times faster without the counted states (a shape
    whose run is longer than its bound is then searched, and ``re`` decides)."""
    patterns = [_SHAPES[i].fast.pattern for i in _UNGATED]
    patterns += [_IBAN.pattern, _ENTROPY_TOKEN.pattern, _URL_PASSWORD.pattern]
    return multi.RegexSet([multi.widen(rx) for rx in patterns])


class _TextGate(NamedTuple):
    """A whole-text check's first test, in the lower-cased text: one of ``words`` occurs
    (``pattern`` is their alternation), or, with no words, ``pattern`` is the check's own
    search, which then runs on every short text."""

    name: str
    pattern: str
    words: tuple[str, ...]


def _words(name: str, *words: str) -> _TextGate:
    return _TextGate(name, "|".join(re.escape(w) for w in words), words)


# The whole-text checks' first tests: the one table ``_scan_plain`` asks (``on(name)``) and the
# detector gate summarises (``gate_patterns``). A text is tested in one RE2 pass over its lower
# case, or without RE2 word by word; either way a check runs only where its entry occurs, so
# the gate, which clears a text only where no entry occurs, cannot clear a check's match.
_TEXT_GATES: Final = (
    _words("private key", "private key"),
    _words("eyj", "eyj"),
    _words("://", "://"),
    _words("@", "@"),
    _words("curl", "curl"),
    _words("auth", *_AUTH_GATES),
    _words("kind", "kind"),
    _words("secret", "secret"),
    _words("data:", "data:"),
    _words("keyword", *_KEYWORD_STEMS),
    _TextGate("weak key", _WEAK_GATE, ()),
    _TextGate("pat", "pat(?:[^a-z]|$)", ()),  # (``_PAT_TAIL``, without a look-ahead for RE2)
    _words("dsn", "dsn"),
    # (the provider-key rule's other words, each followed by a key's tail: ``_spans``' test)
    _TextGate("provider part", f"(?:{'|'.join(_PARTS_NOT_STEMS)}){_KEY_TAIL.pattern}", ()),
    _TextGate("provider alone", _BARE_GATE, ()),  # (``_bare_matches``' first test)
    _TextGate("card", _CARD.pattern, ()),
    _TextGate("ssn", _SSN.pattern, ()),
    *(_words(gate, gate) for gate in _CONTEXT_WORDS),
)
# The test without RE2: each entry's words, in a flat list; the searched entries always.
_GATE_WORDS: Final = tuple((word, g.name) for g in _TEXT_GATES for word in g.words)
_SEARCHED: Final = frozenset(g.name for g in _TEXT_GATES if not g.words)
_GATE_NAMES: Final = tuple(g.name for g in _TEXT_GATES)


@cache
def _text_gate_set() -> multi.RegexSet:
    return multi.RegexSet([g.pattern for g in _TEXT_GATES])


def _text_gates(low: str) -> frozenset[str]:
    """Names of the ``_TEXT_GATES`` that occur in ``low`` (without RE2, a searched entry always
    counts: its check's own search is its test)."""
    if len(low) > _SET_MIN:
        rset = _text_gate_set()
        view = multi.ascii_view(low) if rset.available else None
        hits = None if view is None else rset.matching(view)
        if hits is not None:
            return frozenset(map(_GATE_NAMES.__getitem__, hits))
    return _text_gate_words(low)


def _text_gate_words(low: str) -> frozenset[str]:
    """``_text_gates`` by the entries' words (a searched entry always counts)."""
    return _SEARCHED.union([name for word, name in _GATE_WORDS if word in low])


def gate_patterns() -> list[str]:
    """Regexes (``re`` syntax, ``detectors.gate``) one of which matches a plain ASCII text,
    ``gate_view`` of it or that view's lower case wherever ``scan`` finds anything in it, with
    ``gate_shapes``: each whole-text check's first test (``_TEXT_GATES``, context words
    included)."""
    return [g.pattern for g in _TEXT_GATES]


def gate_shapes() -> list[str]:
    """``gate_patterns``' other half (a set of its own: together they make an automaton with
    many more states): a candidate run (every other provider shape, the URL, IBAN and entropy
    rules read only those), the shapes searched in the whole text without a context word, and
    each disguise's shape (a base64 or hex run to decode or reverse, quoted pieces, spaced-out
    groups)."""
    return [
        runs.pattern(_CANDIDATE_CHARS, 16),
        *(_SHAPES[i].fast.pattern for i in _NO_GATE_ORDER),
        runs.pattern(_B64_RUN_CHARS, _MIN_DISGUISED),
        _QUOTED_PIECES.pattern,
        _SPACED.pattern,
    ]


def gate_view(text: str) -> str:
    """The texts ``scan`` reads (``_continued``), one per line: ``text``, and ``text`` with its
    escape sequences read (``_levels``: escaped once, or twice) when it has any."""
    views = [_continued(text)]
    for view in _levels(text):
        views += (view, _continued(view))
    return "\n".join(dict.fromkeys(views))


# How many times over a text is read with its escape sequences read: a string escaped in a
# string (JSON in a JSON string: ``\\n`` is a line break there) is read at both levels.
_ESCAPE_DEPTH: Final = 2


def _levels(text: str) -> list[str]:
    """``text`` with its escape sequences read (``_unescaped``), then that view's read, up to
    ``_ESCAPE_DEPTH`` levels, as far as each has any."""
    out: list[str] = []
    while len(out) < _ESCAPE_DEPTH and (view := _unescaped(out[-1] if out else text)):
        out.append(view)
    return out


def _continued(text: str) -> str:
    """``text`` with its shell line continuations as spaces (same length: offsets hold)."""
    return text.replace("\\\n", "  ") if "\\\n" in text else text


# The escape sequences of JSON, JavaScript, Python and C string literals that stand for a
# character no name or key holds: a line break, a tab, a quote, a backslash, a slash, and
# ``\uXXXX``/``\xXX`` of a printable ASCII character or those three white spaces. Text that
# holds escaped JSON or a string literal (``"x\nsecret: \"<key>\""``) is also read with them
# as the characters they stand for (``_unescaped``), so that ``\n`` ends a token, as a line
# break would (the key is ``secret``, not ``nsecret``), and a value ends before it.
_ESCAPE: Final = LazyPattern(rf"\\(?:[nrt\"'`\\/]|{_CODED})")
_SIMPLE_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t"}


def _escaped(sequence: str) -> str | None:
    """The character an ``_ESCAPE`` match stands for, or None (a control character, which
    is left as written)."""
    letter = sequence[1]
    if letter not in "ux":
        return _SIMPLE_ESCAPES.get(letter, letter)
    char = chr(int(sequence[2:], 16))
    return char if char.isprintable() or char in "\t\n\r" else None


class _Marks(NamedTuple):
    """Where a view of a text with its escape sequences read (``_unescaped``) and the text
    agree: at ``view[i]`` the text is at ``text[i]``, character for character after it up to
    the next mark."""

    view: list[int]
    text: list[int]

    def at(self, offset: int) -> int:
        """The offset in the text of ``offset`` in the view."""
        i = bisect.bisect_right(self.view, offset) - 1
        return offset if i < 0 else self.text[i] + (offset - self.view[i])


def _unescaped(text: str) -> str | None:
    """``text`` with its escape sequences (``_ESCAPE``) read as the characters they stand
    for, each once, left to right (``\\\\n`` is a backslash and an ``n``), or None when it has
    none. A few ``str.replace`` passes over the text (an escaped backslash set aside first,
    so that none of its backslashes starts another sequence) and a regex for the ``\\u``
    and ``\\x`` forms; ``_unescaping`` reads the same view sequence by sequence, with the
    marks that map it back (a differential test compares the two)."""
    if "\\" not in text:
        return None
    view = text
    aside = ""
    if "\\\\" in view:
        aside = next((c for c in _ASIDE if c not in text), "")
        if not aside:  # the text holds them all: read it sequence by sequence
            unescaping = _unescaping(text)
            return None if unescaping is None else unescaping[0]
        view = view.replace("\\\\", aside)
    for sequence, char in _SIMPLE:
        if sequence in view:
            view = view.replace(sequence, char)
    if "\\u00" in view or "\\x" in view:
        view = _CODED_ESCAPE.sub(_coded, view)
    if aside:
        view = view.replace(aside, "\\")
    return None if len(view) == len(text) else view


# Characters to set an escaped backslash aside as while the others are read: private-use
# code points, the first not in the text (each tried costs a pass over the text: a text that
# holds all eight is read sequence by sequence).
_ASIDE: Final = tuple(chr(0xE000 + i) for i in range(8))
_SIMPLE: Final = tuple(("\\" + c, _SIMPLE_ESCAPES.get(c, c)) for c in "nrt\"'`/")
_CODED_ESCAPE: Final = LazyPattern(rf"\\(?:{_CODED})")


def _coded(m: re.Match[str]) -> str:
    char = _escaped(m.group())
    return m.group() if char is None else char


def _unescaping(text: str) -> tuple[str, _Marks] | None:
    """``_unescaped`` sequence by sequence (``_ESCAPE`` left to right), with the marks that
    map an offset in the view back to ``text``; None when it has none. (Run only where the
    view has findings to map.)"""
    if "\\" not in text:
        return None
    pieces: list[str] = []
    marks = _Marks([], [])
    at = 0  # where the text not yet copied starts
    shift = 0  # how much shorter the view is so far
    for m in _ESCAPE.finditer(text):
        char = _escaped(m.group())
        if char is None:
            continue
        start, end = m.span()
        pieces.append(text[at:start])
        pieces.append(char)
        marks.view.append(start - shift)
        marks.text.append(start)
        shift += end - start - 1
        marks.view.append(end - shift)
        marks.text.append(end)
        at = end
    if not pieces:
        return None
    pieces.append(text[at:])
    return "".join(pieces), marks


def compile_sets() -> None:
    """Build the automata now (``warm_up``) rather than on the first long text."""
    _shape_set()
    _text_gate_set()
    _card_search()
    _probe(_QUOTED_PROBE)
    _probe(_SPACED_PROBE)


# The shape set runs on short texts too: one automaton pass (~1 µs for a tools/call argument,
# ~6 µs for a 1 KB result) instead of a search per provider shape.
_SHAPE_SET_MIN: Final = 0


def _shapes_present(cand: str) -> frozenset[int] | None:
    """Indexes (into the set's patterns) of the shapes that occur in ``cand``, or None."""
    if len(cand) <= _SHAPE_SET_MIN:
        return None
    rset = _shape_set()
    view = multi.ascii_view(cand)
    return None if view is None or not rset.available else rset.matching(view)


_CARD_SEARCH_MIN: Final = 4096


@cache
def _card_search() -> multi.Search:
    return multi.Search(_CARD_CLASS.pattern.decode("ascii"))


def _card_class_spans(cls: bytes) -> list[tuple[int, int]]:
    """``_CARD_CLASS.finditer`` spans of a digit class string. On a long one RE2 proposes
    each next start (the same language, so the leftmost start ``re`` would find) and ``re``
    matches there: a page's digits are mostly short numbers that ``re`` tries one by one."""
    finder = _card_search() if len(cls) > _CARD_SEARCH_MIN else None
    if finder is None or not finder.available:
        return [m.span() for m in _CARD_CLASS.finditer(cls)]
    out: list[tuple[int, int]] = []
    pos = finder.start(cls, 0)
    while pos >= 0:
        m = _CARD_CLASS.match(cls, pos)
        nxt = pos + 1 if m is None else m.end()  # no match: not expected (same pattern)
        if m is not None:
            out.append(m.span())
        if len(out) >= 32 and len(out) * 1024 > nxt:  # dense digits: ``re`` scans for less
            out.extend(m.span() for m in _CARD_CLASS.finditer(cls, nxt))
            return out
        pos = finder.start(cls, nxt)
    return out


def _bounded(rx: Pattern, text: str) -> Iterator[re.Match[str]]:
    """``finditer`` of ``_B + rx.pattern``: matches not preceded by a word character."""
    pos = 0
    n = len(text)
    while pos <= n:
        m = rx.search(text, pos)
        if m is None:
            return
        s, e = m.span()
        if s and text[s - 1] in _WORD_CHARS:
            pos = s + 1
            continue
        yield m
        pos = e if e > s else s + 1


def _is_key_body(body: str) -> bool:
    """The text between a BEGIN and an END line holds a key: a run of base64 that is not a
    placeholder (a "..." or "<" elsewhere in the body does not make a whole key one, as on a
    key written on one line), or else some letters or digits that are not a placeholder."""
    if any(not is_placeholder(m.group()) for m in _KEY_RUN.finditer(body)):
        return True
    return any(c.isalnum() for c in body) and not is_placeholder(body.strip())


# A run of letters and digits as long as a key; the mask ``xxxxx`` of a placeholder.
_ALNUM_RUN: Final = re.compile(r"[A-Za-z0-9]{12,}")
_MASK: Final = re.compile(r"(?i)x{5,}")
_JOINS: Final = re.compile(r"[+=]")


def is_placeholder(value: str) -> bool:
    """True for obvious non-secrets: masks, templates, variable references, repeated chars.
    A placeholder's mark beside a key (``<key>...``, ``<key>_here``, ``your-<key>``) does not
    make the key one: its runs of 12 letters and digits or more besides the mask itself
    (``GR1348941XXXXXXXXXXXXXXXXXXXX``) must be written by hand (``values.named``)."""
    v = value.strip("\"'`")
    if not v or values.is_aws_example(v):
        return True
    if _PLACEHOLDER.match(v):
        rest = _JOINS.sub("", _MASK.sub(" ", v))  # base64's '+' does not split a key
        if all(values.named(run) for run in _ALNUM_RUN.findall(rest)):
            return True
    body = re.sub(r"^[A-Za-z0-9]{1,12}[_-]", "", v)  # drop a provider prefix like ghp_
    return (len(set(body.lower())) <= 2 and len(body) >= 6) or _filler_tail(v) or _prefixed_words(v)


# -- a provider's prefix followed by words ----------------------------------------------------
# The literal text every match of a shape's secret (its group 1) starts with, read from the
# rules' own regexes (``regex_source.literal_prefixes``): ``sk_live_``, ``dop_v1_``, ``p8e-``,
# ``cmVmd``. A class of a few characters or an alternation of literals forks the prefix
# (``do[opr]_v1_``: three); anything else (a wider class, a quantified atom, a look-around)
# ends it.

# A token's prefix: what a key starts with, not a URL's or a JSON document's literal text
# (``https://``, ``"type"``), whose shapes hold their secret further on.
_TOKEN_PREFIX: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.$~-]*")


@cache
def _provider_prefixes() -> dict[str, tuple[str, ...]]:
    """Every shape's literal prefixes that are a token's, by first character, longest first
    (a value is tested against the few that share its first character)."""
    found = sorted(
        {
            p
            for rule in data.RULES
            for p in _literal_prefixes(rule.pattern)
            if _TOKEN_PREFIX.fullmatch(p)
        },
        key=lambda p: (-len(p), p),
    )
    by_initial: dict[str, list[str]] = {}
    for p in found:
        by_initial.setdefault(p[0], []).append(p)
    return {c: tuple(ps) for c, ps in by_initial.items()}


@cache
def _prefixed_shapes() -> tuple[tuple[tuple[str, ...], LazyPattern], ...]:
    """Each shape whose secret starts with a token's literal prefix: its prefixes, its regex."""
    out = []
    for rule, shape in zip(data.RULES, _SHAPES, strict=True):
        prefixes = tuple(p for p in _literal_prefixes(rule.pattern) if _TOKEN_PREFIX.fullmatch(p))
        if prefixes:
            out.append((prefixes, shape.pattern))
    return tuple(out)


def _provider_judges(value: str) -> bool:
    """``value`` starts with a provider's prefix (``_KNOWN_PREFIX``) and is that provider's to
    judge, not the keyword rule's: a provider's shape reads a token from its start
    (``rk_live_51H8aB…``); words follow the prefix, a placeholder whatever the shape
    (``npm_configuration``); or the provider's own prefix written whole (``xoxp-``,
    ``ops_eyJ``, ``hf_``; ``_provider_prefixes``) comes before a token's characters alone, its
    token cut short, an example or one redacted (``xoxp-1234567890``,
    ``ops_eyJzaWduSW5B..[Redacted]``). A value that only starts as a provider's prefix does
    (``rk_``: Stripe's is ``rk_live_``), or whose token's characters give way to a password's
    (``hf_7Hq9A01Zz2a30!0``: no Hugging Face token holds a ``!``), is no provider's token: the
    keyword rule judges it as any other value (hypothesis drew ``rk_000A01200a30!0``)."""
    prefix = _KNOWN_PREFIX.match(value)
    if prefix is None:
        return False
    if values.written_in_words(value[prefix.end() :]) or _in_provider_shape(value):
        return True
    if not value.startswith(_provider_prefixes().get(value[:1], ())):
        return False
    run = _TOKEN_RUN.match(value)
    rest = value[run.end() :] if run is not None else value
    redacted = _REDACTED.fullmatch(rest)
    return not rest or (redacted is not None and values.written_in_words(redacted.group(1)))


# A token's characters (base64's and base64url's, a prefix's ``_.-``); a redaction's mark after
# them, words in brackets (``[Redacted]``, ``<truncated>``, ``(snip)``).
_TOKEN_RUN: Final = re.compile(r"[A-Za-z0-9_.+/=-]*")
_REDACTED: Final = re.compile(r"[\[(<{]([A-Za-z]+)[\])>}]?")


def _in_provider_shape(value: str) -> bool:
    """A provider's shape (one whose token starts with a literal prefix) reads a token from
    ``value``'s start."""
    for prefixes, pattern in _prefixed_shapes():
        if value.startswith(prefixes):
            m = pattern.search(value)
            if m is not None and m.start(m.lastindex or 0) == 0:
                return True
    return False


def _prefixed_words(value: str) -> bool:
    """A provider's prefix followed by words and short numbers (``sk_live_configuration``,
    ``dop_v1_configuration``, ``p8e-configuration``): what documentation, tests and templates
    write; a real token's remainder is generated (``values.written_in_words``). A value that
    reads as words whole (``patriots123``, ``test_password``: a prefix that is itself a word's
    start) is not one by this reading: the prefix must be what the words lack."""
    prefixes = _provider_prefixes().get(value[:1], ())
    if not prefixes or not value.startswith(prefixes):
        return False
    return any(
        value.startswith(p) and values.written_in_words(value[len(p) :]) for p in prefixes
    ) and not values.written_in_words(value)


_PIECES: Final = re.compile(r"[^A-Za-z0-9]+")


def _filler_tail(value: str) -> bool:
    """Filler ends ``value`` after a head that is not generated (a provider's prefix: each of
    its pieces short or written by hand, ``values.generated_piece``): a placeholder. Filler is
    a unit of 2 to 10 characters repeated 8 characters past its first copy
    (``EXAMPLEEXAMPLE…``, ``xyxyxyxyxy``), or a run of 12 counting up (``123456789012…``,
    ``abcdefghijkl``); a random key has either by chance once in 10**8 per place tried. A key
    with filler glued after it (``<key>EXAMPLEEXAMPLE``, ``<key>/billing/billing``) still
    blocks: its head is generated. One character repeated is left to the test above: the rule
    sets' own positives use it (``A3T0ZZZZZZZZZZZZZZZZ``, ``AGE-SECRET-KEY-1QQQQ…``)."""
    v = value.rstrip("=")
    n = len(v)
    ends: list[int] = []
    periods: list[int] = []
    # a tail of period p holds its last 8 characters p before them too: one search for that
    # copy 2 to 10 back tells whether any period is worth trying (most values: none)
    repeats = n >= 10 and v.find(v[n - 8 :], max(0, n - 18), n - 2) >= 0
    for p in range(2, 11) if repeats else ():
        if any(p % q == 0 for q in periods):  # a multiple of one found: nothing but contrived
            continue
        least = max(p + 8, 2 * p)  # 8 characters past the unit's first copy, two copies
        if n < least or v[n - least : n - p] != v[n - least + p :] or len(set(v[n - p :])) < 2:
            continue
        low, high = least, n  # the longest tail of period p, by halving (C compares)
        while low < high:
            mid = (low + high + 1) // 2
            if v[n - mid : n - p] == v[n - mid + p :]:
                low = mid
            else:
                high = mid - 1
        ends.append(n - low)
        periods.append(p)
    i = n - 2
    while i >= 0 and n - i < 64 and (ord(v[i + 1]) - ord(v[i]) == 1 or v[i : i + 2] == "90"):
        i -= 1
    if n - 1 - i >= 12:
        ends.append(i + 1)
    if not ends:
        return False
    head = v[: min(ends)]  # the longest filler leaves the shortest head
    return all(
        len(piece) <= 6 or not values.generated_piece(piece) for piece in _PIECES.split(head)
    )


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    n = len(digits)
    if digits[0] == "4" and n in (13, 16, 19):
        return True
    two, four = int(digits[:2]), int(digits[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649:
        return 16 <= n <= 19
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    return False


def _iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    except ValueError:
        return False


def _b64json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _a_word(value: str) -> bool:
    """Letters in words (``._-`` between them) with the entropy of a word, not of a key (nor
    letters drawn at random: ``values.random_letters``)."""
    if values.random_letters(value):
        return False
    return values.reads_as_words(value) or (
        re.fullmatch(r"[A-Za-z]+(?:[._-][A-Za-z]+)*", value) is not None
        and shannon_entropy(value) < 3.5
    )


def _generated(value: str) -> bool:
    """A digit, or a capital letter past the first character: what prose words lack and
    generated keys have (all but about 1 in 10⁵ of 20 random letters and digits), or letters
    drawn at random (``values.random_letters``)."""
    return (
        any(c.isdigit() for c in value)
        or any(c.isupper() for c in value[1:])
        or values.random_letters(value)
    )


def _after(text: str, end: int) -> str:
    """The character after a value, as ``values.is_code`` reads it: a closing XML tag's
    ``</`` ends the value (it is not a generic type's ``<``)."""
    return "" if text.startswith("</", end) else text[end : end + 1]


# A comparison between a key and its value: ``==``, ``!=``, ``===``, Python's ``is``.
_COMPARISON: Final = re.compile(r"[=!]==?|(?<![A-Za-z])is(?![A-Za-z])")


def _member_of_credential(key: str, separator: str, value: str) -> bool:
    """``if token._value is _NoValueSet.NO_VALUE_SET``, ``key.crv == KeyCurveName.p_384``: an
    attribute of a credential object (its last credential word is followed by a member
    access) compared with, or a private member set to, a name written by hand. Not a member
    that configuration sets to a literal (``db.password.prod = "…"``, Java properties, dotted
    YAML keys), nor a generated value, whatever the key says."""
    ends = [m.end() for m in _KEYWORDS.finditer(key)]
    if not ends:
        return False
    member = key[ends[-1] :].lstrip("sS")
    return (
        member.startswith(".")
        and (member.startswith("._") or _COMPARISON.search(separator) is not None)
        and values.is_written_name(value)
    )


def _reexported(key: str, value: str) -> bool:
    """``X = module.X``, ``X = ns::X``: the same name from a module written by hand, not a
    key with the name put after it."""
    for access in (".", "::"):
        if value.endswith(access + key):
            return values.is_written_name(value[: -len(access + key)])
    return False


_SEPARATORS: Final = str.maketrans("", "", "._/+=~-")


def _looks_generated(value: str) -> bool:
    """Drawn from an alphabet, not written in words: a digit, or letters whose case changes
    as often as chance makes it (random letters of both cases change case at one character
    in two, a camelCase or dotted name about once per word: ``io.modelcontextprotocol/clientInfo``
    once in 31), and not a platform's or a release's name, whose digits are its tokens'
    (``x86_64-linux-gnu``, ``values.names_a_platform``). Separators are not counted."""
    if values.names_a_platform(value):
        return False
    body = value.translate(_SEPARATORS)
    if any(c.isdigit() for c in body) or values.random_letters(body):
        return True
    changes = sum(a.isupper() != b.isupper() for a, b in pairwise(body))
    return len(body) >= 8 and changes * 3 >= len(body)


def _strong(value: str) -> bool:
    """Enough variety for a real secret: 2+ character classes and some entropy. A short
    value cannot reach a long one's entropy (12 characters have at most log2 12 = 3.58 bits
    each), so the bar is 2.8 bits or 0.65 of that ceiling, whichever is lower. Measured on
    200,000 random 12-character keys (letters and digits): one in 10,000 is under 2.59 bits
    (``yypzNiyy3PDy``: 2.62), the lowest 2.28; the bar there is 2.33."""
    if value.isascii():  # the same classes, each found by one C loop
        classes = sum(rx.search(value) is not None for rx in _ASCII_CLASSES)
    else:
        classes = sum(
            (
                any(c.islower() for c in value),
                any(c.isupper() for c in value),
                any(c.isdigit() for c in value),
                any(not c.isalnum() for c in value),
            )
        )
    if classes < 2:  # one class: letters drawn at random, one case, are a key
        return values.random_letters(value)
    bar = min(2.8, 0.65 * math.log2(len(value))) if value else 2.8
    return shannon_entropy(value) >= bar


# ``str.islower``, ``isupper``, ``isdigit`` and not ``isalnum`` on ASCII characters.
_ASCII_CLASSES: Final = tuple(map(re.compile, ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]")))


def _not_a_password(user: str, password: str, host: str) -> bool:
    """What ``user:password@host`` holds when the password is not one: a placeholder, a port,
    a default account, a word as the password of a documentation host, the parts' names
    (``username:password@host``, ``values.is_url_template``)."""
    return (
        is_placeholder(password)
        or values.is_url_template(user, password, host)
        or (is_placeholder(user) and password.isdigit())
        or password == user  # a default account ("postgres:postgres"), as in curl -u
        # a word as the password of a documentation host ("user:password@example.com")
        or (values.reads_as_prose(password) and values.is_documentation_host(host))
        or (password.isdigit() and len(password) <= 5)  # host:port, not user:password
    )


# A regular expression, not a password: anchored at both ends with a construct in between
# (``^(?=.*[A-Z])(?=.*\d).{8,}$``, a password policy), or a class with a range, repeated
# (``[A-Za-z0-9._~+/-]+=*``, a token's grammar). A random password has either by chance
# about once in a thousand.
_PATTERN: Final = LazyPattern(
    r"^\^(?=.*(?:\(\?|\.[*+{]|\\[dwsDWS]|\][*+?{])).*\$$"
    r"|\[\^?[^\]]*?[A-Za-z0-9]-[A-Za-z0-9][^\]]*\][*+?{]"
)


def _quoted(text: str, start: int, end: int) -> bool:
    """The value at ``start:end`` is inside a quote that closes after it (``_value``), or is an
    XML element's text (``<dbPass>…</dbPass>``): a literal."""
    if start == 0 or end == len(text):
        return False
    before, after = text[start - 1], text[end + 1 : end + 2]
    return (before == text[end] and before in _QUOTES and not after.isalnum() and after != "_") or (
        before == ">" and text.startswith("</", end)
    )


# An assignment in code (``=`` or ``:=`` with blanks around) to an unquoted value: an
# expression (``const fetchWithAuth = x509Authentication``), where a literal is quoted.
_CODE_ASSIGNMENT: Final = LazyPattern(r"[ \t](?::=|=)[ \t]{0,3}$")


# A setter's name (``client.SetDbPass(``, ``set_db_pass(``): its one argument is the value.
_SETTER: Final = LazyPattern(r"(?:^|\.)(?:set_|Set|set(?=[A-Z]))[^.]*$")


# A name or member path in code (``x509Authentication``, ``this.#token``), digits allowed.
_CODE_NAME: Final = LazyPattern(r"[#$]?[A-Za-z_][A-Za-z0-9_$]*(?:\.#?[A-Za-z_][A-Za-z0-9_$]*)*")


def _short_word_refused(key: str, separator: str, value: str) -> bool:
    """``key`` is named only by a short word (``_SHORT_WORDS``: ``pass`` and ``api`` are as
    often a verb and a piece of a name) that is not its last part, or that is not assigned a
    literal: ``separator`` is prose (``pass `stream=True```, ``WebCryptoAPI to …``) but after a
    name written with separators (``DB_PASS is …``) or a flag (``--db-pass …``), a call's
    parenthesis but a setter's (``_encode_auth('…')``), or code's ``=`` before an unquoted
    name (``fetchWithAuth = x509Authentication``)."""
    if _keyword_at_boundary(key, _LONG_KEYWORDS):
        return False
    name = key.lstrip("-")
    return (
        _SHORT_LAST.search(key) is None
        or (
            separator.strip(" \t\"'`").lower() in _PROSE_CONNECTORS
            and name == key
            and not any(c in name for c in "_.-")
        )
        or ("(" in separator and _SETTER.search(key) is None)
        or (
            _CODE_ASSIGNMENT.search(separator) is not None
            and _CODE_NAME.fullmatch(value) is not None
        )
    )


def _assigned_secret(m: re.Match[str]) -> tuple[int, int] | None:
    """The span of the secret a ``_KEYWORD`` match assigns to a credential key, or None when
    its value is not one (a placeholder, a reference, a word, code, a pattern for ``pat`` …)."""
    text, key = m.string, m.group(1)
    end = _line_value_end(m)
    if end is None:
        return None
    value = text[m.start(2) : end]
    trimmed = values.trim_prose(value)
    if len(trimmed) < _PASSWORD_LEAST or not _strong(trimmed):
        return None  # (tested again below: the cheapest refusal first)
    password = _keyword_at_boundary(key, _PASSWORD_KEYWORDS)
    if len(trimmed) < 10 and not (password and _short_password(trimmed)):
        return None
    after = _after(text, end)
    if (
        (
            # a literal holds no call: a password may have a name and a '(' in it
            values.is_named(value)
            if value[0] not in "([{" and _quoted(text, m.start(2), end)
            else (
                values.is_reference(value, after)
                or (trimmed != value and values.is_reference(trimmed, value[len(trimmed)]))
            )
            and not (password and _open_bracket_password(value))
        )
        or _PATTERN.search(value)
        or values.is_comparison(value, text[m.start(2) - 1])
        or value.startswith("-----")  # PEM armour: the private-key rule judges the block
        or _not_assigned(text, m, key)
        or _placeholder(value, password)
        or values.is_ordinary(trimmed)
        or _in_resource_name(text, m.start(2))
    ):
        return None
    value = trimmed
    if (
        _NOT_SECRET_SUFFIX.search(key)
        or _NOT_CREDENTIAL_TOKEN.search(key)
        or _PUBLIC.search(key)
        or _placeholder(value, password)
    ):
        return None
    if m.start(1) >= 3 and text.startswith("://", m.start(1) - 3):
        return None  # a URL's user name ("https://token:…@host"): the URL rule judges it
    separator = text[m.end(1) : m.start(2)]
    if (
        ":" not in separator
        and "=" not in separator
        and (not _generated(value) or values.names_a_platform(value))
    ):
        return None  # "the token currently", "HF_TOKEN python:3.12": a word after a word
    if (
        not _keyword_at_boundary(key)
        or _short_word_refused(key, separator, value)
        or _member_of_credential(key, separator, value)
        or _reexported(key, value)
        or values.is_sibling(key, value)
        or (
            not _keyword_at_boundary(key, _STRONG_KEYWORDS)
            and (not _looks_generated(value) or values.written_in_words(value))
        )
        or (_PATTERN_CHAR.search(value) and not _keyword_at_boundary(key, _KEYWORDS_NOT_PAT))
        or "://" in value
        or (_UUID.match(value) and not values.is_random_uuid(value))
        or _MIXED_CASE_HEX.match(value)
        or _provider_judges(value)
        or _names_its_role(value)
    ):
        return None
    if len(value) < 10 and not (password and _short_password(value)):
        return None
    if not _strong(value) or value.lower() in key.lower():
        return None
    if _a_word(value) and not (password and _drawn_letters(value)):
        return None  # an identifier or a word, not a secret
    return m.start(2), m.start(2) + len(value)


# A password key's words (``DB_PASSWORD``, ``smtp_pass``, ``pwd``, ``passphrase``): what
# such a key holds is chosen to be a password, so a shorter value (``_PASSWORD_LEAST``) and
# letters alone can be one, where ``key``, ``token`` or ``secret`` hold generated keys.
_PASSWORD_KEYWORDS: Final = LazyPattern(
    r"(?i)passw(?:or)?d|passwd|pwd|passphrase|keypass|contrase(?:ñ|n)a|pass"
)
_PASSWORD_LEAST: Final = 8  # Terraform's ``administrator_login_password`` takes 8
# The letters and digits a password spells a word with (``Passw0rd``, ``p@ssw0rd``, ``s3cr3t``).
_LEET: Final = str.maketrans("0134579@$!", "oleastgasi")


# The marks of a template or a placeholder that a password's characters spell by chance
# (``_PLACEHOLDER``'s): a reference to a variable or a name in brackets (``$NAME``, ``{name}``,
# ``<name>``, ``%(name)s``), a format's ``%s``, two dots. Three dots (``…``) cut a value
# short: they stay a placeholder's mark whatever is around them.
_MARKS: Final = LazyPattern(
    r"\$\{[^}]{0,64}\}|\{\{[^}]{0,64}\}\}|%\{[^}]{0,64}\}|%\([A-Za-z_][A-Za-z0-9_]{0,64}\)[sd]"
    r"|<%[^%]{0,64}%>|%[sd]|\$(?:[A-Za-z_][A-Za-z0-9_]{0,64})?|\{([A-Za-z_][A-Za-z0-9_.]{0,64})\}"
    r"|<([A-Za-z][A-Za-z _.-]{2,64}[0-9]{0,3})>|(?<!\.)\.\.(?!\.)"
)


def _unmarked(m: re.Match[str]) -> str:
    """A mark of ``_MARKS`` taken out, or only its sigil (``$``) when what it names is not
    written by hand (``$Xk9mP2qL7vR``: a password that starts with ``$``)."""
    mark = m.group()
    if mark.startswith("$") and not mark.startswith("${") and not values.named(mark[1:]):
        return mark[1:]
    return ""


def _placeholder(value: str, password: bool) -> bool:
    """``is_placeholder``, but for a password (``password``: under a password key) whose
    characters besides the marks of a template (``_MARKS``) are drawn (``_drawn``):
    ``Xk9#mP2%sqL7vR``, ``aX7{b}Q9!zzW2``, ``$Xk9mP2qL7vR!``, ``Xk9..mP2qL7vR!`` are passwords;
    ``${DB_PASSWORD}``, ``%(pw)s``, ``<password>``, ``$DB_PASS``, ``sk-...``, ``changeme`` are
    not (nothing, or nothing drawn, is left; or a placeholder's word is)."""
    if not is_placeholder(value):
        return False
    if not password:
        return True
    rest = _MARKS.sub(_unmarked, value)
    return rest == value or is_placeholder(rest) or not _drawn(rest)


_CLOSER: Final = {"(": ")", "[": "]", "{": "}"}


def _open_bracket_password(value: str) -> bool:
    """A password with a bracket that does not close in it (``CHtqu7(#i8#?b``,
    ``[EdpSL?9lZ$:g|=Jdd?Lu5L``, ``_sSjdD(k56/lI``), not a call, a subscript or an aside
    (``getpass(``, ``base64.b64decode(``, ``[startLine``, ``get(user_id``): what follows the
    bracket is drawn too (a digit inside a piece: ``values.named`` refuses it), and so is the
    whole (``_drawn``); neither the name before it nor an argument after it reads as words
    (``Rca8Qd(aq_LA24@`` is missed so: ``aq_LA24`` reads as a name)."""
    at = min((i for i in map(value.find, _CLOSER) if i >= 0), default=-1)
    if at < 0 or _CLOSER[value[at]] in value[at + 1 :]:
        return False
    inside = value[at + 1 :]
    if len(inside) < 3 or values.named(inside) or not _drawn(value):
        return False
    # a call on a name in words (``univ.Integer(``), or its argument (``(random_bytes[8:``)
    argument = _CODE_NAME.match(inside)
    return not (_in_words(value[:at]) or (argument is not None and _in_words(argument.group())))


def _in_words(name: str) -> bool:
    """A name of words (``univ.Integer``, ``random_bytes``, ``encode``; not ``CHtqu7``)."""
    return values.reads_as_name(name) or values.reads_as_words(name)


def _drawn(value: str) -> bool:
    """Eight characters or more of a password that were drawn, not written: strong, with a
    digit inside a piece and no reading as words (``_short_password``), or letters drawn
    (``_drawn_letters``)."""
    return (
        len(value) >= _PASSWORD_LEAST
        and _strong(value)
        and (_short_password(value) or _drawn_letters(value))
    )


def _short_password(value: str) -> bool:
    """``value`` (8 or 9 characters under a password key) is drawn, not a word and a number
    (``admin123``, ``test1234``) nor a word spelt with digits (``Passw0rd``), nor a version
    (``(1.2.0-1``): three letters or more, a digit inside a piece (``values.named`` refuses
    it), and no reading as words with its digits as letters."""
    if values.named(value) or sum(c.isalpha() for c in value) < 3:
        return False
    spelt = value.translate(_LEET)
    return not (values.reads_as_words(spelt) or values.written_in_words(spelt))


def _drawn_letters(value: str) -> bool:
    """Letters alone under a password key, drawn rather than written (``UIENRARtDXyL``): their
    case changes as random letters' does (``_looks_generated``), and they read neither as
    words nor as a name (``changeme``, ``yourpassword``, ``myPassword``, ``fooBarBaz``)."""
    return (
        value.isascii()
        and value.isalpha()
        and _looks_generated(value)
        and not values.reads_as_words(value)
        and not values.reads_as_name(value)
        and not values.written_in_words(value)
    )


# What ends a value in code but not in a line's rest (``_LINE_CHAR``).
_CODE_ENDS: Final = frozenset(";)}]<>")
_CODE_END: Final = LazyPattern(r"[;)}\]<>]")
# Before a key that starts its line: indentation, a shell's or a Dockerfile's word, a YAML
# list's dash; after the name of the member that holds the line (``content: DB_PASS=…``, as
# ``detectors.secret_line`` writes a JSON string under its key).
_LINE_KEY_PREFIX: Final = LazyPattern(
    r"[ \t]*(?:[A-Za-z_][A-Za-z0-9_.-]{0,64}:[ \t]+)?(?:(?:export|set|ENV|ARG)[ \t]+|-[ \t]+)?"
)
_LINE_PREFIX_MAX: Final = 128  # longer than any ``_LINE_KEY_PREFIX`` match
# Brackets that open and close in a value: a call, a subscript, a template, not a password's.
_BRACKET_PAIR: Final = LazyPattern(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|<[^>]*>")


def _line_value_end(m: re.Match[str]) -> int | None:
    """Where the value of a ``_KEYWORD`` match ends: as ``_VALUE_CHAR`` reads it, or at its
    line's end when the key starts the line (``_LINE_KEY_PREFIX``), ``=`` or ``:`` joins them,
    and the line's rest holds a character that ends a value in code (``_CODE_ENDS``) but no
    brackets that close (``_BRACKET_PAIR``) and no next pair (``;name=``): env, dotenv,
    YAML, INI and properties values are the rest of their line (``_LINE_CHAR``). None when the
    value was read so (``_value``'s last reading) but is not such a line's rest."""
    text, start, end = m.string, m.start(2), m.end(2)
    rest_read = _CODE_END.search(text, start, end) is not None
    if not rest_read and (end >= len(text) or text[end] not in _CODE_ENDS):
        return end  # (most values: no character of a line's rest in or after them)
    quote = text[start - 1 : start]
    if quote and quote in _QUOTES and text.startswith(quote, end):
        return end  # a quoted value: what its quotes hold
    # (read in the whole text: the match's own end may be a window's or the next key's, where
    # the line does not end; and not past that end, where the next key starts)
    line = _LINE_VALUE.match(text, start)
    if line is not None and line.end() <= m.endpos:
        rest = line.group()
        key = m.start(1)
        # (the line's start, within the longest prefix: never a search back over a long line)
        head = text.rfind("\n", max(0, key - _LINE_PREFIX_MAX), key) + 1
        if (
            (head > 0 or key <= _LINE_PREFIX_MAX)
            and _LINE_KEY_PREFIX.fullmatch(text, head, key) is not None
            and text[m.end(1) : start].strip(" \t") in ("=", ":")
            and _BRACKET_PAIR.search(rest) is None
        ):
            return line.end()
    return None if rest_read else end


_LINE_VALUE: Final = LazyPattern(f"(?:{_LINE_CHAR}){{1,{_LINE_MAX}}}+{_LINE_END}")


def _written_as_word(word: str) -> bool:
    """A credential word as a name writes it: ``token``, ``TOKEN``, ``Token``; not ``PAss``,
    which random letters of both cases hold by chance (hypothesis drew ``…ePAssWM…``)."""
    return word.islower() or word.isupper() or (word[:1].isupper() and word[1:].islower())


def _names_its_role(value: str) -> bool:
    """``API_KEY``, ``my-secret-token``, ``X509Credential``, ``mldsa.MLDSA44PrivateKey``: a name
    with a credential word in it. Without a digit inside a piece (``values.named``), anywhere;
    with a number before a hump (``values.named_in_words``), as one of its words (at its start,
    after a separator or as a hump: ``Key`` after a digit or a lower-case letter), not inside
    a generated run by chance (``…DpWDvo…``: hypothesis finds such keys)."""
    if values.named(value) and any(_written_as_word(w.group()) for w in _KEYWORDS.finditer(value)):
        return True  # (no digit inside a piece: anywhere in it)
    if not values.named_in_words(value):
        return False
    for w in _KEYWORDS.finditer(value):
        i = w.start()
        if i == 0 or not value[i - 1].isalnum():
            return True
        if value[i].isupper() and (not value[i - 1].isupper() or value[i + 1 : i + 2].islower()):
            return True  # a hump: ``PrivateKey``, ``X509Credential``, ``ECKey``
    return False


def _not_assigned(text: str, m: re.Match[str], key: str) -> bool:
    """The match joins what code writes side by side, not a key and its value (issue 23, eighth
    round): strings in a list (``'CKFetchWebAuthTokenOperation', 'CKLocationSortDescriptor'``,
    ``NAME ( 'passwordMin8bit' 'pwdMin8bit' )``) where a call's name then its value
    (``define('FOO_KEY', '…')``), a pair (``["API_KEY", "…"]``) or a row (a CSV line) would
    be one; a key that is a piece of a string (``"/v1/messages/count_tokens", "…"``); a URL
    after its scheme (``credential.https://host.helper=store``); a method of a credential
    object whose argument is written by hand (``credentials.with_quota_project('p-123')``);
    a quoted name, then a space, then anything (``'RADIUS:Password' X-NDS_NAME``)."""
    start, value_start = m.start(1), m.start(2)
    separator = text[m.end(1) : value_start]
    quote = separator[:1]
    if quote in ("'", '"') and separator[1:].strip(" \t\"'`") == "":
        return True  # a quoted name, then white space: a sequence of strings
    if quote in ("'", '"') and "," in separator:  # a string, then another
        if start == 0 or text[start - 1] != quote:
            return True  # the key is a piece of the first string
        before = text[: start - 1].rstrip(" \t")[-1:]
        if before == "(" or before in ("", "\n"):
            return False  # a call's arguments, or a row
        close = _VALUE_QUOTE_END.match(text, m.end(2))
        return not (before in "[{" and close is not None)  # a pair: [key, value]
    if separator == ":" and text.startswith("//", value_start):
        return True  # a URL after its scheme, which the key ends with
    if separator.startswith("(") and "." in key:
        ends = [w.end() for w in _KEYWORDS.finditer(key)]
        member = key[ends[-1] :].lstrip("sS") if ends else ""
        return member.startswith(".") and values.hand_written(values.trim_prose(m.group(2)))
    return False


# A value's closing quote, then the bracket that closes a pair (``["API_KEY", "…"]``).
_VALUE_QUOTE_END: Final = LazyPattern(r"[\"'`][ \t]{0,3}[\]})]")


# What ends a run of value characters (``_VALUE_CHAR``, its '&' counted as an end).
_VALUE_ENDS: Final = " \t\n\r\f\v\"'`,;)}]<>&"
_VALUE_RUN: Final = LazyPattern(r"(?:" + _VALUE_CHAR + r"){0,300}")
_VALUE_ESCAPES: Final = LazyPattern(_VALUE_ESCAPE)


def _in_resource_name(text: str, start: int) -> bool:
    """The run of value characters that holds ``start`` (a value's, cut where the next key
    starts, ``_keyword_in_windows``) is a resource name whose pieces are written by hand
    (``values.is_resource_name``): ``arn:aws:secretsmanager:…:secret:prod/db-a1B2c3`` holds
    the key ``secret:``, a piece of the name, as its first part is one."""
    lo = max([text.rfind(c, max(0, start - 300), start) for c in _VALUE_ENDS]) + 1
    if "\\" in text[lo:start]:  # an escape sequence ends a run too (``x\narn:aws:…``)
        for m in _VALUE_ESCAPES.finditer(text, lo, start):
            lo = m.end()
    run = _VALUE_RUN.match(text, lo)
    if run is None or ":" not in run.group():
        return False  # a resource name that holds a key has a scheme (``arn:``, ``vault:``)
    return values.is_resource_name(values.trim_prose(run.group()))


def _ssn(text: str, cls: bytes | None, add: Callable[[str, Severity, int, int, str], None]) -> None:
    """US social security numbers; ``cls`` is the digit class string of an ASCII ``text``."""
    if "-" not in text:
        return
    spans = (
        m.span() for m in (_SSN_CLASS.finditer(cls) if cls is not None else _SSN.finditer(text))
    )
    for s, e in spans:
        if (s and (text[s - 1].isdigit() or text[s - 1] == "-")) or (
            e < len(text) and (text[e].isdigit() or text[e] == "-")
        ):
            continue
        area, group, serial = text[s : s + 3], text[s + 4 : s + 6], text[s + 7 : s + 11]
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            continue
        add("pii.us_ssn", H, s, e, "a US social security number")


def lower(text: str) -> str:
    """``text`` lower-cased at the same length (U+0130 is the one character whose lower case is
    two characters long), so that offsets found in it are offsets in ``text``."""
    if text.isascii():
        return text.lower()
    return (text.replace("\u0130", "i") if "\u0130" in text else text).lower()


def scan(text: str) -> list[Finding]:
    """Findings for secrets and personal data in ``text``, disguised ones included: split by
    invisible characters, base64/hex-encoded, reversed, cut into quoted pieces or spaced out
    (``_disguised``). A disguised secret is reported on the span of its disguise."""
    if gate.clear(text, gate.SECRETS):  # no first test passes: nothing to find (proved)
        return []
    return _scan(text)


def _scan(text: str) -> list[Finding]:
    """``scan`` without the gate (the reference the tests compare the gate against): the text
    as written and, when it holds escape sequences, as they read (``_levels``: a key after a
    literal ``\\n`` is the key, a value ends before one; a string escaped twice, twice). A
    finding of any reading counts; where two overlap, the higher severity wins, then the
    deeper reading (its span holds no ``\\n`` of the next line)."""
    written = _read(text)
    levels = _levels(text)
    if not levels:
        return written
    readings: list[list[Finding]] = []  # per level
    chain: list[_Marks] = []  # level k's marks map its view to level k - 1 (the text at 0)
    for depth, view in enumerate(levels):
        read = _read(view)
        if not read:
            continue
        while len(chain) <= depth:  # (only where a view has findings to map back)
            unescaping = _unescaping(levels[len(chain) - 1] if chain else text)
            if unescaping is None:  # not expected: the same reading (a differential test)
                return written
            chain.append(unescaping[1])
        level = []
        for f in read:
            start, end = f.start, f.end
            for marks in reversed(chain[: depth + 1]):
                start, end = marks.at(start), marks.at(end)
            level.append(Finding(f.rule, f.severity, start, end, f.message))
        readings.append(level)
    findings: list[Finding] = []
    deepest_first = [f for level in reversed(readings) for f in level] + written
    for f in sorted(deepest_first, key=lambda f: -RANK[f.severity]):  # (stable)
        if len(findings) < _MAX_FINDINGS and all(
            f.end <= g.start or g.end <= f.start for g in findings
        ):
            findings.append(f)
    findings.sort(key=lambda f: f.start)
    return findings


def _read(text: str) -> list[Finding]:
    """The findings in ``text`` as written: plain, then disguised."""
    findings = _scan_plain(text)
    findings.extend(_disguised(text, findings))
    return findings


# A run of letters and digits as long as a generated id or key (a card has 19 digits at most).
_DIGEST_RUN: Final = 24


def _alnum_run(text: str, start: int, end: int) -> int:
    """The length of the run of letters and digits around ``text[start:end]``, up to
    ``_DIGEST_RUN`` characters each side (``end - start`` when neither neighbour is one)."""
    lo = start
    while lo > max(0, start - _DIGEST_RUN) and text[lo - 1].isalnum():
        lo -= 1
    hi = end
    while hi < min(len(text), end + _DIGEST_RUN) and text[hi].isalnum():
        hi += 1
    return hi - lo


def _scan_plain(text: str) -> list[Finding]:
    """Findings for secrets and personal data in ``text`` as it is."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []
    text = _continued(text)  # shell line continuations as spaces: same length, offsets hold

    def add(rule: str, severity: Severity, start: int, end: int, message: str) -> None:
        if len(findings) >= _MAX_FINDINGS:
            return
        for s, e in taken:
            if start < e and s < end:
                return
        taken.append((start, end))
        findings.append(Finding(rule, severity, start, end, message))

    # Built with comprehensions: a page has thousands of runs, and a loop of appends costs more
    # than the regex that finds them.
    cls = runs.classes(text, _CANDIDATE_CLASS)
    if _CANDIDATE_RUN.search(cls) is not None:
        spans = runs.runs(cls, "a", 16)
        offsets = [s for s, _e in spans]
        chunks = [text[s:e] for s, e in spans]
        starts = list(accumulate((len(c) + 1 for c in chunks), initial=0))[:-1]
        cand = "\n".join(chunks)
    else:  # no run at all (most short strings): nothing to map back
        offsets = starts = []
        cand = ""

    def back(j: int) -> int:
        i = bisect.bisect_right(starts, j) - 1
        return offsets[i] + (j - starts[i])

    low_head = lower(text)
    # Every whole-text check asks ``on`` first (``_TEXT_GATES``: what the detector gate reads).
    on = _text_gates(low_head).__contains__

    if on("private key") and "PRIVATE KEY" in text:
        for m in _PRIVATE_KEY.finditer(text):
            body = m.group(1)
            if (
                _is_key_body(body)
                if body is not None
                else _KEY_BODY.match(text, m.end()) is not None
            ):
                add("secret.private_key", C, m.start(), m.end(), "a private key block")
            else:
                add("secret.private_key", M, m.start(), m.end(), "a private-key marker, no key")
    present = _shapes_present(cand)
    # In provider order (an earlier provider's span wins an overlap): the whole-text ones whose
    # context word occurs, and the others all, none when there are no candidate runs, or
    # those the RE2 set saw.
    gated = _gated_here(on)
    order = (
        _NO_GATE_ORDER
        if gated is _NO_GATE and not cand
        else sorted(
            gated.union(_UNGATED if cand else ())
            if present is None
            else gated.union([_UNGATED[k] for k in present if k < _IBAN_AT])
        )
    )
    for index in order:
        rule, name, severity, _rx, fast, left, gate, literal, min_entropy = _SHAPES[index]
        if left == "ds":  # judged by detect-secrets' format alone, on the whole text
            if literal is not None and literal not in text:
                continue
            for m in fast.finditer(text):
                # (filler is no key: "AP0AP0AP0AP" has the shape; "AKCxxxxxxxxxx", one character
                # repeated, is the plugin's own positive and still blocks)
                token = m.group(1)
                if _ds_left(text, m.start(1)) and not (
                    _reads_as_words(token) or _filler_tail(token)
                ):
                    add(rule, severity, m.start(1), m.end(1), f"a {name} credential")
            continue
        if gate is not None:
            if not on(gate):
                continue
            matches = [(m.group(1), m.start(1), m.end(1)) for m in fast.finditer(text)]
        else:
            if literal is not None and literal not in cand:
                continue
            found = _bounded(fast, cand) if left == "word" else fast.finditer(cand)
            matches = [
                (m.group(1), back(m.start(1)), back(m.start(1)) + len(m.group(1))) for m in found
            ]
        for value, start, end in matches:
            if (
                is_placeholder(value)
                or shannon_entropy(value) < min_entropy
                or _is_identifier(value)
            ):
                continue
            add(rule, severity, start, end, f"a {name} credential")
    if on("kind") and on("secret") and on("data:"):
        for rx in _K8S_SECRETS:
            for m in rx.finditer(low_head):
                value = text[m.start(1) : m.end(1)].strip("\"'")
                if is_placeholder(value) or not _strong(value):
                    continue
                add("secret.k8s_secret", H, m.start(1), m.end(1), "a value in a Kubernetes Secret")
    if on("eyj") and "eyJ" in text:
        for m in _JWT.finditer(text):
            header = _b64json(m.group(1))
            if isinstance(header, dict) and ("alg" in header or "typ" in header):
                add("secret.jwt", H, m.start(), m.end(), "a JSON Web Token")
    if on("://") and on("@"):
        for m in _URL_PASSWORD.finditer(cand) if present is None or _URL_AT in present else ():
            user, password = m.group(1), m.group(2)
            if _not_a_password(user, password, cand[m.end(2) + 1 : m.end()]):
                continue
            start = back(m.start(2))
            add("secret.url_password", H, start, start + len(password), "a password inside a URL")
    if on("dsn") and on("@"):
        for m in _DSN_USERINFO.finditer(text):
            if _not_a_password(m.group(1), m.group(2), m.group(3)):
                continue
            add("secret.url_password", H, m.start(2), m.end(2), "a password in a data source name")
    if on("auth"):
        for m in _near(_AUTH_HEADER, text, low_head, _AUTH_GATES, 16, 2048):
            value = m.group(1)
            if m.start() and text[m.start() - 1].isalnum():
                continue  # inside a name ("startAuthorization"), not a header
            if (
                is_placeholder(value)
                or not _strong(value)
                or values.is_reference(value, text[m.end(1) : m.end(1) + 1])
                or _a_word(value)
            ):
                continue
            add("secret.auth_header", H, m.start(1), m.end(1), "a credential in an auth header")
    if on("curl") and "curl" in text:
        for m in _CURL_USER.finditer(text):
            user, password = m.group(1), m.group(2)
            if is_placeholder(password) or is_placeholder(user) or password == user:
                continue
            if not _strong(password) and len(password) < 8:
                continue
            add("secret.auth_header", H, m.start(2), m.end(2), "a password in a curl command")
    stems = (
        _keyword_spans(low_head, on("pat"))
        if on("keyword")
        else _pat_spans(low_head, _KEYWORD_BACK, _KEYWORD_AHEAD)
        if on("pat")
        else []
    ) + (_weak_spans(text, low_head) if on("weak key") else [])
    parts = (
        _spans(low_head, _PARTS_NOT_STEMS, _KEYWORD_BACK, _KEYWORD_AHEAD, _KEY_TAIL)
        if on("provider part")
        else []
    )
    near_parts = _merged(stems + parts)
    near_keys = _merged(stems) if parts else near_parts
    provider_keys = (
        _provider_in_windows(_escapes_as_written(text, low_head), near_parts) if near_parts else []
    )
    for m in provider_keys:
        if m.start() and low_head[m.start() - 1] in _ALNUM:
            continue
        key = text[m.start(1) : m.end(1)]
        if (
            not _CREDENTIAL_PART.search(key)
            or _NOT_SECRET_SUFFIX.search(key)
            or _NOT_CREDENTIAL_TOKEN.search(key)
            or _PUBLIC.search(key)
            or (value := _provider_value(text, m)) is None
        ):
            continue
        rule_id, name = next((r, n) for r, n, rx in _PROVIDER_NAMES if rx.match(key))
        start = m.start(2)
        add(rule_id, H, start, start + len(value), f"a {name} credential in a key named for it")
    for m in _bare_matches(_escapes_as_written(text, low_head)) if on("provider alone") else ():
        if len(findings) >= _MAX_FINDINGS:
            break
        # (the provider's format first: it refuses most values, and costs least)
        start, key = m.start(2), text[m.start(1) : m.end(1)]
        named = _bare_value(text, key, values.trim_prose(text[start : m.end(2)]), start)
        if named is not None and (value := _provider_value(text, m)) is not None:
            add(named[0], H, start, start + len(value), f"a {named[1]} credential under its name")
    # (A refused value hides no key glued to it: ``_keyword_in_windows`` cuts values there.)
    for start, end in _keyword_in_windows(text, near_keys, _assigned_secret) if near_keys else ():
        add("secret.assignment", H, start, end, "a secret assigned to a credential key")
    ascii_text = text.isascii()
    digits_cls = (
        text.encode("ascii").translate(_DIGIT_CLASS)
        if ascii_text and (on("card") or on("ssn"))
        else b""
    )
    # A card has 13 digits at least: one count settles most short texts.
    card_spans = (
        []
        if not on("card") or (ascii_text and digits_cls.count(b"d") < 13)
        else _card_class_spans(digits_cls)
        if ascii_text
        else [m.span() for m in _CARD.finditer(text)]
    )
    for s, e in card_spans:
        # (inside a run of letters and digits as long as a digest or a key, it is not a card
        # number; one letter beside it is not such a run: "x4111…" is a card)
        if (s and text[s - 1] in ".-") or (e < len(text) and text[e].isdigit()):
            continue
        if _alnum_run(text, s, e) >= _DIGEST_RUN:
            continue
        digits = text[s:e].replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and _card_issuer(digits) and _luhn(digits):
            add("pii.card_number", H, s, e, "a payment card number")
    if on("ssn"):
        _ssn(text, digits_cls if ascii_text else None, add)
    for m in _IBAN.finditer(cand) if cand and (present is None or _IBAN_AT in present) else ():
        if _iban_ok(m.group(1)):
            start = back(m.start(1))
            add("pii.iban", L, start, start + len(m.group(1)), "an IBAN")
    for m in (
        _ENTROPY_TOKEN.finditer(cand)
        if cand and (present is None or _ENTROPY_AT in present)
        else ()
    ):
        value = m.group(1)
        if (
            len(set(value)) >= _ENTROPY_SYMBOLS
            and shannon_entropy(value) >= 4.5
            and _strong(value)
            and not is_placeholder(value)
        ):
            start = back(m.start(1))
            add("secret.high_entropy", M, start, start + len(value), "a long random-looking token")
    if len(findings) > 1:
        findings.sort(key=lambda f: f.start)
    return findings


# -- disguised secrets ------------------------------------------------------------------------
# What an agent can be talked into writing so that a scanner misses it, undone here; each view
# is scanned as plain text and only findings at HIGH or above count (a disguised random string
# is not evidence). Cheap tests first: most texts have none of these forms.
_B64_RUN_CHARS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-="
_B64_RUN_CLASS: Final = runs.table(_B64_RUN_CHARS)
_HEXISH: Final = LazyPattern(r"(?:[0-9a-f]{2})+|(?:[0-9A-F]{2})+")
_C = r"[A-Za-z0-9_+/=-]"  # a character of a spaced-out token
# The spaced-out shapes: groups of ``k`` characters, at least ``n`` of them then a last one.
_SPACED_GROUPS: Final = ((1, 8), (2, 6), (3, 5), (4, 4))
_QUOTED_PIECES: Final = LazyPattern(
    r"""["'][A-Za-z0-9_+/=.:-]{2,80}["'](?:[ \t]{0,3}[+.]?[ \t]{0,3}["'][A-Za-z0-9_+/=.:-]{1,80}"""
    r"""["']){1,16}"""
)
_PIECE: Final = LazyPattern(r"""["']([^"']*)["']""")
# Spaced out: groups of one length (1 to 4 characters) between single spaces or tabs.
# (ASCII white space around it, as the RE2 probe reads it: ``\s`` differs between the two.)
_SPACED: Final = LazyPattern(
    "|".join(
        rf"(?<![^ \t\n\r\f])(?:{_C}{{{k}}}[ \t]){{{n},{200 // k}}}{_C}{{1,{k}}}(?![^ \t\n\r\f])"
        for k, n in _SPACED_GROUPS
    )
)
_QUOTED_PROBE: Final = r"[\"'][A-Za-z0-9_+/=.:-]{2,80}[\"'][ \t]{0,3}[+.]?[ \t]{0,3}[\"']"
_SPACED_PROBE: Final = "|".join(
    rf"[ \t\n\r\f](?:{_C}{{{k}}}[ \t]){{{n}}}" for k, n in _SPACED_GROUPS
)
# The reversed prefixes of the providers people paste most (a reversed token ends with one).
_REVERSED: Final = tuple(
    p[::-1]
    for p in (
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "sk_live_",
        "sk_test_",
        "rk_live_",
        "sk-proj-",
        "sk-ant-",
        "sk-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xapp-",
        "AKIA",
        "ASIA",
        "AIza",
        "npm_",
        "hf_",
        "pypi-",
        "SG.",
        "shpat_",
        "dop_v1_",
        "glsa_",
        "sq0atp-",
        "EAAC",
    )
)
_MIN_DISGUISED: Final = 16
_B64_RUN: Final = re.compile(b"a" * _MIN_DISGUISED)  # a run to decode or reverse (as above)
# A cheap exact test before the spaced-out search (``tests/detectors/test_secret_prechecks.py``
# proves it necessary for a match). A match of ``k``-character groups has ``n`` separators or
# more (a space or tab), each between two of its characters: in the class bytes below (``a``
# a character of ``_C``, ``s`` a space or tab) ``n`` triples ``asa``, disjoint for ``k`` > 1
# and every other one disjoint for ``k`` = 1 (``n`` = 8); ``bytes.count`` counts the most
# disjoint ones there are. Four or more are needed; most prose has them, most short strings not.
_SPACED_TABLE: Final = (
    bytes(
        0x61 if re.fullmatch(_C, chr(i)) else 0x73 if chr(i) in " \t" else 0x78 for i in range(128)
    )
    + b"x" * 128
)
_SPACED_TRIPLES: Final = min(n if k > 1 else n // 2 for k, n in _SPACED_GROUPS)


# Longer texts (prose, pages) nearly always have the triples: the test would only add work.
_SPACED_TEST_MAX: Final = 256


def _may_be_spaced(text: str) -> bool:
    """False when ``_SPACED`` cannot match in ``text``: fewer disjoint triples than it needs
    (True, untested, for a text longer than ``_SPACED_TEST_MAX``)."""
    if len(text) > _SPACED_TEST_MAX:
        return True
    if text.count(" ") + text.count("\t") < _SPACED_TRIPLES:
        return False
    return runs.classes(text, _SPACED_TABLE).count(b"asa") >= _SPACED_TRIPLES


# Texts up to these lengths are searched for the disguise shapes by ``re`` alone (measured:
# below them one RE2 call costs more than ``re`` trying every offset).
_SPACED_SHORT: Final = 40
_QUOTED_SHORT: Final = 256


@cache
def _probe(pattern: str) -> multi.Search:
    return multi.Search(pattern)


def _proposed(
    rx: Pattern, probe: str, text: str, skip: int, short: int = 0
) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)``, with RE2 proposing where a match may start on ASCII text (one
    DFA pass instead of ``re`` trying every offset): a match of ``rx`` starts ``skip``
    characters after a match of ``probe`` (or at the very start of the text). A text of at
    most ``short`` characters is searched by ``re`` alone: a call into RE2 costs more there."""
    search = _probe(probe) if len(text) > short else None
    if search is None or not search.available:
        yield from rx.finditer(text)
        return
    # Both patterns are ASCII classes: a non-ASCII character, '?' in the view, is in none.
    view = text.encode("ascii", "replace")
    m = rx.match(text, 0)
    pos = 0
    if m is not None:
        yield m
        pos = m.end()
    pos = search.start(view, pos)
    while pos >= 0:
        m = rx.match(text, pos + skip)
        if m is None:
            pos = search.start(view, pos + 1)
            continue
        yield m
        pos = search.start(view, max(m.end() - skip, pos + 1))


def _disguised(text: str, found: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    taken = [(f.start, f.end) for f in found if f.severity in (H, C)]

    def report(view: str, start: int, end: int, how: str, spans: list[int] | None = None) -> None:
        for f in _scan_plain(view):  # every view is at most as long as the text: linear
            if f.severity not in (H, C):
                continue
            s, e = (spans[f.start], spans[f.end - 1] + 1) if spans is not None else (start, end)
            if any(s < te and ts < e for ts, te in taken) or len(out) >= _MAX_FINDINGS:
                continue
            taken.append((s, e))
            out.append(Finding(f.rule, f.severity, s, e, f"{f.message} ({how})"))

    stripped = normalise.strip_ignorables(text)
    if stripped is not None:  # split by zero-width or other invisible characters
        report(stripped[0], 0, len(text), "split by invisible characters", stripped[1])
    if len(text) < _MIN_DISGUISED:  # every other view is a run or a join of 16 or more
        return out
    b64 = runs.classes(text, _B64_RUN_CLASS)
    for start, end in runs.runs(b64, "a", _MIN_DISGUISED) if _B64_RUN.search(b64) else ():
        blob = text[start:end]
        if blob.endswith(_REVERSED):
            report(blob[::-1], start, end, "written backwards")
        decoded = _decode(blob)
        if decoded is not None:
            report(decoded, start, end, "encoded")
    if "'" in text or '"' in text:
        for m in _proposed(_QUOTED_PIECES, _QUOTED_PROBE, text, 0, _QUOTED_SHORT):
            joined = "".join(_PIECE.findall(m.group()))
            if len(joined) >= _MIN_DISGUISED:
                report(joined, m.start(), m.end(), "cut into quoted pieces")
    for m in (
        _proposed(_SPACED, _SPACED_PROBE, text, 1, _SPACED_SHORT) if _may_be_spaced(text) else ()
    ):
        joined = "".join(m.group().split())
        if len(joined) >= _MIN_DISGUISED and not (joined.isalpha() and joined.islower()):
            report(joined, m.start(), m.end(), "spaced out")
    return out


def _decode(blob: str) -> str | None:
    """A base64 or hex blob's text when it decodes to printable ASCII, else None."""
    raw: bytes | None = None
    body = blob.rstrip("=")
    if len(body) % 2 == 0 and _HEXISH.fullmatch(body):
        raw = bytes.fromhex(body)
    elif len(body) % 4 != 1:
        padded = body.replace("-", "+").replace("_", "/")
        try:
            raw = base64.b64decode(padded + "=" * (-len(padded) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
    if raw is None or len(raw) < 8 or not raw.isascii():
        return None
    decoded = raw.decode("ascii")
    return decoded if decoded.replace("\n", " ").replace("\t", " ").isprintable() else None
