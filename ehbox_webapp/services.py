"""The composition root: builds the framework-neutral eHealth clients from the settings.

The Flask app keeps one :class:`Services` in `app.extensions["services"]`; the CLI
builds its own. Nothing here imports Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from .config import ConfigError, Settings
from .ehealth.addressbook import AddressBookClient
from .ehealth.etee.directory import EteeDirectory
from .ehealth.etee.keys import KeyProviders, OrganisationKeys, PersonalKeystores
from .ehealth.http import GatedAdapter, build_session
from .ehealth.iam import IamClient, JwksCache, TokenExchanger
from .ehealth.keystore import (
    AliasNotFound,
    EteeKeystore,
    KeystoreError,
    SigningIdentity,
    WrongPassword,
    build_jwks,
    generate_keystore,
)
from .ehealth.revocation import EndedSessions
from .mailbox.drafts import DraftStore
from .stores import SessionStore, store_from_url

log = logging.getLogger(__name__)

SANDBOX_ORGANISATION = "Sandbox Medical Software NV"


@dataclass
class Services:
    """Everything that talks to eHealth, built once per process."""

    settings: Settings
    http: requests.Session
    identity: SigningIdentity
    next_identity: SigningIdentity | None
    iam: IamClient
    m2m: IamClient | None
    exchanger: TokenExchanger
    store: SessionStore
    directory: EteeDirectory | None = None  # encryption certificates (ETEE JWKS, use=enc)
    keys: KeyProviders | None = None  # who signs and decrypts for a box (ETEE)
    drafts: DraftStore | None = None  # the messages being composed, in the instance folder

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        root: Path,
        instance_path: Path,
        store: SessionStore | None = None,
    ) -> Services:
        keystore_path = settings.keystore_path(root)
        if settings.is_sandbox and not keystore_path.exists():
            ensure_sandbox_keystore(settings, root)
        identity = load_identity(
            keystore_path,
            settings.etee_keystore_password,
            settings.etee_key_alias,
            "ETEE_KEYSTORE",
            kid=settings.etee_key_id or None,
        )
        next_identity = None
        if settings.etee_next_keystore:
            next_identity = load_identity(
                settings.keystore_path(root).parent / settings.etee_next_keystore
                if not Path(settings.etee_next_keystore).is_absolute()
                else Path(settings.etee_next_keystore),
                settings.etee_next_keystore_password,
                settings.etee_key_alias,
                "ETEE_NEXT_KEYSTORE",
            )
        http = build_session(
            settings.ehealth_user_agent,
            settings.ehealth_from,
            timeout=settings.http_timeout,
            pool_size=max(10, 4 * settings.upstream_calls),  # kept connections, one host
        )
        limit_calls(http, settings)
        jwks = JwksCache(http, settings.http_timeout)
        store = store or store_from_url(settings.redis_url, settings.session_store_max_entries)
        iam = IamClient(
            settings.iam_issuer,
            settings.iam_client_id,
            http=http,
            identity=identity,
            timeout=settings.http_timeout,
            jwks=jwks,
            client_auth=settings.iam_client_auth,
            client_secret=settings.iam_client_secret,
            ended_sessions=EndedSessions(store),
        )
        m2m = None
        if settings.iam_m2m_client_id:
            m2m = IamClient(
                settings.iam_m2m_issuer,
                settings.iam_m2m_client_id,
                http=http,
                identity=identity,
                timeout=settings.http_timeout,
                jwks=jwks,
            )
        directory = EteeDirectory(settings.etee_jwks_base, http, timeout=settings.http_timeout)
        keys = key_providers(settings, root, instance_path, identity)
        return cls(
            settings=settings,
            http=http,
            identity=identity,
            next_identity=next_identity,
            iam=iam,
            m2m=m2m,
            exchanger=TokenExchanger(iam, store=store),
            store=store,
            directory=directory,
            keys=keys,
            drafts=DraftStore(settings.drafts_path(instance_path), settings.max_upload_bytes),
        )

    def jwks(self) -> dict:
        """The public keys of the signing certificate(s): what the JWKS URL serves."""
        return build_jwks(i for i in (self.identity, self.next_identity) if i is not None)

    def ehealthbox_token(self, user_access_token: str) -> str:
        """A token meant for eHealthBox: exchanged when `EHBOX_AUDIENCE` is set."""
        if not self.settings.ehbox_audience:
            return user_access_token
        return self.exchanger.token_for(user_access_token, self.settings.ehbox_audience)

    def ehealthbox(self, token_provider: Callable[[], str]):
        """An eHealthBox client that authenticates with `token_provider()` on each call."""
        from .ehealth.ehealthbox import EhealthboxClient

        return EhealthboxClient(
            self.settings.ehbox_api_url,
            token_provider,
            session=self.http,
            timeout=self.settings.http_timeout,
            max_message_bytes=self.settings.max_upload_bytes,
        )

    def addressbook_token(self, user_access_token: str) -> str:
        """A token meant for the AddressBook: exchanged when `ADDRESSBOOK_AUDIENCE` is set,
        else the eHealthBox's (the sandbox's address book accepts that audience)."""
        audience = self.settings.addressbook_audience
        if not audience:
            return self.ehealthbox_token(user_access_token)
        return self.exchanger.token_for(user_access_token, audience)

    def addressbook(self, token_provider: Callable[[], str]) -> AddressBookClient:
        """An AddressBook client that authenticates with `token_provider()` on each call."""
        return AddressBookClient(
            self.settings.addressbook_api_url,
            token_provider,
            session=self.http,
            timeout=self.settings.http_timeout,
        )


def limit_calls(http: requests.Session, settings: Settings) -> None:
    """At most `UPSTREAM_CALLS` calls under way at once to each upstream, per process
    (`ehealth.http.GatedAdapter`): a slow one never holds every thread of the server."""
    adapter = http.get_adapter("https://")  # build_session mounts one adapter for both schemes
    if not isinstance(adapter, GatedAdapter):
        return
    for name, prefix in (
        ("eHealthBox", settings.ehbox_api_url),
        ("I.AM Connect (healthcare realm)", settings.iam_issuer),
        ("I.AM Connect (M2M realm)", settings.iam_m2m_issuer),
        ("ETEE key directory", settings.etee_jwks_base),
    ):
        adapter.limit(name, prefix, settings.upstream_calls)


def load_identity(
    path: Path, password: str, alias: str, variable: str, kid: str | None = None
) -> SigningIdentity:
    """Open the keystore and pick the signing entry, or stop with a one-line ConfigError."""
    try:
        return EteeKeystore.load(path, password).signing_identity(alias, kid=kid)
    except WrongPassword as exc:
        raise ConfigError(f"{variable}_PASSWORD", str(exc)) from None
    except AliasNotFound as exc:
        raise ConfigError("ETEE_KEY_ALIAS", str(exc)) from None
    except KeystoreError as exc:
        raise ConfigError(variable, str(exc)) from None


def key_providers(
    settings: Settings, root: Path, instance_path: Path, identity: SigningIdentity
) -> KeyProviders:
    """The organisation's keys (current, next, previous keystores), then the personal folder."""
    main = settings.keystore_path(root)

    def beside_main(name: str) -> Path:  # relative paths are read from ETEE_KEYSTORE's folder
        return Path(name) if Path(name).is_absolute() else main.parent / name

    files = [("ETEE_KEYSTORE", main, settings.etee_keystore_password)]
    if settings.etee_next_keystore:
        files.append(
            (
                "ETEE_NEXT_KEYSTORE",
                beside_main(settings.etee_next_keystore),
                settings.etee_next_keystore_password,
            )
        )
    previous_password = settings.etee_previous_keystores_password or settings.etee_keystore_password
    files += [
        ("ETEE_PREVIOUS_KEYSTORES", beside_main(name), previous_password)
        for name in settings.etee_previous_keystores
    ]
    keystores = []
    for variable, path, password in files:
        try:
            keystores.append(EteeKeystore.load(path, password))
        except WrongPassword as exc:
            raise ConfigError(f"{variable}_PASSWORD", str(exc)) from None
        except KeystoreError as exc:
            raise ConfigError(variable, str(exc)) from None
    providers: list = [
        OrganisationKeys(
            settings.etee_identifier_type, settings.etee_identifier, identity, keystores
        )
    ]
    folder = settings.personal_keystores_path(root, instance_path)
    if folder is not None:
        providers.append(PersonalKeystores(folder, settings.etee_personal_keystores_password))
    return KeyProviders(*providers)


def ensure_sandbox_keystore(settings: Settings, root: Path) -> Path:
    """Generate the sandbox keystore (same structure as eHealth's) when it is missing."""
    path = settings.keystore_path(root)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("generating the sandbox keystore at %s", path)
    return generate_keystore(
        path,
        settings.etee_keystore_password,
        identifier=settings.etee_identifier,
        identifier_type=settings.etee_identifier_type,
        name=SANDBOX_ORGANISATION,
        application_id=settings.etee_application_id or None,
    )
