"""Community slash commands through the real command tree (simcord): totals, recent, top, wallets, tx, summary."""

from __future__ import annotations

import discord

from ledger.database import Database
from tests.bot.seed import seed


class TestTotal:
    async def test_total_gives_confirmed_and_pending_per_asset(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/donations total answers publicly with each asset's confirmed and pending sums and the donor count."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        result = await alice.slash(channel, "donations total")
        assert not result.ephemeral
        embed = result.followups[0].embeds[0] if result.followups else result.response.embeds[0]
        fields = {f.name: f.value for f in embed.fields}
        assert fields["BTC"] == "**0.75** confirmed\n0.1 pending\n3 donations"
        assert "5 donations from 2 unique donors" == embed.description


def first(result):  # type: ignore[no-untyped-def]
    """The message a deferred command answered with."""
    return result.followups[0] if result.followups else result.response


class TestRecentAndTop:
    async def test_recent_lists_newest_first_with_timestamps_and_links(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/donations recent count:2 shows the two newest donations with Discord timestamps and explorer links."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        result = await alice.slash(channel, "donations recent", count=2)
        lines = first(result).embeds[0].description.splitlines()
        assert len(lines) == 2 and "<t:" in lines[0] and "**3 ETH** to Relief (ETH)" in lines[0]
        assert "](https://etherscan.io/tx/0x" in lines[0] and "**1.5 ETH**" in lines[1]

    async def test_long_lists_page_with_buttons_only_the_asker_may_turn(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """Twelve donations page as 10 + 2; Next turns the page for the asker, and refuses anyone else."""
        from ledger.writes import TransferIn, record_transfers

        seeded = await seed(db)
        async with db.session() as s:
            await record_transfers(s, [TransferIn(chain="ethereum", txid=f"0x{100 + i:064x}", position=-1, wallet_id=seeded.eth_wallet,
                                                  asset="ETH", decimals=18, amount=10**17 * (i + 1), senders=("0xabc",)) for i in range(7)])
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        bob = simcord_env.guild.add_member(simcord_env.create_user("bob"))
        message = first(await alice.slash(channel, "donations recent", count=50))
        assert message.embeds[0].footer.text == "page 1 of 2" and len(message.embeds[0].description.splitlines()) == 10
        refused = await bob.click(message, label="Next")
        assert refused.ephemeral and "Only the person who asked" in refused.response.content
        await alice.click(message, label="Next")
        turned = channel.last_message
        assert turned.embeds[0].footer.text == "page 2 of 2" and len(turned.embeds[0].description.splitlines()) == 2

    async def test_count_outside_its_range_is_refused_by_discord(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """count is a Range 1-50 in the command's schema, so 51 never reaches the bot."""
        import simcord

        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        try:
            await alice.slash(channel, "donations recent", count=51)
        except simcord.OptionError:
            return
        raise AssertionError("a count of 51 was accepted")

    async def test_top_ranks_per_asset(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/donations top days:7 lists BTC then ETH, each biggest first, leaving older and orphaned ones out."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        lines = first(await alice.slash(channel, "donations top", days=7)).embeds[0].description.splitlines()
        assert [line.split("**")[1] for line in lines] == ["0.25 BTC", "0.1 BTC", "3 ETH", "1.5 ETH"]


class TestWalletsAndTx:
    async def test_wallets_show_each_address_with_a_qr_code(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/donations wallets sends one embed per address with its explorer link and a QR PNG attached."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        message = first(await alice.slash(channel, "donations wallets"))
        assert [e.description for e in message.embeds] == ["`bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h`", "`0x165CD37b4C644C2921454429E7F9358d18A45e14`"]
        assert message.embeds[1].url == "https://etherscan.io/address/0x165CD37b4C644C2921454429E7F9358d18A45e14"
        assert sorted(a.filename for a in message.attachments) == ["qr-1.png", "qr-2.png"]

    async def test_malformed_txid_gets_one_ephemeral_sentence(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """A txid that is no txid is answered privately with what a txid looks like on each chain."""
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        result = await alice.slash(channel, "donations tx", txid="hello")
        assert result.ephemeral and "64 hexadecimal characters" in result.response.content

    async def test_known_txid_says_status_and_amount(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """A stored Ethereum tx answers with amount, wallet, status and block."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        embed = first(await alice.slash(channel, "donations tx", txid=f"0x{4:064x}")).embeds[0]
        assert embed.fields[0].name == "1.5 ETH to Relief (ETH)" and embed.fields[0].value.startswith("confirmed")

    async def test_summary_on_demand_carries_the_chart(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """/donations summary answers with the summary embed and its PNG chart attached."""
        await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        message = first(await alice.slash(channel, "donations summary"))
        assert message.embeds[0].title.startswith("Daily summary") and message.attachments[0].filename.endswith(".png")
