"""Errors of the application room, each rendered as one plain line for the operator."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error raised by the application."""


class ConfigError(BotError):
    """Bad configuration: names the file, the key, the value and the fix."""

    def __init__(self, path: str, key: str | None, reason: str) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {reason}")
