"""mitmweb, headless, with the addon: comments, markers, the `apigw` content view and the commands over REST."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.web.harness import Mitmweb, running_mitmweb

SCENARIOS = ("ok-rest-id-token", "token-expired", "missing-credential", "wrong-audience", "cognito-bad-credentials")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmweb]:
    with running_mitmweb(tmp_path_factory.mktemp("mitmweb"), SCENARIOS) as web:
        yield web


@pytest.fixture(scope="module")
def api(web: Mitmweb) -> Iterator[httpx.Client]:
    with web.api() as client:
        yield client


@pytest.fixture(scope="module")
def flows(web: Mitmweb, api: httpx.Client) -> list[dict]:
    deadline = time.monotonic() + 10
    while True:  # the flow list is updated from the proxy's event loop; it is normally there at once
        flows = api.get("/flows").json()
        if len(flows) >= len(SCENARIOS) or time.monotonic() > deadline:
            return flows
        time.sleep(0.1)


def test_api_needs_the_password(web: Mitmweb) -> None:
    assert httpx.get(f"{web.base_url}/flows", trust_env=False).status_code == 403
    assert httpx.get(f"{web.base_url}/flows?token={web.password}", trust_env=False).status_code == 200


def test_flow_list_shows_comments_and_markers(web: Mitmweb, flows: list[dict]) -> None:
    assert len(flows) == len(SCENARIOS)
    expired = web.flow_of("token-expired", flows)
    assert expired["marked"] == ""  # @marked is what the user marks
    assert expired["comment"].startswith("token-expired [H] ")
    assert web.flow_of("missing-credential", flows)["comment"].startswith("missing-credential [H] ")
    assert web.flow_of("wrong-audience", flows)["comment"].startswith("wrong-audience [H] ")
    cognito = web.flow_of("cognito-bad-credentials", flows)
    assert cognito["marked"] == "" and cognito["comment"].startswith("cognito-bad-credentials [H] ")
    ok = web.flow_of("ok-rest-id-token", flows)
    assert (ok["marked"], ok["comment"], ok["response"]["status_code"]) == ("", "", 200)


def test_apigw_view_is_chosen_for_a_bodyless_request_with_a_token(
    web: Mitmweb, api: httpx.Client, flows: list[dict]
) -> None:
    expired = web.flow_of("token-expired", flows)
    view = api.get(f"/flows/{expired['id']}/request/content/auto.json").json()
    assert view["view_name"] == "apigw"
    assert "verdict: token-expired (high)" in view["text"]
    assert "expired" in view["text"].split("verdict:", 1)[1]
    assert "token_use: id" in view["text"] and "checks:" in view["text"]
    explicit = api.get(f"/flows/{expired['id']}/request/content/apigw.json").json()
    assert explicit["view_name"] == "apigw"
    state = api.get("/state").json()
    assert "apigw" in [v.lower() for v in state["contentViews"]]


def test_commands_are_listed(api: httpx.Client) -> None:
    commands = api.get("/commands").json()
    for name in ("apigw.summary", "apigw.explain", "apigw.reanalyze"):
        assert name in commands


def test_summary_command_counts_the_verdicts(api: httpx.Client, flows: list[dict]) -> None:
    reply = api.post("/commands/apigw.summary", json={"arguments": ["@all"]})
    assert reply.status_code == 200, reply.text
    value = reply.json()["value"]
    for cause in ("token-expired: 1", "missing-credential: 1", "wrong-audience: 1", "cognito-bad-credentials: 1"):
        assert cause in value


def test_explain_and_reanalyze_commands(api: httpx.Client, flows: list[dict]) -> None:
    explained = api.post("/commands/apigw.explain", json={"arguments": ["~comment expired"]}).json()["value"]
    assert explained.startswith("GET /prod/items: token-expired [H] ") and "Fix: (1)" in explained
    assert "\n" not in explained  # shown as one string in mitmweb
    assert api.post("/commands/apigw.reanalyze", json={"arguments": ["~comment \\[[HML]\\]"]}).json()["value"] == 4
    after = api.get("/flows").json()
    assert sum(f["comment"].count("token-expired [H]") for f in after) == 1  # reanalysis replaced, not appended


def test_post_without_xsrf_pair_is_refused(web: Mitmweb) -> None:
    reply = httpx.post(f"{web.base_url}/commands/apigw.summary", json={"arguments": ["@all"]},
                       headers={"Authorization": f"Bearer {web.password}"}, trust_env=False)  # fmt: skip
    assert reply.status_code == 403


def test_replayed_flow_reaches_the_sandbox_and_gets_a_fresh_verdict(web: Mitmweb, api: httpx.Client) -> None:
    expired = web.flow_of("token-expired", api.get("/flows").json())
    old_rid = web.results["token-expired"].request_id
    assert api.post(f"/flows/{expired['id']}/replay").status_code == 200
    deadline = time.monotonic() + 10
    while True:
        flow = next(f for f in api.get("/flows").json() if f["id"] == expired["id"])
        headers = (flow.get("response") or {}).get("headers", [])  # no response while the replay runs
        rids = [v for k, v in headers if k.lower() == "x-amzn-requestid"]
        if rids and rids[0] != old_rid:
            break
        assert time.monotonic() < deadline, "the replay did not complete"
        time.sleep(0.1)
    assert web.sandbox.reason_for(rids[0]).cause == "token-expired"  # the sandbox answered the replay itself
    assert flow["marked"] == "" and flow["comment"].count("token-expired [H]") == 1


def test_focus_commands_act_on_the_flow_the_browser_shows(web: Mitmweb, api: httpx.Client, flows: list[dict]) -> None:
    """mitmweb's selection lives in the browser; showing a flow fetches its content views, and `@focus` follows."""
    for name, cause in (("wrong-audience", "wrong-audience [H]"), ("token-expired", "token-expired [H]")):
        shown = web.flow_of(name, flows)
        assert api.get(f"/flows/{shown['id']}/request/content/Auto.json").status_code == 200  # what the UI asks
        explained = api.post("/commands/apigw.explain", json={"arguments": ["@focus"]}).json()["value"]
        assert cause in explained and explained.count(" | ") == 0, explained
