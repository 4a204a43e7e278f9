"""Settings from the environment (and `.env`), with presets per `EHBOX_ENV`.

Every variable is listed, with one line of explanation, in `.env.example`.
A missing or malformed value raises :class:`ConfigError`, whose message is one
line naming the variable and what it expects; `create_app` lets it stop start-up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("sandbox", "acceptance", "production")

# The confirmed I.AM Connect hosts (see docs/ehealth-platform.md).
IAM_BASE = {
    "acceptance": "https://api-acpt.ehealth.fgov.be/auth",
    "production": "https://api.ehealth.fgov.be/auth",
}
# The eHealth-hosted ETEE JWKS service that publishes a registered certificate's keys.
ETEE_JWKS_BASE = {
    "sandbox": None,
    "acceptance": "https://api-acpt.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks",
    "production": "https://api.ehealth.fgov.be/etee/v1/pubKeys/cacerts/jwks",
}
# eHealth's AddressBook REST API: INFERRED from the other eHealth REST APIs' layout (host
# api[-acpt].ehealth.fgov.be, /<service>/v1); its contract is not public
# (docs/ehealth-platform.md §10). Set ADDRESSBOOK_API_URL from the eHealth API portal.
ADDRESSBOOK_API_URL = {
    "acceptance": "https://api-acpt.ehealth.fgov.be/addressbook/v1",
    "production": "https://api.ehealth.fgov.be/addressbook/v1",
}

# The eHealthBox's message limit, attachments included (CONFIRMED; docs/ehealth-platform.md).
PLATFORM_MAX_MESSAGE_MB = 10
# How the confidential web client authenticates at the healthcare realm: UNKNOWN for
# I.AM Connect (docs/ehealth-platform.md §1.3), so a setting. M2M is private_key_jwt (CONFIRMED).
CLIENT_AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
SANDBOX_CLIENT_SECRET = "sandbox-web-client-secret"  # noqa: S105 - the sandbox's registration
SANDBOX_MOUNT = "/sandbox"
SANDBOX_EHBOX_AUDIENCE = "sandbox-ehealthbox"
SANDBOX_CLIENT_ID = "ehbox-webapp"
SANDBOX_PUBLIC_CLIENT_ID = "ehbox-webapp-public"
SANDBOX_M2M_CLIENT_ID = "cbe-0899999949"
SANDBOX_IDENTIFIER = "0899999949"
SANDBOX_KEYSTORE = "certs/sandbox.acc-p12"
SANDBOX_KEYSTORE_PASSWORD = "sandbox"  # noqa: S105 - public sandbox material, generated locally
SANDBOX_SECRET_KEY = "sandbox-only-secret-key-never-use-elsewhere"  # noqa: S105
SANDBOX_ETEE_JWKS_PATH = "/etee/v1/pubKeys/cacerts/jwks"  # under the sandbox mount, as eHealth's
SANDBOX_ADDRESSBOOK_PATH = "/addressbook/v1"  # under the sandbox mount
SANDBOX_PERSONAS_FOLDER = "sandbox-personas"  # in the instance folder: sandbox persona keystores

IDENTIFIER_TYPES = re.compile(r"CBE|SSIN|NIHII|NIHII11|EHP|NIHII-[A-Z_]+|CBE-[A-Z_]+|EHP-[A-Z_]+")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, expected: str):
        self.variable = variable
        super().__init__(f"{variable}: {expected}")


@dataclass(frozen=True)
class Settings:
    """The application's settings, validated. Build with :meth:`from_env`."""

    env: str = "sandbox"
    public_url: str = "http://localhost:5000"
    secret_key: str = SANDBOX_SECRET_KEY
    iam_issuer: str = ""
    iam_m2m_issuer: str = ""
    iam_client_id: str = SANDBOX_CLIENT_ID
    iam_public_client_id: str = SANDBOX_PUBLIC_CLIENT_ID
    iam_m2m_client_id: str = ""
    iam_scopes: str = "openid ehbox"
    iam_client_auth: str = "private_key_jwt"
    iam_client_secret: str = field(default="", repr=False)
    etee_keystore: str = SANDBOX_KEYSTORE
    etee_keystore_password: str = SANDBOX_KEYSTORE_PASSWORD
    etee_key_alias: str = "authentication"
    etee_key_id: str = ""
    etee_identifier: str = SANDBOX_IDENTIFIER
    etee_identifier_type: str = "CBE"
    etee_application_id: str = ""
    etee_next_keystore: str = ""
    etee_next_keystore_password: str = ""
    etee_previous_keystores: tuple[str, ...] = ()
    etee_previous_keystores_password: str = ""
    etee_personal_keystores: str = ""
    etee_personal_keystores_password: str = ""
    etee_jwks_base: str = ""
    ehbox_api_url: str = ""
    ehbox_audience: str = ""
    addressbook_api_url: str = ""
    addressbook_audience: str = ""  # empty: the address book gets the eHealthBox's token
    ehealth_user_agent: str = "ehbox-webapp/0.1.0"
    ehealth_from: str = ""
    http_timeout: float = 15.0
    max_upload_bytes: int = PLATFORM_MAX_MESSAGE_MB * 1024 * 1024
    sandbox_max_message_bytes: int = PLATFORM_MAX_MESSAGE_MB * 1024 * 1024
    sandbox_public_redirect_uris: tuple[str, ...] = ()
    api_allowed_clients: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    redis_url: str = ""
    log_format: str = "json"
    onboarding_page: bool = True
    sandbox_faults: bool = False  # the sandbox's fault-injection endpoints: tests and bench only
    trusted_proxies: int = 0
    rate_limit_login: str = "20/minute"
    rate_limit_send: str = "30/minute"
    rate_limit_actions: str = "120/minute"
    sandbox_access_token_seconds: int = 300
    sandbox_refresh_token_seconds: int = 1800
    session_store_max_entries: int = 100_000
    sandbox_refresh_token_max_reuse: int = 0
    upstream_calls: int = 8  # calls under way at once to one upstream, per process
    drafts_dir: str = ""  # empty: <instance>/drafts
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_sandbox(self) -> bool:
        return self.env == "sandbox"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.public_url}/"

    @property
    def jwks_url(self) -> str:
        """The JWKS URL this app serves itself (sandbox and self-hosted setups)."""
        return f"{self.public_url}/.well-known/jwks.json"

    @property
    def etee_jwks_url(self) -> str | None:
        """The eHealth-hosted ETEE JWKS URL for the configured identifier (`use=sig`)."""
        base = ETEE_JWKS_BASE[self.env]
        if base is None:
            return None
        query = f"identifier={self.etee_identifier}&type={self.etee_identifier_type}"
        if self.etee_application_id:
            query += f"&applicationIdentifier={self.etee_application_id}"
        return f"{base}?{query}&use=sig"

    @property
    def scopes(self) -> list[str]:
        return self.iam_scopes.split()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from a mapping (default: `os.environ`)."""
        env_vars = dict(os.environ if environ is None else environ)

        def get(name: str, default: str = "") -> str:
            return env_vars.get(name, "").strip() or default

        env = get("EHBOX_ENV", "sandbox").lower()
        if env not in ENVIRONMENTS:
            raise ConfigError("EHBOX_ENV", f"one of {', '.join(ENVIRONMENTS)}, not {env!r}")
        sandbox = env == "sandbox"

        port = get("PORT", "5000")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError("PORT", f"a TCP port number, not {port!r}")
        public_url = _url("PUBLIC_URL", get("PUBLIC_URL", f"http://localhost:{port}"))
        if not sandbox and not public_url.startswith("https://"):
            raise ConfigError("PUBLIC_URL", "an https:// URL outside the sandbox")

        if sandbox:
            base = f"{public_url}{SANDBOX_MOUNT}/auth"
            defaults = {
                "IAM_CLIENT_ID": SANDBOX_CLIENT_ID,
                "IAM_PUBLIC_CLIENT_ID": SANDBOX_PUBLIC_CLIENT_ID,
                "IAM_M2M_CLIENT_ID": SANDBOX_M2M_CLIENT_ID,
                "ETEE_KEYSTORE": SANDBOX_KEYSTORE,
                "ETEE_KEYSTORE_PASSWORD": SANDBOX_KEYSTORE_PASSWORD,
                "ETEE_IDENTIFIER": SANDBOX_IDENTIFIER,
                "ETEE_IDENTIFIER_TYPE": "CBE",
                "EHBOX_API_URL": f"{public_url}{SANDBOX_MOUNT}/ehealthbox/v1",
                "EHBOX_AUDIENCE": SANDBOX_EHBOX_AUDIENCE,
                "EHEALTH_FROM": "sandbox@example.org",
                "SECRET_KEY": SANDBOX_SECRET_KEY,
                "ETEE_JWKS_BASE": f"{public_url}{SANDBOX_MOUNT}{SANDBOX_ETEE_JWKS_PATH}",
                "ETEE_PERSONAL_KEYSTORES_PASSWORD": SANDBOX_KEYSTORE_PASSWORD,
                "ADDRESSBOOK_API_URL": f"{public_url}{SANDBOX_MOUNT}{SANDBOX_ADDRESSBOOK_PATH}",
            }
        else:
            base = IAM_BASE[env]
            defaults = {
                "ETEE_KEYSTORE": "",
                "ETEE_KEYSTORE_PASSWORD": "",
                "ETEE_JWKS_BASE": ETEE_JWKS_BASE[env] or "",
                "ADDRESSBOOK_API_URL": ADDRESSBOOK_API_URL[env],
            }

        def setting(name: str, expected: str) -> str:
            value = get(name, defaults.get(name, ""))
            if not value:
                raise ConfigError(name, f"required outside the sandbox: {expected}")
            return value

        secret_key = setting(
            "SECRET_KEY",
            "a long random string (python -c 'import secrets; print(secrets.token_hex(32))')",
        )
        if not sandbox and (secret_key == SANDBOX_SECRET_KEY or len(secret_key) < 32):
            raise ConfigError("SECRET_KEY", "at least 32 random characters, not the sandbox value")

        identifier_type = get(
            "ETEE_IDENTIFIER_TYPE", defaults.get("ETEE_IDENTIFIER_TYPE", "CBE")
        ).upper()
        if not IDENTIFIER_TYPES.fullmatch(identifier_type):
            raise ConfigError(
                "ETEE_IDENTIFIER_TYPE",
                "an eHealth identifier type such as CBE, NIHII-HOSPITAL or EHP, "
                f"not {identifier_type!r}",
            )
        identifier = setting(
            "ETEE_IDENTIFIER",
            "the identifier of the certificate's owner (CBE, NIHII or EHP number)",
        )
        if not identifier.isdigit():
            raise ConfigError("ETEE_IDENTIFIER", f"digits only, not {identifier!r}")

        client_auth = get("IAM_CLIENT_AUTH", "private_key_jwt").lower()
        if client_auth not in CLIENT_AUTH_METHODS:
            raise ConfigError(
                "IAM_CLIENT_AUTH", f"one of {', '.join(CLIENT_AUTH_METHODS)}, not {client_auth!r}"
            )
        client_secret = get("IAM_CLIENT_SECRET", SANDBOX_CLIENT_SECRET if sandbox else "")
        if client_auth != "private_key_jwt" and not client_secret:
            raise ConfigError(
                "IAM_CLIENT_SECRET",
                f"the client secret eHealth issued (IAM_CLIENT_AUTH={client_auth})",
            )

        ehbox_api_url = _url(
            "EHBOX_API_URL", setting("EHBOX_API_URL", "the base URL of the eHealthBox REST API")
        )
        timeout = get("HTTP_TIMEOUT", "15")
        try:
            http_timeout = float(timeout)
        except ValueError:
            raise ConfigError("HTTP_TIMEOUT", f"a number of seconds, not {timeout!r}") from None
        if not 0 < http_timeout <= 300:
            raise ConfigError("HTTP_TIMEOUT", "a number of seconds between 0 and 300")

        def whole(name: str, default: str, low: int, high: int, what: str) -> int:
            value = get(name, default)
            if not value.isdigit() or not low <= int(value) <= high:
                raise ConfigError(name, f"{what} ({low}-{high}), not {value!r}")
            return int(value)

        def megabytes(name: str, default: str) -> int:
            return whole(name, default, 1, 1024, "a whole number of megabytes") * 1024 * 1024

        client_id = setting(
            "IAM_CLIENT_ID", "the client id eHealth registered for this app in the healthcare realm"
        )
        public_client_id = get("IAM_PUBLIC_CLIENT_ID", defaults.get("IAM_PUBLIC_CLIENT_ID", ""))
        allowed = (
            tuple(get("API_ALLOWED_CLIENTS").split(","))
            if get("API_ALLOWED_CLIENTS")
            else tuple(c for c in (client_id, public_client_id) if c)
        )
        origins = tuple(o.strip().rstrip("/") for o in get("CORS_ORIGINS").split(",") if o.strip())
        for origin in origins:
            _url("CORS_ORIGINS", origin)
        # Redirect URIs match exactly: validated as URLs, kept as written (trailing slash too).
        extra_redirects = tuple(
            uri.strip() for uri in get("SANDBOX_PUBLIC_REDIRECT_URIS").split(",") if uri.strip()
        )
        for uri in extra_redirects:
            _url("SANDBOX_PUBLIC_REDIRECT_URIS", uri)

        redis_url = get("REDIS_URL")
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(
                "REDIS_URL", f"a redis://, rediss:// or unix:// URL, not {redis_url!r}"
            )
        log_format = get("LOG_FORMAT", "json").lower()
        if log_format not in ("json", "text"):
            raise ConfigError("LOG_FORMAT", f"json or text, not {log_format!r}")
        # The onboarding page is for the integrator, not for the doctors: off outside the sandbox.
        onboarding_page = get("ONBOARDING_PAGE", "on" if sandbox else "off").lower()
        if onboarding_page not in ("on", "off"):
            raise ConfigError("ONBOARDING_PAGE", f"on or off, not {onboarding_page!r}")
        # Anyone may call the sandbox's fault injection: in a shared demo, anyone could break
        # everyone's sends. Off unless the tests or the bench start the sandbox.
        sandbox_faults = get("SANDBOX_FAULTS", "off").lower()
        if sandbox_faults not in ("on", "off"):
            raise ConfigError("SANDBOX_FAULTS", f"on or off, not {sandbox_faults!r}")

        access_seconds = whole(
            "SANDBOX_ACCESS_TOKEN_SECONDS", "300", 31, 86400, "a number of seconds"
        )
        refresh_seconds = whole(
            "SANDBOX_REFRESH_TOKEN_SECONDS", "1800", access_seconds, 86400, "a number of seconds"
        )
        refresh_reuse = whole(
            "SANDBOX_REFRESH_TOKEN_MAX_REUSE", "0", 0, 10, "how often a used refresh token works"
        )
        max_entries = whole(
            "SESSION_STORE_MAX_ENTRIES", "100000", 10, 10_000_000, "a number of entries"
        )
        upstream_calls = whole("UPSTREAM_CALLS", "8", 1, 1000, "a number of calls")
        drafts_dir = get("DRAFTS_DIR")
        if drafts_dir and not Path(drafts_dir).is_absolute():
            raise ConfigError("DRAFTS_DIR", f"an absolute folder path, not {drafts_dir!r}")

        return cls(
            env=env,
            public_url=public_url,
            secret_key=secret_key,
            iam_issuer=_url("IAM_ISSUER", get("IAM_ISSUER", f"{base}/realms/healthcare")),
            iam_m2m_issuer=_url("IAM_M2M_ISSUER", get("IAM_M2M_ISSUER", f"{base}/realms/M2M")),
            iam_client_id=client_id,
            iam_public_client_id=public_client_id,
            iam_m2m_client_id=get("IAM_M2M_CLIENT_ID", defaults.get("IAM_M2M_CLIENT_ID", "")),
            iam_scopes=get("IAM_SCOPES", "openid ehbox"),
            iam_client_auth=client_auth,
            iam_client_secret=client_secret,
            etee_keystore=setting(
                "ETEE_KEYSTORE", "the path of the eHealth PKCS#12 keystore (.p12 or .acc-p12)"
            ),
            etee_keystore_password=setting("ETEE_KEYSTORE_PASSWORD", "the keystore's password"),
            etee_key_alias=get("ETEE_KEY_ALIAS", "authentication"),
            etee_key_id=get("ETEE_KEY_ID"),
            etee_identifier=identifier,
            etee_identifier_type=identifier_type,
            etee_application_id=get("ETEE_APPLICATION_ID"),
            etee_next_keystore=get("ETEE_NEXT_KEYSTORE"),
            etee_next_keystore_password=get("ETEE_NEXT_KEYSTORE_PASSWORD"),
            etee_previous_keystores=tuple(
                p.strip() for p in get("ETEE_PREVIOUS_KEYSTORES").split(",") if p.strip()
            ),
            etee_previous_keystores_password=get("ETEE_PREVIOUS_KEYSTORES_PASSWORD"),
            etee_personal_keystores=get("ETEE_PERSONAL_KEYSTORES"),
            etee_personal_keystores_password=get(
                "ETEE_PERSONAL_KEYSTORES_PASSWORD",
                defaults.get("ETEE_PERSONAL_KEYSTORES_PASSWORD", ""),
            ),
            etee_jwks_base=_url(
                "ETEE_JWKS_BASE", get("ETEE_JWKS_BASE", defaults["ETEE_JWKS_BASE"])
            ),
            ehbox_api_url=ehbox_api_url,
            ehbox_audience=get("EHBOX_AUDIENCE", defaults.get("EHBOX_AUDIENCE", "")),
            addressbook_api_url=_url(
                "ADDRESSBOOK_API_URL", get("ADDRESSBOOK_API_URL", defaults["ADDRESSBOOK_API_URL"])
            ),
            addressbook_audience=get("ADDRESSBOOK_AUDIENCE"),
            ehealth_user_agent=get("EHEALTH_USER_AGENT", "ehbox-webapp/0.1.0"),
            ehealth_from=setting(
                "EHEALTH_FROM", "an operational contact e-mail address, sent as the From header"
            ),
            http_timeout=http_timeout,
            max_upload_bytes=megabytes("MAX_UPLOAD_MB", str(PLATFORM_MAX_MESSAGE_MB)),
            sandbox_max_message_bytes=megabytes(
                "SANDBOX_MAX_MESSAGE_MB", str(PLATFORM_MAX_MESSAGE_MB)
            ),
            sandbox_public_redirect_uris=extra_redirects,
            api_allowed_clients=allowed,
            cors_origins=origins,
            redis_url=redis_url,
            log_format=log_format,
            onboarding_page=onboarding_page == "on",
            sandbox_faults=sandbox_faults == "on",
            trusted_proxies=whole(
                "TRUSTED_PROXIES", "0", 0, 10, "the number of proxies in front of the app"
            ),
            rate_limit_login=_rate("RATE_LIMIT_LOGIN", get("RATE_LIMIT_LOGIN", "20/minute")),
            rate_limit_send=_rate("RATE_LIMIT_SEND", get("RATE_LIMIT_SEND", "30/minute")),
            rate_limit_actions=_rate("RATE_LIMIT_ACTIONS", get("RATE_LIMIT_ACTIONS", "120/minute")),
            sandbox_access_token_seconds=access_seconds,
            sandbox_refresh_token_seconds=refresh_seconds,
            session_store_max_entries=max_entries,
            sandbox_refresh_token_max_reuse=refresh_reuse,
            upstream_calls=upstream_calls,
            drafts_dir=drafts_dir,
        )

    def setting_for(self, url: str) -> str:
        """The setting that decides where `url` points, to name in a message.

        In the sandbox the realms and the eHealthBox are served by the app, so their
        default URLs follow PUBLIC_URL (and PORT): that is the setting to name then.
        """
        sandbox = f"{self.public_url}{SANDBOX_MOUNT}"
        bases = (  # (URL, its setting, its sandbox default)
            (self.iam_m2m_issuer, "IAM_M2M_ISSUER", f"{sandbox}/auth/realms/M2M"),
            (self.iam_issuer, "IAM_ISSUER", f"{sandbox}/auth/realms/healthcare"),
            (self.ehbox_api_url, "EHBOX_API_URL", f"{sandbox}/ehealthbox/v1"),
            (
                self.addressbook_api_url,
                "ADDRESSBOOK_API_URL",
                f"{sandbox}{SANDBOX_ADDRESSBOOK_PATH}",
            ),
            (self.etee_jwks_base, "ETEE_JWKS_BASE", f"{sandbox}{SANDBOX_ETEE_JWKS_PATH}"),
        )
        for base, name, default in bases:
            if base and (url == base or url.startswith((base + "/", base + "?"))):
                return "PUBLIC_URL" if self.is_sandbox and base == default else name
        return "PUBLIC_URL"

    def keystore_path(self, root: Path) -> Path:
        path = Path(self.etee_keystore)
        return path if path.is_absolute() else root / path

    def personal_keystores_path(self, root: Path, instance_path: Path) -> Path | None:
        """The folder of personal keystores; in the sandbox, where it exports its personas'."""
        if self.etee_personal_keystores:
            path = Path(self.etee_personal_keystores)
            return path if path.is_absolute() else root / path
        return instance_path / SANDBOX_PERSONAS_FOLDER if self.is_sandbox else None

    def drafts_path(self, instance_path: Path) -> Path:
        """Where drafts live: `DRAFTS_DIR` (one folder shared by every instance), else
        `<instance>/drafts`."""
        return Path(self.drafts_dir) if self.drafts_dir else instance_path / "drafts"

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (tests, CLI overrides)."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **changes)


def _rate(variable: str, value: str) -> str:
    """A rate limit as Flask-Limiter writes it: `20/minute`, `100 per hour;5/second`."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            variable, f"a rate such as 20/minute or 100 per hour;5/second, not {value!r}"
        ) from None
    return value


def _url(variable: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            variable, f"an absolute http(s) URL without query or fragment, not {value!r}"
        )
    return value.rstrip("/")
