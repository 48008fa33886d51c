"""`make demo` as a newcomer runs it: every donation announced and confirmed, the spam token ignored,
the sanctions alert raised, totals shown, and a clean stop — offline, within its 60 s."""

from __future__ import annotations

import pytest

from demo.script import EXPECTED, demo
from tests.fakes.anvil import anvil_binary


@pytest.mark.slow
class TestDemo:
    async def test_the_demo_shows_what_it_promises(self) -> None:
        """The demo's console has each expected message, no SPAM, totals of 1.6 ETH and 250 USDT, and the bot exits 0."""
        if anvil_binary() is None:
            pytest.fail("anvil is not installed: run `make test` (npm installs it into node_modules/)", pytrace=False)
        said: list[str] = []
        result = await demo(said.append, timeout=60)
        console = "\n".join(result.console)
        assert not result.missing, "\n".join(said)[-4000:]
        assert result.bot_exit == 0 and console.rstrip().endswith("stopped")
        for _, needle, count in EXPECTED:
            assert console.count(needle) == count, (needle, console)
        assert "SPAM" not in console and "Traceback" not in result.bot_stderr
        assert "New donation: 1.5 ETH" in console and "New donation: 250 USDT" in console
        rows = {tuple(line.split()[3:5]) for line in result.totals.splitlines() if line.startswith("ethereum")}
        assert rows == {("ETH", "1.6"), ("USDT", "250")}
