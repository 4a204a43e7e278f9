# syntax=docker/dockerfile:1
# Multi-stage: build the dependency wheels and compile the translations, then run the app
# as a non-root user under gunicorn. No keystore or secret is baked in: mount the keystore
# and pass secrets at run time (see README).

FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md babel.cfg ./
COPY ehbox_webapp ./ehbox_webapp
RUN pip wheel --no-cache-dir --wheel-dir /wheels . gunicorn \
 && pip install --no-cache-dir babel \
 && pybabel compile -d ehbox_webapp/translations

FROM python:3.12.8-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app PORT=8000
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build /wheels /wheels
# The dependencies from their wheels; the app itself runs from /app, beside its templates.
RUN pip install --no-cache-dir /wheels/*.whl && pip uninstall -y ehbox-webapp && rm -rf /wheels
COPY --from=build /src/ehbox_webapp ./ehbox_webapp
COPY app.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
RUN mkdir -p instance certs drafts && chown app:app instance certs drafts
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz', timeout=4)"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:app"]
