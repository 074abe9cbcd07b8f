#!/usr/bin/env bash
# Where the disk goes: loads CALLS (1,000,000) realistic Alibaba call
# reports (bench/preload.py: 50-record pushes, every call id new) into a
# fresh SQLite database through `callhook import` (parse, append, project,
# as a push would), checkpoints it, and prints every table's and index's
# size from SQLite's dbstat: bytes, share, and bytes per call.
#
# With BACKEND=postgres the calls go into a new database on POSTGRES
# (default postgres://postgres@127.0.0.1:5432/postgres), dropped after,
# and the sizes are PostgreSQL's (pg_relation_size of every table and
# index, after VACUUM).
#
# Env: CALLS (1000000), BACKEND (sqlite), POSTGRES, KEEP (set to keep the
# SQLite database and print its path).
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${CALLS:-1000000}
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
cargo build --release --quiet --bin callhook

BACKEND=${BACKEND:-sqlite}
POSTGRES=${POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d "$PWD/target/bench-bytes.XXXXXX")
pg_db="callhook_bytes_$$"
cleanup() {
  [[ -n ${KEEP:-} ]] || rm -rf "$work"
  if [[ $BACKEND == postgres ]]; then
    psql -q "$POSTGRES" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
if [[ $BACKEND == postgres ]]; then
  command -v psql >/dev/null || { echo "psql is needed" >&2; exit 1; }
  psql -q "$POSTGRES" -c "CREATE DATABASE $pg_db" >/dev/null
  database="${POSTGRES%/*}/$pg_db"
else
  database="sqlite://$work/callhook.db"
fi
db="$work/callhook.db"

t0=$(date +%s)
for ((k = 0; k * 100000 < CALLS; k++)); do
  n=$(((CALLS - k * 100000) < 100000 ? CALLS - k * 100000 : 100000))
  python3 bench/preload.py "$k" "$n" >"$work/batch.ndjson"
  target/release/callhook --database "$database" import --source aliyun-call-report \
    "$work/batch.ndjson" >>"$work/import.log" 2>&1
done
rm -f "$work/batch.ndjson"
echo "loaded $CALLS calls in $(($(date +%s) - t0)) s" >&2

if [[ $BACKEND == postgres ]]; then
  psql -q "$database" -c "VACUUM" >/dev/null
  psql -qAt -F ' ' "$database" -c "SELECT c.relname, COALESCE(t.relname, c.relname), pg_relation_size(c.oid)
      + COALESCE(pg_relation_size(c.reltoastrelid), 0) FROM pg_class c
      LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY 3 DESC" >"$work/sizes.txt"
  python3 - "$work/sizes.txt" "$CALLS" <<'PYTHON'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
calls = int(sys.argv[2])
total = sum(int(r[2]) for r in rows)
print(f"{calls:,} calls on PostgreSQL, {total:,} bytes in tables and indexes: {total / calls:,.0f} bytes per call\n")
print("| table or index | of table | bytes | share | bytes/call |")
print("|---|---|---:|---:|---:|")
for name, table, size in rows:
    size = int(size)
    if size >= total / 1000:
        print(f"| {name} | {table} | {size:,} | {100 * size / total:.1f}% | {size / calls:,.0f} |")
PYTHON
  exit 0
fi

python3 - "$db" "$CALLS" <<'PYTHON'
import sqlite3, sys

db, calls = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)
conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
stored = conn.execute("SELECT count(*) FROM calls").fetchone()[0]
if stored != calls:
    raise SystemExit(f"{stored} calls stored, {calls} loaded")
rows = conn.execute(
    """SELECT d.name, COALESCE(m.tbl_name, d.name), SUM(d.pgsize), SUM(d.payload)
       FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name
       GROUP BY d.name ORDER BY SUM(d.pgsize) DESC"""
).fetchall()
total = sum(r[2] for r in rows)
print(f"{calls:,} calls, {total:,} bytes in pages: {total / calls:,.0f} bytes per call\n")
print("| table or index | of table | bytes | share | bytes/call | payload bytes/call |")
print("|---|---|---:|---:|---:|---:|")
for name, table, size, payload in rows:
    if size < total / 1000:
        continue
    print(f"| {name} | {table} | {size:,} | {100 * size / total:.1f}% | {size / calls:,.0f} | {payload / calls:,.0f} |")
doc = conn.execute("SELECT AVG(length(doc)) FROM calls").fetchone()[0]
body = conn.execute("SELECT AVG(length(body)), AVG(body_bytes), COUNT(*) FROM receipts").fetchone()
print(f"\ncall document: {doc:,.0f} bytes on average; receipt bodies: "
      f"{body[0]:,.0f} bytes stored for {body[1]:,.0f} verbatim ({body[2]:,} receipts)")
PYTHON
[[ -z ${KEEP:-} ]] || echo "kept: $db" >&2
