"""A framework-neutral client of eHealth's AddressBook: professionals and organisations.

It speaks the contract through `rest.py` only (INFERRED, see there), gets a Bearer token
from `token_provider` for every request (as the eHealthBox client does), shares the pooled
session of `ehealth/http.py`, and retries its calls, all reads, on transient failures.
Every failure is an :class:`~.errors.AddressBookError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import requests

from ..http import NO_RETRY, RetryPolicy, call_with_retries, json_body_of
from . import errors, rest
from .models import (
    Organization,
    OrganizationContactInfo,
    Page,
    Professional,
    ProfessionalContactInfo,
)

log = logging.getLogger(__name__)

# The connectors ask for 100 at a time (MaxElements); more per page is refused here.
MAX_ELEMENTS = 100
PAGE_SIZE = 20


class AddressBookClient:
    """eHealth's AddressBook, reached over the (modelled) REST contract.

    `token_provider` is called before every request (it caches and refreshes); `session`
    should come from `ehealth.http.build_session`; `timeout` applies to connecting and to
    each wait for data; `retries` is the number of extra attempts on 429, 502, 503, 504
    (honouring Retry-After) and on connection errors.
    """

    def __init__(
        self,
        base_url: str,
        token_provider: Callable[[], str],
        *,
        session: requests.Session,
        timeout: float = 15,
        retries: int = 2,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = token_provider
        self._session = session
        self._retries = RetryPolicy(attempts=retries + 1) if retries > 0 else NO_RETRY

    # --- searches ----------------------------------------------------------------------------
    def search_professionals(
        self,
        *,
        last_name: str | None = None,
        first_name: str | None = None,
        profession: str | None = None,
        nihii: str | None = None,
        ssin: str | None = None,
        zip_code: str | None = None,
        city: str | None = None,
        offset: int = 0,
        max_elements: int = PAGE_SIZE,
    ) -> Page[Professional]:
        """One page of the professionals who match every criterion given.

        The address book folds case and accents and takes a name as its beginning
        ("vandenb" finds Vandenberghe; INFERRED, as the sandbox does).
        """
        criteria = rest.query(
            {
                "last_name": last_name,
                "first_name": first_name,
                "profession": profession,
                "nihii": nihii,
                "ssin": ssin,
                "zip_code": zip_code,
                "city": city,
            },
            rest.PROFESSIONAL_CRITERIA,
        )
        params = _search_params(criteria, offset, max_elements)
        return self._read(rest.PROFESSIONALS, params, rest.professionals_page_from_json)

    def search_organizations(
        self,
        *,
        name: str | None = None,
        type: str | None = None,  # noqa: A002 - the InstitutionType, as eHealth calls it
        nihii: str | None = None,
        cbe: str | None = None,
        ehp: str | None = None,
        zip_code: str | None = None,
        city: str | None = None,
        offset: int = 0,
        max_elements: int = PAGE_SIZE,
    ) -> Page[Organization]:
        """One page of the organisations who match every criterion given."""
        criteria = rest.query(
            {
                "name": name,
                "type": type,
                "nihii": nihii,
                "cbe": cbe,
                "ehp": ehp,
                "zip_code": zip_code,
                "city": city,
            },
            rest.ORGANIZATION_CRITERIA,
        )
        params = _search_params(criteria, offset, max_elements)
        return self._read(rest.ORGANIZATIONS, params, rest.organizations_page_from_json)

    def iter_professionals(
        self, *, page_size: int = MAX_ELEMENTS, limit: int | None = None, **criteria: Any
    ) -> Iterator[Professional]:
        """Every professional who matches, page by page (at most `limit`)."""
        yield from _pages(
            lambda offset: self.search_professionals(
                **criteria, offset=offset, max_elements=page_size
            ),
            limit,
        )

    def iter_organizations(
        self, *, page_size: int = MAX_ELEMENTS, limit: int | None = None, **criteria: Any
    ) -> Iterator[Organization]:
        """Every organisation that matches, page by page (at most `limit`)."""
        yield from _pages(
            lambda offset: self.search_organizations(
                **criteria, offset=offset, max_elements=page_size
            ),
            limit,
        )

    # --- contact information -----------------------------------------------------------------
    def professional_contact_info(
        self, *, ssin: str | None = None, nihii: str | None = None
    ) -> ProfessionalContactInfo:
        """One professional by INSS or NIHII: professions, addresses, eHealthBoxes.

        :class:`~.errors.NotFound` when the address book has nobody with it.
        """
        params = rest.query({"ssin": ssin, "nihii": nihii}, rest.PROFESSIONAL_CRITERIA)
        if not params:
            raise errors.InvalidCriteria("Give an INSS or a NIHII number.")
        return self._read(
            rest.PROFESSIONAL_CONTACT_INFO, params, rest.professional_contact_from_json
        )

    def organization_contact_info(
        self,
        *,
        nihii: str | None = None,
        cbe: str | None = None,
        ehp: str | None = None,
        type: str | None = None,  # noqa: A002 - the InstitutionType, as eHealth calls it
    ) -> OrganizationContactInfo:
        """One organisation by NIHII, CBE or EHP: names, type, addresses, eHealthBoxes."""
        ids = rest.query({"nihii": nihii, "cbe": cbe, "ehp": ehp}, rest.ORGANIZATION_CRITERIA)
        if not ids:
            raise errors.InvalidCriteria("Give a NIHII, CBE or EHP number.")
        params = {**ids, **rest.query({"type": type}, rest.ORGANIZATION_CRITERIA)}
        return self._read(
            rest.ORGANIZATION_CONTACT_INFO, params, rest.organization_contact_from_json
        )

    # --- plumbing ----------------------------------------------------------------------------
    def _read(self, path: str, params: dict[str, Any], parse: Callable[[Any], Any]) -> Any:
        url = self.base_url + path

        def send() -> requests.Response:
            return self._session.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {self._token()}", "Accept": "application/json"},
                timeout=self.timeout,
            )

        try:
            response = call_with_retries(send, self._retries)
        except (requests.ConnectionError, requests.Timeout) as exc:
            log.warning("AddressBook GET %s failed: %s", path, type(exc).__name__)
            raise errors.Unavailable(url=url) from exc
        if response.status_code >= 400:
            raise _error(response)
        try:
            return parse(json_body_of(response))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise errors.Unavailable(
                "The address book sent an unreadable answer.", status=response.status_code
            ) from exc


def _search_params(criteria: dict[str, str], offset: int, max_elements: int) -> dict[str, Any]:
    if not criteria:
        raise errors.InvalidCriteria("Give at least one search criterion.")
    if offset < 0 or not 1 <= max_elements <= MAX_ELEMENTS:
        raise errors.InvalidCriteria(
            f"A page starts at 0 or after and holds 1 to {MAX_ELEMENTS} entries."
        )
    return {**criteria, **rest.paging(offset, max_elements)}


def _error(response: requests.Response) -> errors.AddressBookError:
    try:
        body = response.json() if "json" in response.headers.get("Content-Type", "") else None
    except ValueError:
        body = None
    finally:
        response.close()
    error = rest.error_from_response(response.status_code, response.headers, body)
    log.info("AddressBook answered %s (request %s)", response.status_code, error.request_id)
    return error


def _pages(search: Callable[[int], Page], limit: int | None) -> Iterator[Any]:
    offset, given = 0, 0
    while True:
        page = search(offset)
        for item in page.items:
            if limit is not None and given >= limit:
                return
            given += 1
            yield item
        if page.next_offset is None:
            return
        offset = page.next_offset
