-- GovQMS on PostgreSQL: two roles.
--
--   govqms_owner  owns the schema and runs the migrations (`govqms db upgrade`).
--                 Table owners bypass row-level security, so the application never uses it.
--   govqms_app    what the web, worker and cron processes connect as: neither superuser
--                 nor owner, so the row-level security policies apply to every query.
--
-- Run once as a superuser, e.g.  psql -U postgres -f deploy/postgresql-roles.sql
-- then set passwords (\password govqms_owner, \password govqms_app) or use peer/cert auth.

create role govqms_owner login nosuperuser nocreaterole nobypassrls;
create role govqms_app login nosuperuser nocreatedb nocreaterole nobypassrls;
create database govqms owner govqms_owner encoding 'UTF8' template template0;

\connect govqms
-- Tables and sequences the owner creates later are usable by the application role.
alter default privileges for role govqms_owner in schema public
    grant select, insert, update, delete on tables to govqms_app;
alter default privileges for role govqms_owner in schema public
    grant usage, select on sequences to govqms_app;
grant usage on schema public to govqms_app;
-- Nothing of the application role's own making: no object in the public schema (PostgreSQL 15
-- refuses it already), no temporary table (it would come first in the search path, ahead of the
-- real table of the same name, for every later statement of that connection).
revoke create on schema public from public;
revoke temporary on database govqms from public;

-- After each `govqms db upgrade` (as govqms_owner), make sure the grants are in place, including
-- the activity log being append-only for the application, and register the application's scope
-- key. Run it with the application's GOVQMS_SECRET_KEY (and again whenever that key changes): the
-- application role enters an agency's scope only with the proof derived from that key, checked by
-- the owner's function govqms_rls.enter_scope (see platform/govqms/core/rls.py); until then it
-- enters none.
--   GOVQMS_SECRET_KEY=… GOVQMS_DATABASE_URL=postgresql+psycopg://govqms_owner@/govqms govqms grant-app-role govqms_app
