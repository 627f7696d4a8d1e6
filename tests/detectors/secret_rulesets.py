"""Every gitleaks rule and detect-secrets plugin that the dev corpus does not hold, measured.

The unseen split's secrets are the sample secrets of rule sets' rules that dev has never seen.
Its samples stay unseen; what this module knows of each rule is its *format*, read from
gitleaks' ``config/gitleaks.toml`` (the rule's regex: prefix, alphabet, length, the provider
word a semi-generic rule wants in the key) and detect-secrets' plugin regexes, and nothing else.
Each rule is one ``Spec``: its id, the key name a tool argument would carry it under, and a
template its secret group matches (``{a:32}``: 32 characters of alphabet ``a``; ``{h:8-12}``: a
length in a range; ``{u}``: a random UUID). Values are drawn with a seeded generator, so every
run sees the same corpus.

Every value is then wrapped in the forms a tool argument carries it in:

- ``json``: a JSON field named after the provider (``{"adafruit_api_key": "…"}``);
- ``env``: ``export ADAFRUIT_API_KEY=…``;
- ``yaml``: ``adafruit_api_key: …``;
- ``prose``: the value alone in a sentence, no key.

Rules whose secret is not a single token (a private key block, a Kubernetes secret, a NuGet
config line) have a template that is the whole text; it is measured raw and as a JSON string.

Near-misses, per rule (what a scanner's false positives look like), under the same keys:

- ``short``: the drawn value one character short (a wrong length);
- ``xxxx``, ``example``, ``digits``: the rule's literal prefix with its random part replaced by
  ``x``, ``EXAMPLE`` or ``1234…``;
- ``word``: the literal prefix followed by a word.

``python -m tests.detectors.secret_rulesets`` prints recall per rule (``evaluation``'s way: any
finding at HIGH or above blocks) and near-miss blocks per kind; ``-v`` lists every rule and the
misses.
"""

from __future__ import annotations

import base64
import json
import random
import re
import sys
import uuid
from dataclasses import dataclass
from typing import Final

ALPHABETS: Final[dict[str, str]] = {
    "a": "abcdefghijklmnopqrstuvwxyz0123456789",  # lower-case alphanumerics
    "A": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",  # base62
    "U": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",  # upper-case alphanumerics
    "h": "0123456789abcdef",  # lower-case hex
    "H": "0123456789ABCDEF",  # upper-case hex
    "g": "0123456789abcdefgh",  # [a-h0-9]
    "d": "0123456789",
    "l": "abcdefghijklmnopqrstuvwxyz",
    "L": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "w": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",  # [\w-]
    "e": "abcdefghijklmnopqrstuvwxyz0123456789_-",  # [a-z0-9_-]
    "E": "abcdefghijklmnopqrstuvwxyz0123456789=_-",  # [a-z0-9=_-]
    "b": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "k": "abcdefghijklmnopqrstuvwxyz0123456789/=_+-",  # kraken's
    "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:;<@=}!$?^",
    "n": "abcdefghijklmnopqrstuvwxyz0123456789-",  # [a-z0-9-]
}
_FIELD: Final = re.compile(r"\{[uU]\}|\{jwt\}|\{([A-Za-z]):(\d+)(?:-(\d+))?\}")
_EDGE: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True)
class Spec:
    """A rule: ``rule`` (``gitleaks:<id>`` or ``detect-secrets:<plugin>``), the key a tool
    argument names it by (``None``: the template is the whole text), and the template."""

    rule: str
    key: str | None
    template: str

    @property
    def prefix(self) -> str:
        """The template's literal text before its first random field."""
        return self.template.split("{", 1)[0]


def fill(template: str, rng: random.Random, shorten: bool = False) -> str:
    """``template`` with every field drawn; ``shorten`` draws the last field one short."""
    fields = list(_FIELD.finditer(template))

    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{u}", "{U}"):
            u = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            return u.upper() if m.group(0) == "{U}" else u
        if m.group(0) == "{jwt}":
            return _jwt(rng)
        kind, low, high = m.group(1), int(m.group(2)), m.group(3)
        n = rng.randint(low, int(high)) if high else low
        if shorten and m is fields[-1]:
            n -= 1
        alphabet = ALPHABETS[kind]
        core = [rng.choice(alphabet) for _ in range(n)]
        if n > 1 and any(c not in _EDGE for c in alphabet):  # no '-', '=', '/' at an end
            core[0], core[-1] = rng.choice(_EDGE), rng.choice(_EDGE)
            core[0] = core[0].lower() if alphabet.islower() else core[0]
            core[-1] = core[-1].lower() if alphabet.islower() else core[-1]
        return "".join(core)

    return _FIELD.sub(one, template)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(rng: random.Random) -> str:
    """A signed JWT: a JSON header and claims, base64url, and 32 random bytes of signature."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": str(rng.getrandbits(40)), "iat": 1_700_000_000 + rng.getrandbits(24)}
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(rng.randbytes(32))}"


def _random_length(template: str) -> int:
    return sum(
        36 if m.group(0) in ("{u}", "{U}", "{jwt}") else int(m.group(3) or m.group(2))
        for m in _FIELD.finditer(template)
    )


def _g(rule: str, key: str | None, template: str) -> Spec:
    return Spec("gitleaks:" + rule, key, template)


def _ds(rule: str, key: str | None, template: str) -> Spec:
    return Spec("detect-secrets:" + rule, key, template)


_PEM_BODY: Final = "{b:64}\n{b:64}\n{b:64}\n{b:40}"

# gitleaks' rules at the sealed commit that dev's ``source`` fields do not name, and
# detect-secrets' plugins likewise; ``pkcs12-file`` (a path rule, no content) is left out.
SPECS: Final[tuple[Spec, ...]] = (
    _g("adafruit-api-key", "adafruit_api_key", "{e:32}"),
    _g("adobe-client-id", "adobe_client_id", "{h:32}"),
    _g("adobe-client-secret", "adobe_client_secret", "p8e-{a:32}"),
    _g("airtable-api-key", "airtable_api_key", "{a:17}"),
    _g("airtable-personnal-access-token", "airtable_token", "pat{A:14}.{h:64}"),
    _g("algolia-api-key", "algolia_api_key", "{a:32}"),
    _g("alibaba-access-key-id", "alibaba_access_key_id", "LTAI{a:20}"),
    _g("alibaba-secret-key", "alibaba_secret_key", "{a:30}"),
    _g("artifactory-api-key", "artifactory_api_key", "AKCp{A:69}"),
    _g("artifactory-reference-token", "artifactory_token", "cmVmd{A:59}"),
    _g("asana-client-id", "asana_client_id", "{d:16}"),
    _g("asana-client-secret", "asana_client_secret", "{a:32}"),
    _g("authress-service-client-access-key", "authress_key", "sc_{a:12}.{a:5}.acc_{a:20}.{b:60}"),
    _g("bitbucket-client-id", "bitbucket_client_id", "{a:32}"),
    _g("bitbucket-client-secret", "bitbucket_client_secret", "{E:64}"),
    _g("bittrex-access-key", "bittrex_access_key", "{a:32}"),
    _g("bittrex-secret-key", "bittrex_secret_key", "{a:32}"),
    _g("clojars-api-token", "clojars_token", "CLOJARS_{a:60}"),
    _g("cloudflare-api-key", "cloudflare_api_key", "{e:40}"),
    _g("cloudflare-global-api-key", "cloudflare_global_api_key", "{h:37}"),
    _g("codecov-access-token", "codecov_access_token", "{a:32}"),
    _g("coinbase-access-token", "coinbase_access_token", "{e:64}"),
    _g("confluent-access-token", "confluent_access_token", "{a:16}"),
    _g("confluent-secret-key", "confluent_secret_key", "{a:64}"),
    _g("contentful-delivery-api-token", "contentful_delivery_token", "{E:43}"),
    _g("database-password", "db_password", "{p:12-24}"),
    _g("databricks-api-token", "databricks_token", "dapi{h:32}"),
    _g("datadog-access-token", "datadog_access_token", "{a:40}"),
    _g("defined-networking-api-token", "dnkey_api_token", "dnkey-{E:26}-{E:52}"),
    _g("digitalocean-access-token", "digitalocean_token", "doo_v1_{h:64}"),
    _g("digitalocean-pat", "digitalocean_pat", "dop_v1_{h:64}"),
    _g("digitalocean-refresh-token", "digitalocean_refresh_token", "dor_v1_{h:64}"),
    _g("discord-api-token", "discord_api_token", "{h:64}"),
    _g("doppler-api-token", "doppler_token", "dp.pt.{a:43}"),
    _g("droneci-access-token", "droneci_access_token", "{a:32}"),
    _g("dropbox-api-token", "dropbox_api_token", "{a:15}"),
    _g("dropbox-long-lived-api-token", "dropbox_api_token", "{a:11}AAAAAAAAAA{E:43}"),
    _g("dropbox-short-lived-api-token", "dropbox_api_token", "sl.{E:135}"),
    _g("duffel-api-token", "duffel_token", "duffel_test_{E:43}"),
    _g("dynatrace-api-token", "dynatrace_token", "dt0c01.{a:24}.{a:64}"),
    _g("easypost-api-token", "easypost_api_key", "EZAK{a:54}"),
    _g("easypost-test-api-token", "easypost_test_key", "EZTK{a:54}"),
    _g("facebook-secret", "facebook_secret", "{h:32}"),
    _g("fastly-api-token", "fastly_api_token", "{E:32}"),
    _g("finicity-api-token", "finicity_api_token", "{h:32}"),
    _g("finicity-client-secret", "finicity_client_secret", "{a:20}"),
    _g("finnhub-access-token", "finnhub_access_token", "{a:20}"),
    _g("flickr-access-token", "flickr_access_token", "{a:32}"),
    _g("flutterwave-encryption-key", "flutterwave_encryption_key", "FLWSECK_TEST-{g:12}"),
    _g("flutterwave-public-key", "flutterwave_public_key", "FLWPUBK_TEST-{g:32}-X"),
    _g("flutterwave-secret-key", "flutterwave_secret_key", "FLWSECK_TEST-{g:32}-X"),
    _g("frameio-api-token", "frameio_token", "fio-u-{E:64}"),
    _g("freemius-secret-key", None, "$config = array(\n    'secret_key' => 'sk_{A:29}',\n);"),
    _g("freshbooks-access-token", "freshbooks_access_token", "{a:64}"),
    _g("github-refresh-token", "github_refresh_token", "ghr_{A:36}"),
    _g("gitlab-cicd-job-token", "gitlab_job_token", "glcbt-{A:3}_{w:20}"),
    _g("gitlab-deploy-token", "gitlab_deploy_token", "gldt-{w:20}"),
    _g("gitlab-feature-flag-client-token", "gitlab_feature_flag_token", "glffct-{w:20}"),
    _g("gitlab-feed-token", "gitlab_feed_token", "glft-{w:20}"),
    _g("gitlab-incoming-mail-token", "gitlab_mail_token", "glimt-{w:25}"),
    _g("gitlab-kubernetes-agent-token", "gitlab_agent_token", "glagent-{w:50}"),
    _g("gitlab-oauth-app-secret", "gitlab_oauth_secret", "gloas-{w:64}"),
    _g("gitlab-runner-authentication-token", "gitlab_runner_token", "glrt-{w:20}"),
    _g(
        "gitlab-runner-authentication-token-routable",
        "gitlab_runner_token",
        "glrt-t1_{w:27-40}.{a:2}{a:7}",
    ),
    _g("gitlab-scim-token", "gitlab_scim_token", "glsoat-{w:20}"),
    _g("gitlab-session-cookie", None, "Cookie: _gitlab_session={a:32}; path=/"),
    _g("gitter-access-token", "gitter_access_token", "{e:40}"),
    _g("gocardless-api-token", "gocardless_api_token", "live_{E:40}"),
    _g("grafana-api-key", "grafana_api_key", "eyJrIjoi{A:70-100}"),
    _g("harness-api-key", "harness_api_key", "pat.{w:22}.{A:24}.{A:20}"),
    _g("hashicorp-tf-password", None, 'administrator_login_password = "{E:8-20}"'),
    _g("heroku-api-key", "heroku_api_key", "{u}"),
    _g("heroku-api-key-v2", "heroku_api_key", "HRKU-AA{w:58}"),
    _g("hubspot-api-key", "hubspot_api_key", "{U}"),
    _g("intercom-api-key", "intercom_api_key", "{E:60}"),
    _g("jfrog-api-key", "jfrog_api_key", "{a:73}"),
    _g("jfrog-identity-token", "jfrog_identity_token", "{a:64}"),
    _g("jwt", "jwt_token", "{jwt}"),
    _g("kraken-access-token", "kraken_access_token", "{k:80-90}"),
    _g(
        "kubernetes-secret-yaml",
        None,
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-credentials\ntype: Opaque\n"
        "data:\n  password: {b:32}==\n",
    ),
    _g("kucoin-access-token", "kucoin_access_token", "{h:24}"),
    _g("kucoin-secret-key", "kucoin_secret_key", "{u}"),
    _g("launchdarkly-access-token", "launchdarkly_access_token", "{E:40}"),
    _g("linear-api-key", "linear_api_key", "lin_api_{a:40}"),
    _g("linear-client-secret", "linear_client_secret", "{h:32}"),
    _g("linkedin-client-id", "linkedin_client_id", "{a:14}"),
    _g("linkedin-client-secret", "linkedin_client_secret", "{a:16}"),
    _g("lob-api-key", "lob_api_key", "live_{h:35}"),
    _g("lob-pub-api-key", "lob_pub_api_key", "test_pub_{h:31}"),
    _g("looker-client-id", "looker_client_id", "{a:20}"),
    _g("looker-client-secret", "looker_client_secret", "{a:24}"),
    _g("mailgun-private-api-token", "mailgun_private_api_token", "key-{h:32}"),
    _g("mailgun-pub-key", "mailgun_pub_key", "pubkey-{h:32}"),
    _g("mailgun-signing-key", "mailgun_signing_key", "{g:32}-{g:8}-{g:8}"),
    _g("mapbox-api-token", "mapbox_api_token", "pk.{a:60}.{a:22}"),
    _g("mattermost-access-token", "mattermost_access_token", "{a:26}"),
    _g("messagebird-api-token", "messagebird_api_token", "{a:25}"),
    _g(
        "microsoft-teams-webhook",
        "teams_webhook_url",
        "https://acme.webhook.office.com/webhookb2/{u}@{u}/IncomingWebhook/{a:32}/{u}",
    ),
    _g("netlify-access-token", "netlify_access_token", "{E:40-46}"),
    _g("new-relic-browser-api-token", "new_relic_browser_api_token", "NRJS-{h:19}"),
    _g("new-relic-insert-key", "new_relic_insert_key", "NRII-{n:32}"),
    _g("new-relic-user-api-id", "new_relic_user_api_id", "{a:64}"),
    _g("new-relic-user-api-key", "new_relic_user_api_key", "NRAK-{U:27}"),
    _g("npm-access-token", "npm_token", "npm_{A:36}"),
    _g(
        "nuget-config-password",
        None,
        '<packageSourceCredentials>\n  <feed>\n    <add key="Username" value="build" />\n'
        '    <add key="ClearTextPassword" value="{A:16}" />\n  </feed>\n'
        "</packageSourceCredentials>",
    ),
    _g("nytimes-access-token", "nytimes_access_token", "{E:32}"),
    _g("okta-access-token", "okta_access_token", "00{w:40}"),
    _g("plaid-api-token", "plaid_access_token", "access-sandbox-{u}"),
    _g("plaid-client-id", "plaid_client_id", "{a:24}"),
    _g("plaid-secret-key", "plaid_secret_key", "{a:30}"),
    _g("planetscale-api-token", "planetscale_token", "pscale_tkn_{w:43}"),
    _g("planetscale-oauth-token", "planetscale_oauth_token", "pscale_oauth_{w:43}"),
    _g("planetscale-password", "planetscale_password", "pscale_pw_{w:43}"),
    _g("postman-api-token", "postman_api_key", "PMAK-{h:24}-{h:34}"),
    _g("prefect-api-token", "prefect_api_key", "pnu_{A:36}"),
    _g(
        "private-key",
        None,
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + _PEM_BODY + "\n"
        "-----END PRIVATE KEY-----",
    ),
    _g("pulumi-api-token", "pulumi_access_token", "pul-{h:40}"),
    _g("pypi-upload-token", "pypi_token", "pypi-AgEIcHlwaS5vcmc{w:70}"),
    _g("rapidapi-access-token", "rapidapi_key", "{e:50}"),
    _g("rubygems-api-token", "rubygems_api_key", "rubygems_{h:48}"),
    _g("scalingo-api-token", "scalingo_api_token", "tk-us-{w:48}"),
    _g("sendbird-access-id", "sendbird_access_id", "{u}"),
    _g("sendbird-access-token", "sendbird_access_token", "{h:40}"),
    _g("sendgrid-api-token", "sendgrid_api_key", "SG.{w:22}.{w:43}"),
    _g("sendinblue-api-token", "sendinblue_api_key", "xkeysib-{h:64}-{A:16}"),
    _g("sentry-access-token", "sentry_access_token", "{h:64}"),
    _g(
        "sentry-org-token",
        "sentry_auth_token",
        "sntrys_eyJpYXQiO{b:40}LCJyZWdpb25fdXJs{b:40}_{b:43}",
    ),
    _g("sentry-user-token", "sentry_auth_token", "sntryu_{h:64}"),
    _g("settlemint-application-access-token", "settlemint_token", "sm_aat_{A:16}"),
    _g("settlemint-personal-access-token", "settlemint_token", "sm_pat_{A:16}"),
    _g("settlemint-service-access-token", "settlemint_token", "sm_sat_{A:16}"),
    _g("shippo-api-token", "shippo_api_token", "shippo_live_{h:40}"),
    _g("shopify-access-token", "shopify_access_token", "shpat_{h:32}"),
    _g("shopify-custom-access-token", "shopify_access_token", "shpca_{h:32}"),
    _g("shopify-private-app-access-token", "shopify_access_token", "shppa_{h:32}"),
    _g("shopify-shared-secret", "shopify_shared_secret", "shpss_{h:32}"),
    _g("sidekiq-secret", "BUNDLE_ENTERPRISE__CONTRIBSYS__COM", "{h:8}:{h:8}"),
    _g("snyk-api-token", "snyk_token", "{u}"),
    _g("squarespace-access-token", "squarespace_access_token", "{u}"),
    _g("stripe-access-token", "stripe_secret_key", "sk_live_{A:24}"),
    _g("telegram-bot-api-token", "telegram_bot_token", "{d:10}:A{E:34}"),
    _g("travisci-access-token", "travis_access_token", "{a:22}"),
    _g("twilio-api-key", "twilio_api_key", "SK{h:32}"),
    _g("twitch-api-token", "twitch_api_token", "{a:30}"),
    _g("twitter-access-secret", "twitter_access_secret", "{a:45}"),
    _g("twitter-access-token", "twitter_access_token", "{d:18}-{A:30}"),
    _g("twitter-api-key", "twitter_api_key", "{a:25}"),
    _g("twitter-api-secret", "twitter_api_secret", "{a:50}"),
    _g("twitter-bearer-token", "twitter_bearer_token", "AAAAAAAAAAAAAAAAAAAAAA{A:90}"),
    _g("typeform-api-token", "typeform_api_token", "tfp_{E:59}"),
    _g("vault-batch-token", "vault_token", "hvb.{w:150}"),
    _g("yandex-access-token", "yandex_access_token", "t1.{w:20}.{w:86}"),
    _g("yandex-api-key", "yandex_api_key", "AQVN{w:36}"),
    _g("yandex-aws-access-token", "yandex_aws_access_token", "YC{w:38}"),
    _g("zendesk-secret-key", "zendesk_secret_key", "{a:40}"),
    # detect-secrets' plugins that dev does not hold (their regexes; the keyword and entropy
    # plugins have no shape of their own: a credential word and a random value).
    _ds(
        "azure_storage_key",
        None,
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={b:86}==",
    ),
    _ds("cloudant", "cloudant_password", "{h:64}"),
    _ds("high_entropy_strings", "signing_secret", "{b:40}"),
    _ds("keyword", "db_password", "{A:16}"),
    _ds(
        "private_key",
        None,
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA"
        + _PEM_BODY
        + "\n-----END RSA PRIVATE KEY-----",
    ),
    _ds("sendgrid", "sendgrid_api_key", "SG.{w:22}.{w:43}"),
    _ds("slack", "slack_token", "xoxb-{d:10}-{d:12}-{A:24}"),
    _ds("slack", "slack_webhook_url", "https://hooks.slack.com/services/T{U:8}/B{U:8}/{A:24}"),
    _ds("square_oauth", "square_oauth_secret", "sq0csp-{w:43}"),
    _ds("twilio", "twilio_account_sid", "AC{a:32}"),
    _ds("twilio", "twilio_auth_token", "SK{a:32}"),
)

_ID: Final = "an identifier, under a key that says so (a client id is public by OAuth's design)"

# Measured misses the project leaves (docs/detection.md, seventh round): rule -> why. Under a
# key that names a credential the same values block (``as_credential``; ``main`` prints it).
KNOWN_MISSES: Final[dict[str, str]] = {
    "gitleaks:adobe-client-id": _ID,
    "gitleaks:asana-client-id": _ID + "; 16 digits",
    "gitleaks:bitbucket-client-id": _ID,
    "gitleaks:linkedin-client-id": _ID,
    "gitleaks:looker-client-id": _ID,
    "gitleaks:new-relic-user-api-id": _ID,
    "gitleaks:plaid-client-id": _ID,
    "gitleaks:sendbird-access-id": _ID,
}


def as_credential(spec: Spec) -> Spec:
    """``spec`` under a key naming a credential (``adobe_client_id`` -> ``adobe_token``)."""
    key = re.sub(r"_(?:client|access|user_api)_id$", "_token", spec.key or "")
    return Spec(spec.rule, key or None, spec.template)


_SUFFIX: Final = re.compile(
    r"_(?:api|access|client|secret|private|pub|user|bot|auth|delivery|global|identity|signing"
    r"|insert|browser|encryption|aws|oauth|refresh|feature|job|deploy|feed|mail|agent|runner"
    r"|scim|shared|test|password|pat|token|key|id)(?:_.*)?$"
)


def provider_only(spec: Spec) -> Spec:
    """``spec`` under the provider's name alone, no credential word (``adafruit: …``): the
    key gitleaks' semi-generic rules also take, measured, not held."""
    return Spec(spec.rule, _SUFFIX.sub("", spec.key or "") or None, spec.template)


def _upper(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", key).upper()


def wrap(spec: Spec, value: str) -> list[tuple[str, str]]:
    """(form, text) for every form the rule's value is carried in."""
    if spec.key is None:
        block = "\n".join("  " + line for line in value.splitlines())
        return [("raw", value), ("yaml", f"config: |\n{block}\n")]
    return [
        ("json", json.dumps({spec.key: value})),
        ("env", f"export {_upper(spec.key)}={value}"),
        ("yaml", f"{spec.key}: {value}"),
        ("prose", f"I set it to {value} yesterday, can you check that it still works?"),
    ]


def near_misses(spec: Spec, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, value): values a rule's regex must not take for a secret."""
    n = max(8, _random_length(spec.template))
    pre = spec.prefix
    if spec.key is None:
        return []
    return [
        ("short", fill(spec.template, rng, shorten=True)),
        ("xxxx", pre + "x" * n),
        ("example", pre + ("EXAMPLE" * n)[:n]),
        ("digits", pre + ("1234567890" * n)[:n]),
        ("word", pre + "configuration"),
    ]


def blocking(text: str) -> bool:
    """Whether ``text``, as a tool call's string argument, blocks (``ztmcp eval``'s way)."""
    from ztmcp.detectors import scan_arguments
    from ztmcp.detectors.findings import RANK
    from ztmcp.severity import Severity

    findings = scan_arguments({"content": text})
    return any(RANK[f.severity] >= RANK[Severity.HIGH] for f in findings)


@dataclass(frozen=True, slots=True)
class Result:
    rule: str
    form: str
    text: str
    blocked: bool


def measure(seed: int = 23, per_rule: int = 6) -> tuple[list[Result], list[Result]]:
    """(positives, near-misses), each text with whether it blocks."""
    rng = random.Random(seed)
    pos: list[Result] = []
    near: list[Result] = []
    for spec in SPECS:
        for _ in range(per_rule):
            for form, text in wrap(spec, fill(spec.template, rng)):
                pos.append(Result(spec.rule, form, text, blocking(text)))
        for kind, value in near_misses(spec, rng):
            for form, text in wrap(spec, value):
                near.append(Result(spec.rule, f"{kind}/{form}", text, blocking(text)))
    return pos, near


def _rate(rows: list[Result]) -> str:
    hit = sum(r.blocked for r in rows)
    return f"{hit}/{len(rows)} ({100 * hit / max(1, len(rows)):.1f} %)"


def main() -> None:
    verbose = "-v" in sys.argv[1:]
    pos, near = measure()
    keyed = [r for r in pos if r.form != "prose"]
    print(f"rules: {len({s.rule for s in SPECS})}")
    print(f"positives, keyed and raw forms: {_rate(keyed)}")
    print(f"positives, bare in prose:       {_rate([r for r in pos if r.form == 'prose'])}")
    by_rule: dict[str, list[Result]] = {}
    for r in keyed:
        by_rule.setdefault(r.rule, []).append(r)
    full = [rule for rule, rows in by_rule.items() if all(r.blocked for r in rows)]
    print(f"rules at 100 % in keyed forms: {len(full)}/{len(by_rule)}")
    for rule, rows in by_rule.items():
        prose = [r for r in pos if r.rule == rule and r.form == "prose"]
        if verbose or not all(r.blocked for r in rows):
            print(f"  {rule:58} keyed {_rate(rows):18} prose {_rate(prose)}")
    rng = random.Random(7)
    for spec in SPECS:
        if spec.rule in KNOWN_MISSES and spec.key is not None and spec.key.endswith("_id"):
            cred = as_credential(spec)
            rows = [
                Result(spec.rule, form, text, blocking(text))
                for _ in range(6)
                for form, text in wrap(cred, fill(cred.template, rng))
                if form != "prose"
            ]
            print(f"  {spec.rule:58} under {cred.key}: {_rate(rows)}")
    bare = [
        Result(spec.rule, form, text, blocking(text))
        for spec in SPECS
        if spec.key is not None and not spec.prefix
        for form, text in wrap(provider_only(spec), fill(spec.template, rng))
        if form != "prose"
    ]
    print(f"keyword-only rules under the provider's name alone (no credential word): {_rate(bare)}")
    if verbose:
        for r in bare:
            if not r.blocked:
                print("    BARE MISS", r.rule, r.form, repr(r.text[:160]))
    kinds: dict[str, list[Result]] = {}
    for r in near:
        kinds.setdefault(r.form.split("/")[0], []).append(r)
    print("near-misses blocking, per kind:")
    for kind, rows in kinds.items():
        print(f"  {kind:8} {_rate(rows)}")
    if verbose:
        for r in keyed:
            if not r.blocked:
                print("    MISS ", r.rule, r.form, repr(r.text[:160]))
        for r in near:
            if r.blocked:
                print("    BLOCK", r.rule, r.form, repr(r.text[:160]))


if __name__ == "__main__":
    main()
