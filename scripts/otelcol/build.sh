#!/usr/bin/env bash
# Builds the clawscope test OpenTelemetry Collector with the official builder (ocb) from the Go
# module proxy, once per manifest, and prints the binary's absolute path as the last stdout line.
#
#   scripts/otelcol/build.sh            # cached: returns at once; first build takes minutes
#
# Cache: .cache/otelcol/<version>-<sha256(manifest)[0:12]>/otelcol-clawscope, builder in
# .cache/otelcol/bin/<version>/builder. Progress goes to stderr, the path alone to stdout.
# Environment: OTELCOL_CACHE_DIR (cache root), OTELCOL_MANIFEST (builder config),
# OTELCOL_BUILD_VERBOSE=1 (show the go commands' output). GOPROXY, GOMODCACHE and GOFLAGS from
# the environment are kept, so CI can share module downloads between runs.
set -euo pipefail

BINARY_NAME=otelcol-clawscope
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MANIFEST=${OTELCOL_MANIFEST:-$ROOT/deploy/collector/builder-config.yaml}
CACHE_ROOT=${OTELCOL_CACHE_DIR:-$ROOT/.cache/otelcol}

log() { printf '[otelcol-build] %s\n' "$*" >&2; }
fail() {
  log "ERROR: $*"
  exit 1
}

[[ -f $MANIFEST ]] || fail "builder manifest not found: $MANIFEST"
MANIFEST=$(cd "$(dirname "$MANIFEST")" && pwd)/$(basename "$MANIFEST")

# The builder must match the core collector version, so it is read from the manifest's otlpreceiver.
VERSION=$(sed -n 's#^[[:space:]]*-[[:space:]]*gomod:[[:space:]]*go\.opentelemetry\.io/collector/receiver/otlpreceiver[[:space:]]\{1,\}\(v[0-9][0-9.]*\).*#\1#p' "$MANIFEST" | head -n 1)
[[ -n $VERSION ]] || fail "no 'go.opentelemetry.io/collector/receiver/otlpreceiver vX.Y.Z' line in $MANIFEST"
grep -Eq "^[[:space:]]+name:[[:space:]]*$BINARY_NAME[[:space:]]*$" "$MANIFEST" ||
  fail "$MANIFEST must set dist.name: $BINARY_NAME"

HASH=$(sha256sum "$MANIFEST" | cut -c1-12)
KEY="$VERSION-$HASH"
DIST_DIR=$CACHE_ROOT/$KEY
BINARY=$DIST_DIR/$BINARY_NAME

if [[ -x $BINARY ]]; then
  log "cached: $BINARY"
  echo "$BINARY"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail "'go' is not on PATH; install Go 1.26 or newer (collector $VERSION needs it)"
mkdir -p "$CACHE_ROOT" "$DIST_DIR"

# One build at a time per cache: a second caller waits, then finds the binary.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.build.lock"
  if ! flock -n 9; then
    log "another build holds $CACHE_ROOT/.build.lock; waiting for it"
    flock 9
  fi
  if [[ -x $BINARY ]]; then
    log "built meanwhile by another process: $BINARY"
    echo "$BINARY"
    exit 0
  fi
fi

# Never fetch another Go toolchain behind our back; keep the caller's proxy, flags and module cache.
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOPROXY=${GOPROXY:-$(go env GOPROXY)}
# The variable replaces `go env -w GOFLAGS=...`, so start from the effective value.
GOFLAGS=${GOFLAGS:-$(go env GOFLAGS)}
case " $GOFLAGS " in
*" -mod="*) ;;
*) GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" ;;
esac
# The build folder sits inside this repository's checkout: do not stamp our git state into it.
case " $GOFLAGS " in
*" -buildvcs"*) ;;
*) GOFLAGS="$GOFLAGS -buildvcs=false" ;;
esac
# -e reaches only commands that know it (the builder's `go mod tidy`): tidy also loads the tests
# of dependencies, and some of their imports (contrib extension/encoding) are refused by the proxy
# here. Anything the binary itself needs still fails `go build` with a clear error.
case " $GOFLAGS " in
*" -e "*) ;;
*) GOFLAGS="$GOFLAGS -e" ;;
esac
export GOFLAGS

started=$(date +%s)
log "building $BINARY_NAME $VERSION (cache key $KEY) with $(go version | cut -d' ' -f3)"
log "GOPROXY=$GOPROXY GOMODCACHE=$(go env GOMODCACHE) GOFLAGS=$GOFLAGS GOTOOLCHAIN=$GOTOOLCHAIN"

BUILDER_DIR=$CACHE_ROOT/bin/$VERSION
BUILDER=$BUILDER_DIR/builder
if [[ ! -x $BUILDER ]]; then
  log "step 1/2: go install go.opentelemetry.io/collector/cmd/builder@$VERSION"
  mkdir -p "$BUILDER_DIR"
  GOBIN=$BUILDER_DIR go install "go.opentelemetry.io/collector/cmd/builder@$VERSION" ||
    fail "could not install the builder $VERSION (is the Go module proxy reachable? GOPROXY=$GOPROXY)"
  log "builder installed in $(($(date +%s) - started))s"
else
  log "step 1/2: builder $VERSION already in $BUILDER"
fi

log "step 2/2: builder --config=$MANIFEST (downloads modules, then compiles: several minutes on 2 cores)"
rm -rf "$DIST_DIR/build"
verbose=()
[[ ${OTELCOL_BUILD_VERBOSE:-0} == 1 ]] && verbose=(--verbose)
# dist.output_path is ./build, relative to the working directory: build inside the cache entry.
(cd "$DIST_DIR" && "$BUILDER" "${verbose[@]}" --config="$MANIFEST" >&2) ||
  fail "builder failed for $MANIFEST (output above; rerun with OTELCOL_BUILD_VERBOSE=1 for the go commands)"

[[ -x $DIST_DIR/build/$BINARY_NAME ]] || fail "builder succeeded but wrote no $DIST_DIR/build/$BINARY_NAME"
# Rename last, so the cache check above never sees a half-written binary.
cp "$DIST_DIR/build/$BINARY_NAME" "$BINARY.partial"
mv -f "$BINARY.partial" "$BINARY"

log "built $BINARY ($(du -h "$BINARY" | cut -f1)) in $(($(date +%s) - started))s"
echo "$BINARY"
