"""Evidence and HAR exports on hostile or awkward input: each rule failed before the change it names.

- low-entropy secrets become a plain `REDACTED`; tags are keyed per export; the tool's own words are never redacted;
- personal claims go when asked;
- the redaction misses (multipart password, a secret under a secret-named key, a nameless cookie, a form password
  with spaces);
- one hostile flow never empties an export; files are replaced by rename and a planted symlink is not followed;
- a full disk leaves whole bundles or none, and stops with one warning.
"""

from __future__ import annotations

import base64
import errno
import json
import logging
import os
import re
from pathlib import Path

import pytest
from mitmproxy.test import taddons

from apigw_doctor.evidence import bundle as bundle_module
from apigw_doctor.evidence.addon import EvidenceExporter
from apigw_doctor.evidence.bundle import build_bundle, write_bundles
from apigw_doctor.evidence.har import make_har, verdict_comment, write_har
from apigw_doctor.evidence.redact import redact_flow
from tests.evidence.evidence_helpers import (
    CLIENT,
    IDP_HOST,
    id_claims,
    make_flow,
    make_keys,
    metadata,
    mint,
    signature_of,
)

KEYS = make_keys()
TOKEN = mint(KEYS, id_claims())
PASSWORD = "Tr0ub4dor&3"


def _body(f) -> str:
    return f.request.get_text(strict=False) or ""


# --- issue 10: markers ------------------------------------------------------------------------------------------


def test_password_client_secret_and_secret_hash_become_plain_redacted():
    body = {"AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD, "SECRET_HASH": "c2VjcmV0aGFzaA=="}}
    f = make_flow(host=IDP_HOST, method="POST", path="/", content=json.dumps(body).encode(), status=400)
    text = _body(redact_flow(f).flow)
    assert '"PASSWORD": "REDACTED"' in text.replace('":"', '": "') and PASSWORD not in text
    assert '"SECRET_HASH": "REDACTED"' in text.replace('":"', '": "')
    assert not re.search(r"REDACTED-[0-9a-f]{10}", text)  # nothing derived from a guessable secret


@pytest.mark.real_keys
def test_tags_are_keyed_per_export():
    from apigw_doctor import tokens

    f = make_flow(headers=[("Authorization", f"Bearer {TOKEN}")])
    first = redact_flow(f).flow.request.headers["Authorization"]
    second = redact_flow(f).flow.request.headers["Authorization"]
    tag = re.compile(r"REDACTED-SIG-([0-9a-f]{10})")
    one, two = tag.search(first), tag.search(second)
    assert one and two and one.group(1) != two.group(1)  # two tickets cannot be matched by tag
    assert tokens.fingerprint(signature_of(TOKEN)) not in first + second  # nor looked up by a plain hash


def test_tool_text_of_a_secret_hash_verdict_is_not_redacted():
    meta = metadata(
        cause="cognito-secret-hash",
        title="The SECRET_HASH is missing or wrong",
        summary="The app client has a secret, so every auth call needs SECRET_HASH = Base64(HMAC-SHA256(...)).",
    )
    f = make_flow(host=IDP_HOST, method="POST", path="/", status=400, metadata=meta)
    har = make_har([f])
    comment = har["log"]["entries"][0]["comment"]
    assert comment.startswith("HTTP 400 cognito-secret-hash: The SECRET_HASH is missing or wrong.")
    assert "app client has a secret, so every" in comment
    report = build_bundle(f)
    assert "# The SECRET_HASH is missing or wrong" in report.markdown
    assert "The app client has a secret, so every auth call" in report.markdown
    assert verdict_comment(meta) == verdict_comment(report.report["diagnosis"])


def test_personal_claims_are_redacted_on_request():
    f = make_flow(headers=[("Authorization", f"Bearer {TOKEN}")], metadata=metadata(claims=id_claims()))
    kept = build_bundle(f)
    assert "alice@example.com" in kept.markdown
    gone = build_bundle(f, personal=True)
    text = gone.markdown + json.dumps(gone.report) + json.dumps(gone.har)
    assert "alice@example.com" not in text and '"cognito:username": "alice"' not in text
    claims = gone.report["diagnosis"]["token"]["claims"]
    assert claims["email"] == "REDACTED" and claims["cognito:username"] == "REDACTED"
    assert claims["aud"] == CLIENT and claims["token_use"] == "id"  # the evidence stays
    header_token = gone.redacted.flow.request.headers["Authorization"].split()[1]
    decoded = json.loads(base64.urlsafe_b64decode(header_token.split(".")[1] + "=="))
    assert decoded["email"] == "REDACTED" and decoded["iss"] == id_claims()["iss"]


# --- issue 11, item 4: redaction misses -------------------------------------------------------------------------


def test_multipart_password_field_is_removed():
    boundary = "----formBoundaryX7"
    content = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{PASSWORD}\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    f = make_flow(
        method="POST", headers=[("Content-Type", f"multipart/form-data; boundary={boundary}")], content=content
    )
    text = _body(redact_flow(f).flow)
    assert PASSWORD not in text and "alice" in text and 'name="password"\r\n\r\nREDACTED\r\n' in text


def test_secret_nested_under_a_secret_named_key_is_removed_and_report_json_stays_json():
    body = {"password": {"value": PASSWORD, "hint": "kept? no"}, "user": "alice"}
    f = make_flow(method="POST", headers=[("Content-Type", "application/json")], content=json.dumps(body).encode())
    b = build_bundle(f)
    assert PASSWORD not in b.markdown + json.dumps(b.report) + json.dumps(b.har)
    body_line = next(line for line in b.markdown.splitlines() if line.startswith('{"password"'))
    assert json.loads(body_line)["password"] == {"value": "REDACTED", "hint": "REDACTED"}


def test_cookie_with_no_name_is_removed():
    f = make_flow(headers=[("Cookie", "s3ssionValueWithoutName0123; theme=dark")])
    out = redact_flow(f).flow.request.headers["Cookie"]
    assert "s3ssionValueWithoutName0123" not in out and out.endswith("theme=REDACTED-" + out.rsplit("-", 1)[1])


def test_form_password_with_spaces_is_removed_whole():
    f = make_flow(
        method="POST",
        headers=[("Content-Type", "text/plain")],
        content=b"user=alice&password=correct horse battery staple",
    )
    text = _body(redact_flow(f).flow)
    assert text == "user=alice&password=REDACTED"


# --- issue 11, item 5: one hostile flow never empties an export -------------------------------------------------


def _hostile_flows():
    deep = ("[" * 5000 + "]" * 5000).encode()
    not_utf8_header = make_flow(path="/prod/e", metadata=metadata())
    not_utf8_header.request.headers.fields += ((b"x-raw", b"\xff\xfe"),)
    return [
        make_flow(path="/prod/a", metadata=metadata()),
        make_flow(path="/prod/b", response_content=b"\xff\xfe not utf-8 \xc3", metadata=metadata()),
        make_flow(
            path="/prod/c", response_content=deep, headers=[("Content-Type", "application/json")], metadata=metadata()
        ),
        make_flow(path="/prod/d", metadata=metadata(claims={"exp": int("9" * 400)})),
        not_utf8_header,
        make_flow(path="/prod/f", metadata=metadata()),
    ]


def test_har_export_holds_every_flow_or_says_which_was_skipped(tmp_path):
    flows = _hostile_flows()
    out, skipped = write_har(flows, tmp_path / "all.har")
    entries = json.loads(out.read_text(encoding="utf-8"))["log"]["entries"]
    assert len(entries) + len(skipped) == len(flows) and len(entries) >= len(flows) - 1
    assert all(s.reason for s in skipped)


def test_bundles_export_holds_every_flow_or_says_which_was_skipped(tmp_path):
    flows = _hostile_flows()
    written = write_bundles(flows, tmp_path)
    assert written.count + len(written.skipped) == len(flows) and written.count >= len(flows) - 1
    index = json.loads((written.root / "index.json").read_text())
    assert len(index["flows"]) == written.count and len(index["skipped"]) == len(written.skipped)


def test_har_export_replaces_by_rename_and_never_follows_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "out.har"
    os.symlink(victim, target)
    write_har([make_flow(metadata=metadata())], target)
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and json.loads(target.read_text())["log"]["entries"]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_failed_har_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.har"
    target.write_text("old")
    monkeypatch.setattr("apigw_doctor.evidence.har.dump_har", lambda har: "x" * 10 + "\udcff")  # not encodable

    with pytest.raises(UnicodeEncodeError):
        write_har([make_flow(metadata=metadata())], target)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.har"]


# --- issue 11, item 9: a full disk ------------------------------------------------------------------------------


def test_full_disk_leaves_whole_bundles_or_none_and_stops_with_one_warning(tmp_path, monkeypatch, caplog):
    real = bundle_module._write_text
    calls = {"n": 0}

    def filling(path: Path, text: str) -> None:
        calls["n"] += 1
        if calls["n"] > 4:  # the first bundle (4 files) fits, the second does not
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(bundle_module, "_write_text", filling)
    a = EvidenceExporter()
    with caplog.at_level(logging.INFO), taddons.context(a) as tctx:
        tctx.configure(a, apigw_evidence_dir=str(tmp_path))
        for i in range(5):
            a.response(make_flow(path=f"/prod/{i}", metadata=metadata()))
        a.done()
    dirs = list(tmp_path.iterdir())
    names = sorted(p.name for p in dirs[0].iterdir())
    assert len(dirs) == 1 and names == ["flows.har", "report.html", "report.json", "report.md"]
    full = [r for r in caplog.records if r.getMessage().startswith("apigw-doctor: the disk is full")]
    assert len(full) == 1
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped and "3 evidence bundle(s) dropped" in dropped[0]


def test_evidence_size_cap_stops_writing(tmp_path, caplog):
    a = EvidenceExporter()
    (tmp_path / "old.bin").write_bytes(b"\0" * (2 * 2**20))  # the directory already holds 2 MB
    with caplog.at_level(logging.INFO), taddons.context(a) as tctx:
        tctx.configure(a, apigw_evidence_dir=str(tmp_path), apigw_evidence_max_mb=2)
        for i in range(3):
            a.response(make_flow(path=f"/prod/{i}", metadata=metadata()))
        a.done()
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1
    assert any("apigw_evidence_max_mb" in r.getMessage() for r in caplog.records)
