"""What the integration tests share: the command line run as a new user runs it, in a
process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cmsbot(*args: str, database: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python -m cmsbot.cli ARGS` on the store at `database`; raises when it fails, unless
    `check` is false."""
    env = {**os.environ, "CMSBOT_DATABASE_URL": database}
    return subprocess.run([sys.executable, "-m", "cmsbot.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=check)
