"""Shared HTTP plumbing for calls to eHealth: one session, identifying headers, retries.

eHealth requires `User-Agent` (product and version) and `From` (an operational
contact address) on its REST APIs (docs/ehealth-platform.md §1.9), so the
session sends them on every call. Every call gets a default timeout: a hung
platform must never hang a web worker.

Only idempotent calls may go through :func:`call_with_retries`: retrying a
request whose answer was lost would repeat its effect.

Each upstream (the eHealthBox, each realm, the key directory: `GatedAdapter.limit`) gets
at most a set number of calls under way at once per process. A call that finds them all
taken waits `wait` seconds for one, then is not sent (:class:`UpstreamBusy`, which the
clients answer as "unavailable"). So one slow upstream holds at most that many of the
server's threads, and the others (a health check, a page that needs another upstream, the
embedded sandbox answering the app's own calls) always find one.

Why not urllib3's `Retry` (which does honour `Retry-After` and status lists): the
caller decides per call whether it may be repeated (a send never is, its download is),
a retry must fit a total time budget (`max_total`, so a page never waits past its own
timeout), a read timeout may or may not be retried, and each retry is logged with the
eHealth request id. `Retry` has no time budget and retries inside the adapter, out of
the caller's sight; a loop of thirty lines keeps all of that visible and testable.
"""

from __future__ import annotations

import contextvars
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# The id of the request being served (set by the web layer); sent on every eHealth
# call so that one user action can be followed from the browser to eHealth.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


# What `EhealthSession.request` prepares itself; anything else goes through `requests`' own.
_PLAIN = frozenset({"params", "headers", "data", "json", "timeout", "stream"})


class EhealthSession(requests.Session):
    """A `requests.Session` with a default timeout for every request.

    A plain call (no cookies, auth, files or proxies of its own, in a session that does
    not read the environment: what `build_session` makes) is prepared here and handed to
    `Session.send`, as `Session.request` would after merging the session's settings into
    it. That merging (cookie jars, netrc, proxy variables, setting by setting) costs about
    90 µs of CPU a call, a fifth of the whole call on loopback; the hooks, the adapter,
    the answer and its errors are `requests`' own either way.
    """

    def __init__(self, default_timeout: float | tuple[float, float]):
        super().__init__()
        self.default_timeout = default_timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        request_id = REQUEST_ID.get()
        if request_id:
            kwargs["headers"] = {"X-Request-Id": request_id, **(kwargs.get("headers") or {})}
        if args or self.trust_env or self.cookies or self.auth or not kwargs.keys() <= _PLAIN:
            return super().request(method, url, *args, **kwargs)
        headers = CaseInsensitiveDict(self.headers)
        for name, value in (kwargs.get("headers") or {}).items():
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=method.upper() if isinstance(method, str) else method.decode().upper(),
            url=url,
            headers=headers,
            data=kwargs.get("data") or {},
            json=kwargs.get("json"),
            params={**self.params, **(kwargs.get("params") or {})},
            hooks=self.hooks,
        )
        stream = kwargs.get("stream")
        return self.send(
            prepared,
            timeout=kwargs["timeout"],
            allow_redirects=True,
            proxies=dict(self.proxies),
            stream=self.stream if stream is None else stream,
            verify=self.verify,
            cert=self.cert,
        )


def json_body_of(response: requests.Response) -> Any:
    """The answer's JSON body, read by orjson; ValueError when it is not JSON.

    A listing of 25 messages is read four times faster than by `response.json()`. A body
    orjson refuses but the standard library may read (UTF-16, an integer beyond 64 bits)
    is read by `response.json()`, so what is accepted does not change.
    """
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


class UpstreamBusy(requests.ConnectTimeout):
    """Every call allowed at once to this upstream is under way: this one was not sent."""


@dataclass
class Gate:
    """At most `calls` calls under way at once to the upstream at `prefix`."""

    name: str
    prefix: str
    calls: int
    wait: float
    _slots: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.calls)

    def enter(self, request: requests.PreparedRequest) -> None:
        if not self._slots.acquire(timeout=self.wait):
            log.warning("%s: %d calls under way, one more not sent", self.name, self.calls)
            raise UpstreamBusy(
                f"{self.name}: {self.calls} calls already under way", request=request
            )

    def leave(self) -> None:
        self._slots.release()


class GatedAdapter(HTTPAdapter):
    """An `HTTPAdapter` that lets at most `Gate.calls` calls at once through to each upstream
    set with :meth:`limit` (by URL prefix; the longest wins). A slot is held until the
    answer's headers arrive: a body streamed afterwards (a download) holds none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gates: list[Gate] = []

    def limit(self, name: str, prefix: str, calls: int, wait: float = 2.0) -> None:
        """At most `calls` calls at once to URLs under `prefix` (an empty prefix: none)."""
        if prefix and calls > 0:
            self.gates.append(Gate(name, prefix.rstrip("/"), calls, wait))
            self.gates.sort(key=lambda g: len(g.prefix), reverse=True)

    def _gate(self, url: str | None) -> Gate | None:
        for gate in self.gates:
            if url and (
                url == gate.prefix or url.startswith((gate.prefix + "/", gate.prefix + "?"))
            ):
                return gate
        return None

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any):  # type: ignore[override]
        gate = self._gate(request.url)
        if gate is None:
            return super().send(request, *args, **kwargs)
        gate.enter(request)
        try:
            return super().send(request, *args, **kwargs)
        finally:
            gate.leave()


def build_session(
    user_agent: str, from_address: str, *, timeout: float = 15.0, pool_size: int = 10
) -> EhealthSession:
    """A pooled session that identifies the application on every call.

    `pool_size` is the number of kept-alive connections per host: size it to the
    number of threads that call eHealth at once.
    """
    if not user_agent or not from_address:
        raise ValueError("eHealth needs both a User-Agent and a From header value.")
    session = EhealthSession(default_timeout=timeout)
    session.headers.update({"User-Agent": user_agent, "From": from_address})
    # No per-call look-up of proxy variables and netrc (it costs about 0.5 ms a call);
    # an outgoing proxy, when needed, is set explicitly from HTTPS_PROXY once, here.
    session.trust_env = False
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    if proxy:
        session.proxies = {"https": proxy}
    # Retries are ours (call_with_retries) so that they are visible and bounded;
    # urllib3's own retries stay off.
    adapter = GatedAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry an idempotent call.

    `attempts` counts the first try. Waits double from `backoff` (with jitter)
    up to `max_backoff`; a server's `Retry-After` wins when it is longer. No
    retry starts if it would end after `max_total` seconds from the first try.
    """

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_total: float = 30.0
    statuses: frozenset[int] = RETRYABLE_STATUSES
    retry_on_timeout: bool = True


NO_RETRY = RetryPolicy(attempts=1)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse `Retry-After` (delta-seconds or an HTTP date) into seconds to wait."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def call_with_retries(
    send: Callable[[], requests.Response],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> requests.Response:
    """Call `send()` (an idempotent request) and retry it on transient failures.

    Retries on the statuses of the policy (429, 502, 503, 504 by default) and
    on connection errors and timeouts. Returns the last response, retryable or
    not; re-raises the last connection error when the attempts run out.
    """
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            response = send()
        except (requests.ConnectionError, requests.Timeout) as exc:
            if isinstance(exc, requests.ReadTimeout) and not policy.retry_on_timeout:
                raise
            if isinstance(exc, UpstreamBusy):
                raise  # waiting longer for a slot would only hold this thread longer
            wait = _backoff(policy, attempt)
            if not _may_retry(policy, attempt, started, wait, clock):
                raise
            log.info(
                "eHealth call failed (%s); retry %d in %.1fs", type(exc).__name__, attempt, wait
            )
            sleep(wait)
            continue
        if response.status_code not in policy.statuses:
            return response
        wait = _backoff(policy, attempt)
        server_wait = retry_after_seconds(response.headers.get("Retry-After"))
        if server_wait is not None:
            wait = max(wait, server_wait) if server_wait > 0 else 0.0
        if not _may_retry(policy, attempt, started, wait, clock):
            return response
        log.info("eHealth answered %d; retry %d in %.1fs", response.status_code, attempt, wait)
        response.close()  # free the pooled connection before waiting
        sleep(wait)


class MultipartBody:
    """A streamed `multipart/form-data` body with a known length.

    `requests` would build the whole body in memory; this yields it part by part
    so large files are read from their source while being sent. Having `__len__`
    makes `requests` send a `Content-Length` (servers may refuse chunked uploads
    and check the size before reading).
    """

    def __init__(self, parts: list[tuple[str, str | None, str, Callable[[], Any], int]]):
        """`parts`: (name, filename or None, content type, chunk-iterator factory, size)."""
        self.boundary = "ehbox-" + "".join(random.choices("0123456789abcdef", k=24))  # noqa: S311
        self._parts = []
        for name, filename, content_type, chunks, size in parts:
            disposition = f'form-data; name="{_quote(name)}"'
            if filename is not None:
                disposition += f'; filename="{_quote(filename)}"'
            head = (
                f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            self._parts.append((head, chunks, size))
        self._tail = f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return sum(len(head) + size + 2 for head, _, size in self._parts) + len(self._tail)

    def __iter__(self):
        for head, chunks, _ in self._parts:
            yield head
            yield from chunks()
            yield b"\r\n"
        yield self._tail


def _quote(value: str) -> str:
    # Form-data names and file names travel in a quoted header parameter
    # (WHATWG HTML form encoding): escape the quote and line breaks.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    base = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
    return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not security


def _may_retry(
    policy: RetryPolicy, attempt: int, started: float, wait: float, clock: Callable[[], float]
) -> bool:
    return attempt < policy.attempts and clock() - started + wait <= policy.max_total
