# syntax=docker/dockerfile:1
# rolebot: the Slack app, served over HTTP by default (see "Production" in the README).
#
#   docker build -t rolebot .
#   docker run --env-file .env -p 3000:3000 -v rolebot-data:/app/data rolebot
#
# Two stages: the first builds wheels of rolebot and of every dependency (with the PostgreSQL
# driver); the second installs only those wheels, offline, into a clean image with no build tools.

# ------------------------------------------------------------------------------------ builder
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is made of (the knowledge and migrations travel inside it).
COPY pyproject.toml README.md ./
COPY requirements/runtime.txt requirements/build.in ./requirements/
COPY bot ./bot
COPY knowledge ./knowledge
COPY migrations ./migrations

# The pip cache lives in a build cache mount: it speeds up rebuilds and never reaches an image.
# The dependencies are the locked versions, checked against the lock's hashes (the versions the
# tests ran on; `scripts/lock` refreshes the lock). The lock holds the build backend too
# (requirements/build.in): it is installed in this stage from those checked wheels only, and
# rolebot's own wheel is built with it (--no-build-isolation: no unpinned hatchling from PyPI).
# The runtime stage installs only what requirements.txt (rolebot's wheel) needs, so hatchling
# never reaches the image.
# requirements.txt names rolebot's wheel; SHA256SUMS lists every wheel's hash.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip wheel --wheel-dir /wheels --require-hashes -r requirements/runtime.txt \
 && pip install --no-index --find-links=/wheels -r requirements/build.in \
 && pip wheel --wheel-dir /wheels --no-deps --no-build-isolation . \
 && printf '%s[postgres]\n' /wheels/rolebot-*.whl > /wheels/requirements.txt \
 && sha256sum /wheels/*.whl > /wheels/SHA256SUMS

# ------------------------------------------------------------------------------------ runtime
FROM python:3.11-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="rolebot" \
      org.opencontainers.image.description="A Slack bot that settles who owns what between Product, Program, Project and Technical Program Managers." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.authors="rolebot maintainers" \
      org.opencontainers.image.source="https://github.com/rolebot/rolebot" \
      org.opencontainers.image.documentation="https://github.com/rolebot/rolebot#readme"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    ROLEBOT_DATA_DIR=/app/data

# tini runs as PID 1: it passes SIGTERM and SIGINT on to rolebot (a process that is PID 1 gets
# no default signal handling, so `docker stop` would wait for SIGKILL) and reaps orphans.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged user: a bind-mounted data folder must be writable by uid 10001.
RUN groupadd --gid 10001 rolebot \
 && useradd --uid 10001 --gid rolebot --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin rolebot \
 && mkdir -p /app/data \
 && chown rolebot:rolebot /app/data

# rolebot and its runtime dependencies, from the builder's wheels only (no index, no cache).
# The wheels are mounted, not copied, so they take no room in the image. The list of their
# hashes is copied first: a changed wheel changes it, so the install below is never taken from
# a build cache that only looks at the command (and it checks the wheels it installs).
COPY --from=builder /wheels/SHA256SUMS /usr/local/share/rolebot/wheels.sha256
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    sha256sum --check --quiet /usr/local/share/rolebot/wheels.sha256 \
 && pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt

COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/rolebot-entrypoint
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/rolebot-healthcheck
COPY --chmod=0755 docker/selfcheck.py /usr/local/bin/rolebot-selfcheck

WORKDIR /app
USER 10001:10001
# The SQLite database (when DATABASE_URL is unset) and the spool kept while the database is down.
VOLUME ["/app/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["rolebot-healthcheck"]

ENTRYPOINT ["/usr/bin/tini", "--", "rolebot-entrypoint"]
