"""What a value found beside a credential word is when it is not a secret: code, a name, prose.

The keyword rules (``secret.assignment``, the provider-named keys, ``secret.auth_header``) see
``<credential word> <separator> <value>`` and must tell a literal secret from what the same
words are followed by in source code, documentation and commit messages, which is nearly all
of their matches on real text (measured in ``tests/detectors/secret_negatives.py``):

- *code*: a call, a subscript or a generic type (``os.getenv(``, ``Optional[str``,
  ``z.ZodOptional<``, ``(Optional[str]): …``), a pointer or a flag (``*SecurityAttributes``,
  ``-linecomment``);
- *a name*: a reference to another variable or constant, an identifier path whose parts are
  words (``self._expected_authorization``, ``clientsDoExpire``, ``STANDARD_RIGHTS_REQUIRED``):
  a random key of ten characters or more has digits inside it or parts without a vowel, all
  but about one in 10⁴ of them (``tests/detectors/test_secret_negatives.py`` draws them);
- *prose*: a word followed by sentence punctuation (``token revocation.``), or a word after a
  credential word with only white space between them (``the token currently``);
- *code as real projects write it* (issue 23, eighth round, measured on 12,571 chunks of real
  code): a declared type or a constant (``X509Credential``, ``kEnumerableProperty``,
  ``SANDBOX_GCP_SERVICE_ACCOUNT_JSON``), a member path, a minified expression, a choice
  (``true|false``), a regular expression, a file path; and documentation's URL user
  information (``username:password@host.com``, ``is_url_template``).

Each predicate is pure and looks at the value and at the character that follows it; the
engine (``ztmcp.detectors.secrets``) applies them. Known example keys are the providers'
documented convention (AWS documents ``AKIAIOSFODNN7EXAMPLE`` and a secret key ending in
``EXAMPLEKEY``), not a list of samples.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

# An identifier path: ``name``, ``self._x``, ``a.b.c``, ``ns::f``, ``p->q``, ``$scope.x``.
_IDENT: Final = r"[A-Za-z_$][A-Za-z0-9_$]*"
# (``this.#field``: a JavaScript private member.)
_PATH: Final = re.compile(rf"{_IDENT}(?:(?:\.#?|::|->){_IDENT})*")
# Words of an identifier: CamelCase humps, ALL-CAPS runs, lower-case runs.
_PARTS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_VOWEL: Final = frozenset("aeiouyAEIOUY")
_TRIPLE: Final = re.compile(r"(.)\1\1")
# What ends a sentence or a clause, never a generated secret's last character.
# (From the start of a run only: tried inside a long run of them, ``$`` fails at each.)
_PROSE_END: Final = re.compile(r"(?<![.,:;!?])[.,:;!?]+$")
_FLAG: Final = re.compile(r"--?[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:=\S*)?")
# AWS's documentation convention for example credentials, in the shapes of AWS's keys: an
# access key id (20 capitals and digits) ending in EXAMPLE, a secret access key (40 base64
# characters) ending in EXAMPLEKEY. Only those: any other key with the suffix is a key.
_AWS_EXAMPLE: Final = re.compile(r"[A-Z0-9]{13}EXAMPLE|[A-Za-z0-9/+]{30}EXAMPLEKEY")


def trim_prose(value: str) -> str:
    """``value`` without the sentence punctuation that follows a word in prose."""
    return _PROSE_END.sub("", value)


def _is_word(part: str) -> bool:
    return any(c in _VOWEL for c in part) and _TRIPLE.search(part) is None


_CONSONANTS: Final = re.compile(r"[^aeiouyAEIOUY]{4}")
_LETTERS: Final = re.compile(r"[A-Za-z]+(?:[._/-][A-Za-z]+)*")


def _is_english(part: str) -> bool:
    """A word as written: a quarter of its letters vowels, no four consonants in a row, no
    letter three times (a random lower-case run of 16 letters passes with odds about 1 in 14,
    of mixed case about 1 in 160: the parts split it)."""
    vowels = sum(c in _VOWEL for c in part)
    return (
        vowels * 4 >= len(part)
        and _CONSONANTS.search(part) is None
        and _TRIPLE.search(part) is None
    )


def reads_as_words(value: str) -> bool:
    """Letters in words with ``._/-`` between them (``Unauthorized``, ``Explicitly-provided``,
    ``token.message``): every CamelCase/ALL-CAPS/lower-case part reads as a word, and a value
    of one part has at most 16 letters."""
    if _LETTERS.fullmatch(value) is None:
        return False
    parts = _PARTS.findall(value)
    if len(parts) == 1 and len(value) > 16:
        return False
    return all(_is_english(p) for p in parts)


def reads_as_name(value: str) -> bool:
    """An identifier path made of words: two or more parts (CamelCase humps, ``_`` or ``.``
    pieces), each with a vowel and no letter three times in a row, digits only at the end of
    a piece (``u16``, ``v2``). A single word is left to the entropy test."""
    if _PATH.fullmatch(value) is None:
        return False
    if not named(value):
        return False  # a digit inside a piece: generated, not named
    words = _PARTS.findall(value)
    return len(words) >= 2 and all(_is_word(w) for w in words)


def is_code(value: str, after: str) -> bool:
    """``value`` (followed in the text by ``after``, "" at the end) is an expression, not a
    literal: a call, subscript or generic type on an identifier path, a parenthesised aside,
    a pointer to a name or a command-line flag."""
    if value.startswith(("(", "[", "{")):  # an aside, a list, a mask, a literal
        # ... whose runs as long as a key are written by hand: a bracket put before a key
        # ("{Xk9pQ2vZ7mL3bN8r}") does not make it one.
        if value.startswith("(!"):  # a negated call (``(!p.pos.IsValid()``)
            name = _PATH.match(value, 2)
            return name is not None and _code_name(name.group()) and value[name.end() :] in "()"
        return (
            len(value) > 1
            and (value[1].isalnum() or value[1] in "_$([{")
            and all(_hand_named(run) for run in _KEY_RUN.findall(value))
        )
    if value.startswith(("*", "&")) and _PATH.fullmatch(value[1:]):
        return reads_as_name(value[1:]) or value[1:].isalpha()
    if value.startswith("&") and (name := _PATH.match(value, 1)) is not None:
        # Go's address of a literal (``&Block{Type``): a name written by hand, then code
        return named(name.group()) and is_code(value[1:], after)
    if _FLAG.fullmatch(value):
        return True
    m = _PATH.match(value)
    if m is None:
        return False
    path, rest = m.group(), value[m.end() :]
    if not rest:  # a name followed by a call, a generic or a subscript: "z.ZodOptional<"
        return after in ("(", "<", "[") and named(path)
    if rest[0] not in "([{":
        return False
    if _ARGUMENT.fullmatch(rest) and reads_as_name(rest[1:].rstrip(")")):
        return True  # a call on a name: "b64u(encryptedKey)"
    # A call, subscript or literal on a name, its arguments here or on the next lines: a name
    # written by hand, or half of it words and one number at most in each piece
    # ("base64.b64encode(", "Pkcs_12PbeParams("); not "X7y(abc", the start of a password, nor
    # a key with a bracket put after it (a part of it may read as a word, but its digits are
    # spread over it).
    return _hand_named(path)


def _hand_named(path: str) -> bool:
    """A name written by hand, or half of it words and one number at most in each piece."""
    words = sum(len(p) for p in _PARTS.findall(path) if len(p) >= 3 and _is_english(p))
    return named(path) or (_numbered(path) and words * 2 >= len(path))


# A run of letters and digits as long as a key.
_KEY_RUN: Final = re.compile(r"[A-Za-z0-9]{12,}")


# A piece of a name with a number in it: one run of digits at most (``b64encode``, ``x509``).
_ONE_NUMBER: Final = re.compile(r"[^0-9]*(?:[0-9]+[^0-9]*)?")


def _numbered(path: str) -> bool:
    """One run of digits at most in each piece of ``path`` (``base64.b64encode``,
    ``Pkcs_12PbeParams``): a name with numbers in it; a generated key has several."""
    return all(_ONE_NUMBER.fullmatch(piece) for piece in re.split(r"\.|::|->|_|\$", path))


_ARGUMENT: Final = re.compile(rf"\({_IDENT}(?:\.{_IDENT})*\)?")


def named(path: str) -> bool:
    """No digit inside a piece of ``path`` (split at ``. :: -> _ $``): written by hand, not
    generated (``X7y(`` is the start of a password, not a call; ``API_KEY`` a name)."""
    return not any(
        any(c.isdigit() for c in piece.rstrip("0123456789"))
        for piece in re.split(r"\.|::|->|_|\$", path)
    )


def is_written_name(value: str) -> bool:
    """An identifier path written by hand (``rust_openssl.hpke``, ``KeyCurveName.p_384``): no
    digit inside a piece, which all but a few generated keys have."""
    return _PATH.fullmatch(value) is not None and named(value)


def hand_written(path: str) -> bool:
    """The pieces of ``path`` (split at ``/ # :``) that look generated hold fewer than 12
    characters in all (``generated_piece``: a digit inside, or eight letters or more that do
    not read as words). Short pieces may have a digit (``k8s``, ``oauth2``, ``v1beta1``); a key
    of 12 or more looks generated all but a few times, and no addition around it, nor its own
    '/' cutting it into short pieces (base64), removes that."""
    return sum(len(p) for p in re.split(r"[/#:]", path) if generated_piece(p)) < 12


def generated_piece(piece: str) -> bool:
    """A digit inside (not ``named``), or eight letters or more of which fewer than half are
    in parts that read as words (``esuWxJlYFQ``; not ``MyBucketFolder``, ``abstract-token``)."""
    if not named(piece):
        return True
    letters = sum(c.isalpha() for c in piece)
    if letters < 8:
        return False
    words = sum(len(p) for p in _PARTS.findall(piece) if _reads_as_word(p))
    return words * 2 < letters


def _reads_as_word(part: str) -> bool:
    """A part of a name that reads as a word: as written (``_is_english``), or five letters or
    more in lower case (a capital first) with a vowel, whatever its consonants (``abstract``,
    ``Strength``: random letters of both cases seldom run to five of one case)."""
    if len(part) < 3:
        return False
    return _is_english(part) or (len(part) >= 5 and part[1:].islower() and _is_word(part))


# Written English runs four consonants or more together only across a syllable's end and the
# next one's start (``databa-secon-nection-string``: "n" then "str"; ``fox-jumps``): the
# ends (codas) and starts (onsets) it spells. A compound of words splits its clusters so;
# random letters seldom do (measured on 200,000 draws of 20 lower-case letters: 3.42 % read
# as ``_is_english`` before, 3.47 % with the split clusters).
_ONSET_LIST: Final = (
    "b c d f g h j k l m n p q r s t v w x y z bl br ch cl cr dr fl fr gl gr kn pl pr qu sc sch"
    " scr sh shr sk sl sm sn sp sph spl spr st str sw th thr tr tw wh wr"
)
_CODA_LIST: Final = (
    "b c ck ct d f ft g gh ght h k l lc ld lf lk ll lm lp ls lt m mp n nc nch nd ng ngs nk ns"
    " nt p ph pt r rb rc rch rd rf rg rk rl rm rn rp rs rst rt rth s sh sk sp ss st t th tch ts"
    " w x xt y z"
)
_ONSETS: Final = frozenset(_ONSET_LIST.split())
_CODAS: Final = frozenset(_CODA_LIST.split())
_CLUSTER: Final = re.compile(r"[^aeiouy]{4,}")


def _spelt_as_syllables(cluster: str) -> bool:
    return any(cluster[:i] in _CODAS and cluster[i:] in _ONSETS for i in range(1, len(cluster)))


def _is_compound(part: str) -> bool:
    """``_is_english`` (lower case), its clusters of four consonants or more allowed where
    each splits into a syllable's end and the next one's start."""
    return _vowel_margin(part) >= 0 and _spelt(part)


# Technical morphemes English does not spell: acronyms and abbreviations of three letters or
# more without a vowel or with clusters no syllable has (``sql``, ``http``, ``json``). Joined to
# words (``postgresqlconnectionstring``: "sqlc" is neither a coda and an onset nor a word's),
# they made a one-case compound read as letters drawn at random. Rules as data: a morpheme
# here is cut out of a one-case value before its pieces are read as a compound's.
_TECH_MORPHEME_LIST: Final = (
    "sql mysql psql nosql graphql sqlite json jsonl yaml yml toml xml html xhtml http https"
    " ssh ssl tls mtls tcp udp dns cdn url uri jwt jwk jwks grpc rpc smtp ftp sftp ldap"
    " ldaps mfa otp totp hmac rsa ecdsa sha pgp gpg npm pnpm cpu gpu cfg pkg src dst tmp msg"
    " ctx cmd svc srv mgr conn aws gcp gke eks aks kms iam sdk cli vpc vpn dsn csv tsv pdf png"
    " jpg svg css scss uuid guid sso crm ssr wss utf nginx acl xsrf csrf cors spf dkim"
    " dmarc smb nfs tty pty stdin stdout stderr cwd pwd env ctl dbg lvl txn saml rabbitmq"
    " mongodb dynamodb influxdb couchdb duckdb"
)
_TECH_MORPHEMES: Final = frozenset(_TECH_MORPHEME_LIST.split())
_TECH_MORPHEME_TUPLE: Final = tuple(sorted(_TECH_MORPHEMES))
_MORPHEME_LENGTHS: Final = sorted({len(w) for w in _TECH_MORPHEMES})
# Their first three letters (each has three or more, tested): a morpheme is looked for only
# where one of these starts, one set test per letter.
_MORPHEME_STARTS: Final = frozenset(w[:3] for w in _TECH_MORPHEMES)
# More morphemes than this in one value: it is not read as a compound (the reading tries each
# pair of them; letters drawn at random seldom hold even a few).
_MORPHEMES_MAX: Final = 12


def _spelt(piece: str) -> bool:
    """``_is_compound`` but for its count of vowels: no letter three times, and each cluster of
    four consonants or more a syllable's end and the next one's start."""
    return _TRIPLE.search(piece) is None and all(
        _spelt_as_syllables(m.group()) for m in _CLUSTER.finditer(piece)
    )


def _vowel_margin(piece: str) -> int:
    """Four times the vowels less the letters: 0 or more where a quarter are vowels."""
    return 4 * sum(c in _VOWEL for c in piece) - len(piece)


def _is_technical_compound(part: str) -> bool:
    """``_is_compound`` (lower case), or so once some technical morphemes are cut out of it
    (``postgre`` + ``sql`` + ``connectionstring``), or a letter three times cut where two
    words join (``access`` + ``snapshot``): the pieces left are each spelt as English is
    (``_spelt``) and a quarter of their letters together are vowels (``string`` has few, its
    neighbours more). Every choice of cuts is tried (``http`` or ``https`` in ``httpstring``) by
    one walk over their ends, keeping at each the most vowels; at most ``_MORPHEMES_MAX``
    cuts, else the value is not read as one (letters drawn at random seldom hold a few)."""
    if _is_compound(part):
        return True
    found = [
        (i, i + n)
        for i in range(len(part) - 2)
        if part[i : i + 3] in _MORPHEME_STARTS
        for n in _MORPHEME_LENGTHS
        if i + n <= len(part) and part[i : i + n] in _TECH_MORPHEMES
    ]
    # a letter three times is two words' join (``access`` + ``snapshot``): a cut inside it
    found += [(m.start() + 2, m.start() + 2) for m in _TRIPLE.finditer(part)]
    if not found or len(found) > _MORPHEMES_MAX:
        return False
    best = {0: 0}  # where a piece may start: the most vowel margin a walk brings there
    for s in sorted({0, *(b for _a, b in found)}):
        if s not in best:
            continue
        margin = best[s]
        rest = part[s:]
        if _spelt(rest) and margin + _vowel_margin(rest) >= 0:
            return True
        for a, b in found:
            if a >= s and b > s and (a == s or _spelt(part[s:a])):
                reached = margin + _vowel_margin(part[s:a])
                if reached > best.get(b, reached - 1):
                    best[b] = reached
    return False


@lru_cache(maxsize=4096)  # (a value is asked about by several checks in turn)
def random_letters(value: str) -> bool:
    """Twenty letters or more of one case that do not read as words: drawn, not written
    (``hwnhentwthgnfvllgiqqxhdt``; not ``thisisnotarealsecret``, which does, nor
    ``postgresqlconnectionstring``, a compound of technical words). Random letters have four
    consonants in a row or too few vowels all but about 1 in 10³ times at 20."""
    return (
        len(value) >= 20
        and value.isascii()
        and value.isalpha()
        and (value.islower() or value.isupper())
        and not _is_technical_compound(value.lower())
    )


# The tokens a platform, a build or a release is named with (target triples, wheel and image
# tags, versions): architectures, vendors, systems, ABIs, distributions and release words.
# Rules as data. Their digits (``x86_64``, ``aarch64``, ``cp311``) are a name's, not drawn.
_PLATFORM_TOKEN_LIST: Final = (
    # architectures
    "x86 x64 amd64 arm arm64 aarch64 be armv5te armv6 armv6l armv7 armv7a armv7l armv7s"
    " armv8 armhf armel thumbv7em thumbv7m thumbv6m i386 i486 i586 i686 ia32 ia64 ppc ppc64"
    " ppc64le powerpc powerpc64 powerpc64le s390x riscv32 riscv64 riscv64gc mips mipsel mips64"
    " mips64el loongarch64 sparc sparc64 sparcv9 wasm32 wasm64 universal universal2 noarch"
    # vendors and systems
    " pc apple unknown none linux darwin macos macosx osx ios tvos watchos windows win win32"
    " win64 w64 mingw mingw32 mingw64 cygwin msys freebsd netbsd openbsd dragonfly"
    " android androideabi fuchsia solaris illumos aix haiku redox wasi emscripten uefi cuda"
    # ABIs and libcs
    " gnu gnueabi gnueabihf gnux32 gnuabi64 gnuspe musl musleabi musleabihf eabi eabihf msvc"
    " elf uclibc ohos sim macabi"
    # package tags and distributions
    " manylinux manylinux1 manylinux2010 manylinux2014 musllinux any abi3 cp py py2 py3 pp"
    " ubuntu debian alpine centos fedora rhel el rocky alma amzn amazonlinux bookworm bullseye"
    " buster stretch focal jammy noble bionic xenial trixie slim lts"
    # runtimes, as images and archives name them (``node-v18.17.0-linux-x64``, ``python-3.11``)
    " node nodejs python pypy java jdk jre openjdk temurin go golang rust ruby php dotnet"
    " net deno bun erlang otp elixir"
    # release words
    " v rc alpha beta dev post pre preview nightly stable latest release final snapshot"
)
_PLATFORM_TOKENS: Final = frozenset(_PLATFORM_TOKEN_LIST.split())
# A piece of a platform name or a version: a token, a token and a number (``cp311``,
# ``manylinux2014``, ``el8``, ``rc1``), or a number of up to eight digits (``22``, ``04``,
# ``20240115``). Pieces are split at ``. - _ + / ~ :``; ``x86_64`` is two, ``python:3.12`` three.
_PLATFORM_PIECE: Final = re.compile(r"([a-z][a-z0-9]*?)?([0-9]{1,8})?")
_PLATFORM_SPLIT: Final = re.compile(r"[-._+/~:]")


def names_a_platform(value: str) -> bool:
    """A value made of platform and release tokens, numbers and separators, one token at
    least (``x86_64-linux-gnu``, ``aarch64-apple-darwin``, ``cp311-manylinux_2_17_x86_64``,
    ``ubuntu-22.04``, ``v1.2.3-rc1``): a name whose digits are the tokens', not a generated
    key's (a key's pieces are drawn, so not tokens, whatever a token is put beside them)."""
    tokens = 0
    for piece in _PLATFORM_SPLIT.split(value.lower()):
        if not piece:
            continue
        if piece in _PLATFORM_TOKENS:
            tokens += 1
            continue
        m = _PLATFORM_PIECE.fullmatch(piece)
        if m is None or (m.group(1) is not None and m.group(1) not in _PLATFORM_TOKENS):
            return False
        tokens += m.group(1) is not None
    return tokens > 0


# Where a secret is kept, each ending in the pieces ``hand_written`` judges: an ARN of an AWS
# partition (service, region and account as AWS writes them; S3's have neither region nor
# account), a URN with a namespace of 2 to 32 characters (RFC 8141), a lower-case scheme then
# a path of two pieces or more (``vault:secret/data/app#token``, ``gcp-sm:projects/p/secrets/k``).
# The pieces, not the prefix, decide: anyone can write ``urn::`` or ``ab:`` before a key.
_ARN: Final = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:(?:\d{12})?:(\S+)")
_URN: Final = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:(\S+)")
_STORE: Final = re.compile(r"[a-z][a-z0-9-]{1,15}:([A-Za-z0-9._~-]+(?:[/#:][A-Za-z0-9._~-]+){2,})")
# Secrets Manager appends six random characters to a secret's name in its ARN.
_SECRETS_MANAGER_SUFFIX: Final = re.compile(r"-[A-Za-z0-9]{6}$")
# A path of lower-case pieces (``projects/p/secrets/api-key/versions/latest``, ``/run/secrets/db``):
# the one secret alphabet with '/' is base64, whose values mix both cases.
_LOWER_PATH: Final = re.compile(r"/?[a-z0-9._~-]+(?:/[a-z0-9._~-]+)+/?")


def _resource_pieces(value: str) -> str | None:
    """The part of ``value`` after a resource name's scheme, or None if it has none."""
    if m := _ARN.fullmatch(value):
        service, resource = m.groups()
        return (
            _SECRETS_MANAGER_SUFFIX.sub("", resource) if service == "secretsmanager" else resource
        )
    if m := _URN.fullmatch(value) or _STORE.fullmatch(value):
        return m.group(1)
    if _LOWER_PATH.fullmatch(value) and any(c.isalpha() for c in value):
        return value
    return None


def is_resource_name(value: str) -> bool:
    """An ARN, a URN, a secret store's path (``scheme:a/b/c``) or a path of lower-case pieces,
    each piece written by hand: where a secret is, not one."""
    pieces = _resource_pieces(value)
    return pieces is not None and hand_written(pieces)


def is_reference(value: str, after: str) -> bool:
    """Code, a name, or a resource name: what a credential word is followed by in source and
    configuration, not a secret."""
    return (
        is_code(value, after)
        or is_expression(value)
        or is_choice(value)
        or is_pattern_literal(value)
        or is_named(value)
    )


def is_named(value: str) -> bool:
    """A name, a constant's name, a member path, a resource or a file: what a string literal
    beside a credential word holds in code and configuration
    (``workspace_secret("SANDBOX_GCP_SERVICE_ACCOUNT_JSON")``, ``PWD: '/Users/maciej'``). Not
    code, choices or patterns: a quoted password may hold a '(', a '|' or start with a '^'
    (``is_reference`` reads those too, for unquoted values)."""
    return (
        reads_as_name(value)
        or reads_as_affixed_name(value)
        or names_a_constant(value)
        or reads_as_member_path(value)
        or is_resource_name(value)
        or is_file_path(value)
    )


# -- names as code writes them (issue 23, eighth round) ----------------------------------------
# A declared type, a constant or a private member beside a credential word (``private_key:
# Ed25519PrivateKey``, ``credentials: _ProviderT``, ``withCredentials: kEnumerableProperty``,
# ``workspace_secret("SANDBOX_GCP_SERVICE_ACCOUNT_JSON")``) is a name, read by its shape.

# A number that ends a CamelCase hump before the next word (``X509Credential``,
# ``PKCS7Private``, ``OAuth2Refresh``, ``Ed25519Public``): a name's number, as one at a piece's
# end is. (A capital then a lower-case letter: after one digit of a random key, 1 in 6.)
# (After a capital, or a capital and one lower-case letter: ``PKCS7``, ``Ed25519``; not
# ``jk8Bv``, a random key's. ``OAuth2Refresh`` is not read so: with up to three lower-case
# letters, 1 in 5,000 keys dressed as ``self._lib.<key>`` passed, none of 40,800 without.)
_HUMP_NUMBER: Final = re.compile(r"(?:(?<=[A-Z])|(?<=[A-Z][a-z]))[0-9]+(?=[A-Z][a-z])")


def named_in_humps(path: str) -> bool:
    """``named``, a number before the next word's hump or a ``-`` ending a piece as well:
    ``X509Credential``, ``MLDSA44PrivateKey``, ``as1-client-secret``. A generated key has digits
    before lower-case letters or a capital alone too, all but a few times."""
    return named(_HUMP_NUMBER.sub(lambda m: m.group() + "_", path).replace("-", "_"))


def named_in_words(path: str) -> bool:
    """``named_in_humps``, and half of the letters of each piece of eight characters or more
    in words of three letters or more (``mldsa.MLDSA44PrivateKey``, ``X509Credential``): a key
    whose few digits happen to come before capitals (``<key>.SECRET``, ``self._lib.<key>``,
    drawn by hypothesis) is letters at random, not words."""
    if not named_in_humps(path):
        return False
    for piece in _MEMBER_ACCESS.split(path):
        # (an acronym's letters before its number are a name's: ``MLDSA44``, ``PKCS15``)
        rest = _ACRONYM_NUMBER.sub("0", piece)
        letters = sum(c.isalpha() for c in rest)
        words = sum(len(p) for p in _PARTS.findall(rest) if len(p) >= 3 and _is_english(p))
        if len(piece) >= _PIECE_JUDGED and words * 3 < letters * 2:
            return False
    return True


# A path's pieces (``self._lib.NID_x``: three) and the length from which each is judged alone
# (``self``, ``mldsa`` are an object's or a module's; ``<key>.SECRET`` is a key's).
_MEMBER_ACCESS: Final = re.compile(r"\.#?|::|->")
_ACRONYM_NUMBER: Final = re.compile(r"(?<![A-Z])[A-Z]{2,6}(?=[0-9]+(?:[A-Z][a-z]|$))")
_PIECE_JUDGED: Final = 8


# The most letters of a name's one affix (``k`` of a constant, ``I`` of an interface, ``CK``
# and ``NS`` of a framework, ``T`` of a type variable), and the least of the words beside it.
_AFFIX_MAX: Final = 2
_AFFIXED_WORDS_MIN: Final = 8


def reads_as_affixed_name(value: str) -> bool:
    """A name of words with one short affix, after any leading ``_`` (a private member):
    ``kEnumerableProperty``, ``_ProviderT``, ``CKLocationSortDescriptor``, ``_authorization``.
    Every other part is a word of four letters or more as written (``_is_english``), eight
    letters of them at least: random letters of both cases seldom run to four of one case."""
    bare = value.lstrip("_")
    if not bare or _LETTERS.fullmatch(bare) is None:
        return False
    parts = _PARTS.findall(bare)
    short = [i for i, p in enumerate(parts) if len(p) <= _AFFIX_MAX]
    words = [p for i, p in enumerate(parts) if i not in short]
    if len(short) > 1 or (short and short[0] not in (0, len(parts) - 1)):
        return False
    if not short and bare == value:
        return False  # no affix and no '_': ``reads_as_name`` and the word tests judge it
    return (
        bool(words)
        and sum(map(len, words)) >= _AFFIXED_WORDS_MIN
        and all(len(w) >= 4 and _is_english(w) for w in words)
    )


# A constant's or an environment variable's name: capitals in pieces joined by ``_`` or ``-``.
_CONSTANT: Final = re.compile(r"[A-Z][A-Z0-9]*(?:[_-][A-Z0-9]+)+")
# Its pieces of this many letters or fewer may be abbreviations (``GCP``, ``NDS``, ``SCHED``).
_ABBREVIATION_MAX: Final = 5


def names_a_constant(value: str) -> bool:
    """``SANDBOX_GCP_SERVICE_ACCOUNT_JSON``, ``X-NDS_NOT_CONTAINER``: a name in capitals, a
    reference to a value kept elsewhere (``get_secret("…")``), not one. Digits only at a
    piece's end, longer pieces words of at most 12 letters (a key's random capitals run
    longer, or break the word test), and words two thirds of its letters."""
    if _CONSTANT.fullmatch(value) is None or not named(value.replace("-", "_")):
        return False
    pieces = [p.rstrip("0123456789") for p in re.split(r"[_-]", value)]
    letters = sum(map(len, pieces))
    words = [p for p in pieces if 4 <= len(p) <= 12 and _is_english(p)]
    return (
        all(len(p) <= _ABBREVIATION_MAX or p in words for p in pieces)
        and 3 * sum(map(len, words)) >= 2 * letters
    )


def reads_as_member_path(value: str) -> bool:
    """A path from an object or a module of the code, two members deep at least
    (``self._lib.NID_aes_256_cbc``, ``this.options.authToken``): its first piece a lower-case
    word (``self``, ``this``, ``exports``), every piece a name (``named_in_words``)."""
    if _PATH.fullmatch(value) is None or value.count(".") < 2:
        return False
    first = value.split(".", 1)[0]
    return (
        first.isalpha()
        and first.islower()
        and len(first) <= 8
        and _is_english(first)
        and named_in_words(value)
    )


def is_sibling(key: str, value: str) -> bool:
    """``exports.findX509Credential = exports.findX509OAuthError``: a name of the same object
    or module as the key (their first pieces are one), a name itself (``named_in_words``)."""
    head = key.split(".", 1)[0]
    return (
        "." in key
        and value.startswith(head + ".")
        and _PATH.fullmatch(value) is not None
        and named_in_words(value)
    )


_CHOICE_WORD: Final = re.compile(r"[A-Za-z]{2,16}")


def is_choice(value: str) -> bool:
    """Words between ``|`` (``true|false``, ``on|off|auto``): the values a setting may take, as
    documentation lists them; a secret is one value."""
    pieces = value.split("|")
    return len(pieces) >= 2 and all(
        _CHOICE_WORD.fullmatch(p) is not None and _is_english(p) for p in pieces
    )


def is_pattern_literal(value: str) -> bool:
    """A regular expression written in code (``/^[A-Za-z0-9._~+/-]+=*$/``, ``^[a-f0-9]{40}$``):
    anchored at its start; no key starts with ``^``."""
    return value.startswith(("^", "/^"))


_FILE_PATH: Final = re.compile(r"~?/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)+/?|~/[A-Za-z0-9._-]+")


def is_file_path(value: str) -> bool:
    """An absolute or home path whose pieces are written by hand (``/Users/maciej``,
    ``~/.config/app``; ``hand_written``): where a secret is kept, not one (base64 may start
    with '/', but its pieces look generated). Most of its characters are in pieces that do not
    look generated: a short password that starts with '/' (``/002a01/0-1A0``, drawn by
    hypothesis) is under ``hand_written``'s 12 generated characters but is not a path."""
    if _FILE_PATH.fullmatch(value) is None or not hand_written(value):
        return False
    pieces = [p for p in re.split(r"[/#:]", value) if p]
    generated = sum(len(p) for p in pieces if generated_piece(p))
    return generated * 2 < sum(len(p) for p in pieces)


# A token of an expression: a name or a member path, a number, an operator or a call's bracket.
_EXPRESSION_TOKEN: Final = re.compile(
    r"([A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*)|([0-9]{1,3}(?![0-9A-Za-z_$]))|([?+*(-])"
)


def _code_name(name: str) -> bool:
    """A name as minified or terse code writes it: each ``.`` piece one or two characters, or
    words (``_reads_as_word``, 16 letters at most) and no more parts of one or two letters than
    words, with no digit inside (``named``): ``e.substring``, ``this.pos``, ``p.pos.IsValid``."""
    for piece in name.split("."):
        if len(piece) <= 2:
            continue
        parts = _PARTS.findall(piece)
        words = [p for p in parts if _reads_as_word(p) and len(p) <= _WRITTEN_LETTERS]
        short = [p for p in parts if len(p) <= 2]
        if not named(piece) or not words or len(words) + len(short) < len(parts):
            return False
        if len(short) > len(words):
            return False
    return True


def is_expression(value: str) -> bool:
    """Minified code after a credential word (``token:e?e.substring(0``,
    ``lookAhead=this.pos+1``): names, short numbers and operators, one operator at least and
    a name; each name's pieces one or two characters or words (``_reads_as_word``, 16 letters
    at most: ``this``, ``substring``) with no digit inside (``named``). A generated key's
    runs between base64's ``+`` and ``-``, or after ``e?``, are neither. A
    ``-`` alone joins words as much as it subtracts (``correct-horse-battery-42``, a
    passphrase): it is no operator here."""
    pos = ops = names = 0
    while pos < len(value):
        m = _EXPRESSION_TOKEN.match(value, pos)
        if m is None:
            return False
        if m.group(1) is not None:
            if not _code_name(m.group(1)):
                return False
            names += 1
        elif m.group(3) is not None:
            ops += m.group(3) != "-"
        pos = m.end()
    return ops > 0 and names > 0


def is_comparison(value: str, before: str) -> bool:
    """``value`` (after the character ``before``) is the rest of a comparison in code, not a
    literal: ``==`` or ``===`` whose first ``=`` a connector took (``keyCode===229&&(…``,
    ``keyCode==27?(…``), or an operand that ends in ``===`` or ``!==`` (minified code,
    ``clientSecret:this.expectedAuthMethod===``). A literal compared with in code is quoted
    (``token == "…"``), base64 and hex end in ``==`` at most, and a value that only starts
    with ``=`` after ``:`` or a space is judged as any other."""
    return (before == "=" and value.startswith("=")) or value.endswith(("===", "!=="))


def is_random_uuid(value: str) -> bool:
    """A UUID of version 4 (RFC 9562: 122 random bits; the version digit 4, the variant digit
    8, 9, a or b): what providers issue as API keys (Heroku, HubSpot, Snyk …). A UUID of another
    version is built from a time, a name or a counter (version 1 holds the clock and a MAC
    address), and a hand-made one (``12345678-ABCD-…``) has neither digit: ids, not keys."""
    return (
        len(value) == 36
        and value[14] == "4"
        and value[19] in "89abAB"
        and all(value[i] == "-" for i in (8, 13, 18, 23))
    )


# Values with a format of their own that is not a credential's.
_ORDINARY: Final = re.compile(
    # an ISO 8601 date or timestamp
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    # an e-mail address
    r"|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
    # a MAC address
    r"|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}"
    # numbers joined by dots: an object identifier, a version, an IPv4 address
    r"|[0-9]{1,10}(?:\.[0-9]{1,10}){2,}"
)


def is_ordinary(value: str) -> bool:
    """A date or timestamp, an e-mail address, a MAC address or numbers joined by dots (an
    OID: ``OID_PKCS9_MESSAGE_DIGEST_KEY = '1.2.840.113549.1.9.4'``): a value with a format of
    its own, said about a credential (``token_expires_at: 2026-…``), not one."""
    return _ORDINARY.fullmatch(value) is not None


# The names RFC 2606 reserves for documentation and tests.
_DOCUMENTATION_HOST: Final = re.compile(
    r"(?i)(?:[a-z0-9-]+\.)*example\.(?:com|net|org)|(?:[a-z0-9-]+\.)+(?:example|test|invalid)"
)


def reads_as_prose(password: str) -> bool:
    """Letters, or words percent-encoded with spaces between them (``a%20secret``)."""
    return password.replace("%20", "").isalpha()


def is_documentation_host(host: str) -> bool:
    """``example.com``, ``www.example.org``, ``db.test``: a host that exists only in docs."""
    return _DOCUMENTATION_HOST.fullmatch(host) is not None


def is_aws_example(value: str) -> bool:
    """An AWS documentation example (``AKIAIOSFODNN7EXAMPLE``, ``…EXAMPLEKEY``)."""
    return _AWS_EXAMPLE.fullmatch(value) is not None


# What a documentation, test or template value writes after a provider's prefix: words and
# short numbers, ``._-`` or case changes between them (``configuration``, ``my-test.Key2``).
_WRITTEN: Final = re.compile(r"[._-]*[A-Za-z0-9]+(?:[._-]+[A-Za-z0-9]+)*[._-]*")
_WRITTEN_SPLIT: Final = re.compile(r"[._-]+")
# A piece as names are written: one case, or CamelCase (a capital then lower case letters,
# each hump), then a number; not ``gefa86cfa`` (a digit inside) nor ``bboOYXCbsu``.
_WRITTEN_PIECE: Final = re.compile(r"(?:[A-Z]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*)?[0-9]*")
_WRITTEN_PARTS: Final = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# The most digits a number written among words has (``v1``, ``2``, ``404``): a generated
# remainder's digit runs are its alphabet's, seldom beside parts that all read as words.
_WRITTEN_DIGITS: Final = 3
# ... or a number ending in a digit six times over (``ghp_PersonalAccessToken0124567890000000``:
# filler, as documentation writes an example; a random remainder ends so once in 10^5 and more).
_FILLER_DIGITS: Final = re.compile(r"([0-9])\1{5}$")
# The most letters one word of it has (``reads_as_words``' bound for a value of one part): a
# longer run of one case is read as drawn, since the compound reading takes a few in a hundred
# random ones (``LTAIpzarjdykejrfsmbozgix``: Alibaba's 20 lower-case letters and digits).
_WRITTEN_LETTERS: Final = 16


# Letters of hex keys and their kin (``[a-h0-9]``): a remainder spelt with these alone
# (``feafgeaef027``) may be drawn from them, however it reads.
_HEX_LETTERS: Final = frozenset("abcdefgh")
_NOT_LETTERS: Final = str.maketrans("", "", "0123456789._-")
_EDGE_CONSONANTS: Final = re.compile(r"^([^aeiouy]*).*?([^aeiouy]*)$")


def _written_word(part: str) -> bool:
    """A compound of words (``_is_technical_compound``) that starts as a syllable starts and
    ends as one ends (``_ONSETS``, ``_CODAS``), or with a technical morpheme (``sql``):
    not ``rjuraus`` nor ``kiquihf``, which the compound reading alone takes."""
    m = _EDGE_CONSONANTS.match(part)
    if m is None or not _is_technical_compound(part):
        return False
    lead, trail = m.group(1), m.group(2)
    return (not lead or lead in _ONSETS or part.startswith(_TECH_MORPHEME_TUPLE)) and (
        not trail or trail in _CODAS or part.endswith(_TECH_MORPHEME_TUPLE)
    )


def written_in_words(value: str) -> bool:
    """``value`` is one or more words, each of three to 16 letters that read as English or as a
    compound of English and technical words (``_written_word``: as ``random_letters`` reads
    them, with a syllable's edges), and numbers of at most ``_WRITTEN_DIGITS`` digits at the
    end of a piece (``v1``, ``key2``), split at ``._-`` and at case changes; each piece in one
    case or CamelCase (``_WRITTEN_PIECE``), and some letter past ``h`` (``_HEX_LETTERS``). A
    generated remainder splits at its case changes into parts of a letter or two, or has runs
    of consonants no word has (measured per shape's alphabet and length:
    ``tests/detectors/test_secret_prefix_words.py``, ``docs/detection.md``)."""
    if _WRITTEN.fullmatch(value) is None:
        return False
    if not all(_WRITTEN_PIECE.fullmatch(piece) for piece in _WRITTEN_SPLIT.split(value)):
        return False  # a digit inside a piece, or case changing as no name changes it
    parts = _WRITTEN_PARTS.findall(value)
    words = [p for p in parts if not p.isdigit()]
    return (
        bool(words)
        and not _HEX_LETTERS.issuperset(value.lower().translate(_NOT_LETTERS))
        and all(len(p) <= _WRITTEN_DIGITS or _FILLER_DIGITS.search(p) for p in parts if p.isdigit())
        and all(3 <= len(w) <= _WRITTEN_LETTERS and _written_word(w.lower()) for w in words)
    )


# -- URL credentials in documentation (issue 23, eighth round) ---------------------------------
# Documentation writes a URL's user information with the names of its parts:
# ``https://username:password@host.com``, ``hdfs://username:pwd@node``, ``gist://user:token@id``,
# ``smb://workgroup;user:password@server``, ``github://org:repo@sha``. Rules as data: the
# names of each part's role (``my``/``your`` before one is the same name), and the
# metasyntactic words every part may take (``foo:bar@bar.com``).
_PASSWORD_ROLE_LIST: Final = "password passwd pass pwd pw passphrase secret token key apikey"
_USER_ROLE_LIST: Final = "user username usr login name account org workgroup domain"
_HOST_ROLE_LIST: Final = (
    "host hostname server node localhost machine remote proxy id sha addr address ip"
)
_METASYNTACTIC_LIST: Final = "foo bar baz qux quux"
_PASSWORD_ROLES: Final = frozenset((_PASSWORD_ROLE_LIST + " " + _METASYNTACTIC_LIST).split())
_USER_ROLES: Final = frozenset((_USER_ROLE_LIST + " " + _METASYNTACTIC_LIST).split())
_HOST_ROLES: Final = frozenset((_HOST_ROLE_LIST + " " + _METASYNTACTIC_LIST).split())
# What a documentation host's name ends with besides its role: a top-level domain of the
# examples' (``host.com``, ``myserver.local``), a port or a number (``node1``).
_TOP_LEVEL_LIST: Final = "com net org io local localdomain lan internal"
_TOP_LEVEL: Final = frozenset(_TOP_LEVEL_LIST.split())
_OWNER: Final = re.compile(r"^(?:my|your|the|some)[_-]?")
_ROLE_PIECES: Final = re.compile(r"[^A-Za-z0-9]+")


def _role(word: str, roles: frozenset[str]) -> bool:
    w = word.lower()
    return w in roles or _OWNER.sub("", w) in roles


def _named_by_roles(part: str, roles: frozenset[str]) -> bool:
    """Every piece of ``part`` (split at what is not a letter or a digit) is the name of a role
    (``myserver``, ``workgroup;user``), a top-level domain or a number; one role at least."""
    pieces = [p.rstrip("0123456789") for p in _ROLE_PIECES.split(part) if p]
    named_ = [p for p in pieces if p and _role(p, roles)]
    return bool(named_) and all(not p or p in named_ or p.lower() in _TOP_LEVEL for p in pieces)


def is_url_template(user: str, password: str, host: str) -> bool:
    """``user:password@host`` as documentation writes it: a host named by its role (``host``,
    ``node``, ``myserver.com``, ``localhost``) with a password named by its role
    (``password``, ``pwd``, ``mypassword``), or with a user named so and a word as the password
    (``github://org:repo@sha``); or one letter each for the user and the password
    (``https://a:b@…``). A real host keeps a role word as its password reported
    (``https://username:password@yelp.com`` is detect-secrets' own positive), and a generated
    password is reported whatever its user and host."""
    if len(user) <= 1 and len(password) <= 1:
        return True
    if not _named_by_roles(host, _HOST_ROLES):
        return False
    if _named_by_roles(password, _PASSWORD_ROLES):
        return True
    return _named_by_roles(user, _USER_ROLES) and reads_as_words(password)
