"""Derive the report's Ethiopic TTF from the web font the respondent pages already ship.

Typst and matplotlib read TrueType, not WOFF2, so the PDF report needs the same glyphs as a
plain TTF: ``surveyapp/static/fonts/noto-sans-ethiopic-tigrinya.woff2`` (a subset of Noto Sans
Ethiopic 2.102 covering the whole Ethiopic block, SIL OFL 1.1, no reserved font name) is
decompressed with fontTools (and brotli), glyphs unchanged. Run from the project root:

    .venv/bin/python scripts/ethiopic_ttf.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "surveyapp" / "static" / "fonts" / "noto-sans-ethiopic-tigrinya.woff2"
LICENCE = ROOT / "surveyapp" / "static" / "fonts" / "OFL-NotoSansEthiopic.txt"
TARGET = ROOT / "surveyapp" / "fonts"


def main() -> None:
    """Write NotoSansEthiopic-Regular.ttf and its licence into surveyapp/fonts."""
    TARGET.mkdir(exist_ok=True)
    font = TTFont(SOURCE, recalcTimestamp=False)  # same bytes on every run
    font.flavor = None  # plain sfnt: what TrueType readers expect
    font.save(TARGET / "NotoSansEthiopic-Regular.ttf", reorderTables=True)
    shutil.copyfile(LICENCE, TARGET / "OFL-NotoSansEthiopic.txt")
    print(f"wrote {TARGET / 'NotoSansEthiopic-Regular.ttf'}")


if __name__ == "__main__":
    main()
