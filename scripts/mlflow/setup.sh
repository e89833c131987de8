#!/usr/bin/env bash
# Installs the MLflow tracking server (with the `auth` extra, for `--app-name basic-auth`) used by
# the integration and e2e tests into a cached
# virtualenv, once per version, and prints the `mlflow` executable's absolute path as the last
# stdout line.
#
#   scripts/mlflow/setup.sh          # cached: returns at once; a cold install takes 1–3 minutes
#
# Cache: .cache/mlflow/venv (virtualenv), .cache/mlflow/wheels (every downloaded wheel, so a
# rebuilt venv installs offline; MLFLOW_WHEELHOUSE moves it, e.g. outside a CI checkout).
# Progress goes to stderr, the path alone to stdout.
# Versions: MLFLOW_VERSION (default 3.18.0, what issue 4 asks for) is tried first; when pip cannot
# resolve it, MLFLOW_FALLBACK_VERSIONS (default 3.17.2) are tried in order. The registry mirror here
# has mlflow 3.18.0 but not its pinned mlflow-skinny/mlflow-tracing 3.18.0, so 3.17.2 is what
# installs today. A venv holding any of these versions counts as installed.
# Environment: MLFLOW_CACHE_DIR (cache root), PYTHON (default python3). PIP_INDEX_URL,
# PIP_FIND_LINKS and the other PIP_* variables are honoured by pip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=${MLFLOW_VERSION:-3.18.0}
FALLBACK_VERSIONS=${MLFLOW_FALLBACK_VERSIONS-3.17.2}
ACCEPTED_VERSIONS=" $VERSION $FALLBACK_VERSIONS "
CACHE_ROOT=${MLFLOW_CACHE_DIR:-$ROOT/.cache/mlflow}
VENV=$CACHE_ROOT/venv
MLFLOW=$VENV/bin/mlflow
PYTHON=${PYTHON:-python3}

log() { printf '[mlflow-setup] %s\n' "$*" >&2; }
fail() {
  log "ERROR: $*"
  exit 1
}

installed_version() {
  # What pip recorded as installed; "" when the venv or mlflow is missing or broken. (Asking
  # `mlflow --version` gives the same answer but imports MLflow: 5–9 s on every test run.)
  [[ -x $MLFLOW && -x $VENV/bin/python ]] || return 0
  # Flask-WTF comes with the `auth` extra, which `--app-name basic-auth` needs.
  "$VENV/bin/python" -c 'import importlib.metadata as m; m.version("Flask-WTF"); print(m.version("mlflow"))' \
    2>/dev/null || true
}

is_accepted() { [[ -n $1 && $ACCEPTED_VERSIONS == *" $1 "* ]]; }

current=$(installed_version)
if is_accepted "$current"; then
  log "cached: mlflow $current in $VENV"
  echo "$MLFLOW"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || fail "'$PYTHON' is not on PATH; install Python 3.10 or newer"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  fail "mlflow $VERSION needs Python >= 3.10; $PYTHON is $("$PYTHON" --version 2>&1)"
mkdir -p "$CACHE_ROOT"

# One install at a time per cache: a second caller waits, then finds the server installed.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_ROOT/.setup.lock"
  if ! flock -n 9; then
    log "another install holds $CACHE_ROOT/.setup.lock; waiting for it"
    flock 9
  fi
  current=$(installed_version)
  if is_accepted "$current"; then
    log "installed meanwhile by another process: mlflow $current"
    echo "$MLFLOW"
    exit 0
  fi
fi

started=$(date +%s)
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "step 1/2: $PYTHON -m venv $VENV ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || fail "could not create the virtualenv $VENV (is python3-venv installed?)"
else
  log "step 1/2: virtualenv $VENV exists (has mlflow '$current', want one of:$ACCEPTED_VERSIONS)"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip's own HTTP cache stays empty with the registry mirror here (its files are not cacheable),
# so downloads are kept as a wheelhouse instead: a rebuilt venv installs from it offline.
WHEELHOUSE=${MLFLOW_WHEELHOUSE:-$CACHE_ROOT/wheels}
mkdir -p "$WHEELHOUSE"
installed=""
for candidate in $VERSION $FALLBACK_VERSIONS; do
  if ls "$WHEELHOUSE"/mlflow-"$candidate"-*.whl >/dev/null 2>&1 &&
    "$VENV/bin/pip" install --quiet --progress-bar off --no-index --find-links "$WHEELHOUSE" \
      "mlflow[auth]==$candidate" >"$CACHE_ROOT/pip-offline.log" 2>&1; then
    log "step 2/2: installed mlflow==$candidate from the wheelhouse $WHEELHOUSE"
    installed=$candidate
    break
  fi
  log "step 2/2: pip download mlflow==$candidate into $WHEELHOUSE (1–2 minutes when cold)"
  # An unresolvable version is the expected case for a fallback, not an error: keep its log quiet.
  if ! "$VENV/bin/pip" download --quiet --progress-bar off --dest "$WHEELHOUSE" "mlflow[auth]==$candidate" \
    >/dev/null 2>"$CACHE_ROOT/pip-download.log"; then
    log "mlflow==$candidate cannot be downloaded: $(grep -m1 -o 'No matching distribution found for [^ ]*' "$CACHE_ROOT/pip-download.log" || tail -n 1 "$CACHE_ROOT/pip-download.log")"
    continue
  fi
  log "step 2/2: pip install mlflow==$candidate from the wheelhouse"
  "$VENV/bin/pip" install --quiet --progress-bar off --no-index --find-links "$WHEELHOUSE" \
    "mlflow[auth]==$candidate" >&2 || fail "pip install mlflow==$candidate failed (output above)"
  installed=$candidate
  break
done
[[ -n $installed ]] || fail "none of mlflow$ACCEPTED_VERSIONS can be installed (see $CACHE_ROOT/pip-download.log; try: pip index versions mlflow)"

got=$(installed_version)
[[ $got == "$installed" ]] || fail "after install, the venv reports mlflow '$got' (or no Flask-WTF), expected $installed"
[[ $installed == "$VERSION" ]] || log "NOTE: installed fallback mlflow $installed instead of $VERSION"
log "installed mlflow $installed in $(($(date +%s) - started))s"
echo "$MLFLOW"
