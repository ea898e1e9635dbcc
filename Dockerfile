# syntax=docker/dockerfile:1
# The config-reloader sidecar image. docs/container.md explains the choices
# and gives the measured sizes.
#
# Build stage: the official Node 20 image (override NODE_IMAGE to use a
# mirror or a pinned digest). Runtime stage: nothing but the node binary,
# the shared libraries it and the addon link against, and our files.
ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=scratch

FROM ${NODE_IMAGE} AS build
# Builds behind a TLS-intercepting proxy pass its CA bundle in with
# --volume and name it here; it exists only in this stage.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: the install script would build the addon before its sources
# are copied; the build below does it explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY binding.gyp tsconfig.json ./
COPY native/ native/
COPY lib/ lib/
COPY scripts/bundle.ts scripts/
# The Node image carries its own headers under include/node; --nodedir
# points node-gyp at them instead of downloading them. The CLI runs as one
# bundled file (scripts/bundle.ts explains why).
RUN npx --no-install node-gyp rebuild --nodedir="$(dirname "$(dirname "$(command -v node)")")" \
 && npx --no-install tsc -p tsconfig.json \
 && node dist/scripts/bundle.js
# Lay out the runtime root filesystem. ldd lists the libraries node and the
# addon need on whatever architecture this runs, so the same file builds
# arm64 images. node-addon-api is headers for the build only. The official
# node binary keeps its symbol table (about 12 MB): strip drops it and keeps
# the dynamic symbols addons link against. /etc/passwd and /etc/group name the
# two users the examples run as, for tools that look them up.
# /app holds only what the runtime loads: the two bundles (the CLI, and the
# metrics stack it requires with METRICS_ADDR), the one library module they
# require from outside themselves (dist/lib/native.js, which finds the addon
# through its own location), node-gyp-build, which that module loads the
# addon with, the addon, and package.json (node-gyp-build reads the package name).
RUN set -eu; \
    root=/rootfs; \
    mkdir -p "$root/app/build/Release" "$root/app/dist/bin" "$root/app/dist/lib" "$root/app/node_modules" "$root/usr/local/bin" "$root/etc"; \
    cp package.json "$root/app/"; \
    cp dist/bin/config-reloader.js dist/bin/metrics.js "$root/app/dist/bin/"; \
    cp dist/lib/native.js "$root/app/dist/lib/"; \
    mkdir "$root/app/node_modules/node-gyp-build"; \
    cp node_modules/node-gyp-build/package.json node_modules/node-gyp-build/index.js \
       node_modules/node-gyp-build/node-gyp-build.js node_modules/node-gyp-build/LICENSE "$root/app/node_modules/node-gyp-build/"; \
    cp build/Release/config_reloader_native.node "$root/app/build/Release/"; \
    strip --strip-unneeded "$root/app/build/Release/config_reloader_native.node"; \
    strip -o "$root/usr/local/bin/node" "$(command -v node)"; \
    for binary in "$(command -v node)" build/Release/config_reloader_native.node; do ldd "$binary"; done \
      | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u \
      | while read -r lib; do cp -L --parents "$lib" "$root/"; done; \
    printf 'root:x:0:0:root:/:/nonexistent\nnonroot:x:65532:65532:nonroot:/:/nonexistent\n' > "$root/etc/passwd"; \
    printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="config-reloader-sidecar" \
      org.opencontainers.image.description="Signals an app exactly once per real ConfigMap/Secret change" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs/ /
# Not root by default. To signal an app the sidecar must share its uid
# (runAsUser) or run as root with only CAP_KILL; see docs/container.md.
USER 65532:65532
WORKDIR /app
ENV NODE_ENV=production
# The V8 flags are lib/sidecar/cli/v8-flags.ts's V8_FLAGS (a test keeps them
# equal); given here, the CLI never loads node:v8 to set their stand-ins.
ENTRYPOINT ["/usr/local/bin/node", "--no-opt", "--max-semi-space-size=1", "--gc-memory-reducer-start-delay-ms=1500", "/app/dist/bin/config-reloader.js"]
