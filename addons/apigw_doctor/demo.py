"""`apigw-doctor demo`: the local sandbox, a real mitmdump with the addon, and a scripted client between them.

The client performs a representative set of the sandbox's scenarios through mitmdump (`-w` to a flow file). The
verdicts are read back from that file and compared with what the sandbox itself recorded as its reason: the demo
exits non-zero when the two differ. `--web` then keeps mitmweb running with the same flows loaded.
Nothing leaves 127.0.0.1. httpx (the scripted client) is the `demo` extra, imported only here.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from . import launch
from .demo_proc import ProxyProcess, ProxyStartError, proxy_argv
from .demo_report import DemoRow, DemoRun, Verdict, mismatch_lines, read_verdicts, results_table
from .demo_web import serve_web, web_help

if TYPE_CHECKING:
    from .sandbox.app import Sandbox
    from .sandbox.scenarios import Scenario, ScenarioResult

# One scenario per common cause and several successes (all of the sandbox's would make a long table). Each
# API's successes come first, as in real use: the engine also learns what a working call sends (docs/design.md).
DEMO_SCENARIOS: tuple[str, ...] = (
    # REST API, Cognito authorizer (and AWS_IAM methods on the same API: a signed success tells the engine so)
    "ok-rest-id-token",
    "ok-rest-scoped-access",
    "ok-iam-signed",
    "missing-credential",
    "malformed-double-bearer",
    "placeholder-token",
    "not-a-jwt",
    "refresh-token-sent",
    "token-expired",
    "bad-signature",
    "unknown-key",
    "wrong-issuer-pool",
    "wrong-token-type-id",
    "missing-scope",
    "route-not-found",
    "sigv4-expected",
    "cors-preflight-rest",
    # HTTP API, JWT authorizer
    "ok-http-id-token",
    "token-not-yet-valid",
    "wrong-audience",
    "backend-rejected",
    # IAM, Lambda authorizer, API key
    "sigv4-clock-skew",
    "authorizer-denied",
    "api-key-rejected",
    "waf-blocked-large-body",
    # Lambda TOKEN authorizers whose identity source / validation expression only the API definition shows
    "identity-source-mismatch",
    "token-validation-mismatch",
    # Cognito
    "ok-cognito-sign-in",
    "cognito-bad-credentials",
    "cognito-secret-hash",
    "oauth-wrong-content-type",
    "oauth-invalid-client",
    "cognito-auth-flow-not-enabled",
    # Cognito identity pool (the Amplify chain: user pool ID token -> identity pool -> AWS credentials)
    "ok-identity-get-id",
    "identity-pool-provider-mismatch",
    "identity-pool-unauth-disabled",
    "identity-pool-config",
)

INSTALL_HINT = "the demo needs httpx: pip install 'apigw-doctor[demo]'"

Step = Callable[[str], None]


class DemoError(RuntimeError):
    """A failure the user can act on (missing dependency, mitmdump would not start); printed without a traceback."""


def require_httpx() -> None:
    try:
        import httpx  # noqa: F401
    except ImportError as e:
        raise DemoError(INSTALL_HINT) from e


def select(names: Sequence[str] | None = None) -> list[Scenario]:
    from .sandbox.scenarios import SCENARIOS

    wanted = list(DEMO_SCENARIOS if names is None else names)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise DemoError(f"unknown scenario(s): {', '.join(unknown)}")
    return [known[n] for n in wanted]


def mitmdump_args(sb: Sandbox, flow_file: Path, options: Sequence[str] = ()) -> list[str]:
    """`options`: extra addon options as NAME=VALUE, as with `--set`."""
    return [
        *(arg for option in options for arg in ("--set", option)),
        "--set", "listen_host=127.0.0.1", "--set", "listen_port=0", "--set", "flow_detail=0",
        "--set", f"apigw_sandbox_upstream={sb.upstream}",
        "--set", f"ssl_verify_upstream_trusted_ca={sb.certs.ca}",
        "-w", str(flow_file),
    ]  # fmt: skip


def pool_keys(sb: Sandbox, workdir: Path) -> list[str]:
    """`apigw_jwks` options for the sandbox's pools, as a user passes the JWKS files downloaded from Cognito."""
    found = []
    for pool in sb.issuer.pools.values():
        path = workdir / f"jwks-{pool.issuer.rsplit('/', 1)[-1]}.json"
        path.write_text(json.dumps(pool.jwks()))
        found.append(f"apigw_jwks={pool.issuer}={path}")
    return found


def api_definitions(sb: Sandbox, workdir: Path) -> list[str]:
    """`apigw_api_spec` options for the sandbox's own OpenAPI exports, as a user passes `aws apigateway get-export`."""
    from .sandbox.export import write_exports

    return [f"apigw_api_spec={path}" for path in write_exports(sb.config, workdir / "definitions")]


def run_scenarios(
    sb: Sandbox,
    workdir: Path,
    *,
    names: Sequence[str] | None = None,
    confdir: Path | None = None,
    options: Sequence[str] = (),
    definitions: bool = True,
    step: Step = lambda _: None,
) -> DemoRun:
    """Run the scenarios through a fresh mitmdump (stopped again before this returns) and compare the verdicts.
    `definitions`: pass the sandbox's own OpenAPI exports (`apigw_api_spec`), as a user with the API's export would."""
    require_httpx()
    import httpx

    from .sandbox.scenarios import run_scenario
    from .sandbox.story import run_story

    scenarios = select(names)
    confdir = confdir or launch.certs_dir()
    confdir.mkdir(parents=True, exist_ok=True)
    flow_file, log_file = workdir / "demo.mitm", workdir / "mitmdump.log"
    started = time.monotonic()
    step("starting mitmdump")
    specs = api_definitions(sb, workdir) if definitions else []
    options = [*pool_keys(sb, workdir), *specs, *options]
    proxy = ProxyProcess(proxy_argv("mitmdump", confdir, mitmdump_args(sb, flow_file, options)), log_file)
    results: list[tuple[Scenario, ScenarioResult | None, str]] = []
    try:
        proxy.start()
        ca = confdir / "mitmproxy-ca-cert.pem"
        with sb.client(proxy=f"http://127.0.0.1:{proxy.port}", proxy_ca=ca, timeout=15) as client:
            for scenario in scenarios:
                step(scenario.name)
                if not proxy.running:
                    raise ProxyStartError(f"mitmdump stopped during the demo:\n{proxy.output}")
                try:
                    results.append((scenario, run_scenario(sb, scenario, client), ""))
                except httpx.HTTPError as e:
                    results.append((scenario, None, f"request failed: {type(e).__name__}: {e}"))
            if names is None:  # the whole demo also plays one conversation, for the timeline (sandbox/story.py)
                step("a conversation: sign-in, refresh, stale calls, sign-out")
                run_story(sb, client)
        step("reading the verdicts back from the flow file")
    finally:
        proxy.stop()
    verdicts = read_verdicts(flow_file) if flow_file.exists() else {}
    rows = [compare(scenario, result, verdicts, error) for scenario, result, error in results]
    return DemoRun(rows, flow_file, time.monotonic() - started, log_file)


def compare(scenario: Scenario, result: ScenarioResult | None, verdicts: dict[str, Verdict], error: str) -> DemoRow:
    url = f"https://{scenario.host}{scenario.path}"
    base = {"scenario": scenario.name, "summary": scenario.summary, "method": scenario.method, "url": url}
    if result is None:
        return DemoRow(**base, status=None, expected=scenario.cause, verdict=None, confidence=None, matched=False,
                       note=error)  # fmt: skip
    outcome = result.sandbox
    verdict = verdicts.get(result.request_id or "")
    notes = []
    if outcome is None:
        notes.append("the sandbox has no record of this request (no request id in the answer)")
    if verdict is None:
        notes.append("the flow is missing from the flow file")
    if outcome is not None and not result.ok:
        notes.append(f"the sandbox meant {scenario.cause or 'allow'} / {scenario.status}")
    cause = verdict.cause if verdict else None
    return DemoRow(
        **base,
        status=result.status,
        expected=result.sandbox_cause,
        verdict=cause,
        confidence=verdict.confidence if verdict else None,
        matched=outcome is not None and verdict is not None and cause == result.sandbox_cause,
        warnings=verdict.warnings if verdict else (),
        comment=verdict.comment_head if verdict else "",
        marked=verdict.marked if verdict else "",
        sandbox_check=outcome.check if outcome else "",
        sandbox_detail=outcome.detail if outcome else "",
        note="; ".join(notes),
    )


# --- the command --------------------------------------------------------------------------------------------------


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C does, so the subprocesses and the sandbox are always stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _progress(err: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def run_demo(
    web: bool = False,
    as_json: bool = False,
    *,
    names: Sequence[str] | None = None,
    confdir: Path | None = None,
    workdir: Path | None = None,
    open_browser: bool | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The `apigw-doctor demo` command. 0: every verdict matched the sandbox; 1: some did not; 2: could not run;
    130: interrupted before the results were shown. With `web`, mitmweb keeps running until Ctrl-C (or SIGTERM);
    it opens a browser when `open_browser`, by default when standard output is a terminal.
    """
    out = out or sys.stdout
    stdout = Console(file=out, soft_wrap=True)
    if not stdout.is_terminal:
        stdout = Console(file=out, width=140, soft_wrap=True)
    stderr = Console(file=err or sys.stderr, soft_wrap=True)
    info = stderr if as_json else stdout
    workdir = workdir or Path(tempfile.mkdtemp(prefix="apigw-doctor-demo-"))
    sb: Sandbox | None = None
    web_proc: ProxyProcess | None = None
    code: int | None = None
    try:
        with _sigterm_as_interrupt():
            require_httpx()
            scenarios = select(names)
            from .sandbox.app import Sandbox

            with _progress(stderr) as progress:
                task = progress.add_task("starting the sandbox", total=len(scenarios) + 2 + (names is None))
                sb = Sandbox.start()
                progress.advance(task)

                def step(text: str) -> None:
                    if text not in ("starting mitmdump", "reading the verdicts back from the flow file"):
                        progress.advance(task)
                    progress.update(task, description=text)

                run = run_scenarios(sb, workdir, names=names, confdir=confdir, step=step)
                progress.advance(task)
            if as_json:
                out.write(json.dumps(run.as_dict(), indent=2) + "\n")
                out.flush()
            else:
                show_table(run, stdout)
            report_mismatches(run, stderr)
            timeline_hint(run, info)
            code = 0 if run.ok else 1
            if not web:
                explore_hint(run, info)
                return code
            info.print(f"\nThe flows (with their comments and verdicts) are saved in {run.flow_file}", highlight=False)
            if open_browser is None:
                open_browser = stdout.is_terminal
            web_proc = serve_web(sb, run.flow_file, confdir or launch.certs_dir(), workdir, open_browser=open_browser)
            web_help(sb, web_proc, confdir or launch.certs_dir(), info)
            web_proc.wait()
            return code
    except KeyboardInterrupt:
        if code is None:
            stderr.print("[yellow]interrupted: stopping mitmproxy and the sandbox[/]")
            return 130
        stderr.print("stopping mitmweb and the sandbox")
        return code
    except (DemoError, ProxyStartError) as e:
        stderr.print(Text.assemble(("apigw-doctor demo: ", "bold red"), str(e)), highlight=False)
        return 2
    finally:
        if web_proc is not None:
            web_proc.stop()
        if sb is not None:
            sb.stop()


def show_table(run: DemoRun, console: Console) -> None:
    title = f"apigw-doctor demo: {len(run.rows)} sandbox scenarios through mitmdump ({run.seconds:.1f} s)"
    console.print(results_table(run.rows, title))
    colour = "green" if run.ok else "red"
    console.print(f"[bold {colour}]{run.matched}/{len(run.rows)} verdicts match what the sandbox did.[/]")


def report_mismatches(run: DemoRun, console: Console) -> None:
    problems = mismatch_lines(run.rows)
    if not problems:
        return
    console.print("[bold red]Verdicts that differ from what the sandbox did:[/]")
    for line in problems:
        console.print(f"  ✗ {line}", highlight=False, markup=False)
    if run.log_file:
        console.print(f"  mitmdump's log: {run.log_file}", highlight=False)


def timeline_hint(run: DemoRun, console: Console) -> None:
    """Write report.html (the token timeline, report/html.py) beside the flows and say where it is."""
    from .report.html import report_for_file

    if run.flow_file.exists():
        path = report_for_file(run.flow_file, run.flow_file.with_name("report.html"), "apigw-doctor demo")
        console.print(f"\nThe timeline of these flows (open it in a browser): {path}", highlight=False)


def saved_hint(run: DemoRun, console: Console) -> None:
    console.print(f"\nThe flows (with their comments and verdicts) are saved in {run.flow_file}", highlight=False)


def explore_hint(run: DemoRun, console: Console) -> None:
    saved_hint(run, console)
    console.print("Explore them in mitmweb:", highlight=False)
    command = launch.program()
    console.print(f"  {command} demo --web    # the demo again, then mitmweb with its flows", highlight=False)
    console.print(
        f"  {command} web -r {shlex.quote(str(run.flow_file))}    # mitmweb on the saved flows", highlight=False
    )
