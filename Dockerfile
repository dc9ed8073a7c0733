# syntax=docker/dockerfile:1
# ArtSpot's one image: web by default (scripts/web); worker, beat, relay and migrate are the same
# image with another command (scripts/worker, scripts/beat, scripts/relay, scripts/migrate).
# Build: docker build -t artspot:$(git rev-parse HEAD) .   (no Docker engine runs on the dev machines;
# CI builds and pushes it, see .github/workflows/deploy.yml)

# --- 1. build: wheels for every dependency ------------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY artspot/ artspot/
COPY core/ core/
COPY home/ home/
COPY artists/ artists/
COPY artworks/ artworks/
COPY curations/ curations/
COPY stories/ stories/
COPY shop/ shop/
COPY drops/ drops/
COPY search/ search/
# The project's own wheel is dropped: the runtime runs the source tree (templates/ lives beside it).
RUN pip wheel --wheel-dir /wheels . \
    && rm /wheels/artspot-*.whl

# --- 2. runtime: slim, non-root, static files collected --------------------------------------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=artspot.settings.production \
    ARTSPOT_VAR_DIR=/app/var \
    PORT=8000
RUN groupadd --system --gid 10001 artspot \
    && useradd --system --uid 10001 --gid artspot --home-dir /app --shell /usr/sbin/nologin artspot
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl
WORKDIR /app
COPY . .
# collectstatic needs production settings to start, so their required variables get build-only
# placeholders here, inline for this RUN alone: none of them is in any layer's environment, and
# none is a secret (the real ones reach the running container from Secrets Manager).
RUN SECRET_KEY=collectstatic-build-only-placeholder \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    ALLOWED_HOSTS=localhost \
    WAGTAILADMIN_BASE_URL=http://localhost \
    AWS_STORAGE_BUCKET_NAME=collectstatic-build-only \
    AWS_S3_CUSTOM_DOMAIN=media.build-only.invalid \
    EMAIL_URL=consolemail:// \
    STRIPE_SECRET_KEY=collectstatic-build-only \
    STRIPE_WEBHOOK_SECRET=collectstatic-build-only \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/collectstatic.sqlite3
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 CMD ["scripts/healthcheck"]
CMD ["scripts/web"]
