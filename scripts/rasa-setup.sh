#!/usr/bin/env bash
# Build Gridline's Rasa environment (when missing) and train the Rasa NLU model (when the training
# data or the pipeline changed). Prints the path of the trained model as the last line on stdout;
# everything else goes to stderr.
#
#   scripts/rasa-setup.sh [--data FILE] [--no-train] [--force-train]
#
# Environment:
#   GRIDLINE_RASA_VENV    virtual environment       (default ~/.cache/gridline/rasa-venv)
#   GRIDLINE_RASA_MODELS  trained models, by hash   (default ~/.cache/gridline/rasa-models)
#   GRIDLINE_RASA_PYTHON  Python 3.10 interpreter   (default: pyenv's 3.10)
#
# Rasa 3.6 pins SQLAlchemy<2 and TensorFlow 2.12, so it lives in its own environment and runs as a
# separate server; Gridline never imports it. Models are cached outside the work tree so that a
# fresh clone (CI) reuses a model trained from identical data instead of training again.
set -euo pipefail

RASA_VERSION="3.6.21"
JIEBA_VERSION="0.42.1"
# Bump to invalidate cached models when this script changes how it trains.
TRAIN_RECIPE_VERSION="1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_HOME="$HOME/.cache/gridline"
VENV="${GRIDLINE_RASA_VENV:-$CACHE_HOME/rasa-venv}"
MODELS="${GRIDLINE_RASA_MODELS:-$CACHE_HOME/rasa-models}"
DATA="$ROOT/config/nlu/train.yml"
CONFIG="$ROOT/rasa/config.yml"
TRAIN=1
FORCE=0

export RASA_TELEMETRY_ENABLED=false
# Rasa's own training cache would only duplicate the model cache below.
export RASA_MAX_CACHE_SIZE=0
export TF_CPP_MIN_LOG_LEVEL=2

log() { echo "rasa-setup: $*" >&2; }
die() { log "error: $*"; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) DATA="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --no-train) TRAIN=0; shift ;;
    --force-train) FORCE=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

find_python() {
  if [[ -n "${GRIDLINE_RASA_PYTHON:-}" ]]; then echo "$GRIDLINE_RASA_PYTHON"; return; fi
  local root="${PYENV_ROOT:-$HOME/.pyenv}" candidate
  if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
  for candidate in "$root"/versions/3.10*/bin/python3.10; do
    if [[ -x "$candidate" ]]; then echo "$candidate"; return; fi
  done
  command -v python3.10 || true
}

venv_works() {
  [[ -x "$VENV/bin/rasa" ]] && "$VENV/bin/rasa" --version >/dev/null 2>&1
}

build_venv() {
  if venv_works; then
    log "environment ready: $VENV"
    return
  fi
  local python
  python="$(find_python)"
  [[ -n "$python" && -x "$python" ]] || die "Python 3.10 not found (install it with pyenv, or set GRIDLINE_RASA_PYTHON)"
  log "building $VENV with $python (rasa==$RASA_VERSION; this takes several minutes)"
  mkdir -p "$(dirname "$VENV")"
  # A half-built environment from an interrupted run is completed in place: pip skips what is there.
  [[ -x "$VENV/bin/pip" ]] || "$python" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "rasa==$RASA_VERSION" "jieba==$JIEBA_VERSION" >&2
  venv_works || die "rasa does not start in $VENV after installing"
  log "environment built: $VENV"
}

# Files read together with the training file when they sit beside it; the same list as
# COMPANION_FILES in gridline/nlu/embedded.py (tests/nlu/test_rasa_setup.py keeps them equal).
COMPANION_FILES=(lookups.yml out_of_scope.yml)

training_files() {
  # The training file plus its companions (generated address lookups, out-of-scope examples) —
  # what the embedded engine trains on — and never the held-out split in the same directory.
  echo "$DATA"
  local name path
  for name in "${COMPANION_FILES[@]}"; do
    path="$(dirname "$DATA")/$name"
    if [[ -f "$path" && "$path" != "$DATA" ]]; then echo "$path"; fi
  done
}

train_model() {
  [[ -f "$DATA" ]] || die "training data not found: $DATA"
  [[ -f "$CONFIG" ]] || die "pipeline not found: $CONFIG"
  local files hash name model started seconds
  mapfile -t files < <(training_files)
  hash="$( { echo "rasa=$RASA_VERSION recipe=$TRAIN_RECIPE_VERSION"; cat "$CONFIG"; for f in "${files[@]}"; do echo "== $(basename "$f")"; cat "$f"; done; } | sha256sum | cut -c1-12)"
  name="gridline-nlu-$hash"
  model="$MODELS/$name.tar.gz"
  if [[ -f "$model" && "$FORCE" == 0 ]]; then
    log "model up to date: $model"
    echo "$model"
    return
  fi
  mkdir -p "$MODELS"
  # Global on purpose: the EXIT trap runs after this function has returned.
  work="$(mktemp -d "${TMPDIR:-/tmp}/gridline-rasa-train.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/nlu" "$work/out"
  for f in "${files[@]}"; do cp "$f" "$work/nlu/"; done
  log "training $name from ${files[*]} (log: $MODELS/$name.log)"
  started=$(date +%s)
  # Run inside the scratch directory: rasa writes .rasa/ and temporary files into the working directory.
  if ! (cd "$work" && "$VENV/bin/rasa" train nlu --nlu "$work/nlu" --config "$CONFIG" \
        --out "$work/out" --fixed-model-name "$name") >"$MODELS/$name.log" 2>&1; then
    tail -n 30 "$MODELS/$name.log" >&2
    die "rasa train failed (full log: $MODELS/$name.log)"
  fi
  # Publish with a rename so that a concurrent reader never sees half a model.
  mv "$work/out/$name.tar.gz" "$model.tmp$$"
  mv "$model.tmp$$" "$model"
  seconds=$(( $(date +%s) - started ))
  # What the model was trained from and how long it took (bench/rasa_bench.py reports it).
  printf '{"model": "%s", "rasa": "%s", "train_seconds": %d, "trained_at": "%s", "files": [%s]}\n' \
    "$name.tar.gz" "$RASA_VERSION" "$seconds" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(printf '"%s",' "${files[@]##*/}" | sed 's/,$//')" > "${model%.tar.gz}.json"
  log "trained in ${seconds}s: $model"
  # Keep the five newest models; each is ~20 MB.
  ls -1t "$MODELS"/gridline-nlu-*.tar.gz 2>/dev/null | tail -n +6 | while read -r old; do
    rm -f "$old" "${old%.tar.gz}.log" "${old%.tar.gz}.json"
  done
  echo "$model"
}

mkdir -p "$CACHE_HOME"
# One setup at a time (tests, CI and a developer may start it together).
exec 9>"$CACHE_HOME/rasa-setup.lock"
flock 9

build_venv
if [[ "$TRAIN" == 1 ]]; then
  train_model
fi
