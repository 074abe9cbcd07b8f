#!/usr/bin/env bash
# Contract test: runs the debug `callhook` on a fresh SQLite database, seeds
# it with the vendor fixtures (calls, receipts of every status, deliveries to
# a subscriber on a closed port), then runs schemathesis against its
# /openapi.json with every check. Fails on any failure; always stops the
# server. Called by .ci/run; runs alone from the repository root:
#   bash .ci/contract.sh
# Environment: CONTRACT_EXAMPLES (per operation, default 50),
# CONTRACT_SEED (default 20261203).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${CONTRACT_EXAMPLES:-50}"
SEED="${CONTRACT_SEED:-20261203}"
API_TOKEN=contract-api-token
PUSH_TOKEN=contract-push-token
# Every built-in kind (a mapped source needs a mapping: not part of the contract run).
KINDS="aliyun-call-report aliyun-call-notes itnio-call-record longlonglong-inbound laaffic-voice-report vapi-end-of-call-report retell-call-event bland-call"

venv=target/contract-venv
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --locked -q --bin callhook

work=$(mktemp -d)
server=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port)
closed=$(free_port)  # nothing listens there: deliveries fail, then die
base="http://127.0.0.1:$port"

{
  echo "listen = \"127.0.0.1:$port\""
  echo "database = \"sqlite://$work/callhook.db\""
  echo "api_token = \"$API_TOKEN\""
  echo "allow_private_subscribers = true"
  for kind in $KINDS; do
    printf '\n[[sources]]\nname = "%s"\nkind = "%s"\ntoken = "%s"\n' "$kind" "$kind" "$PUSH_TOKEN"
  done
  printf '\n[[subscribers]]\nname = "closed"\nurl = "http://127.0.0.1:%s/hook"\n' "$closed"
  echo 'secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"'
  echo 'retry_schedule = ["1s"]'
  echo 'timeout = "1s"'
} > "$work/callhook.toml"

target/debug/callhook serve --config "$work/callhook.toml" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  curl -sf "$base/readyz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "callhook did not become ready"; cat "$work/server.log"; exit 1; }

# Seed: every fixture body (good, partial and rejected ones) to its kind's source.
pushed=0
for dir in tests/fixtures/*-*/; do
  kind=$(basename "$dir")
  for f in "$dir"*.json "$dir"rejected/*; do
    [ -f "$f" ] || continue
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/hooks/$kind" \
      -H "Authorization: Bearer $PUSH_TOKEN" -H 'Content-Type: application/json' --data-binary "@$f")
    case "$status" in 2??|400|413) pushed=$((pushed + 1)) ;; *) echo "seeding $f answered $status"; exit 1 ;; esac
  done
done
sleep 3  # the closed subscriber's first attempts fail and, after one retry, die
echo "seeded $pushed pushes"

# Real ids and cursors, so generated requests reach stored data as well as 404s.
api() { curl -sf -H "Authorization: Bearer $API_TOKEN" "$base$1"; }
toml_list() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
ids() { api "$1" | python3 -c 'import json, sys; print(" ".join(i["id"] for i in json.load(sys.stdin)["items"]))'; }
cursor() { api "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["next_cursor"] or "")'; }
# shellcheck disable=SC2046
{
  echo "[auth.openapi.api_token]"
  echo "bearer = \"$API_TOKEN\""
  echo "[auth.openapi.push_token]"
  echo "bearer = \"$PUSH_TOKEN\""
  echo "[dictionaries.sources]"
  echo "values = $(toml_list $KINDS)"
  echo "[dictionaries.push_tokens]"
  echo "values = $(toml_list "$PUSH_TOKEN")"
  echo "[dictionaries.calls]"
  echo "values = $(toml_list $(ids '/api/v1/calls?limit=20'))"
  echo "[dictionaries.call_cursors]"
  echo "values = $(toml_list $(cursor '/api/v1/calls?limit=1') $(cursor '/api/v1/calls?limit=7') $(cursor '/api/v1/calls?limit=100'))"
  echo "[dictionaries.receipts]"
  echo "values = $(toml_list $(ids '/api/v1/receipts?limit=20') $(ids '/api/v1/receipts?status=rejected&limit=5'))"
  echo "[dictionaries.deliveries]"
  echo "values = $(toml_list $(ids '/api/v1/deliveries?limit=20'))"
  echo "[dictionaries.subscribers]"
  echo "values = $(toml_list closed)"
  cat .ci/contract.toml
} > "$work/schemathesis.toml"

start=$(date +%s)
status=0
SCHEMATHESIS_HOOKS=.ci/contract_hooks.py \
"$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
  --checks all --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
  --request-timeout 10 --no-color --report junit --report-dir "$work/report" || status=$?
echo "schemathesis took $(( $(date +%s) - start )) s"
if [ "$status" -ne 0 ]; then
  echo "== server log (last 50 lines)"; tail -n 50 "$work/server.log"
fi
exit "$status"
