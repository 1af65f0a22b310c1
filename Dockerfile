# smartload beside evcc: docker build -t smartload . (amd64 and arm64 alike: no step depends
# on the machine's architecture; every dependency has wheels for both).
# The steps are deploy/container.sh's, which the tests run too (tests/deploy/).
# BASE_IMAGE: any Debian-like image with python3 >= 3.11 and its venv module.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
COPY . /src
RUN sh /src/deploy/container.sh install /opt/smartload /src

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="smartload" \
      org.opencontainers.image.description="Plans EV and home-battery charging beside evcc" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/smartload /opt/smartload
# A user of its own; /data (settings, SQLite, the web token) belongs to it, so a named volume
# starts out writable. A bind-mounted folder needs `chown 10001` once.
RUN groupadd --system --gid 10001 smartload \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home smartload \
    && mkdir /data && chown smartload:smartload /data && chmod 0700 /data
USER 10001:10001
WORKDIR /data
VOLUME /data
# The entrypoint's defaults, also for `docker exec <container> smartload check-config`.
ENV PATH=/opt/smartload/bin:$PATH \
    SMARTLOAD_DATA_DIR=/data \
    SMARTLOAD_SETTINGS=/data/settings.yaml \
    PYTHONUNBUFFERED=1
EXPOSE 8099
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/opt/smartload/bin/smartload-container", "health"]
ENTRYPOINT ["/opt/smartload/bin/smartload-container", "run"]
