#!/usr/bin/env bash
# Partner verify API figures: POST /api/partner/v1/verify with a sample
# bank's client-credentials token against a seeded register, every call
# audited (the audit log's entry count is checked after the run).
#   bench/partner.sh [persons] [connections]   SQLite in a temporary directory
#   DB=postgres://... bench/partner.sh          PostgreSQL (empty schema)
#   SEEDED=dir bench/partner.sh                 copy a data directory seeded before
#                                               (dancu seed --data dir) instead of seeding
#   PROFILE=file.pprof bench/partner.sh         also write a 15 s CPU profile of the server
#   RUNS=3 DURATION=20s                         repeated wrk runs on the same server
#   RATE=10000 bench/partner.sh                 open loop at a fixed rate (vegeta) instead of wrk
#   THREADS=1                                   wrk threads (2)
set -euo pipefail
N=${1:-1000000}
C=${2:-64}
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
WORK=$(mktemp -d)
ADDR=127.0.0.1:18081
if curl -s "http://$ADDR/healthz" >/dev/null 2>&1; then echo "something already listens on $ADDR"; exit 1; fi
BIN=${BIN:-$WORK/dancu}   # BIN=path: measure a binary built before (A/B runs)
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/dancu
DBFLAG=(--data "$WORK/data")
[ -n "${DB:-}" ] && DBFLAG+=(--db "$DB")
if [ -n "${SEEDED:-}" ]; then
  echo "== copy the register seeded in $SEEDED"
  cp -r "$SEEDED" "$WORK/data"
else
  echo "== seed $N persons"
  "$BIN" seed "${DBFLAG[@]}" --persons "$N" >/dev/null
fi
PPROF_ADDR=127.0.0.1:18082
DANCU_BOOTSTRAP_PASSWORD=benchmark-password "$BIN" serve "${DBFLAG[@]}" --addr $ADDR --pprof-addr $PPROF_ADDR --log-level warn > "$WORK/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; [ -n "${KEEP_LOG:-}" ] && cp "$WORK/serve.out" "$KEEP_LOG"; rm -rf "$WORK"' EXIT
until curl -sf "http://$ADDR/readyz" >/dev/null; do sleep 0.05; done
sleep 0.5
# The sample bank may call 5,000 times a second; lift that so the figure
# measures the platform, not the partner's policy (nodes reload it in 10 s).
"$BIN" partner policy "${DBFLAG[@]}" --id nganhang-a --rate 1000000 --burst 1000000 >/dev/null
sleep 11
# The bank's credentials, printed once on first start.
LINE=$(grep "client id: nganhang-a-system" "$WORK/serve.out")
CLIENT=$(echo "$LINE" | sed -E 's/.*client id: ([^ ]+).*/\1/')
SECRET=$(echo "$LINE" | sed -E 's/.*secret: ([^ ]+).*/\1/')
export PARTNER_TOKEN=$(curl -s -u "$CLIENT:$SECRET" -d grant_type=client_credentials "http://$ADDR/oidc/oauth/token" \
  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
STAFF=$(curl -s "http://$ADDR/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"benchmark-password"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
export BODIES=$WORK/bodies.txt
# Up to 100 people for each birth year from 1950 to 2019: thousands of
# people across the register, so the figure is not that of a hot cache.
for y in $(seq 1950 2019); do
  curl -s -H "Authorization: Bearer $STAFF" "http://$ADDR/api/v1/persons?birth_date=$y&limit=100"
done | python3 -c '
import sys, json, re
for doc in re.findall(r"\{\"items\".*?\]\s*(?:,\"next_cursor\":\"[^\"]*\")?\}", sys.stdin.read()):
    for p in json.loads(doc)["items"]:
        print(json.dumps({"pin": p["pin"], "full_name": p["full_name"], "birth_date": p["birth_date"], "purpose": "aml-cdd"}, ensure_ascii=False))
' > "$BODIES"
D=${DURATION:-20s}
echo "== $(wc -l < "$BODIES") distinct people; verify, $C connections, $D × ${RUNS:-1}"
before=$("$BIN" audit verify "${DBFLAG[@]}" 2>/dev/null | grep -oE '[0-9]+ entries' | grep -oE '[0-9]+' || echo 0)
if [ -n "${PROFILE:-}" ]; then
  (sleep 3; curl -s -o "$PROFILE" "http://$PPROF_ADDR/debug/pprof/profile?seconds=15") &
  PROF_PID=$!
fi
# Server CPU per request (user + system, from /proc) is steadier than
# requests a second on a shared machine: the load generator takes its own share.
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
tck=$(getconf CLK_TCK)
if [ -n "${RATE:-}" ]; then
  # Open loop: vegeta offers RATE requests a second whatever the answers'
  # latency (wrk measures the most a closed loop of C connections gets).
  VEGETA=$(command -v vegeta || echo "$WORK/gobin/vegeta")
  [ -x "$VEGETA" ] || GOBIN="$WORK/gobin" go install github.com/tsenart/vegeta/v12@v12.13.0
  python3 - "$BODIES" "http://$ADDR/api/partner/v1/verify" > "$WORK/targets.json" <<'PY'
import sys, json, base64, os
for line in open(sys.argv[1]):
    print(json.dumps({"method": "POST", "url": sys.argv[2], "body": base64.b64encode(line.strip().encode()).decode(),
        "header": {"Authorization": ["Bearer " + os.environ["PARTNER_TOKEN"]], "Content-Type": ["application/json"]}}))
PY
fi
for _ in $(seq "${RUNS:-1}"); do
  c0=$(cpu)
  if [ -n "${RATE:-}" ]; then
    "$VEGETA" attack -format=json -targets="$WORK/targets.json" -rate="$RATE" -duration="$D" -max-workers=256 > "$WORK/results.bin"
    c1=$(cpu)
    "$VEGETA" report -type=text < "$WORK/results.bin" | grep -E "Requests|Latencies|Success|Status"
    reqs=$("$VEGETA" report -type=json < "$WORK/results.bin" | python3 -c 'import sys, json; print(json.load(sys.stdin)["requests"])')
    echo "CPU per request: server $(( (c1 - c0) * 1000000 / tck / reqs )) µs"
    continue
  fi
  out=$(/usr/bin/time -f "wrk CPU %U %S" wrk -t"${THREADS:-2}" -c"$C" -d"$D" --latency -s bench/verify.lua "http://$ADDR" 2>&1)
  c1=$(cpu)
  echo "$out" | grep -E "Requests/sec|Non-2xx|p50"
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  wrkcpu=$(echo "$out" | awk '/wrk CPU/ {print int(($3 + $4) * 1000000)}')
  echo "CPU per request: server $(( (c1 - c0) * 1000000 / tck / reqs )) µs, wrk $(( wrkcpu / reqs )) µs"
done
[ -n "${PROF_PID:-}" ] && wait "$PROF_PID"
after=$("$BIN" audit verify "${DBFLAG[@]}" 2>/dev/null | grep -oE '[0-9]+ entries' | grep -oE '[0-9]+' || echo 0)
echo "== audit entries written during the run: $((after - before))"
