"""`apigw-doctor`: mitmdump/mitmweb with the addon, offline analysis, token decoding and the demo."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ADDON_SCRIPT = Path(__file__).resolve().parent.parent / "apigw_doctor_addon.py"


def certs_dir() -> Path:
    """The project's `certs/` folder in a checkout; `~/.apigw-doctor/certs` for an installed package."""
    checkout = Path(__file__).resolve().parents[2] / "certs"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".apigw-doctor" / "certs"


def tool_path(name: str) -> str:
    """mitmdump/mitmweb from this Python's environment first, so the addon's dependencies are importable."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def program() -> str:
    """How the user can type this command again: `apigw-doctor` when it is on PATH, else its path (a venv's bin)."""
    beside = Path(sys.executable).parent / "apigw-doctor"
    on_path = shutil.which("apigw-doctor")
    if on_path and Path(on_path).resolve() == beside.resolve():
        return "apigw-doctor"
    try:
        return os.path.relpath(beside)
    except ValueError:
        return str(beside)


def proxy_command(tool: str, args: list[str]) -> list[str]:
    script = ADDON_SCRIPT if ADDON_SCRIPT.exists() else None
    if script is None:
        raise SystemExit("apigw-doctor: the addon script apigw_doctor_addon.py is missing from the installation")
    confdir = certs_dir()
    confdir.mkdir(parents=True, exist_ok=True)
    return [tool_path(tool), "-s", str(script), "--set", f"confdir={confdir}", *args]


# mitmweb's flow list with the verdict column (mitmweb's own default lacks `comment`).
WEB_COLUMNS = ("icon", "method", "path", "status", "size", "time", "comment")


# mitmdump's request lines (flow_detail 1) print URLs with their query strings, where tokens sometimes travel.
# Unless the user chooses a detail level, the terminal shows only the verdicts, which never hold a secret.
_DETAIL_FLAGS = ("flow_detail", "--flow-detail", "-v", "--verbose", "-q", "--quiet")


def run_proxy(tool: str, args: list[str]) -> int:
    if tool == "mitmweb" and not any("web_columns" in a for a in args):
        args = [*(f"--set=web_columns={c}" for c in WEB_COLUMNS), *args]  # before any positional filter
    if tool == "mitmdump" and not any(a.startswith(_DETAIL_FLAGS) or "flow_detail" in a for a in args):
        args = ["--set=flow_detail=0", *args]
    command = proxy_command(tool, args)
    os.execv(command[0], command)  # hand the terminal to mitmproxy: signals and exit code are its own
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apigw-doctor",
        description="Explains why AWS API Gateway answered 401/403 and why Amazon Cognito refused a sign-in.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for tool, text in (("dump", "mitmdump"), ("web", "mitmweb")):
        p = sub.add_parser(tool, help=f"run {text} with the addon and certs/ as confdir (other arguments pass through)")
        p.add_argument("args", nargs=argparse.REMAINDER, help=f"arguments for {text}, e.g. --set apigw_scopes=x")

    p = sub.add_parser("analyze", help="analyse HAR or mitmproxy flow files offline")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object (schema in DESIGN.md)")
    p.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an addon option, as with mitmdump --set (repeatable)",
    )
    p.add_argument("--evidence", metavar="DIR", help="write a redacted evidence bundle for each diagnosed failure")
    p.add_argument("--all", action="store_true", help="list every flow, not only diagnosed ones")
    p.add_argument("--html", metavar="OUT.html", help="write a self-contained timeline report (no network, no secrets)")

    p = sub.add_parser("token", help="decode and explain one token (never verified, never sent anywhere)")
    p.add_argument("token", nargs="?", default="-", help="the token, or - (default) to read it from standard input")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("demo", help="run the built-in sandbox scenarios through mitmdump")
    p.add_argument("--web", action="store_true", help="keep mitmweb running with the demo's flows loaded")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["dump"], ["web"]) and argv[1:2] not in (["-h"], ["--help"]):
        # Everything after the word belongs to mitmproxy (argparse's REMAINDER refuses a leading option).
        return run_proxy("mitmdump" if argv[0] == "dump" else "mitmweb", argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "analyze":
        from .cli_analyze import analyze

        return analyze(
            args.files, args.options, as_json=args.json, evidence=args.evidence, show_all=args.all, html=args.html
        )
    if args.command == "token":
        from .cli_token import explain

        return explain(args.token, as_json=args.json)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(web=args.web, as_json=args.json)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
