#!/usr/bin/env bash
# Produces the register's figures on this machine: seed speed, readiness time,
# memory, lookups by PIN and name searches over HTTP. Only 127.0.0.1 is
# loaded, with bounded wrk runs.
#   bench/run.sh [persons]            SQLite in a temporary directory
#   DB=postgres://... bench/run.sh    PostgreSQL (the schema must be empty)
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v sqlite3 >/dev/null || command -v psql >/dev/null || true
WORK=$(mktemp -d)
ADDR=127.0.0.1:18080
if curl -s "http://$ADDR/healthz" >/dev/null 2>&1; then echo "something already listens on $ADDR"; exit 1; fi
BIN=$WORK/dancu
go build -o "$BIN" ./cmd/dancu
DBFLAG=(--data "$WORK/data")
[ -n "${DB:-}" ] && DBFLAG+=(--db "$DB")

echo "== seed $N persons"
"$BIN" seed "${DBFLAG[@]}" --persons "$N"

start=$(date +%s%N)
DANCU_BOOTSTRAP_PASSWORD=benchmark-password "$BIN" serve "${DBFLAG[@]}" --addr $ADDR --log-level warn > "$WORK/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
until curl -sf "http://$ADDR/readyz" >/dev/null; do sleep 0.005; done
echo "== ready in $(( ($(date +%s%N) - start) / 1000000 )) ms (first start: includes creating staff accounts)"
kill $PID; wait $PID || true
start=$(date +%s%N)
"$BIN" serve "${DBFLAG[@]}" --addr $ADDR --log-level warn > "$WORK/serve.out" 2>&1 &
PID=$!
until curl -sf "http://$ADDR/readyz" >/dev/null; do sleep 0.005; done
echo "== ready in $(( ($(date +%s%N) - start) / 1000000 )) ms on the existing data"

export TOKEN=$(curl -s "http://$ADDR/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"benchmark-password"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
export PINS=$WORK/pins.txt NAMES=$WORK/names.txt
# Sample PINs and names through the API itself (by birth year), so the
# script needs no database client.
for y in 1950 1960 1970 1980 1990 2000 2010 2020; do
  curl -s -H "Authorization: Bearer $TOKEN" "http://$ADDR/api/v1/persons?birth_date=$y&limit=100" \
    | grep -o '"pin":"[0-9]*","full_name":"[^"]*"' ; done > "$WORK/sample.txt"
sed -E 's/"pin":"([0-9]+)".*/\1/' "$WORK/sample.txt" > "$PINS"
sed -E 's/.*"full_name":"([^"]+)"/\1/' "$WORK/sample.txt" \
  | python3 -c 'import sys,unicodedata; [print("".join(c for c in unicodedata.normalize("NFD",l.strip()) if not unicodedata.combining(c)).replace("đ","d").replace("Đ","d").lower()) for l in sys.stdin]' > "$NAMES"

echo "== lookup by PIN, 32 connections, 20 s"
wrk -t2 -c32 -d20s --latency -s bench/lookup.lua "http://$ADDR" | grep -E "Requests/sec|50%|99%|p95"
grep -E "VmRSS|RssAnon|RssFile" /proc/$PID/status
echo "== name search without diacritics, 8 connections, 10 s"
wrk -t2 -c8 -d10s --latency -s bench/search.lua "http://$ADDR" | grep -E "Requests/sec|p95"
echo "== given-name search, 8 connections, 10 s"
GIVEN=1 wrk -t2 -c8 -d10s --latency -s bench/search.lua "http://$ADDR" | grep -E "Requests/sec|p95"
