#!/usr/bin/env bash
# Installs what running the arm64 Lambda artifacts on an x86_64 machine needs, for the packaged
# end-to-end test: qemu user-mode emulation and the arm64 C library (Debian packages qemu-user and
# libc6-arm64-cross). Idempotent; fails with a clear message where it cannot install.
set -euo pipefail
if command -v qemu-aarch64 >/dev/null 2>&1 && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]; then
  exit 0
fi
if [[ "$(uname -m)" == aarch64 ]]; then
  echo "bootstrap-arm64: this machine is arm64; install qemu-user anyway for one code path, or run the binaries natively" >&2
fi
command -v apt-get >/dev/null 2>&1 || { echo "bootstrap-arm64: needs apt-get to install qemu-user and libc6-arm64-cross" >&2; exit 2; }
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends qemu-user libc6-arm64-cross >/dev/null; then
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends qemu-user libc6-arm64-cross >/dev/null
fi
