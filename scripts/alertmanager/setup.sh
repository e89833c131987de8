#!/usr/bin/env bash
# Makes Alertmanager and amtool available for the knowledge base's webhook tests: Debian's
# `prometheus-alertmanager` package (0.25; no daemon is started), installed only when `amtool` is
# not on PATH. Prints the binaries' folder as the last stdout line.
set -euo pipefail

log() { printf '[alertmanager-setup] %s\n' "$*" >&2; }

if ! command -v amtool >/dev/null 2>&1 || ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { log "ERROR: not root and no sudo: install Debian's prometheus-alertmanager package"; exit 1; }
    SUDO="sudo -n"
  fi
  log "installing Debian's prometheus-alertmanager package"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends prometheus-alertmanager >&2; then
    $SUDO apt-get update >&2
    $SUDO apt-get install -y --no-install-recommends prometheus-alertmanager >&2
  fi
fi
log "$(amtool --version 2>&1 | head -1)"
dirname "$(command -v amtool)"
