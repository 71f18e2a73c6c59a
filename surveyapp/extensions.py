"""Flask extensions, created unbound and initialised by the factory."""

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from surveyapp.db import db

__all__ = ["babel", "compress", "csrf", "db", "login_manager", "migrate"]

babel = Babel()
compress = Compress()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()
