"""GovQMS: ISO 9001 quality management for Vietnamese state agencies."""
from __future__ import annotations

import importlib
import logging
import pkgutil
from pathlib import Path

from flask import Blueprint, Flask

from govqms.config import default_instance_path, load_config

#: Domain packages are discovered: each may have models, tasks (and the housekeeping and job hooks it
#: gives the jobs package), reminders (its due dates, for notifications), schedule (its dates, for the
#: calendars), seeds (what a new agency
#: gets from its kind's template) and views (a ``bp`` or ``blueprints``).


def domain_packages() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(here)])
        if info.ispkg and info.name not in {"translations", "templates", "static"}
    )


def import_domain_modules(kind: str) -> list:
    modules = []
    for package in domain_packages():
        name = f"govqms.{package}.{kind}"
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def import_models() -> None:
    """Import every model so the metadata is complete (app, migrations, tests)."""
    import govqms.core.activity  # noqa: F401

    import_domain_modules("models")


def create_app(config: dict | None = None) -> Flask:
    instance_path = default_instance_path()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    from govqms.core.web import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(load_config(instance_path))
    if config:
        app.config.update(config)
    from govqms.core import logs

    logs.init_app(app)  # first: the request id exists before any other before_request runs
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from govqms import extensions as ext
    from govqms.core import activity, errors, i18n, security, templating, tenancy

    import_models()
    import_domain_modules("tasks")
    import_domain_modules("reminders")
    import_domain_modules("schedule")
    import_domain_modules("seeds")
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=app.config["MIGRATIONS_DIR"])
    ext.csrf.init_app(app)
    ext.bootstrap.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    tenancy.install()
    activity.install()
    from govqms.tenancy import versions

    versions.install()

    from govqms import cli

    cli.init_app(app)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    for module in import_domain_modules("views"):
        for blueprint in _blueprints_of(module):
            app.register_blueprint(blueprint)
        if hasattr(module, "init_app"):
            module.init_app(app)
    return app


def _blueprints_of(module) -> list[Blueprint]:
    found = getattr(module, "blueprints", None)
    if found is None:
        found = [module.bp] if hasattr(module, "bp") else []
    return list(found)
