"""Constants the command line needs before anything heavy is imported."""

from __future__ import annotations

ENV_PREFIX = "DONATION_WATCH_"
DEFAULT_CONFIG = "config/example.toml"
