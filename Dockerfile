# One image for every process of the compose file: web (gunicorn), worker and beat (Celery).
# It runs the Makefile's own targets, so the image and a native install behave the same.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    PRIVATE_MEDIA_ROOT=/data/private

RUN apt-get update \
    && apt-get install --yes --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system ikm \
    && useradd --system --gid ikm --home-dir /app --no-create-home --shell /usr/sbin/nologin ikm

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN python -m venv .venv \
    && .venv/bin/python -m pip install --quiet -r requirements/base.txt

COPY . .

# The Makefile installs into .venv only when requirements/base.txt is newer than this stamp;
# touched after the copy, it tells `make serve|worker|beat|migrate` that all is installed.
RUN touch .venv/.installed-base \
    && mkdir -p var /data/private \
    && chown -R ikm:ikm var /data/private

USER ikm

EXPOSE 8000

CMD ["make", "serve", "HOST=0.0.0.0", "PORT=8000"]
