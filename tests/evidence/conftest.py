"""Evidence tests run with one known tag key, so a test can name the tag a value must get (`evidence_helpers.tag_of`).

`test_evidence_secrets.py::test_tags_are_keyed_per_export` checks the real behaviour: a new random key per export.
"""

from __future__ import annotations

import pytest

from apigw_doctor.evidence import redact
from tests.evidence.evidence_helpers import TAG_KEY


@pytest.fixture(autouse=True)
def known_tag_key(monkeypatch, request):
    if "real_keys" not in request.keywords:
        monkeypatch.setattr(redact, "new_key", lambda: TAG_KEY)
