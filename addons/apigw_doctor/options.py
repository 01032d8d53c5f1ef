"""The engine's mitmproxy options (DESIGN.md table), declared once for the addon and the CLI alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .apidef import DefinitionError, load_definitions
from .keys import load_keystore
from .knowledge import Expectations, Knowledge, make_expectations

# name, type, default, help. `collections.abc.Sequence[str]`, not typing's: see mitmproxy12-notes.md gotcha 1.
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


def declare(loader: Any) -> None:
    for name, typespec, default, help_text in ENGINE_OPTIONS:
        loader.add_option(name, typespec, default, help_text)


def expectations_from(options: Any) -> Expectations:
    """Read and validate the engine options; raises ValueError naming the option and what it should hold."""
    return make_expectations(
        hosts=list(options.apigw_hosts),
        user_pools=list(options.apigw_user_pools),
        audiences=list(options.apigw_audiences),
        scopes=list(options.apigw_scopes),
        authorizer=options.apigw_authorizer,
        identity_header=options.apigw_identity_header,
        expiry_warning=options.apigw_expiry_warning,
    )


def knowledge_from(options: Any) -> Knowledge:
    """Expectations and keys from the options; raises ValueError with a message fit for the user."""
    try:
        definitions = load_definitions(options.apigw_api_spec)
    except DefinitionError as e:
        raise ValueError(f"apigw_api_spec: {e}") from None
    return Knowledge(expectations_from(options), load_keystore(options.apigw_jwks), definitions)
