# Registrar's container image: one static-stdlib `registrar` binary on slim Debian 12.
#
#   docker build -t registrar:dev .
#   docker run --rm registrar:dev --help
#
# Build stage: the Swift toolchain image of the same Debian release as the runtime, plus the
# -dev packages of the four C libraries the system-library targets link (found through
# pkg-config). The Swift standard library and Foundation are linked statically, so the runtime
# needs only those C libraries' shared objects.
#
# No "# syntax=" line on purpose: it makes BuildKit pull its Dockerfile frontend from a registry
# of images; the frontend built into the engine (Docker >= 20.10) handles RUN --mount.
# The two base images are build arguments (defaults: the official images) so that a machine
# without a registry can build from local ones (scripts/rehearse passes images made from Debian
# packages and this machine's toolchain).
ARG SWIFT_VERSION=6.3
ARG DEBIAN_RELEASE=bookworm
ARG BUILD_IMAGE=swift:${SWIFT_VERSION}-${DEBIAN_RELEASE}
ARG RUNTIME_IMAGE=debian:${DEBIAN_RELEASE}-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librabbitmq-dev libhiredis-dev libcurl4-openssl-dev libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole package (Package.swift declares the test targets too, so their folders must exist);
# .dockerignore keeps .build and other local state out of the context.
COPY . .
# .build is a cache mount (dependencies and objects survive between builds), so the binary is
# copied out of it in the same step.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product registrar \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/registrar" /out/registrar

# Runtime stage: only the shared libraries the binary links, CA certificates for TLS to object
# stores and managed servers, ffmpeg (image sequences into videos, docs/sequences.md), and a
# non-root user. No shell tools beyond the base image's.
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librabbitmq4 libhiredis0.14 libcurl4 libpq5 ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 registrar \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin registrar \
 && mkdir -p /var/lib/registrar/objects && chown -R 10001:10001 /var/lib/registrar
COPY --from=build /out/registrar /usr/local/bin/registrar
# Fail the build if any shared library the binary needs is missing from this stage.
RUN if ldd /usr/local/bin/registrar | grep 'not found'; then exit 1; fi \
 && /usr/local/bin/registrar --help >/dev/null
# JSON logs in containers; the other variables (server URLs, keys) come from the deployment.
ENV REGISTRAR_LOG_FORMAT=json
# Registrar's own storage (uploads, export parts and files): mount one volume here shared by
# the API and the workers (docs/storage.md); the user's home does not exist.
ENV REGISTRAR_STORAGE_URL=/var/lib/registrar/objects
# Numeric user so Kubernetes can check runAsNonRoot.
USER 10001:10001
WORKDIR /tmp
# 8000: `registrar api`; 9090: `coordinator|worker --metrics-port 9090` (/metrics, /healthz).
EXPOSE 8000 9090
ENTRYPOINT ["/usr/local/bin/registrar"]
CMD ["--help"]
