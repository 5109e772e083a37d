#!/usr/bin/env bash
# Prints what a first visit downloads, SSR throughput and latency at 64 connections,
# registrations per second, and `/` latency while registrations are hammered.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

echo "== first-visit downloads (bytes)"
printf '%-34s %10s %10s %10s\n' file raw gzip brotli
for f in target/site/pkg/*.{wasm,js,css}; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  br=$(brotli -c -q 11 "$f" | wc -c)
  printf '%-34s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
done

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FUZHEN_DATA_DIR="$data" FUZHEN_LISTEN="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site LEPTOS_HASH_FILES=true \
  FUZHEN_SMS_PER_IP_PER_HOUR=1000000 FUZHEN_SMS_PER_PHONE_PER_DAY=1000000 RUST_LOG=warn \
  ./target/release/server > "$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$port"

for path in / /register; do
  echo "== SSR $path: 64 connections, 10 s"
  wrk -t2 -c64 -d10s --latency "$base$path" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors' || true
done

echo "== registrations per second (8 clients, 15 s), with / measured meanwhile"
python3 scripts/bench_register.py "$base" 8 15 &
reg=$!
sleep 3
wrk -t1 -c16 -d8s --latency "$base/" | grep -E 'Requests/sec|^ +50%|^ +99%' | sed 's/^/   \/ under load: /'
wait $reg
