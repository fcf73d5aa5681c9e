"""Download OSV's PyPI export (all.zip) for `vulndb update`."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

OSV_EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
TIMEOUT = 120


class DownloadError(Exception):
    """The export could not be fetched or is not a zip of OSV records."""


def download(url: str, folder: Path) -> Path:
    """Fetch `url` into a temporary file in `folder`; the caller removes it."""
    if not url.startswith(("https://", "http://")):
        raise DownloadError(f"{url}: only http(s) URLs can be downloaded")
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".osv-export-", suffix=".zip", dir=folder)
    path = Path(name)
    try:
        # The scheme is checked above: only http(s) reaches urlopen.
        with open(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as resp:  # nosec B310
            shutil.copyfileobj(resp, out)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        path.unlink(missing_ok=True)
        raise DownloadError(f"downloading {url} failed: {exc}") from None
    if not zipfile.is_zipfile(path):
        path.unlink(missing_ok=True)
        raise DownloadError(f"{url} did not return a zip archive")
    return path
