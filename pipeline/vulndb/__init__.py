"""The local advisory database and the OSV-compatible API served to pip-audit."""
