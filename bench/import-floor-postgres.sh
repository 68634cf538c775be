#!/usr/bin/env bash
# What PostgreSQL itself needs to store a customer file in kefu's schema, with no client work:
# `psql \copy` loads the file into a bare table of TEXT columns (the import benchmark's
# baseline, timed apart), then one transaction does what kefu's initial load does on the
# server: sets the customer tables' secondary indexes, keys and foreign keys (and the foreign
# keys that refer to them) aside (read back from the catalog), moves the rows into kefu's
# tables with INSERT … SELECT (one customer row, one phone row, tag and date rows where the
# cells are filled, one creation row per 50 000 customers), re-creates the indexes, re-adds
# and validates the constraints, analyzes and commits. The sum of those steps is a floor for
# `kefu import customers --database-url …` on this machine: kefu also reads, converts and
# validates every row, splits phone, tag and date cells, and streams the rows with COPY.
#
#   bench/import-floor-postgres.sh                    # 1 000 000 customers
#   CUSTOMERS=10000000 bench/import-floor-postgres.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (the default)
set -euo pipefail
cd "$(dirname "$0")/.."

CUSTOMERS=${CUSTOMERS:-1000000}
URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
command -v psql >/dev/null || { echo "needs psql: apt-get install -y postgresql-client" >&2; exit 1; }
cargo build --release -p kefu
KEFU=$(realpath "${CARGO_TARGET_DIR:-target}/release/kefu")
work=$(mktemp -d /tmp/kefu-floor-XXXXXX)
schema="kefu_floor_$(date +%s%N)"
cleanup() {
  psql -q "$URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

KEFU_LOG=warn "$KEFU" demo --customers "$CUSTOMERS" --orders 1 --csv "$work/csv" >/dev/null
# A schema with kefu's tables and the demo org tree, no customers.
psql -q "$URL" -c "CREATE SCHEMA $schema" >/dev/null
KEFU_LOG=warn "$KEFU" --database-url "$URL" --database-schema "$schema" \
  demo --customers 0 --orders 0 >/dev/null

# The baseline: the file into a bare table, as `kefu bench import` does it.
import_started=$(date +%s.%N)
psql -q "$URL" -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET search_path = $schema;
CREATE TABLE bare (a text, b text, c text, d text, e text, f text, g text, h text, i text,
  j text, k text, l text, m text, n text, o text, p text, q text, r text, s text, t text,
  u text);
\copy bare FROM '$work/csv/customers.csv' (FORMAT csv, HEADER)
SQL
import_s=$(awk -v a="$import_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
# Untimed: the row numbers kefu hands out as customer ids.
psql -q "$URL" -c "SET search_path = $schema; ALTER TABLE bare ADD COLUMN rn bigint GENERATED ALWAYS AS IDENTITY" >/dev/null

tables="'customers', 'customer_phones', 'customer_tags', 'customer_special_dates'"
step() { echo "\\echo STEP $1"; }
{
  echo "SET search_path = $schema;"
  echo "\\set ON_ERROR_STOP 1"
  echo "\\timing on"
  echo "BEGIN;"
  echo "SET LOCAL maintenance_work_mem = '1GB'; SET LOCAL work_mem = '1GB';"
  step aside
  echo "CREATE TEMP TABLE aside_index ON COMMIT DROP AS SELECT i.indexrelid::regclass::text AS name, \
pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = ANY(ARRAY[$tables]::regclass[]) \
AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);"
  echo "CREATE TEMP TABLE aside_constraint ON COMMIT DROP AS SELECT conrelid::regclass::text AS tbl, \
conname::text AS name, pg_get_constraintdef(oid) AS def, contype FROM pg_constraint \
WHERE (conrelid = ANY(ARRAY[$tables]::regclass[]) AND contype IN ('p', 'u', 'f')) \
OR (confrelid = ANY(ARRAY[$tables]::regclass[]) AND contype = 'f');"
  echo "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, name) FROM aside_constraint ORDER BY contype \\gexec"
  echo "SELECT format('DROP INDEX %s', name) FROM aside_index \\gexec"
  step rows
  echo "INSERT INTO customers (id, account_number, name, id_kind, id_number, address, supply_unit_id, \
supply_unit_path, grid, usage_category, voltage, contract_capacity_kva, industry, business_format, \
scale, value_tier, service_grade, status, version, created_at, updated_at) \
SELECT rn, a, b, NULLIF(c, ''), NULLIF(d, ''), f, unit.id, unit.path, h, i, j, NULLIF(k, '')::bigint, \
NULLIF(l, ''), NULLIF(m, ''), NULLIF(bare.n, ''), NULLIF(o, ''), NULLIF(p, ''), 'active', 1, now(), \
now() FROM bare, (SELECT id, path FROM org_units ORDER BY id LIMIT 1) unit;"
  echo "INSERT INTO customer_phones SELECT rn, 0, e FROM bare WHERE e <> '';"
  echo "INSERT INTO customer_tags SELECT rn, q FROM bare WHERE q <> '';"
  echo "INSERT INTO customer_special_dates SELECT rn, 0, 'birthday', 1, 1, NULL, NULL FROM bare WHERE r <> '';"
  echo "INSERT INTO customer_batch_creations SELECT lo, LEAST(lo + 49999, $CUSTOMERS), now(), NULL, \
'system:import' FROM generate_series(1, $CUSTOMERS, 50000) lo;"
  step indexes
  echo "SELECT def FROM aside_index \\gexec"
  step constraints
  echo "SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', tbl, name, def) FROM aside_constraint ORDER BY contype DESC \\gexec"
  step analyze
  echo "ANALYZE customers, customer_phones, customer_tags, customer_special_dates;"
  step commit
  echo "COMMIT;"
  step end
} > "$work/floor.sql"

started=$(date +%s)
psql -q "$URL" < "$work/floor.sql" | awk -v n="$CUSTOMERS" -v imp="$import_s" '
  /^STEP / { step = $2; next }
  /^Time: / { t[step] += $2 / 1000 }
  END {
    floor = t["aside"] + t["rows"] + t["indexes"] + t["constraints"] + t["analyze"] + t["commit"]
    printf "| rows | COPY into bare s | kefu schema rows s | indexes s | constraints s | analyze + commit s | floor s | floor rows/s |\n"
    printf "|---|---|---|---|---|---|---|---|\n"
    printf "| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", n, imp, t["rows"], t["indexes"], \
      t["constraints"], t["analyze"] + t["commit"], floor, n / floor
  }'
stored=$(psql -Atq "$URL" -c "SELECT count(*) FROM $schema.customers")
[ "$stored" = "$CUSTOMERS" ] || { echo "the floor stored $stored customers, not $CUSTOMERS" >&2; exit 1; }
echo "wall $(( $(date +%s) - started )) s, $(psql -Atq "$URL" -c 'SHOW server_version')" >&2
