"""Canary corpus for issue 13: realistic secrets of 40+ kinds in many file types.

`build(root)` writes a git repository full of credentials and returns every
planted value; `iac_fixture(root)` writes Terraform, CloudFormation and
Kubernetes files whose identifiers, enumerations, ARNs, CIDRs, AMI ids and
commit SHAs are NOT secrets and must stay readable in the evidence.

Nothing secret-looking is written in this file: the project scans itself, so
every value is assembled at run time from a prefix and pseudo-random
characters (`random.Random(seed)`: the same seed gives the same values), and
private keys are generated with `cryptography`. The EC and Ed25519 keys are
derived from the seed; RSA keys (cryptography's generator cannot be seeded)
and the check-int inside OpenSSH's key format are fresh on every build.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import string
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
BASE32 = UPPER + "234567"

LONG_LINE_CHARS = 100_000
"""The length of the one-line minified file that hides a token in its middle."""


@dataclass(frozen=True)
class Canary:
    kind: str
    """The family of credential (several canaries may share one, in different files)."""
    value: str
    """The secret itself, exactly as written in the file (for URLs: the password)."""
    file: str
    """Where it is planted, relative to the corpus root."""
    whole: str | None = None
    """The whole credential when `value` is only its secret part (a webhook URL's key)."""

    @property
    def multiline(self) -> bool:
        return "\n" in self.value

    def body_lines(self) -> tuple[str, ...]:
        """A private key's base64 lines (no BEGIN/END armour): each one is key material."""
        return tuple(
            line.strip()
            for line in self.value.splitlines()
            if line.strip() and not line.startswith("-----") and len(line.strip()) >= 16
        )


@dataclass(frozen=True)
class Corpus:
    root: Path
    values: tuple[Canary, ...]
    files: tuple[str, ...]
    """Every file written (relative paths; `.git/config` holds the remote's token)."""

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(c.kind for c in self.values)

    def in_file(self, rel: str) -> tuple[Canary, ...]:
        return tuple(c for c in self.values if c.file == rel)


class _Gen:
    """Deterministic pseudo-random pieces; nothing here is a real credential."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def s(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rnd.choice(alphabet) for _ in range(n))

    def hex(self, n: int) -> str:
        return self.s(n, HEX)

    def digits(self, n: int) -> str:
        return str(self.rnd.randint(1, 9)) + self.s(n - 1, DIGITS)

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def b64(self, raw: bytes, urlsafe: bool = False, pad: bool = True) -> str:
        out = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
        return out if pad else out.rstrip("=")

    def ending(self, n: int, last: str, alphabet: str = B64) -> str:
        """n random characters then `last`: values that end in `/`, `+`, `-` or a quote."""
        return self.s(n, alphabet) + last


def _u(*parts: str) -> str:
    """Join prefix pieces (keeps every well-known prefix out of this file as one literal)."""
    return "".join(parts)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _jwt(g: _Gen) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": g.uuid4(), "role": "admin", "iat": 1767225600, "iss": "https://auth.acme.example"}
    signing_input = ".".join(
        g.b64(json.dumps(part, separators=(",", ":")).encode(), urlsafe=True, pad=False)
        for part in (header, claims)
    )
    mac = hmac.new(g.rnd.randbytes(32), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + g.b64(mac, urlsafe=True, pad=False)


def _pypi(g: _Gen) -> str:
    # A macaroon: version 2, location "pypi.org", an identifier, caveats, a signature.
    ident = g.uuid4().encode()
    raw = b"\x02\x01\x08pypi.org\x02" + bytes([len(ident)]) + ident + b"\x00\x02\x2a"
    raw += b'[1,{"version":1,"permissions":"user"}]' + b"\x00\x06\x20" + g.rnd.randbytes(32)
    return _u("py", "pi-") + g.b64(raw, urlsafe=True, pad=False)


def _discord(g: _Gen) -> str:
    user_id = g.digits(19)
    return g.b64(user_id.encode(), urlsafe=True, pad=False) + "." + g.s(6, B64URL) + "." + g.s(27, B64URL)


def _values(g: _Gen) -> dict[str, str]:
    """Every secret value by a short name (the names say where it goes)."""
    aws_id = _u("AK", "IA") + g.s(16, BASE32)
    return {
        "aws_id": aws_id,
        "aws_secret": g.s(40, B64),
        "aws_tmp_id": _u("AS", "IA") + g.s(16, BASE32),
        "ghp": _u("gh", "p_") + g.s(36),
        "gho": _u("gh", "o_") + g.s(36),
        "ghs": _u("gh", "s_") + g.s(36),
        "github_pat": _u("github", "_pat_") + g.s(22) + "_" + g.s(59),
        "glpat": _u("gl", "pat-") + g.s(20, B64URL),
        "xoxb": _u("xo", "xb-") + g.digits(11) + "-" + g.digits(13) + "-" + g.s(24),
        "xoxp": _u("xo", "xp-") + g.digits(11) + "-" + g.digits(12) + "-" + g.digits(13) + "-" + g.hex(32),
        "slack_hook_key": g.s(24),
        "slack_hook_ids": "T" + g.s(10, UPPER + DIGITS) + "/B" + g.s(10, UPPER + DIGITS),
        "stripe_sk": _u("sk", "_live_") + g.s(24),
        "stripe_sk_long_line": _u("sk", "_live_") + g.s(24),
        "stripe_rk": _u("rk", "_live_") + g.s(99),
        "twilio_sid": "AC" + g.hex(32),
        "twilio_key": "SK" + g.hex(32),
        "sendgrid": _u("SG", ".") + g.s(22, B64URL) + "." + g.s(43, B64URL),
        "npm": _u("np", "m_") + g.s(36),
        "pypi": _pypi(g),
        "discord": _discord(g),
        "jwt": _jwt(g),
        "google": _u("AI", "za") + g.s(35, B64URL),
        "azure_account_key": g.b64(g.rnd.randbytes(64)),
        "azure_client_secret": g.s(3) + g.s(1, DIGITS) + "Q~" + g.s(34, ALNUM + "_.~-"),
        "basic_auth_pw": g.s(20),
        "postgres_pw": g.s(22),
        "mysql_url_pw": g.s(18),
        "mongo_pw": g.s(24),
        "redis_pw": g.s(32),
        "fstring_pw": g.s(20),
        "heroku": g.uuid4(),
        "mailgun": _u("ke", "y-") + g.hex(32),
        "square": _u("sq0", "csp-") + g.s(43, B64URL),
        "shopify": _u("sh", "pat_") + g.hex(32),
        "atlassian": _u("ATATT", "3xFfGF0") + g.s(180, B64URL) + "=" + g.s(8, "0123456789ABCDEF"),
        "datadog_api": g.hex(32),
        "datadog_app": g.hex(40),
        "openai": _u("sk", "-proj-") + g.s(40, B64URL) + g.s(20) + g.b64(b"OpenAI") + g.s(20),
        "telegram": g.digits(10) + ":AA" + g.s(33, B64URL),
        "mailchimp": g.s(32, HEX) + "-us" + str(g.rnd.randint(2, 21)),
        "artifactory": _u("AK", "Cp") + g.s(69),
        "hcl_var_pw": g.b64(g.s(16).encode()),  # base64 of 16 characters: ends in ==
        "hcl_db_pw": g.b64(g.s(17).encode()),  # ends in =
        "cfn_param_pw": g.s(20),
        "cfn_master_pw": g.s(24),
        "yaml_quote": g.ending(28, "'", ALNUM),
        "json_token": g.s(40),
        "ini_slash": g.ending(30, "/"),
        "env_plus": g.ending(30, "+"),
        "mysql_cli_sh": g.s(16),
        "mysql_cli_tf": g.s(16),
        "mysql_cli_cfn": g.s(16),
        "docker_env": g.s(40),
        "docker_arg": g.ending(30, "-", B64URL),
        "k8s_data": g.b64(g.s(16).encode()),
        "bearer": g.s(48, B64URL),
        "basic_header": g.b64(b"ci-bot:" + g.s(20).encode()),
    }


def _keys(g: _Gen) -> dict[str, str]:
    ssh = ed25519.Ed25519PrivateKey.from_private_bytes(g.rnd.randbytes(32))
    scalar = g.rnd.getrandbits(255) % (2**255 - 19) + 1
    return {
        "rsa_pkcs1": _pem(
            rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.TraditionalOpenSSL
        ),
        "pkcs8": _pem(rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.PKCS8),
        "openssh": ssh.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ).decode(),
        "ec": _pem(
            ec.derive_private_key(scalar, ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL
        ),
        "gcp": _pem(rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.PKCS8),
        "k8s_tls": _pem(rsa.generate_private_key(65537, 2048), serialization.PrivateFormat.PKCS8),
    }


def _indent(text: str, pad: str) -> str:
    return "".join(pad + line + "\n" for line in text.splitlines())


def _long_line(g: _Gen, planted: str) -> str:
    """A 100,000-character minified line with a token in its middle."""
    half = LONG_LINE_CHARS // 2
    parts: list[str] = ["!function(){"]
    n = 0
    while sum(map(len, parts)) < half:
        parts.append(f"var a{n}=function(b){{return b+{n}}};")
        n += 1
    parts.append(f'window.__CFG__={{apiBase:"https://api.acme.example",ghToken:"{planted}"}};')
    while sum(map(len, parts)) < LONG_LINE_CHARS:
        parts.append(f"var c{n}=a{n % 97}({n});")
        n += 1
    return "".join(parts) + "}();\n"


def _padded(planted: str) -> str:
    """Plain words around a token, so that its line is longer than 100,000 characters."""
    words = "release notes for the orders service, see the changelog for details; "
    pad = words * (LONG_LINE_CHARS // (2 * len(words)) + 1)
    return pad + "billing key " + planted + " " + pad


def _files(v: dict[str, str], k: dict[str, str], g: _Gen) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """relative path → (text, [(kind, value name)]) for every planted file."""
    pw = "pass" + "word"  # keyword pieces, kept out of this file's own lines
    sec = "sec" + "ret"
    ami = "ami-0abc" + g.hex(13)
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}

    out["infra/terraform/variables.tf"] = (
        f'variable "db_{pw}" {{\n'
        "  type      = string\n"
        f'  default   = "{v["hcl_var_pw"]}"\n'
        "  sensitive = true\n"
        "}\n\n"
        f'variable "azure_client_{sec}" {{\n'
        "  type    = string\n"
        f'  default = "{v["azure_client_secret"]}"\n'
        "}\n\n"
        'variable "datadog_api_key" {\n'
        "  type    = string\n"
        f'  default = "{v["datadog_api"]}"\n'
        "}\n",
        [
            ("generic-password-hcl-base64", "hcl_var_pw"),
            ("azure-client-secret", "azure_client_secret"),
            ("datadog-api-key", "datadog_api"),
        ],
    )
    out["infra/terraform/main.tf"] = (
        'provider "aws" {\n'
        '  region     = "eu-west-1"\n'
        f'  access_key = "{v["aws_id"]}"\n'
        f'  {sec}_key = "{v["aws_secret"]}"\n'
        "}\n\n"
        'provider "datadog" {\n'
        "  api_key = var.datadog_api_key\n"
        f'  app_key = "{v["datadog_app"]}"\n'
        "}\n\n"
        'resource "aws_db_instance" "orders" {\n'
        '  identifier          = "orders-db"\n'
        '  engine              = "postgres"\n'
        '  instance_class      = "db.t3.micro"\n'
        '  username            = "orders_admin"\n'
        f'  {pw}            = "{v["hcl_db_pw"]}"\n'
        "  storage_encrypted   = false\n"
        "  skip_final_snapshot = true\n"
        "}\n\n"
        'resource "aws_instance" "bastion" {\n'
        f'  ami           = "{ami}"\n'
        '  instance_type = "t3.micro"\n'
        "  user_data     = <<-EOF\n"
        "    #!/bin/bash\n"
        f"    mysql -h orders-db.internal -u root -p{v['mysql_cli_tf']} -e 'CREATE DATABASE orders'\n"
        "  EOF\n"
        "}\n\n"
        'resource "aws_ssm_parameter" "release_notes" {\n'
        '  name  = "/orders/release-notes"\n'
        '  type  = "String"\n'
        f'  value = "{_padded(v["stripe_sk_long_line"])}"\n'
        "}\n",
        [
            ("stripe-secret-key-on-100k-hcl-line", "stripe_sk_long_line"),
            ("aws-access-key-id", "aws_id"),
            ("aws-secret-access-key", "aws_secret"),
            ("datadog-app-key", "datadog_app"),
            ("generic-password-hcl-base64", "hcl_db_pw"),
            ("mysql-cli-password", "mysql_cli_tf"),
        ],
    )
    out["infra/cloudformation/stack.yaml"] = (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Description: orders service\n"
        "Parameters:\n"
        f"  Db{pw.title()}:\n"
        "    Type: String\n"
        "    NoEcho: true\n"
        f'    Default: "{v["cfn_param_pw"]}"\n'
        "Resources:\n"
        "  AppInstance:\n"
        "    Type: AWS::EC2::Instance\n"
        "    Properties:\n"
        f"      ImageId: {ami}\n"
        "      InstanceType: t3.micro\n"
        "      UserData:\n"
        "        Fn::Base64: |\n"
        "          #!/bin/bash\n"
        f"          mysql -h orders-db.internal -u admin -p{v['mysql_cli_cfn']} orders < /opt/schema.sql\n"
        "  Database:\n"
        "    Type: AWS::RDS::DBInstance\n"
        "    Properties:\n"
        "      Engine: postgres\n"
        "      DBInstanceClass: db.t3.micro\n"
        "      AllocatedStorage: 20\n"
        "      MasterUsername: orders_admin\n"
        f'      MasterUser{pw.title()}: "{v["cfn_master_pw"]}"\n'
        "      StorageEncrypted: false\n",
        [
            ("cloudformation-parameter-default", "cfn_param_pw"),
            ("mysql-cli-password", "mysql_cli_cfn"),
            ("cloudformation-master-password", "cfn_master_pw"),
        ],
    )
    k8s_tls = base64.b64encode(k["k8s_tls"].encode()).decode()
    v["k8s_tls_b64"] = k8s_tls
    out["k8s/secret.yaml"] = (
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: payments-credentials\n"
        "  namespace: payments\n"
        "type: Opaque\n"
        "stringData:\n"
        f'  SENDGRID_API_KEY: "{v["sendgrid"]}"\n'
        f'  SLACK_BOT_TOKEN: "{v["xoxb"]}"\n'
        "data:\n"
        f"  db-{pw}: {v['k8s_data']}\n"
        f"  tls.key: {k8s_tls}\n",
        [
            ("sendgrid-api-key", "sendgrid"),
            ("slack-bot-token", "xoxb"),
            ("kubernetes-secret-data-base64", "k8s_data"),
            ("kubernetes-secret-tls-key-base64", "k8s_tls_b64"),
        ],
    )
    out["docker/Dockerfile"] = (
        "FROM python:3.12-slim\n"
        f"ARG DEPLOY_{sec.upper()}={v['docker_arg']}\n"
        f"ENV API_TOKEN={v['docker_env']}\n"
        f"ENV SHOPIFY_ACCESS_TOKEN={v['shopify']}\n"
        "WORKDIR /app\n"
        "COPY . /app\n"
        'CMD ["python", "-m", "app"]\n',
        [
            ("dockerfile-arg-secret", "docker_arg"),
            ("dockerfile-env-token", "docker_env"),
            ("shopify-access-token", "shopify"),
        ],
    )
    out[".env"] = (
        f"DATABASE_URL=postgres://app:{v['postgres_pw']}@db.internal:5432/app\n"
        f"STRIPE_{sec.upper()}_KEY={v['stripe_sk']}\n"
        f"TWILIO_ACCOUNT_SID={v['twilio_sid']}\n"
        f"TWILIO_API_KEY={v['twilio_key']}\n"
        f"HEROKU_API_KEY={v['heroku']}\n"
        f"TELEGRAM_BOT_TOKEN={v['telegram']}\n"
        f"MAILCHIMP_API_KEY={v['mailchimp']}\n"
        f"SESSION_{sec.upper()}={v['env_plus']}\n",
        [
            ("postgres-url-password", "postgres_pw"),
            ("stripe-secret-key", "stripe_sk"),
            ("twilio-account-sid", "twilio_sid"),
            ("twilio-api-key", "twilio_key"),
            ("heroku-api-key", "heroku"),
            ("telegram-bot-token", "telegram"),
            ("mailchimp-api-key", "mailchimp"),
            ("generic-secret-env-plus", "env_plus"),
        ],
    )
    hook_url = "https://hooks.slack.com/services/" + v["slack_hook_ids"] + "/" + v["slack_hook_key"]
    v["slack_hook_url"] = hook_url
    app_json = {
        "slack": {"webhook_url": hook_url},
        "stripe": {"restricted_key": v["stripe_rk"]},
        "mongo": {"uri": f"mongodb+srv://svc-orders:{v['mongo_pw']}@cluster0.x1y2z.mongodb.net/prod"},
        "api": {"token": v["json_token"]},
        "azure": {
            "storage": "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey="
            + v["azure_account_key"]
            + ";EndpointSuffix=core.windows.net"
        },
    }
    out["config/app.json"] = (
        json.dumps(app_json, indent=2) + "\n",
        [
            ("slack-webhook", "slack_hook_key"),
            ("stripe-restricted-key", "stripe_rk"),
            ("mongodb-srv-password", "mongo_pw"),
            ("generic-token-json", "json_token"),
            ("azure-storage-account-key", "azure_account_key"),
        ],
    )
    out["config/settings.yaml"] = (
        "square:\n"
        f"  application_{sec}: {v['square']}\n"
        "auth:\n"
        f"  session_jwt: {v['jwt']}\n"
        f'  client_{sec}: "{v["yaml_quote"]}"\n'
        "database:\n"
        f"  url: mysql://shop:{v['mysql_url_pw']}@mysql.internal:3306/shop\n"
        "tls:\n"
        "  private_key: |\n" + _indent(k["ec"], "    "),
        [
            ("square-oauth-secret", "square"),
            ("jwt", "jwt"),
            ("generic-secret-yaml-quote-ending", "yaml_quote"),
            ("mysql-url-password", "mysql_url_pw"),
            ("ec-private-key", "ec"),
        ],
    )
    out["config/services.ini"] = (
        "[redis]\n"
        f"url = redis://:{v['redis_pw']}@cache.internal:6379/0\n\n"
        "[atlassian]\n"
        "user = ci@acme.example\n"
        f"api_token = {v['atlassian']}\n\n"
        "[mailgun]\n"
        f"api_key = {v['mailgun']}\n\n"
        "[artifactory]\n"
        f"api_key = {v['artifactory']}\n\n"
        "[ldap]\n"
        "bind_dn = cn=svc,dc=acme,dc=example\n"
        f"bind_{pw} = {v['ini_slash']}\n",
        [
            ("redis-url-password", "redis_pw"),
            ("atlassian-api-token", "atlassian"),
            ("mailgun-api-key", "mailgun"),
            ("artifactory-api-key", "artifactory"),
            ("generic-password-ini-slash-ending", "ini_slash"),
        ],
    )
    out["config/aws-credentials.ini"] = (
        f"[default]\naws_access_key_id = {v['aws_tmp_id']}\naws_{sec}_access_key = {v['aws_secret']}\n",
        [("aws-temporary-access-key-id", "aws_tmp_id"), ("aws-secret-access-key", "aws_secret")],
    )
    out[".pypirc"] = (
        "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n" + f"{pw} = {v['pypi']}\n",
        [("pypi-token", "pypi")],
    )
    out[".npmrc"] = (
        f"//registry.npmjs.org/:_authToken={v['npm']}\n",
        [("npm-token", "npm")],
    )
    out["app/settings.py"] = (
        '"""Runtime settings."""\n\n'
        "import os\n\n"
        'HOST = os.environ.get("REPORTING_HOST", "reporting.internal")\n'
        f'DISCORD_BOT_TOKEN = "{v["discord"]}"\n'
        f'EXPORT_URL = f"https://svc-reporting:{v["fstring_pw"]}@{{HOST}}/v2/export"\n'
        f'HEADERS = {{"Authorization": f"token {v["gho"]}", "X-Host": f"{{HOST}}"}}\n',
        [
            ("discord-bot-token", "discord"),
            ("basic-auth-url-f-string", "fstring_pw"),
            ("github-oauth-token", "gho"),
        ],
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": [
                    {
                        "name": "stdout",
                        "output_type": "stream",
                        "text": [f"connected: key={v['google']}\n"],
                    }
                ],
                "source": [
                    "import openai\n",
                    f'openai.api_key = "{v["openai"]}"\n',
                    f'MAPS_KEY = "{v["google"]}"\n',
                    "print(f'connected: key={MAPS_KEY}')\n",
                ],
            }
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    out["notebooks/analysis.ipynb"] = (
        json.dumps(notebook, indent=1) + "\n",
        [("openai-api-key", "openai"), ("google-api-key", "google")],
    )
    out["requirements.txt"] = (
        "requests==2.31.0\n"
        f"-e git+https://{v['ghp']}@github.com/acme/private.git#egg=private\n"
        f"git+https://oauth2:{v['glpat']}@gitlab.com/acme/platform/lib.git@v1.2.0#egg=acme-lib\n",
        [("github-classic-token", "ghp"), ("gitlab-personal-access-token", "glpat")],
    )
    out["scripts/deploy.sh"] = (
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        f"export SLACK_USER_TOKEN={v['xoxp']}\n"
        f"curl -fsS https://deploy:{v['basic_auth_pw']}@artifacts.acme.example/repo/app.tar.gz -o app.tgz\n"
        f'curl -fsS -H "Authorization: Bearer {v["bearer"]}" https://api.acme.example/v1/deploy\n'
        f'curl -fsS -H "Authorization: Basic {v["basic_header"]}" https://ci.acme.example/job/build\n'
        f"mysql -h db.internal -u root -p{v['mysql_cli_sh']} app < schema.sql\n",
        [
            ("slack-user-token", "xoxp"),
            ("basic-auth-url", "basic_auth_pw"),
            ("authorization-bearer-header", "bearer"),
            ("authorization-basic-header", "basic_header"),
            ("mysql-cli-password", "mysql_cli_sh"),
        ],
    )
    gcp = {
        "type": "service_account",
        "project_id": "acme-prod-4711",
        "private_key_id": g.hex(40),
        "private_key": k["gcp"],
        "client_email": "reporting@acme-prod-4711.iam.gserviceaccount.com",
        "client_id": g.digits(21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        _u("token", "_uri"): "https://oauth2.googleapis.com/token",
    }
    out["config/gcp-service-account.json"] = (
        json.dumps(gcp, indent=2) + "\n",
        [("gcp-service-account-private-key", "gcp")],
    )
    out["deploy/deploy_key.pem"] = (k["rsa_pkcs1"], [("rsa-private-key-pkcs1", "rsa_pkcs1")])
    out["deploy/server.key"] = (k["pkcs8"], [("private-key-pkcs8", "pkcs8")])
    out["deploy/id_ed25519"] = (k["openssh"], [("openssh-private-key", "openssh")])
    out["static/app.min.js"] = (_long_line(g, v["ghs"]), [("github-app-token-on-100k-line", "ghs")])
    return out


def _git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "canary",
        "GIT_AUTHOR_EMAIL": "canary@example.invalid",
        "GIT_COMMITTER_NAME": "canary",
        "GIT_COMMITTER_EMAIL": "canary@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


def build(root: Path, seed: int = 1) -> Corpus:
    """Write the canary repository into `root` (created; a git repository) and list its values."""
    g = _Gen(seed)
    v = _values(g)
    k = _keys(g)
    v.update(k)
    files = _files(v, k, g)
    root.mkdir(parents=True, exist_ok=True)
    canaries: list[Canary] = []
    for rel, (text, planted) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        for kind, name in planted:
            whole = v["slack_hook_url"] if name == "slack_hook_key" else None
            canaries.append(Canary(kind, v[name], rel, whole))
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "canaries")
    remote = f"https://ci-bot:{v['github_pat']}@github.com/acme/x.git"
    _git(root, "remote", "add", "origin", remote)
    canaries.append(Canary("github-fine-grained-token-in-git-remote", v["github_pat"], ".git/config", remote))
    for c in canaries:
        if c.file != ".git/config":
            text = files[c.file][0]
            probe = c.body_lines()[0] if c.multiline else c.value
            assert probe in text, f"canary {c.kind} not planted verbatim in {c.file}"
    return Corpus(root=root, values=tuple(canaries), files=(*files, ".git/config"))


# --- the IaC fixture: tokens that are not secrets and must stay readable -------------------


def iac_fixture(root: Path) -> tuple[str, ...]:
    """Write IaC files full of non-secret tokens an auditor must read; return those tokens.

    Every token is on a line of a resource checkov fails, so the line is in a snippet.
    """
    g = _Gen(13)
    account = "123456789012"
    commit = g.hex(40)
    ami = "ami-0abc" + g.hex(13)
    kms_arn = f"arn:aws:kms:eu-west-1:{account}:key/{g.uuid4()}"
    role_arn = f"arn:aws:iam::{account}:role/ci-deploy-role"
    digest = "sha256:" + g.hex(64)
    image = "registry.acme.example/payments/api-gateway"
    image_tag = "3.14.2-" + commit[:12]
    pw = "pass" + "word"
    sec = "sec" + "ret"
    root.mkdir(parents=True, exist_ok=True)
    (root / "terraform").mkdir(exist_ok=True)
    (root / "terraform" / "main.tf").write_text(
        'resource "aws_s3_bucket" "customer_uploads_prod" {\n'
        '  bucket = "acme-customer-uploads-prod"\n'
        '  acl    = "public-read-write"\n'
        "  tags = {\n"
        f'    git_commit = "{commit}"\n'
        '    git_repo   = "acme/platform-infrastructure"\n'
        "  }\n"
        "}\n\n"
        'resource "aws_s3_bucket_server_side_encryption_configuration" "customer_uploads_prod" {\n'
        "  bucket = aws_s3_bucket.customer_uploads_prod.id\n"
        "  rule {\n"
        "    apply_server_side_encryption_by_default {\n"
        '      sse_algorithm = "AES256"\n'
        "    }\n"
        "  }\n"
        "}\n\n"
        'resource "aws_security_group" "bastion_ingress_open_ssh" {\n'
        '  name   = "bastion-ingress-open-ssh"\n'
        '  vpc_id = "vpc-0a1b2c3d4e5f60718"\n'
        "  ingress {\n"
        "    from_port   = 22\n"
        "    to_port     = 22\n"
        '    protocol    = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0", "10.20.0.0/16"]\n'
        "  }\n"
        "}\n\n"
        'resource "aws_instance" "bastion_host_eu_west_1a" {\n'
        f'  ami                  = "{ami}"\n'
        '  instance_type        = "t3.micro"\n'
        '  iam_instance_profile = "ci-deploy-instance-profile"\n'
        "  tags = {\n"
        f'    git_commit = "{commit}"\n'
        f'    image_tag  = "{image_tag}"\n'
        "  }\n"
        "}\n\n"
        'resource "aws_kms_key" "orders_database_encryption" {\n'
        '  description         = "orders database encryption key"\n'
        "  enable_key_rotation = false\n"
        "}\n\n"
        f'resource "aws_iam_account_{pw}_policy" "strict_rotation_policy" {{\n'
        f"  minimum_{pw}_length = 8\n"
        "  require_symbols         = false\n"
        "}\n\n"
        f'resource "aws_{sec}smanager_{sec}" "orders_db_credentials" {{\n'
        '  name = "orders/db-credentials"\n'
        "}\n\n"
        'resource "aws_iam_role_policy" "ci_deploy_inline_policy" {\n'
        '  name = "ci-deploy-inline-policy"\n'
        '  role = "ci-deploy-role"\n'
        "  policy = jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Effect   = "Allow"\n'
        '      Action   = "*"\n'
        '      Resource = "*"\n'
        "    }]\n"
        "  })\n"
        "}\n\n"
        'resource "aws_lambda_function" "orders_event_processor" {\n'
        '  function_name = "orders-event-processor"\n'
        f'  role          = "{role_arn}"\n'
        '  handler       = "orders.handler"\n'
        '  runtime       = "python3.12"\n'
        '  filename      = "orders_event_processor.zip"\n'
        f'  kms_key_arn   = "{kms_arn}"\n'
        "}\n",
        encoding="utf-8",
    )
    (root / "cloudformation").mkdir(exist_ok=True)
    (root / "cloudformation" / "template.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  CustomerUploadsBucket:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      BucketName: acme-customer-uploads-archive\n"
        "      AccessControl: PublicReadWrite\n"
        "      Tags:\n"
        "        - Key: git_commit\n"
        f'          Value: "{commit}"\n'
        "  BastionSecurityGroup:\n"
        "    Type: AWS::EC2::SecurityGroup\n"
        "    Properties:\n"
        "      GroupDescription: bastion-ingress-open-ssh\n"
        "      SecurityGroupIngress:\n"
        "        - IpProtocol: tcp\n"
        "          FromPort: 22\n"
        "          ToPort: 22\n"
        "          CidrIp: 0.0.0.0/0\n"
        "  OrdersQueue:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      QueueName: orders-events-dead-letter-queue\n",
        encoding="utf-8",
    )
    (root / "k8s").mkdir(exist_ok=True)
    (root / "k8s" / "pod.yaml").write_text(
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata:\n"
        "  name: payments-api-gateway\n"
        "  namespace: payments-production\n"
        "spec:\n"
        "  containers:\n"
        "    - name: nginx-sidecar\n"
        f"      image: nginx@{digest}\n"
        "    - name: api-gateway\n"
        f"      image: {image}:{image_tag}\n"
        "      securityContext:\n"
        "        privileged: true\n"
        "  hostNetwork: true\n",
        encoding="utf-8",
    )
    return (
        "public-read-write",
        "AES256",
        "acme-customer-uploads-prod",
        "customer_uploads_prod",
        "aws_s3_bucket_server_side_encryption_configuration",
        "bastion_ingress_open_ssh",
        "bastion-ingress-open-ssh",
        "vpc-0a1b2c3d4e5f60718",
        "0.0.0.0/0",
        "10.20.0.0/16",
        ami,
        "bastion_host_eu_west_1a",
        "ci-deploy-instance-profile",
        commit,
        image_tag,
        "acme/platform-infrastructure",
        "orders_database_encryption",
        "orders database encryption key",
        f"aws_iam_account_{pw}_policy",
        "strict_rotation_policy",
        f"minimum_{pw}_length",
        f"aws_{sec}smanager_{sec}",
        "orders_db_credentials",
        "orders/db-credentials",
        "ci_deploy_inline_policy",
        "ci-deploy-inline-policy",
        "orders_event_processor",
        "orders-event-processor",
        role_arn,
        kms_arn,
        "acme-customer-uploads-archive",
        "PublicReadWrite",
        "payments-api-gateway",
        "payments-production",
        f"{image}:{image_tag}",
        f"nginx@{digest}",
    )
