"""surveyapp: consented, multilingual questionnaires for phones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request

from surveyapp.config import DefaultConfig, database_uri, development_secret, from_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, instance/config.py, environment, then ``config``."""
    app = Flask(__name__, instance_relative_config=True)
    register_config(app, config)
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_config(app: Flask, config: dict[str, Any] | None) -> None:
    """Layer the configuration sources and refuse to run production without a real secret."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(from_environment())
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = f"sqlite:///{Path(app.instance_path) / 'surveyapp.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(url)
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(PROJECT_ROOT / "translations")
    )
    if not app.config.get("SECRET_KEY"):
        if app.config["ENV_NAME"] == "production":
            raise RuntimeError("SECRET_KEY must be set in production (environment or instance).")
        app.config["SECRET_KEY"] = development_secret(app.instance_path)


def register_proxy(app: Flask) -> None:
    """Behind N reverse proxies, take the client address and scheme from their headers."""
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from surveyapp.db import tune_postgresql, tune_sqlite
    from surveyapp.extensions import (
        babel,
        compress,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )
    from surveyapp.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)

    @app.after_request
    def buffer_static_files(response):
        # Runs before Flask-Compress (after_request runs in reverse order). Our static files
        # are a few KB: reading them into memory lets them be compressed like pages, and
        # closes the file, which the library's streaming path would leave open.
        if (request.endpoint == "static" and response.status_code == 200
                and response.direct_passthrough):
            data = b"".join(response.response)
            response.close()
            response.direct_passthrough = False
            response.set_data(data)
        return response
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            tune_sqlite(db.engine)
        elif db.engine.dialect.name == "postgresql":
            tune_postgresql(db.engine)


def register_blueprints(app: Flask) -> None:
    """Mount each capability's views."""
    from surveyapp.accounts.unit_views import bp as units_bp
    from surveyapp.accounts.views import bp as accounts_bp
    from surveyapp.analysis.export_views import bp as exports_bp
    from surveyapp.analysis.report_views import bp as reports_bp
    from surveyapp.analysis.views import bp as analysis_bp
    from surveyapp.audit.views import bp as audit_bp
    from surveyapp.builder.views import bp as builder_bp
    from surveyapp.campaigns.views import bp as campaigns_bp
    from surveyapp.condition_editor.views import bp as conditions_bp
    from surveyapp.consent.views import bp as consent_editor_bp
    from surveyapp.content_translation.views import bp as content_translation_bp
    from surveyapp.core_views import bp as core_bp
    from surveyapp.extensions import csrf
    from surveyapp.fieldwork.share_views import bp as share_bp
    from surveyapp.fieldwork.views import bp as invitations_bp
    from surveyapp.privacy.views import bp as privacy_bp
    from surveyapp.programmes.views import bp as programmes_bp
    from surveyapp.questionnaires.settings_views import bp as settings_bp
    from surveyapp.questionnaires.views import bp as questionnaires_bp
    from surveyapp.responses.views import bp as responses_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(questionnaires_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(content_translation_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(share_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(programmes_bp)
    app.register_blueprint(conditions_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(consent_editor_bp)
    app.register_blueprint(builder_bp)
    # Respondent forms check their CSRF token inside form.validate(), so that an expired token
    # re-shows the page with every answer kept instead of an error page.
    csrf.exempt(responses_bp)


def register_template_helpers(app: Flask) -> None:
    """Expose language and direction helpers to every template."""
    from surveyapp.assets import static_url
    from surveyapp.i18n import TEMPLATE_GLOBALS, template_context
    from surveyapp.questionnaires.question_types import question_macros

    app.context_processor(template_context)
    install_template_gettext(app)
    app.jinja_env.globals.update(TEMPLATE_GLOBALS, static_url=static_url,
                                 question_macros=question_macros, may=may)


def may(permission: str) -> bool:
    """Whether the current user holds ``permission`` (by name), to show only usable links."""
    from flask_login import current_user

    from surveyapp.accounts.permissions import Permission, can

    return can(current_user, Permission(permission))


def install_template_gettext(app: Flask) -> None:
    """Flask-Babel's template gettext, with the catalogue looked up once per request.

    A page calls gettext a few dozen times; finding the catalogue each time was measurable.
    Changing the language (surveyapp.responses.views._use_language) drops the cached one.
    """
    from flask import g
    from flask_babel import get_translations

    def translations():
        cached = g.get("jinja_translations")
        if cached is None:
            cached = g.jinja_translations = get_translations()
        return cached

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def register_errorhandlers(app: Flask) -> None:
    """Render translated error pages instead of Werkzeug's English ones."""
    from surveyapp.errors import register

    register(app)


def register_security_headers(app: Flask) -> None:
    """Send a strict content policy and never leak resume links through the Referer header."""
    policy = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
              "form-action 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'")

    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Resume tokens are in respondent URLs; no other site may see them.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def register_commands(app: Flask) -> None:
    """Add the ``flask`` sub-commands."""
    from surveyapp.cli import register

    register(app)
