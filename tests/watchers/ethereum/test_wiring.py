"""Building the EVM watcher from the bot's settings."""

from __future__ import annotations

from pathlib import Path

from bot.chains import build_watchers
from bot.settings import load_settings
from ledger.database import Database
from watchers.ethereum import EvmWatcher


def _settings(tmp_path: Path, chain: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f"""
[chains.mainnet]
kind = "evm"
{chain}
rpc_urls = ["http://127.0.0.1:1/a", "http://127.0.0.1:2/b"]
"""
    )
    return path


class TestWiring:
    async def test_mainnet_gets_the_default_stablecoins(self, db: Database, tmp_path: Path) -> None:
        """Chain id 1 without a tokens list watches USDT, USDC and DAI with their decimals."""
        settings = load_settings(_settings(tmp_path, "chain_id = 1"))
        (watcher,) = build_watchers(settings, db)
        try:
            assert isinstance(watcher, EvmWatcher) and watcher.chain == "mainnet"
            assert {(t.symbol, t.decimals) for t in watcher.config.tokens} == {("USDT", 6), ("USDC", 6), ("DAI", 18)}
            assert watcher.config.rpc_urls == ("http://127.0.0.1:1/a", "http://127.0.0.1:2/b")
            assert watcher.config.confirmations == "finalized" and watcher.config.traces is False
        finally:
            await watcher.close()

    async def test_other_chain_has_no_default_tokens(self, db: Database, tmp_path: Path) -> None:
        """Another chain id watches only the native coin unless tokens are configured."""
        settings = load_settings(_settings(tmp_path, 'chain_id = 137\nnative_symbol = "POL"\nconfirmations = 64'))
        (watcher,) = build_watchers(settings, db)
        try:
            assert isinstance(watcher, EvmWatcher)
            assert watcher.config.tokens == () and watcher.config.native_symbol == "POL" and watcher.config.confirmations == 64
        finally:
            await watcher.close()

    async def test_unreachable_nodes_fail_the_poll_not_the_process(self, db: Database, tmp_path: Path) -> None:
        """With every RPC URL refusing connections, a poll reports the error and returns."""
        from ledger.wallets import upsert_wallet
        from watchers.retry import RetryPolicy

        settings = load_settings(_settings(tmp_path, "chain_id = 1"))
        (watcher,) = build_watchers(settings, db)
        assert isinstance(watcher, EvmWatcher)
        watcher.rpc.retry = RetryPolicy(attempts=2, base_seconds=0.01, max_seconds=0.01)
        async with db.session() as s:
            await upsert_wallet(s, "mainnet", "0x165CD37b4C644C2921454429E7F9358d18A45e14")
        try:
            report = await watcher.poll()
            assert not report.ok and "127.0.0.1:2" in report.errors[0]
        finally:
            await watcher.close()
