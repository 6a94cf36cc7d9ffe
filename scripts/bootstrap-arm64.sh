#!/usr/bin/env bash
# Installs what running the arm64 Lambda artifacts on an x86_64 machine needs, for the packaged
# end-to-end test: qemu user-mode emulation and the arm64 C library (Debian packages qemu-user and
# libc6-arm64-cross). Idempotent; fails with a clear message where it cannot install.
set -euo pipefail
if command -v qemu-aarch64 >/dev/null 2>&1 && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "bootstrap-arm64: needs apt-get to install qemu-user and libc6-arm64-cross" >&2; exit 2; }
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
apt_get() { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "$@" >/dev/null; }
# The package lists may be missing or stale on a fresh machine: refresh them once if needed.
apt_get install -y --no-install-recommends qemu-user libc6-arm64-cross \
  || { apt_get update && apt_get install -y --no-install-recommends qemu-user libc6-arm64-cross; }
