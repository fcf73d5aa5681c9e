"""A small web app's request handlers (deliberately insecure: a scanner fixture)."""

import hashlib
import subprocess

import yaml


def run_report(name: str) -> str:
    # Planted for bandit: shell injection (B602).
    return subprocess.check_output("generate-report " + name, shell=True).decode()


def load_settings(text: str) -> dict:
    # Planted for bandit: unsafe YAML load (B506).
    return yaml.load(text, Loader=yaml.Loader)


def cache_key(data: bytes) -> str:
    # Planted for bandit: weak hash for a security purpose (B324).
    return hashlib.md5(data).hexdigest()


def ping(host: str) -> int:
    # Planted for our nosec check: a blanket nosec silences every test on the line.
    return subprocess.call("ping -c 1 " + host, shell=True)  # nosec
