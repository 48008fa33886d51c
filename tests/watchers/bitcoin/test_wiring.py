"""Building the Bitcoin watcher from the bot's settings."""

from __future__ import annotations

from bot.chains.bitcoin import build, config_from_settings
from bot.settings import BitcoinChain
from ledger.database import Database
from watchers.bitcoin import BitcoinWatcher


class TestBuild:
    def test_settings_become_the_watchers_own_config(self) -> None:
        """Every Esplora setting reaches the watcher's config, URLs in their failover order."""
        spec = BitcoinChain(kind="bitcoin", esplora_urls=["https://a.example/api", "https://b.example/api"],
                            confirmations=3, requests_per_second=0.5, timeout_seconds=7)
        cfg = config_from_settings("btc", spec)
        assert (cfg.name, cfg.esplora_urls, cfg.confirmations, cfg.requests_per_second, cfg.timeout_seconds) == (
            "btc", ("https://a.example/api", "https://b.example/api"), 3, 0.5, 7)

    async def test_build_returns_a_bitcoin_watcher(self, db: Database) -> None:
        """build() gives a watcher named after the configured chain."""
        w = build("btc", BitcoinChain(kind="bitcoin", esplora_urls=["http://127.0.0.1:9"]), db)
        assert isinstance(w, BitcoinWatcher) and w.chain == "btc"
        await w.close()
