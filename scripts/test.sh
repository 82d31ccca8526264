#!/usr/bin/env bash
# Runs every test of every module with -race. Tests that need Redis or
# memcached start their own servers from redis-server (which also runs the
# sentinel and the cluster nodes) and memcached on PATH (on free loopback
# ports), or through Docker images that
# scripts/build-test-images.sh builds from those binaries. Without them
# those tests skip, unless LIMITS_REQUIRE_SERVERS=1 (as in CI), which turns
# a missing server into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for bin in redis-server memcached; do
	command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "note: ${missing[*]} not found: the Redis and memcached tests will skip."
	echo "      install them with: sudo apt-get install -y redis-server memcached"
	echo "      (or brew install redis memcached), then run make test again."
fi

if [ -x scripts/build-test-images.sh ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && [ ${#missing[@]} -eq 0 ]; then
	./scripts/build-test-images.sh
fi

export TESTCONTAINERS_RYUK_DISABLED=true
exec make --no-print-directory test-go
