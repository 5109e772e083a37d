# Two commands for a new machine: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup build run test bench
setup:
	@bash scripts/setup.sh

build: setup
	# --split: code marked #[lazy] (the call panel) goes into WASM loaded only where it is used.
	cargo leptos build --release --precompress --split

run: build
	FUZHEN_MODE=dev ./target/release/server dev seed
	FUZHEN_MODE=dev LEPTOS_SITE_ROOT=target/site LEPTOS_HASH_FILES=true ./target/release/server

test: setup
	@bash scripts/test.sh

bench: build
	@bash scripts/bench.sh
