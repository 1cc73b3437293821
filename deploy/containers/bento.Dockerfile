# One Bento (a model version packaged by the deploy DAG) as an image: its own pinned serving requirements (no
# Airflow), the Bento and its model copied from the BentoML store, `bentoml serve` on port 3000.
# Built by scripts/bento_image.py (`make bento-image`), which prepares the build context:
#   requirements.txt (the Bento's env/python/requirements.txt), bentoml/ (the store: bentos/<name>/<version> and
#   models/<name>/<version>), BENTO_TAG, healthcheck.py (deploy/containers/), ca-certificates/ (this machine's
#   extra CAs; may be empty).
# BentoML's own `bentoml containerize` needs a Docker daemon or buildx, which this machine does not have.
ARG BASE_IMAGE=localhost/debian-base
FROM ${BASE_IMAGE}
ARG UV_VERSION=0.13.8
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONUNBUFFERED=1
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates tzdata >/dev/null \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && useradd --uid 50001 --create-home --home-dir /home/bentoml bentoml
COPY ca-certificates/ /usr/local/share/ca-certificates/
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN update-ca-certificates >/dev/null \
    && python3 -m venv /opt/bento \
    && /opt/bento/bin/pip install -q --no-cache-dir "uv==${UV_VERSION}"
COPY requirements.txt /opt/bento/requirements.txt
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/bento/bin/uv pip install -q --python /opt/bento/bin/python --link-mode=copy --compile-bytecode \
        -r /opt/bento/requirements.txt
COPY --chown=50001:50001 bentoml /home/bentoml/store
COPY BENTO_TAG /home/bentoml/BENTO_TAG
COPY healthcheck.py /usr/local/bin/mlops-health
ENV PATH=/opt/bento/bin:$PATH BENTOML_HOME=/home/bentoml/store \
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    BENTOML_DO_NOT_TRACK=True DO_NOT_TRACK=1 SCARF_ANALYTICS=false
USER 50001
WORKDIR /home/bentoml
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=6 \
    CMD ["mlops-health", "http", "http://127.0.0.1:3000/readyz"]
CMD ["sh", "-c", "exec bentoml serve \"$(cat /home/bentoml/BENTO_TAG)\" --host 0.0.0.0 --port 3000"]
