#!/bin/bash
# Initialise the cluster on first start (superuser password from POSTGRES_PASSWORD, then every
# /docker-entrypoint-initdb.d/*.sql), then run the server in the foreground on all interfaces of the
# container (its port is published on 127.0.0.1 only by the compose file).
set -euo pipefail
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  chmod 700 "$PGDATA"
  pwfile="$(mktemp)"
  echo "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}" > "$pwfile"
  initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for sql in /docker-entrypoint-initdb.d/*.sql; do
    psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres -f "$sql"
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: cluster initialised"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c max_connections=200 "$@"
