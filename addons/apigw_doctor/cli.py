"""`apigw-doctor`: mitmdump/mitmweb with the addon, offline analysis, token decoding and the demo."""

from __future__ import annotations

import argparse
import os
import sys

from . import launch


def run_proxy(tool: str, args: list[str]) -> int:
    command = launch.mitmproxy_command(tool, args)
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
    p.add_argument("--json", action="store_true", help="print one JSON object (schema: docs/design.md)")
    p.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an addon option, as with mitmdump --set (repeatable)",
    )
    p.add_argument(
        "--api-spec",
        dest="options",
        action="append",
        type="apigw_api_spec={}".format,
        metavar="PATH",
        help="an API definition, detected by content (same as --set apigw_api_spec=PATH; repeatable)",
    )
    p.add_argument("--evidence", metavar="DIR", help="write a redacted evidence bundle for each diagnosed failure")
    p.add_argument("--all", action="store_true", help="list every flow, not only diagnosed ones")
    p.add_argument("--html", metavar="OUT.html", help="write a self-contained timeline report (no network, no secrets)")

    p = sub.add_parser("token", help="decode and explain one token (never verified, never sent anywhere)")
    p.add_argument("token", nargs="?", default="-", help="the token, or - (default) to read it from standard input")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("discover", help="read an API's authorizers, routes and stages from AWS (read-only) into a file")
    p.add_argument("api_ids", nargs="+", metavar="API_ID")
    p.add_argument("--region", help="the API's region (default: the AWS profile's)")
    p.add_argument("--out", metavar="PATH", help="the cache file to write (default: apigw-API_ID.discover.json)")

    p = sub.add_parser("sandbox", help="the local API Gateway + Cognito sandbox with mitmdump and the doctor in front")
    p.add_argument("--port", type=int, default=0, help="the sandbox's port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-proxy", action="store_true", help="run the sandbox alone, without mitmdump")

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
    if args.command == "discover":
        from .cli_discover import discover

        return discover(args.api_ids, args.region, args.out)
    if args.command == "sandbox":
        from .sandbox.__main__ import run

        return run(port=args.port, proxy=not args.no_proxy)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(web=args.web, as_json=args.json)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
