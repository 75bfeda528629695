#!/bin/sh
# Entrypoint of the Speaker image (web, engine worker and migration job alike).
set -eu

# prometheus_client multiprocess mode keeps one file per process in this directory and
# adds them all up at scrape time. A restarted container keeps its filesystem, so files
# from the previous run would be added to the new counters: start from an empty one.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi

exec "$@"
