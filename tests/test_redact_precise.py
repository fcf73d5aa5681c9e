"""Issue 13: locate every detected secret, mask credential shapes, keep IaC evidence readable.

Every secret-looking value here is assembled at run time (split prefixes plus
`random.Random` characters), as in tests/canaries.py: the project scans itself,
and a literal token in this file would be a finding of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from canaries import Corpus, build, iac_fixture

from pipeline import redact
from pipeline.redact import MASK, find_hashed, mask_line, redact_text

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
PW = "pass" + "word"
SEC = "sec" + "ret"
TOK = "to" + "ken"
PK = "PRIV" + "ATE KEY"
"""Key-armour words, split: a literal BEGIN line would be a finding of the self-scan."""

READABLE_SHARE = 0.95

SCRUBBER_ONLY: dict[str, str] = {}
"""Canary kinds whose line mask_line cannot recognise, so that only the exact values
detect-secrets reports (Scrubber) hide them, with the reason. None today: every canary
line is credential-shaped, assigned to a secret-named key, or random-looking."""


def _rnd(seed: int = 7) -> random.Random:
    return random.Random(seed)


def _s(rnd: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(n))


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()


# --- find_hashed ----------------------------------------------------------------------------


def _ending(last: str, seed: int, alphabet: str = B64) -> str:
    return _s(_rnd(seed), 30, alphabet) + last


FIND_CASES: list[tuple[str, Callable[[str], str], str]] = [
    ("ends in =", lambda v: f'  {PW} = "{v}"', base64.b64encode(b"0123456789abcdefg").decode()),
    ("ends in ==", lambda v: f'  default   = "{v}"', base64.b64encode(b"0123456789abcdef").decode()),
    ("ends in /", lambda v: f"bind_{PW} = {v}", _ending("/", 1)),
    ("ends in +", lambda v: f"SESSION_{SEC.upper()}={v}", _ending("+", 2)),
    ("ends in -", lambda v: f"ARG DEPLOY_{SEC.upper()}={v}", _ending("-", 3, ALNUM + "-_")),
    ("quote inside double quotes", lambda v: f'  client_{SEC}: "{v}"', _ending("'", 4, ALNUM)),
    ("base64 with + and /", lambda v: f'aws_{SEC}_access_key = "{v}"', "a+b/" + _s(_rnd(5), 36, B64)),
    ("URL userinfo", lambda v: f"DATABASE_URL=postgres://app:{v}@db.internal:5432/app", _s(_rnd(6), 22)),
    ("URL userinfo f-string", lambda v: f'URL = f"https://svc:{v}@{{HOST}}/v2"', _s(_rnd(8), 20)),
    ("YAML key: value", lambda v: f"  db-{PW}: {v}", _s(_rnd(9), 24)),
    ("env KEY=value", lambda v: f"API_{TOK.upper()}={v}", _s(_rnd(10), 40)),
    ("Dockerfile ENV A=b", lambda v: f"ENV API_{TOK.upper()}={v}", _s(_rnd(11), 40)),
    ("Dockerfile ENV A b", lambda v: f"ENV API_{TOK.upper()} {v}", _s(_rnd(12), 40)),
    ("short flag -p", lambda v: f"mysql -h db -u root -p{v} app < schema.sql", _s(_rnd(13), 16)),
    ("JSON escaped quotes", lambda v: f'    "openai.api_key = \\"{v}\\"\\n",', "sk-" + _s(_rnd(14), 40)),
    ("on a 2,500-character line", lambda v: "x = 1; " * 357 + f'{TOK} = "{v}"', _s(_rnd(15), 32)),
]


@pytest.mark.parametrize(("line_of", "value"), [c[1:] for c in FIND_CASES], ids=[c[0] for c in FIND_CASES])
def test_find_hashed_locates_values_of_any_shape(line_of: Callable[[str], str], value: str) -> None:
    line = line_of(value)
    assert value in line
    assert find_hashed(line, _sha1(value)) == value


def _minified(planted: str, chars: int = 100_000) -> str:
    parts = ["!function(){"]
    n = 0
    while sum(map(len, parts)) < chars // 2:
        parts.append(f"var a{n}=function(b){{return b+{n}}};")
        n += 1
    parts.append(f'window.__CFG__={{apiBase:"https://api.acme.example",ghToken:"{planted}"}};')
    while sum(map(len, parts)) < chars:
        parts.append(f"var c{n}=a{n % 97}({n});")
        n += 1
    return "".join(parts) + "}();"


class _CountingSha1:
    """Counts the hashes find_hashed computes (a bound on its work, not a timing)."""

    def __init__(self) -> None:
        self.calls = 0
        self._sha1 = hashlib.sha1

    def __call__(self, data: bytes, usedforsecurity: bool = True) -> Any:
        self.calls += 1
        return self._sha1(data, usedforsecurity=usedforsecurity)


def test_find_hashed_on_a_100000_character_minified_line(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "gh" + "s_" + _s(_rnd(20), 36)
    line = _minified(token)
    stripe = "sk" + "_live_" + _s(_rnd(21), 24)
    words = "release notes for the orders service, see the changelog; " * 900
    padded = f"{words}billing key {stripe} {words}"
    assert len(line) >= 100_000 and len(padded) >= 100_000
    wanted, wanted_too = _sha1(token), _sha1(stripe)
    counter = _CountingSha1()
    monkeypatch.setattr(redact.hashlib, "sha1", counter)
    assert find_hashed(line, wanted) == token
    assert find_hashed(padded, wanted_too) == stripe
    found = counter.calls
    assert find_hashed(line, "0" * 40) is None
    # Linear in the line: giving up after searching all of it costs about one hash per character.
    print(
        f"\n100k-character lines: {found:,} hashes to find both tokens, {counter.calls - found:,} to give up"
    )
    assert counter.calls - found < 3 * len(line)


def test_find_hashed_matches_what_detect_secrets_hashes() -> None:
    rnd = _rnd(30)
    # INI values are quoted by detect-secrets' transformer before hashing: the line has none.
    art = "AK" + "Cp" + _s(rnd, 69)
    assert find_hashed(f"api_key = {art}", _sha1(f'"{art}"')) == art
    # The high-entropy plugin keeps the backslash of an escaped closing quote in a notebook.
    key = "AI" + "za" + _s(rnd, 35)
    assert find_hashed(f'    "MAPS_KEY = \\"{key}\\"\\n",', _sha1(key + "\\")) == key + "\\"
    # Fixed-length patterns cut a longer token: `rk_live_` + 24 of 99 characters.
    rk = "rk" + "_live_" + _s(rnd, 99)
    assert find_hashed(f'    "restricted_key": "{rk}",', _sha1(rk[:32])) == rk[:32]
    # The private-key plugin hashes the phrase, spaces included, on a line of any length.
    begin = f"BEGIN RSA {PK}"
    line = '"k": "-----' + begin + "-----\\n" + _s(rnd, 3000, B64) + '"'
    assert find_hashed(line, _sha1(begin)) == begin
    # A whole 2,000+ character base64 value (longer than max_secret) is one candidate.
    blob = base64.b64encode(rnd.randbytes(1700)).decode()
    assert find_hashed(f"  tls.key: {blob}", _sha1(blob)) == blob


def test_find_hashed_never_guesses() -> None:
    assert find_hashed(f'{PW} = "abc"', "0" * 40) is None
    assert find_hashed(f'{PW} = "abc"', "not-hex") is None
    assert find_hashed("", _sha1("")) is None


@pytest.mark.tools
def test_find_hashed_locates_every_secret_the_real_detect_secrets_reports(tmp_path: Path) -> None:
    from pipeline import runner, toolenv

    corpus = build(tmp_path / "corpus")
    setup = toolenv.setup("detect-secrets", "detect-secrets", "managed", runner.run, dict(os.environ))
    assert setup.executable is not None, setup.error
    files = [f for f in corpus.files if not f.startswith(".git/")]
    argv = (str(setup.executable), "-c", "1", "scan", "--all-files", *files)
    done = runner.run(argv, corpus.root, runner.tool_environment(dict(os.environ)), 300)
    assert done.returncode == 0, done.stderr
    located = unlocated = 0
    for filename, results in json.loads(done.stdout)["results"].items():
        lines = (corpus.root / filename).read_text(encoding="utf-8").splitlines()
        for r in results:
            line = lines[r["line_number"] - 1]
            if find_hashed(line, r["hashed_secret"]) is not None:
                located += 1
                continue
            # YAML reports a block scalar's key line (`private_key: |`): the phrase is below it.
            assert r["type"] == "Private Key" and PK not in line, (filename, r, line[:120])
            unlocated += 1
    print(f"\nreal detect-secrets on the canaries: {located} located, {unlocated} not on their line")
    assert located >= 60 and unlocated <= 1


# --- redact_text: credential shapes without any scanner ---------------------------------------


def _shape_cases() -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(id, text, secret, readable parts that must survive)."""
    r = _rnd(40)
    pw = _s(r, 20)
    yield (
        "URL user:pass",
        f"postgres://app:{pw}@db.internal:5432/app",
        pw,
        ("postgres://", "@db.internal:5432/app"),
    )
    ghp = "gh" + "p_" + _s(r, 36)
    yield (
        "requirement with a token in the URL",
        f"-e git+https://{ghp}@github.com/acme/private.git#egg=private: not assessed",
        ghp,
        ("git+https://", "@github.com/acme/private.git#egg=private", "not assessed"),
    )
    glpat = "gl" + "pat-" + _s(r, 20, ALNUM + "-_")
    yield (
        "oauth2 user and a GitLab token",
        f"git+https://oauth2:{glpat}@gitlab.com/acme/lib.git@v1.2.0#egg=acme-lib",
        glpat,
        ("@gitlab.com/acme/lib.git@v1.2.0#egg=acme-lib",),
    )
    for scheme in ("Bearer", "Basic", "token"):
        v = _s(r, 40, ALNUM + "-_")
        yield (
            f"Authorization {scheme}",
            f'curl -H "Authorization: {scheme} {v}" https://api.x',
            v,
            ("curl -H",),
        )
    gho = "gh" + "o_" + _s(r, 36)
    yield "Authorization in a dict", f'HEADERS = {{"Authorization": f"token {gho}"}}', gho, ("HEADERS",)
    body = base64.b64encode(r.randbytes(120)).decode()
    pem = f"-----BEGIN RSA {PK}-----\n{body[:64]}\n{body[64:]}\n-----END RSA {PK}-----\n"
    yield "PEM block", f"key:\n{pem}", body[:64], (f"-----BEGIN RSA {PK}-----", "-----END RSA")
    yield "PEM block, escaped newlines", json.dumps({"private_key": pem}), body[64:], (f"BEGIN RSA {PK}",)
    ssh = f"-----BEGIN OPENSSH {PK}-----\n{body}\n-----END OPENSSH {PK}-----"
    yield "OpenSSH key", ssh, body[10:40], (f"OPENSSH {PK}",)
    prefixed = {
        "AWS access key": ("AK" + "IA") + _s(r, 16, string.ascii_uppercase + "234567"),
        "AWS temporary key": ("AS" + "IA") + _s(r, 16, string.ascii_uppercase + "234567"),
        "GitHub oauth": "gh" + "o_" + _s(r, 36),
        "GitHub user": "gh" + "u_" + _s(r, 36),
        "GitHub app": "gh" + "s_" + _s(r, 36),
        "GitHub refresh": "gh" + "r_" + _s(r, 36),
        "GitHub fine-grained": "github" + "_pat_" + _s(r, 22) + "_" + _s(r, 59),
        "Slack bot": "xo"
        + "xb-"
        + _s(r, 11, string.digits)
        + "-"
        + _s(r, 13, string.digits)
        + "-"
        + _s(r, 24),
        "Slack user": "xo" + "xp-" + _s(r, 11, string.digits) + "-" + _s(r, 32, HEX),
        "Stripe live": "sk" + "_live_" + _s(r, 24),
        "Stripe restricted": "rk" + "_live_" + _s(r, 40),
        "Stripe test": "sk" + "_test_" + _s(r, 24),
        "SendGrid": "SG" + "." + _s(r, 22, ALNUM + "-_") + "." + _s(r, 43, ALNUM + "-_"),
        "npm": "np" + "m_" + _s(r, 36),
        "PyPI": "py" + "pi-AgEIcHlwaS5vcmc" + _s(r, 80, ALNUM + "-_"),
        "Google": "AI" + "za" + _s(r, 35, ALNUM + "-_"),
        "Shopify": "sh" + "pat_" + _s(r, 32, HEX),
        "Shopify shared": "sh" + "pss_" + _s(r, 32, HEX),
    }
    for kind, v in prefixed.items():
        yield (
            kind,
            f"error: request failed with {v} (HTTP 401)",
            v,
            ("error: request failed with", "(HTTP 401)"),
        )
    hook = (
        "T" + _s(r, 10, string.ascii_uppercase) + "/B" + _s(r, 10, string.ascii_uppercase) + "/" + _s(r, 24)
    )
    yield (
        "Slack webhook",
        f"posting to https://hooks.slack.com/services/{hook} failed",
        hook,
        ("hooks.slack.com",),
    )
    sid = "AC" + _s(r, 32, HEX)
    yield "Twilio SID, labelled", f"TWILIO_ACCOUNT_SID={sid}", sid, ("TWILIO_ACCOUNT_SID=",)
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    claims = base64.urlsafe_b64encode(b'{"sub":"1234","role":"admin"}').decode().rstrip("=")
    jwt = f"{head}.{claims}.{_s(r, 43, ALNUM + '-_')}"
    yield "JWT", f"cookie session={jwt}; Path=/", jwt, ("cookie session=", "; Path=/")
    ak = base64.b64encode(r.randbytes(64)).decode()
    yield (
        "Azure AccountKey",
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={ak};EndpointSuffix=core.windows.net",
        ak,
        ("AccountName=acme;", ";EndpointSuffix=core.windows.net"),
    )
    sas = _s(r, 44, B64)
    yield "Azure SharedAccessSignature", f"SharedAccessSignature={sas}", sas, ("SharedAccessSignature=",)
    sig = _s(r, 43, ALNUM + "%")
    yield (
        "SAS sig= in a URL",
        f"https://acme.blob.core.windows.net/c?sv=2022-11-02&sig={sig}",
        sig,
        ("sv=2022-11-02",),
    )
    # Assignments in any syntax: the key stays readable, the value is masked.
    v = _s(r, 18)
    for syntax, text, keep in (
        ("HCL", f'  {PW} = "{v}"', f"  {PW} = "),
        ("YAML", f"  {PW}: {v}", f"  {PW}: "),
        ("JSON", json.dumps({"db": {PW: v}}), f'"{PW}": '),
        ("INI", f"bind_{PW} = {v}", f"bind_{PW} = "),
        ("shell export", f"export GITHUB_{TOK.upper()}={v}", f"export GITHUB_{TOK.upper()}="),
        ("mysql -p", f"mysql -h db.internal -u root -p{v} app", "mysql -h db.internal -u root -p"),
        ("--password=", f"pg_dump --{PW}={v} --host db", f"--{PW}="),
        ("--password value", f"tool --{PW} {v} --verbose", "--verbose"),
        ("Dockerfile ENV", f"ENV API_{TOK.upper()}={v}", f"ENV API_{TOK.upper()}="),
        ("Dockerfile ARG", f"ARG DEPLOY_{SEC.upper()}={v}", f"ARG DEPLOY_{SEC.upper()}="),
        ("Python kwarg", f'connect(host="db", {PW}="{v}")', 'connect(host="db", '),
        ("client_secret", f"client_{SEC}: '{v}'", f"client_{SEC}: "),
        ("private_key", f'"private_key": "{v}"', '"private_key": '),
        ("api_key in a query", f"GET https://api.x/v1?api_key={v}&format=json", "&format=json"),
        ("credential", f"credential = {v}", "credential = "),
        ("checkov entity list", json.dumps({PW: [v]}), f'"{PW}": ['),
        ("Kubernetes env", f"- name: DB_{PW.upper()}\n  value: {v}\n", f"- name: DB_{PW.upper()}\n  value: "),
        ("XML element", f"<{PW}>{v}</{PW}>", f"<{PW}>"),
        ("Terraform variable default", f'variable "db_{PW}" {{\n  default = "{v}"\n}}', '  default = "'),
    ):
        yield f"assignment: {syntax}", text, v, (keep,)


SHAPES = list(_shape_cases())


@pytest.mark.parametrize(("text", "secret", "readable"), [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES])
def test_redact_text_masks_credential_shapes(text: str, secret: str, readable: tuple[str, ...]) -> None:
    out = redact_text(text)
    assert secret not in out and secret[-12:] not in out, out
    assert MASK in out
    for part in readable:
        assert part in out, (part, out)
    assert mask_line(text, max_line=None).count(secret) == 0


NOT_CREDENTIALS = [
    f"minimum_{PW}_length = 8",
    f"{PW}_reset_required = true",
    f"{PW}     = var.db_{PW}",
    f'{PW} = "${{var.db_{PW}}}"',
    f"{PW}: ${{{{ {SEC}s.DB_{PW.upper()} }}}}",
    f"MasterUser{PW.title()}: !Ref Db{PW.title()}",
    f'{TOK}_uri = "https://oauth2.googleapis.com/{TOK}"',
    f'resource "aws_{SEC}smanager_{SEC}" "orders_db_credentials" {{',
    f'  {SEC}_name = "orders/db-credentials"',
    f'resource "aws_iam_account_{PW}_policy" "strict" {{',
    f"{PW} = os.environ['DB_{PW.upper()}']",
    f"max_{TOK}s = 100000",
    "ssh://git@github.com/acme/platform.git",
    "docker run -u 1000:1000 nginx",
    "mysql -u root -p",
    f"Authorization header missing; set the API {TOK} first",
]


@pytest.mark.parametrize("text", NOT_CREDENTIALS)
def test_redact_text_leaves_non_credentials_alone(text: str) -> None:
    assert redact_text(text) == text
    assert mask_line(text) == text


def test_redact_text_is_linear_on_long_lines() -> None:
    token = "sk" + "_live_" + _s(_rnd(50), 24)
    line = (
        "release notes for the orders service; " * 1400
        + f"billing key {token} "
        + "see the changelog " * 3000
    )
    assert len(line) > 100_000
    out = redact_text(line)
    assert token not in out and len(out) < len(line)


# --- mask_line: precise on IaC ------------------------------------------------------------------


def _readable_lines() -> list[str]:
    r = _rnd(60)
    commit = _s(r, 40, HEX)
    return [
        '  acl    = "public-read-write"',
        '      sse_algorithm = "AES256"',
        '      sse_algorithm     = "aws:kms"',
        'resource "aws_s3_bucket_server_side_encryption_configuration" "customer_uploads_prod" {',
        '  bucket = "acme-customer-uploads-prod-eu-west-1"',
        'resource "aws_instance" "bastion_host_eu_west_1a" {',
        f'resource "aws_iam_account_{PW}_policy" "strict_rotation_policy" {{',
        f"  minimum_{PW}_length = 8",
        f'resource "aws_{SEC}smanager_{SEC}" "orders_db_credentials" {{',
        '  role          = "arn:aws:iam::123456789012:role/ci-deploy-role"',
        f'  kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/{_uuid(r)}"',
        '    cidr_blocks = ["0.0.0.0/0", "10.20.0.0/16"]',
        f'  ami           = "ami-0abc{_s(r, 13, HEX)}"',
        f'  vpc_id        = "vpc-{_s(r, 17, HEX)}"',
        f'  subnet_id     = "subnet-{_s(r, 17, HEX)}"',
        f'  vpc_security_group_ids = ["sg-{_s(r, 17, HEX)}"]',
        f'    git_commit = "{commit}"',
        f"  source_sha: {commit}",
        f'  revision = "{commit}"',
        f"    ref: {commit}",
        f"      image: nginx@sha256:{_s(r, 64, HEX)}",
        f"      image: registry.acme.example/payments/api-gateway:3.14.2-{commit[:12]}",
        "  namespace: payments-production",
        "      AccessControl: PublicReadWrite",
        "AWSTemplateFormatVersion: '2010-09-09'",
        f'  image_tag  = "v2.7.0-rc.1+build.{commit[:8]}"',
        '  runtime       = "python3.12"',
        "FROM python:3.12-slim-bookworm",
        '  ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"',
        '  instance_type = "m6g.2xlarge"',
        "  created_at: 2026-01-05T10:09:58Z",
        '  url = "https://github.com/acme/platform-infrastructure/tree/main/modules"',
        '  description = "orders database encryption key"',
        '    "Principal": {"Service": "lambda.amazonaws.com"},',
    ]


def _uuid(r: random.Random) -> str:
    h = _s(r, 32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


@pytest.mark.parametrize("line", _readable_lines())
def test_mask_line_keeps_iac_identifiers_readable(line: str) -> None:
    assert mask_line(line) == line


def _unlabelled_secrets() -> list[tuple[str, str]]:
    r = _rnd(70)
    return [
        (f'  default   = "{base64.b64encode(_s(r, 16).encode()).decode()}"', "base64 of random text"),
        (f'  default = "{_s(r, 32, HEX)}"', "32 hex characters"),
        (f'    Default: "{_s(r, 20)}"', "20 random characters"),
        (f"    {_s(r, 64, B64)}", "a PEM body line"),
        (f"    {_s(r, 20, B64)}==", "a short last PEM line"),
        (f'  value = "{_s(r, 3)}8Q~{_s(r, 34, ALNUM + "_.~-")}"', "an Azure client secret"),
        (f"  {_s(r, 40, HEX)}", "40 hex without a commit key"),
    ]


@pytest.mark.parametrize(("line", "what"), _unlabelled_secrets())
def test_mask_line_masks_random_looking_tokens(line: str, what: str) -> None:
    token = line.split('"')[1] if '"' in line else line.strip()
    out = mask_line(line)
    assert token not in out and token[4:] not in out, (what, out)


def test_mask_line_masks_before_it_cuts() -> None:
    token = "gh" + "p_" + _s(_rnd(80), 36)
    line = "x" * (redact.MAX_LINE - 10) + " " + token + " and more words" * 10
    out = mask_line(line)
    assert out.endswith("…") and len(out) <= redact.MAX_LINE + 1
    assert token[2:12] not in out


def test_scrubber_can_also_apply_the_shapes() -> None:
    ghp = "gh" + "p_" + _s(_rnd(90), 36)
    known = _s(_rnd(91), 20)
    s = redact.Scrubber([known], shapes=True)
    out = s.data({"reason": f"git+https://{ghp}@github.com/a/b.git: {known}", "n": 1})
    assert ghp not in json.dumps(out) and known not in json.dumps(out) and out["n"] == 1
    assert redact.Scrubber([known]).text(f"x {ghp}") == f"x {ghp}"  # exact values only by default


# --- both directions on the canary corpus -----------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return build(tmp_path_factory.mktemp("canaries") / "repo")


def _leaks(corpus: Corpus, fn: Callable[[str], str]) -> dict[str, int]:
    """Canary kind → number of lines whose output still holds its value (or its last 12 characters)."""
    out: dict[str, int] = {}
    for c in corpus.values:
        text = (corpus.root / c.file).read_text(encoding="utf-8")
        probes = c.body_lines() if c.multiline else (c.value,)
        lines = [line for line in text.splitlines() if any(p in line for p in probes)]
        assert lines, f"{c.kind}: not found in {c.file}"
        for line in lines:
            masked = fn(line)
            if any(p in line and (p in masked or (len(p) >= 24 and p[-12:] in masked)) for p in probes):
                out[c.kind] = out.get(c.kind, 0) + 1
    return out


def test_no_canary_survives_mask_line(corpus: Corpus) -> None:
    assert len(corpus.kinds) >= 40
    full = _leaks(corpus, lambda line: mask_line(line, max_line=None))
    cut = _leaks(corpus, mask_line)
    print(
        f"\nmask_line on {len(corpus.values)} canaries of {len(corpus.kinds)} kinds: {len(full)} kinds leak"
    )
    assert set(full) <= set(SCRUBBER_ONLY), full
    assert set(cut) <= set(SCRUBBER_ONLY), cut
    assert len(SCRUBBER_ONLY) <= 3


def test_no_canary_survives_redact_text_on_whole_files(corpus: Corpus) -> None:
    """Free text has no generic rule: file context (a secret-named variable's default) does it."""
    leaked = []
    for c in corpus.values:
        text = redact_text((corpus.root / c.file).read_text(encoding="utf-8"))
        probes = c.body_lines() if c.multiline else (c.value,)
        if any(p in text for p in probes):
            leaked.append(c.kind)
    assert leaked == []


def test_iac_fixture_stays_readable(tmp_path: Path) -> None:
    tokens = iac_fixture(tmp_path)
    total = kept = 0
    lost: list[str] = []
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        for line in path.read_text(encoding="utf-8").splitlines():
            masked = mask_line(line)
            assert redact_text(line) == line, line
            for token in tokens:
                if token in line:
                    total += 1
                    if token in masked:
                        kept += 1
                    else:
                        lost.append(f"{path.name}: {masked.strip()}")
    share = kept / total
    print(f"\nIaC fixture: {kept}/{total} readable token occurrences ({share:.1%}); masked: {lost}")
    assert share >= READABLE_SHARE
