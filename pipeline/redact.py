"""Redaction: no secret value leaves the scan in plain text, and evidence stays readable.

Three layers, each usable on its own:

- `redact_text()` recognises credential *shapes* without any scanner, in any free
  text (error messages, NOT_ASSESSED reasons, requirement lines, terminal output):
  URL userinfo, `Authorization:` headers, private-key blocks, well-known token
  prefixes, and `password`/`secret`/`token`/… assignments in any syntax (HCL,
  YAML, JSON, INI, shell, Dockerfile, command-line flags). Only the value is
  masked; the key stays readable.
- `mask_line()` is `redact_text()` plus a *precise* generic rule for code lines
  (snippets): a token is masked when it looks random (long, mixed character
  classes, no word structure), never because it is merely long. IaC enumerations
  and identifiers (`public-read-write`, `AES256`, resource names, ARNs, CIDRs,
  AMI/VPC ids, digests, image tags, commit SHAs under a commit key) stay readable.
- `Scrubber` removes the exact secret values a scanner found in this run from
  every string that is written; `find_hashed()` recovers such a value from its
  line and the SHA-1 detect-secrets reports.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

MASK = "*****"
MAX_LINE = 200
"""Snippets are cut to this many characters (after masking the whole line)."""

Span = tuple[int, int]


def mask(value: str) -> str:
    """A preview that shows at most a short prefix, never the length or the rest."""
    keep = 2 if len(value) >= 12 else 0
    return value[:keep] + MASK


def entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


# --- names: which keys hold credentials ---------------------------------------------------

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "pass",
        "pw",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "creds",
        "apikey",
        "jwt",
        "contrasena",
    }
)
_SECRET_ENDINGS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "credential")
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "private",
        "priv",
        "account",
        "app",
        "application",
        "client",
        "master",
        "signing",
        "auth",
        "service",
        "storage",
        "sas",
        "shared",
        "subscription",
        "hmac",
        "consumer",
        "encryption",
        "deploy",
        "webhook",
        "db",
        "database",
    }
)
_META = _wordset(
    """length len min max minimum maximum policy policies age reuse prevention required require
    enabled enable disabled uri url urls endpoint endpoints name names arn arns id ids type types
    file files path paths dir ttl expiry expires expiration version versions count mode format
    hint field fields env var variable ref reference rotation rotate store provider source
    manager location header param parameter prefix suffix pattern regex rule rules check checks
    size chars characters lifetime duration timeout days seconds interval period strength
    complexity history attempts retries lockout exists present changed last used algorithm kind
    scope scopes audience issuer label description template placeholder prompt validation
    generator method methods"""
)
_META_FIRST = _wordset(
    """min max minimum maximum num number total require requires required enable enabled disable
    disabled allow allowed use no is has show reset rotate generate manage validate expire"""
)
_HASH_WORDS = _wordset(
    """commit commits sha sha1 sha256 sha512 revision rev ref hash digest checksum fingerprint etag
    introduced fixed affected oid"""
)


def _components(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def secret_key(name: str) -> bool:
    """Does a key (variable, field, header, flag) name a credential? `minimum_password_length` does not."""
    comps = _components(name)
    if not comps or comps[-1] in _META or (len(comps) > 1 and comps[0] in _META_FIRST):
        return False
    for i, c in enumerate(comps):
        if c in _SECRET_WORDS or c.endswith(_SECRET_ENDINGS) or c.startswith(("password", "passwd")):
            return True
        if c == "key" and i > 0 and comps[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


# --- values: which literal values are not secrets -----------------------------------------

_NOT_SECRET_WORDS = _wordset(
    """true false yes no on off null nil none undefined required optional enabled disabled default
    auto strict prompt random generated managed plain plaintext hashed bcrypt md5 scram-sha-256
    string securestring str bytes bool int any object text sensitive redacted masked hidden"""
)
_REFERENCE = re.compile(
    r"""(?x)
    \$\{\{.*\}\}$ | \{\{.*\}\}$ | \$\{[^{}]*\}$ | \$[A-Za-z_]\w*$ | %\([\w.]+\)s$ | \{[A-Za-z_][\w.\[\]'"]*\}$
    | <[^<>]+>$ | !(?:Ref|GetAtt|Sub|ImportValue|FindInMap|Select|Join|If|Base64)\b
    | (?:var|local|module|data|each|count|self|path|terraform)\.[\w.\[\]"'-]+$
    | resolve:(?:secretsmanager|ssm) | \{\{resolve: | arn:aws[\w-]*:(?:secretsmanager|ssm|kms):
    | [*xX.]{3,}$ | %[sd]$ | \?$ | \$\d+$ | :[A-Za-z_]\w*$
    """
)
_UNQUOTED_EXPR = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\[.*\])?$|[A-Za-z_][\w.]*\s*[(\[]")
_TYPE_ANNOTATION = re.compile(r"(?:str|bytes|string|String|SecretStr|Optional\[str\]|str \| None)\s*=\s*")


def _literal_secret(value: str, quoted: bool) -> bool:
    """A value assigned to a secret key that may be the secret itself (not a number, flag, reference…)."""
    v = value.strip()
    if not v or MASK in v or not any(ch.isalnum() for ch in v):
        return False
    if v.lower() in _NOT_SECRET_WORDS:
        return False
    if re.fullmatch(r"[+-]?\d{1,4}(?:\.\d+)?", v):
        return False
    if _REFERENCE.match(v):
        return False
    if not quoted and _UNQUOTED_EXPR.match(v):
        return False
    # An unquoted identifier that itself names a secret is a variable: `password=db_password`.
    # A bare word (`password: secret`) may be the password itself: masked.
    return quoted or not (re.fullmatch(r"[A-Za-z_][\w.]*", v) and secret_key(v) and "_" in v)


# --- shapes: recognised without any scanner -----------------------------------------------

_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?P<body>.*?)"
    r"(?=-----END[A-Z0-9 ]{0,40}PRIVATE KEY|\Z)",
    re.S,
)
_URL_USERINFO = re.compile(
    r"(?i)\b[a-z][a-z0-9+.\-]{0,30}:(?:\\?/){2}"
    r"(?P<user>[^\s:@/?#'\"<>\\`]*)(?::(?P<pw>[^\s@'\"<>`]*))?@(?=[\w\[{$%.\-])"
)
_AUTH_HEADER = re.compile(
    r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*(?:[rbf]?\\?[\"'])?[ \t]*"
    r"(?:(?:bearer|basic|token|bot|digest|negotiate|ntlm|hmac|apikey|api-key|sso-key|key"
    r"|aws4-hmac-sha256)[ \t]+)?"
    r"(?P<v>[^\s\"'`\\]+)"
)
_BEARER = re.compile(r"\b[Bb]earer[ \t]+(?P<v>[A-Za-z0-9._~+/\-]{16,}=*)")
_PREFIXED = re.compile(
    r"""(?x)(?<![A-Za-z0-9])(?P<v>
      (?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])
    | gh[pousr]_[A-Za-z0-9]{20,255}
    | github_pat_[A-Za-z0-9_]{20,255}
    | gl(?:pat|dt|ft|soat|rt|ptt|cbt|imt|agent|oas|ffct)-[A-Za-z0-9_\-]{20,}
    | GR1348941[A-Za-z0-9_\-]{20,}
    | xox[abposr]-[A-Za-z0-9\-]{10,}
    | xapp-[A-Za-z0-9\-]{10,}
    | (?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}
    | whsec_[A-Za-z0-9]{20,}
    | SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}
    | npm_[A-Za-z0-9]{36}
    | pypi-AgE[A-Za-z0-9_\-]{20,}
    | AIza[A-Za-z0-9_\-]{35}
    | ya29\.[A-Za-z0-9_\-]{20,}
    | GOCSPX-[A-Za-z0-9_\-]{20,}
    | shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}
    | eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*
    | sq0(?:csp|atp)-[A-Za-z0-9_\-]{22,}
    | key-[0-9a-f]{32}(?![0-9a-f])
    | ATATT3[A-Za-z0-9_\-=]{20,}
    | AKCp[A-Za-z0-9]{60,}
    | sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}
    | sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}
    | \d{8,10}:AA[A-Za-z0-9_\-]{30,}
    | [0-9a-f]{32}-us\d{1,2}(?!\d)
    | [MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,}
    | LS0tLS1CRUdJTi[A-Za-z0-9+/=]*
    | (?:MII[A-Za-z0-9+/]{40,}|MHcCAQEE[A-Za-z0-9+/]{20,}|b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/]{20,})={0,2}
    | [A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}
    )"""
)
_SLACK_HOOK = re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9/_\-]+)")
_TWILIO = re.compile(r"(?<![A-Za-z0-9])(?P<v>(?:AC|SK)[0-9a-f]{32})(?![A-Za-z0-9])")
_TWILIO_LABEL = re.compile(r"(?i)twilio|account_?sid|auth_?token|api_?key|\bsid\b")
_CONN_PARAM = re.compile(
    r"(?i)(?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecret|Password|Pwd)=(?P<v>[^;\s\"'<>`]+)"
    r"|(?<![A-Za-z0-9_])(?:sig|Signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)="
    r"(?P<q>[^&\s\"'<>`]{8,})"
)
_MYSQL = re.compile(r"(?i)\b(?:mysql\w*|mariadb\w*)\b")
_SHORT_P = re.compile(r"(?<=\s)-p(?P<v>'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"\-][^\s'\"]*)")
_CLI = re.compile(
    r"(?i)(?:\bsshpass[ \t]+-p|--(?:password|passwd|pass|token|secret|api-key|apikey|client-secret|"
    r"auth-token|access-token|private-key))[ \t]+(?P<v>'[^'\n]*'|\"[^\"\n]*\"|[^\s'\"\-][^\s'\"]*)"
    r"|(?:\s-u|--user)[ \t]*['\"]?[^\s:'\"]+:(?!\d+\b)(?P<u>[^\s'\"]+)"
)
_DOCKER_SPACE = re.compile(r"(?im)^[ \t]*(?:ENV|ARG)[ \t]+(?P<key>[A-Za-z_]\w*)[ \t]+(?P<v>\S.*?)[ \t]*$")
_ASSIGN = re.compile(
    r"(?<![\w.])(?P<key>[A-Za-z_][\w.\-]{0,80})(?P<kq>\\*[\"'\]]{1,2})?[ \t]*"
    r"(?P<op>:=|=>|={1,3}|!==?|:(?![:/\\]))[ \t]*"
)
_LINE_START_KEY = re.compile(
    r"[ \t]*(?:(?:export|ENV|ARG|set|setx|declare(?:[ \t]+-\w+)?|local|readonly|-)[ \t]+)?[\"'$@\-]*"
)
_TRAILING_COMMENT = re.compile(r"[ \t]+(?:#|//|;).*$")
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


def _line_bounds(text: str, pos: int) -> Span:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _quoted_end(text: str, i: int, end: int) -> tuple[int, int, int] | None:
    """For a quote (maybe backslash-escaped) starting at i: (body start, body end, after)."""
    j = i
    while j < end and text[j] == "\\":
        j += 1
    if j >= end or text[j] not in "\"'`":
        return None
    q = text[j]
    escaped = text[i:j]
    body = j + 1
    if escaped:
        close = text.find(escaped + q, body, end)
        return (body, close, close + len(escaped) + 1) if close >= 0 else (body, end, end)
    k = body
    while k < end:
        ch = text[k]
        if ch == "\\":
            k += 2
            continue
        if ch == q:
            return body, k, k + 1
        k += 1
    return body, end, end


def _assignment_value(text: str, m: re.Match[str], force: bool = False) -> Span | None:
    """The value assigned by `m` (an `_ASSIGN` match) if its key names a secret (or `force`)."""
    if not force and not secret_key(m.group("key")):
        return None
    op = m.group("op")
    line_start, line_end = _line_bounds(text, m.start())
    pos = m.end()
    if op == ":":
        ann = _TYPE_ANNOTATION.match(text, pos, line_end)
        if ann:
            pos = ann.end()
    if pos >= line_end:
        return None
    i = pos
    if text[i] == "[":  # checkov wraps attribute values in lists: `"password": ["x"]`
        i += 1
        while i < line_end and text[i] in " \t":
            i += 1
        if i >= line_end or text[i] not in "\"'":
            return None
    if text[i] in "rbfuRBFU" and i + 1 < line_end and text[i + 1] in "\"'\\":
        i += 1
    elif text[i] in "rbfuRBFU" and i + 2 < line_end and text[i + 1] in "rbfRBF" and text[i + 2] in "\"'":
        i += 2
    quoted = _quoted_end(text, i, line_end)
    if quoted is not None:
        body_start, body_end, _ = quoted
        value = text[body_start:body_end]
        if "-----BEGIN" in value:
            return None  # a private key: `_PEM` masks its body and keeps the armour readable
        return (body_start, body_end) if _literal_secret(value, True) else None
    if op == ":" and not m.group("kq") and text[m.end() - 1] == ":":
        return None  # `a:b` without a space is a JS object or a path, not YAML
    at_line_start = _LINE_START_KEY.fullmatch(text, line_start, m.start()) is not None
    if at_line_start and op in ("=", ":") and text[pos] not in "{[(|>":
        end = line_end
        rest = text[pos:end]
        comment = _TRAILING_COMMENT.search(rest)
        if comment:
            end = pos + comment.start()
        while end > pos and text[end - 1] in " \t\\,;\r":
            end -= 1
    else:
        v = re.match(r"[^\s\"'`,;&]+", text[pos:line_end])
        if not v:
            return None
        end = pos + v.end()
        while end > pos and text[end - 1] in _CLOSERS:
            closer = text[end - 1]
            if text.count(_CLOSERS[closer], pos, end) >= text.count(closer, pos, end):
                break
            end -= 1  # `f(password=x)`: the bracket closes the call, it is not in the value
    value = text[pos:end]
    return (pos, end) if end > pos and _literal_secret(value, False) else None


def _block_scalar(text: str, m: re.Match[str]) -> Span | None:
    """`password: |` in YAML: the more-indented lines that follow are the value."""
    if not secret_key(m.group("key")):
        return None
    line_start, line_end = _line_bounds(text, m.start())
    rest = text[m.end() : line_end].strip()
    if not re.fullmatch(r"[|>][+-]?\d?", rest) or line_end >= len(text):
        return None
    indent = len(text[line_start:]) - len(text[line_start:].lstrip(" "))
    pos = line_end + 1
    end = pos
    while pos < len(text):
        nl = text.find("\n", pos)
        stop = len(text) if nl < 0 else nl
        line = text[pos:stop]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            break
        if line.strip():
            end = stop
        pos = stop + 1
    first = line_end + 1
    body = text[first:end]
    lead = len(body) - len(body.lstrip())
    return (first + lead, end) if end > first + lead else None


_HCL_SECRET_VARIABLE = re.compile(r'(?m)^(?P<ind>[ \t]*)variable[ \t]+"(?P<name>[^"]+)"[ \t]*\{[ \t]*$')
_YAML_SECRET_PARENT = re.compile(r"(?m)^(?P<ind>[ \t]*)(?P<name>[A-Za-z_][\w.\-]*):[ \t]*$")
_NAME_THEN_VALUE = re.compile(
    r"(?mi)^(?P<ind>[ \t]*)(?:-[ \t]+)?(?:name|key)[ \t]*:[ \t]*[\"']?(?P<name>[\w.\-]+)[\"']?[ \t]*$"
)
_NAME_VALUE_INLINE = re.compile(
    r"(?i)[\"']?(?:name|key)[\"']?[ \t]*[:=][ \t]*[\"'](?P<name>[\w.\-]+)[\"'][ \t]*,[ \t]*"
    r"(?P<key>[\"']?value[\"']?)(?P<kq>)[ \t]*(?P<op>[:=])[ \t]*"
)
_XML_ELEMENT = re.compile(r"<(?P<tag>[\w:.\-]{1,80})>(?P<v>[^<\n]{1,400})</(?P=tag)>")
_VALUE_KEY = re.compile(r"(?mi)^[ \t]*(?:-[ \t]+)?(?P<key>value)(?P<kq>)[ \t]*(?P<op>:)[ \t]*")
_DEFAULT_VALUE = re.compile(r"(?mi)^[ \t]*(?P<key>default|value)(?P<kq>)[ \t]*(?P<op>[=:])[ \t]*")


def _context_spans(text: str) -> Iterator[Span]:
    """`default` of a Terraform variable, `Default:` of a CloudFormation parameter, named as secrets."""
    for rx in (_HCL_SECRET_VARIABLE, _YAML_SECRET_PARENT):
        for m in rx.finditer(text):
            if not secret_key(m.group("name")):
                continue
            indent = len(m.group("ind").expandtabs())
            pos = m.end() + 1
            for _ in range(30):
                if pos >= len(text):
                    break
                nl = text.find("\n", pos)
                stop = len(text) if nl < 0 else nl
                line = text[pos:stop]
                if line.strip() and len(line.expandtabs()) - len(line.expandtabs().lstrip()) <= indent:
                    break
                d = _DEFAULT_VALUE.match(text, pos, stop)
                if d:
                    span = _assignment_value(text, d, force=True)
                    if span:
                        yield span
                pos = stop + 1
    # Kubernetes env / CloudFormation tags: `- name: DB_PASSWORD` then `value: …` on the next lines.
    for m in _NAME_THEN_VALUE.finditer(text):
        if not secret_key(m.group("name")):
            continue
        pos = m.end() + 1
        for _ in range(3):
            if pos >= len(text):
                break
            nl = text.find("\n", pos)
            stop = len(text) if nl < 0 else nl
            v = _VALUE_KEY.match(text, pos, stop)
            if v:
                span = _assignment_value(text, v, force=True)
                if span:
                    yield span
                break
            pos = stop + 1


def _shape_spans(text: str) -> Iterator[Span]:
    """Spans of credential values recognised by their shape alone (each rule skipped cheaply
    when the text cannot hold it: most lines of code hold none)."""
    lower = text.lower()
    if "-----begin" in lower:
        for m in _PEM.finditer(text):
            a, b = m.span("body")
            while a < b and (text[a].isspace() or text.startswith(("\\n", "\\r"), a)):
                a += 2 if text[a] == "\\" else 1
            if b > a:
                yield a, b
    if "//" in text:
        for m in _URL_USERINFO.finditer(text):
            user, pw = m.group("user"), m.group("pw")
            if pw is not None:
                if user:
                    yield m.span("user")
                if pw:
                    yield m.span("pw")
            elif user and not _plain_username(user):
                yield m.span("user")
    if "hooks.slack.com" in lower:
        for m in _SLACK_HOOK.finditer(text):
            yield m.span("v")
    if "authorization" in lower:
        for m in _AUTH_HEADER.finditer(text):
            yield m.span("v")
    if "bearer" in lower:
        for m in _BEARER.finditer(text):
            yield m.span("v")
    for m in _PREFIXED.finditer(text):
        yield m.span("v")
    if "AC" in text or "SK" in text:
        for m in _TWILIO.finditer(text):
            a, b = _line_bounds(text, m.start())
            if _TWILIO_LABEL.search(text, a, b):
                yield m.span("v")
    if "=" in text:
        for m in _CONN_PARAM.finditer(text):
            yield m.span("v") if m.group("v") is not None else m.span("q")
    if "mysql" in lower or "mariadb" in lower:
        for m in _MYSQL.finditer(text):
            _, b = _line_bounds(text, m.start())
            for p in _SHORT_P.finditer(text, m.end(), b):
                yield _unquote(text, p.span("v"))
    if "--" in text or " -u" in text or "sshpass" in lower:
        for m in _CLI.finditer(text):
            yield _unquote(text, m.span("v") if m.group("v") is not None else m.span("u"))
    if "env" in lower or "arg" in lower:
        for m in _DOCKER_SPACE.finditer(text):
            if secret_key(m.group("key")) and "=" not in m.group("v").split()[0]:
                v = m.group("v")
                if _literal_secret(v.strip("\"'"), v[:1] in "\"'"):
                    yield _unquote(text, m.span("v"))
    if "=" in text or ":" in text:
        for m in _ASSIGN.finditer(text):
            span = _assignment_value(text, m) or _block_scalar(text, m)
            if span:
                yield span
        if "value" in lower:
            for m in _NAME_VALUE_INLINE.finditer(text):
                if secret_key(m.group("name")):
                    span = _assignment_value(text, m, force=True)
                    if span:
                        yield span
    if "</" in text:
        for m in _XML_ELEMENT.finditer(text):
            if secret_key(m.group("tag")) and _literal_secret(m.group("v"), True):
                yield m.span("v")
    if "\n" in text:
        yield from _context_spans(text)


def _unquote(text: str, span: Span) -> Span:
    a, b = span
    if b - a >= 2 and text[a] in "\"'" and text[b - 1] == text[a]:
        return a + 1, b - 1
    return a, b


def _plain_username(user: str) -> bool:
    """`git`, `deploy`, `x-access-token`: a user name alone in a URL, not a token."""
    return bool(re.fullmatch(r"[a-z][a-z0-9._\-]{0,19}", user)) and not _PREFIXED.search(user)


def _apply(text: str, spans: Iterable[Span]) -> str:
    merged: list[list[int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    if not merged:
        return text
    out: list[str] = []
    last = 0
    for a, b in merged:
        out.append(text[last:a])
        out.append(mask(text[a:b]))
        last = b
    out.append(text[last:])
    return "".join(out)


def redact_text(text: str) -> str:
    """Mask every credential *shape* in free text: the values, never the keys around them.

    Needs no scanner: URL userinfo, `Authorization:` headers, private-key blocks,
    known token prefixes, Azure connection-string keys and SAS signatures,
    `mysql -p…`/`--password …` flags, and assignments to secret-named keys in
    HCL, YAML, JSON, INI, shell, Dockerfile `ENV`/`ARG` and source code.
    """
    return _apply(text, _shape_spans(text)) if text else text


# --- the generic rule: random-looking tokens ----------------------------------------------

_RUN = re.compile(r"[^\s\"'`,;()\[\]{}<>]+")
_PIECE = re.compile(r"[A-Za-z0-9+/_\-]+={0,2}")
_URL_PIECE = re.compile(r"[A-Za-z0-9+_\-]+={0,2}")
_KEY_PREFIX = re.compile(r"-{0,2}[A-Za-z_][\w.\-]*[=:](?=[^=:]*[A-Za-z0-9])(?![=:])")
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CLOUD_ID = re.compile(r"[a-z]{1,12}(?:-[a-z]{1,10})?-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_DIGEST = re.compile(r"(?:sha1|sha224|sha256|sha384|sha512|md5):[0-9a-fA-F]{32,128}")
_SEMVER = re.compile(r"v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.\-]{1,40})?")
_ARN = re.compile(r"arn:aws[\w\-]*:[\w\-]*:[\w\-]*:\d{0,12}:\S+")
_IMAGE = re.compile(
    r"[a-z0-9][a-z0-9._\-]*(?::\d+)?(?:/[a-z0-9][a-z0-9._\-]*)*"
    r"(?::v?\d+(?:\.\d+){0,3}(?:[-+][0-9A-Za-z.\-]+)?)?(?:@sha(?:256|512):[0-9a-f]{64,128})?"
)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_ADVISORY = re.compile(
    r"(?:GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|CVE-\d{4}-\d{4,}|PYSEC-\d{4}-\d+)(?:\.\w+)?"
)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_VOWELS = frozenset("aeiouy")
_CONSONANT_RUN = re.compile(r"[^aeiouy]{5,}")
_SINGLE_TOKEN_LINE = re.compile(r"[ \t]*[\"']?(?:\\n)?(?P<t>[A-Za-z0-9+/]{12,}={0,2})(?:\\n)?[\"',]*[ \t]*")


def _classes(core: str) -> tuple[bool, bool, bool]:
    return (
        any("A" <= c <= "Z" for c in core),
        any("a" <= c <= "z" for c in core),
        any("0" <= c <= "9" for c in core),
    )


def _kind(c: str) -> int:
    return 0 if "A" <= c <= "Z" else 1 if "a" <= c <= "z" else 2 if "0" <= c <= "9" else 3


def _wordlike(segment: str) -> bool:
    """A pronounceable letters-only segment of a name (`Policy`, `bucket`), not `Xkqz`."""
    if len(segment) < 3 or not segment.isalpha() or segment.isupper():
        return False
    low = segment.lower()
    vowels = sum(c in _VOWELS for c in low)
    return vowels / len(low) >= 0.2 and not _CONSONANT_RUN.search(low)


def random_looking(token: str, min_len: int = 20) -> bool:
    """Does a token look like generated key material rather than a name or an enumeration?

    Long enough, some entropy, at least two of upper/lower/digit, frequent class
    changes (not counting a capital that starts a word: random text changes at ~45 %
    of its characters, `PublicReadWrite` at 14 %), and less than 60 % of it in
    pronounceable words. Hex that mixes letters and digits counts as random
    (callers exempt commit SHAs and digests by their context). Measured on 69,000
    AWS/checkov identifiers of 20+ characters and 7,000 random tokens: 0.14 % and
    0.7 % (mostly 20-character tokens with few digits) are misjudged.
    """
    if len(token) < min_len:
        return False
    core = "".join(c for c in token if c.isascii() and c.isalnum())
    if len(core) < min_len * 0.8:
        return False
    upper, lower, digit = _classes(core)
    if _HEX.fullmatch(core):
        return digit and (upper or lower) and entropy(core) >= 3.0
    if upper + lower + digit < 2 or entropy(token) < 3.3:
        return False
    changes = 0
    for a, b in itertools.pairwise(token):
        ka, kb = _kind(a), _kind(b)
        if ka != kb and ka < 3 and kb < 3 and not (ka == 0 and kb == 1):
            changes += 1
    if changes / (len(core) - 1) < 0.2:
        return False
    return _word_share(token, len(core)) < 0.6


def _word_share(token: str, n_alnum: int) -> float:
    return sum(len(w) for w in _WORDS.findall(token) if _wordlike(w)) / max(1, n_alnum)


def _readable_run(run: str) -> bool:
    """Whole shapes that are identifiers, not credentials (checked on the run and its value)."""
    return bool(
        _ARN.fullmatch(run)
        or _UUID.fullmatch(run)
        or _CLOUD_ID.fullmatch(run)
        or _DIGEST.fullmatch(run)
        or _SEMVER.fullmatch(run)
        or _EMAIL.fullmatch(run)
        or _TIMESTAMP.fullmatch(run)
        or _ADVISORY.fullmatch(run)
        or (_IMAGE.fullmatch(run) and ("@sha" in run or re.search(r":v?\d+(?:\.\d+)+", run)))
    )


_HASH_PATH = re.compile(
    r"(?:(?:sha1|sha224|sha256|sha384|sha512|md5):|/(?:commits?|blob|tree|raw|compare|archive)/"
    r"|[?&](?:sha|commit|rev|ref|id)=|@)$"
)


def _hash_context(line: str, pos: int) -> bool:
    """A hex value under a commit/sha/revision/ref/digest key, or right after `sha256:`."""
    head = line[max(0, pos - 80) : pos]
    if _HASH_PATH.search(head):
        return True
    keys = re.findall(r"([A-Za-z_][\w.\-]*)\\*[\"']?[ \t]*[:=]", head)
    return bool(keys) and any(c in _HASH_WORDS for c in _components(keys[-1]))


def _generic_spans(text: str) -> Iterator[Span]:
    for m in _RUN.finditer(text):
        run = m.group(0)
        if len(run) < 12:
            continue
        start = m.start()
        value_at = 0
        key = _KEY_PREFIX.match(run)
        if key and key.end() < len(run) and "//" not in run[: key.end() + 2]:
            value_at = key.end()
        value = run[value_at:]
        if _readable_run(run) or _readable_run(value):
            continue
        if len(value) >= 20 and "://" not in value and random_looking(value):
            a = start + value_at
            if not (_HEX.fullmatch(value) and _hash_context(text, a)):
                yield a, start + len(run)
                continue
        for p in (_URL_PIECE if "://" in run else _PIECE).finditer(run, value_at):
            piece = p.group(0)
            if len(piece) < 20 or _readable_run(piece):
                continue
            core = piece.strip("/+=-_")
            if _UUID.search(piece) or _CLOUD_ID.fullmatch(core):
                continue
            if random_looking(piece):
                a = start + p.start()
                if _HEX.fullmatch(core) and _hash_context(text, a):
                    continue
                yield a, start + p.end()
    # Key material alone on its line (PEM bodies, wrapped base64): shorter pieces count too.
    pos = 0
    for line in text.split("\n"):
        alone = _SINGLE_TOKEN_LINE.fullmatch(line)
        if alone and _key_material(alone.group("t")):
            yield pos + alone.start("t"), pos + alone.end("t")
        pos += len(line) + 1


def _key_material(token: str) -> bool:
    """A token alone on its line (a PEM body line): random-looking from 12 characters, or from 16
    with two character classes and little word structure (the uppercase runs of DER headers)."""
    if random_looking(token, min_len=12):
        return True
    core = "".join(c for c in token if c.isalnum())
    return len(token) >= 16 and sum(_classes(core)) >= 2 and _word_share(token, len(core)) < 0.6


def mask_line(line: str, max_line: int | None = MAX_LINE) -> str:
    """Mask what may be a secret in a code line (or any text), keeping the rest readable.

    `redact_text()`'s credential shapes, plus random-looking tokens anywhere
    (see `random_looking()`); identifiers, enumerations, ARNs, CIDRs, cloud ids,
    digests, image tags and commit SHAs under a commit key stay as they are. The
    whole line is masked first, then cut to `max_line` characters (None: no cut).
    Exact secret values found by a scanner are removed separately by `Scrubber`.
    """
    line = line.rstrip("\n")
    spans = list(_shape_spans(line))
    spans.extend(_generic_spans(line))
    out = _apply(line, spans)
    if max_line is not None and len(out) > max_line:
        out = out[:max_line] + "…"
    return out


# --- locating a detected secret by its SHA-1 ----------------------------------------------

_FIND_RUN = re.compile(r"[^\s\"'`,;()\[\]{}<>]+")
_FIND_SUBRUN = re.compile(r"[A-Za-z0-9+/=_\-]+")
_FIND_QUOTED = (re.compile(r'"([^"\n]*)"'), re.compile(r"'([^'\n]*)'"), re.compile(r"`([^`\n]*)`"))
_FIND_PHRASE = re.compile(r"BEGIN[A-Z0-9 ]{0,30}? PRIVATE KEY(?: BLOCK)?|PuTTY-User-Key-File-\d")
_FIND_AFTER = re.compile(r"[=:][ \t]*")
_FIXED_MIN, _FIXED_MAX = 16, 128
"""Plugins with fixed-length patterns (`rk_live_` + 24 of a longer token) cut inside a run: from
each token start, ends are tried at every position, for candidates of these lengths."""
_NEAREST = 64
"""From each start, pairs end at most this many boundaries further (a secret has few inside)."""
_BUDGET = 1_000_000
"""Candidates tried at most per call (~0.5 s): a pathological line gives up (its preview stays
fully masked). The 100,000-character minified line of the canaries needs ~85,000."""


def _pieces(line: str, max_secret: int) -> Iterator[Span]:
    """Runs between delimiters; a run longer than `max_secret` is cut at non-base64 punctuation."""
    for m in _FIND_RUN.finditer(line):
        if m.end() - m.start() <= max_secret:
            yield m.span()
            continue
        for sub in _FIND_SUBRUN.finditer(line, m.start(), m.end()):
            if sub.end() - sub.start() <= max_secret:
                yield sub.span()


def _boundaries(line: str, s: int, e: int) -> list[int]:
    """Class boundaries inside line[s:e]: alnum ↔ non-alnum, and next to every non-alnum char."""
    bounds = [p for p in range(s, e + 1) if p in (s, e) or not line[p - 1].isalnum() or not line[p].isalnum()]
    if line[s] == "-" and e - s > 2 and line[s + 1].isalpha():
        bounds = sorted({*bounds, s + 2})  # `-pSECRET`: a short flag glued to its value
    return bounds


def _find_candidates(line: str, max_line: int, max_secret: int) -> Iterator[tuple[str, bool]]:
    """(candidate, also try it quoted), cheapest and likeliest first; see `find_hashed`."""
    wholes: list[str] = []
    for rx in _FIND_QUOTED:
        wholes.extend(m.group(1) for m in rx.finditer(line))
    wholes.extend(m.group(0) for m in _FIND_RUN.finditer(line))
    wholes.extend(m.group(0) for m in _FIND_PHRASE.finditer(line))
    for m in _FIND_AFTER.finditer(line, max(0, len(line) - max_secret - 8)):
        rest = line[m.end() :].rstrip()
        wholes.extend((rest, rest.rstrip(",;"), rest.strip("\"'")))
    for w in wholes:
        for c in (w, w.strip(), w.rstrip("\\")):
            yield c, True
    pieces = [(s, e, _boundaries(line, s, e)) for s, e in _pieces(line, max_secret)]
    for _, _, bounds in pieces:
        for i, a in enumerate(bounds):
            for b in bounds[i + 1 : i + 1 + _NEAREST]:
                if b - a > max_secret:
                    break
                yield line[a:b], False
    for s, e, bounds in pieces:
        for a in bounds[:-1]:
            if a == s or not line[a - 1].isalnum():
                for b in range(a + _FIXED_MIN, min(e, a + _FIXED_MAX) + 1):
                    yield line[a:b], False
    if len(line) <= max_line:
        cuts = [0] + [i for i in range(1, len(line)) if line[i].isalnum() != line[i - 1].isalnum()]
        cuts.append(len(line))
        for i, a in enumerate(cuts):
            for b in cuts[i + 1 :]:
                if b - a > max_secret:
                    break
                yield line[a:b], False


def find_hashed(line: str, sha1_hex: str, max_line: int = 2000, max_secret: int = 512) -> str | None:
    """The substring of `line` whose SHA-1 is `sha1_hex` (detect-secrets' hashed_secret).

    Candidates, cheapest and likeliest first, on a line of any length:
    1. whole pieces: quoted bodies, runs between delimiters (whitespace, quotes,
       `,;()[]{}<>`), the rest of the line after `=`/`:`, private-key phrases. A
       piece whose *quoted* form has the hash (detect-secrets quotes INI values) is
       returned unquoted, as it appears in the line;
    2. start/end pairs inside each run at class boundaries (alnum ↔ non-alnum, every
       position next to a non-alnum character, after a short `-p` flag), at most
       `max_secret` apart (a longer run is cut at non-base64 punctuation first);
    3. from each token start, every end (fixed-length patterns cut a longer token);
    4. on lines up to `max_line` characters, pairs across the whole line (phrases
       with spaces).
    Not found (None) means the preview is fully masked, never that anything is revealed.
    """
    try:
        target = bytes.fromhex(sha1_hex)
    except ValueError:
        return None
    if len(target) != 20 or not line:
        return None
    seen: set[str] = set()
    for tried, (candidate, quoted) in enumerate(_find_candidates(line, max_line, max_secret)):
        if tried >= _BUDGET:
            return None
        if not candidate or candidate in seen:
            continue
        seen.add(candidate)
        forms = (candidate, f'"{candidate}"', f"'{candidate}'") if quoted else (candidate,)
        for form in forms:
            # detect-secrets' identity hash, not a security use
            if hashlib.sha1(form.encode("utf-8"), usedforsecurity=False).digest() == target:
                return candidate
    return None


_HEX_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
"""A full git object id (SHA-1 or SHA-256): a shorter hex string is not told apart."""
_COMMIT_KEY = re.compile(r"(?i)(?:^|[^a-z])(git_?commit|commit(_?sha|_?id)?|revision)[\"']?\s*[:=]")
_COMMIT_TAG = re.compile(r"(?i)\bKey\s*:\s*[\"']?(git_?commit|commit(_?sha|_?id)?|revision)\b")


def commit_id(value: str, line: str, previous: str) -> bool:
    """Whether a value detect-secrets reported is a git commit in a trace tag
    (`git_commit = "…"`, yor's tags; CloudFormation's `- Key: git_commit` / `Value: "…"`):
    the finding stays, but the value is not scrubbed as a secret. Stricter than the
    masking rule (`_hash_context`): a full object id under a commit key only."""
    if not _HEX_ID.fullmatch(value):
        return False
    head = line[: line.find(value)] if value in line else line
    return bool(_COMMIT_KEY.search(head)) or (
        bool(_COMMIT_TAG.search(previous)) and bool(re.match(r"\s*Value\s*:", line))
    )


MIN_SCRUB = 8
_WORDLIKE = re.compile(r"[A-Za-z]+|[a-z]+(?:[_.-][a-z]+)*")


def scrubbable(value: str) -> bool:
    """Whether a located secret value is removed from every string of the run.

    A short or word-like value (`bandit`, `checkov`, `changeme`, `high`) is masked in its
    own finding and by its shape wherever it is assigned, but not replaced everywhere:
    a hostile repository with `password = "checkov"` would otherwise censor the word
    checkov (tool names, paths, rule titles) from the whole evidence.
    """
    value = value.strip()
    return len(value) >= MIN_SCRUB and not (len(value) < 20 and _WORDLIKE.fullmatch(value))


class Scrubber:
    """Replaces known secret values with their masks in any JSON-like value.

    With `shapes=True` it also applies `redact_text()` to every string, so that a
    credential no scanner reported is masked by its shape.
    """

    def __init__(self, secrets: Iterable[str] = (), shapes: bool = False) -> None:
        self._secrets = sorted({s for s in secrets if scrubbable(s)}, key=len, reverse=True)
        self._shapes = shapes

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, mask(secret))
        return redact_text(value) if self._shapes else value

    def data(self, value: Any) -> Any:
        if not self._secrets and not self._shapes:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value
