"""Every wrong option value, through a real mitmdump: one line naming the option, the value and what to write
instead; no traceback; a non-zero exit. An unknown `apigw_*` option is named with the nearest real one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from apigw_doctor import launch

MITMDUMP = Path(sys.executable).with_name("mitmdump")
TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\.\d+\] ")

# option=value, and what the one line must say besides the option and the value
CASES = {
    "apigw_expiry_warning=abc": "number of seconds",
    "apigw_expiry_warning=-5": "number of seconds",
    "apigw_authorizer=cognitoo": "--set apigw_authorizer=cognito",
    "apigw_identity_header=Bad Header": "header name",
    "apigw_user_pools=nope": "pool id",
    "apigw_hosts=bad host!": "host name",
    "apigw_jwks=/nonexistent/jwks.json": "JWKS file",
    "apigw_repeat=sometimes": "summarise or all",
    "apigw_evidence_dir=/proc/apigw-doctor-cannot-write": "folder you can write to",
    "apigw_evidence_max_mb=lots": "megabytes",
    "apigw_evidence_max_mb=-1": "megabytes",
    "apigw_redact_personal=maybe": "true or false",
    "apigw_sandbox_upstream=nohostport": "HOST:PORT",
}
UNKNOWN = {"apigw_scope=orders/read": "apigw_scopes", "apigw_user_pool=us-east-1_AbCdEf123": "apigw_user_pools"}


def _run(setting: str, confdir: Path) -> subprocess.CompletedProcess[str]:
    argv = launch.mitmproxy_command(str(MITMDUMP), ["--set", "listen_port=0", "--set", setting], confdir=confdir,
                                    sandbox=True)  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
                          check=False)  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, subprocess.CompletedProcess[str]]:
    confdir = tmp_path_factory.mktemp("confdir")
    first, *rest = [*CASES, *UNKNOWN]
    done = {first: _run(first, confdir)}  # alone: the first run creates the CA in confdir
    with ThreadPoolExecutor(max_workers=4) as pool:
        return done | dict(zip(rest, pool.map(lambda s: _run(s, confdir), rest), strict=True))


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    text = result.stdout + result.stderr
    return [TIMESTAMP.sub("", line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("setting", CASES)
def test_a_wrong_value_is_one_line_and_a_non_zero_exit(results, setting):
    result = results[setting]
    name = setting.split("=", 1)[0]
    lines = _lines(result)
    assert result.returncode != 0, lines
    ours = [line for line in lines if name in line]
    assert len(ours) == 1, lines
    assert ours[0].startswith(f"{setting}: ") and "; write " in ours[0] and CASES[setting] in ours[0], ours[0]
    assert not [line for line in lines if "Traceback" in line or line.startswith(("  File", "mitmproxy.exceptions"))]
    assert "uses underscores" not in result.stdout + result.stderr


@pytest.mark.parametrize("setting", UNKNOWN)
def test_an_unknown_option_is_named_with_the_nearest_real_one(results, setting):
    result = results[setting]
    lines = _lines(result)
    assert result.returncode != 0, lines
    name = setting.split("=", 1)[0]
    assert [line for line in lines if line.startswith(f"unknown option {name}; did you mean {UNKNOWN[setting]}?")]
