"""Discord ids (guild, channels, role) in the settings: a non-positive or oversized number is one config error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import load_settings
from tests.bot.test_operator_messages import error_of

FIX = ("is not a Discord id (ids are positive numbers; in Discord turn on Developer Mode, "
       "then right-click the server, channel or role and choose Copy ID)")


class TestDiscordIds:
    @pytest.mark.parametrize("key", ["guild_id", "alerts_channel_id", "summary_channel_id", "operator_role_id"])
    @pytest.mark.parametrize("value", ["-1", "0", str(2**64)])
    def test_not_a_snowflake_is_refused(self, tmp_path: Path, key: str, value: str) -> None:
        """A Discord id of -1, 0 or above 64 bits is refused naming the file, the key, the value and where to copy one."""
        msg = error_of(tmp_path, f"[discord]\n{key} = {value}\n")
        assert msg == f"{tmp_path / 'bot.toml'}: discord.{key}: {value} {FIX}"

    def test_a_real_snowflake_is_kept(self, tmp_path: Path) -> None:
        """An 18-digit id, as Discord's Copy ID gives it, loads."""
        path = tmp_path / "bot.toml"
        path.write_text("[discord]\nguild_id = 1234567890123456789\n")
        assert load_settings(path).discord.guild_id == 1234567890123456789
