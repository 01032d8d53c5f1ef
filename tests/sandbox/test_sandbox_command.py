"""`apigw-doctor sandbox`, run as a user runs it: the commands it prints work exactly as printed (through bash and
curl), the sign-in gives a real token, and the proxy in front of the sandbox gives verdicts."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apigw_doctor.sandbox.__main__ import READY

APIGW_DOCTOR = Path(sys.executable).with_name("apigw-doctor")

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the printed commands use curl")


def _env(tmp_path: Path) -> dict[str, str]:
    drop = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    return {k: v for k, v in os.environ.items() if k.lower() not in drop} | {"PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def sandbox_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox-command")
    log = (tmp / "out.txt").open("w+")
    proc = subprocess.Popen([str(APIGW_DOCTOR), "sandbox"], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=_env(tmp), cwd=tmp)  # fmt: skip
    deadline = time.monotonic() + 120
    while READY not in (tmp / "out.txt").read_text():
        assert proc.poll() is None and time.monotonic() < deadline, (tmp / "out.txt").read_text()
        time.sleep(0.2)
    yield proc, tmp / "out.txt", tmp
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _printed(out: Path) -> tuple[str, list[str]]:
    text = out.read_text()
    block = text.split("send traffic (copy the lines as they are):\n", 1)[1].split(READY, 1)[0]
    return text, [line[2:] for line in block.splitlines() if line.startswith("  ")]


def test_it_names_the_routes_with_their_authorizers_and_the_clients(sandbox_run):
    _, out, _ = sandbox_run
    text = out.read_text()
    assert re.search(r"GET +https://\S+/prod/items +\(REST; Cognito user pool\)", text)
    assert re.search(r"GET +https://\S+/prod/orders +\(REST; Cognito user pool, scopes orders/read\)", text)
    assert re.search(r"GET +https://\S+/prod/iam/items +\(REST; IAM \(SigV4\)\)", text)
    assert re.search(r"client credentials 3sandboxmachineclient00003, secret sandbox-m2m-secret-[0-9a-f]{16}", text)
    assert "password Sandbox!Passw0rd" in text
    assert re.search(r"proxy with the doctor: http://127\.0\.0\.1:\d+", text)


def test_the_printed_commands_work_as_printed_and_give_verdicts(sandbox_run):
    proc, out, tmp = sandbox_run
    _, commands = _printed(out)
    assert any("InitiateAuth" in c for c in commands) and any(c.startswith("TOKEN=$(") for c in commands)
    script = "set -e\n" + "\n".join(f"{c}; echo; echo '--- status' $?" for c in commands)
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp,
                         env=_env(tmp), check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    answers = run.stdout
    assert '"IdToken"' in answers  # the sign-in, through the proxy, with the sandbox user's password
    assert '{"message":"Unauthorized"}' in answers  # the request without a token
    assert '"access_token"' in answers  # the client-credentials grant with the printed id and secret
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = out.read_text().split(READY, 1)[1]
        if all(w in after for w in ("missing-credential (high)", "placeholder-token (high)", "GET /prod/orders  ")):
            break
        time.sleep(0.3)
    assert "401 GET /prod/items  missing-credential (high)" in after, after
    assert "placeholder-token (high)" in after
    assert "401 GET /prod/orders  " in after  # the ID token on the method with scopes
    assert "client connect" not in after  # mitmdump's connection lines are left out
    assert proc.poll() is None
