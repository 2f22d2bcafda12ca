#!/bin/sh
# Start one process of the inspection backend. The process is the first argument, else $SERVICE.
# Anything else is run as given (e.g. `docker run IMAGE python -m services.sampling.demo`).
set -eu

if [ "$#" -gt 0 ]; then
    process="$1"
    shift
else
    process="${SERVICE:-}"
fi

case "$process" in
    gateway)
        exec python -m gateway "$@" ;;
    sampling)
        exec python -m services.sampling "$@" ;;
    scoring)
        exec python -m services.scoring "$@" ;;
    rectification)
        exec python -m services.rectification "$@" ;;
    notify)
        exec python -m services.notify "$@" ;;
    reporting)
        exec python -m services.reporting "$@" ;;
    evidence)
        exec python -m services.evidence "$@" ;;
    migrate)
        # Every service's history, then the gateway's; the first failure stops the job non-zero.
        python -m services.cli migrate
        exec python -m gateway.cli migrate ;;
    "")
        echo "usage: entrypoint gateway|sampling|scoring|rectification|notify|reporting|evidence|migrate (or set SERVICE)" >&2
        exit 64 ;;
    *)
        exec "$process" "$@" ;;
esac
