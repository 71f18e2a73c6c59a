"""Translated error pages; a failed request never leaves a half-written transaction behind."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from surveyapp.db import db

MESSAGES = {
    400: (_l("Something was wrong with this request"),
          _l("Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"),
          _l("This link is not valid, or the questionnaire does not exist (any more). "
             "Please check the link you were given.")),
    405: (_l("Not possible"), _l("This page cannot be used like that.")),
    410: (_l("Not open"), _l("This questionnaire is not open for answers.")),
    413: (_l("Too much text"),
          _l("What you sent is too large. Please shorten long answers and try again.")),
    429: (_l("Too many attempts"),
          _l("Please wait an hour, then try again.")),
    500: (_l("Something went wrong on our side"),
          _l("Nothing was saved from your last step. Please try again in a moment.")),
}


def register(app: Flask) -> None:
    """Attach the handlers to ``app``."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        title, text = MESSAGES.get(error.code or 500, (error.name, error.description))
        return render_template("error.html", title=title, text=text), error.code

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_template(
            "error.html",
            title=_l("Your session has expired"),
            text=_l("For your security this form could not be sent. "
                    "Please go back, reload the page and try again."),
        ), 400

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        title, text = MESSAGES[500]
        return render_template("error.html", title=title, text=text), 500
