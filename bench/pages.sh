#!/usr/bin/env bash
# Server time of the main pages at demo scale (issue 8 item 10: < 200 ms): starts
# `kefu serve --demo` (3 000 customers) on a loopback port with a fresh data folder, signs in as
# the province agent, takes ORDERS appeals through the API so the lists have rows, then times
# each page REPEAT times with curl's time_total over keep-alive-less loopback requests, next to
# /healthz (the HTTP floor, it also pings the store) measured in the same run. Prints a Markdown
# table: median and p95 in ms, and the median as a multiple of /healthz's.
#
#   bench/pages.sh                        # release build
#   PROFILE=debug REPEAT=10 bench/pages.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-30}
ORDERS=${ORDERS:-200}
PROFILE=${PROFILE:-release}
PORT=${PORT:-18598}
PASSWORD=Kefu-demo-2026
TARGET=${CARGO_TARGET_DIR:-target}

if [ "$PROFILE" = release ]; then cargo build --release -p kefu; else cargo build -p kefu; fi
KEFU=$TARGET/$PROFILE/kefu
DATA=$(mktemp -d)
JAR=$DATA/cookies
BASE=http://127.0.0.1:$PORT
KEFU_LOG=warn "$KEFU" serve --demo --addr 127.0.0.1:$PORT --data "$DATA" >"$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 240); do
  curl -sf "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "$BASE/healthz" >/dev/null

login=$(curl -sf -c "$JAR" -H 'content-type: application/json' \
  -d "{\"username\":\"agent1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login")
CSRF=$(jq -r .csrf_token <<<"$login")
customers=$(curl -sf -b "$JAR" "$BASE/api/v1/customers?limit=50")
mapfile -t IDS < <(jq -r '.items[].id' <<<"$customers")
PHONE=$(jq -r '.items[0].phones[0]' <<<"$customers")
for i in $(seq 1 "$ORDERS"); do
  id=${IDS[$((i % ${#IDS[@]}))]}
  sub=$([ $((i % 3)) = 0 ] && echo consultation.billing || echo complaint.outage)
  curl -sf -o /dev/null -b "$JAR" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' \
    -d "{\"channel\":\"phone_95598\",\"caller\":{\"customer_id\":$id},\"appeal_type\":\"${sub%%.*}\",\"sub_category\":\"$sub\",\"content\":\"bench appeal $i\"}" \
    "$BASE/api/v1/work-orders"
done
NUMBER=$(curl -sf -b "$JAR" "$BASE/api/v1/work-orders?limit=1" | jq -r '.items[0].number')
echo "demo: ${#IDS[@]} customers listed, $(curl -sf -b "$JAR" "$BASE/api/v1/work-orders?limit=200" | jq '.items | length') orders on the first list page" >&2

# Median and p95 (ms) of REPEAT timed GETs of $1 (after checking it answers 200 with a page).
measure() {
  local times check
  check=$(curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{size_download}' "$BASE$1")
  echo "$1 -> $check" >&2
  [ "${check%% *}" = 200 ] || { echo "$1 answered $check, not 200" >&2; exit 1; }
  times=$(for _ in $(seq 1 "$REPEAT"); do
    curl -s -o /dev/null -b "$JAR" -w '%{time_total}\n' "$BASE$1"
  done | sort -n)
  python3 - "$times" <<'PY'
import sys
t = [float(x) * 1000 for x in sys.argv[1].split()]
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
print(f"{t[len(t) // 2]:.1f} {p95:.1f}")
PY
}

read -r base_med base_p95 < <(measure /healthz)
echo "| page | median ms | p95 ms | median / healthz |"
echo "|---|---:|---:|---:|"
echo "| /healthz (baseline) | $base_med | $base_p95 | 1.0 |"
for page in \
  /ui/workbench \
  "/ui/workbench?phone=$PHONE" \
  "/ui/customers/${IDS[0]}" \
  /ui/orders \
  "/ui/orders?state=pending_dispatch" \
  "/ui/orders/$NUMBER" \
  /ui/board \
  /self; do
  read -r med p95 < <(measure "$page")
  ratio=$(python3 -c "print(f'{$med / max($base_med, 0.001):.1f}')")
  echo "| \`${page//$PHONE/<phone>}\` | $med | $p95 | $ratio |"
done
