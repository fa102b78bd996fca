"""Extension objects, created once and bound to an app in create_app()."""
import logging

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from govqms.core.db import Base

log = logging.getLogger(__name__)


class _SQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """The request's session is closed after its response is made: a connection that died by then
        (the database restarted) must not turn a committed request into a server error page."""
        try:
            super()._teardown_session(exc)
        except Exception:  # noqa: BLE001 - whatever the cleanup met, the answer stands
            log.warning("closing the session failed; the connection is dropped", exc_info=True)


db = _SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
