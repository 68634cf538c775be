#!/usr/bin/env bash
# SLA sweep benchmark of issue 5 on both stores: 1 000 000 generated open work orders loaded
# through load_orders, ANALYZE, then a steady 30 s tick, an hour of catch-up and an idle sweep,
# each against a plain UPDATE of the same rows. Each run builds a fresh store and removes it.
#
#   bench/sweep.sh                  # both stores, 1 000 000 orders
#   STORES=sqlite bench/sweep.sh    # one store
#   ORDERS=20000 bench/sweep.sh     # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."

ORDERS=${ORDERS:-1000000}
STORES=${STORES:-"sqlite postgres"}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}

cargo build --release -p kefu
KEFU=${CARGO_TARGET_DIR:-target}/release/kefu

for store in $STORES; do
  args=(bench sweep --orders "$ORDERS")
  # The URL may hold a password: it is passed on, never echoed.
  echo "## $store: kefu ${args[*]}$([ "$store" = postgres ] && echo ' --database-url $PG_URL')" >&2
  echo "## uptime before: $(uptime)" >&2
  if [ "$store" = postgres ]; then
    args+=(--database-url "$PG_URL")
  fi
  KEFU_LOG=${KEFU_LOG:-warn} "$KEFU" "${args[@]}"
  echo "## uptime after: $(uptime)" >&2
done
