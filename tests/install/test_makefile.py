"""`make demo` installs what the demo needs and nothing for testing; `make test` installs the test extras."""

from __future__ import annotations

import re
import subprocess

from tests.install.conftest import REPO


def _install_lines(target: str, tmp_path) -> list[str]:
    """The pip install commands `make TARGET` would run for a fresh venv (dry run: nothing is executed)."""
    out = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=REPO, capture_output=True,
                         text=True, check=True, timeout=60).stdout  # fmt: skip
    return [line for line in out.splitlines() if re.search(r"pip install .*-e ", line)]


def _extras(line: str) -> set[str]:
    match = re.search(r"\.\[([a-z,]+)\]", line)
    return set(match[1].split(",")) if match else set()


def test_make_demo_installs_only_the_runtime_and_the_demo_extra(tmp_path):
    lines = _install_lines("demo", tmp_path)
    assert len(lines) == 1, lines
    assert _extras(lines[0]) == {"demo"}


def test_make_test_installs_the_test_extras(tmp_path):
    lines = _install_lines("test", tmp_path)
    assert lines and "test" in set().union(*map(_extras, lines))


def test_the_makefile_looks_for_a_new_enough_python_itself():
    text = (REPO / "Makefile").read_text()
    assert re.search(r"python3\.13 python3\.12 .*pyenv/versions", text, re.S)
