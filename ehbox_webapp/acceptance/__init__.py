"""The eHealthBox acceptance run: the basic scenarios eHealth wants to see, and their report.

Before production, eHealth asks for a report of tests run in ACCEPTANCE that show
the eHealthBox service works (the seed procedure §3.3). This package runs those
scenarios against the configured environment, as the organisation (M2M) or a user,
and writes a JSON and an HTML report. It is framework-neutral: the command is
`ehbox_webapp/cli/acceptance.py`.

- `identities.py`: how the run gets its tokens;
- `content.py`: the message it sends;
- `run.py`: the options and the state the scenarios share;
- `scenarios.py`, `scenarios_message.py`: the scenarios, in order;
- `runner.py`: runs them; `recorder.py`: records the traffic; `report.py`: the files.
"""

from .report import write_report
from .run import M2M, USER, RunOptions
from .runner import exit_code, run_acceptance

__all__ = ["M2M", "USER", "RunOptions", "exit_code", "run_acceptance", "write_report"]
