#!/usr/bin/env bash
# Regenerates deploy/portcullis.yaml from the chart (see deploy/render.sh; --check fails when it is stale).
exec "$(dirname "$0")/../deploy/render.sh" "$@"
