"""Code beside a credential word is code (issue 23, eighth round): each class of false positive
found on real code (site-packages, the peers' npm trees, /etc, /usr/share/doc: 116 chunks of
12,571 blocked), with the code as written (blocked before the fix) and the same syntax holding
a generated key (which must still block). Hypothesis dresses keys of every alphabet of
``secret_forms`` in each class's syntax; counts bound how often a random key reads as a name.
"""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.detectors import secret_forms as forms
from ztmcp.detectors import secrets
from ztmcp.detectors.rules import secrets_values as values

_KEY = "Xk9mP2qL7vRwZf3D0LXC"

# (class, code as real projects write it, the same syntax with a generated key)
_CLASSES: list[tuple[str, str, str]] = [
    # a declared type: a CamelCase name, a dotted name, ``| undefined``, a number in a hump
    ("type", "  credential: X509Credential | undefined;", f'  credential: "{_KEY}";'),
    ("type", "        private_key: Ed25519PrivateKey | Ed448PrivateKey", f"private_key: {_KEY}"),
    ("type", "        mldsa_key: mldsa.MLDSA44PrivateKey,", f'mldsa_key: "{_KEY}",'),
    (
        "type",
        "    self, private_key: ed25519.Ed25519PrivateKey, f_priv: _FragList",
        f"private_key: '{_KEY}'",
    ),
    ("type", "  #cachedToken: CachedX509Token | undefined;", f"  #cachedToken: '{_KEY}';"),
    ("type", "        private_key: PKCS7PrivateKeyTypes,", f"        private_key: {_KEY},"),
    ("type", "    RefreshTokenGrant as PKCS12RefreshTokenGrant,", f"refresh_token as {_KEY}"),
    ("type", "if _token is String.Double:", f'if _token is "{_KEY}":'),
    # a name with one affix: a constant's ``k``, a type variable's ``T``, a private ``_``
    ("affix", "  withCredentials: kEnumerableProperty\n})", f"  withCredentials: '{_KEY}'\n}})"),
    (
        "affix",
        "def _bind_credentials_base_url(credentials: _ProviderT, base_url: str)",
        f"credentials: _{_KEY}",
    ),
    (
        "affix",
        "const { authorization: _authorization, headers: _headers } = tool",
        f"authorization: Bearer {_KEY}",
    ),
    # a constant: a reference to a secret by its name
    (
        "constant",
        'gcp_auth(service_account_json=workspace_secret("SANDBOX_GCP_SERVICE_ACCOUNT_JSON"))',
        f'workspace_secret("{_KEY}")',
    ),
    # a path from an object or a module, a name of the same module
    ("member", "nid_key = self._lib.NID_aes_256_cbc", f'nid_key = "{_KEY}"'),
    # strings in a list, not a call's name and value, a pair or a row
    (
        "list",
        "'CKFetchWebAuthTokenOperation', 'CKLocationSortDescriptor', 'CKMarkNotifications'",
        f"define('CK_AUTH_TOKEN', '{_KEY}')",
    ),
    (
        "list",
        "'HMAccessoryOwnershipToken', 'HMAccessoryProfile', 'HMAccessorySetupPayload'",
        f"[['HM_OWNERSHIP_TOKEN', '{_KEY}']]",
    ),
    (
        "list",
        "'w32-unload-winsock', 'w32-unregister-hot-key', 'w32-window-exists-p',",
        f'"w32_api_key","{_KEY}"',
    ),
    (
        "list",
        'if options.url in {"/v1/messages/count_tokens", "/v1/messages/count_tokens?beta=true"}:',
        f'os.environ.setdefault("COUNT_TOKEN", "{_KEY}")',
    ),
    (
        "list",
        "NAME ( 'passwordMin8bit' 'pwdMin8bit' ) DESC 'Netscape defined password policy'",
        f"passwordMin8bit = '{_KEY}'",
    ),
    (
        "list",
        "X-NDS_NAME 'RADIUS:Password' X-NDS_NOT_SCHED_SYNC_IMMEDIATE '1' )",
        f"RADIUS:Password={_KEY}",
    ),
    # the rest of a comparison, minified
    ("comparison", 'u.keyCode===229&&(Be="onCompositionStart")', f'u.keyCode=="{_KEY}"&&(Be=1)'),
    (
        "comparison",
        "onkeydown:s=>{s.keyCode==27?(s.preventDefault(),n.focus()):0}",
        f'if (s.keyCode == "{_KEY}") n.focus()',
    ),
    (
        "comparison",
        "clientSecret:this.expectedAuthMethod===`none`?void 0:`x`",
        f"clientSecret:`{_KEY}`",
    ),
    # minified expressions
    (
        "expression",
        "details:{message:`Token verification failed`,token:e?e.substring(0,10)+`...`}",
        f"details:{{message:`x`,token:`{_KEY}`}}",
    ),
    (
        "expression",
        "this.pos>=this.token.lookAhead&&(this.token.lookAhead=this.pos+1),this.readNext()",
        f"this.token.lookAhead='{_KEY}'",
    ),
    # Go: the address of a literal, a negated call; an object identifier; PEM armour
    # (found on the held-out tree: Go's standard library)
    ("code", 'var privateKey = &Block{Type: "RSA PRIVATE KEY",', f"var privateKey = &{_KEY}"),
    ("code", "// very first token (!p.pos.IsValid()) is not initialized", f"token = (!{_KEY}"),
    (
        "oid",
        "const OID_PKCS9_MESSAGE_DIGEST_KEY = '1.2.840.113549.1.9.4';",
        f"DIGEST_KEY = '1.2.{_KEY}'",
    ),
    (
        "pem",
        "const optionalAuthKeyIDPEM = `-----BEGIN CERTIFICATE-----\nMIIFEjCCBHugAwIBAgICAQ",
        "private_key = `-----BEGIN PRIVATE KEY-----\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
        "-----END PRIVATE KEY-----`",
    ),
    # choices, patterns and paths
    (
        "choice",
        "# com.sun.management.jmxremote.password.toHashes = true|false",
        f"jmxremote.password = {_KEY}",
    ),
    (
        "pattern",
        "const SAFE_ACCESS_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/u;",
        f'const SAFE_ACCESS_TOKEN = "{_KEY}";',
    ),
    ("path", "  PWD: '/Users/maciej',\n  EDITOR: 'vim',", f"  PWD: '{_KEY}',"),
    # a word after a word: an image's tag after a flag's name
    (
        "platform",
        '"hf jobs run --secrets HF_TOKEN python:3.12 python script.py"',
        f"--secrets HF_TOKEN {_KEY}",
    ),
    # a URL after its scheme; a method of a credential object
    (
        "url",
        "#       Example: `credential.https://huggingface.co.helper=store`",
        f"credential:{_KEY}",
    ),
    (
        "method",
        "credentials = credentials.with_quota_project('myproject-123')",
        f"credentials = credentials.with_quota_project('{_KEY}')",
    ),
    # URL user information named by its roles, on a host named by its role
    (
        "userinfo",
        '# "https://username:password@host.com:80/path?query#fragment"',
        f"https://username:{_KEY}@host.com:80/path",
    ),
    (
        "userinfo",
        "'hdfs://username:pwd@node:123/mnt/datasets/test.csv?q=1'",
        f"'hdfs://username:{_KEY}@node:123/mnt'",
    ),
    (
        "userinfo",
        "# The default infer_storage_options can handle gist://username:token@id/file",
        f"gist://username:{_KEY}@id/file",
    ),
    (
        "userinfo",
        "- 'github://org:repo@sha/precip/catalog.yml', where the sha",
        f"'github://org:{_KEY}@sha/precip/catalog.yml'",
    ),
    (
        "userinfo",
        "``smb://workgroup;user:password@server:port/share/folder/file.csv``",
        f"smb://workgroup;user:{_KEY}@server/share",
    ),
    (
        "userinfo",
        "...     'smb://myuser:mypassword@myserver.com/' 'share/folder/file.csv'",
        f"'smb://myuser:{_KEY}@myserver.com/'",
    ),
    (
        "userinfo",
        "const socks5Proxy = new Socks5ProxyAgent('socks5://username:password@localhost:1080')",
        f"'socks5://username:{_KEY}@localhost:1080'",
    ),
    (
        "userinfo",
        'connectionString.parse("mongodb://username:password@host:1234/defaultauthdb");',
        f'"mongodb://username:{_KEY}@host:1234/db"',
    ),
    (
        "userinfo",
        "# Credentials embedded in URLs: proto://user:PASS@host -> redact PASS only.",
        f"proto://user:{_KEY}@host",
    ),
    (
        "userinfo",
        "mhu = MultiHostUrl('https://foo.com:123,foo:bar@bar.com/path')",
        f"'https://foo:{_KEY}@bar.com/path'",
    ),
    (
        "userinfo",
        "const myURL = new URL('https://a:b@xn--g6w251d/?abc#foo');",
        f"new URL('https://a:{_KEY}@xn--g6w251d/')",
    ),
    (
        "userinfo",
        'assert url == "https://jo%40email.com:a%20secret@www.example.com"',
        f'"https://jo%40email.com:{_KEY}@www.example.com"',
    ),
    # an object holding its type alone, in prose about a parameter
    (
        "gcp",
        'Omitting it, sending null, or sending `{"type": "service_account"}` stores the default.',
        '{"type": "service_account", "project_id": "p"}',
    ),
]


@pytest.mark.parametrize(("cls", "code", "twin"), _CLASSES, ids=[c[0] for c in _CLASSES])
def test_code_does_not_block_and_its_twin_holding_a_key_does(
    cls: str, code: str, twin: str
) -> None:
    assert not forms.blocking(code), (cls, code)
    assert forms.blocking(twin), (cls, twin)


@pytest.mark.parametrize(
    "text",
    [
        # a real host keeps a role word as its password reported (detect-secrets' positive)
        "https://username:password@yelp.com",
        # generated passwords whatever the user and the host are called
        f"postgres://user:{_KEY}@localhost:5432/app",
        f"https://user:{_KEY}@host",
        # a word of a user named by its role on a real host
        "https://org:repository@github.com/acme/app",
        # a URL's parts named by their roles with a real password of words and digits
        "redis://default:Tr0ub4dor3xyzPq@localhost:6379",
        # a passphrase: words and a number joined by '-' are no expression
        "password: correct-horse-battery-42",
        # a literal compared with in code is quoted
        f'if (api_key == "{_KEY}") {{',
    ],
)
def test_secrets_beside_the_classes_block(text: str) -> None:
    assert forms.blocking(text), text


_ALPHABET = st.sampled_from(sorted(forms.ALPHABETS))

# Each class's syntax, a generated key in the place its code has a name.
_DRESSES = (
    "credential: {K} | undefined;",
    "private_key: {K},",
    "private_key: {K}\n",
    "mldsa_key: mldsa.{K},",
    "withCredentials: k{K}\n",
    "credentials: _{K},",
    'workspace_secret("{K}")',
    "nid_key = self._lib.{K}\n",
    "exports.findCredential = exports.{K};",
    "define('CK_AUTH_TOKEN', '{K}')",
    "[['API_TOKEN', '{K}']]",
    '"API_TOKEN","{K}"\n',
    'u.keyCode=="{K}"&&(x)',
    "jmxremote.password = {K}|false",
    "token = (!{K}(",
    "DIGEST_KEY = '1.2.840.{K}'",
    "token:e?{K}(0,10)",
    "token=this.{K}+1",
    "--secrets HF_TOKEN {K} python",
    "credentials = credentials.with_quota_project('{K}')",
    "https://username:{K}@host.com:80/path",
    "smb://workgroup;user:{K}@server/share",
    "proto://user:{K}@host",
    "https://a:{K}@bar.com/",
)


@settings(max_examples=400, deadline=None)
@given(alphabet=_ALPHABET, seed=st.integers(0), dress=st.sampled_from(_DRESSES))
# (hypothesis drew a key holding "PAss" by chance, read as a name's credential word)
@example(alphabet="base62_32", seed=701006945, dress="credential: {K} | undefined;")
def test_a_generated_key_in_each_class_syntax_blocks(alphabet: str, seed: int, dress: str) -> None:
    key = forms.ALPHABETS[alphabet](random.Random(seed))
    if "://" in dress:  # a URL's password is percent-encoded (base64's '/' ends its user info)
        key = quote(key, safe="")
    text = dress.replace("{K}", key)
    assert forms.blocking(text), text


def _draws(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [forms.ALPHABETS[name](rng) for name in sorted(forms.ALPHABETS) for _ in range(n)]


def test_random_keys_seldom_read_as_names_of_code() -> None:
    """The readings of names that say "not a secret" whatever the key (``is_reference``'s new
    ones, a credential word's name) on 200 keys of each of 17 alphabets: none reads as one."""
    keys = _draws(200, 23)
    readings = (
        values.reads_as_affixed_name,
        values.names_a_constant,
        values.reads_as_member_path,
        values.is_choice,
        values.is_pattern_literal,
        values.is_file_path,
        values.is_expression,
    )
    taken = {f.__name__: [k for k in keys if f(k)] for f in readings}
    assert all(not v for v in taken.values()), taken
    # a number before a hump: no key with a digit inside a piece reads as words so (keys of
    # letters alone, ``named``, were read as names before, and still are)
    # (a few in 10,000 do, whose letters read as words by chance; a credential word must be a
    # hump of the value as well, which none of them has)
    humps = [k for k in keys if not values.named(k) and values.named_in_words(k)]
    assert len(humps) <= 5, humps
    assert not [k for k in keys if not values.named(k) and secrets._names_its_role(k)]
    affixed = {k for k in keys if values.reads_as_affixed_name("k" + k)}
    private = {k for k in keys if values.reads_as_affixed_name("_" + k)}
    assert not affixed and not private


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("X509Credential", True),
        ("mldsa.MLDSA44PrivateKey", True),
        ("Ed25519PublicKey", True),
        # (a number after a hump of more letters is not read so: ``OAuth2Refresh``)
        ("OAuth2RefreshTokenGrant", False),
        ("as1-client-secret", True),
        # a key whose digits come before capitals by chance: letters at random, not words
        ("aErOv53AOgw7D8WTJUX8DpWDvo3DmkW4", False),
        ("Qz3HfJ8KpX2Mv", False),
    ],
)
def test_a_number_before_a_hump_is_a_names_only_among_words(value: str, name: bool) -> None:
    assert values.named_in_words(value) is name, value


@pytest.mark.parametrize(
    ("user", "password", "host", "template"),
    [
        ("username", "password", "host.com", True),
        ("myuser", "mypassword", "myserver.com", True),
        ("org", "repo", "sha", True),
        ("a", "b", "xn--g6w251d", True),
        ("username", "password", "yelp.com", False),
        ("user", "Tr0ub4dor3xyz", "localhost", False),
        ("org", "repo", "github.com", False),
        ("deploy", "password", "db.acme.io", False),
    ],
)
def test_url_templates_are_named_by_roles(
    user: str, password: str, host: str, template: bool
) -> None:
    assert values.is_url_template(user, password, host) is template
