"""Static asset URLs that change when the file does, so they can be cached for a year."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import current_app, url_for


@cache
def _content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    """URL of a static file with a hash of its content as a cache-busting parameter."""
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_content_hash(path))
