#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the project's fixtures:
#   tests/fixtures/<kind>/*.json, tests/fixtures/<kind>/rejected/*.json and
#   tests/fixtures/fuzz/<target>/* (saved regressions and interesting inputs).
# The `ingest` target reads one kind byte, then the body: each fixture is
# copied with its kind's index in `SourceKind::ALL` prepended.
# Files above SEED_MAX_BYTES (default 16384) are skipped: the 200-record
# batches only repeat the small fixtures and would make libFuzzer's default
# -max_len (the largest seed) 200 KB. Run from anywhere; safe to re-run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
fixtures="$root/tests/fixtures"
max="${SEED_MAX_BYTES:-16384}"

# Index = position in callhook::domain::SourceKind::ALL.
# `mapped` (last in ALL) needs a config mapping and is not seeded or fuzzed;
# the ingest target picks among these eight (`SourceKind::built_in()`).
kinds=(aliyun-call-report aliyun-call-notes itnio-call-record longlonglong-inbound laaffic-voice-report
    vapi-end-of-call-report retell-call-event bland-call)

copy() { # src dest
    local size
    size=$(wc -c <"$1")
    if [ "$size" -le "$max" ]; then cp "$1" "$2"; fi
}

for i in "${!kinds[@]}"; do
    kind="${kinds[$i]}"
    target="${kind//-/_}"
    out="$here/corpus/$target"
    ingest="$here/corpus/ingest"
    mkdir -p "$out" "$ingest"
    for f in "$fixtures/$kind"/*.json "$fixtures/$kind"/rejected/*.json; do
        [ -f "$f" ] || continue
        case "$f" in */rejected/*) name="rejected_$(basename "$f")" ;; *) name="$(basename "$f")" ;; esac
        copy "$f" "$out/$name"
        size=$(wc -c <"$f")
        if [ "$size" -le "$max" ]; then
            { printf "\\$(printf '%03o' "$i")"; cat "$f"; } >"$ingest/${kind}_$name"
        fi
    done
    for f in "$fixtures/fuzz/$target"/*; do
        if [ -f "$f" ]; then cp "$f" "$out/saved_$(basename "$f")"; fi
    done
done
for f in "$fixtures/fuzz/ingest"/*; do
    if [ -f "$f" ]; then cp "$f" "$here/corpus/ingest/saved_$(basename "$f")"; fi
done
for d in "$here"/corpus/*/; do
    echo "$(basename "$d"): $(find "$d" -type f | wc -l) seeds"
done
