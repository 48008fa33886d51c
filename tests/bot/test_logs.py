"""Log lines: human or JSON, one per event, the libraries' too, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot import logs

TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
WEBHOOK = "https://discord.com/api/webhooks/1234567890/AbCdEf-ghIJklMNopQRstuVWxyz_0123456789abcdefGHIJ"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    """Logging configured into a string buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.StringIO()
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


class TestJson:
    def test_each_event_is_one_json_line_with_its_traceback(self, out: io.StringIO) -> None:
        """A JSON log line holds ts, level, logger, msg and the traceback as one line."""
        logs.configure(logging.INFO, "json", out)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.runner").exception("job failed job=%s", "sanctions:update")
        lines = out.getvalue().splitlines()
        assert len(lines) == 1
        entry = json.loads(lines[0])
        assert (entry["level"], entry["logger"], entry["msg"]) == ("ERROR", "bot.runner", "job failed job=sanctions:update")
        assert "RuntimeError: boom" in entry["exc"] and entry["ts"].endswith("+00:00")

    def test_library_logs_go_through_the_same_handler(self, out: io.StringIO) -> None:
        """discord.py's and aiohttp's loggers come out as JSON lines too, even if they had a handler."""
        logging.getLogger("discord").addHandler(logging.StreamHandler(io.StringIO()))
        logs.configure(logging.INFO, "json", out)
        logging.getLogger("discord.client").warning("gateway reconnect")
        logging.getLogger("aiohttp.server").error("bad request")
        names = [json.loads(line)["logger"] for line in out.getvalue().splitlines()]
        assert names == ["discord.client", "aiohttp.server"] and not logging.getLogger("discord").handlers


class TestHuman:
    def test_one_line_with_time_level_and_logger(self, out: io.StringIO) -> None:
        """The human format is one line: time, level, logger, message."""
        logs.configure(logging.INFO, "human", out)
        logging.getLogger("bot.service").info("http listening on %s", "http://127.0.0.1:8080")
        (line,) = out.getvalue().splitlines()
        assert line.endswith(" INFO bot.service: http listening on http://127.0.0.1:8080")


class TestSecrets:
    @pytest.mark.parametrize("fmt", logs.FORMATS)
    def test_token_password_and_webhook_are_masked(self, out: io.StringIO, fmt: str) -> None:
        """A settings secret, a URL password, a webhook URL and a bot token never reach the log, even in a traceback."""
        from pydantic import BaseModel

        class Db(BaseModel):
            password: SecretStr

        class S(BaseModel):
            database: Db

        logs.add_settings_secrets(S(database=Db(password=SecretStr("hunter2-very-secret"))))
        logs.configure(logging.INFO, fmt, out)
        log = logging.getLogger("discord.http")
        log.warning("POST %s failed", WEBHOOK)
        log.warning("connecting to postgresql+asyncpg://dw:pa55word@db/dw")
        log.warning("Authorization: Bot %s", TOKEN)
        log.warning("login with %s", TOKEN)
        try:
            raise ValueError("password hunter2-very-secret rejected")
        except ValueError:
            log.exception("failed")
        text = out.getvalue()
        for secret in ("hunter2-very-secret", "pa55word", TOKEN, "AbCdEf-ghIJklMNopQRstuVWxyz"):
            assert secret not in text
        assert "webhooks/1234567890/***" in text and "dw:***@db" in text

    def test_ordinary_words_are_not_masked(self, out: io.StringIO) -> None:
        """Plain sentences about the bot are left alone."""
        logs.configure(logging.INFO, "human", out)
        logging.getLogger("bot").info("Bot connected as donation-watch#1234 to 2 guilds")
        assert "Bot connected as donation-watch#1234" in out.getvalue()
