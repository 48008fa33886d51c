"""`make demo` / `python -m demo`: see the bot work in under a minute, offline.

It starts anvil (a local Ethereum node, installed by `make test`'s set-up into node_modules/),
deploys an allowlisted test stablecoin (USDT, 6 decimals) and a spam token, starts
`donation-watch run` in console mode on a watched wallet, and then sends: native ETH, USDT, the
spam token (ignored), and ETH from a real OFAC-listed address (impersonated on anvil). The bot
prints each donation, its confirmation, the sanctions alert; then `donation-watch totals`.
Prices come from a local simulated price server (no internet).
"""

from __future__ import annotations

import asyncio
import sys

from demo.script import run_demo


def main() -> int:
    try:
        return asyncio.run(run_demo())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
