#!/usr/bin/env bash
# What SQLite itself needs to store a customer file in kefu's schema, with no client at all:
# the `sqlite3` shell imports the file into a bare table (the import benchmark's baseline, in
# a database of its own, timed apart), then moves the rows into kefu's customer tables with INSERT … SELECT (one customer row,
# one phone row, tag and date rows where the cells are filled, one creation row per batch) and
# builds the six secondary indexes of those tables, as kefu's initial load does. The sum of those
# steps is a floor for `kefu import customers` on this machine: kefu also reads, converts and
# validates every row, and splits phone, tag and date cells into one row per value.
#
#   bench/import-floor-sqlite.sh                    # 1 000 000 customers
#   CUSTOMERS=10000000 bench/import-floor-sqlite.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-1000000}
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell: apt-get install -y sqlite3" >&2; exit 1; }
cargo build --release -p kefu
KEFU=$(realpath "${CARGO_TARGET_DIR:-target}/release/kefu")
work=$(mktemp -d /tmp/kefu-floor-XXXXXX)
trap 'rm -rf "$work"' EXIT

KEFU_LOG=warn "$KEFU" demo --customers "$CUSTOMERS" --orders 1 --csv "$work/csv" >/dev/null
# A store with kefu's schema and the demo org tree, no customers.
KEFU_LOG=warn "$KEFU" --data "$work/store" demo --customers 0 --orders 0 >/dev/null

BATCH=50000
step() { echo ".print STEP $1"; }
{
  echo "ATTACH '$work/bare.db' AS src;"
  echo ".timer on"
  # As kefu's initial load: no per-row reference checks, batches of 50 000 customers each
  # committed without waiting for the disk, the WAL checkpointed every 64 MiB, then the
  # indexes built on the threaded sorter.
  echo "PRAGMA cache_size = -524288; PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL;"
  echo "PRAGMA wal_autocheckpoint = 16384;"
  for i in customers_id_number customers_name customers_supply_unit_path customer_phones_phone \
           customer_tags_tag customer_special_dates_month_day; do
    echo "DROP INDEX $i;"
  done
  step rows
  for ((lo = 1; lo <= CUSTOMERS; lo += BATCH)); do
    hi=$((lo + BATCH - 1))
    w="FROM src.bare WHERE rowid BETWEEN $lo AND $hi"
    echo "BEGIN;"
    echo "INSERT INTO customers SELECT rowid, a, b, NULLIF(c, ''), NULLIF(d, ''), f, 5, '/1/2/3/', h, i, j, k, l, m, n, o, p, 'active', NULL, 1, 1764900000000, 1764900000000 $w;"
    echo "INSERT INTO customer_phones SELECT rowid, 0, e $w AND e <> '';"
    echo "INSERT INTO customer_tags SELECT rowid, q $w AND q <> '';"
    echo "INSERT INTO customer_special_dates SELECT rowid, 0, 'birthday', 1, 1, NULL, NULL $w AND r <> '';"
    echo "INSERT INTO customer_batch_creations VALUES ($lo, $hi, 1764900000000, NULL, 'system:import');"
    echo "COMMIT;"
  done
  step indexes
  echo "PRAGMA synchronous = FULL; PRAGMA temp_store = FILE; PRAGMA threads = 2; PRAGMA cache_size = -8192;"
  echo "BEGIN;"
  echo "CREATE INDEX customers_id_number ON customers (id_number) WHERE id_number IS NOT NULL;"
  echo "CREATE INDEX customers_name ON customers (name);"
  echo "CREATE INDEX customers_supply_unit_path ON customers (supply_unit_path, id);"
  echo "CREATE INDEX customer_phones_phone ON customer_phones (phone, customer_id);"
  echo "CREATE INDEX customer_tags_tag ON customer_tags (tag);"
  echo "CREATE INDEX customer_special_dates_month_day ON customer_special_dates (month, day);"
  echo "COMMIT;"
  echo "PRAGMA wal_checkpoint(TRUNCATE);"
  step end
} > "$work/floor.sql"

# The bare table first, in a database of its own (the import benchmark's baseline), then
# attached: its pages are not part of the store's WAL.
import_started=$(date +%s.%N)
printf 'CREATE TABLE bare (a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u);\n.import --csv --skip 1 %s bare\n' \
  "$work/csv/customers.csv" | sqlite3 "$work/bare.db"
import_s=$(awk -v a="$import_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

started=$(date +%s)
sqlite3 "$work/store/kefu.db" < "$work/floor.sql" | awk -v n="$CUSTOMERS" -v imp="$import_s" '
  /^STEP / { step = $2; next }
  /^Run Time/ { t[step] += $4 }
  END {
    floor = t["rows"] + t["indexes"]
    printf "| rows | sqlite3 .import s | kefu schema rows s | indexes s | floor s (rows + indexes) | floor rows/s |\n"
    printf "|---|---|---|---|---|---|\n"
    printf "| %d | %s | %.1f | %.1f | %.1f | %.0f |\n", n, imp, t["rows"], t["indexes"], floor, n / floor
  }'
echo "wall $(( $(date +%s) - started )) s, sqlite3 shell $(sqlite3 --version | cut -d' ' -f1)" >&2
