# Portail CDG — image unique pour le web (gunicorn), le worker et le beat Celery, et les migrations.
#   docker build -t portail-cdg .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... -p 8000:8000 portail-cdg
# Toute la configuration passe par des variables d'environnement (voir .env.example).
FROM python:3.11-slim

# The portal finds templates/, migrations/ and instance/ next to its package (PROJECT_ROOT = parent of
# portal/): the code runs from /app, where they are (PYTHONPATH), rather than from the copy that
# `pip install .` puts in site-packages, which holds the Python modules only (no templates, static
# files, migrations nor demo data).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PORTAL_ENV=production \
    GUNICORN_WORKERS=2

RUN groupadd --system --gid 1000 portal \
    && useradd --system --uid 1000 --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies and the package (psycopg[binary] and argon2-cffi come as wheels: no compiler needed).
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY workers ./workers
RUN pip install .

COPY templates ./templates
COPY migrations ./migrations
# instance/ is the only place the portal writes to (a development secret, SQLite files): owned by the user.
RUN mkdir -p /app/instance && chown portal:portal /app/instance

USER portal

EXPOSE 8000

# exec: gunicorn is PID 1 and receives SIGTERM from `docker stop`.
CMD ["sh", "-c", "exec gunicorn --bind 0.0.0.0:8000 --workers \"${GUNICORN_WORKERS:-2}\" --access-logfile - 'portal:create_app()'"]
