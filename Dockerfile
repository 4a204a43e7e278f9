# syntax=docker/dockerfile:1
# Multi-stage: build a wheel, then run it as a non-root user under gunicorn.
# No keystore or secret is baked in: mount the keystore and pass secrets at run time.

FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ehbox_webapp ./ehbox_webapp
RUN pip wheel --no-cache-dir --wheel-dir /wheels . gunicorn

FROM python:3.12.8-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8000
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY app.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
RUN mkdir -p instance certs && chown app:app instance certs
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz', timeout=4)"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:app"]
