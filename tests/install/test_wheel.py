"""The wheel alone runs every command: the `-s` scripts mitmproxy loads are package files, found where installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.install.conftest import Installed

VERDICT = re.compile(r"\b(?:401|403) (?:GET|POST) \S+\s+token-expired \((?:high|medium)\)")


@pytest.fixture(scope="module")
def demo_flows(installed: Installed) -> Path:
    """`apigw-doctor demo` from the installed wheel; its flow file feeds the other commands."""
    result = installed.run(installed.bin("apigw-doctor"), "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdicts match what the sandbox did" in result.stdout
    match = re.search(r"saved in (\S+\.mitm)", result.stdout)
    assert match, result.stdout
    return Path(match[1])


def test_the_package_runs_from_the_venv_not_the_checkout(installed: Installed):
    where = installed.run(installed.bin("python"), "-c", "import apigw_doctor.launch as l; print(l.ADDON_SCRIPT)")
    script = Path(where.stdout.strip())
    assert script.is_file() and script.is_relative_to(installed.venv), where
    assert "token-expired" in (script.parent.parent / "causes.py").read_text()


def test_demo_gives_verdicts(demo_flows: Path):
    assert demo_flows.is_file() and demo_flows.stat().st_size > 0


def test_dump_replays_a_flow_file_with_verdicts(installed: Installed, demo_flows: Path):
    result = installed.run(installed.bin("apigw-doctor"), "dump", "-n", "-r", demo_flows)
    assert result.returncode == 0, result.stderr
    assert VERDICT.search(result.stdout), result.stdout[-3000:]


def test_analyze_gives_verdicts(installed: Installed, demo_flows: Path):
    result = installed.run(installed.bin("apigw-doctor"), "analyze", demo_flows)
    assert result.returncode == 0, result.stderr
    assert "token-expired" in result.stdout, result.stdout[-3000:]


def test_plain_mitmdump_loads_the_installed_script(installed: Installed, demo_flows: Path):
    where = installed.run(installed.bin("python"), "-c", "import apigw_doctor.launch as l; print(l.ADDON_SCRIPT)")
    script = where.stdout.strip()
    result = installed.run(installed.bin("mitmdump"), "-n", "-r", demo_flows, "-s", script, "--set", "flow_detail=0")
    assert result.returncode == 0, result.stderr
    assert VERDICT.search(result.stdout), result.stdout[-3000:]
