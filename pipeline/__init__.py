"""compliance-pipeline: security scanners normalised into audit-grade evidence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("compliance-evidence-pipeline")
except PackageNotFoundError:  # a source checkout that is not installed
    __version__ = "0.0.0+unknown"
