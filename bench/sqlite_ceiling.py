#!/usr/bin/env python3
"""What SQLite alone can write with callhook's call indexes: the ceiling for
the writer thread of `src/storage/sqlite/writer.rs`.

Inserts ROWS new calls in transactions of GROUP rows (the writer's largest
group is 2,000 records), with the tables and indexes of
`src/storage/sqlite/schema.rs` (migrations 1 and 2), rows shaped like the
50-record load benchmark's (bench/wrk/push.lua: one task, one start time,
out ids and callees repeating every 50, a call id that is a 32-hex hash, a
1,090-byte canonical document as measured in a callhook database after that
benchmark), in WAL mode with `synchronous=NORMAL`, the writer's 16 MiB cache
and 64 MiB autocheckpoint. No fsync, no HTTP, no parsing, no merge: every
figure here is an upper bound for callhook's durable records/s.

Variants (VARIANTS, comma-separated):
  callhook  the schema as it is
  no_links  without the call_receipts table (one random-key index less)
  pk_only   calls with only its primary key (the one random index that
            deduplication by vendor call id needs)

Env: ROWS (1000000), GROUP (2000), VARIANTS (callhook,no_links,pk_only).
Prints rows/s per 200,000 rows (the rate falls as the random-key indexes
outgrow the cache) and overall, as a markdown table.
"""

import hashlib
import os
import sqlite3
import sys
import tempfile
import time

ROWS = int(os.environ.get("ROWS", "1000000"))
GROUP = int(os.environ.get("GROUP", "2000"))
VARIANTS = os.environ.get("VARIANTS", "callhook,no_links,pk_only").split(",")
STEP = 200_000

CALLS = """
CREATE TABLE calls (
    id TEXT PRIMARY KEY, vendor TEXT NOT NULL, vendor_call_id TEXT NOT NULL,
    source TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL,
    task_id TEXT, out_id TEXT, customer_number TEXT, started_at INTEGER NOT NULL,
    talk_seconds INTEGER, cost_amount TEXT, cost_currency TEXT, qa_score REAL,
    doc TEXT NOT NULL)"""
SECONDARY = [
    "CREATE INDEX calls_by_started ON calls(started_at DESC, id DESC)",
    "CREATE INDEX calls_by_task ON calls(task_id, started_at)",
    "CREATE INDEX calls_by_out_id ON calls(out_id)",
    "CREATE INDEX calls_by_customer ON calls(customer_number)",
]
LINKS = [
    """CREATE TABLE call_receipts (call_id TEXT NOT NULL, receipt_id TEXT NOT NULL,
       PRIMARY KEY (call_id, receipt_id)) WITHOUT ROWID""",
    "CREATE INDEX call_receipts_by_receipt ON call_receipts(receipt_id)",
]
DOC = "x" * 1090


def run(variant: str, path: str) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL",
                   "cache_size = -16384", "wal_autocheckpoint = 16384"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(CALLS)
    if variant != "pk_only":
        for sql in SECONDARY:
            conn.execute(sql)
    if variant == "callhook":
        for sql in LINKS:
            conn.execute(sql)
    rates, done, t0 = [], 0, time.perf_counter()
    last, last_done = t0, 0
    while done < ROWS:
        rows = []
        for i in range(done, min(done + GROUP, ROWS)):
            call_id = hashlib.sha256(f"aliyun:{i}".encode()).hexdigest()[:32]
            rows.append((call_id, "aliyun", f"c-{i}", "bench", "outbound", "answered",
                         "1181000000000001", str(i % 50), f"139{i % 50:08d}",
                         1748772000000, 330, None, None, None, DOC))
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO calls VALUES ({','.join('?' * 15)})", rows)
        if variant == "callhook":
            receipt = f"{done:026d}"
            conn.executemany("INSERT INTO call_receipts VALUES (?, ?)",
                             [(r[0], receipt) for r in rows])
        conn.execute("COMMIT")
        done += len(rows)
        if done - last_done >= STEP or done == ROWS:
            now = time.perf_counter()
            rates.append((done, (done - last_done) / (now - last)))
            last, last_done = now, done
    total = ROWS / (time.perf_counter() - t0)
    conn.close()
    return rates, total


def main() -> int:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target")
    os.makedirs(base, exist_ok=True)
    print(f"## SQLite ceiling: {ROWS} new calls in transactions of {GROUP}, "
          f"SQLite {sqlite3.sqlite_version}\n")
    header = False
    for variant in VARIANTS:
        with tempfile.TemporaryDirectory(dir=base, prefix="sqlite-ceiling.") as d:
            rates, total = run(variant, os.path.join(d, "ceiling.db"))
        if not header:
            print("| variant | " + " | ".join(f"rows/s to {n:,}" for n, _ in rates)
                  + " | overall |")
            print("|---|" + "---:|" * (len(rates) + 1))
            header = True
        cells = " | ".join(f"{rate:,.0f}" for _, rate in rates)
        print(f"| {variant} | {cells} | {total:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
