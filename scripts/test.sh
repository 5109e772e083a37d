#!/usr/bin/env bash
# Every test: formatting and lints (server and browser builds), domain unit tests, API
# integration tests (SQLite, and PostgreSQL when FUZHEN_TEST_POSTGRES_URL is set), then
# browser tests against the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

echo "== formatting and lints"
cargo fmt --all --check
cargo clippy -p app -p migrations -p server --all-targets --features app/ssr -- -D warnings
cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

echo "== unit and integration tests"
cargo test -p app --features ssr
cargo test -p migrations -p server

echo "== release build for the browser tests"
cargo leptos build --release --precompress --split

echo "== browser tests (Chromium, 390x844, zh-CN)"
# A call's two pages meet on an address other than loopback (Chromium leaves loopback out
# of its candidates). A machine with no other address gets a dummy interface, when allowed.
if ! ip -4 -o addr show scope global 2>/dev/null | grep -q inet; then
  if [ "$(id -u)" = 0 ] && ip link add fuzhen0 type dummy 2>/dev/null; then
    ip addr add 10.77.0.1/24 dev fuzhen0 && ip link set fuzhen0 up
    echo "added the dummy interface fuzhen0 (10.77.0.1) for the call tests"
  else
    echo "no address besides loopback: the call test between two pages is skipped" >&2
  fi
fi
# Every browser test comes from one address: the per-address throttle (tested on its own
# in the API tests) would otherwise stop the later flows.
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FUZHEN_MODE=dev FUZHEN_DATA_DIR="$data" FUZHEN_LISTEN="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_HASH_FILES=true FUZHEN_SMS_PER_IP_PER_HOUR=1000 FUZHEN_THROTTLE_PER_MINUTE=100000 ./target/release/server > "$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
ready=""
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "the server for the browser tests did not start; its log:" >&2
  tail -n 40 "$data/server.log" >&2
  exit 1
fi
FUZHEN_DATA_DIR="$data" FUZHEN_URL="http://127.0.0.1:$port" node --test --test-concurrency=1 end2end/tests/
