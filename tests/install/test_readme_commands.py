"""Every command in the README's code blocks works as typed, from a fresh state after `make setup`.

The commands run in an empty folder that has only what a fresh clone has after `make setup` (the venv, `addons/`,
`docs/`, an empty `certs/`). One-shot commands must finish with their documented exit code. Long-running ones (the
proxy, mitmweb, the sandbox) must reach their "listening" or "ready" line; they get free ports appended so they
cannot clash with another program on this machine, and are then stopped. `make` lines are the precondition and the
CI itself, so they are not run again here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from apigw_doctor.demo_proc import free_port
from apigw_doctor.sandbox.__main__ import READY
from tests.install.conftest import REPO

README = REPO / "README.md"
# What tells that a long-running command works: the line it prints once it serves.
LONG_RUNNING = {
    "apigw-doctor dump": r"HTTP\(S\) proxy listening at",
    "mitmdump ": r"HTTP\(S\) proxy listening at",
    "apigw-doctor web": r"Web server listening at",
    "apigw-doctor demo --web": r"mitmweb is running with the demo's flows",
    "apigw-doctor sandbox": re.escape(READY),
}
EXIT_CODES = {"apigw-doctor token": {1}}  # the sample token has expired: documented exit 1


def readme_commands() -> list[str]:
    text = README.read_text()
    commands = []
    for block in re.findall(r"^ *```\n(.*?)^ *```", text, re.M | re.S):
        for raw in block.splitlines():
            line = re.split(r"\s{2,}#\s", raw.strip(), maxsplit=1)[0].strip()
            if (
                line
                and not line.startswith(("make ", "401 ", "  ", "why", "fix", "evidence", "•"))
                and (line.startswith((".venv/", "apigw-doctor", "mitmdump", "python")))
            ):
                commands.append(line)
    return commands


def test_the_readme_has_commands_and_none_needs_an_activated_venv():
    commands = readme_commands()
    assert len(commands) >= 8
    bare = [c for c in commands if c.split()[0] in ("apigw-doctor", "mitmdump", "mitmweb", "python")]
    assert not bare, bare  # a fresh clone has these only in .venv/bin


def test_the_readme_uses_no_glob():
    assert not [c for c in readme_commands() if "*" in c.replace("*.example.com", "")]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("readme-fresh")
    for name in (".venv", "addons", "docs", "README.md", "pyproject.toml"):
        (home / name).symlink_to(REPO / name)
    (home / "certs").mkdir()
    return home


def _env() -> dict[str, str]:
    drop = ("http_proxy", "https_proxy", "all_proxy", "virtual_env")
    return {k: v for k, v in os.environ.items() if k.lower() not in drop} | {"PYTHONUNBUFFERED": "1"}


def _long_running(command: str) -> str | None:
    return next((ready for prefix, ready in LONG_RUNNING.items() if prefix in command), None)


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_works_as_typed(fresh: Path, command: str):
    ready = _long_running(command)
    if ready is None:
        run = subprocess.run(["bash", "-c", command], cwd=fresh, env=_env(), capture_output=True, text=True,
                             timeout=300, check=False)  # fmt: skip
        expected = next((codes for prefix, codes in EXIT_CODES.items() if prefix in command), {0})
        assert run.returncode in expected, run.stdout[-2000:] + run.stderr[-2000:]
        assert "Traceback" not in run.stderr and "uses underscores" not in run.stdout + run.stderr
        return
    if "demo --web" not in command and "sandbox" not in command:
        command += f" --set listen_port={free_port()}"
        if " web" in command:
            command += f" --set web_port={free_port()} --set web_open_browser=false"
    log = fresh / f"long-{abs(hash(command))}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=fresh, env=_env(), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not re.search(ready, log.read_text()):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        time.sleep(1)  # an error logged during start-up ends it right after the listening line
        assert proc.poll() is None, log.read_text()[-3000:]
        assert "uses underscores" not in log.read_text()
    finally:
        _signal_group(proc, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(10)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal the command's process group; it may already be gone (a command that ends by itself)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
