#!/usr/bin/env bash
# Phone look-up (screen-pop, issue 3/6) under an external load tool: `kefu serve` as a separate
# process on a store loaded by `kefu demo --customers N`, driven by wrk (Debian package `wrk`)
# with C connections over 127.0.0.1. Same run, same server: first GET /healthz (the HTTP floor,
# it pings the store), then GET /api/v1/customers?phone=<random phone of a loaded customer> with
# a bearer token. Prints wrk's p50/p99 and req/s per phase, the ratio look-up / healthz, and the
# server's peak RSS (VmHWM of /proc/PID/status) after each phase. The store is built fresh in a
# temporary directory (SQLite) or schema (PostgreSQL) and removed at the end.
#
#   bench/phone-lookup-wrk.sh                               # SQLite, 1 000 000 customers
#   CUSTOMERS=100000 DURATION=10s bench/phone-lookup-wrk.sh
#   STORE=postgres bench/phone-lookup-wrk.sh                # PostgreSQL (schema dropped after)
#   RATES="1000 2000" bench/phone-lookup-wrk.sh              # paced phases at these offered rates
#   KEEP_DATA=/big/dir bench/phone-lookup-wrk.sh              # SQLite store kept there, reused next run
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-1000000}
CONNECTIONS=${CONNECTIONS:-200}
THREADS=${THREADS:-2}
DURATION=${DURATION:-20s}
STORE=${STORE:-sqlite}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
PORT=${PORT:-18095}
# Phones the Lua script picks from (a random sample of the loaded customers' first phones).
SAMPLE=${SAMPLE:-100000}
# Offered look-ups/s of the paced phases (200 clients with think time); empty: saturation only.
RATES=${RATES-500 1000 2000}

if ! command -v wrk >/dev/null; then
  echo "wrk is missing: apt-get install -y wrk" >&2
  exit 1
fi

if [ -z "${KEFU:-}" ]; then
  cargo build --release -p kefu
  KEFU=${CARGO_TARGET_DIR:-target}/release/kefu
fi

work=$(mktemp -d)
server=""
schema=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$schema" ]; then
    PGOPTIONS="-c client_min_messages=warning" psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export KEFU_DATA="${KEEP_DATA:-$work/data}"
export KEFU_LOG=${KEFU_LOG:-warn}
if [ "$STORE" = postgres ]; then
  schema="kefu_wrk_$(date +%s)"
  psql "$PG_URL" -qc "CREATE SCHEMA $schema" >/dev/null
  # The URL may hold a password: it is passed through the environment, never echoed.
  export KEFU_DATABASE_URL="$PG_URL" KEFU_DATABASE_SCHEMA="$schema"
fi

echo "## store $STORE, $CUSTOMERS customers, wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
echo "## commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ), nproc $(nproc)"
echo "## uptime before load: $(uptime)"
if [ -n "${KEEP_DATA:-}" ] && [ -f "$KEEP_DATA/kefu.db" ]; then
  # A store loaded by an earlier run with the same KEEP_DATA: measured again, not reloaded.
  echo "## reusing $KEEP_DATA: $(sqlite3 "$KEEP_DATA/kefu.db" 'SELECT COUNT(*) FROM customers') customers"
else
  start=$(date +%s)
  "$KEFU" demo --customers "$CUSTOMERS" --orders 0 >"$work/demo.log"
  echo "## kefu demo --customers $CUSTOMERS --orders 0: $(( $(date +%s) - start )) s"
fi

# The look-up needs real phones of loaded customers: the generator is deterministic (same seed,
# same day), so writing the same demo as CSV gives the loaded customers' phones without reading
# them back through the store (an unmasked export of 1 000 000 customers takes minutes).
# A spread, deterministic sample of stored phones, read from the store itself (writing the demo
# again as CSV took as long as loading it at 10 000 000 customers).
sample_sql="SELECT phone FROM customer_phones WHERE (customer_id * 2654435761) % 97 = 13 LIMIT $SAMPLE"
if [ "$STORE" = postgres ]; then
  psql "$PG_URL" -qAt -c "SET search_path TO $schema" -c "$sample_sql" >"$work/phones.txt"
else
  sqlite3 "$KEFU_DATA/kefu.db" "$sample_sql" >"$work/phones.txt"
fi
echo "## phones sampled: $(wc -l <"$work/phones.txt")"

# agent1: a province-level agent of the demo (every customer in scope, phones unmasked).
KEFU_TOKEN=$("$KEFU" admin create-token --user agent1 --name wrk-bench 2>/dev/null)
export KEFU_TOKEN PHONES_FILE="$work/phones.txt"

"$KEFU" serve --addr "127.0.0.1:$PORT" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null
first=$(head -n1 "$work/phones.txt")
found=$(curl -fsS -H "Authorization: Bearer $KEFU_TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/customers?phone=$first" |
  python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))')
if [ "$found" -lt 1 ]; then
  echo "a sampled phone finds no customer: the sample does not match the store" >&2
  exit 1
fi
echo "## server pid $server, RSS after start: $(grep VmRSS /proc/$server/status | awk '{print $2, $3}')"

phase() { # name url-path [lua]
  local name=$1 path=$2 lua=${3:-}
  wrk -t"$THREADS" -c2 -d2s ${lua:+-s "$lua"} "http://127.0.0.1:$PORT$path" >/dev/null
  echo "## $name: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency ${lua:+-s $lua }http://127.0.0.1:$PORT$path"
  echo "## uptime: $(uptime)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${lua:+-s "$lua"} \
    "http://127.0.0.1:$PORT$path" | tee "$work/$name.txt"
  echo "## $name: server VmHWM $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"
}
phase healthz /healthz
phase lookup /api/v1/customers bench/phone-lookup-wrk.lua
# Paced phases: the same 200 clients, each thinking between look-ups, at offered rates below
# saturation (RATES, look-ups/s in total).
for rate in $RATES; do
  export THINK_MS=$(( CONNECTIONS * 1000 / rate ))
  echo "## paced-$rate: think time 0..$(( 2 * THINK_MS )) ms per connection"
  phase "paced-$rate" /api/v1/customers bench/phone-lookup-wrk.lua
done
unset THINK_MS

pick() { # file field: p50 | p99 | rps (wrk reports latency in us/ms/s)
  case $2 in
    p50) awk '$1=="50%"{print $2}' "$1" ;;
    p99) awk '$1=="99%"{print $2}' "$1" ;;
    rps) awk '/^Requests\/sec/{print $2}' "$1" ;;
  esac
}
h=$(pick "$work/healthz.txt" rps)
l=$(pick "$work/lookup.txt" rps)
echo
echo "| store | customers | conns | phase | req/s | p50 | p99 | peak RSS |"
echo "|---|---:|---:|---|---:|---:|---:|---:|"
echo "| $STORE | $CUSTOMERS | $CONNECTIONS | /healthz | $h | $(pick "$work/healthz.txt" p50) | $(pick "$work/healthz.txt" p99) | |"
echo "| $STORE | $CUSTOMERS | $CONNECTIONS | phone look-up | $l | $(pick "$work/lookup.txt" p50) | $(pick "$work/lookup.txt" p99) | $(grep VmHWM /proc/$server/status | awk '{print $2, $3}') |"
for rate in $RATES; do
  f="$work/paced-$rate.txt"
  echo "| $STORE | $CUSTOMERS | $CONNECTIONS | paced, offered $rate/s | $(pick "$f" rps) | $(pick "$f" p50) | $(pick "$f" p99) | |"
done
echo "look-up / healthz req/s: $(awk -v a="$l" -v b="$h" 'BEGIN{printf "%.2f", a/b}')"
echo "## uptime after: $(uptime)"
