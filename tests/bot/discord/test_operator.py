"""Operator commands through the real command tree (simcord): who may use them, the audit, the confirm button."""

from __future__ import annotations

import discord
import pytest

from bot.app import App
from ledger.database import Database
from ledger.wallet_changes import audit_log
from ledger.wallets import list_wallets
from tests.bot.seed import ETH_WALLET, events, seed

NEW_ETH = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"


@pytest.fixture
def world(simcord_env, chat_app: App):  # type: ignore[no-untyped-def]
    """A guild with a channel, an operator-role member, a Manage Server member and a plain member."""
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("ops")
    role = guild.create_role("Treasurers")
    chat_app.settings.discord.operator_role_id = role.id
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    return {
        "channel": channel,
        "operator": guild.add_member(simcord_env.create_user("olga"), roles=[role]),
        "admin": guild.add_member(simcord_env.create_user("adam"), roles=[admins]),
        "member": guild.add_member(simcord_env.create_user("mallory")),
    }


class TestPermissions:
    async def test_plain_member_is_refused_privately(self, world, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """A member without Manage Server or the operator role gets an ephemeral refusal and nothing changes."""
        import simcord
        from discord import app_commands

        result = await world["member"].slash(world["channel"], "watch add", chain="ethereum", address=NEW_ETH, label="Mine")
        assert result.ephemeral and "Manage Server or the operator role" in result.response.content
        simcord.assert_error(simcord_env, app_commands.CheckFailure)  # the refusal is the check failing, as intended
        async with db.session() as s:
            assert list(await list_wallets(s)) == []

    async def test_operator_role_and_manage_server_may_list(self, world, db: Database) -> None:  # type: ignore[no-untyped-def]
        """Both the operator role and Manage Server open /watch list (ephemeral)."""
        await seed(db)
        for who in ("operator", "admin"):
            result = await world[who].slash(world["channel"], "watch list")
            message = result.followups[0] if result.followups else result.response
            assert result.ephemeral and "Relief (ETH)" in message.embeds[0].description


class TestWatchChanges:
    async def test_add_is_validated_stored_audited_and_announced(self, world, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/watch add stores the canonical address, writes an audit row naming the member, and a wallet.added event."""
        result = await world["operator"].slash(world["channel"], "watch add", chain="ethereum", address=NEW_ETH.lower(), label="Ops fund")
        assert "Now watching Ops fund" in (result.followups[0] if result.followups else result.response).content
        async with db.session() as s:
            assert [(w.chain, w.address, w.label) for w in await list_wallets(s)] == [("ethereum", NEW_ETH, "Ops fund")]
            audit = (await audit_log(s))[0]
        assert (audit.action, audit.address, audit.actor_id) == ("added", NEW_ETH, world["operator"].id)
        assert [e.kind for e in await events(db)] == ["wallet.added"]

    async def test_invalid_address_is_refused_with_the_reason(self, world, db: Database) -> None:  # type: ignore[no-untyped-def]
        """An address that is not one for the chain is refused privately, saying why."""
        result = await world["operator"].slash(world["channel"], "watch add", chain="ethereum", address="0x12", label="x")
        assert result.ephemeral and "is not a valid ethereum address" in result.response.content

    async def test_remove_asks_for_confirmation_then_retires(self, world, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/watch remove shows a confirm button; only after pressing it is the wallet retired and audited."""
        await world["operator"].slash(world["channel"], "watch add", chain="ethereum", address=NEW_ETH, label="Ops fund")
        asked = await world["operator"].slash(world["channel"], "watch remove", address=NEW_ETH)
        assert asked.ephemeral and "Stop watching Ops fund" in asked.response.content
        async with db.session() as s:
            assert len(await list_wallets(s)) == 1
        await world["operator"].click(asked.response, label="Remove")
        async with db.session() as s:
            assert list(await list_wallets(s)) == []
            assert [a.action for a in await audit_log(s)] == ["removed", "added"]
        assert [e.kind for e in await events(db)] == ["wallet.added", "wallet.removed"]

    async def test_config_file_wallet_cannot_be_removed(self, world, chat_app: App, db: Database) -> None:  # type: ignore[no-untyped-def]
        """A wallet defined in the config file is refused at once, pointing at the file."""
        from bot.settings import WalletEntry

        await seed(db)
        chat_app.settings.wallets.append(WalletEntry(chain="ethereum", address=ETH_WALLET, label="Relief (ETH)"))
        result = await world["admin"].slash(world["channel"], "watch remove", address=ETH_WALLET)
        assert result.ephemeral and "defined in the config file" in result.response.content
