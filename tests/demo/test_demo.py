"""`apigw-doctor demo` end to end: the sandbox, a real mitmdump with the addon, the verdicts read back from `-w`."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from mitmproxy import io as mitmio

from apigw_doctor import demo
from apigw_doctor.demo_proc import ProxyStartError
from apigw_doctor.sandbox.app import Sandbox

APIGW_DOCTOR = Path(sys.executable).with_name("apigw-doctor")
STORY_FLOWS = 17  # the whole demo also plays one conversation (sandbox/story.py), one flow per step


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`run_demo(web=False, as_json=True)` once, in process, with a throwaway confdir."""
    work = tmp_path_factory.mktemp("demo")
    out, err = io.StringIO(), io.StringIO()
    code = demo.run_demo(web=False, as_json=True, confdir=work / "certs", workdir=work, out=out, err=err)
    result = json.loads(out.getvalue())
    result["_code"], result["_stderr"] = code, err.getvalue()
    return result


def test_the_demo_is_representative() -> None:
    from apigw_doctor.sandbox.scenarios import by_name

    scenarios = [by_name(n) for n in demo.DEMO_SCENARIOS]
    assert 20 <= len(scenarios) <= 36
    assert len({s.cause for s in scenarios if s.cause}) >= 15  # one per common cause
    assert sum(s.cause is None for s in scenarios) >= 4  # and several successes


def test_demo_exits_zero_and_every_scenario_ran(demo_json: dict[str, Any]) -> None:
    assert demo_json["_code"] == 0, demo_json["_stderr"]
    assert [s["scenario"] for s in demo_json["scenarios"]] == list(demo.DEMO_SCENARIOS)
    assert demo_json["ok"] is True
    assert demo_json["matched"] == demo_json["total"] == len(demo.DEMO_SCENARIOS)
    assert demo_json["seconds"] < 60


@pytest.mark.parametrize("name", demo.DEMO_SCENARIOS)
def test_verdict_matches_what_the_sandbox_did(demo_json: dict[str, Any], name: str) -> None:
    row = next(s for s in demo_json["scenarios"] if s["scenario"] == name)
    assert row["verdict"] == row["expected"], row  # the addon's cause vs. the sandbox's own record
    assert row["matched"] and not row["note"], row
    if row["expected"]:
        assert row["marked"] == ""  # flow.marked stays the user's
        assert row["comment"].startswith(f"{row['expected']} [{row['confidence'][0].upper()}] ")
        assert row["confidence"] in ("high", "medium", "low")
    else:
        assert 200 <= row["status"] < 300


def test_flow_file_keeps_the_verdicts(demo_json: dict[str, Any]) -> None:
    with open(demo_json["flow_file"], "rb") as fp:
        flows = list(mitmio.FlowReader(fp).stream())
    # The scenarios, then one conversation (sandbox/story.py) for the timeline.
    conversation = flows[len(demo.DEMO_SCENARIOS) :]
    assert len(conversation) == STORY_FLOWS and conversation[0].request.headers["x-amz-target"].endswith("InitiateAuth")
    failing = [f for f in flows if f.response.status_code >= 400]
    assert failing and all(f.metadata["apigw_doctor"]["cause"] for f in failing)
    assert not any(f.marked for f in flows)
    assert "mitmweb" in demo_json["_stderr"]  # with --json, how to explore the flows goes to stderr


def test_demo_writes_the_timeline_beside_the_flows(demo_json: dict[str, Any]) -> None:
    report = Path(demo_json["flow_file"]).with_name("report.html")
    assert f"The timeline of these flows (open it in a browser): {report}" in demo_json["_stderr"]
    html = report.read_text(encoding="utf-8")
    assert html.count('class="lane"') > 5 and 'data-cause="stale-token-after-refresh"' in html


def test_console_script_prints_the_table(tmp_path: Path) -> None:
    """`apigw-doctor demo` exactly as `make demo` runs it (certs/ as confdir); TMPDIR keeps its flow file here."""
    started = time.monotonic()
    proc = subprocess.run([str(APIGW_DOCTOR), "demo"], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - started < 60
    out = proc.stdout
    n = len(demo.DEMO_SCENARIOS)
    assert f"{n}/{n} verdicts match what the sandbox did." in out
    for header in ("scenario", "status", "sandbox did", "apigw-doctor verdict", "confidence", "match"):
        assert header in out
    for name in demo.DEMO_SCENARIOS:
        assert re.search(rf"│ {re.escape(name)} +│", out), name
    assert re.search(r"│ token-expired +│ +401 │ token-expired +│ token-expired +│ high +│ +✓ +│", out)
    assert out.count("✓") == n and "✗" not in out
    assert "apigw-doctor demo --web" in out and "apigw-doctor web -r" in out
    assert f"saved in {tmp_path}" in out and list(tmp_path.glob("apigw-doctor-demo-*/demo.mitm"))


def test_demo_web_serves_the_flows_until_interrupted(tmp_path: Path) -> None:
    """`apigw-doctor demo --web`: the table, then mitmweb with the flows loaded; Ctrl-C stops everything."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([str(APIGW_DOCTOR), "demo", "--web"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    lines: list[str] = []
    url = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("http://127.0.0.1:"):
                url.set()
        url.set()  # the demo ended: stop waiting

    threading.Thread(target=read, daemon=True).start()
    try:
        url.wait(60)
        web_url = next((line.strip() for line in lines if line.startswith("http://127.0.0.1:")), None)
        if web_url is None:
            proc.kill()
            pytest.fail("no mitmweb URL:\n" + "".join(lines) + (proc.stderr.read() if proc.stderr else ""))
        flows = httpx.get(web_url.replace("/?token=", "/flows?token="), timeout=10).json()
        assert len(flows) == len(demo.DEMO_SCENARIOS) + STORY_FLOWS
        assert any(f["comment"].startswith("token-expired [H] ") for f in flows)
        assert not any(f["marked"] for f in flows)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(web_url, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Ctrl-C" in "".join(lines)


def test_mitmdump_that_cannot_start_shows_its_output(tmp_path: Path) -> None:
    with Sandbox.start(tmp_path / "sb") as sb, pytest.raises(ProxyStartError) as info:
        demo.run_scenarios(sb, tmp_path, names=["token-expired"], confdir=tmp_path / "certs",
                           options=["apigw_authorizer=bogus"])  # fmt: skip
    message = str(info.value)
    assert "mitmdump exited" in message and "apigw_authorizer" in message and "command:" in message


def test_missing_httpx_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # `import httpx` now raises ImportError
    err = io.StringIO()
    assert demo.run_demo(workdir=tmp_path, out=io.StringIO(), err=err) == 2
    assert "pip install 'apigw-doctor[demo]'" in err.getvalue()


def test_unknown_scenario_is_an_error(tmp_path: Path) -> None:
    err = io.StringIO()
    assert demo.run_demo(names=["no-such-scenario"], workdir=tmp_path, out=io.StringIO(), err=err) == 2
    assert "no-such-scenario" in err.getvalue()
