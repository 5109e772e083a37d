#!/usr/bin/env bash
# Prints what a first visit downloads, SSR throughput and latency at 64 connections
# (anonymous, with the CSRF cookie a first visit sets, logged in, and the doctor
# directory over the demo data), holds per second and latency (across many slots, holds
# only and each then cancelled, and for one contested place; on PostgreSQL also the hold's
# own SQL from pgbench with no server, the machine's ceiling), registrations per
# second, `/` latency while registrations are hammered, and the consult connections
# (10,000 WebSocket clients in pairs: memory per connection, messages per second,
# delivery latency; one server, and two over Redis on PostgreSQL). Runs on SQLite, and also on
# PostgreSQL when FUZHEN_BENCH_POSTGRES_URL (or FUZHEN_TEST_POSTGRES_URL) names a server:
# a fresh database is created there for the run and dropped at the end.
# Then the call set-up time (R-CONS-6): calls one after another between two pages, on the
# peer-to-peer backup (end2end/bench/call-setup.mjs, which can also be pointed at a server
# with a media server).
# Benchmarks print; they do not fail on the targets.
#   BENCH_SECS   seconds per wrk run (default 10)
#   BENCH_CALLS  calls measured for the call set-up time (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

secs=${BENCH_SECS:-10}
conns=64
reg_secs=$((secs + 5))
pg_admin=${FUZHEN_BENCH_POSTGRES_URL:-${FUZHEN_TEST_POSTGRES_URL:-}}
wasm_target=150000 # bytes of brotli WASM a first visit may download (150 KB)

# The consult connections: 10,000 sockets in the client and as many in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
chat_conns=${BENCH_CHAT_CONNECTIONS:-10000}
chat_rate=${BENCH_CHAT_RATE:-2000}
chat_pids=()
# The holds benchmark is a client of its own (Rust, so the client is not the bottleneck).
for example in bench_holds bench_webhooks bench_chat; do
  if [ ! -x "./target/release/examples/$example" ] || [ "server/examples/$example.rs" -nt "./target/release/examples/$example" ]; then
    cargo build --release -p server --example "$example"
  fi
done
for f in ./target/release/server target/site/pkg; do
  [ -e "$f" ] || { echo "bench: $f is missing; run 'make build' (or 'make bench')" >&2; exit 1; }
done

server=""
pg_db=""
tmpdirs=()
cleanup() {
  for p in "${chat_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  chat_pids=()
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi
  if [ -n "$pg_db" ]; then
    psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 ||
      echo "warning: could not drop database $pg_db" >&2
    pg_db=""
  fi
  for d in "${tmpdirs[@]}"; do rm -rf "$d"; done
  tmpdirs=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== first-visit downloads (bytes)"
printf '%-34s %10s %10s %10s\n' file raw gzip brotli
for f in target/site/pkg/*.{wasm,js,css}; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  br=$(brotli -c -q 11 "$f" | wc -c)
  printf '%-34s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
done

# start_server DATABASE_URL: a release server on a free port, with a fresh data dir.
start_server() {
  local data port
  data=$(mktemp -d)
  tmpdirs+=("$data")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # The dev SMS outbox answers only with this token; the API clients below read it.
  FUZHEN_DEV_TOKEN=$(head -c 32 /dev/urandom | base64)
  export FUZHEN_DEV_TOKEN
  # The demo directory (36 doctors) for the doctor-list rows.
  DATABASE_URL="${1:-sqlite://$data/fuzhen.db?mode=rwc}" FUZHEN_MODE=dev FUZHEN_DATA_DIR="$data" \
    RUST_LOG=warn ./target/release/server dev seed > "$data/seed.log" 2>&1 ||
    { echo "bench: seeding the demo data failed:" >&2; cat "$data/seed.log" >&2; exit 1; }
  db_url="${1:-sqlite://$data/fuzhen.db?mode=rwc}"
  DATABASE_URL="$db_url" FUZHEN_MODE=dev \
    FUZHEN_DATA_DIR="$data" FUZHEN_LISTEN="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_HASH_FILES=true \
    FUZHEN_SMS_PER_IP_PER_HOUR=1000000 FUZHEN_SMS_PER_PHONE_PER_DAY=1000000 FUZHEN_LOGIN_PER_IP=1000000 FUZHEN_THROTTLE_PER_MINUTE=100000000 \
    RUST_LOG=warn ./target/release/server > "$data/server.log" 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  server_log="$data/server.log"
  for _ in $(seq 1 150); do
    curl -fs "$base/readyz" >/dev/null && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
  done
  echo "bench: the server did not get ready; its log:" >&2
  tail -n 30 "$server_log" >&2
  exit 1
}

stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

# The brotli bytes of the WASM that `/` makes the browser download, against the target.
first_visit_wasm() {
  local html names total=0 served=0 name file br got enc
  html=$(curl -fsS --compressed "$base/")
  names=$(grep -oE '/pkg/[^"'"'"' ]+\.wasm' <<<"$html" | sort -u || true)
  if [ -z "$names" ]; then # no reference in the page: count every .wasm in the site
    names=$(cd target/site && ls pkg/*.wasm 2>/dev/null | sed 's|^|/|' || true)
  fi
  for name in $names; do
    file="target/site$name"
    br=$(brotli -c -q 11 "$file" | wc -c)
    read -r got enc < <(curl -s -o /dev/null -H 'Accept-Encoding: br' \
      -w '%{size_download} %header{content-encoding}\n' "$base$name")
    total=$((total + br))
    served=$((served + got))
    printf '   %-40s %9s B brotli -q 11 · served %s B (%s)\n' "${name#/pkg/}" "$br" "$got" "${enc:-identity}"
  done
  printf '   %-40s %9s B brotli · target ≤ %s B: %s\n' "first visit to / : WASM total" "$total" "$wasm_target" \
    "$([ "$total" -le "$wasm_target" ] && echo met || echo missed)"
  # Every island is in the same bundle; the call panel's code (#[lazy], built with
  # --split) comes apart, fetched only by a page that shows a call.
  local all=0
  for file in target/site/pkg/*.wasm; do all=$((all + $(brotli -c -q 11 "$file" | wc -c))); done
  printf '   %-40s %9s B brotli (the bundle and the call panel)\n' "a call page: WASM total" "$all"
}

# wrk's latency (e.g. 812.00us, 3.91ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.1f", n }'
}

table_header() {
  printf '   %-22s %10s %8s %8s   %-30s %s\n' page "req/s" "p50 ms" "p99 ms" target "vs target"
}

# row LABEL PATH COOKIE MIN_RPS MAX_P99_MS [MUST_CONTAIN] [WRK_LUA_SCRIPT]
# (MIN_RPS "-": a figure without a target.)
warnings=()
row() {
  local label=$1 path=$2 cookie=$3 min_rps=$4 max_p99=$5 must=${6:-} script=${7:-} status body out rps p50 p99 non2xx sock verdict
  local scripted=()
  [ -n "$script" ] && scripted=(-s "$script")
  local hdr=(-H 'Accept-Encoding: br')
  [ -n "$cookie" ] && hdr+=(-H "Cookie: $cookie")
  # What wrk will measure must be the page itself (200), not a redirect or an error.
  body=$(mktemp)
  status=$(curl -s --compressed -o "$body" -w '%{http_code}' "${hdr[@]}" "$base$path")
  if [ "$status" != 200 ]; then
    warnings+=("$label: GET $path answers $status, not 200")
  elif [ -n "$must" ] && ! grep -qF "$must" "$body"; then
    warnings+=("$label: GET $path does not contain \"$must\"")
  fi
  rm -f "$body"
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${scripted[@]}" "${hdr[@]}" "$base$path" 2>&1)
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
  sock=$(grep -E 'Socket errors' <<<"$out" | sed 's/^ *//' || true)
  [ -n "$non2xx" ] && warnings+=("$label: $non2xx responses were not 2xx/3xx")
  [ -n "$sock" ] && warnings+=("$label: $sock")
  if [ -z "$rps" ]; then
    warnings+=("$label: wrk printed no figures: $(tr '\n' ' ' <<<"$out")")
    rps=0
  fi
  if [ "$min_rps" = - ]; then
    printf '   %-22s %10s %8s %8s   %-30s\n' "$label" "$rps" "$p50" "$p99" "(no target)"
    return
  fi
  verdict=$(awk -v r="$rps" -v p="$p99" -v mr="$min_rps" -v mp="$max_p99" \
    'BEGIN { print (r >= mr && p <= mp) ? "met" : "missed" }')
  printf '   %-22s %10s %8s %8s   %-30s %s\n' "$label" "$rps" "$p50" "$p99" \
    "≥ $min_rps req/s, p99 ≤ $max_p99 ms" "$verdict"
}

# hold_ceiling DATABASE_URL: the hold's own SQL (scripts/hold_sql.pgbench) from pgbench at
# 64 clients, with no server in between, on a copy of the bench database: what this
# machine's PostgreSQL can do of holds at most, to read the holds row against.
hold_ceiling() {
  local url=$1 copy
  command -v pgbench >/dev/null || { echo "   (pgbench not found: skipped)"; return 0; }
  copy="${pg_db}_ceiling"
  psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $copy TEMPLATE $pg_db" >/dev/null || return 0
  local copy_url=${url/\/$pg_db/\/$copy}
  # Every slot far ahead with room for all, and each patient's session and consult consent.
  psql "$copy_url" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' ||
UPDATE slot SET capacity = 1000000, status = 'open', starts_at = starts_at + 86400 * 365, ends_at = ends_at + 86400 * 365;
CREATE TABLE hold_ceiling (n serial PRIMARY KEY, pid bigint, sid text, consent text, proof bigint);
INSERT INTO hold_ceiling (pid, sid, consent, proof)
  SELECT s.patient_id, s.id, c.consent_number, c.proof_id
  FROM session s JOIN consult_consent c ON c.patient_id = s.patient_id AND c.family_member_id IS NULL
  ORDER BY s.patient_id;
SQL
    { psql "$pg_admin" -q -c "DROP DATABASE IF EXISTS $copy WITH (FORCE)" >/dev/null 2>&1; return 0; }
  local people slots
  people=$(psql "$copy_url" -Atc "SELECT count(*) FROM hold_ceiling")
  slots=$(psql "$copy_url" -Atc "SELECT max(id) FROM slot")
  pgbench -n -c 64 -j 2 -T "$secs" -M prepared -D people="$people" -D slots="$slots" \
    -f scripts/hold_sql.pgbench "$copy_url" 2>&1 |
    awk '/^tps/ { tps = $3 } /latency average/ { lat = $4 } /failed transactions/ { failed = $5 }
         END { printf "   the hold'"'"'s SQL alone (pgbench, 64 clients, no server): %.0f holds/s, mean %s ms, %s failed\n", tps, lat, failed }'
  # The same work, eight holds to a transaction (what a group-commit writer would send).
  pgbench -n -c 8 -j 2 -T "$secs" -M prepared -D people="$people" -D slots="$slots" \
    -f scripts/hold_sql_batched.pgbench "$copy_url" 2>&1 |
    awk '/^tps/ { tps = $3 } /latency average/ { lat = $4 } /failed transactions/ { failed = $5 }
         END { printf "   the same, 8 holds a transaction (pgbench, 8 clients = 64 holds in flight): %.0f holds/s, mean %s ms a transaction, %s failed\n", tps * 8, lat, failed }'
  psql "$pg_admin" -q -c "DROP DATABASE IF EXISTS $copy WITH (FORCE)" >/dev/null 2>&1 || true
}

# chat_bench LABEL SERVERS BUS [DATABASE_URL]: the consult connections (R-CONS-1) on
# SERVERS release servers sharing one database and bus; patients on the first, doctors
# on the last.
chat_bench() {
  local label=$1 count=$2 bus=$3 db=${4:-} data port i url targets=()
  data=$(mktemp -d)
  tmpdirs+=("$data")
  url="${db:-sqlite://$data/fuzhen.db?mode=rwc}"
  DATABASE_URL="$url" FUZHEN_MODE=dev FUZHEN_DATA_DIR="$data" RUST_LOG=warn \
    ./target/release/server dev seed > "$data/seed.log" 2>&1 ||
    { echo "bench: seeding for the chat benchmark failed:" >&2; cat "$data/seed.log" >&2; return 1; }
  for i in $(seq 1 "$count"); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    DATABASE_URL="$url" FUZHEN_MODE=dev FUZHEN_DATA_DIR="$data" FUZHEN_LISTEN="127.0.0.1:$port" \
      FUZHEN_BUS="$bus" FUZHEN_REDIS_URL="${FUZHEN_BENCH_REDIS_URL:-redis://127.0.0.1:6379}" \
      FUZHEN_CHAT_CONNECTIONS_PER_ACCOUNT=100000 FUZHEN_THROTTLE_PER_MINUTE=100000000 FUZHEN_LOGIN_PER_IP=1000000 \
      RUST_LOG=warn ./target/release/server > "$data/server$i.log" 2>&1 &
    chat_pids+=($!)
    for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
    targets+=("http://127.0.0.1:$port:$!")
  done
  echo "== consult connections: $chat_conns clients in pairs, $chat_rate messages/s, ${secs} s ($label)"
  ./target/release/examples/bench_chat "$url" "$chat_conns" "$chat_rate" "$secs" "${targets[@]}" ||
    echo "   warning: the chat benchmark failed; server logs in $data"
  for p in "${chat_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  chat_pids=()
}

# call_setup_bench: the call set-up time between a doctor's page and a patient's page on
# this machine, peer-to-peer (the pages meet on an address other than loopback, which
# Chromium leaves out of a call: a dummy interface when there is none, as in scripts/test.sh).
call_setup_bench() {
  echo "== call set-up (R-CONS-6): ${BENCH_CALLS:-20} calls in a row on one consult, two pages of this machine"
  if ! ip -4 -o addr show scope global 2>/dev/null | grep -q inet; then
    if [ "$(id -u)" = 0 ] && ip link add fuzhen0 type dummy 2>/dev/null; then
      ip addr add 10.77.0.1/24 dev fuzhen0 && ip link set fuzhen0 up
    fi
  fi
  start_server ""
  FUZHEN_DATA_DIR="$(dirname "$server_log")" node end2end/bench/call-setup.mjs "$base" "direct (peer-to-peer)" "${BENCH_CALLS:-20}" ||
    echo "   warning: the call set-up benchmark failed; server log: $server_log"
  stop_server
  # Through the primary system, and its load, when Janus is installed (a server of its own).
  if command -v "${FUZHEN_BENCH_JANUS:-janus}" >/dev/null 2>&1; then
    node end2end/bench/call-janus.mjs "${BENCH_CALLS:-20}" 10 ||
      echo "   warning: the Janus benchmark failed"
  else
    echo "   Janus: not installed (apt install janus janus-tools ffmpeg), skipped"
  fi
}

# suite NAME [DATABASE_URL]
suite() {
  local name=$1 db=${2:-} anon session
  echo
  echo "==== $name"
  warnings=()
  start_server "$db"
  if [ "$name" = SQLite ]; then
    echo "== first visit to /: WASM"
    first_visit_wasm
  fi

  # The cookie a first visit gets (the CSRF secret), and a logged-in patient's cookies.
  anon=$(curl -s -D - -o /dev/null "$base/" | tr -d '\r' |
    sed -n 's/^[Ss]et-[Cc]ookie: \(\(__Host-\)\{0,1\}fuzhen_csrf=[^;]*\).*/\1/p' | head -n 1)
  [ -n "$anon" ] || warnings+=("$name: the first GET / set no fuzhen_csrf cookie")
  session=$(cd scripts && python3 bench_login.py "$base") ||
    { echo "bench: registering the logged-in patient failed; server log:" >&2; tail -n 30 "$server_log" >&2; exit 1; }

  echo "== SSR at $conns connections, Accept-Encoding: br, ${secs} s each ($name)"
  table_header
  row "/ (no cookie)" / "" 15000 15
  row "/register (no cookie)" /register "" 15000 15
  row "/ (anonymous cookie)" / "$anon" 15000 15
  # A personal page is rendered for every request (no per-session page cache); the
  # target is SQLite's, PostgreSQL's figure is shown beside it.
  if [ "$name" = SQLite ]; then
    row "/me (logged in)" /me "$session" 2000 50 "张三"
  else
    row "/me (logged in)" /me "$session" - - "张三"
  fi
  local doctor
  doctor=$(curl -fsS "$base/api/v1/doctors" | python3 -c 'import json, sys; print(json.load(sys.stdin)["doctors"][0]["doctor_number"])')
  row "/doctors (list)" /doctors "" 10000 30 "¥"
  row "/doctors?q=gxy (search)" "/doctors?q=gxy" "" 10000 30 "¥"
  row "/doctors/{number}" "/doctors/$doctor" "" 10000 30 "¥"
  for w in "${warnings[@]}"; do echo "   warning: $w"; done

  echo "== holds (R-BOOK-2): 64 clients, 48 patients each for holds only (three holds each), ${secs} s per phase at most ($name)"
  ./target/release/examples/bench_holds "$base" "$secs" 64 48 ||
    echo "   warning: the holds benchmark failed; server log: $server_log"

  echo "== registrations per second (8 clients, ${reg_secs} s), with / measured meanwhile ($name)"
  (cd scripts && exec python3 bench_register.py "$base" 8 "$reg_secs") &
  local reg=$!
  sleep 2
  wrk -t1 -c16 -d"${secs}s" --latency -H 'Accept-Encoding: br' "$base/" |
    awk '/^Requests\/sec:/ { rps = $2 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
         /Non-2xx/ { bad = $NF }
         END { printf "   / under load (16 connections): %.0f req/s, p50 %s, p99 %s%s\n", rps, p50, p99,
               bad ? " (warning: " bad " non-2xx/3xx)" : "" }'
  wait "$reg"
  stop_server

  # The Stripe webhook (R-PAY-4): the server with the Stripe provider (no call leaves the
  # machine: refunds go to a closed port and wait for their retry).
  echo "== Stripe webhook replay: 1,000 deliveries, 16 at a time ($name)"
  FUZHEN_PAYMENT_PROVIDER=stripe FUZHEN_STRIPE_SECRET_KEY=sk_test_bench FUZHEN_STRIPE_API_BASE=http://127.0.0.1:9 \
    FUZHEN_STRIPE_WEBHOOK_SECRETS=whsec_bench start_server "$db"
  ./target/release/examples/bench_webhooks "$base" "$db_url" ||
    echo "   warning: the webhook benchmark failed; server log: $server_log"
  stop_server

  if [ -z "$db" ]; then
    call_setup_bench
  fi

  if [ -n "$db" ]; then
    echo "== the most PostgreSQL does of a hold's SQL on this machine ($name)"
    hold_ceiling "$db"
  fi

  chat_bench "$name, one server" 1 local "$db"
  if [ -n "$db" ]; then
    if redis-cli -u "${FUZHEN_BENCH_REDIS_URL:-redis://127.0.0.1:6379}" ping >/dev/null 2>&1; then
      chat_bench "$name, two servers over Redis" 2 redis "$db"
    else
      echo "(two servers over Redis skipped: no Redis at ${FUZHEN_BENCH_REDIS_URL:-redis://127.0.0.1:6379})"
    fi
  fi
}

suite SQLite

if [ -n "$pg_admin" ]; then
  pg_db="fuzhen_bench_$(date +%s)_$RANDOM"
  psql "$pg_admin" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
  # A server on this machine is reached without TLS (sslmode=disable) unless the URL
  # says otherwise: encrypting loopback traffic measures OpenSSL, not Fuzhen.
  pg_url=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
q = p.query
if p.hostname in ("127.0.0.1", "localhost", "::1") and "sslmode=" not in q:
    q = (q + "&" if q else "") + "sslmode=disable"
print(u.urlunsplit(p._replace(path="/" + sys.argv[2], query=q)))' "$pg_admin" "$pg_db")
  echo
  echo "(PostgreSQL at $(sed -E 's|//[^@/]*@|//|' <<<"$pg_url"))"
  suite PostgreSQL "$pg_url"
else
  echo
  echo "(PostgreSQL skipped: set FUZHEN_BENCH_POSTGRES_URL or FUZHEN_TEST_POSTGRES_URL to also run on it)"
fi
