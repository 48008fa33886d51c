"""Wiring of fiat valuation into the bot: price sources from settings, transfers valued after
every poll, and a retry job that values what could not be priced before and refreshes "value now"."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.settings import Settings
from ledger.database import Database
from valuation.candles import PriceSource
from valuation.coinbase import CoinbaseSource
from valuation.coingecko import DEMO_URL, PRO_URL, CoinGeckoSource
from valuation.kraken import KrakenSource
from valuation.markets import DEFAULT_MARKETS, ValuationConfig
from valuation.valuer import ValuationReport, refresh_prices, value_pending

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def valuation_config(settings: Settings) -> ValuationConfig:
    """The valuation room's view of the settings: the defaults' markets with the operator's on top."""
    vs = settings.valuation
    markets = {asset: dict(m) for asset, m in DEFAULT_MARKETS.items()}
    for asset, mapping in vs.markets.items():
        markets.setdefault(asset.upper(), {}).update(mapping)
    return ValuationConfig(currency=vs.currency, granularity=vs.granularity_seconds, markets=markets)


def build_sources(settings: Settings) -> list[PriceSource]:
    """The configured price sources, in the configured order."""
    vs = settings.valuation
    sources: list[PriceSource] = []
    for name in vs.sources:
        if name == "coinbase":
            sources.append(CoinbaseSource(vs.coinbase_url, requests_per_second=vs.coinbase_requests_per_second,
                                          timeout_seconds=vs.timeout_seconds))
        elif name == "kraken":
            sources.append(KrakenSource(vs.kraken_url, requests_per_second=vs.kraken_requests_per_second,
                                        timeout_seconds=vs.timeout_seconds))
        elif name == "coingecko" and vs.coingecko_key is not None:
            pro = vs.coingecko_plan == "pro"
            sources.append(CoinGeckoSource(vs.coingecko_key.get_secret_value(), vs.coingecko_url or (PRO_URL if pro else DEMO_URL),
                                           pro=pro, requests_per_second=vs.coingecko_requests_per_second,
                                           timeout_seconds=vs.timeout_seconds))
    return sources


class Valuation:
    """The price sources and settings of one process, with the steps the runner schedules."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.db = db
        self.config = valuation_config(settings)
        self.sources = build_sources(settings)
        self.retry_seconds = settings.valuation.retry_minutes * 60
        # Set while the price sources fail: polls then leave valuing to the retry job.
        self.sources_failing = False

    async def value_new(self) -> ValuationReport:
        """Value what the last poll stored (and anything still unvalued), unless the sources are failing.

        This runs inside every watcher poll: while the sources fail (an outage, no network) each
        attempt would add their retries and back-off to every poll of every chain. Then the
        transfers wait, unvalued and counted as such, for the retry job, which alone tries again.
        """
        if self.sources_failing:
            return ValuationReport()
        report = await value_pending(self.db, self.sources, self.config)
        if report.errors and report.unvalued:
            self.sources_failing = True
            log.warning("valuation: price sources failing (%s); new donations wait for the retry every %.0f min",
                        report.errors[-1], self.retry_seconds / 60)
        return report

    async def retry(self) -> ValuationReport:
        """Value what is still unvalued, then cache the latest finished price of each asset held."""
        report = await value_pending(self.db, self.sources, self.config)
        if not report.errors:
            self.sources_failing = False
        await refresh_prices(self.db, self.sources, self.config)
        if report.unvalued:
            log.warning("valuation: %d transfer(s) still without a %s value (%s)", report.unvalued, self.config.currency,
                        "; ".join(report.errors[-3:]) or "no price yet")
        return report

    async def close(self) -> None:
        for source in self.sources:
            await source.close()


def setup(app: App) -> None:
    """Plugin: new transfers valued after every poll; the retry (and value-now refresh) on a schedule."""
    valuation = Valuation(app.settings, app.db)
    app.add_after_poll(valuation.value_new)
    app.add_job("valuation:retry", valuation.retry, valuation.retry_seconds, role="watchers", singleton=True)
    app.on_close(valuation.close)
