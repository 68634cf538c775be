#!/usr/bin/env bash
# Phone look-up (screen-pop) benchmark of issue 3 on both stores: 100 000 customers, 50
# concurrent keep-alive clients over loopback, 20 s per measured phase (HTTP look-up, the same
# look-up straight on the store, GET /healthz). Each run builds a fresh store and removes it.
#
#   bench/phone-lookup.sh                 # both stores
#   STORES=sqlite bench/phone-lookup.sh   # one store
#   CUSTOMERS=10000 DURATION=5s bench/phone-lookup.sh
#   AUTH=session bench/phone-lookup.sh    # session cookie instead of an API token
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-100000}
CONCURRENCY=${CONCURRENCY:-50}
DURATION=${DURATION:-20s}
STORES=${STORES:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
AUTH=${AUTH:-token}

cargo build --release -p kefu
KEFU=${CARGO_TARGET_DIR:-target}/release/kefu

for store in $STORES; do
  args=(bench phone-lookup --customers "$CUSTOMERS" --concurrency "$CONCURRENCY" --duration "$DURATION" --auth "$AUTH")
  # The URL may hold a password: it is passed on, never echoed.
  echo "## $store: kefu ${args[*]}$([ "$store" = postgres ] && echo ' --database-url $PG_URL')" >&2
  if [ "$store" = postgres ]; then
    args+=(--database-url "$PG_URL")
  fi
  KEFU_LOG=${KEFU_LOG:-warn} "$KEFU" "${args[@]}"
done
