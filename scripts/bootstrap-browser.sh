#!/usr/bin/env bash
# Installs Debian's Chromium for the headless check of the HTML reports (scripts/check-html.sh).
# Idempotent; fails with a clear message where it cannot install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { echo "bootstrap-browser: needs apt-get to install Debian's chromium" >&2; exit 2; }
sudo=()
[[ "$(id -u)" == 0 ]] || sudo=(sudo)
apt_get() { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "$@" >/dev/null; }
# The package lists may be missing or stale on a fresh machine: refresh them once if needed.
apt_get install -y --no-install-recommends chromium fonts-dejavu-core \
  || { apt_get update && apt_get install -y --no-install-recommends chromium fonts-dejavu-core; }
command -v chromium >/dev/null 2>&1 || { echo "bootstrap-browser: chromium is still not on PATH after installing it" >&2; exit 2; }
