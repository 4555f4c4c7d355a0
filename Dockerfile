# syntax=docker/dockerfile:1.7
# portcullis container image: built like the workloads portcullis admits.
#
#   docker build -t portcullis:0.1.0 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#   docker run --read-only --tmpfs /tmp -p 8443:8443 portcullis:0.1.0
#
# - multi-stage: Node 24 (Debian 12, same glibc as the runtime) builds; distroless nodejs24 runs (no shell, no
#   package manager). Base images are pinned by digest: the multi-arch index digests as published when this file was
#   written (taken from public Dockerfiles; refresh with `crane digest <image:tag>` and keep tag and digest together).
# - dependency layers come before sources and use a BuildKit cache mount for ~/.npm.
# - the runtime stage holds only `npm ci --omit=dev` output, dist/ and package.json, owned by root and read-only
#   for the numeric non-root user 65532: nothing is written to the root filesystem at run time, so
#   readOnlyRootFilesystem works (a generated certificate goes to /tmp: mount a tmpfs/emptyDir, or use a Secret).
# - node is PID 1 and handles SIGTERM itself (portcullis serve drains and exits 0).

# ---- production dependencies only -------------------------------------------------------------------------------
FROM node:24-bookworm-slim@sha256:3638d9a6fe4030bd716be989438248074489337ba3275657f93595428be4fc03 AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency install scripts run (the only one is the dev-only `node` binary download)
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- build: TypeScript to dist/ ---------------------------------------------------------------------------------
FROM node:24-bookworm-slim@sha256:3638d9a6fe4030bd716be989438248074489337ba3275657f93595428be4fc03 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY policies ./policies
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# ---- runtime: distroless, non-root, no shell --------------------------------------------------------------------
FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/portcullis-dev/portcullis
ARG CREATED=unknown
LABEL org.opencontainers.image.title="portcullis" \
      org.opencontainers.image.description="Kubernetes validating admission webhook that enforces container-hardening standards as code" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
# `portcullis version` names the commit the image was built from
ENV NODE_ENV=production \
    PORTCULLIS_COMMIT="${REVISION}"
# a bounded V8 heap grown 10% past what a full collection kept, 4 MiB young-generation semi-spaces (per-review
# garbage dies young), no allocation-site pretenuring (reviews that waited on a registry would make V8 allocate later
# ones in old space), two malloc arenas and fixed malloc trim/mmap thresholds keep RSS bounded whatever the number of
# distinct images (bench/RESULTS.md);
# the same settings as src/cli/node-settings.ts, which `portcullis serve` applies itself when started without them
ENV NODE_OPTIONS="--max-old-space-size=96 --max-semi-space-size=4 --no-allocation-site-pretenuring --heap-growing-percent=10" \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 65532:65532
EXPOSE 8443
# No shell and no curl: node itself GETs /healthz (liveness only, so the self-signed certificate is not verified).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "require('node:https').get({host:'127.0.0.1',port:8443,path:'/healthz',rejectUnauthorized:false,timeout:3000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/main.js"]
CMD ["serve", "--cert-dir", "/tmp/portcullis-certs"]
