"""The SigV4 verifier agrees with botocore's signer, and the sandbox's own signer agrees with botocore."""

from __future__ import annotations

import datetime
import time
from unittest import mock

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from apigw_doctor.sandbox import sigv4
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import SANDBOX_CREDENTIALS
from apigw_doctor.sandbox.scenarios import FURL, REST

CREDS = BotoCredentials(SANDBOX_CREDENTIALS.access_key_id, SANDBOX_CREDENTIALS.secret_access_key)


def boto_signed(url: str, service: str, *, method: str = "GET", body: bytes = b"", when: float | None = None):
    req = AWSRequest(method=method, url=url, data=body)
    fixed = datetime.datetime.fromtimestamp(when or time.time(), datetime.UTC).replace(tzinfo=None)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.now.return_value = fixed
        dt.datetime.utcnow.return_value = fixed
        SigV4Auth(CREDS, service, "us-east-1").add_auth(req)
    return dict(req.headers.items())


def test_botocore_signature_passes_the_gateway(sandbox: Sandbox, client: httpx.Client) -> None:
    url = f"https://{REST}/prod/iam/items?b=2&a=1&a=0"
    headers = boto_signed(url, "execute-api")
    assert client.get(url, headers=headers).status_code == 200
    furl = f"https://{FURL}/"
    assert client.get(furl, headers=boto_signed(furl, "lambda")).status_code == 200
    # signed for the wrong service: the scope names lambda, not execute-api
    resp = client.get(url, headers=boto_signed(url, "lambda"))
    assert resp.status_code == 403
    assert resp.content == b'{"message":"Credential should be scoped to correct service: \'execute-api\'."}'


def test_tampered_request_fails_signature(sandbox: Sandbox, client: httpx.Client) -> None:
    url = f"https://{REST}/prod/iam/items?a=1"
    headers = boto_signed(url, "execute-api")
    resp = client.get(f"https://{REST}/prod/iam/items?a=2", headers=headers)
    assert resp.status_code == 403
    assert resp.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert sandbox.reason_for(resp.headers["x-amzn-requestid"]).cause == "sigv4-signature-mismatch"


def test_own_signer_matches_botocore() -> None:
    url = f"https://{REST}/prod/iam/items?x=1"
    when = float(int(time.time()))
    ours = sigv4.sign("GET", url, SANDBOX_CREDENTIALS, region="us-east-1", service="execute-api", now=when)
    theirs = boto_signed(url, "execute-api", when=when)
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"]
    assert ours["Authorization"] == theirs["Authorization"]


def test_verify_outcomes_without_network() -> None:
    now = time.time()
    url = f"https://{REST}/prod/iam/items"
    signed = sigv4.sign("GET", url, SANDBOX_CREDENTIALS, region="us-east-1", service="execute-api", now=now)
    base = {"host": [REST], "x-amz-date": [signed["X-Amz-Date"]]}
    keys = {SANDBOX_CREDENTIALS.access_key_id: SANDBOX_CREDENTIALS.secret_access_key}

    def check(authorization: str | None, headers: dict | None = None, at: float = now) -> sigv4.Verification:
        hdrs = dict(headers if headers is not None else base)
        if authorization is not None:
            hdrs["authorization"] = [authorization]
        return sigv4.verify("GET", "/prod/iam/items", "", hdrs, b"", keys=keys, region="us-east-1",
                            service="execute-api", now=at)  # fmt: skip

    assert check(signed["Authorization"]).outcome == "ok"
    assert check(None).outcome == "unsigned"
    assert check("Bearer a.b.c").outcome == "missing-equal-sign"
    incomplete = check("a.b.c", headers={"host": [REST]})
    assert incomplete.outcome == "incomplete"
    assert incomplete.missing == ("Credential", "Signature", "SignedHeaders", "date")
    assert check(signed["Authorization"], at=now + 301).outcome == "expired"
    assert check(signed["Authorization"], at=now - 301).outcome == "not-yet-current"
    assert check(signed["Authorization"].replace("us-east-1", "eu-west-1")).outcome == "wrong-region"
