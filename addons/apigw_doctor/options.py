"""The addon's mitmproxy options (docs/design.md, "Options"), declared once for the addon and the CLI alike, and how a
wrong value is refused: one line naming the option, the value and what to write instead.

mitmproxy reports an `OptionsError` raised while a `-s` script starts with its whole traceback, and a `--set` value
it cannot parse for a script's option makes it drop the script without a word. So: values that mitmproxy would fail
to parse are checked here first (`declare`), our own refusals are `OptionError`s that a log filter shows as their
one line, and an unknown `apigw_*` option is named with the nearest real one (`unknown_options`). Each of these logs
an error at start-up, so mitmdump and mitmweb exit non-zero; later changes are rolled back by mitmproxy.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from mitmproxy import exceptions

from .apidef import DefinitionError, load_definitions
from .keys import load_keystore
from .knowledge import Expectations, Knowledge, make_expectations

logger = logging.getLogger("apigw_doctor.addon")

# name, type, default, help. `collections.abc.Sequence[str]`, not typing's (docs/design.md, "Living inside mitmproxy
# 12").
ENGINE_OPTIONS: tuple[tuple[str, Any, Any, str], ...] = (
    ("apigw_hosts", Sequence[str], [], "Extra hosts to watch (custom domains); *.example.com allowed."),
    ("apigw_user_pools", Sequence[str], [], "User pools the authorizer accepts: pool id, pool ARN or issuer URL."),
    ("apigw_audiences", Sequence[str], [], "App client ids / audiences the authorizer accepts."),
    ("apigw_scopes", Sequence[str], [], "Scopes the method requires (any of); empty means no scopes."),
    ("apigw_authorizer", str, "auto", "Authorizer type: auto, cognito, jwt, lambda, iam, none."),
    ("apigw_identity_header", str, "Authorization", "Header the authorizer reads the token from."),
    ("apigw_jwks", Sequence[str], [], "JWKS files with the pools' keys (offline signature checks): PATH or POOL=PATH."),
    (
        "apigw_api_spec",
        Sequence[str],
        [],
        "API definitions (detected by content): OpenAPI/Swagger exports, AWS CLI "
        "get-authorizers/get-resources/get-routes/get-stages JSON, SAM/CloudFormation/CDK templates, terraform show "
        "-json, the apigw-doctor discover cache. API_ID=PATH names the API a file describes.",
    ),
    ("apigw_expiry_warning", int, 120, "Seconds before exp at which a passing flow gets an expires-soon warning."),
)
ENGINE_OPTION_NAMES = frozenset(name for name, *_ in ENGINE_OPTIONS)

REPEAT_CHOICES = ("summarise", "all")
OUTPUT_OPTIONS: tuple[tuple[str, Any, Any, str], ...] = (
    (
        "apigw_repeat",
        str,
        "summarise",
        "Terminal output for repeated verdicts: summarise (the first of each cause per route at once, then a count "
        "every few seconds) or all (every verdict).",
    ),
)

# What to write instead, for every option of the project (the evidence and sandbox addons' too).
HINTS: dict[str, str] = {
    "apigw_hosts": "a host name, e.g. --set apigw_hosts=api.example.com or --set apigw_hosts=*.example.com",
    "apigw_user_pools": "a pool id, pool ARN or issuer URL, e.g. --set apigw_user_pools=us-east-1_AbCdEf123",
    "apigw_audiences": "an app client id, e.g. --set apigw_audiences=1example23456789abcdefghij",
    "apigw_scopes": "a scope, e.g. --set apigw_scopes=orders/read (one --set per scope)",
    "apigw_authorizer": "e.g. --set apigw_authorizer=cognito",
    "apigw_identity_header": "a header name, e.g. --set apigw_identity_header=Authorization",
    "apigw_jwks": "the path of a readable JWKS file, e.g. --set apigw_jwks=jwks.json (or POOL=PATH)",
    "apigw_api_spec": "the path of an API definition, e.g. --set apigw_api_spec=openapi.json (or API_ID=PATH)",
    "apigw_discover": "true or false, e.g. --set apigw_discover=true",
    "apigw_expiry_warning": "a whole number of seconds, 0 or more, e.g. --set apigw_expiry_warning=300",
    "apigw_repeat": "summarise or all, e.g. --set apigw_repeat=all",
    "apigw_evidence_dir": "a folder you can write to, e.g. --set apigw_evidence_dir=ticket/",
    "apigw_evidence_max_mb": "0 (no limit) or a number of megabytes, e.g. --set apigw_evidence_max_mb=500",
    "apigw_redact_personal": "true or false, e.g. --set apigw_redact_personal=true",
    "apigw_sandbox_upstream": "HOST:PORT, e.g. --set apigw_sandbox_upstream=127.0.0.1:8443",
    "apigw_sandbox_hosts": "a host pattern, e.g. --set apigw_sandbox_hosts=*.execute-api.us-east-1.amazonaws.com",
}

_PARAMS = {  # option -> make_expectations parameter
    "apigw_hosts": "hosts",
    "apigw_user_pools": "user_pools",
    "apigw_audiences": "audiences",
    "apigw_scopes": "scopes",
    "apigw_authorizer": "authorizer",
    "apigw_identity_header": "identity_header",
    "apigw_expiry_warning": "expiry_warning",
}


class OptionError(exceptions.OptionsError):
    """A wrong value for one of our options; its text is the one line the user sees."""


def invalid(name: str, value: Any, problem: str) -> OptionError:
    """`NAME=VALUE: PROBLEM; write HINT`. `problem` may start with the option's name (dropped)."""
    problem = problem.strip().removeprefix(name).lstrip(" :").removeprefix("entry ").strip() or "not valid"
    hint = HINTS.get(name)
    return OptionError(f"{name}={_show(value)}: {problem}" + (f"; write {hint}" if hint else ""))


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) if value else "(empty)"
    text = str(value)
    return "".join(c if c.isprintable() else "?" for c in text[:200]) or "(empty)"


def declare(loader: Any, specs: Iterable[tuple[str, Any, Any, str]] = ENGINE_OPTIONS + OUTPUT_OPTIONS) -> None:
    """Add the options, then check the `--set` values mitmproxy holds back for them until they exist."""
    install_one_line_errors()
    names = []
    for name, typespec, default, help_text in specs:
        loader.add_option(name, typespec, default, help_text)
        names.append(name)
    if (master := getattr(loader, "master", None)) is not None:  # `analyze` declares on a bare OptManager
        check_deferred(master.options, names)


def check_deferred(opts: Any, names: Iterable[str]) -> None:
    """Call from `load`, after `add_option`. A `--set` value mitmproxy cannot parse (`apigw_expiry_warning=abc`)
    would make it drop the whole script silently: log our one line instead (an error at start-up, so mitmproxy
    exits) and drop only that value."""
    install_one_line_errors()
    deferred = getattr(opts, "deferred", {})
    for name in names:
        value = deferred.get(name)
        raw = getattr(value, "val", None)  # `--set` strings not yet converted (config.yaml values arrive typed)
        if raw is None:
            continue
        try:
            opts._parse_setval(opts._options[name], raw)
        except (exceptions.OptionsError, KeyError, AttributeError, NotImplementedError) as e:
            del deferred[name]
            problem = "not a number" if "integer" in str(e) else "not true or false" if "boolean" in str(e) else str(e)
            logger.error(str(invalid(name, raw[-1] if len(raw) == 1 else raw, problem)))


def unknown_options(opts: Any) -> list[str]:
    """One line for each `--set apigw_...` that no addon declared, naming the nearest real option."""
    ours = sorted(name for name in opts.keys() if name.startswith("apigw_"))  # noqa: SIM118 (no __iter__)
    lines = []
    for name in sorted(n for n in getattr(opts, "deferred", {}) if n.startswith("apigw")):
        near = difflib.get_close_matches(name, ours, n=1, cutoff=0.6)
        lines.append(
            f"unknown option {name}" + (f"; did you mean {near[0]}?" if near else "")
            + " (apigw-doctor dump --options lists them all)"
        )  # fmt: skip
    return lines


class _OneLine(logging.Filter):
    """mitmproxy logs a script's failed start-up `configure` with its traceback; ours is one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, OptionError):
            record.msg, record.args, record.exc_info, record.exc_text = str(error), (), None, None
        return True


def install_one_line_errors() -> None:
    script_log = logging.getLogger("mitmproxy.addons.script")
    if not any(isinstance(f, _OneLine) for f in script_log.filters):
        script_log.addFilter(_OneLine())


def expectations_from(options: Any) -> Expectations:
    """Read and validate the engine options; raises OptionError naming the option, its value and what to write."""
    values = {param: getattr(options, name) for name, param in _PARAMS.items()}
    values = {k: list(v) if isinstance(v, list | tuple) else v for k, v in values.items()}
    try:
        return make_expectations(**values)
    except ValueError as error:
        for name, param in _PARAMS.items():  # which option: check each on its own
            try:
                make_expectations(**{param: values[param]})
            except ValueError as e:
                raise invalid(name, getattr(options, name), str(e)) from e
        raise invalid("apigw_expiry_warning", values["expiry_warning"], str(error)) from error


def knowledge_from(options: Any) -> Knowledge:
    """Expectations, keys and API definitions from the options; raises OptionError with a message fit for the user."""
    expectations = expectations_from(options)
    try:
        keys = load_keystore(options.apigw_jwks, pools=expectations.issuers)
    except ValueError as e:
        raise invalid("apigw_jwks", options.apigw_jwks, str(e)) from e
    try:
        definitions = load_definitions(options.apigw_api_spec)
    except DefinitionError as e:  # already one line: file, place, reason
        raise OptionError(f"apigw_api_spec: {e}") from None
    return Knowledge(expectations, keys, definitions)
