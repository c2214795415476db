#!/usr/bin/env bash
# Figures of the OpenID provider (issue 4), in one run on this machine:
#  1. client-credentials token issuance by a real `dancu serve` (hashed
#     client secret, its database, ES256 JWTs) side by side with the example
#     OpenID provider shipped in github.com/zitadel/oidc (built from the
#     module cache into the temporary directory; it keeps everything in
#     memory and issues opaque AES-GCM tokens), with hey -c 50 and wrk -c 50;
#  2. introspection at dancu: one token, and 1,000 tokens in turn.
# For each run: requests/s, status codes, and the server's CPU time per
# request (from /proc), so the figures say where the time goes.
#   bench/oidc.sh [seconds per run]       SQLite in a temporary directory
#   DB=postgres://... bench/oidc.sh       PostgreSQL (an empty schema)
# Only 127.0.0.1 is loaded. The example binds its port on all interfaces
# (it takes only a port); it runs for the length of the script.
set -euo pipefail
D=${1:-10}
cd "$(dirname "$0")/.."
command -v hey >/dev/null || { apt-get update -qq && apt-get install -y -qq hey >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
DADDR=127.0.0.1:18093
ZPORT=18094
for a in "$DADDR" "127.0.0.1:$ZPORT"; do
  if curl -s -o /dev/null "http://$a/"; then echo "something already listens on $a"; exit 1; fi
done
WORK=$(mktemp -d /tmp/dancu-oidc-bench.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT

echo "== build dancu and the zitadel/oidc example into $WORK"
go build -o "$WORK/dancu" ./cmd/dancu
ZVER=$(go list -m -f '{{.Version}}' github.com/zitadel/oidc/v3)
ZDIR=$(go env GOMODCACHE)/github.com/zitadel/oidc/v3@$ZVER
(cd "$ZDIR" && GOFLAGS=-mod=mod go build -o "$WORK/zitadel-example" ./example/server)

DBFLAG=(--data "$WORK/data")
[ -n "${DB:-}" ] && DBFLAG+=(--db "$DB")
SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
"$WORK/dancu" client add "${DBFLAG[@]}" --id bench --secret "$SECRET" --grant client_credentials \
  --scopes reconcile --purpose "Đo hiệu năng" --log-level warn >/dev/null
"$WORK/dancu" serve "${DBFLAG[@]}" --addr "$DADDR" --seed-persons 0 --log-level warn >"$WORK/serve.out" 2>&1 &
DPID=$!; PIDS+=("$DPID")
# The example logs every request at debug level; to /dev/null it costs least.
PORT=$ZPORT "$WORK/zitadel-example" >/dev/null 2>&1 &
ZPID=$!; PIDS+=("$ZPID")
until curl -sf "http://$DADDR/readyz" >/dev/null; do sleep 0.05; done
until curl -sf "http://127.0.0.1:$ZPORT/.well-known/openid-configuration" >/dev/null; do sleep 0.05; done

CT="Content-Type: application/x-www-form-urlencoded"
DB64=$(printf 'bench:%s' "$SECRET" | base64 -w0)
ZB64=$(printf 'sid1:verysecret' | base64 -w0)
DTOKEN="http://$DADDR/oidc/oauth/token"
ZTOKEN="http://127.0.0.1:$ZPORT/oauth/token"
DBODY="grant_type=client_credentials&scope=reconcile"
ZBODY="grant_type=client_credentials"
TICK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# per-request server CPU in µs: ticks before, ticks after, requests
cpu_us() { awk -v a="$1" -v b="$2" -v n="$3" -v t="$TICK" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / t * 1e6 / n; else print "-" }'; }

# Each answer is checked once before it is measured.
curl -sf -H "Authorization: Basic $DB64" -H "$CT" -d "$DBODY" "$DTOKEN" | grep -q '"access_token"'
curl -sf -H "Authorization: Basic $ZB64" -H "$CT" -d "$ZBODY" "$ZTOKEN" | grep -q '"access_token"'

run_hey() { # label pid url basic body
  local t0 out n; t0=$(ticks "$2")
  out=$(hey -z "${D}s" -c 50 -m POST -H "Authorization: Basic $4" -H "$CT" -d "$5" "$3")
  n=$(echo "$out" | awk '/^ *\[[0-9]+\]/ {s += $2} END {print s + 0}')
  printf '%-44s %9s req/s  statuses:%s  server CPU %s µs/req\n' "$1" \
    "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
    "$(echo "$out" | awk '/^ *\[[0-9]+\]/ {printf " %s×%s", $1, $2}')" "$(cpu_us "$t0" "$(ticks "$2")" "$n")"
}
run_wrk() { # label pid url basic body [tokens file]
  local t0 out n; t0=$(ticks "$2")
  out=$(BASIC=$4 BODY=$5 TOKENS=${6:-} wrk -t2 -c50 -d"${D}s" -s bench/oidc_post.lua "$3")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  printf '%-44s %9s req/s  non-2xx: %s  %s  server CPU %s µs/req\n' "$1" \
    "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
    "$(echo "$out" | awk '/Non-2xx/ {n = $NF} END {print n + 0}')" \
    "$(echo "$out" | grep -E '^p50')" "$(cpu_us "$t0" "$(ticks "$2")" "$n")"
}

# Rounds alternate which server goes first (ABBA), so a change in the
# machine's other load during the run weighs on both alike.
ROUNDS=${ROUNDS:-3}
echo "== client-credentials tokens, $ROUNDS rounds of $D s per server and tool, 50 connections ($(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg))"
for r in $(seq "$ROUNDS"); do
  for tool in hey wrk; do
    if [ $((r % 2)) -eq 1 ]; then order="z d"; else order="d z"; fi
    for s in $order; do
      if [ "$s" = z ]; then "run_$tool" "zitadel/oidc example ($tool, round $r)" "$ZPID" "$ZTOKEN" "$ZB64" "$ZBODY"
      else "run_$tool" "dancu ($tool, round $r)" "$DPID" "$DTOKEN" "$DB64" "$DBODY"; fi
    done
  done
done | tee "$WORK/cc.txt"
echo "-- medians (req/s):"
for who in "zitadel/oidc example" "dancu"; do
  for tool in hey wrk; do
    printf '%-30s %s %s\n' "$who" "$tool" "$(grep -F "$who ($tool," "$WORK/cc.txt" | awk '{for (i = 1; i < NF; i++) if ($(i+1) == "req/s") print $i}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')"
  done
done

echo "== introspection at dancu, $D s each, 50 connections"
for i in $(seq 1000); do
  curl -s -H "Authorization: Basic $DB64" -H "$CT" -d "$DBODY" "$DTOKEN" | sed -E 's/.*"access_token":"([^"]+)".*/\1/'
  echo
done > "$WORK/tokens.txt"
TOKEN=$(head -1 "$WORK/tokens.txt")
curl -sf -H "Authorization: Basic $DB64" -H "$CT" -d "token=$TOKEN" "http://$DADDR/oidc/oauth/introspect" | grep -q '"active":true'
run_wrk "dancu introspection, one token (wrk)" "$DPID" "http://$DADDR/oidc/oauth/introspect" "$DB64" "token=$TOKEN"
run_wrk "dancu introspection, 1,000 tokens (wrk)" "$DPID" "http://$DADDR/oidc/oauth/introspect" "$DB64" "" "$WORK/tokens.txt"
run_hey "dancu introspection, one token (hey)" "$DPID" "http://$DADDR/oidc/oauth/introspect" "$DB64" "token=$TOKEN"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
