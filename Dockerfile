# syntax=docker/dockerfile:1
# kitreview in a container: the release binary on Debian bookworm-slim, run as an
# unprivileged user, listening on 0.0.0.0:8080. SQLite (the default) keeps its file
# in the /data volume; for several instances set KITREVIEW_DATABASE_URL to a
# PostgreSQL database and KITREVIEW_JWT_SECRET to the same secret everywhere:
#   docker build -t kitreview .
#   docker run -p 8080:8080 -v kitreview-data:/data kitreview
#   docker run -p 8080:8080 -e KITREVIEW_DATABASE_URL=postgres://kitreview@db/kitreview \
#              -e KITREVIEW_JWT_SECRET=... kitreview
# `docker stop` sends SIGTERM: the server drains (closes WebSockets with 1001,
# finishes requests in flight) before its 10 s grace period ends.

FROM rust:1-bookworm AS build
WORKDIR /src
# What the build reads (see .dockerignore): the manifest and lock, the sources,
# the embedded migrations and workspace files, and the declared benches.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY web ./web
COPY benches ./benches
RUN cargo build --release --locked --bin kitreview \
 && cp target/release/kitreview /usr/local/bin/kitreview

FROM debian:bookworm-slim
# ca-certificates: TLS to a PostgreSQL server. Not pinned: bookworm's security
# updates of it should reach a rebuilt image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kitreview \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin kitreview \
 && install -d -o kitreview -g kitreview -m 0750 /data
COPY --from=build /usr/local/bin/kitreview /usr/local/bin/kitreview

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV KITREVIEW_LISTEN=0.0.0.0:8080 \
    KITREVIEW_DATABASE_URL=sqlite:/data/kitreview.db
EXPOSE 8080

# The image has no curl or wget: bash's /dev/tcp sends GET /readyz and checks the
# status line (503 while the database cannot be used).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kitreview"]
CMD ["serve"]
