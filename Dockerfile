# donation-watch: the bot in a container. State (SQLite, downloaded lists) lives in /data.
#   docker build -t donation-watch .
#   docker run -v dw-data:/data -v $PWD/my.toml:/config/bot.toml:ro \
#     -e DONATION_WATCH_DISCORD__TOKEN=... donation-watch --config /config/bot.toml run
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DONATION_WATCH_DATA_DIR=/data \
    DONATION_WATCH_DATABASE__URL=sqlite+aiosqlite:////data/donation-watch.db

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY watchers watchers
COPY screening screening
COPY ledger ledger
COPY config config
RUN pip install . \
 && useradd --create-home --uid 10001 dw \
 && mkdir -p /data && chown dw /data

USER dw
VOLUME ["/data"]
# `run` stops cleanly on SIGTERM (docker stop).
ENTRYPOINT ["donation-watch"]
CMD ["--config", "config/example.toml", "run"]
