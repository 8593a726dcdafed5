# One image for every instance: builds the SPA and the server, runs as an unprivileged user.
FROM node:20-bookworm-slim AS spa
WORKDIR /src
COPY openapi.yaml ./
COPY frontend/package.json frontend/package-lock.json frontend/
RUN npm ci --prefix frontend --no-audit --no-fund
COPY frontend frontend
RUN npm --prefix frontend run build

FROM rust:1-bookworm AS server
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p custadmin

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/custadmin --create-home custadmin \
    && install -d -o custadmin -g custadmin -m 0700 /var/lib/custadmin/keys
COPY --from=server /src/target/release/custadmin /usr/local/bin/custadmin
COPY --from=spa /src/frontend/dist /usr/share/custadmin/spa
ENV CUSTADMIN_STATIC_DIR=/usr/share/custadmin/spa \
    CUSTADMIN_DATA_DIR=/var/lib/custadmin \
    CUSTADMIN_BIND=0.0.0.0:8080
USER custadmin
WORKDIR /var/lib/custadmin
EXPOSE 8080
# Readiness (database, migrations, keys, outbox); an orchestrator with probes of its own uses
# /api/v1/health/live for liveness and this for readiness (docs/deploy.md, "Health checks").
HEALTHCHECK --interval=10s --timeout=8s --start-period=20s --retries=3 CMD curl -fsS http://127.0.0.1:8080/api/v1/health/ready || exit 1
ENTRYPOINT ["custadmin"]
CMD ["serve"]
