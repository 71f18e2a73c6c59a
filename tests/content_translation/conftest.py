"""Workbook functions report in the reader's language: these tests read English."""

import pytest


@pytest.fixture(autouse=True)
def english_request(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield
