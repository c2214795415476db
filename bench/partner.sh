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
#   RATE=10000 bench/partner.sh 1000000 64      open loop: 10,000 requests a second offered on 64
#                                               connections (bench/loadgen), latency from each
#                                               request's due time, instead of wrk's closed loop
#   THREADS=1                                   wrk threads (2)
#   HOLD=file                                   set up, write the token and bodies to file, and
#                                               keep the server until file is removed
# Every run is preceded by one pass over all bodies (the register cache warm).
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
# The bank's credentials, written once on first start to the data
# directory's first-start-credentials.txt (older builds printed them).
LINE=$(cat "$WORK/data/first-start-credentials.txt" "$WORK/serve.out" 2>/dev/null | grep -m1 "client id: nganhang-a-system")
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
LOADGEN=$WORK/loadgen
go build -o "$LOADGEN" ./bench/loadgen
loadgen() {
  # One P: the generator shares the two cores with the server, and with
  # more it spends a third of its time waking its own threads.
  GOMAXPROCS=1 "$LOADGEN" -url "http://$ADDR/api/partner/v1/verify" -bodies "$BODIES" \
    -H "Authorization: Bearer $PARTNER_TOKEN" -H "Content-Type: application/json" "$@"
}
echo "== warm-up: each person once"
loadgen -rate 5000 -conns 16 -duration "$(( $(wc -l < "$BODIES") / 5000 + 1 ))s" | grep -E "^offered"
if [ -n "${HOLD:-}" ]; then
  # Keep the server for hand-made measurements: its token and bodies.
  printf 'export PARTNER_TOKEN=%s BODIES=%s PID=%s\n' "$PARTNER_TOKEN" "$BODIES" "$PID" > "$HOLD"
  while [ -f "$HOLD" ]; do sleep 1; done
fi
D=${DURATION:-20s}
echo "== $(wc -l < "$BODIES") distinct people; verify, $C connections${RATE:+, $RATE/s offered}, $D × ${RUNS:-1}"
before=$("$BIN" audit verify "${DBFLAG[@]}" 2>/dev/null | grep -oE '[0-9]+ entries' | grep -oE '[0-9]+' || echo 0)
if [ -n "${PROFILE:-}" ]; then
  (sleep 3; curl -s -o "$PROFILE" "http://$PPROF_ADDR/debug/pprof/profile?seconds=15") &
  PROF_PID=$!
fi
# Server CPU per request (user + system, from /proc) is steadier than
# requests a second on a shared machine: the load generator takes its own share.
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
cpu_system() { awk '{print $15}' "/proc/$PID/stat"; }
# server_cpu REQUESTS: the server's CPU per request since c0/s0 were read.
server_cpu() { echo -n "CPU per request: server $(( (c1 - c0) * 1000000 / tck / $1 )) µs (system $(( (s1 - s0) * 1000000 / tck / $1 )) µs)"; }
tck=$(getconf CLK_TCK)
# The server's own view of a verify's latency, from its Prometheus histogram:
# from the handler's start (request read) to its return (answer buffered,
# not yet sent). The wait to be read and the sending are not in it.
hist() { curl -s "http://$ADDR/metrics" | awk -F'[{}" ]' '/^dancu_http_request_duration_seconds_bucket.*verify/ {for (i=1;i<=NF;i++) if ($i ~ /le=$/) le=$(i+1); print le, $NF}'; }
server_tail() {
  paste <(echo "$1") <(echo "$2") | awk '{d[$1]=$4-$2; if ($1=="+Inf") n=d[$1]} END {
    if (n == 0) exit; printf "server side: ≤2.5 ms %.2f%%, ≤5 ms %.2f%%, ≤10 ms %.3f%%, >10 ms %.3f%%\n",
      100*d["0.0025"]/n, 100*d["0.005"]/n, 100*d["0.01"]/n, 100*(n-d["0.01"])/n}'
}
for _ in $(seq "${RUNS:-1}"); do
  h0=$(hist)
  c0=$(cpu) s0=$(cpu_system)
  if [ -n "${RATE:-}" ]; then
    out=$(loadgen -rate "$RATE" -conns "$C" -duration "$D" -timeline)
    c1=$(cpu) s1=$(cpu_system)
    echo "$out" | grep -v "^offered" | grep -v "slowest" || true
    echo "$out" | grep "^offered"
    [ -n "${TIMELINE:-}" ] && echo "$out" | grep slowest
    reqs=$(echo "$out" | awk '/^offered/ {print $2}')
    server_cpu "$reqs"; echo
    server_tail "$h0" "$(hist)"
    continue
  fi
  out=$(/usr/bin/time -f "wrk CPU %U %S" wrk -t"${THREADS:-2}" -c"$C" -d"$D" --latency -s bench/verify.lua "http://$ADDR" 2>&1)
  c1=$(cpu) s1=$(cpu_system)
  echo "$out" | grep -E "Requests/sec|Non-2xx|p50"
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  wrkcpu=$(echo "$out" | awk '/wrk CPU/ {print int(($3 + $4) * 1000000)}')
  server_cpu "$reqs"; echo ", wrk $(( wrkcpu / reqs )) µs"
  server_tail "$h0" "$(hist)"
done
[ -n "${PROF_PID:-}" ] && wait "$PROF_PID"
after=$("$BIN" audit verify "${DBFLAG[@]}" 2>/dev/null | grep -oE '[0-9]+ entries' | grep -oE '[0-9]+' || echo 0)
echo "== audit entries written during the run: $((after - before))"
