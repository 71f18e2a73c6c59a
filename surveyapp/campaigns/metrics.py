"""Campaigns' counted target mark for programmes: calls that reached someone."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from surveyapp.campaigns.services import calls_reached
from surveyapp.programmes.metrics import register_metric

register_metric("calls_reached", _l("Calls that reached someone (all phone campaigns)"),
                calls_reached)
