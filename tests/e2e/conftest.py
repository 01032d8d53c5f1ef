"""One live capture, shared by the end-to-end tests: real client -> real mitmdump with the addon -> TLS upstream.

The capture runs once per session (about 2-3 s): the upstream replays the documented API Gateway answers, httpx
sends each scenario's request through mitmdump, mitmdump is stopped with SIGTERM, and the `-w` file is read back.
`test_live_mitmdump.py` checks the live verdicts; `test_offline_har.py` re-analyses the same traffic from a HAR.
"""

from __future__ import annotations

import pytest

from tests.e2e.e2e_capture import Capture, run_capture


@pytest.fixture(scope="session")
def live_capture(tmp_path_factory) -> Capture:
    return run_capture(tmp_path_factory.mktemp("e2e-live"))
