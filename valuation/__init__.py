"""Fiat valuation: each stored transfer priced in the fund's currency at the moment it arrived.

Prices come from public exchange candles (Coinbase Exchange, then Kraken), are cached in the
ledger by (asset, currency, granularity, bucket start), and are multiplied exactly with the
transfer's base units. This room imports ``ledger`` (and ``watchers.retry`` for the shared
backoff), never ``bot``.
"""
