"""Turning a neutral `Message` into Discord's form: an embed within Discord's limits, and a file."""

from __future__ import annotations

import io

import discord

from bot.messages import Message, Severity

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
TITLE, DESCRIPTION, FIELDS, FIELD_NAME, FIELD_VALUE, FOOTER, TOTAL = 256, 4096, 25, 256, 1024, 2048, 6000
CONTENT = 2000
COLOURS = {Severity.INFO: 0x2E86DE, Severity.WARNING: 0xF39C12, Severity.ALERT: 0xC0392B}


def escape(text: str) -> str:
    """Operator or chain text shown as typed: no markdown, no mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_embed(message: Message, *, footer: str | None = None) -> tuple[discord.Embed, discord.File | None]:
    """The message as one embed (and its image as an attachment shown inside it), within every limit."""
    description = "\n".join(escape(line) for line in message.lines)
    if message.links:
        description += ("\n" if description else "") + " · ".join(f"[{escape(text)}]({url})" for text, url in message.links)
    embed = discord.Embed(
        title=clip(escape(message.title), TITLE), description=clip(description, DESCRIPTION) or None,
        colour=COLOURS[message.severity], timestamp=message.timestamp,
    )
    budget = TOTAL - len(embed.title or "") - len(embed.description or "") - len(footer or "")
    shown = message.fields[:FIELDS]
    for f in shown:
        name, value = clip(escape(f.name), FIELD_NAME), clip(escape(f.value) or "-", FIELD_VALUE)
        if len(name) + len(value) > budget:
            break
        budget -= len(name) + len(value)
        embed.add_field(name=name, value=value, inline=f.inline)
    if footer:
        embed.set_footer(text=clip(footer, FOOTER))
    file = None
    if message.image is not None:
        file = discord.File(io.BytesIO(message.image.data), filename=message.image.filename)
        embed.set_image(url=f"attachment://{message.image.filename}")
    return embed, file
