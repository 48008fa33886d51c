"""Logging for every command: one line per event, human by default or JSON, for our loggers and
the libraries' (discord.py, aiohttp, APScheduler) alike — with secrets masked in every line.

Masked: each secret value the settings hold (the Discord token, the database password, any other
SecretStr), passwords in URLs, Discord webhook tokens, Discord bot tokens and `Bot …`/`Bearer …`
authorization values — in the message, its arguments and its traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

FORMATS = ("human", "json")
MASK = "***"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Discord webhooks: https://discord.com/api/webhooks/<id>/<token>
    (re.compile(r"(discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/)[\w-]+", re.I), r"\1" + MASK),
    # userinfo passwords in URLs: scheme://user:password@host
    (re.compile(r"([a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.I), r"\1" + MASK + "@"),
    # Authorization header values
    (re.compile(r"\b(Bot|Bearer)\s+[\w.\-~+/=]{20,}"), r"\1 " + MASK),
    # Discord bot tokens: base64(user id).timestamp.hmac
    (re.compile(r"\b[MNO][\w-]{23,27}\.[\w-]{6}\.[\w-]{27,40}\b"), MASK),
]
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Mask this exact value in every line from now on (values shorter than 4 characters are ignored)."""
    if value and len(value) >= 4:
        _secrets.add(value)


def add_settings_secrets(settings: Any) -> None:
    """Mask every SecretStr value found in the settings, at any depth."""
    from pydantic import BaseModel, SecretStr

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            add_secret(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name, None))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(settings)


def redact(text: str) -> str:
    """`text` with every known secret and secret-shaped value masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class HumanFormatter(logging.Formatter):
    """`2026-11-29 21:40:01 WARNING bot.runner: message`; a traceback follows on indented lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        head, _, rest = text.partition("\n")
        return head + ("\n" + "\n".join("    " + line for line in rest.splitlines()) if rest else "")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and exc (the traceback) when there is one."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():  # extra={...} fields
            if key not in self._STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return redact(json.dumps(out, ensure_ascii=False, default=str))


def configure(level: int | str = logging.INFO, fmt: str = "human", stream: TextIO | None = None) -> logging.Handler:
    """Route every logger (ours and the libraries') to one handler on stderr in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiosqlite", "asyncio", "web3", "urllib3", "alembic", "apscheduler",
                  "discord.gateway", "discord.http", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Libraries that install their own handlers (discord.py's Client.run) must not: ours is the one.
    for name in ("discord", "aiohttp"):
        lib = logging.getLogger(name)
        for old in list(lib.handlers):
            lib.removeHandler(old)
        lib.propagate = True
    # A coalesced interval job whose tick is skipped while its last run goes on is normal here:
    # APScheduler's warning per skipped tick is noise (our runner logs failures once per streak).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.captureWarnings(True)
    return handler
