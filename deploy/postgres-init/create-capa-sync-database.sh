#!/bin/sh
# Creates capa-sync's own database and user on the PostgreSQL that Temporal uses. The postgres image runs this
# folder once, when it initialises an empty data volume. The password comes from the capa_db_password secret.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$(cat /run/secrets/capa_db_password)" <<'SQL'
CREATE USER capa_sync WITH PASSWORD :'pw';
CREATE DATABASE capa_sync OWNER capa_sync;
SQL
