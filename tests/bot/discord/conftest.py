"""The real bot (its cogs and command tree) over simcord's in-memory Discord, on the test ledger."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.discord.client import DonationBot
from ledger.database import Database
from tests.bot.seed import chat_settings


@pytest.fixture
def chat_app(db: Database) -> App:
    """An App on the test ledger with mainnet Bitcoin and Ethereum chains configured."""
    return App(chat_settings(), db)


@pytest.fixture
def simcord_bot(chat_app: App) -> DonationBot:
    """The bot simcord runs: the production DonationBot, unchanged."""
    return DonationBot(chat_app)
