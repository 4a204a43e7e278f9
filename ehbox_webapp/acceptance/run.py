"""One acceptance run: its options, the identities taking part, and what the scenarios share.

Scenarios are plain functions of a :class:`Run` that return a one-line detail
(passed), or raise :class:`Fail` (a check did not hold) or :class:`Skip` (not
applicable, with the reason). The detail is written to the report: it names
identifiers, sizes, codes and request ids, never tokens or message contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import requests

from ..config import Settings
from ..ehealth.ehealthbox import BoxId, EhealthboxClient, NewMessage, Recipient, SendResult
from ..ehealth.iam import IamClient
from ..ehealth.keystore import SigningIdentity
from .content import TestContent
from .identities import TokenSource
from .recorder import Recorder

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
M2M, USER = "m2m", "user"
# A valid INSS (check digits hold) that has no eHealthBox in the sandbox; give another
# with --unknown-inss if it ever exists in acceptance.
UNKNOWN_INSS = "70020234512"


class Fail(Exception):
    """A check of the scenario did not hold; the message is the report's detail."""


class Skip(Exception):
    """The scenario does not apply to this run; the message says why."""


@dataclass(frozen=True)
class Scenario:
    """A step of the run. `needs`: scenarios that must have passed, else this is skipped."""

    id: str
    title: str
    run: Callable[[Run], str]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScenarioResult:
    id: str
    title: str
    verdict: str
    detail: str
    started_at: datetime
    ended_at: datetime

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RunOptions:
    """What the command line chose. `user_token`: an access token the user obtained."""

    run_as: str = M2M
    persona: str = "dr-alice"
    user_token: str | None = field(default=None, repr=False)
    second_box: Recipient | None = None
    too_large_bytes: int | None = None
    too_large_note: str = ""  # why there is no too-large test, when too_large_bytes is None
    unknown_inss: str = UNKNOWN_INSS
    wait_seconds: float = 20.0  # how long to wait for a message or receipt to show up


@dataclass
class Party:
    """An identity of the run: the run's own (`me`) or the receiving one (`other`).

    `kind` is m2m, user, or box (a box given with --second-box: no token, no access).
    """

    kind: str
    client: EhealthboxClient | None = None
    box: BoxId | None = None
    inbox_id: str | None = None  # the run's message in this party's INBOX, once found
    inbox_folder: str = "INBOX"  # where that copy is now (the move scenario changes it)
    read: bool = False  # this party read the run's message (READ receipt expected)

    def api(self) -> EhealthboxClient:
        """This party's eHealthBox client; Skip when the run has no access to the box."""
        if self.client is None:
            raise Skip(f"no access to the receiving box {self.box} (given with --second-box)")
        return self.client

    def recipient(self) -> Recipient:
        if self.box is None:
            raise Skip("the box of this identity is not known")
        return Recipient(self.box.id, self.box.type, self.box.quality, self.box.sub_type)


@dataclass
class Run:
    """Everything the scenarios of one run share."""

    settings: Settings
    options: RunOptions
    signing_identity: SigningIdentity
    recorder: Recorder
    content: TestContent
    started_at: datetime
    me: Party
    other: Party | None = None
    http: requests.Session = field(init=False)
    secrets: set[str] = field(default_factory=set, repr=False)  # tokens and codes obtained
    message: NewMessage | None = None
    sent: SendResult | None = None
    sentbox_folder: str = "SENTBOX"
    results: list[ScenarioResult] = field(default_factory=list)
    # What the operator must know beyond the verdicts (an absent recipient and what was done)
    notes: list[str] = field(default_factory=list)
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        self.http = self.recorder.session()

    def iam(self, kind: str) -> IamClient:
        """The I.AM client of the healthcare (user) or M2M realm, on the recorded session."""
        s = self.settings
        issuer, client_id = (
            (s.iam_m2m_issuer, s.iam_m2m_client_id)
            if kind == M2M
            else (s.iam_issuer, s.iam_client_id)
        )
        return IamClient(
            issuer,
            client_id,
            http=self.http,
            identity=self.signing_identity,
            timeout=s.http_timeout,
        )

    def ehealthbox(self, tokens: TokenSource) -> EhealthboxClient:
        return EhealthboxClient(
            self.settings.ehbox_api_url,
            tokens,
            session=self.http,
            timeout=self.settings.http_timeout,
            # The run proves the platform's own 801: nothing is refused before sending.
            max_message_bytes=None,
        )

    def sent_message(self) -> tuple[NewMessage, SendResult]:
        """The run's message and the send's answer; Skip when it was not sent."""
        if self.message is None or self.sent is None:
            raise Skip("the run's message was not sent")
        return self.message, self.sent

    def verdict(self, scenario_id: str) -> str | None:
        return next((r.verdict for r in self.results if r.id == scenario_id), None)

    def must_not_appear(self) -> list[str]:
        """What the report may never contain: tokens, codes, the keystore password, contents."""
        return sorted(self.secrets) + [
            self.settings.etee_keystore_password,
            *self.content.sensitive_texts(),
        ]
