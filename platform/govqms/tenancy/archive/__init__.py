"""One agency's records and stored files as one archive, and back again (``govqms export-tenant``,
``govqms import-tenant``).

**The archive** is a zip:

- ``manifest.json``: format and format version, when it was written, by which GovQMS version and
  at which schema revision, the agency's slug, the tables with their row and id counts, which
  columns hold references and to what, and the SHA-256 and size of every other member;
- ``tables/<table>.json``: the agency's rows of every table with a ``tenant_id`` column, found in
  the metadata (its units, documents…, memberships, jobs, calendar feeds and its activity log),
  and ``tables/tenant.json`` with the agency itself;
- ``globals/<table>.json``: the platform rows those rows refer to, by natural key: accounts (email,
  name, language; never a password hash), jurisdictions (code), other agencies (slug), and the
  jurisdiction's data calls and inspection plans (the whole row, to recreate them if missing);
- ``files/<sha256>``: the stored files (:mod:`govqms.core.storage`) the rows refer to.

A table document is a JSON list with one row per line, sorted by primary key, keys sorted, UTF-8
with Vietnamese as is, dates and times in ISO 8601 (UTC), bytes in base64.

**Ids in the archive are canonical.** The integer id of a row of a tenant table is replaced by its
rank (1, 2, …) among the ids the agency's data mentions for that table: its rows, and rows since
deleted that the activity log or a JSON list still names ("ghosts", which take a rank but have no
row). A reference to a tenant table carries that rank; a reference to a platform row its natural
key (``NATURAL_KEYS``; the ``tenant_id`` columns are left out); a stored file ``sha256:<hex>``.
Exporting an agency twice, or exporting it again from another database after an import, gives
equal table documents (the second has one more activity entry: the import).

**Import** is all-or-nothing. It checks the format version, every checksum, the columns against
this database's schema, and that the slug is free; it resolves every reference (a missing
jurisdiction is an error; missing accounts are created without a password, to be invited with
``govqms tenants invite``; missing data calls and inspection plans are recreated), then takes fresh
ids from each table's sequence in rank order, ghosts included (so a ghost never names another row
on PostgreSQL, and ranks survive the next export), and inserts the rows table by table in
foreign-key order. Stored files are written after every row was accepted, and removed again if the
commit fails. The rows go through SQLAlchemy Core, not the ORM: the activity log's flush hook
(:mod:`govqms.core.activity`) only sees ORM flushes, so the imported rows are not logged once more
as "created"; their own history comes with them unchanged (who, when, what), and the import adds
one entry, action ``import``, by the current actor.

In the activity history (``entity_id`` and ``changes``), a platform row that no longer exists is
written as ``null`` (``#<id>`` for an ``entity_id``), and a natural key the target database does
not know (an agency merged away that was not imported) stays as the key, so it reads the same after
any number of round trips. Not carried: merge records between agencies (``tenant_merge``; a merged
agency keeps its successor by slug), ids inside ``job.params`` (a finished job's request, kept as
it was), and oversight roles.

The package: ``format`` (what the columns mean, values, insertion order), ``export`` and ``importing``.
"""
from govqms.tenancy.archive.export import ExportResult, export_tenant, export_to_path
from govqms.tenancy.archive.format import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveError,
    UnknownReference,
    insertion_order,
    schema_problems,
    tenant_tables,
)
from govqms.tenancy.archive.importing import ImportResult, import_tenant

__all__ = ["FORMAT", "FORMAT_VERSION", "ArchiveError", "ExportResult", "ImportResult", "UnknownReference",
           "export_tenant", "export_to_path", "import_tenant", "insertion_order", "schema_problems", "tenant_tables"]
