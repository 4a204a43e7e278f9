"""ehbox-webapp: the eHealthBox behind an I.AM Connect login.

`create_app()` builds the Flask application; read it top to bottom to see
everything the app is made of.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .config import ConfigError, Settings
from .flaskapp import App
from .paths import ROOT

__all__ = ["ConfigError", "Settings", "create_app", "warm_up"]


FORM_ALLOWANCE = 256 * 1024


def create_app(
    test_config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build the app. `environ` replaces `os.environ`; `test_config` overrides Flask config.

    Raises :class:`ConfigError` (one line naming the variable) on a bad setting.
    """
    settings = (test_config or {}).get("SETTINGS") or _settings_from_env(environ)
    app = App(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(
            (test_config or {}).get("INSTANCE_PATH")
            or (environ if environ is not None else os.environ).get("INSTANCE_PATH")
            or ROOT / "instance"
        ),
    )
    register_json(app)
    register_config(app, settings, test_config)
    register_logging(app)
    register_services(app, settings)
    register_sessions(app)
    register_i18n(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_sandbox(app, settings)
    register_proxies(app, settings)
    return app


def warm_up(app: Flask) -> None:
    """Build what a worker's first requests would otherwise wait for, before it takes any:
    the API's request checker (the OpenAPI document validated, about 0.25 s) and every
    template compiled (about 0.15 s). gunicorn.conf.py calls it in each worker."""
    from .web.api.openapi import checker

    started = time.perf_counter()
    checker()
    names = app.jinja_env.list_templates()
    for name in names:
        app.jinja_env.get_template(name)
    logging.getLogger(__name__).info(
        "worker ready: the API's request checker and %d templates built in %.2f s",
        len(names),
        time.perf_counter() - started,
    )


def _settings_from_env(environ: Mapping[str, str] | None) -> Settings:
    if environ is None:
        from dotenv import load_dotenv

        load_dotenv(ROOT / ".env")
    return Settings.from_env(environ)


def register_config(app: Flask, settings: Settings, test_config: Mapping[str, Any] | None) -> None:
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="ehbox_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.is_sandbox,
        # The message limit is checked on the message itself; the request may hold a little
        # more (form fields, multipart framing) so that a message just under it goes through.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + FORM_ALLOWANCE,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        PREFERRED_URL_SCHEME="http" if settings.is_sandbox else "https",
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k != "SETTINGS"})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def register_json(app: Flask) -> None:
    from .web import json_provider

    json_provider.init_app(app)


def register_logging(app: Flask) -> None:
    from .logs import install
    from .web import observability

    install(logging.INFO, app.config["SETTINGS"].log_format)
    observability.init_app(app)


def register_services(app: Flask, settings: Settings) -> None:
    from .services import Services

    app.extensions["services"] = Services.from_settings(
        settings, root=ROOT, instance_path=Path(app.instance_path)
    )


def register_sessions(app: Flask) -> None:
    """Server-side sessions in the store; its outage answered with the app's own 503."""
    from .web import sessions

    sessions.init_app(app, app.extensions["services"].store)


def register_i18n(app: Flask) -> None:
    """Flask-Babel: the page language (switcher, token locale, Accept-Language) and formats."""
    from .web import i18n

    i18n.init_app(app)


def register_extensions(app: Flask) -> None:
    from .web import caching, limits, security
    from .web.extensions import csrf

    csrf.init_app(app)
    security.init_app(app)
    limits.init_app(app)
    caching.init_app(app)


def register_blueprints(app: Flask) -> None:
    from .web import api, auth, backchannel, home, onboarding, pages, public_client, wellknown

    app.register_blueprint(wellknown.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(backchannel.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(public_client.bp)
    app.register_blueprint(onboarding.bp)


def register_errorhandlers(app: Flask) -> None:
    from .web import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from .cli import ehbox
    from .cli.translate import translate

    app.cli.add_command(ehbox)
    app.cli.add_command(translate)


def register_sandbox(app: Flask, settings: Settings) -> None:
    """Mount the simulated I.AM Connect and eHealthBox at /sandbox (sandbox only)."""
    if not settings.is_sandbox:
        return
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from .config import SANDBOX_MOUNT
    from .sandbox import SandboxSettings, create_sandbox_app

    public = settings.public_url
    sandbox = create_sandbox_app(
        SandboxSettings(
            base_url=f"{public}{SANDBOX_MOUNT}",
            instance_path=Path(app.instance_path),
            client_jwks_url=settings.jwks_url,
            web_client_id=settings.iam_client_id,
            redirect_uris=(settings.redirect_uri,),
            post_logout_redirect_uris=(settings.post_logout_redirect_uri,),
            public_client_id=settings.iam_public_client_id,
            public_redirect_uris=(
                f"{public}/public-client/",
                *settings.sandbox_public_redirect_uris,
            ),
            m2m_client_id=settings.iam_m2m_client_id,
            ehbox_audience=settings.ehbox_audience,
            backchannel_logout_uri=f"{public}/auth/backchannel-logout",
            web_client_auth=settings.iam_client_auth,
            web_client_secret=settings.iam_client_secret,
            max_message_bytes=settings.sandbox_max_message_bytes,
            access_token_seconds=settings.sandbox_access_token_seconds,
            refresh_token_seconds=settings.sandbox_refresh_token_seconds,
            refresh_token_max_reuse=settings.sandbox_refresh_token_max_reuse,
            fault_injection=settings.sandbox_faults,
            organisation_keystore=(settings.keystore_path(ROOT), settings.etee_keystore_password),
            persona_keystores_export=settings.personal_keystores_path(
                ROOT, Path(app.instance_path)
            ),
            persona_keystore_password=settings.etee_personal_keystores_password,
            trusted_issuers=tuple(
                issuer
                for issuer in (settings.iam_issuer, settings.iam_m2m_issuer)
                if not issuer.startswith(f"{public}{SANDBOX_MOUNT}/")
            ),
        )
    )
    app.extensions["sandbox_app"] = sandbox
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {SANDBOX_MOUNT: sandbox})


def register_proxies(app: Flask, settings: Settings) -> None:
    """Behind `TRUSTED_PROXIES` proxies, the client's address, scheme and host are the user's.

    Outermost, so the sandbox sees them too. Redirect URIs still come from `PUBLIC_URL`,
    never from a forwarded header.
    """
    if not settings.trusted_proxies:
        return
    from werkzeug.middleware.proxy_fix import ProxyFix

    n = settings.trusted_proxies
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
