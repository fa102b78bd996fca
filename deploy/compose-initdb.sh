#!/bin/sh
# Run once by the postgres container when it creates its data directory (mounted into
# /docker-entrypoint-initdb.d/ by deploy/compose.yaml): the two roles and the database of
# deploy/postgresql-roles.sql, then the roles' passwords from the compose environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -f /govqms/postgresql-roles.sql
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$GOVQMS_OWNER_PASSWORD" -v app_password="$GOVQMS_APP_PASSWORD" <<'SQL'
alter role govqms_owner password :'owner_password';
alter role govqms_app password :'app_password';
SQL
