#!/usr/bin/env bash
# Runs every test file with node's test runner (TypeScript through tsx).
# Usage: bash test/run.sh [files...]; default: all of test/unit, test/integration, test/process.
set -euo pipefail
cd "$(dirname "$0")/.."
export ORT_DISABLE_TELEMETRY=1
# What the tests need (Debian test tools, npm packages); quick when already there.
if [ -z "${ARGOS_SKIP_SETUP:-}" ]; then bash build/setup.sh --with-test-tools; fi
shopt -s nullglob globstar
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(test/unit/**/*.test.ts test/integration/**/*.test.ts test/process/**/*.test.ts)
fi
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
