#!/usr/bin/env bash
# Makes Prometheus and promtool available for the alert-rule tests: Debian's `prometheus` package
# (2.42; about 20 s, no daemon is started), installed only when `promtool` is not on PATH. Prints the
# binaries' folder as the last stdout line.
set -euo pipefail

log() { printf '[prometheus-setup] %s\n' "$*" >&2; }

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: not root and no sudo: install Debian's prometheus package"; exit 1; }
    SUDO="sudo -n"
  fi
  log "installing Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends prometheus >&2; then
    $SUDO apt-get update >&2
    $SUDO apt-get install -y --no-install-recommends prometheus >&2
  fi
fi
log "$(promtool --version 2>&1 | head -1)"
dirname "$(command -v promtool)"
