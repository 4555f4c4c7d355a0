#!/usr/bin/env bash
# Builds the standard registry test images into an OCI layout with umoci.
#   scripts/registry-images.sh LAYOUT_DIR          build (tags below; the multi-arch index is assembled by
#                                                  test/helpers/registry-images.ts, which also pushes with skopeo)
#   scripts/registry-images.sh --install           install docker-registry, umoci, skopeo from Debian (needs root)
# Tags: user-empty user-0 user-root user-0-0 user-1000 user-1000-1000 user-nginx user-65532 (linux/amd64),
#       multi-amd64 (linux/amd64, User 1000), multi-arm64 (linux/arm64/v8, User root).
set -euo pipefail

if [[ "${1:-}" == "--install" ]]; then
  missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v umoci >/dev/null || missing+=(umoci)
  command -v skopeo >/dev/null || missing+=(skopeo)
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  exit 0
fi

out="${1:?usage: registry-images.sh LAYOUT_DIR | --install}"
for tool in umoci; do
  command -v "$tool" >/dev/null || { echo "registry-images.sh: $tool not found (run: scripts/registry-images.sh --install)" >&2; exit 2; }
done

created="2024-01-01T00:00:00Z"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$out:base"
# one small layer so every image has content, as real images do
printf 'portcullis registry test image\n' >"$work/marker"
umoci insert --image "$out:base" --history.created "$created" "$work/marker" /etc/portcullis-test

config() { # tag user [arch [variant]]
  local tag="$1" user="$2" arch="${3:-amd64}"
  umoci config --image "$out:base" --tag "$tag" --os linux --architecture "$arch" \
    --created "$created" --history.created "$created" --config.user "$user"
}

config user-empty ""
config user-0 "0"
config user-root "root"
config user-0-0 "0:0"
config user-1000 "1000"
config user-1000-1000 "1000:1000"
config user-nginx "nginx"
config user-65532 "65532:65532"
config multi-amd64 "1000" amd64
config multi-arm64 "root" arm64
umoci rm --image "$out:base"
umoci gc --layout "$out"
echo "built $out"
