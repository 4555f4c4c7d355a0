#!/usr/bin/env bash
# Installs what `npm run bench` drives, beyond npm ci:
#   wrk (closed loop)            Debian package
#   vegeta (open loop)           go install github.com/tsenart/vegeta/v12, into $PORTCULLIS_TOOLS/bin
#   psa-webhook, kube-apiserver, etcd, kubectl (the Pod Security Admission peer and its namespace look-ups)
#                                scripts/go-tools.sh psa-webhook kubernetes etcd
#   docker-registry, skopeo, umoci (real-registry step)   Debian packages
# Idempotent: what is there is skipped.
set -euo pipefail

VEGETA_VERSION=v12.12.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${PORTCULLIS_TOOLS:-$HOME/.cache/portcullis/tools}/bin"
mkdir -p "$BIN"
log() { printf '[bench-tools] %s\n' "$*" >&2; }

missing=()
for pkg in wrk docker-registry skopeo umoci; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
if [ -x "$BIN/vegeta" ] && go version -m "$BIN/vegeta" 2>/dev/null | grep -q "vegeta/v12[[:space:]]*$VEGETA_VERSION"; then
  log "vegeta $VEGETA_VERSION up to date"
else
  log "building vegeta $VEGETA_VERSION"
  scratch="$(mktemp -d)"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOBIN="$scratch" go install -ldflags='-s -w' "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
  mv "$scratch/vegeta" "$BIN/vegeta"
  rm -rf "$scratch"
fi

"$ROOT/scripts/go-tools.sh" psa-webhook kubernetes etcd
