#!/usr/bin/env bash
# Installs Argos Edge as a systemd service: the binary, the unit, the Tetragon policy and an env
# file. Idempotent: run it again to upgrade (settings in /etc/argos are kept). As root.
#
#   build/install.sh                 install or upgrade, enable and (re)start the service
#   build/install.sh --export        read an existing Tetragon's export file instead of starting one
#   build/install.sh --managed       back to Argos starting Tetragon (removes the --export drop-in)
#   build/install.sh --no-start      put the files in place only
#   build/install.sh --binary FILE   a specific binary (default: dist/argos-linux-<arch>)
#   build/install.sh --uninstall     stop, disable and remove the program (keeps settings and data)
#   build/install.sh --uninstall --purge   also remove /etc/argos, /var/lib/argos and caches
#   --root DIR                       install below DIR instead of / (packaging, tests; no systemctl)
#
# Works from a checkout (after npm run build:bin) or from a folder holding this script next to
# argos-linux-<arch>, argos.service, argos-export.conf, raw-syscalls.yaml, argos.env.sample.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

root=""
binary=""
mode=install
purge=0
start=1
source_mode=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2:?--root needs a folder}; shift ;;
    --binary) binary=${2:?--binary needs a file}; shift ;;
    --uninstall) mode=uninstall ;;
    --purge) purge=1 ;;
    --no-start) start=0 ;;
    --export) source_mode=export ;;
    --managed) source_mode=managed ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo $0 $*)" >&2
  exit 1
fi
root=${root%/}

bin_path=$root/usr/local/bin/argos
unit_path=$root/etc/systemd/system/argos.service
dropin_dir=$root/etc/systemd/system/argos.service.d
dropin_path=$dropin_dir/export.conf
conf_dir=$root/etc/argos
env_path=$conf_dir/argos.env
policy_path=$conf_dir/tetragon/raw-syscalls.yaml
doc_path=$root/usr/local/share/doc/argos/install.md

# systemctl only on the real root of a machine booted with systemd.
have_systemd=0
if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then have_systemd=1; fi
systemctl_() { if [ "$have_systemd" -eq 1 ]; then systemctl "$@"; fi; }

say() { echo "argos: $*"; }

# The first of the candidate files that exists.
find_file() {
  local f
  for f in "$@"; do
    if [ -f "$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

# Installs $1 as $2 with mode $3, atomically (a running binary is replaced, not overwritten).
put() {
  local src=$1 dst=$2 mode=$3
  mkdir -p "$(dirname "$dst")"
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
    chmod "$mode" "$dst"
    return 1
  fi
  install -m "$mode" "$src" "$dst.new.$$"
  mv -f "$dst.new.$$" "$dst"
  return 0
}

if [ "$mode" = uninstall ]; then
  systemctl_ disable --now argos.service 2>/dev/null || true
  rm -f "$bin_path" "$unit_path" "$dropin_path" "$doc_path"
  rmdir "$dropin_dir" "$(dirname "$doc_path")" 2>/dev/null || true
  systemctl_ daemon-reload
  if [ "$purge" -eq 1 ]; then
    rm -rf "$conf_dir" "$root/var/lib/argos" "$root/var/cache/argos" "$root/run/argos"
    say "removed the program, its settings ($conf_dir) and its data (/var/lib/argos)"
  else
    say "removed the program; settings in $conf_dir and data in /var/lib/argos are kept (--purge removes them)"
  fi
  exit 0
fi

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "install.sh: no binary for $(uname -m); run Argos from a checkout with Node 20 instead (docs/install.md)" >&2; exit 1 ;;
esac

if [ -z "$binary" ]; then
  binary=$(find_file "$here/argos-linux-$arch" "$repo/dist/argos-linux-$arch") || {
    echo "install.sh: argos-linux-$arch not found next to this script or in dist/; build it with npm run build:bin" >&2
    exit 1
  }
fi
[ -f "$binary" ] || { echo "install.sh: $binary does not exist" >&2; exit 1; }
unit_src=$(find_file "$here/argos.service" "$repo/systemd/argos.service") || { echo "install.sh: argos.service not found" >&2; exit 1; }
dropin_src=$(find_file "$here/argos-export.conf" "$repo/systemd/argos-export.conf") || { echo "install.sh: argos-export.conf not found" >&2; exit 1; }
policy_src=$(find_file "$here/raw-syscalls.yaml" "$repo/config/tetragon/raw-syscalls.yaml") || policy_src=""
env_src=$(find_file "$here/argos.env.sample" "$here/.env.sample" "$repo/.env.sample") || env_src=""
doc_src=$(find_file "$here/install.md" "$repo/docs/install.md") || doc_src=""

changed=0
if put "$binary" "$bin_path" 0755; then say "installed $bin_path"; changed=1; fi
if put "$unit_src" "$unit_path" 0644; then say "installed $unit_path"; changed=1; fi
if [ -n "$doc_src" ]; then put "$doc_src" "$doc_path" 0644 || true; fi
case "$source_mode" in
  export) if put "$dropin_src" "$dropin_path" 0644; then say "Argos reads Tetragon's export file ($dropin_path)"; changed=1; fi ;;
  managed) if [ -f "$dropin_path" ]; then rm -f "$dropin_path"; rmdir "$dropin_dir" 2>/dev/null || true; say "Argos starts Tetragon itself"; changed=1; fi ;;
  *) ;;
esac

mkdir -p "$conf_dir"
chmod 0755 "$conf_dir"
if [ -n "$policy_src" ]; then
  if [ ! -f "$policy_path" ]; then
    put "$policy_src" "$policy_path" 0644 || true
    say "installed $policy_path"
  elif ! cmp -s "$policy_src" "$policy_path"; then
    # Keep the operator's edits; offer the shipped version beside them.
    put "$policy_src" "$policy_path.new" 0644 || true
    say "kept your $policy_path; the shipped policy is in $policy_path.new"
  fi
fi
if [ ! -f "$env_path" ]; then
  umask 077
  {
    echo "# Argos Edge settings for the systemd service (see $doc_path)."
    echo "# Uncomment and edit; then: systemctl restart argos"
    if [ -n "$policy_src" ]; then echo "ARGOS_TETRAGON_POLICY=/etc/argos/tetragon/raw-syscalls.yaml"; fi
    echo
    if [ -n "$env_src" ]; then cat "$env_src"; fi
  } > "$env_path"
  chmod 0600 "$env_path"
  say "created $env_path (mode 0600: it may hold passwords)"
fi

if [ "$have_systemd" -eq 1 ]; then
  systemctl daemon-reload
  systemctl enable argos.service >/dev/null
  if [ "$start" -eq 1 ]; then
    if systemctl is-active --quiet argos.service; then
      if [ "$changed" -eq 1 ]; then systemctl restart argos.service; say "restarted argos.service"; fi
    else
      systemctl start argos.service
      say "started argos.service (systemctl status argos; journalctl -u argos)"
    fi
  fi
elif [ -z "$root" ]; then
  say "systemd is not running here: start it with /usr/local/bin/argos run"
fi
say "done: $("$bin_path" --version 2>/dev/null || echo "$bin_path")"
