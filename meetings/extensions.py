"""Extension singletons, bound to the app in ``create_app`` with ``init_app``."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Alembic needs deterministic constraint names to alter them later (batch mode on SQLite).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Redis (REDIS_URL) holds the rate limits' counts, shared by all workers.
# Should it stop answering, the limits go on in each worker's memory (with a
# warning in the log, see meetings.ops) and Redis is tried again from time to
# time: logins keep working. A Redis that accepts but never answers costs a
# request at most this long per command.
REDIS_TIMEOUT_SECONDS = 1.0
limiter = Limiter(
    key_func=get_remote_address,
    in_memory_fallback_enabled=True,
    # any other failure of the limits' storage: logged, and the request goes on
    swallow_errors=True,
    storage_options={
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    },
)
