#!/usr/bin/env bash
# Builds the SMTP test server of the digest tests: Mailpit v1.33.1 from the Go module proxy, once per
# version, and prints the binary's absolute path as the last stdout line.
#
#   scripts/mailpit/build.sh             # cached: returns at once; the first build takes about 2-4 minutes
#
# Cache: .cache/mailpit/<version>/mailpit. Environment: MAILPIT_CACHE_DIR (cache root); GOPROXY,
# GOMODCACHE and GOFLAGS are kept.
set -euo pipefail

VERSION=v1.33.1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE_ROOT=${MAILPIT_CACHE_DIR:-$ROOT/.cache/mailpit}
DIST_DIR=$CACHE_ROOT/$VERSION
BINARY=$DIST_DIR/mailpit

log() { printf '[mailpit-build] %s\n' "$*" >&2; }
fail() {
  log "ERROR: $*"
  exit 1
}

if [[ -x $BINARY ]]; then
  log "cached: $BINARY"
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail "'go' is not on PATH; install Go 1.24 or newer (Mailpit $VERSION needs it)"
mkdir -p "$DIST_DIR"

# one build at a time per cache: a second caller waits, then finds the binary
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.build.lock"
  flock 9
  if [[ -x $BINARY ]]; then
    log "built meanwhile by another process: $BINARY"
    echo "$BINARY"
    exit 0
  fi
fi

export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOPROXY=${GOPROXY:-$(go env GOPROXY)}
export GOFLAGS="${GOFLAGS:-$(go env GOFLAGS)} -buildvcs=false"
started=$(date +%s)
log "building mailpit $VERSION with $(go version | cut -d' ' -f3); GOPROXY=$GOPROXY"
WORK=$(mktemp -d "$DIST_DIR/.gobin.XXXXXX")
GOBIN=$WORK go install -trimpath "github.com/axllent/mailpit@$VERSION" ||
  fail "go install github.com/axllent/mailpit@$VERSION failed (is the Go module proxy reachable? GOPROXY=$GOPROXY)"
# rename last, so the cache check above never sees a half-written binary
mv -f "$WORK/mailpit" "$BINARY"
rmdir "$WORK" 2>/dev/null || true
log "built $BINARY ($(du -h "$BINARY" | cut -f1)) in $(($(date +%s) - started))s"
echo "$BINARY"
