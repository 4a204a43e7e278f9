"""Records every HTTP exchange of an acceptance run, without tokens or contents.

What eHealth asks of the report is that they can find the traffic: method,
path, status, duration and the request id the server returned. Query strings
are dropped (they carry codes and `state` on the login path) except the paging
and folder parameters of eHealthBox calls, which say what was listed.

Recording happens in the transport adapter, not in a session hook: the I.AM
client sends its token requests through authlib's own session, which borrows
our adapters (`IamClient._oauth`) but not our hooks. A connection that fails
is recorded too, with no status.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

from ..ehealth.http import build_session

SAFE_QUERY_KEYS = {"source", "startIndex", "endIndex"}
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Correlation-Id", "X-B3-TraceId", "traceparent")


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP exchange: where it went, how it ended, and the server's request id."""

    at: str  # when the request started (UTC, ISO 8601)
    method: str
    host: str
    path: str
    status: int | None  # None: no answer (connection refused, timeout)
    duration_ms: int  # until the answer's headers (a download's body is not counted)
    request_id: str | None
    scenario: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def safe_path(url: str) -> tuple[str, str]:
    """(host, path with only the safe query parameters) of a URL."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in SAFE_QUERY_KEYS]
    return parts.netloc, parts.path + (f"?{urlencode(query)}" if query else "")


class Recorder:
    """Builds sessions whose every exchange is recorded under the current scenario."""

    def __init__(self, user_agent: str, from_address: str, timeout: float):
        self.records: list[RequestRecord] = []
        self.scenario = "setup"
        self._user_agent, self._from, self._timeout = user_agent, from_address, timeout

    def session(self) -> requests.Session:
        """A session like `build_session`'s (User-Agent, From, timeout) that records."""
        session = build_session(self._user_agent, self._from, timeout=self._timeout)
        adapter = _RecordingAdapter(self, pool_connections=4, pool_maxsize=10, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def add(
        self,
        request: requests.PreparedRequest,
        started_at: datetime,
        started: float,
        response: requests.Response | None,
    ) -> None:
        host, path = safe_path(request.url or "")
        request_id = None
        if response is not None:
            request_id = next(
                (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
            )
        self.records.append(
            RequestRecord(
                at=started_at.isoformat(timespec="milliseconds"),
                method=request.method or "",
                host=host,
                path=path,
                status=None if response is None else response.status_code,
                duration_ms=round((time.monotonic() - started) * 1000),
                request_id=request_id,
                scenario=self.scenario,
            )
        )


class _RecordingAdapter(HTTPAdapter):
    def __init__(self, recorder: Recorder, **kwargs: Any):
        super().__init__(**kwargs)
        self._recorder = recorder

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        started_at, started = datetime.now(UTC), time.monotonic()
        try:
            response = super().send(request, *args, **kwargs)
        except requests.RequestException:
            self._recorder.add(request, started_at, started, None)
            raise
        self._recorder.add(request, started_at, started, response)
        return response
