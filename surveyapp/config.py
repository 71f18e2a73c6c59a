"""Configuration defaults; the factory layers instance/config.py and the environment on top."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

#: Interface languages with a Flask-Babel catalogue. The first is the fallback.
INTERFACE_LANGUAGES = ("de", "en", "ar", "fa", "tr", "uk", "ru", "ti", "fr")


class DefaultConfig:
    """Safe defaults for a development machine; production overrides via environment."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # A long questionnaire posts at most a few dozen fields; 512 KiB is far above honest use.
    MAX_CONTENT_LENGTH = 512 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    # Respondents take their time; a CSRF token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    # Every message a respondent sees is our own (translated by our catalogues), never
    # WTForms' built-in ones; building WTForms' translations per form costs ~1 ms a request.
    WTF_I18N_ENABLED = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 30
    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    INTERFACE_LANGUAGES = INTERFACE_LANGUAGES
    #: How long the resume cookie keeps a draft reachable from the same browser.
    RESUME_COOKIE_DAYS = 30
    ENV_NAME = "development"
    RATELIMIT_STORAGE_URI = "memory://"
    #: Withdrawal attempts per address; receipt codes have 80 bits, this only stops noise.
    WITHDRAW_RATE_LIMIT = "10 per hour"
    # Static URLs carry a content hash (see static_url), so browsers may keep them a year.
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    # Respondents are on slow mobile networks: a matrix page shrinks from ~30 KB to ~5 KB.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_LEVEL = 6
    COMPRESS_BR_LEVEL = 4
    #: SMTP server for invitations and reminders; without it the app only exports links.
    MAIL_SERVER = ""
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USE_SSL = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = ""
    #: Messages per hour over all questionnaires (mail providers block bulk senders).
    MAIL_PER_HOUR = 100


ENVIRONMENT_KEYS = ("SECRET_KEY", "DATABASE_URL", "ENV_NAME", "SERVER_NAME", "PREFERRED_URL_SCHEME",
                    "PROXY_HOPS", "RATELIMIT_STORAGE_URI", "MAIL_SERVER", "MAIL_USERNAME",
                    "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER")


#: Settings given as whole numbers; a value that is not one stops the start with its name.
INTEGER_ENVIRONMENT_KEYS = ("MAIL_PORT", "MAIL_PER_HOUR")


def from_environment() -> dict:
    """Read the settings a deployment may give as environment variables."""
    values: dict = {key: os.environ[key] for key in ENVIRONMENT_KEYS if os.environ.get(key)}
    for key in INTEGER_ENVIRONMENT_KEYS:
        if os.environ.get(key):
            try:
                values[key] = int(os.environ[key])
            except ValueError:
                raise RuntimeError(f"{key} must be a whole number") from None
    if os.environ.get("SURVEYAPP_ENV"):
        values["ENV_NAME"] = os.environ["SURVEYAPP_ENV"]
    return values


def database_uri(url: str) -> str:
    """Normalise a DATABASE_URL so that PostgreSQL is reached through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def development_secret(instance_path: str) -> str:
    """Return the secret kept in instance/, generating it on first use."""
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once, exactly one writes the secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.01)  # another worker is still writing it
    raise RuntimeError(f"{path} is empty")
