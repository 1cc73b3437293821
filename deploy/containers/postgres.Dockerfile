# PostgreSQL 15 from Debian's packages, for the compose stack: Airflow's metadata, the Celery result backend,
# MLflow's store, lakeFS's KV store, the ETL's source system and the platform's state (one database each).
ARG BASE_IMAGE=localhost/debian-base
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY deploy/containers/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
COPY scripts/compose-init-db.sql /docker-entrypoint-initdb.d/init.sql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
