"""`analyze` at scale: time and peak memory for a large HAR, against a bare `json.load` of the same file.

Each side runs in a fresh process, so its peak RSS (`ru_maxrss`) is its own. The HAR is made of realistic entries
(Chrome's shape: headers, timings, a JSON body), a mix of passing calls and 401s with expired tokens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from common import REST_HOST, VENV_BIN, TokenFactory, builders

_JSON_LOAD = "import json,sys\nwith open(sys.argv[1], encoding='utf-8') as fp:\n    json.load(fp)\n"


@dataclass
class ScaleResult:
    entries: int
    file_mb: float
    json_load_s: float
    analyze_s: float
    time_ratio: float
    json_load_peak_mb: float
    analyze_peak_mb: float
    memory_ratio: float  # analyze peak RSS / file size
    evidence_s: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _entry(i: int, token: str, failing: bool) -> dict:
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(builders.NOW))
    started = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(builders.NOW))
    body = '{"message":"The incoming token has expired"}' if failing else json.dumps({"items": [i] * 200})
    request_headers = [
        {"name": ":authority", "value": REST_HOST},
        {"name": "accept", "value": "application/json, text/plain, */*"},
        {"name": "authorization", "value": f"Bearer {token}"},
        {
            "name": "user-agent",
            "value": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
        },
        {"name": "origin", "value": "https://app.example.com"},
        {"name": "referer", "value": "https://app.example.com/"},
    ]
    response_headers = [
        {"name": "content-type", "value": "application/json"},
        {"name": "date", "value": date},
        {"name": "x-amzn-requestid", "value": f"{i:08x}-0000-4000-8000-000000000000"},
        {"name": "x-amz-apigw-id", "value": "W_AP1ZWIiYdDlQw="},
        {"name": "access-control-allow-origin", "value": "*"},
    ]
    if failing:
        response_headers.append({"name": "x-amzn-errortype", "value": "UnauthorizedException"})
    return {
        "startedDateTime": started,
        "time": 42.0,
        "request": {
            "method": "GET",
            "url": f"https://{REST_HOST}/prod/items/{i}",
            "httpVersion": "http/2.0",
            "headers": request_headers,
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 401 if failing else 200,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": response_headers,
            "cookies": [],
            "content": {"size": len(body), "mimeType": "application/json", "text": body},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(body),
        },
        "cache": {},
        "timings": {"blocked": 1, "dns": -1, "connect": -1, "ssl": -1, "send": 0, "wait": 40, "receive": 1},
        "serverIPAddress": "127.0.0.1",
    }


def write_har(path: Path, entries: int) -> None:
    factory = TokenFactory(pool=64)
    with path.open("w", encoding="utf-8") as fp:
        fp.write('{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [], ')
        fp.write('"entries": [')
        for i in range(entries):
            failing = i % 5 == 0
            token = factory.token(expired=failing)
            fp.write(("," if i else "") + json.dumps(_entry(i, token, failing)))
        fp.write("]}}\n")


_WRAPPER = (
    "import resource,subprocess,sys,time\n"
    "start = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of `args`, run as the only child of a fresh wrapper process."""
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *args], check=True, capture_output=True, text=True)
    seconds, peak_kb = out.stdout.split()
    return float(seconds), float(peak_kb) / 1024


def measure_scale(entries: int, *, evidence: bool = False, progress=print) -> ScaleResult:
    with tempfile.TemporaryDirectory(prefix="apigw-bench-har-") as tmp:
        har = Path(tmp) / "big.har"
        write_har(har, entries)
        size_mb = har.stat().st_size / 2**20
        progress(f"  HAR of {entries:,} entries, {size_mb:.0f} MB")
        load_args = [sys.executable, "-c", _JSON_LOAD, str(har)]
        analyze_args = [str(VENV_BIN / "apigw-doctor"), "analyze", str(har), "--json"]
        json_s, json_peak = _run(load_args)
        analyze_s, analyze_peak = _run(analyze_args)
        evidence_s = None
        if evidence:
            evidence_s, _ = _run([*analyze_args, "--evidence", str(Path(tmp) / "evidence")])
    return ScaleResult(
        entries,
        size_mb,
        json_s,
        analyze_s,
        analyze_s / json_s,
        json_peak,
        analyze_peak,
        analyze_peak / size_mb,
        evidence_s,
    )


if __name__ == "__main__":
    print(json.dumps(measure_scale(int(sys.argv[1]) if len(sys.argv) > 1 else 5000).as_dict()))
