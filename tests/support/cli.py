"""Running the real `copqa` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COPQA = Path(sys.executable).with_name("copqa")


def run_copqa(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COPQA_HOME": str(home), **(env or {})}
    return subprocess.run(
        [str(COPQA), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
