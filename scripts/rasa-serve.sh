#!/usr/bin/env bash
# Run the Rasa NLU server for Gridline: `rasa run --enable-api` on the loopback interface with an
# auth token. Builds the environment and trains first when needed (scripts/rasa-setup.sh).
#
#   scripts/rasa-serve.sh [--model FILE] [--port 5005] [--interface 127.0.0.1] [--token TOKEN]
#
# The token defaults to $GRIDLINE_NLU__RASA_TOKEN (the same variable that sets Gridline's
# `[nlu] rasa_token`); Gridline sends it as `?token=...`. The server refuses to start without one:
# the API can replace the model, so it must never be open.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GRIDLINE_RASA_VENV:-$HOME/.cache/gridline/rasa-venv}"
MODEL=""
PORT="5005"
INTERFACE="127.0.0.1"
TOKEN="${GRIDLINE_NLU__RASA_TOKEN:-}"

die() { echo "rasa-serve: error: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --interface) INTERFACE="$2"; shift 2 ;;
    --token) TOKEN="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[[ -n "$TOKEN" ]] || die "no auth token: pass --token or set GRIDLINE_NLU__RASA_TOKEN"
if [[ -z "$MODEL" ]]; then
  MODEL="$("$ROOT/scripts/rasa-setup.sh" | tail -n 1)"
fi
[[ -f "$MODEL" ]] || die "model not found: $MODEL"
[[ -x "$VENV/bin/rasa" ]] || die "no Rasa environment at $VENV: run scripts/rasa-setup.sh"

export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
# exec: the caller's process id is the server's, so stopping it stops Rasa.
exec "$VENV/bin/rasa" run --enable-api --model "$MODEL" --auth-token "$TOKEN" \
  --interface "$INTERFACE" --port "$PORT"
