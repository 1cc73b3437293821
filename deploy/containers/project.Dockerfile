# The project image: Airflow 3.3 (every component and the Celery workers), MLflow, lakeFS and the alert sink
# of the compose stack run from it. Python 3.11 and the pinned requirements.lock; the lakeFS server the
# project builds (scripts/install_lakefs.sh; `make images` copies it to build/lakefs/); dags, plugins,
# include, scripts. BASE_IMAGE is any Debian bookworm: localhost/debian-base here (debootstrap, see
# scripts/install_podman.sh); with Docker, e.g. --build-arg BASE_IMAGE=debian:bookworm-slim.
ARG BASE_IMAGE=localhost/debian-base
FROM ${BASE_IMAGE}

ARG UV_VERSION=0.13.8
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUNBUFFERED=1
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates tzdata >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow
# The build machine's own CA certificates (`make images` copies /usr/local/share/ca-certificates/*.crt there;
# empty elsewhere): an intercepting HTTPS proxy's CA, so pip and uv reach PyPI through it.
COPY build/ca-certificates/ /usr/local/share/ca-certificates/
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN update-ca-certificates >/dev/null \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install -q --no-cache-dir "uv==${UV_VERSION}"

# Dependencies first: this layer is rebuilt only when the lock changes; uv's download cache is kept between
# builds (a cache mount), so even then only changed wheels are fetched.
COPY requirements.lock /opt/mlops/requirements.lock
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/venv/bin/uv pip sync -q --python /opt/venv/bin/python --link-mode=copy --compile-bytecode \
        /opt/mlops/requirements.lock

COPY build/lakefs/lakefs /usr/local/bin/lakefs
COPY deploy/containers/healthcheck.py /usr/local/bin/mlops-health

# The project itself, editable and without dependencies (Airflow finds its provider metadata: connection types).
COPY pyproject.toml /opt/mlops/pyproject.toml
COPY plugins /opt/mlops/plugins
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/venv/bin/uv pip install -q --python /opt/venv/bin/python --link-mode=copy --no-deps -e /opt/mlops
COPY include /opt/mlops/include
COPY dags /opt/mlops/dags
COPY scripts /opt/mlops/scripts
COPY airflow_settings.yaml /opt/mlops/airflow_settings.yaml
COPY config /opt/mlops/config
COPY docs /opt/mlops/docs

# The simple auth manager's login file (placeholder admin/admin): Airflow opens it for writing.
COPY --chown=50000:0 scripts/compose-passwords.json /opt/airflow/passwords.json
# Folders the services write (named volumes mounted there take this ownership on first use).
RUN mkdir -p /opt/airflow/logs /data/lakefs /data/mlflow/artifacts /data/alerts \
    && chown -R 50000:0 /opt/airflow /data && chmod -R g+w /opt/airflow /data

ENV PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/mlops/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/mlops/plugins \
    PYTHONPATH=/opt/mlops:/opt/mlops/plugins \
    OMP_NUM_THREADS=1
WORKDIR /opt/mlops
USER 50000
# Last, so a new revision rebuilds no other layer: the code version recorded in lakeFS commits and MLflow runs
# (include/common/lineage.py reads it; `make images` writes it). A file, not a build argument: podman 4.3's
# layer cache ignored a changed --build-arg value and kept the old revision.
COPY build/REVISION /opt/mlops/REVISION
CMD ["airflow", "version"]
