"""The conversation capture (sandbox/story.py) recorded through a real mitmdump, for the lineage and timeline tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.story import Step, run_story
from tests.e2e.e2e_harness import LiveMitmdump, read_flows


@dataclass
class Conversation:
    steps: list[Step]
    flows: list
    stdout: str
    flows_file: Path
    secrets: list[str]  # every token the sandbox issued in the story

    def meta(self, number: int) -> dict:
        return self.flows[number - 1].metadata.get("apigw_doctor") or {}


def record_story(workdir: Path) -> Conversation:
    """Sandbox + mitmdump with the addon; play the story with httpx through it; read the -w file back."""
    with Sandbox(workdir / "sandbox") as sb:
        proxy = LiveMitmdump(workdir, sb).start()  # type: ignore[arg-type]  # the sandbox is the TLS upstream
        try:
            with proxy.client() as client:
                steps = run_story(sb, client, short_ttl=5)
        finally:
            proxy.stop()
        grants = sb.issuer.pool.refresh_grants
    flows = read_flows(proxy.flows_file)
    secrets = [*grants]
    for f in flows:
        body = f.response.content or b"" if f.response else b""
        if b"AuthenticationResult" in body:
            result = json.loads(body)["AuthenticationResult"]
            secrets += [result["IdToken"], result["AccessToken"]]
    return Conversation(steps, flows, proxy.stdout, proxy.flows_file, secrets)
