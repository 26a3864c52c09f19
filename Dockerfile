# syntax=docker/dockerfile:1
# NetPulse: both binaries (server `netpulse`, agent `netpulse-agent`) in one small Debian image.
#
#   docker build -t netpulse .                                  # server and agent
#   docker build --build-arg INSTALL_OOKLA=true -t netpulse .   # plus the Ookla Speedtest CLI
#
# The image runs the server as the unprivileged user `netpulse` (uid 10001) with its SQLite
# database in the volume /var/lib/netpulse; the agent runs from the same image with
# `netpulse-agent` as its entrypoint (see compose.yaml). CI builds the same release binaries
# with the same command (`.ci/run`).

# Matches rust-toolchain.toml, so rustup downloads nothing.
ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin netpulse --bin netpulse-agent \
 && mkdir -p /out \
 && cp target/release/netpulse target/release/netpulse-agent /out/

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# The Ookla Speedtest CLI is proprietary (its licence is accepted per run by the agent), so it
# is only added on request.
ARG INSTALL_OOKLA=false
ARG OOKLA_VERSION=1.2.0
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl iperf3 tini tzdata; \
    if [ "$INSTALL_OOKLA" = "true" ]; then \
      case "$(dpkg --print-architecture)" in \
        amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; armhf) arch=armhf ;; i386) arch=i386 ;; \
        *) echo "no Ookla Speedtest CLI for $(dpkg --print-architecture)" >&2; exit 1 ;; \
      esac; \
      curl -fsSL "https://install.speedtest.net/app/cli/ookla-speedtest-${OOKLA_VERSION}-linux-${arch}.tgz" \
        | tar -xz -C /usr/local/bin speedtest; \
      speedtest --version; \
    fi; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --system --uid 10001 --user-group --home-dir /var/lib/netpulse --shell /usr/sbin/nologin netpulse; \
    mkdir -p /var/lib/netpulse /var/lib/netpulse-agent/spool; \
    chown -R netpulse:netpulse /var/lib/netpulse /var/lib/netpulse-agent

COPY --from=build /out/netpulse /out/netpulse-agent /usr/local/bin/

ENV NETPULSE_LISTEN=0.0.0.0:8080 \
    NETPULSE_DATABASE_URL=sqlite:///var/lib/netpulse/netpulse.db \
    NETPULSE_SPOOL_DIR=/var/lib/netpulse-agent/spool

USER netpulse
WORKDIR /var/lib/netpulse
VOLUME ["/var/lib/netpulse"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/api/v1/healthcheck || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "netpulse"]
CMD ["serve"]
