"""Printable flyers: paper size, the title in the flyer's language, a QR code that scans."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.accounts.models import Unit
from surveyapp.audit.models import AuditEntry
from surveyapp.db import db
from surveyapp.questionnaires.services import get_by_slug
from tests.fieldwork.test_links import SHARE, SLUG, decode, links

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
    reason="poppler-utils (pdftoppm, pdftotext, pdfinfo) are not installed: flyer contents "
           "cannot be checked")
#: Page sizes in points, as pdfinfo reports them.
SIZES = {"a4": (595.28, 841.89), "a5": (419.53, 595.28)}


def poppler(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool, *args], check=True, capture_output=True, timeout=60)


def flyer(client, tmp_path: Path, query: str) -> Path:
    response = client.get(f"{SHARE}/flyer.pdf?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    path = tmp_path / "flyer.pdf"
    path.write_bytes(response.data)
    return path


def page_size(path: Path) -> tuple[float, float]:
    info = poppler("pdfinfo", str(path)).stdout.decode()
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return float(width), float(height)


def text_of(path: Path) -> str:
    text = poppler("pdftotext", str(path), "-").stdout.decode()
    # Without the embedding marks pdftotext puts around right-to-left lines.
    return " ".join(re.sub("[\u202a-\u202e]", "", text).split())


@needs_poppler
@pytest.mark.parametrize("paper", ["a4", "a5"])
def test_flyer_paper_size(staff_client, tmp_path, paper):
    width, height = page_size(flyer(staff_client, tmp_path, f"flyer_lang=de&paper={paper}"))
    assert (width, height) == pytest.approx(SIZES[paper], abs=0.5)


@needs_poppler
def test_arabic_flyer_carries_the_arabic_title_and_the_link(app, staff_client, tmp_path):
    koeln = db.session.scalar(sa.select(Unit).filter_by(code="koeln"))
    text = text_of(flyer(staff_client, tmp_path, f"unit={koeln.id}&flyer_lang=ar&paper=a5"))
    title = get_by_slug(SLUG).published_version.title["ar"]
    # The title's words (pdftotext gives back the lam-alef ligature as "ال": compare the
    # words that have none).
    for word in title.split():
        if "لا" not in word:
            assert word in text
    assert links(app, unit_code="koeln") in text
    assert "Köln" in text


@needs_poppler
@pytest.mark.parametrize(("query", "unit_code", "lang"), [
    ("flyer_lang=ti&paper=a4", None, None),
    ("lang=fa&flyer_lang=fa&paper=a5", None, "fa"),
    ("unit={unit}&lang=ar&flyer_lang=de&paper=a5", "dresden", "ar"),
])
def test_the_flyers_code_scans_to_the_exact_link(app, staff_client, tmp_path, query,
                                                 unit_code, lang):
    unit = db.session.scalar(sa.select(Unit).filter_by(code=unit_code or "dresden"))
    path = flyer(staff_client, tmp_path, query.format(unit=unit.id))
    poppler("pdftoppm", "-png", "-r", "150", "-singlefile", str(path), str(tmp_path / "page"))
    found = decode((tmp_path / "page.png").read_bytes())
    assert found == [links(app, unit_code=unit_code, lang=lang)]


def test_flyer_downloads_are_logged_and_named_safely(app, staff_client, tmp_path):
    dresden = db.session.scalar(sa.select(Unit).filter_by(code="dresden"))
    response = staff_client.get(f"{SHARE}/flyer.pdf?unit={dresden.id}&lang=ar"
                                "&flyer_lang=ti&paper=a5")
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename={SLUG}-dresden-ar-flyer-ti-a5.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    entry = db.session.scalars(sa.select(AuditEntry).filter_by(action="download_flyer")).one()
    assert entry.target == f"{SLUG} unit=dresden link_lang=ar flyer_lang=ti paper=a5"
