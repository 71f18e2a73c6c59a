"""QR codes of links, as SVG (print, flyers) and PNG (chat messages, office documents)."""

from __future__ import annotations

import io

import segno

#: Error correction M (15 %) keeps codes of our links small; segno raises it when the
#: version has room, so a smudged or folded flyer still scans.
ERROR_LEVEL = "m"


def _code(url: str) -> segno.QRCode:
    # Never a Micro QR code: many phone cameras do not read them.
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_svg(url: str, scale: int = 8) -> bytes:
    """The QR code of ``url`` as a standalone SVG with a white quiet zone."""
    out = io.BytesIO()
    # A white background: a transparent code on a dark page or slide does not scan.
    _code(url).save(out, kind="svg", scale=scale, border=4, light="#fff", dark="#000",
                    xmldecl=True, title=url)
    return out.getvalue()


def qr_png(url: str, scale: int = 10) -> bytes:
    """The QR code of ``url`` as a PNG, ``scale`` pixels per module (sharp when printed)."""
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=scale, border=4, light="#fff", dark="#000")
    return out.getvalue()
