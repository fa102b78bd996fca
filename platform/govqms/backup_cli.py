"""``govqms backup DIR`` and ``govqms restore DIR``: the commands around :mod:`govqms.core.backup`.

Both connect with ``GOVQMS_DATABASE_URL``, which for them must be the schema owner's (the URL of
/etc/govqms/migrate.env, as for the migrations): the application role sees no agency's row outside
a request, so a backup made as that role would be refused.
"""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from govqms.core.backup import BackupError, create_backup, restore_backup


def _storage_root() -> Path:
    from govqms.core.storage import LocalStorage, get_storage

    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        raise click.ClickException("backups copy a local storage folder; this storage is not one")
    return storage.root


def stored_file_references(connection) -> set[str]:
    """The storage keys the database refers to: the file columns and the file lists inside JSON
    columns that the agency archive knows (a test there keeps that list complete)."""
    from govqms.tenancy.archive.format import FILE, FILE_COLUMNS, JSON_REFERENCES, tables

    inspector = sa.inspect(connection)
    present = {name: {c["name"] for c in inspector.get_columns(name)} for name in inspector.get_table_names()}
    keys: set[str] = set()

    def keep(target, value):
        if target == FILE and isinstance(value, str):
            keys.add(value)
        return value

    for name, column in sorted(FILE_COLUMNS):
        if column in present.get(name, ()):
            values = tables()[name].c[column]
            keys.update(connection.scalars(sa.select(values).where(values.is_not(None))))
    for (name, column), rule in sorted(JSON_REFERENCES.items()):
        if FILE in getattr(rule, "targets", {}).values() and column in present.get(name, ()):
            for value in connection.scalars(sa.select(tables()[name].c[column])):
                rule.map(value, keep)
    return keys


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return ScriptDirectory(current_app.config["MIGRATIONS_DIR"]).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govqms")
    except PackageNotFoundError:
        return None


@click.command("backup")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Write a consistent backup of the database and the stored files into DIR (a new or empty
    folder): pg_dump's custom format on PostgreSQL, SQLite's online backup API on SQLite, the files
    under their keys, and manifest.json with every checksum and the rows of each table. Run it as the
    schema owner. Exits non-zero if a stored file the database refers to is missing or damaged
    (the backup is still written, with the problem in its manifest)."""
    from govqms.extensions import db

    try:
        result = create_backup(db.engine.url, _storage_root(), directory, referenced_keys=stored_file_references,
                               version=_version())
    except BackupError as err:
        raise click.ClickException(f"{err}\nNo backup was written.") from err
    click.echo(result.summary())
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s), listed in the manifest too:", err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1)


@click.command("restore")
@click.argument("directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore the backup in DIR (from `govqms backup`) into the configured database, which must be
    empty, and the storage folder. Every checksum is verified before anything is written; afterwards
    the rows of each table are counted and compared with the manifest. Run it as the schema owner,
    with the services stopped; then `govqms db upgrade` and `govqms grant-app-role ROLE` (the
    migrate unit runs both)."""
    from govqms.extensions import db

    db.engine.dispose()  # no pooled connection to the database being replaced
    try:
        result = restore_backup(db.engine.url, _storage_root(), directory, known_revision=_known_revision)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(result.summary())


COMMANDS = (backup_command, restore_command)

