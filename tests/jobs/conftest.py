"""What the jobs tests that commit share: a database of their module's own holding the test world, and
killing a worker as the machine going down would."""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass

import pytest
from flask import Flask

from tests.conftest import Backend, World, build_world, migrated_database, test_config as app_config


@dataclass
class Installation:
    app: Flask
    backend: Backend
    world: World


@pytest.fixture(scope="module")
def installation(backend, tmp_path_factory):
    """A database of this module's own, of the same kind as *backend*, holding the test world."""
    from govqms import create_app
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped
    from govqms.extensions import db

    with migrated_database(backend.name, tmp_path_factory.mktemp(f"jobs-{backend.name}")) as created:
        application = create_app(app_config(created.app_url))
        with application.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
            world = build_world()
        try:
            yield Installation(application, created, world)
        finally:
            with application.app_context():
                db.engine.dispose()  # before the database is dropped


@pytest.fixture
def system_context(installation):
    from govqms.core.activity import Actor, acting_as
    from govqms.core.tenancy import TenantScope, scoped

    with installation.app.app_context(), scoped(TenantScope.system()), acting_as(Actor(None, "tests")):
        yield


def kill_process(pid: int) -> None:
    """SIGKILL, as when the machine goes down: no cleanup, no goodbye."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
