#!/usr/bin/env bash
# Customer-import benchmark of issue 6 on both stores: N demo customers written as a
# billing-system CSV, loaded first by the database's own bulk load (sqlite3 .import / COPY into
# a bare table, the baseline) and then by `kefu import customers` into a fresh store. Each run
# builds a fresh store and removes it with the file.
#
#   bench/import.sh                       # both stores, 1 000 000 customers
#   CUSTOMERS=100000 bench/import.sh      # the quick size
#   STORES=postgres bench/import.sh       # one store
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-1000000}
STORES=${STORES:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}

if ! command -v sqlite3 >/dev/null; then
  echo "the SQLite baseline needs the sqlite3 shell: apt-get install -y sqlite3" >&2
  exit 1
fi

cargo build --release -p kefu
KEFU=${CARGO_TARGET_DIR:-target}/release/kefu

for store in $STORES; do
  args=(bench import --customers "$CUSTOMERS")
  # The URL may hold a password: it is passed on, never echoed.
  echo "## $store: kefu ${args[*]}$([ "$store" = postgres ] && echo ' --database-url $PG_URL')" >&2
  echo "## commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ), uptime before: $(uptime)" >&2
  if [ "$store" = postgres ]; then
    args+=(--database-url "$PG_URL")
  fi
  KEFU_LOG=${KEFU_LOG:-warn} "$KEFU" "${args[@]}"
  echo "## uptime after: $(uptime)" >&2
done
