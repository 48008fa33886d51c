"""Community slash commands through the real command tree (simcord): totals, recent, top, wallets, tx, summary."""

from __future__ import annotations

import io

import discord

from ledger.database import Database
from tests.bot.seed import seed
from tests.fakes.esplora import EsploraFake, fake_address, make_tx
from tests.watchers.bitcoin.conftest import fake, watch, watcher, watcher_factory  # noqa: F401 (fixtures)
from tests.watchers.bitcoin.test_key_wallets import ZPUB
from watchers.bitcoin import BitcoinWatcher
from watchers.descriptors import RECEIVE, derive, parse_key_wallet


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


class TestFiat:
    async def test_total_adds_the_value_at_arrival_and_the_unvalued_count(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """With one donation valued at 6,000 USD, /donations total shows it and how many are not valued yet."""
        from decimal import Decimal

        from ledger.types import utcnow
        from ledger.valuation_tables import TransferValue

        seeded = await seed(db)
        async with db.session() as s:
            s.add(TransferValue(transfer_id=seeded.transfers[4], currency="USD", value=Decimal("6000.004"), price=Decimal("2000.001"),
                                source="coinbase", granularity=3600, candle_time=utcnow(), priced_at=utcnow()))
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        embed = first(await alice.slash(channel, "donations total")).embeds[0]
        fields = {f.name: f.value for f in embed.fields}
        assert fields["Value at arrival (USD)"] == "**0.00 USD** confirmed\n6,000.00 USD pending\n4 not valued yet"


class TestAutocomplete:
    async def test_wallet_option_suggests_matching_labels(self, simcord_env, db: Database) -> None:  # type: ignore[no-untyped-def]
        """Typing "eth" in the wallet option offers the Ethereum wallet by label, its id as the value."""
        seeded = await seed(db)
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))
        choices = await alice.autocomplete(channel, "donations total", "wallet", "eth")
        assert choices == [{"name": "Relief (ETH) (ethereum)", "value": str(seeded.eth_wallet)}]


class TestKeyWallet:
    async def test_wallets_show_the_next_unused_address_and_move_on_once_it_is_paid(
        self, simcord_env, db: Database, fake: EsploraFake, watcher: BitcoinWatcher
    ) -> None:  # type: ignore[no-untyped-def]
        """An xpub wallet shows receive/0 with a QR PNG decoding to it; once receive/0 is paid, receive/1."""
        import zxingcpp
        from PIL import Image

        key = parse_key_wallet(ZPUB)
        await watch(db, key.canonical)
        assert (await watcher.poll()).ok  # derives the first window
        channel = simcord_env.create_guild().create_text_channel("general")
        alice = simcord_env.guild.add_member(simcord_env.create_user("alice"))

        async def shown() -> tuple[discord.Embed, str]:
            message = first(await alice.slash(channel, "donations wallets"))
            (embed,), (png,) = message.embeds, message.attachments
            (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(await png.read())))
            return embed, code.text

        embed, qr = await shown()
        first_address = derive(key, RECEIVE, 0)
        assert embed.description.splitlines()[0] == f"`{first_address}`" and qr == first_address
        assert embed.url == f"https://mempool.space/address/{first_address}"
        assert {f.name for f in embed.fields} == {"Chain", "Derived from"}

        fake.add_tx(make_tx([(fake_address(700), 60_000)], [(first_address, 50_000)]))
        assert (await watcher.poll()).ok  # a mempool payment already uses the address
        embed, qr = await shown()
        assert embed.description.splitlines()[0] == f"`{derive(key, RECEIVE, 1)}`" and qr == derive(key, RECEIVE, 1)
