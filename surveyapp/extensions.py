"""Flask extensions, created unbound and initialised by the factory."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from surveyapp.db import db

__all__ = ["babel", "compress", "csrf", "db", "limiter", "login_manager", "migrate"]

babel = Babel()
compress = Compress()
#: Counts attempts in memory (per process) by default; set RATELIMIT_STORAGE_URI to share them.
#: Addresses are only counted there, never stored with any response.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
