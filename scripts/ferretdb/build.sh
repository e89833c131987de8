#!/usr/bin/env bash
# Builds the MongoDB-wire test server of clawscope's store tests: FerretDB v1.24.2 (SQLite handler)
# through its embeddable package, from the Go module proxy, once per source hash, and prints the
# binary's absolute path as the last stdout line.
#
#   scripts/ferretdb/build.sh            # cached: returns at once; first build takes about 1-6 minutes
#
# Why not `go install .../cmd/ferretdb@v1.24.2`: that binary panics at start (its generated
# build/version/version.txt is not in the module zip). main.go here runs the embeddable package.
# Cache: .cache/ferretdb/<sha256(main.go go.mod go.sum)[0:12]>/ferretdb-clawscope.
# Environment: FERRETDB_CACHE_DIR (cache root); GOPROXY, GOMODCACHE and GOFLAGS are kept.
set -euo pipefail

BINARY_NAME=ferretdb-clawscope
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE_ROOT=${FERRETDB_CACHE_DIR:-$ROOT/.cache/ferretdb}

log() { printf '[ferretdb-build] %s\n' "$*" >&2; }
fail() {
  log "ERROR: $*"
  exit 1
}

HASH=$(cat "$HERE/main.go" "$HERE/go.mod" "$HERE/go.sum" | sha256sum | cut -c1-12)
DIST_DIR=$CACHE_ROOT/$HASH
BINARY=$DIST_DIR/$BINARY_NAME

if [[ -x $BINARY ]]; then
  log "cached: $BINARY"
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail "'go' is not on PATH; install Go 1.24 or newer (FerretDB v1.24.2 needs it)"
mkdir -p "$DIST_DIR"

# One build at a time per cache: a second caller waits, then finds the binary.
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
GOFLAGS=${GOFLAGS:-$(go env GOFLAGS)}
case " $GOFLAGS " in
*" -mod="*) ;;
*) GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly" ;;
esac
case " $GOFLAGS " in
*" -buildvcs"*) ;;
*) GOFLAGS="$GOFLAGS -buildvcs=false" ;;
esac
export GOFLAGS

started=$(date +%s)
log "building $BINARY_NAME (FerretDB v1.24.2, cache key $HASH) with $(go version | cut -d' ' -f3); GOPROXY=$GOPROXY"
(cd "$HERE" && go build -trimpath -o "$BINARY.partial" .) ||
  fail "go build failed in $HERE (is the Go module proxy reachable? GOPROXY=$GOPROXY)"
# Rename last, so the cache check above never sees a half-written binary.
mv -f "$BINARY.partial" "$BINARY"
log "built $BINARY ($(du -h "$BINARY" | cut -f1)) in $(($(date +%s) - started))s"
echo "$BINARY"
