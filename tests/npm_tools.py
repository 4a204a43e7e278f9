"""Test tools from npm, each pinned by a committed package-lock.json under tests/<tool>/.

`.ci/run` installs them with `npm ci`; on a laptop the first test that needs one runs
`npm ci` itself, or skips with the reason when npm is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NPM_CI_TIMEOUT = 600


def npm_installed(folder: Path, package: str) -> Path:
    """`folder`'s node_modules with `package` in it (`npm ci` once if needed), or skip."""
    modules = folder / "node_modules"
    if not (modules / package / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(
                f"{modules} is missing and npm is not installed to create it "
                f"(run `npm ci` in {folder.relative_to(folder.parents[1])})"
            )
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=folder,  # noqa: S603 - npm from PATH, fixed arguments
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {folder} failed:\n{result.stdout}\n{result.stderr}")
    return modules
