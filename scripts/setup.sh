#!/usr/bin/env bash
# Installs what building, running and testing Fuzhen needs. Safe to run again:
# everything already present is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

for component in clippy rustfmt; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding $component"
    rustup component add "$component"
  fi
done

if [ ! -x "$HOME/.cargo/bin/cargo-leptos" ]; then
  say "installing cargo-leptos 0.3.10 (about 17 minutes, once)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# wasm-opt (binaryen) and Playwright's driver from npm; Playwright never downloads a browser here.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ]; then
  say "installing npm packages"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi

if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 || ! command -v wrk >/dev/null || ! command -v brotli >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: chromium, CJK fonts, wrk, brotli"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk wrk brotli >/dev/null
  else
    echo "please install: sudo apt-get install chromium fonts-noto-cjk wrk brotli" >&2
  fi
fi
say "set-up complete"
