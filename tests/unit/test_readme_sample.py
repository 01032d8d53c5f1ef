"""The README's sample terminal output must still be what the engine prints for that flow."""

from __future__ import annotations

import re
from pathlib import Path

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.render import render_text

from .builders import NOW, REST_EXPIRED, flow, mint

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_sample_is_current():
    sample = re.search(r"<!-- sample:begin -->\n```\n(.*?)\n```\n<!-- sample:end -->", README.read_text(), re.S)
    assert sample, "the README lost its sample block"
    f = flow(REST_EXPIRED, request_headers={"Authorization": mint(exp=NOW - 192, iat=NOW - 3792)}, sent_at=NOW + 4)
    diagnosis = diagnose_flow(f, Knowledge(make_expectations(user_pools=["us-east-1_AbCdEf123"])))
    assert diagnosis is not None
    assert render_text(diagnosis) == sample.group(1)


def test_readme_starts_with_the_two_commands():
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)
