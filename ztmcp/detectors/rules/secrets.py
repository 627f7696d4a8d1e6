"""The provider credential shapes of ``ztmcp.detectors.secrets``, as data.

One ``Rule`` per shape: the rule id (several shapes may share one), the provider named in the
finding, the pattern (the secret is its group 1), the severity, and what lets the engine skip
the shape cheaply, attached to it:

- ``required``: a literal every match contains; the shape runs only where it occurs (for the
  detect-secrets shapes, which start with ``DS``: their literal prefix);
- ``context``: a word the text must contain; the shape then runs on the whole text (it needs
  the words around the token), not only on the candidate token runs;
- ``min_entropy``: shapes that also fit low-variety filler demand this much (as gitleaks does).

The engine (``ztmcp.detectors.secrets``) compiles them; order matters: an earlier shape's span
wins an overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ztmcp.severity import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    rule: str
    provider: str
    pattern: str
    severity: Severity
    required: str | None = None
    context: str | None = None
    min_entropy: float = 0.0


H, M, L, C = Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.CRITICAL

B: Final = r"(?<![A-Za-z0-9_])"  # left token boundary
E: Final = r"(?![A-Za-z0-9_])"  # right token boundary
ED: Final = r"(?![A-Za-z0-9_-])"  # right boundary for tokens that may contain '-'
# detect-secrets' left boundary (its Artifactory plugin): white space, '=', ':', '"' or the start
# of a line. Checked by hand on the original text, like ``B`` (see ``secrets._shape``).
DS: Final = r"(?:(?<=[\s=:\"])|^)"


_UUID_RX: Final = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _cased(word: str) -> tuple[str, ...]:
    """``word`` as written in lower case, capitalised and upper case: a literal prefix per form
    lets ``re`` skip to its occurrences (a case-insensitive start is tried at every offset)."""
    return tuple(dict.fromkeys((word, word.capitalize(), word.upper())))


# Providers named in a credential key (gitleaks' "semi-generic" rules: ``<provider>_key``,
# ``<provider>_secret``, ``<provider>Token``): a random value, or a UUID (Heroku, HubSpot, KuCoin,
# MessageBird, Sendbird, Snyk and Squarespace keys are UUIDs), assigned to a key that names one
# of them is that provider's credential. (rule id, provider, the name as a case-insensitive
# regex.) Searched only near a credential word (key, secret, token, pass …).
KEY_PROVIDERS: Final[tuple[tuple[str, str, str], ...]] = (
    ("secret.heroku_key", "Heroku", "heroku"),
    ("secret.hubspot_key", "HubSpot", "hubspot"),
    ("secret.kucoin_key", "KuCoin", "kucoin"),
    ("secret.messagebird_key", "MessageBird", "message[_-]?bird"),
    ("secret.sendbird_key", "Sendbird", "sendbird"),
    ("secret.snyk_token", "Snyk", "snyk"),
    ("secret.squarespace_token", "Squarespace", "squarespace"),
    ("secret.provider_key", "Adafruit", "adafruit"),
    ("secret.provider_key", "Adobe", "adobe"),
    ("secret.provider_key", "Airtable", "airtable"),
    ("secret.provider_key", "Algolia", "algolia"),
    ("secret.provider_key", "Alibaba Cloud", "alibaba"),
    ("secret.provider_key", "Asana", "asana"),
    ("secret.provider_key", "Atlassian", "atlassian|confluence|jira"),
    ("secret.provider_key", "Beamer", "beamer"),
    ("secret.provider_key", "Bitbucket", "bitbucket"),
    ("secret.provider_key", "Bittrex", "bittrex"),
    ("secret.provider_key", "Cloudflare", "cloudflare"),
    ("secret.provider_key", "Codecov", "codecov"),
    ("secret.provider_key", "Cohere", "cohere|co_api"),
    ("secret.provider_key", "Coinbase", "coinbase"),
    ("secret.provider_key", "Confluent", "confluent"),
    ("secret.provider_key", "Contentful", "contentful"),
    ("secret.provider_key", "Datadog", "datadog|dd_api|dd_app"),
    ("secret.provider_key", "Discord", "discord"),
    ("secret.provider_key", "Drone CI", "droneci|drone"),
    ("secret.provider_key", "Dropbox", "dropbox"),
    ("secret.provider_key", "Etsy", "etsy"),
    ("secret.provider_key", "Facebook", "facebook|fb_app"),
    ("secret.provider_key", "Fastly", "fastly"),
    ("secret.provider_key", "Finicity", "finicity"),
    ("secret.provider_key", "Finnhub", "finnhub"),
    ("secret.provider_key", "Flickr", "flickr"),
    ("secret.provider_key", "FreshBooks", "freshbooks"),
    ("secret.provider_key", "Gitter", "gitter"),
    ("secret.provider_key", "GoCardless", "gocardless"),
    ("secret.provider_key", "Intercom", "intercom"),
    ("secret.provider_key", "JFrog", "jfrog|artifactory|bintray|xray"),
    ("secret.provider_key", "Kraken", "kraken"),
    ("secret.provider_key", "LaunchDarkly", "launchdarkly"),
    ("secret.provider_key", "Linear", "linear"),
    ("secret.provider_key", "LinkedIn", "linked[_-]?in"),
    ("secret.provider_key", "Looker", "looker"),
    ("secret.provider_key", "Mailchimp", "mailchimp"),
    ("secret.provider_key", "Mailgun", "mailgun"),
    ("secret.provider_key", "Mapbox", "mapbox"),
    ("secret.provider_key", "Mattermost", "mattermost"),
    ("secret.provider_key", "Cisco Meraki", "meraki"),
    ("secret.provider_key", "Netlify", "netlify"),
    ("secret.provider_key", "New Relic", "new[_-]?relic"),
    ("secret.provider_key", "New York Times", "nytimes|newyorktimes"),
    ("secret.provider_key", "Okta", "okta"),
    ("secret.provider_key", "Plaid", "plaid"),
    ("secret.provider_key", "Private AI", "private[_-]?ai"),
    ("secret.provider_key", "RapidAPI", "rapidapi"),
    ("secret.provider_key", "Sentry", "sentry"),
    ("secret.provider_key", "SonarQube", "sonar"),
    ("secret.provider_key", "Sumo Logic", "sumo"),
    ("secret.provider_key", "Telegram", "telegr"),
    ("secret.provider_key", "Travis CI", "travis"),
    ("secret.provider_key", "Trello", "trello"),
    ("secret.provider_key", "Twitch", "twitch"),
    ("secret.provider_key", "Twitter", "twitter"),
    ("secret.provider_key", "Typeform", "typeform"),
    ("secret.provider_key", "Yandex", "yandex"),
    ("secret.provider_key", "Zendesk", "zendesk"),
)


@dataclass(frozen=True, slots=True)
class Format:
    """A provider's credential value as its rule set writes it: ``pattern``, read
    case-insensitively (as gitleaks' ``(?i)`` rules read theirs), the whole value; ``hex``
    when its alphabet is hex digits alone (a digest's: ``secrets`` takes a hex value under a
    provider's name only for such a format)."""

    pattern: str
    hex: bool = False


def _chars(chars: str, low: int, high: int | None = None) -> Format:
    return Format(f"[{chars}]{{{low}}}" if high is None else f"[{chars}]{{{low},{high}}}")


def _hex(n: int) -> Format:
    return Format(f"[a-f0-9]{{{n}}}", hex=True)


_AN: Final = "a-z0-9"  # gitleaks' ``[a-z0-9]``, read case-insensitively
_AN_: Final = "a-z0-9_-"
_AN_EQ: Final = "a-z0-9=_-"
UUID: Final = Format(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Bare:
    """A provider's credential under a key that is the provider's name alone (``adafruit:``,
    ``"twitch": "…"``, ``DATADOG=``: gitleaks' semi-generic rules want the name in the key and
    no credential word). ``name`` is the provider as ``KEY_PROVIDERS`` names it (its rule id
    and finding), ``key`` the whole key as a case-insensitive regex, ``formats`` the values
    its rules take (gitleaks' ``config/gitleaks.toml``: the secret group's alphabet and
    length); none known: ``GENERATED``."""

    name: str
    key: str
    formats: tuple[Format, ...] = ()


# A provider's value where its format is not known: a generated token of 16 characters or
# more, letters and digits both (a version has dots, a word no digit, a digest is hex: the
# engine takes hex only for a hex format).
GENERATED: Final = Format(r"(?=[^0-9]*[0-9])(?=[^a-z]*[a-z])[a-z0-9_+/=-]{16,300}")

# Providers whose name alone, as a key, names their credential. A name that is a word or
# another product as often is in only with a format (``linear``, ``plaid``, ``kraken``,
# ``looker``); left out: names with none (``drone``, ``sumo``, ``xray``, ``beamer``, ``jira``,
# ``confluence``, ``okta``), and digits-only formats (Asana's client id: an Asana object id
# too; ``secrets`` takes no value of digits alone here).
BARE_PROVIDERS: Final[tuple[Bare, ...]] = (
    Bare("Heroku", "heroku", (UUID,)),
    Bare("HubSpot", "hubspot", (UUID,)),
    Bare("KuCoin", "kucoin", (_hex(24), UUID)),
    Bare("MessageBird", "message[_-]?bird", (_chars(_AN, 25),)),
    Bare("Sendbird", "sendbird", (UUID, _hex(40))),
    Bare("Snyk", "snyk", (UUID,)),
    Bare("Squarespace", "squarespace", (UUID,)),
    Bare("Adafruit", "adafruit", (_chars(_AN_, 32),)),
    Bare("Adobe", "adobe", (_hex(32),)),
    Bare("Airtable", "airtable", (_chars(_AN, 17),)),
    Bare("Algolia", "algolia", (_chars(_AN, 32),)),
    Bare("Alibaba Cloud", "alibaba", (_chars(_AN, 30),)),
    Bare("Asana", "asana", (_chars(_AN, 32),)),
    Bare("Atlassian", "atlassian", (_chars(_AN, 24),)),
    Bare("Bitbucket", "bitbucket", (_chars(_AN, 32), _chars(_AN_EQ, 64))),
    Bare("Bittrex", "bittrex", (_chars(_AN, 32),)),
    Bare("Cloudflare", "cloudflare", (_chars(_AN_, 40), _hex(37))),
    Bare("Codecov", "codecov", (_chars(_AN, 32),)),
    Bare("Cohere", "cohere", (_chars(_AN, 40),)),
    Bare("Coinbase", "coinbase", (_chars(_AN_, 64),)),
    Bare("Confluent", "confluent", (_chars(_AN, 16), _chars(_AN, 64))),
    Bare("Contentful", "contentful", (_chars(_AN_EQ, 43),)),
    # gitleaks' ``[a-z0-9]{40}``, and the keys as Datadog issues them: hex, 32 characters for
    # an API key, 40 for an application key (a hex value beside a digest's name is refused)
    Bare("Datadog", "datadog", (_chars(_AN, 40), _hex(32), _hex(40))),
    Bare("Discord", "discord", (_hex(64), _chars(_AN_EQ, 32))),
    Bare("Drone CI", "droneci", (_chars(_AN, 32),)),
    Bare("Dropbox", "dropbox", (_chars(_AN, 15), Format(r"[a-z0-9]{11}a{10}[a-z0-9=_-]{43}"))),
    Bare("Etsy", "etsy", (_chars(_AN, 24),)),
    Bare("Facebook", "facebook", (_hex(32),)),
    Bare("Fastly", "fastly", (_chars(_AN_EQ, 32),)),
    Bare("Finicity", "finicity", (_hex(32), _chars(_AN, 20))),
    Bare("Finnhub", "finnhub", (_chars(_AN, 20),)),
    Bare("Flickr", "flickr", (_chars(_AN, 32),)),
    Bare("FreshBooks", "freshbooks", (_chars(_AN, 64),)),
    Bare("Gitter", "gitter", (_chars(_AN_, 40),)),
    Bare("GoCardless", "gocardless", ()),
    Bare("Intercom", "intercom", (_chars(_AN_EQ, 60),)),
    Bare("JFrog", "jfrog|artifactory", (_chars(_AN, 73), _chars(_AN, 64))),
    Bare("Kraken", "kraken", (_chars("a-z0-9/=_+-", 80, 90),)),
    Bare("LaunchDarkly", "launchdarkly", (_chars(_AN_EQ, 40),)),
    Bare("Linear", "linear", (_hex(32),)),
    Bare("LinkedIn", "linked[_-]?in", (_chars(_AN, 16),)),  # (not its 14-character id: a slug)
    Bare("Looker", "looker", (_chars(_AN, 20), _chars(_AN, 24))),
    Bare("Mailchimp", "mailchimp", ()),
    Bare("Mailgun", "mailgun", ()),
    Bare("Mapbox", "mapbox", ()),
    Bare("Mattermost", "mattermost", (_chars(_AN, 26),)),
    Bare("Cisco Meraki", "meraki", (_hex(40),)),
    Bare("Netlify", "netlify", (_chars(_AN_EQ, 40, 46),)),
    Bare("New Relic", "new[_-]?relic", (_chars(_AN, 64),)),
    Bare("New York Times", "nytimes|newyorktimes", (_chars(_AN_EQ, 32),)),
    Bare("Plaid", "plaid", (_chars(_AN, 24), _chars(_AN, 30))),
    Bare("Private AI", "private[_-]?ai", (_chars(_AN, 32),)),
    Bare("RapidAPI", "rapidapi", (_chars(_AN_, 50),)),
    Bare("Sentry", "sentry", (_hex(64),)),
    Bare("SonarQube", "sonarqube|sonarcloud", ()),
    Bare("Sumo Logic", "sumologic", ()),
    Bare("Telegram", "telegram", (Format(r"[0-9]{5,16}:a[a-z0-9=_-]{34}"),)),
    Bare("Travis CI", "travis|travisci", (_chars(_AN, 22),)),
    Bare("Trello", "trello", (_chars(_AN, 32),)),
    Bare("Twitch", "twitch", (_chars(_AN, 30),)),
    Bare(
        "Twitter",
        "twitter",
        (
            _chars(_AN, 25),
            _chars(_AN, 45),
            _chars(_AN, 50),
            Format(r"[0-9]{15,25}-[a-z0-9]{20,40}"),
        ),
    ),
    Bare("Typeform", "typeform", ()),
    Bare("Yandex", "yandex", ()),
    Bare("Zendesk", "zendesk", (_chars(_AN, 40),)),
)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "secret.aws_access_key_id",
        "AWS",
        B + r"((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})" + E,
        H,
    ),
    Rule(
        "secret.aws_bedrock_key",
        "AWS Bedrock",
        B + r"(ABSK[A-Za-z0-9+/]{109,269}={0,2})(?![A-Za-z0-9+/=])",
        H,
    ),
    Rule(
        "secret.aws_bedrock_key",
        "AWS Bedrock",
        r"(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=]{20,1000})",
        H,
    ),
    Rule("secret.github_token", "GitHub", B + r"((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36})" + E, H),
    Rule(
        "secret.github_token",
        "GitHub",
        B + r"(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + E,
        H,
    ),
    Rule("secret.gitlab_token", "GitLab", B + r"(glpat-[A-Za-z0-9_-]{20,50})" + ED, H),
    Rule(
        "secret.gitlab_token",
        "GitLab",
        B + r"(glpat-[A-Za-z0-9_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})" + ED,
        H,
    ),
    Rule("secret.gitlab_token", "GitLab", B + r"(glptt-[0-9a-f]{40})" + ED, H),
    Rule("secret.gitlab_token", "GitLab", B + r"(GR1348941[A-Za-z0-9_-]{20,50})" + ED, H),
    Rule(
        "secret.gitlab_token",
        "GitLab",
        B + r"((?:gldt|glsoat|glrt|glft|glffct)-[A-Za-z0-9_-]{20,50}|glimt-[A-Za-z0-9_-]{25})" + ED,
        H,
    ),
    Rule("secret.gitlab_token", "GitLab", B + r"(glagent-[A-Za-z0-9_-]{50,1024})" + ED, H),
    Rule("secret.gitlab_token", "GitLab", B + r"(gloas-[A-Za-z0-9_-]{64})" + ED, H),
    Rule(
        "secret.slack_token", "Slack", B + r"(xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]{0,60})", H
    ),
    Rule(
        "secret.slack_token",
        "Slack",
        B + r"(xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34})" + ED,
        H,
    ),
    Rule(
        "secret.slack_token", "Slack", B + r"(xapp-\d-[A-Z0-9]{9,15}-\d{10,16}-[a-z0-9]{30,80})", H
    ),
    Rule("secret.slack_token", "Slack", B + r"(xoxe\.xox[bp]-\d-[A-Za-z0-9]{150,180})" + E, H),
    Rule("secret.slack_token", "Slack", B + r"(xoxe-\d-[A-Za-z0-9]{140,160})" + E, H),
    Rule(
        "secret.slack_token",
        "Slack",
        B + r"(xox[os]-\d{5,14}-\d{5,14}-\d{5,14}-[a-fA-F0-9]{16,64})",
        H,
    ),
    Rule(
        "secret.slack_webhook",
        "Slack",
        r"(hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,60})",
        H,
    ),
    Rule(
        "secret.stripe_key",
        "Stripe",
        B + r"((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99})" + E,
        H,
        required="k_",
    ),
    Rule(
        "secret.openai_key",
        "OpenAI",
        B
        + r"(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{10,100}T3BlbkFJ[A-Za-z0-9_-]{10,100})"
        + ED,
        H,
    ),
    Rule(
        "secret.anthropic_key",
        "Anthropic",
        B + r"(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)" + ED,
        H,
    ),
    Rule("secret.huggingface_token", "Hugging Face", B + r"(hf_[A-Za-z]{34})" + E, H),
    Rule("secret.huggingface_token", "Hugging Face", B + r"(api_org_[A-Za-z]{34})" + E, H),
    Rule("secret.npm_token", "npm", B + r"(npm_[A-Za-z0-9]{36})" + E, H),
    # .npmrc: "//registry/:_authToken=…" (legacy tokens are UUIDs, identifiers elsewhere).
    Rule(
        "secret.npmrc_token",
        "npm",
        r"//[^\s/]{1,253}/(?:[^\s:]{0,200}/)?:_authToken=(npm_[A-Za-z0-9]{36}"
        r"|[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12})",
        H,
        required=":_authToken=",
    ),
    Rule("secret.pypi_token", "PyPI", B + r"(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000})", H),
    Rule(
        "secret.discord_token",
        "Discord",
        B + r"([A-Z][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})",
        H,
    ),
    Rule(
        "secret.telegram_token",
        "Telegram",
        B + r"(\d{8,10}:AA[A-Za-z0-9_-]{32,33})" + ED,
        H,
        required=":AA",
    ),
    Rule(
        "secret.mailchimp_key",
        "Mailchimp",
        B + r"([0-9a-f]{32}-us\d{1,2})" + E,
        H,
        required="-us",
        min_entropy=3.0,
    ),
    Rule("secret.atlassian_token", "Atlassian", B + r"(ATATT3[A-Za-z0-9_=-]{150,250})", H),
    Rule(
        "secret.azure_ad_secret",
        "Azure AD",
        r"(?:^|[\\'\"`\s>=:(,)])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:$|[\\'\"`\s<),])",
        H,
        required="Q~",
    ),
    Rule("secret.vault_token", "HashiCorp Vault", B + r"(hvs\.[A-Za-z0-9_-]{90,120})" + ED, H),
    Rule(
        "secret.vault_token",
        "HashiCorp Vault",
        B + r"(s\.(?=[A-Za-z0-9]{0,23}[0-9])(?=[A-Za-z0-9]{0,23}[A-Z])(?=[A-Za-z0-9]{0,23}[a-z])"
        r"[A-Za-z0-9]{24})" + E,
        H,
    ),
    # Private key bodies without their BEGIN line: the DER/openssh-key-v1 header every such
    # body starts with, in base64 (public keys start differently: ``…AAOC``, ``AAAAB3Nza``).
    Rule(
        "secret.private_key",
        "OpenSSH private-key body",
        B + r"(b3BlbnNzaC1rZXktdjEA[A-Za-z0-9+/]{40,})",
        C,
    ),
    Rule(
        "secret.private_key",
        "PKCS#1 RSA private-key body",
        B + r"(MII[A-Za-z0-9+/]{3}IBAAKC[A-Za-z0-9+/]{40,})",
        C,
    ),
    Rule(
        "secret.private_key",
        "PKCS#8 private-key body",
        B + r"(MII[A-Za-z0-9+/]{3}IBADANBgkqhkiG9w0BAQEFAASC[A-Za-z0-9+/]{20,})",
        C,
    ),
    Rule("secret.private_key", "EC private-key body", B + r"(MHcCAQEEI[A-Za-z0-9+/]{40,})", C),
    Rule("secret.age_key", "age", r"(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})", H),
    Rule("secret.onepassword_token", "1Password", B + r"(ops_eyJ[A-Za-z0-9+/]{250,}={0,3})", H),
    Rule(
        "secret.onepassword_key",
        "1Password",
        B + r"(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}"
        r"-[A-Z0-9]{5})" + E,
        H,
    ),
    Rule(
        "secret.clickhouse_key",
        "ClickHouse",
        B + r"(4b1d[A-Za-z0-9]{38})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule(
        "secret.cloudflare_ca_key", "Cloudflare", B + r"(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})" + E, H
    ),
    Rule("secret.facebook_token", "Facebook", B + r"(EAA[MC][A-Za-z0-9]{100,})" + E, H),
    Rule(
        "secret.facebook_token",
        "Facebook",
        r"(?i:facebook)[^\n]{0,40}?" + B + r"(\d{15,16}(?:\||%7C)[A-Za-z0-9_-]{27,40})" + ED,
        H,
        context="facebook",
    ),
    Rule("secret.intra42_secret", "42", B + r"(s-s4t2(?:ud|af)-[a-f0-9]{64})" + E, H),
    Rule(
        "secret.maxmind_key",
        "MaxMind",
        B + r"([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)" + E,
        H,
        required="_mmk",
    ),
    Rule("secret.octopus_key", "Octopus Deploy", B + r"(API-[A-Z0-9]{26})" + E, H, min_entropy=3.0),
    Rule("secret.perplexity_key", "Perplexity", B + r"(pplx-[A-Za-z0-9]{48})" + E, H),
    Rule(
        "secret.sourcegraph_token",
        "Sourcegraph",
        B + r"(sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule(
        "secret.sourcegraph_token",
        "Sourcegraph",
        r"(?i:sourcegraph)[^\n]{0,20}?" + B + r"([a-fA-F0-9]{40})" + E,
        H,
        context="sourcegraph",
        min_entropy=3.0,
    ),
    Rule(
        "secret.sendgrid_key",
        "SendGrid",
        B + r"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + ED,
        H,
    ),
    Rule("secret.twilio_key", "Twilio", B + r"(SK[0-9a-f]{32})" + E, H),
    Rule("secret.shopify_token", "Shopify", B + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + E, H),
    # Doppler's documented token formats ("Auth Token Formats"): CLI, personal, service
    # account (and its identity), SCIM and audit tokens; service tokens may name their config.
    Rule(
        "secret.doppler_token",
        "Doppler",
        B + r"(dp\.(?:ct|pt|sa|said|scim|audit)\.[A-Za-z0-9]{40,44})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule(
        "secret.doppler_token",
        "Doppler",
        B + r"(dp\.st\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.digitalocean_token", "DigitalOcean", B + r"(do[opr]_v1_[a-f0-9]{64})" + E, H),
    # gitleaks matches the refresh token case-insensitively (``DOR_V1_``, upper-case hex).
    Rule(
        "secret.digitalocean_token",
        "DigitalOcean",
        B + r"((?:dor_v1|DOR_V1)_[a-fA-F0-9]{64})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule("secret.linear_key", "Linear", B + r"(lin_api_[A-Za-z0-9]{40})" + E, H),
    Rule("secret.postman_key", "Postman", B + r"(PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34})" + E, H),
    Rule("secret.grafana_token", "Grafana", B + r"(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})" + E, H),
    Rule("secret.grafana_token", "Grafana", B + r"(glc_[A-Za-z0-9+/]{32,400}={0,2})", H),
    # (Firebase's server key holds ":APA91b", which the Artifactory shape below would take.)
    Rule(
        "secret.firebase_key",
        "Firebase Cloud Messaging",
        B + r"(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})" + ED,
        H,
        required=":APA91b",
    ),
    # detect-secrets' Artifactory plugin, as it defines it (no right boundary, no placeholder
    # filter: its own positives are "AKCxxxxxxxxxx", "AP6xxxxxxxxxx"): an API key, and a
    # password or reference token. Matches that read as words or a number are not reported
    # (``_reads_as_words``): "APEventHandler", "APACHECONFIG" have the shape too.
    Rule("secret.artifactory_key", "Artifactory", DS + r"(AKC[A-Za-z0-9]{10,})", H, required="AKC"),
    Rule(
        "secret.artifactory_key",
        "Artifactory",
        DS + r"(AP[0-9A-F][A-Za-z0-9]{8,})",
        H,
        required="AP",
    ),
    Rule("secret.databricks_token", "Databricks", B + r"(dapi[a-f0-9]{32}(?:-\d)?)" + E, H),
    # Further prefix-anchored formats of the gitleaks rule set (exact lengths as documented).
    Rule("secret.airtable_token", "Airtable", B + r"(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})" + E, H),
    Rule("secret.alibaba_key", "Alibaba Cloud", B + r"(LTAI[A-Za-z0-9]{20})" + E, H),
    Rule("secret.clojars_token", "Clojars", B + r"((?:CLOJARS|clojars)_[A-Za-z0-9]{60})" + E, H),
    Rule(
        "secret.defined_networking_key",
        "Defined Networking",
        B + r"(dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52})" + ED,
        H,
    ),
    Rule("secret.duffel_token", "Duffel", B + r"(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})" + ED, H),
    Rule(
        "secret.dynatrace_token",
        "Dynatrace",
        B + r"(dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64})" + E,
        H,
    ),
    Rule("secret.easypost_key", "EasyPost", B + r"(EZ[AT]K[A-Za-z0-9]{54})" + E, H),
    Rule(
        "secret.flutterwave_key",
        "Flutterwave",
        B + r"(FLW(?:PUB|SEC)K_TEST-[a-hA-H0-9]{32}-X)" + E,
        H,
    ),
    Rule("secret.frameio_token", "Frame.io", B + r"(fio-u-[A-Za-z0-9_=-]{64})" + ED, H),
    Rule("secret.flyio_token", "Fly.io", B + r"(fo1_[A-Za-z0-9_-]{43})" + ED, H),
    Rule("secret.flyio_token", "Fly.io", B + r"(fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})", H),
    Rule("secret.heroku_key", "Heroku", B + r"(HRKU-AA[A-Za-z0-9_-]{58})" + ED, H),
    Rule(
        "secret.terraform_token",
        "HashiCorp Terraform",
        B + r"([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})" + ED,
        H,
        required=".atlasv1.",
    ),
    Rule("secret.infracost_token", "Infracost", B + r"(ico-[A-Za-z0-9]{32})" + E, H),
    Rule("secret.newrelic_key", "New Relic", B + r"(NRAK-[A-Z0-9]{27})" + E, H),
    Rule("secret.newrelic_key", "New Relic", B + r"(NRII-[A-Za-z0-9-]{32})" + ED, H),
    Rule("secret.notion_token", "Notion", B + r"(ntn_[0-9]{11}[A-Za-z0-9]{35})" + E, H),
    Rule("secret.openshift_token", "OpenShift", B + r"(sha256~[A-Za-z0-9_-]{43})" + ED, H),
    Rule(
        "secret.planetscale_token",
        "PlanetScale",
        B + r"((?:pscale_(?:tkn|pw|oauth)|PSCALE_(?:TKN|PW|OAUTH))_[A-Za-z0-9_.=-]{32,64})" + ED,
        H,
    ),
    Rule("secret.prefect_token", "Prefect", B + r"(pnu_[A-Za-z0-9]{36})" + E, H),
    Rule("secret.pulumi_token", "Pulumi", B + r"(pul-[a-f0-9]{40})" + E, H),
    Rule("secret.readme_key", "ReadMe", B + r"(rdme_[a-z0-9]{70})" + E, H),
    Rule("secret.rubygems_key", "RubyGems", B + r"(rubygems_[a-f0-9]{48})" + E, H),
    Rule("secret.scalingo_token", "Scalingo", B + r"(tk-us-[A-Za-z0-9_-]{48})" + ED, H),
    Rule("secret.sendinblue_key", "Brevo", B + r"(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})" + E, H),
    Rule("secret.sentry_token", "Sentry", B + r"(sntryu_[a-f0-9]{64})" + E, H),
    Rule("secret.sentry_token", "Sentry", B + r"(sntrys_eyJpYXQiO[A-Za-z0-9+/_=-]{60,400})", H),
    Rule(
        "secret.settlemint_token",
        "SettleMint",
        B + r"(sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})" + E,
        H,
    ),
    Rule("secret.shippo_token", "Shippo", B + r"(shippo_(?:live|test)_[a-fA-F0-9]{40})" + E, H),
    Rule("secret.square_token", "Square", B + r"(sq0(?:atp|csp)-[A-Za-z0-9_-]{22,60})" + ED, H),
    Rule("secret.typeform_token", "Typeform", B + r"(tfp_[A-Za-z0-9_.=-]{59})" + ED, H),
    Rule(
        "secret.azure_storage_key",
        "Azure Storage",
        r"AccountKey=([A-Za-z0-9+/]{86}==)",
        H,
        required="AccountKey=",
    ),
    Rule(
        "secret.pypi_token", "PyPI", B + r"(pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,1000})", H
    ),
    Rule("secret.artifactory_key", "Artifactory", B + r"(cmVmdGtu[A-Za-z0-9]{56})" + E, H),
    Rule("secret.gcp_api_key", "Google", B + r"(AIza[0-9A-Za-z_-]{35})" + ED, M),
    Rule(
        "secret.gcp_service_account",
        "Google",
        # (not an object holding its type alone: ``{"type": "service_account"}`` in prose about
        # a parameter; a key file has its other members after it, a private key among them)
        r"(\"type\"\s{0,3}:\s{0,3}\"service_account\")(?!\s{0,3}\})",
        H,
        context="service_account",
    ),
    # -- round 2 (issue 23): the rest of the prefix-anchored formats of the gitleaks rule set
    # and detect-secrets' plugins, with their documented lengths and alphabets.
    Rule(
        "secret.gitlab_token",
        "GitLab",
        B + r"(glcbt-(?:[0-9a-zA-Z]{1,5}_)?[A-Za-z0-9_-]{20,50})" + ED,
        H,
    ),
    Rule(
        "secret.gitlab_token",
        "GitLab",
        B + r"(glrt-t\d_[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7})" + ED,
        H,
    ),
    Rule(
        "secret.gitlab_token",
        "GitLab",
        r"_gitlab_session=([0-9a-z]{32})" + E,
        H,
        required="_gitlab_session=",
    ),
    Rule(
        "secret.anthropic_key",
        "Anthropic",
        B + r"(sk-ant-(?:oat|ort|sid)\d\d-[A-Za-z0-9_-]{80,120})" + ED,
        H,
    ),
    Rule("secret.adobe_secret", "Adobe", B + r"(p8e-[A-Za-z0-9]{32})" + E, H, min_entropy=3.0),
    Rule("secret.adyen_key", "Adyen", B + r"(AQE[a-z0-9]{5,}\.[A-Za-z0-9_=-]{50,80})" + ED, H),
    Rule(
        "secret.authress_key",
        "Authress",
        B + r"((?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-]"
        r"[A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})",
        H,
    ),
    Rule("secret.artifactory_key", "Artifactory", B + r"(AKCp[A-Za-z0-9]{69})" + E, H),
    Rule("secret.artifactory_key", "Artifactory", B + r"(cmVmd[A-Za-z0-9]{59})" + E, H),
    Rule(
        "secret.braintree_token",
        "Braintree",
        B + r"(access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32})" + E,
        H,
    ),
    Rule(
        "secret.braintree_token",
        "Braintree",
        B + r"(access_token\$(?:production|sandbox)\$[a-z0-9]{16})" + E,
        H,
    ),
    Rule(
        "secret.braintree_token",
        "Braintree",
        B + r"((?:production|sandbox)_[a-z0-9]{8}_[a-z0-9]{16})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule("secret.castai_key", "Cast AI", B + r"(castai_v1_[A-Za-z0-9]{64}_[A-Za-z0-9]{8})" + E, H),
    Rule(
        "secret.chieftools_token",
        "Chief Tools",
        B + r"(ct[por]_(?=[A-Za-z0-9]{0,247}[0-9])[A-Za-z0-9]{30,248})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule(
        "secret.claude_session_url",
        "Claude Code session",
        r"(?i:https?://claude\.ai/code/)(session_[A-Za-z0-9]{16,})" + E,
        H,
    ),
    Rule(
        "secret.dropbox_token",
        "Dropbox",
        B + r"(sl\.[A-Za-z0-9_=-]{130,140})" + ED,
        H,
    ),
    Rule("secret.flutterwave_key", "Flutterwave", B + r"(FLWSECK_TEST-?[a-hA-H0-9]{12})" + E, H),
    Rule(
        "secret.freemius_key",
        "Freemius",
        r"[\"']secret_key[\"']\s{0,5}=>\s{0,5}[\"'](sk_[^\s\"']{29})[\"']",
        H,
        context="secret_key",
    ),
    Rule("secret.grafana_token", "Grafana", B + r"(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})", H),
    Rule("secret.groq_key", "Groq", B + r"(gsk_[A-Za-z0-9]{48})" + E, H),
    Rule(
        "secret.harness_token",
        "Harness",
        B + r"((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})" + E,
        H,
    ),
    Rule(
        "secret.jwt_base64",
        "base64-encoded JWT",
        B + r"(ZXlK(?:hbGciOi|aGJHY2lPaU|0eXAiOi|MGVYQWlPaU|raWQiOi|cmFXUWlP|jdHkiOi|amRIa2lPaU)"
        r"[A-Za-z0-9/_+-]{40,}={0,2})",
        H,
    ),
    Rule(
        "secret.langsmith_key",
        "LangSmith",
        B + r"(lsv2_(?:pt|sk)_[a-z0-9]{32}_[a-z0-9]{10})" + E,
        H,
    ),
    Rule("secret.lob_key", "Lob", B + r"((?:live|test)_[a-f0-9]{35})" + E, H),
    Rule("secret.mailgun_key", "Mailgun", B + r"(key-[a-f0-9]{32})" + E, H, min_entropy=3.0),
    Rule(
        "secret.mailgun_key",
        "Mailgun",
        B + r"([a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule(
        "secret.mapbox_token",
        "Mapbox",
        B + r"((?:pk|sk|tk)\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,})",
        H,
    ),
    Rule("secret.mapbox_token", "Mapbox", B + r"(pk\.[A-Za-z0-9]{60}\.[A-Za-z0-9]{22})" + E, H),
    Rule(
        "secret.teams_webhook",
        "Microsoft Teams",
        r"(https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}"
        r"/IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36}(?:/[A-Za-z0-9_-]{20,})?)",
        H,
        required="webhook.office.com",
    ),
    Rule("secret.newrelic_key", "New Relic", B + r"(NRJS-[a-f0-9]{19})" + E, H),
    Rule("secret.nvidia_key", "NVIDIA", B + r"(nvapi-[A-Za-z0-9_-]{64})" + ED, H),
    Rule("secret.openrouter_key", "OpenRouter", B + r"(sk-or-v1-[a-f0-9]{64})" + E, H),
    Rule(
        "secret.plaid_token",
        "Plaid",
        B + r"(access-(?:sandbox|development|production)-" + _UUID_RX + ")" + E,
        H,
    ),
    Rule(
        "secret.replicate_token",
        "Replicate",
        B + r"(r8_(?=[A-Za-z0-9]{0,36}[0-9])[A-Za-z0-9]{37})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule(
        "secret.slack_token",
        "Slack",
        B + r"(xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule(
        "secret.slack_token",
        "Slack",
        B + r"(xox[ar]-(?:\d-)?[0-9a-zA-Z]{8,48})" + E,
        H,
        min_entropy=3.0,
    ),
    # detect-secrets' Slack shape: numeric groups (five digits or more here), then the key.
    Rule(
        "secret.slack_token",
        "Slack",
        B + r"(xox[abposr]-(?:\d{5,14}-){1,3}[A-Za-z0-9]{10,64})" + E,
        H,
        min_entropy=3.0,
    ),
    Rule(
        "secret.slack_webhook",
        "Slack",
        r"(hooks\.slack\.com/services/T[A-Za-z0-9_]{6,}/B[A-Za-z0-9_]{6,}/[A-Za-z0-9_]{16,})",
        H,
        required="hooks.slack.com/services/T",
    ),
    Rule(
        "secret.square_token", "Square", B + r"(EAAA[A-Za-z0-9_-]{22,60})" + ED, H, min_entropy=3.0
    ),
    Rule("secret.twilio_key", "Twilio", B + r"(SK[0-9a-fA-F]{32})" + E, H, min_entropy=3.0),
    # detect-secrets' Twilio account SID and API key: 32 lower-case letters and digits.
    Rule(
        "secret.twilio_key",
        "Twilio",
        B + r"((?:AC|SK)(?=[a-z0-9]{0,31}[0-9])(?=[a-z0-9]{0,31}[a-z])[a-z0-9]{32})" + E,
        H,
    ),
    Rule("secret.vault_token", "HashiCorp Vault", B + r"(hvb\.[A-Za-z0-9_-]{138,300})" + ED, H),
    Rule("secret.xai_key", "xAI", B + r"(xai-[A-Za-z0-9]{80})" + E, H),
    Rule("secret.yandex_key", "Yandex", B + r"(AQVN[A-Za-z0-9_-]{35,38})" + ED, H),
    Rule(
        "secret.yandex_key",
        "Yandex",
        B + r"(t1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2})",
        H,
    ),
    Rule(
        "secret.azure_storage_key",
        "Azure Storage",
        r"AccountKey=([A-Za-z0-9+/=]{88})",
        H,
        required="AccountKey=",
    ),
    Rule(
        "secret.test_live_key",
        "payment-provider",
        # Adyen client keys, Chargebee and similar ``test_``/``live_`` keys: random (letters of
        # both cases and a digit), not an identifier such as ``test_shouldReturnValue``.
        B + r"((?:test|live)_(?=[A-Za-z0-9]{0,39}[0-9])(?=[A-Za-z0-9]{0,39}[a-z])"
        r"(?=[A-Za-z0-9]{0,39}[A-Z])[A-Za-z0-9]{30,40})" + E,
        H,
        min_entropy=4.3,
    ),
    # detect-secrets' keyword-and-shape plugins (IBM Cloud IAM, IBM COS HMAC, SoftLayer,
    # Cloudant): its optional quotes, dashes and assignment forms.
    *(
        Rule(
            "secret.ibm_cloud_key",
            "IBM Cloud IAM",
            cased + r"(?i:[_-]?(?:cloud|iam)?[_-]?(?:iam)?[_-]?(?:api)?[_-]?"
            r"(?:key|pwd|password|pass|token))[\"']?\]?[ \t]*(?:=|:|:=|=>|::)?[ \t]*[\"']?"
            r"([A-Za-z0-9_-]{44})(?![A-Za-z0-9_-])",
            H,
            context=word,
            min_entropy=3.0,
        )
        for word in ("ibm", "iam", "cloud")
        for cased in _cased(word)
    ),
    *(
        Rule(
            "secret.ibm_cos_hmac",
            "IBM COS HMAC",
            cased
            + r"(?i:[_-]?(?:access)?[_-]?key)[\"']?\]?[ \t]*(?:=|:|:=|=>|::|[ \t]+)[ \t]*[\"']?"
            r"([a-f0-9]{48})(?![A-Za-z0-9])",
            H,
            context="secret",
        )
        for cased in _cased("secret")
    ),
    *(
        Rule(
            "secret.softlayer_key",
            "SoftLayer",
            cased + r"(?i:[_-]?(?:api)?[_-]?(?:key|pwd|password|pass|token))"
            r"[\"']?\]?[ \t]*(?:=|:|:=|=>|::|[ \t]+)[ \t]*[\"']?((?i:[a-z0-9]{64}))(?![A-Za-z0-9])",
            H,
            context=word,
            min_entropy=3.0,
        )
        for word in ("softlayer", "sl")
        for cased in _cased(word)
    ),
    Rule(
        "secret.softlayer_key",
        "SoftLayer",
        r"(?i:https?://api\.softlayer\.com/soap/v3(?:\.1)?/)([A-Za-z0-9]{64})(?![A-Za-z0-9])",
        H,
        context="softlayer",
    ),
    *(
        Rule(
            "secret.cloudant_key",
            "Cloudant",
            cased
            + r"(?i:(?:oudant|ou)?[_-]?(?:api)?[_-]?(?:key|pwd|pw|password|pass|token))[\"']?\]?"
            r"[ \t]*(?:=|:|:=|=>|::|[ \t]+)[ \t]*[\"']?([0-9a-f]{64}|[a-z]{24})(?![A-Za-z0-9])",
            H,
            context="cl",
        )
        for cased in _cased("cl")
    ),
    Rule(
        "secret.cloudant_key",
        "Cloudant",
        r"(?i:https?://[\w-]+:)([0-9a-f]{64}|[a-z]{24})(?i:@[\w-]+\.cloudant\.com)",
        H,
        context="cloudant",
    ),
    # -- round 3 (issue 23): formats the providers document for their own tokens (their API
    # and security pages, not a rule set), each with a look-alike in tests/detectors.
    Rule(
        "secret.stripe_key",
        "Stripe webhook signing",
        B + r"(whsec_[A-Za-z0-9+/=]{32,100})(?![A-Za-z0-9+/=])",
        H,
        min_entropy=3.5,
    ),
    Rule("secret.google_oauth", "Google OAuth client", B + r"(GOCSPX-[A-Za-z0-9_-]{28})" + ED, H),
    Rule(
        "secret.google_oauth",
        "Google OAuth access",
        B + r"(ya29\.[A-Za-z0-9_-]{30,2000})" + ED,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.supabase_token", "Supabase", B + r"(sbp_[a-f0-9]{40})" + E, H, min_entropy=3.0),
    Rule(
        "secret.supabase_token",
        "Supabase",
        B + r"(sb_secret_[A-Za-z0-9_-]{31,64})" + ED,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.notion_token", "Notion", B + r"(secret_[A-Za-z0-9]{43})" + E, H, min_entropy=4.0),
    Rule(
        "secret.discord_webhook",
        "Discord webhook",
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/"
        r"[A-Za-z0-9_-]{60,70})" + ED,
        H,
        required="/api/webhooks/",
    ),
    Rule("secret.nuget_key", "NuGet", B + r"(oy2[a-z0-9]{43})" + E, H, min_entropy=3.5),
    Rule(
        "secret.docker_token",
        "Docker Hub",
        B + r"(dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,40})" + ED,
        H,
        min_entropy=3.5,
    ),
    Rule(
        "secret.atlassian_token",
        "Bitbucket app password",
        B + r"(ATBB[A-Za-z0-9]{28,60})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.netlify_token", "Netlify", B + r"(nfp_[A-Za-z0-9]{36})" + E, H, min_entropy=3.5),
    Rule(
        "secret.figma_token", "Figma", B + r"(figd_[A-Za-z0-9_-]{38,45})" + ED, H, min_entropy=3.5
    ),
    Rule(
        "secret.tailscale_key",
        "Tailscale",
        B + r"(tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,20}-[A-Za-z0-9]{16,40})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.buildkite_token", "Buildkite", B + r"(bkua_[a-f0-9]{40})" + E, H, min_entropy=3.0),
    Rule(
        "secret.circleci_token",
        "CircleCI",
        B + r"(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})" + E,
        H,
        min_entropy=3.5,
    ),
    Rule("secret.hubspot_key", "HubSpot", B + r"(pat-(?:na|eu|ap)\d-" + _UUID_RX + ")" + E, H),
    Rule("secret.render_key", "Render", B + r"(rnd_[A-Za-z0-9]{32})" + E, H, min_entropy=3.5),
    # -- round 7 (issue 23): the formats of the gitleaks rules that dev does not hold and the
    # engine missed (tests/detectors/secret_rulesets.py measures every one of them).
    # Mailgun's public validation key: ``pubkey-`` and 32 hex digits; it authorises calls to the
    # account's validation API (billed to it), so it is a credential whatever its name says.
    Rule("secret.mailgun_key", "Mailgun", B + r"(pubkey-[a-f0-9]{32})" + E, H, min_entropy=3.0),
    # Sidekiq Enterprise/Pro's gem server credential, as its docs tell Bundler to hold it: the
    # environment variable ``BUNDLE_ENTERPRISE__CONTRIBSYS__COM`` (or ``…GEMS…``) or ``bundle
    # config [--local] enterprise.contribsys.com``, set to ``<8 hex>:<8 hex>``.
    *(
        Rule(
            "secret.sidekiq_secret",
            "Sidekiq",
            cased + r"_(?i:enterprise|gems)__(?i:contribsys)__(?i:com)[\"']?[ \t]{0,3}"
            r"(?:=|:|:=|=>)[ \t]{0,3}[\"']?([a-f0-9]{8}:[a-f0-9]{8})(?![A-Za-z0-9])",
            H,
            context="contribsys",
        )
        for cased in ("BUNDLE", "bundle")
    ),
    Rule(
        "secret.sidekiq_secret",
        "Sidekiq",
        r"config(?:[ \t]+--(?:local|global))?[ \t]+(?:enterprise|gems)\.contribsys\.com[ \t]+"
        r"[\"']?([a-f0-9]{8}:[a-f0-9]{8})(?![A-Za-z0-9])",
        H,
        context="contribsys",
    ),
)
