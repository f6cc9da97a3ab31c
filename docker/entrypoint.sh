#!/bin/sh
# rolebot's container entry point.
#
#   (no arguments)    bring the database schema up to date (`rolebot db upgrade`), then serve
#                     Slack over HTTP on ROLEBOT_HOST (0.0.0.0) and ROLEBOT_PORT, else PORT, else
#                     3000; or, with ROLEBOT_MODE=socket, connect over Socket Mode (`rolebot run`).
#   -OPTION ...       the same, with these options added (e.g. --workers 4).
#   COMMAND ...       run COMMAND instead (e.g. rolebot ask "who owns the roadmap?").
set -eu

case "${1-}" in
  "" | -*) ;;
  *) exec "$@" ;;
esac

mode=$(printf '%s' "${ROLEBOT_MODE:-http}" | tr -d '[:space:]' | tr '[:upper:]' '[:lower:]')
case "$mode" in
  http | socket) ;;
  *)
    echo "rolebot: error: ROLEBOT_MODE: must be 'http' or 'socket', got '${ROLEBOT_MODE}'" >&2
    exit 1
    ;;
esac

rolebot db upgrade

if [ "$mode" = socket ]; then
  exec rolebot run "$@"
fi
exec rolebot serve --host "${ROLEBOT_HOST:-0.0.0.0}" --port "${ROLEBOT_PORT:-${PORT:-3000}}" "$@"
