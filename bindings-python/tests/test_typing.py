"""The stubs and annotations of everything public pass `mypy --strict`, on the package and
on a usage file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("target", [["-p", "redkit"], [str(HERE / "typed_usage.py")]], ids=["package", "usage"])
def test_mypy_strict(target: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *target],
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
