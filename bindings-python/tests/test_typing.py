"""The stubs and annotations of everything public pass `mypy --strict`, on the package and
on usage files, and the README's cache snippets (typed_readme.py) pass `pyright --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    "target",
    [["-p", "redkit"], [str(HERE / "typed_usage.py")], [str(HERE / "typed_readme.py")]],
    ids=["package", "usage", "readme"],
)
def test_mypy_strict(target: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *target],
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyright_strict_on_the_readme_snippets() -> None:
    # Installed by scripts/test-python.sh (the PyPI wrapper fetches pyright from npm once):
    # a missing pyright fails the test rather than skip the check it makes.
    pyright = Path(sys.executable).parent / "pyright"
    assert pyright.exists(), f"pyright is not installed beside {sys.executable}: run scripts/test-python.sh"
    result = subprocess.run(
        [str(pyright), "--pythonpath", sys.executable, str(HERE / "typed_readme.py")],
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout, result.stdout
