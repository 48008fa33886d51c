"""QR codes of the addresses donors pay (segno: pure Python): PNG for chat, inline SVG for the page."""

from __future__ import annotations

import io
from functools import lru_cache

import segno


def _code(text: str) -> segno.QRCode:
    return segno.make(text, error="m", micro=False)


@lru_cache(maxsize=256)
def qr_svg(text: str) -> str:
    """An inline <svg> QR code of ``text`` (an address: every wallet scans it), sized by CSS.

    segno draws it from a validated address, so it is safe markup.
    """
    return _code(text).svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr", lineclass=None, omitsize=True)


@lru_cache(maxsize=64)
def qr_png(text: str) -> bytes:
    """A PNG QR code of ``text``, for a chat attachment."""
    buffer = io.BytesIO()
    _code(text).save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()
