# donation-watch: the bot in a container. State (SQLite, downloaded lists) lives in /data.
#   docker build -t donation-watch .
#   docker run -v dw-data:/data -v $PWD/my.toml:/config/bot.toml:ro \
#     -e DONATION_WATCH_DISCORD__TOKEN=... donation-watch --config /config/bot.toml run
# /healthz and /metrics listen on 127.0.0.1:8080 inside the container (the HEALTHCHECK uses it);
# to scrape /metrics from outside, set DONATION_WATCH_HTTP__HOST=0.0.0.0 and publish the port.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DONATION_WATCH_DATA_DIR=/data \
    DONATION_WATCH_DATABASE__URL=sqlite+aiosqlite:////data/donation-watch.db \
    DONATION_WATCH_HTTP__PORT=8080 \
    DONATION_WATCH_STOP_SECONDS=8

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY watchers watchers
COPY screening screening
COPY ledger ledger
COPY valuation valuation
COPY config config
# The same install the test suite checks (tests/test_docker.py): a wheel of this tree, no editable paths.
RUN pip install . \
 && useradd --create-home --uid 10001 dw \
 && mkdir -p /data && chown dw /data

USER 10001
VOLUME ["/data"]
EXPOSE 8080
# 200 when every watcher polls within its allowed lag and no sanctions list is stale (see /healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/healthz' % os.environ['DONATION_WATCH_HTTP__PORT'], timeout=4).status == 200 else 1)"]
# `run` stops cleanly on SIGTERM within stop_seconds (8 s here: inside `docker stop`'s 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["donation-watch"]
CMD ["--config", "config/example.toml", "run"]
