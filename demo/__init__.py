"""The offline demo (`make demo`): a local Ethereum node, a few donations, the bot in console mode."""
