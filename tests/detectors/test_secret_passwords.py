"""Passwords under a password key in the plain keyed forms (issue 23, secgap round): short ones
(8 or 9 characters, Terraform's ``administrator_login_password``), letters alone, the rest of an
env or YAML line with ``; } < )`` in it, a template's mark spelt by chance (``%s``, ``{x}``,
``$X``, ``..``, ``<abc>``) and a bracket that never closes. Each class with its benign twins:
the words, names, versions, templates and code that the same keys hold.
"""

from __future__ import annotations

import json
import random
import string

import pytest

from ztmcp.detectors import scan_arguments, secrets
from ztmcp.detectors.findings import RANK
from ztmcp.severity import Severity


def _blocked(text: str) -> list[str]:
    return [
        text[f.start : f.end] for f in secrets.scan(text) if RANK[f.severity] >= RANK[Severity.HIGH]
    ]


# Each was missed before this round (the span is the secret found).
FOUND = [
    # 8 or 9 characters, drawn (a digit inside a piece, three letters or more)
    ('administrator_login_password = "g10ospx2"', "g10ospx2"),
    ('administrator_login_password = "ap4-z=o7m"', "ap4-z=o7m"),
    ("DB_PASS=sw6op6ayt", "sw6op6ayt"),
    # letters alone, their case changing as chance makes it
    ("export DB_PASSWORD=UIENRARtDXyL", "UIENRARtDXyL"),
    ('{"db_password": "UIENRARtDXyL"}', "UIENRARtDXyL"),
    ("smtp_pass: hGtRwQpLmZ", "hGtRwQpLmZ"),
    # the rest of an env, YAML, INI or properties line, with what ends a value in code in it
    ("export DB_PASSWORD=FyT6Fm}o0@wRWKohgEL", "FyT6Fm}o0@wRWKohgEL"),
    ("db_password: J;mq<U4ySVChmF", "J;mq<U4ySVChmF"),
    ("  - db_password: J;mq<U4ySVChmF  \nother: 1", "J;mq<U4ySVChmF"),
    ("[db]\npassword = Xk9)mP2]qL7>vR", "Xk9)mP2]qL7>vR"),
    ("app.db.password=Zq8;rT2}mKx9", "Zq8;rT2}mKx9"),
    # a template's mark spelt by a password's characters
    ('password = "Xk9#mP2%sqL7vR"', "Xk9#mP2%sqL7vR"),
    ('password = "aX7{b}Q9!zzW2"', "aX7{b}Q9!zzW2"),
    ('password = "$Xk9mP2qL7vR!"', "$Xk9mP2qL7vR"),
    ("DB_PASSWORD=$Xk9mP2qL7vR!", "$Xk9mP2qL7vR"),
    ('password = "Xk9..mP2qL7vR!"', "Xk9..mP2qL7vR"),
    ('password = "Xk9<abc>mP2qL!"', "Xk9<abc>mP2qL"),
    # a bracket that never closes, in a drawn value
    ("VERCEL_PASS=CHtqu7(#i8#?b", "CHtqu7(#i8#?b"),
    ("DB_PASSWORD=[Xk9mP2qL7vR!", "[Xk9mP2qL7vR"),
    ("DB_PASSWORD={Xk9mP2qL7vR!", "{Xk9mP2qL7vR"),
    ("dotdigital_pass: _sSjdD(k56/lI", "_sSjdD(k56/lI"),
]


@pytest.mark.parametrize(("text", "secret"), FOUND)
def test_a_password_in_a_plain_keyed_form_is_found(text: str, secret: str) -> None:
    assert _blocked(text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        # words, a word and a number, a word spelt with digits, names: what docs and code put
        'password = "admin123"',
        'password = "test1234"',
        'password = "Passw0rd"',
        'password = "p@ssw0rd"',
        "password: changeme",
        "password: yourpassword",
        "password: myPassword",
        "password: fooBarBaz",
        "password: XMLHttpRequest",
        'password = "PasswordField"',
        'api_key = "g10ospx2"',  # short values count under a password key only
        "token: UIENRARtDXyL",  # and so do letters alone
        # a version after a word
        "base-passwd (1.2.0-1) unstable; urgency=low",
        # templates and placeholders, whatever is around their marks
        'password = "${DB_PASSWORD}"',
        'password = "%(pw)s"',
        'password = "<password>"',
        'password = "$DB_PASS"',
        'password = "$DB_PASS_2024"',
        'password = "sk-..."',
        'password = "Xk9mP2qL7vR..."',
        'password = "${DB_PASS}_Xk9m2"',
        'password = "user_{env}_2024"',
        'password = "%s:%s@db1"',
        'password = "changeme1234!X"',
        "DB_PASSWORD=${DB_PASS}",
        # code: brackets that close, a call on a name in words or on its argument
        "password = foo(bar);",
        "password = getpass(",
        "password = base64.b16encode(random_bytes[8:])  # Must be valid UTF-8",
        "\tuserPass = USER_PASS_REGEXP.exec(utf8Decoder.decode(decodeBase64(match[1])));",
        "pkcs_9_ub_challengePassword = univ.Integer(pkcs_9_ub_pkcs9String)",
        "password = hashlib.sha256(pw2x",
        "password = self.vault.get(cfg_v2",
        # a line's rest that is a list of pairs, or not a line's rest
        "DB_PASSWORD=abc;user=foo",
        "token: state.token,",
        "password: <your-password>",
    ],
)
def test_the_benign_twins_stay_quiet(text: str) -> None:
    assert _blocked(text) == []


def test_a_line_rest_after_a_member_name_is_read_as_a_tool_argument_holds_it() -> None:
    """``detectors.secret_line`` writes a string under its member's name (``content: …``)."""
    for text in ("db_password: J;mq<U4ySVChmF", "export DB_PASSWORD=FyT6Fm}o0@wRWKohgEL"):
        found = scan_arguments({"content": text})
        assert any(RANK[f.severity] >= RANK[Severity.HIGH] for f in found), text


def test_a_key_that_does_not_start_its_line_keeps_the_code_reading() -> None:
    """``;`` ends the value where the key is not at a line's start: a statement's end."""
    assert _blocked("x = 1; db_password: J;mq<U4ySVChmF") == []


# Seeded draws from the rule sets' alphabets for these passwords (gitleaks' database-password,
# ``[a-zA-Z0-9:;<@=}!$?^]{12,24}``, and hashicorp-tf-password, ``[a-z0-9=_-]{8,20}``) and of
# letters alone, in the forms the rules name. Before this round: 0 %, 78-86 %, 54-99 % and
# 84-88 %; the floors are what this tree finds less a margin (draws that read as a word and a
# number, or start a pattern's ``^``, stay quiet by design).
_E = string.ascii_lowercase + string.digits + "=_-"
_P = string.ascii_letters + string.digits + ":;<@=}!$?^"
_FORMS = (
    lambda v: f'administrator_login_password = "{v}"',
    lambda v: f"export DB_PASSWORD={v}",
    lambda v: f"db_password: {v}",
    lambda v: json.dumps({"db_password": v}),
)


@pytest.mark.parametrize(
    ("alphabet", "lo", "hi", "floor"),
    [
        (_E, 8, 9, 0.62),
        (_E, 8, 20, 0.85),
        (_P, 12, 24, 0.92),
        (string.ascii_letters, 12, 24, 0.92),
    ],
)
def test_drawn_passwords_block_in_every_form(alphabet: str, lo: int, hi: int, floor: float) -> None:
    rng = random.Random(f"{alphabet}{lo}")
    for form in _FORMS:
        values = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi))) for _ in range(200)
        ]
        hit = sum(bool(_blocked(form(v))) for v in values)
        assert hit >= floor * len(values), (form("…"), hit)


_WORDS = (
    "admin", "secret", "master", "welcome", "dragon", "monkey", "summer", "winter", "letmein",
    "shadow", "sunshine", "princess", "football", "qwerty", "trustno", "database", "postgres",
    "mysql", "redis", "server", "default", "backup", "service", "deploy", "account", "manager",
)  # fmt: skip


def test_words_numbers_and_names_under_a_password_key_stay_quiet() -> None:
    """A word and a number of 8 or 9 characters (``admin123``: longer ones were passwords
    before this round and still are), two or three words as a name (``dbPassword``,
    ``master_key_file``): what documentation and code write, not a drawn password."""
    rng = random.Random(11)
    for _ in range(300):
        a, b, c = rng.sample(_WORDS, 3)
        for value in (
            f"{a}{rng.randint(10, 9999)}"[:9],
            f"{a.capitalize()}{rng.randint(1, 99)}"[:9],
            f"{a}{b.capitalize()}",
            f"{a}{b.capitalize()}{c.capitalize()}",
            f"{a}_{b}_{c}",
        ):
            for form in _FORMS:
                assert _blocked(form(value)) == [], form(value)
