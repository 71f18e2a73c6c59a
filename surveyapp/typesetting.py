"""PDF documents with typst: a versioned template lays out data prepared in Python.

Shared by the results report and the respondent's access document. Fonts come only from
``surveyapp/fonts`` (Ethiopic) and matplotlib (DejaVu Sans: Latin, Cyrillic, Arabic), never
from the system, so a document looks the same on every machine.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
import typst

FONTS_DIR = Path(__file__).parent / "fonts"


@cache
def fonts() -> typst.Fonts:
    """Our fonts and matplotlib's DejaVu, no system fonts; scanned once per process."""
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=True,
                       font_paths=[str(FONTS_DIR),
                                   str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")])


def compile_pdf(template: Path, prepare: Callable[[Path], dict[str, Any]]) -> bytes:
    """Compile ``template`` with the data ``prepare(folder)`` returns, as ``data.json``.

    ``prepare`` may write further files (charts) into the folder for the template to read.
    The data reaches typst as JSON strings, which it shows as text, never as markup.
    """
    with tempfile.TemporaryDirectory(prefix="surveyapp-pdf-") as folder:
        root = Path(folder)
        data = prepare(root)
        (root / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        (root / "main.typ").write_bytes(template.read_bytes())
        compiler = typst.Compiler(str(root / "main.typ"), root=str(root), font_paths=fonts(),
                                  ignore_system_fonts=True)
        pdf = compiler.compile(format="pdf", timestamp=datetime.now(UTC).replace(microsecond=0))
    assert isinstance(pdf, bytes)
    return pdf
