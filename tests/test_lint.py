"""The code base stays ruff clean: part of the test command so CI enforces it."""

from __future__ import annotations

import shutil
import subprocess
import sys

from bot import PROJECT_DIR


def test_ruff_clean():
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    result = subprocess.run([*command, "check", "bot", "tests", "bench", "scripts"],
                            capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
