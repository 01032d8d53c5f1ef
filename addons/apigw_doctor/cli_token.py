"""`apigw-doctor token [JWT|-]`: decode one token and explain it. Nothing is verified or sent anywhere."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .model import Credential, Token
from .pools import split_cognito_issuer
from .reading import read_credential
from .timefmt import ago, utc
from .tokens import token_summary

_DAMAGE = {
    "line-break": "contains a line break: copy it again without the newline",
    "leading-whitespace": "starts with whitespace",
    "trailing-whitespace": "ends with whitespace (often a newline from a file or `echo`)",
    "inner-whitespace": "has whitespace inside the token: it was wrapped or pasted in pieces",
    "quoted": "is wrapped in quotes: send the token without them",
    "double-scheme": "says `Bearer` twice",
    "scheme-colon": "has `Bearer:` with a colon: use `Bearer <token>`",
    "scheme-case": "uses lower-case `bearer`; send `Bearer`",
}


def read_input(value: str) -> str:
    if value != "-":
        return value
    if sys.stdin.isatty():
        print("Paste the token, then press Ctrl-D:", file=sys.stderr)
    text = sys.stdin.read()
    return text[:-1] if text.endswith("\n") and not text.endswith("\n\n") else text  # the shell's own newline


# Exit codes: the token would pass the time checks / it is expired, not yet valid or not a usable token / no input.
OK, UNUSABLE, NO_INPUT = 0, 1, 2


def describe(raw: str, now: float) -> dict[str, Any]:
    """Plain data about the token, with a one-line `status` and the `exit` code; the caller draws it."""
    if not raw.strip():
        return {"kind": "no input", "lints": [], "fingerprint": None, "exit": NO_INPUT,
                "status": "no input: give the token as an argument, or on standard input"}  # fmt: skip
    result = _describe(raw, now)
    result["status"], result["exit"] = _status(result, now)
    return result


def _status(info: dict[str, Any], now: float) -> tuple[str, int]:
    """One line: can this token pass API Gateway's time checks, and if not, why not."""
    claims = info.get("claims")
    if claims is None:
        return f"NOT USABLE: {info['kind']}, not a token API Gateway can validate", UNUSABLE
    exp, nbf, iat = (claims.get(k) for k in ("exp", "nbf", "iat"))
    if isinstance(exp, int | float) and exp <= now:
        return f"EXPIRED {ago(now - exp)} ago ({utc(exp)}, by this machine's clock)", UNUSABLE
    if isinstance(nbf, int | float) and nbf > now:
        return f"NOT YET VALID: nbf is {ago(nbf - now)} from now ({utc(nbf)})", UNUSABLE
    if isinstance(iat, int | float) and iat > now:
        return (
            f"NOT YET VALID: issued {ago(iat - now)} in the future (iat {utc(iat)}); HTTP API JWT authorizers "
            "refuse it. The issuer's clock or this machine's is wrong",
            UNUSABLE,
        )
    if not isinstance(exp, int | float):
        return "NO EXPIRY: the token has no exp claim; Cognito tokens always have one", UNUSABLE
    return f"valid for {ago(exp - now)} more (by this machine's clock; the signature is not checked)", OK


def _describe(raw: str, now: float) -> dict[str, Any]:
    credential, token = read_credential(raw)
    lints = [f"the value {_DAMAGE[d]}" for d in credential.damage if d in _DAMAGE]
    result: dict[str, Any] = {"kind": _kind(credential, token), "lints": lints, "fingerprint": None}
    if credential.kind == "placeholder":
        lints.append("this is a placeholder, not a token: the client had no token when it built the request")
    if token is None:
        if credential.kind == "opaque":
            lints.append(f"not a JWT: an opaque value of {len(credential.token or '')} characters")
        return result
    result["fingerprint"] = token.fingerprint
    if token.encrypted:
        lints.append("a refresh token (encrypted JWE): API Gateway cannot validate it; send the ID or access token")
        return result
    if token.problems:
        lints.extend(f"not a readable JWT: {p}" for p in token.problems)
        return result
    result.update(token_summary(token))
    result["facts"] = _facts(token, now)
    lints.extend(_claim_lints(token))
    return result


def _kind(credential: Credential, token: Token | None) -> str:
    if token is not None and token.encrypted:
        return "refresh token (JWE)"
    if token is None:
        return {
            "placeholder": "placeholder",
            "opaque": "opaque (not a JWT)",
            "sigv4": "AWS SigV4 signature",
            "basic": "HTTP Basic credentials",
            "missing": "empty",
        }.get(credential.kind, credential.kind)
    use = token.token_use
    return {"id": "Cognito ID token", "access": "Cognito access token"}.get(use or "", "JWT")


def _facts(token: Token, now: float) -> list[tuple[str, str]]:
    claims = token.claims
    facts: list[tuple[str, str]] = []
    iss = token.issuer
    if pool := split_cognito_issuer(iss):
        facts.append(("issuer", f"{iss} (pool {pool[1]}, region {pool[0]})"))
    elif iss:
        facts.append(("issuer", f"{iss} (not a Cognito user pool)"))
    if "aud" in claims:
        facts.append(("app client", f"aud={claims['aud']}"))
    if "client_id" in claims:
        facts.append(("app client", f"client_id={claims['client_id']}"))
    user = claims.get("cognito:username") or claims.get("username")
    if user or "sub" in claims:
        facts.append(("user", f"{user or ''} (sub {claims.get('sub')})".strip()))
    if token.scopes:
        facts.append(("scopes", " ".join(token.scopes)))
    if groups := claims.get("cognito:groups"):
        facts.append(("groups", ", ".join(map(str, groups)) if isinstance(groups, list) else str(groups)))
    for name, label in (("auth_time", "signed in"), ("iat", "issued"), ("nbf", "not before")):
        if isinstance(claims.get(name), int | float):
            when = claims[name]
            future = "  IN THE FUTURE" if name in ("iat", "auth_time") and when > now else ""
            facts.append((label, f"{utc(when)} ({_relative(when, now)}){future}"))
    exp = claims.get("exp")
    if isinstance(exp, int | float):
        state = f"expired {ago(now - exp)} ago" if exp <= now else f"valid for {ago(exp - now)}"
        facts.append(("expires", f"{utc(exp)} ({state}, by this machine's clock)"))
        if isinstance(claims.get("iat"), int | float):
            facts.append(("lifetime", ago(exp - claims["iat"])))
    facts.append(("header", ", ".join(f"{k}={v}" for k, v in token.header.items())))
    return facts


def _relative(when: float, now: float) -> str:
    return f"{ago(now - when)} ago" if when <= now else f"in {ago(when - now)}"


def _claim_lints(token: Token) -> list[str]:
    lints = []
    alg = token.header.get("alg")
    if alg not in ("RS256", "RS384", "RS512"):
        lints.append(f"alg {alg}: API Gateway accepts RSA-signed tokens only")
    if "kid" not in token.header:
        lints.append("no kid in the header: no JWKS key can match it")
    if token.token_use == "access" and token.scopes == ("aws.cognito.signin.user.admin",):
        lints.append(
            "access token from InitiateAuth: it carries no custom scopes; REST methods without OAuth "
            "scopes need the ID token instead"
        )
    if token.token_use == "id":
        lints.append(
            "ID token: accepted by REST methods without OAuth scopes; methods with scopes need the access token"
        )
    if (iss := token.issuer) and iss.endswith("/") and split_cognito_issuer(iss.rstrip("/")):
        lints.append("the issuer ends with a slash; Cognito issuers never do")
    return lints


def explain(value: str, *, as_json: bool) -> int:
    """The `token` command. Exit 0: the token would pass the time checks; 1: expired, not yet valid or not a usable
    token; 2: no input."""
    raw = read_input(value)
    info = describe(raw, time.time())
    if as_json:
        json.dump(info, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
        return info["exit"]
    if info["exit"] == NO_INPUT:
        print(f"apigw-doctor token: {info['status']}", file=sys.stderr)
        return NO_INPUT
    out = Console(highlight=False)
    if not out.is_terminal:  # a pipe or a file: whole lines, nothing cut at 80 columns
        out = Console(highlight=False, soft_wrap=True, width=200)
    colour = "green" if info["exit"] == OK else "bold red"
    out.print(f"[{colour}]{escape(info['status'])}[/]")
    out.print(
        f"[bold]{info['kind']}[/bold]"
        + (f"  [dim]fingerprint {info['fingerprint']}[/dim]" if info["fingerprint"] else "")
    )
    if info.get("facts"):
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column()
        for label, text in info["facts"]:
            table.add_row(label, text)
        out.print(table)
    for lint in info["lints"]:
        out.print(f"[yellow]•[/yellow] {lint}")
    if "claims" in info:
        out.print("[dim]claims (signature not shown):[/dim]")
        out.print_json(json.dumps(info["claims"], default=str))
    return info["exit"]
