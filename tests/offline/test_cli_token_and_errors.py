"""Issue 4 C: `apigw-doctor token` and `apigw-doctor analyze` on bad input, run as a user runs them (subprocess).

Tokens are real RS256 JWTs with Cognito's claim sets from a throwaway key (tests/evidence/evidence_helpers.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.evidence.evidence_helpers import (
    access_claims,
    id_claims,
    jwe_like,
    make_flow,
    make_keys,
    mint,
    signature_of,
)
from tests.offline.conftest import APIGW_DOCTOR, env
from tests.offline.samples import write_har

KEYS = make_keys()
ID_TOKEN = mint(KEYS, id_claims())
ACCESS_TOKEN = mint(KEYS, access_claims())
REFRESH_JWE = jwe_like()

# name -> (arguments after `token`, standard input)
TOKEN_CASES: dict[str, tuple[list[str], str | None]] = {
    "id": ([ID_TOKEN], None),
    "access": ([ACCESS_TOKEN], None),
    "jwe": ([REFRESH_JWE], None),
    "placeholder": (["undefined"], None),
    "stdin-bearer-newline": ([], f"Bearer {ID_TOKEN}\n"),
    "stdin-dash-bearer-newline": (["-"], f"Bearer {ACCESS_TOKEN}\n"),
    "json-id": (["--json", ID_TOKEN], None),
    "json-jwe": (["--json", REFRESH_JWE], None),
    "json-placeholder": (["--json", "-"], "Bearer undefined\n"),
}
SIGNATURES = [signature_of(ID_TOKEN), signature_of(ACCESS_TOKEN), *REFRESH_JWE.split(".")[1:]]


@pytest.fixture(scope="module")
def token_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case at once: each is its own interpreter start-up."""
    procs = {
        name: (
            subprocess.Popen(
                [str(APIGW_DOCTOR), "token", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env(),
            ),
            stdin,
        )
        for name, (args, stdin) in TOKEN_CASES.items()
    }
    out = {}
    for name, (proc, stdin) in procs.items():
        stdout, stderr = proc.communicate(stdin or "", timeout=60)
        out[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out


# Exit 0 for a token that would pass the time checks, 1 for one that cannot be used: every case here (the tokens
# are minted at a fixed past time, so they have expired; a refresh token and a placeholder are not usable).
UNUSABLE = set(TOKEN_CASES)


@pytest.mark.parametrize("name", TOKEN_CASES)
def test_token_exit_code_says_whether_it_is_usable_and_never_prints_a_signature(token_runs, name: str):
    run = token_runs[name]
    assert run.returncode == (1 if name in UNUSABLE else 0), run.stderr
    assert "Traceback" not in run.stderr
    printed = run.stdout + run.stderr
    for secret in SIGNATURES:
        assert secret not in printed
        assert secret[:16] not in printed and secret[-16:] not in printed


def test_token_explains_an_id_token(token_runs):
    out = token_runs["id"].stdout
    assert out.startswith("EXPIRED ")  # the status line first
    assert out.splitlines()[1].startswith("Cognito ID token")  # after the status line
    assert "pool eu-west-1_AbCdEf123, region eu-west-1" in out
    assert "aud=1example23456789abcdefghij" in out
    assert '"token_use": "id"' in out and "expired" in out
    assert "ID token: accepted by REST methods without OAuth scopes" in out


def test_token_explains_an_access_token(token_runs):
    out = token_runs["access"].stdout
    assert out.splitlines()[1].startswith("Cognito access token")  # after the status line
    assert "client_id=1example23456789abcdefghij" in out
    assert "aws.cognito.signin.user.admin" in out
    assert "access token from InitiateAuth: it carries no custom scopes" in out


def test_token_recognises_a_jwe_refresh_token(token_runs):
    out = token_runs["jwe"].stdout
    assert out.splitlines()[1].startswith("refresh token (JWE)")  # after the status line
    assert "API Gateway cannot validate it" in out
    assert '"claims"' not in out and "claims (signature not shown)" not in out  # nothing decoded from a JWE


def test_token_recognises_a_placeholder(token_runs):
    out = token_runs["placeholder"].stdout
    assert out.startswith("NOT USABLE: placeholder")
    assert out.splitlines()[1].startswith("placeholder")  # after the status line
    assert "the client had no token when it built the request" in out
    assert "fingerprint" not in out


@pytest.mark.parametrize("name,kind", [("stdin-bearer-newline", "Cognito ID token"),
                                       ("stdin-dash-bearer-newline", "Cognito access token")])  # fmt: skip
def test_token_from_stdin_with_bearer_prefix_and_trailing_newline(token_runs, name: str, kind: str):
    """`pbpaste | apigw-doctor token`: the scheme is understood, the shell's own newline is not a defect."""
    out = token_runs[name].stdout
    assert out.splitlines()[1].startswith(kind)
    assert "whitespace" not in out and "line break" not in out
    assert "Paste the token" not in token_runs[name].stderr  # stdin is not a terminal: no prompt


def test_token_json_shape(token_runs):
    docs = {name: json.loads(token_runs[name].stdout) for name in ("json-id", "json-jwe", "json-placeholder")}
    for doc in docs.values():
        assert {"kind", "lints", "fingerprint"} <= set(doc)
        assert isinstance(doc["kind"], str) and all(isinstance(x, str) for x in doc["lints"])
    jwt_doc = docs["json-id"]
    assert jwt_doc["kind"] == "Cognito ID token"
    assert jwt_doc["claims"] == id_claims()  # every claim, exactly; nothing of the signature
    assert jwt_doc["header"]["kid"] == "kid-1" and jwt_doc["header"]["alg"] == "RS256"
    assert isinstance(jwt_doc["fingerprint"], str) and len(jwt_doc["fingerprint"]) == 10
    assert all(isinstance(f, list) and len(f) == 2 for f in jwt_doc["facts"])
    assert dict(jwt_doc["facts"])["app client"] == "aud=1example23456789abcdefghij"
    assert set(docs["json-jwe"]) == {"kind", "lints", "fingerprint", "status", "exit"}
    assert docs["json-jwe"]["kind"] == "refresh token (JWE)"
    assert docs["json-placeholder"] == {
        "kind": "placeholder",
        "lints": ["this is a placeholder, not a token: the client had no token when it built the request"],
        "fingerprint": None,
        "status": "NOT USABLE: placeholder, not a token API Gateway can validate",
        "exit": 1,
    }


# --- analyze on bad input ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("analyze-input")
    (d / "notes.txt").write_text("hello, this is not a capture\n")
    (d / "other.json").write_text(json.dumps({"name": "a JSON file that is no HAR"}))
    (d / "folder").mkdir()
    f = make_flow(
        headers=[("Authorization", f"Bearer {ID_TOKEN}")],
        response_headers=[("Content-Type", "application/json"), ("x-amzn-ErrorType", "UnauthorizedException"),
                          ("x-amzn-RequestId", "0b6c4d2e-8f5b-4a3c-9e1d-7f2a6b5c4d3e")],
        response_content=b'{"message":"The incoming token has expired"}',
    )  # fmt: skip
    return {
        "text": d / "notes.txt",
        "json": d / "other.json",
        "folder": d / "folder",
        "missing": d / "capture-that-is-not-there.har",
        "good": write_har([f], "firefox", d / "good.har"),
    }


def _analyze_all(commands: dict[str, tuple[list[str | Path], bool]]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run `apigw-doctor analyze ARGS` for each case at once. `wide=False`: no COLUMNS, as in CI or `2> err.log`."""
    procs = {}
    for name, (args, wide) in commands.items():
        e = env()
        if not wide:
            e.pop("COLUMNS", None)
        cmd = [str(APIGW_DOCTOR), "analyze", *map(str, args)]
        procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        out[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out


@pytest.fixture(scope="module")
def bad_runs(files: dict[str, Path]) -> dict[str, subprocess.CompletedProcess[str]]:
    return _analyze_all({
        **{name: ([files[name]], True) for name in ("text", "json", "folder", "missing")},
        "text-narrow": ([files["text"]], False),
        "bad+good": ([files["text"], files["good"]], True),
        "bad+good-json": ([files["missing"], files["good"], "--json"], True),
    })  # fmt: skip


def _error_lines(run: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "name,words",
    [
        ("text", "not a HAR file or mitmproxy flow file"),
        ("json", "not a HAR file or mitmproxy flow file"),
        ("folder", "is a directory"),
        ("missing", "no such file"),
    ],
)
def test_analyze_unreadable_file_exits_2_with_one_clear_message(bad_runs, files, name: str, words: str):
    """One message, naming the file and the problem."""
    run = bad_runs[name]
    assert run.returncode == 2  # unusable input
    assert "Traceback" not in run.stderr + run.stdout
    message = " ".join(line.strip() for line in _error_lines(run))
    assert message.count("apigw-doctor:") == 1 and message.startswith("apigw-doctor: ")
    assert str(files[name]) in message and words in message


def test_analyze_says_how_to_get_a_readable_file(bad_runs):
    assert (
        "Export a HAR from the browser's network panel, or save flows with mitmdump -w FILE" in bad_runs["text"].stderr
    )


@pytest.mark.parametrize("name", ["text-narrow", "json"])
def test_analyze_error_is_one_physical_line(bad_runs, name: str):
    run = bad_runs[name]
    assert run.returncode == 2  # unusable input
    assert len(_error_lines(run)) == 1, _error_lines(run)


def test_analyze_reports_the_good_file_next_to_a_bad_one(bad_runs, files):
    run = bad_runs["bad+good"]
    assert run.returncode == 2  # unusable input
    assert "Traceback" not in run.stderr + run.stdout
    assert str(files["text"]) in run.stderr
    assert "token-expired" in run.stdout and "high" in run.stdout
    assert "0b6c4d2e-8f5b-4a3c-9e1d-7f2a6b5c4d3e" in run.stdout  # the verdict's evidence for the good file


def test_analyze_json_reports_the_good_file_next_to_a_missing_one(bad_runs, files):
    run = bad_runs["bad+good-json"]
    assert run.returncode == 2  # unusable input
    doc = json.loads(run.stdout)  # stdout stays one JSON document; the complaint goes to stderr
    assert [(r["index"], r["status"], r["diagnosis"]["cause"], r["diagnosis"]["confidence"]) for r in doc["flows"]] == [
        (1, 401, "token-expired", "high")
    ]
    (line,) = _error_lines(run)
    assert str(files["missing"]) in line and "no such file" in line
    assert os.path.basename(files["good"]) not in run.stderr


def _token(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(APIGW_DOCTOR), "token", *argv], input=stdin, capture_output=True, text=True,
                          env=env(), timeout=60, check=False)  # fmt: skip


def _fresh(**times: float) -> str:
    """An ID token whose times are relative to now (this test's clock, the one the command reads)."""
    now = time.time()
    return mint(KEYS, {**id_claims(), **{k: int(now + v) for k, v in times.items()}})


def test_token_valid_now_exits_zero_with_a_status_line():
    run = _token(_fresh(iat=-60, exp=2730))  # 45.5 min: "valid for 4x min" however long the command takes to start
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("valid for 4") and "signature is not checked" in run.stdout.splitlines()[0]


def test_token_expired_exits_one_and_says_so_first():
    run = _token(_fresh(iat=-7200, exp=-3600))
    assert run.returncode == 1
    assert re.match(r"EXPIRED 1 h ago \(\d{4}-\d\d-\d\dT", run.stdout)


def test_token_issued_in_the_future_is_flagged():
    run = _token(_fresh(iat=900, exp=4500))
    assert run.returncode == 1
    first = run.stdout.splitlines()[0]
    assert first.startswith("NOT YET VALID: issued 1") and "in the future" in first
    assert "IN THE FUTURE" in run.stdout  # and beside the iat fact


def test_token_not_before_in_the_future_exits_one():
    run = _token(_fresh(iat=-10, nbf=600, exp=3600))
    assert run.returncode == 1 and run.stdout.startswith("NOT YET VALID: nbf")


@pytest.mark.parametrize("stdin", ["", "\n", "  \n\n"])
def test_token_with_no_input_says_no_input(stdin: str):
    run = _token(stdin=stdin)
    assert run.returncode == 2
    assert run.stderr.strip() == "apigw-doctor token: no input: give the token as an argument, or on standard input"
    assert "placeholder" not in run.stdout + run.stderr


def test_token_json_carries_the_status_and_exit_code():
    run = _token("--json", _fresh(iat=-7200, exp=-3600))
    doc = json.loads(run.stdout)
    assert run.returncode == 1 and doc["exit"] == 1 and doc["status"].startswith("EXPIRED")
