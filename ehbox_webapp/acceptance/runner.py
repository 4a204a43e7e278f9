"""Runs the scenarios in order and collects their verdicts; no web framework here.

A scenario whose prerequisites did not pass is skipped with the reason; one that
fails does not stop the others. Errors become one-line details: a scenario never
ends the run with a traceback.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from ..config import Settings
from ..ehealth.ehealthbox import EhealthboxError
from ..ehealth.iam import IamError
from ..ehealth.keystore import SigningIdentity
from .content import TestContent
from .recorder import Recorder
from .run import (
    FAILED,
    PASSED,
    SKIPPED,
    Fail,
    Party,
    Run,
    RunOptions,
    Scenario,
    ScenarioResult,
    Skip,
)
from .scenarios import SCENARIOS, describe

log = logging.getLogger(__name__)


def run_acceptance(
    settings: Settings,
    signing_identity: SigningIdentity,
    options: RunOptions,
    *,
    progress: Callable[[ScenarioResult], None] | None = None,
) -> Run:
    """Run every scenario against the configured environment; returns the finished run."""
    run = Run(
        settings=settings,
        options=options,
        signing_identity=signing_identity,
        recorder=Recorder(
            settings.ehealth_user_agent, settings.ehealth_from, settings.http_timeout
        ),
        content=TestContent(secrets.token_hex(4)),
        started_at=_now(),
        me=Party(options.run_as),
    )
    for scenario in SCENARIOS:
        result = run_scenario(run, scenario)
        run.results.append(result)
        if progress is not None:
            progress(result)
    run.ended_at = _now()
    return run


def run_scenario(run: Run, scenario: Scenario) -> ScenarioResult:
    run.recorder.scenario = scenario.id
    started = _now()
    blocked = [(n, run.verdict(n)) for n in scenario.needs if run.verdict(n) != PASSED]
    if blocked:
        reason = ", ".join(f"{n} {verdict or 'did not run'}" for n, verdict in blocked)
        verdict, detail = SKIPPED, f"needs {reason}"
    else:
        verdict, detail = _attempt(run, scenario)
    return ScenarioResult(scenario.id, scenario.title, verdict, detail, started, _now())


def _attempt(run: Run, scenario: Scenario) -> tuple[str, str]:
    try:
        return PASSED, scenario.run(run)
    except Skip as exc:
        return SKIPPED, str(exc)
    except Fail as exc:
        return FAILED, str(exc)
    except (EhealthboxError, IamError) as exc:
        return FAILED, describe(exc)
    except Exception as exc:  # noqa: BLE001 - one scenario's bug must not end the run
        # Only the class goes to the report: an arbitrary message may quote a URL or a body.
        log.debug("acceptance scenario %s raised", scenario.id, exc_info=True)
        return FAILED, f"unexpected error: {describe(exc)}"


def summary(run: Run) -> dict[str, int | str]:
    counts = {v: sum(r.verdict == v for r in run.results) for v in (PASSED, FAILED, SKIPPED)}
    return {"total": len(run.results), **counts, "verdict": FAILED if counts[FAILED] else PASSED}


def exit_code(run: Run) -> int:
    """0 when every scenario passed or was skipped for a stated reason, 1 when one failed."""
    return 1 if summary(run)[FAILED] else 0


def _now() -> datetime:
    return datetime.now(UTC)
