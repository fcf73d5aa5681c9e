"""Secret canaries: a repository full of secrets; no value reaches any byte of the bundle."""

from __future__ import annotations

import random
import string
import zipfile
from pathlib import Path

import pytest
from conftest import copy_demo, scan

from pipeline import evidence

pytestmark = pytest.mark.tools


def _rand(rnd: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(n))


def canaries() -> dict[str, str]:
    rnd = random.Random(99)
    return {
        "aws_key_id": "AKIA" + _rand(rnd, 16, string.ascii_uppercase + string.digits),
        "aws_secret": _rand(rnd, 40, string.ascii_letters + string.digits + "/+"),
        "github": "ghp_" + _rand(rnd, 36),
        "slack": "xoxb-" + "".join(rnd.choice(string.digits) for _ in range(12)) + "-" + _rand(rnd, 24),
        "stripe": "sk_live_" + _rand(rnd, 24),
        "url_password": _rand(rnd, 18),
        "keyword_password": _rand(rnd, 20),
        "private_key_body": _rand(rnd, 64, string.ascii_letters + string.digits + "+/"),
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0."
        + _rand(rnd, 43, string.ascii_letters + string.digits + "-_"),
    }


def plant(target: Path, s: dict[str, str]) -> None:
    (target / "app" / "creds.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{s["aws_key_id"]}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{s["aws_secret"]}"\n'
        f'GITHUB_TOKEN = "{s["github"]}"\n'
        f'SLACK_TOKEN = "{s["slack"]}"\n'
        f'STRIPE_KEY = "{s["stripe"]}"\n'
        f'DATABASE_URL = "postgres://admin:{s["url_password"]}@db.example.invalid:5432/app"\n'
        f'password = "{s["keyword_password"]}"\n'
        f'SESSION = "{s["jwt"]}"\n'
    )
    (target / "deploy.pem").write_text(
        "-----BEGIN RSA PRIVATE KEY-----\n" + s["private_key_body"] + "\n-----END RSA PRIVATE KEY-----\n"
    )
    (target / "infra" / "db.tf").write_text(
        'resource "aws_db_instance" "creds" {\n'
        f'  password = "{s["keyword_password"]}"\n'
        "  storage_encrypted = true\n}\n"
        'provider "aws" {\n'
        f'  access_key = "{s["aws_key_id"]}"\n'
        f'  secret_key = "{s["aws_secret"]}"\n'
        "}\n"
    )


def test_no_secret_value_in_any_byte_of_the_bundle(tmp_path: Path, demo_config) -> None:  # type: ignore[no-untyped-def]
    target = copy_demo(tmp_path)
    secrets = canaries()
    plant(target, secrets)
    run = scan(target, demo_config)
    found = {f.rule_id for f in run.report.findings if f.tool == "detect-secrets"}
    assert {"AWS Access Key", "GitHub Token", "Slack Token", "Private Key", "Basic Auth Credentials"} <= found
    out = evidence.write(run, tmp_path / "ev", make_zip=True)
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    with zipfile.ZipFile(out.with_suffix(".zip")) as zf:
        blobs += [zf.read(n) for n in zf.namelist()]
    assert len(blobs) >= 18
    for name, value in secrets.items():
        for blob in blobs:
            assert value.encode() not in blob, f"{name} leaked"
