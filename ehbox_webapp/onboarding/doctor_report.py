"""The doctor's report: one :class:`CheckResult` per check, and what the checks share.

Every doctor module imports this one, and none imports another's checks back: the checks
(`doctor`, `doctor_app`, `doctor_net`, `doctor_tokens`) depend on the report only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..ehealth.keystore import SigningIdentity

OK, WARNING, FAIL = "ok", "warning", "FAIL"


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report."""

    status: str  # ok | warning | FAIL
    check: str
    found: str
    todo: str = ""

    def line(self) -> str:
        todo = f" — {self.todo}" if self.todo else ""
        return f"{self.status:<7}  {self.check}: {self.found}{todo}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class KeyState:
    """What the keystore checks learned, for the checks that sign or compare keys."""

    identity: SigningIdentity | None = None  # the key, even when its certificate is not valid
    valid: bool = False  # the certificate is valid now: assertions can be signed with it
    reason: str = "the keystore did not open"


def skipped(check: str, reason: str) -> CheckResult:
    return CheckResult(WARNING, check, f"not checked: {reason}")


def exit_code(results: list[CheckResult]) -> int:
    """1 when any check failed, else 0 (warnings do not fail)."""
    return 1 if any(r.status == FAIL for r in results) else 0
