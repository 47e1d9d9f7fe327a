#!/bin/sh
# Creates capa-sync's own database and its two logins on the PostgreSQL that Temporal uses; the postgres image runs
# this folder once, when it initialises an empty data volume. capa_owner owns the database and its schema (only the
# capa-sync-migrate service logs in as it); capa_sync, the workers' and the CLI's login, owns nothing and gets from
# each migration exactly the privileges it needs. The passwords come from the capa_db_owner_password and
# capa_db_password secrets.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$(cat /run/secrets/capa_db_owner_password)" -v pw="$(cat /run/secrets/capa_db_password)" <<'SQL'
CREATE USER capa_owner WITH PASSWORD :'owner_pw';
CREATE USER capa_sync WITH PASSWORD :'pw';
CREATE DATABASE capa_sync OWNER capa_owner;
SQL
