"""`apigw-doctor analyze` on large, truncated and awkward input, run as a user runs it (subprocess).

Issue 10 "Clean errors" (analyze) and issue 11 items 5 and 8: rc 2 for unusable input (an empty file too); the
missing HAR field named; a closed pipe ends quietly; no 80-column wrap and no cut URLs into a pipe; a truncated
flow file or a HAR with a bad entry is read as far as it can be, and what was skipped is said; `--evidence` never
stops on a hostile flow.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from mitmproxy import io as mitmio
from mitmproxy.addons.savehar import SaveHar

from apigw_doctor.harstream import HarReader
from tests.robustness.robust_flows import flow, unsigned_jwt

from .test_cli_token_and_errors import APIGW_DOCTOR, env

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc"
LONG_PATH = "/prod/" + "/".join(f"segment{i:02d}" for i in range(20))


def _flows(count: int = 16) -> list:
    token = unsigned_jwt({"token_use": "id", "iss": ISSUER, "exp": 1})
    return [
        flow(path=f"{LONG_PATH}/{i}", request_headers=[(b"authorization", f"Bearer {token}".encode())])
        for i in range(count)
    ]


def _har(flows) -> dict:
    return SaveHar().make_har(flows)


def _run(*args, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    e = env()
    e.pop("COLUMNS", None)
    return subprocess.run(
        [str(APIGW_DOCTOR), "analyze", *map(str, args)],
        capture_output=True,
        text=True,
        env=e,
        timeout=timeout,
        check=False,
    )


def test_empty_file_is_unusable_input_rc_2(tmp_path):
    empty = tmp_path / "empty.har"
    empty.write_bytes(b"")
    run = _run(empty)
    assert run.returncode == 2, run
    assert "empty" in run.stderr and "Traceback" not in run.stderr


def test_har_without_entries_names_the_field(tmp_path):
    path = tmp_path / "noentries.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x"}}}))
    run = _run(path)
    assert run.returncode == 2 and '"log.entries"' in run.stderr


def test_har_entry_missing_a_field_is_skipped_by_name_and_the_rest_is_read(tmp_path):
    har = _har(_flows(4))
    del har["log"]["entries"][1]["request"]["url"]
    path = tmp_path / "one-bad.har"
    path.write_text(json.dumps(har))
    run = _run(path, "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["flows"]) == 3
    assert "entry 2: missing field request.url" in run.stderr


def test_truncated_har_reads_what_it_can_and_says_what_was_skipped(tmp_path):
    text = json.dumps(_har(_flows(16)), indent=1)
    path = tmp_path / "cut.har"
    path.write_text(text[: int(len(text) * 0.97)])  # cut inside the last entry
    run = _run(path, "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["flows"]) == 15
    assert "entry 16 is not complete JSON" in run.stderr


def test_truncated_flow_file_reads_what_it_can_and_says_what_was_skipped(tmp_path):
    path = tmp_path / "cut.mitm"
    with path.open("wb") as fp:
        writer = mitmio.FlowWriter(fp)
        for f in _flows(16):
            writer.add(f)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])
    run = _run(path, "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["flows"]) == 15
    assert "after flow 15: the rest of the file is unreadable" in run.stderr


def test_closed_pipe_ends_quietly(tmp_path):
    path = tmp_path / "many.har"
    path.write_text(json.dumps(_har(_flows(200))))
    e = env()
    proc = subprocess.Popen(
        [str(APIGW_DOCTOR), "analyze", str(path), "--all"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    stderr = proc.stderr.read().decode()
    proc.wait(60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_into_a_pipe_lines_are_not_wrapped_and_urls_not_cut(tmp_path):
    path = tmp_path / "wide.har"
    path.write_text(json.dumps(_har(_flows(2))))
    run = _run(path)
    assert run.returncode == 0, run.stderr
    url = f"https://abc123defg.execute-api.us-east-1.amazonaws.com{LONG_PATH}/1"
    assert any(url in line for line in run.stdout.splitlines()), run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) > 80


def test_evidence_for_hostile_flows_never_stops_the_run(tmp_path):
    flows = _flows(5)
    flows[1].response.content = b"\xff\xfe" + b"[" * 5000 + b"]" * 5000
    flows[3].request.headers["x-raw"] = "\udcff"
    path = tmp_path / "hostile.mitm"
    with path.open("wb") as fp:
        writer = mitmio.FlowWriter(fp)
        for f in flows:
            writer.add(f)
    out = tmp_path / "evidence"
    run = _run(path, "--evidence", out)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    written = [p for p in out.iterdir() if p.is_dir()]
    skipped = [line for line in run.stderr.splitlines() if "skipped" in line]
    assert len(written) + len(skipped) == 5 and len(written) >= 4


@pytest.mark.parametrize("chunk", [64, 1000, 1 << 20])
def test_har_reader_gives_every_entry_whatever_the_chunk_size(tmp_path, chunk):
    har = _har(_flows(12))
    path = tmp_path / "x.har"
    path.write_text(json.dumps(har, indent=2))
    with path.open("rb") as fp:
        reader = HarReader(fp, chunk=chunk)
        entries = list(reader)
    assert entries == har["log"]["entries"]
    assert reader.info.creator == "mitmproxy" and not reader.info.truncated
