#!/usr/bin/env bash
# Sets up a checkout on Debian: system packages (when root) and npm packages.
# Idempotent: npm ci runs only when package-lock.json changed since the last setup.
# Usage: bash build/setup.sh [--with-test-tools]
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export ONNXRUNTIME_NODE_INSTALL=skip

packages=()
if [ "${1:-}" = "--with-test-tools" ]; then
  # The test suite uses a real MQTT broker, real kernel events, arm64 emulation and systemd's verifier.
  # The hub's tests start their own PostgreSQL server and drive the dashboard in Chromium.
  packages=(mosquitto mosquitto-clients bpftrace qemu-user libc6-arm64-cross systemd util-linux linux-libc-dev-armhf-cross libstdc++6-arm64-cross openssl postgresql chromium)
fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  installs_postgres=no
  for p in "${missing[@]}"; do [ "$p" = postgresql ] && installs_postgres=yes; done
  if [ "$installs_postgres" = yes ]; then
    # Tests run their own server (initdb in a temporary folder): no system cluster, no service.
    mkdir -p /etc/postgresql-common
    conf=/etc/postgresql-common/createcluster.conf
    if ! grep -qs '^create_main_cluster *= *false' "$conf"; then echo 'create_main_cluster = false' >> "$conf"; fi
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  if [ "$installs_postgres" = yes ] && command -v systemctl >/dev/null; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  # Debian enables (and on a booted system starts) the broker's service when it installs the
  # package. The tests start brokers of their own: leave the system's broker off, as it was.
  if [[ " ${missing[*]} " == *" mosquitto "* ]]; then
    if command -v systemctl >/dev/null 2>&1; then
      systemctl stop mosquitto.service >/dev/null 2>&1 || true
      systemctl disable mosquitto.service >/dev/null 2>&1 || true
    fi
    if command -v service >/dev/null 2>&1; then service mosquitto stop >/dev/null 2>&1 || true; fi
  fi
fi

stamp=node_modules/.argos-setup
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm packages (builds better-sqlite3; about two minutes)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi
