"""QR codes of the official addresses as inline SVG (segno: pure Python, no image library)."""

from __future__ import annotations

from functools import lru_cache

import segno


@lru_cache(maxsize=256)
def qr_svg(address: str) -> str:
    """An inline <svg> QR code of the plain address (every wallet scans it), sized by CSS.

    The text is the address only; segno draws it from a validated address, so it is safe markup.
    """
    qr = segno.make(address, error="m", micro=False)
    return qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass="qr", lineclass=None, omitsize=True)
