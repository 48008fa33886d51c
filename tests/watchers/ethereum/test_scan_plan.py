"""The scan plan: which blocks come next and which count as confirmed (pure functions, no node)."""

from __future__ import annotations

from watchers.block_scan import next_range
from watchers.scanned import confirmed_height


class TestNextRange:
    def test_starts_after_the_synced_block(self) -> None:
        """The next range begins right after the last stored block."""
        assert next_range(tip=100, synced=10, batch=5) == (11, 15)

    def test_stops_at_the_tip(self) -> None:
        """A range never reaches past the tip."""
        assert next_range(tip=12, synced=10, batch=50) == (11, 12)

    def test_nothing_when_synced_to_the_tip(self) -> None:
        """With the tip stored there is nothing to scan."""
        assert next_range(tip=10, synced=10, batch=50) is None


class TestConfirmedHeight:
    def test_one_confirmation_is_the_tip(self) -> None:
        """A block is its own first confirmation."""
        assert confirmed_height(tip=100, confirmations=1) == 100

    def test_twelve_confirmations(self) -> None:
        """Twelve confirmations means eleven blocks on top."""
        assert confirmed_height(tip=100, confirmations=12) == 89

    def test_zero_confirmations_confirms_everything(self) -> None:
        """Zero confirmations confirms even the tip."""
        assert confirmed_height(tip=100, confirmations=0) >= 100
