"""`apigw-doctor discover API_ID`: read an API's definition from AWS, read-only, into a cache file for apigw_api_spec.

Calls (all read-only): apigateway get-rest-api / get-authorizers / get-resources --embed methods / get-stages /
get-usage-plans, or apigatewayv2 get-api / get-routes / get-authorizer (each one the routes use) / get-stages;
cognito-idp describe-user-pool-client for the app clients a JWT authorizer names (allowed OAuth flows and scopes
only: the client secret is never kept). boto3 uses the normal credential chain; nothing from the traffic, and no
token, is ever sent. The cache file holds the raw responses, so `apidef.awscli` reads it like AWS CLI output.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .pools import split_cognito_issuer

CACHE_VERSION = 1
_CLIENT_FIELDS = ("ClientId", "ClientName", "UserPoolId", "AllowedOAuthFlows", "AllowedOAuthScopes",
                  "AllowedOAuthFlowsUserPoolClient", "ExplicitAuthFlows")  # fmt: skip
_MAX_PAGES = 50


class DiscoverError(Exception):
    """Discovery cannot go on; the message is one line for the user."""


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise DiscoverError("discover needs boto3: pip install 'apigw-doctor[discover]'") from None
    return boto3


def _clean(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _pages(call: Any, items_key: str, token_in: str, token_out: str, **kwargs: Any) -> dict[str, Any]:
    """All pages of a list call, as one response with every item under `items_key`."""
    items: list[Any] = []
    token = None
    for _ in range(_MAX_PAGES):
        response = call(**kwargs, **({token_in: token} if token else {}))
        items.extend(response.get(items_key) or [])
        token = response.get(token_out)
        if not token:
            break
    return {items_key: items}


def discover_api(api_id: str, region: str | None = None, session: Any = None) -> dict[str, Any]:
    """One API's entry for the cache file; raises DiscoverError with one line (not found, no access, ...)."""
    boto3 = _boto3()
    from botocore.exceptions import BotoCoreError, ClientError

    session = session or boto3.session.Session(region_name=region)
    region = region or session.region_name
    if not region:
        raise DiscoverError("no region: pass --region or set AWS_REGION")
    try:
        rest = session.client("apigateway", region_name=region)
        try:
            api = rest.get_rest_api(restApiId=api_id)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "NotFoundException":
                raise
            return _discover_v2(session, api_id, region)
        entry = {
            "apiId": api_id,
            "protocol": "REST",
            "name": api.get("name"),
            "region": region,
            "apiKeySource": api.get("apiKeySource"),
            "authorizers": _pages(rest.get_authorizers, "items", "position", "position", restApiId=api_id, limit=500),
            "resources": _pages(
                rest.get_resources, "items", "position", "position", restApiId=api_id, limit=500, embed=["methods"]
            ),
            "stages": {"item": _clean(rest.get_stages(restApiId=api_id)).get("item", [])},
        }
        plans = _pages(rest.get_usage_plans, "items", "position", "position", limit=500)["items"]
        entry["usagePlans"] = {
            "items": [p for p in plans if any(s.get("apiId") == api_id for s in p.get("apiStages") or [])]
        }
        pools = {arn.rsplit("/", 1)[-1] for a in entry["authorizers"]["items"] for arn in a.get("providerARNs") or []}
        entry["userPoolClients"] = _pool_clients(session, region, {(pool, None) for pool in pools})
        return entry
    except ClientError as e:
        error = e.response.get("Error", {})
        raise DiscoverError(f"{api_id} in {region}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as e:
        raise DiscoverError(f"{api_id} in {region}: {e}") from None


def _discover_v2(session: Any, api_id: str, region: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    v2 = session.client("apigatewayv2", region_name=region)
    try:
        api = v2.get_api(ApiId=api_id)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "NotFoundException":
            raise DiscoverError(f"no REST, HTTP or WebSocket API {api_id} in {region}") from None
        raise
    entry = {
        "apiId": api_id,
        "protocol": api.get("ProtocolType", "HTTP"),
        "name": api.get("Name"),
        "region": region,
        "routes": _pages(v2.get_routes, "Items", "NextToken", "NextToken", ApiId=api_id),
        "stages": _pages(v2.get_stages, "Items", "NextToken", "NextToken", ApiId=api_id),
    }
    # The authorizers the routes use, one get-authorizer each: the same items get-authorizers lists, minus
    # authorizers no route uses (and it works where the list call is missing, e.g. in emulators).
    used = sorted({r["AuthorizerId"] for r in entry["routes"]["Items"] if r.get("AuthorizerId")})
    entry["authorizers"] = {"Items": [_clean(v2.get_authorizer(ApiId=api_id, AuthorizerId=a)) for a in used]}
    wanted = set()
    for authorizer in entry["authorizers"]["Items"]:
        jwt = authorizer.get("JwtConfiguration") or {}
        pool = split_cognito_issuer(jwt.get("Issuer"))
        if pool:
            wanted |= {(pool[1], client) for client in jwt.get("Audience") or []}
    entry["userPoolClients"] = _pool_clients(session, region, wanted)
    return entry


def _pool_clients(session: Any, region: str, wanted: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """The app clients' allowed OAuth flows and scopes (describe-user-pool-client); never the secret."""
    from botocore.exceptions import ClientError

    if not wanted:
        return []
    idp = session.client("cognito-idp", region_name=region)
    found = []
    for pool, client in sorted(wanted, key=str):
        try:
            if client is None:
                clients = idp.list_user_pool_clients(UserPoolId=pool, MaxResults=60).get("UserPoolClients", [])
                ids = [c["ClientId"] for c in clients]
            else:
                ids = [client]
            for client_id in ids:
                described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
                found.append({k: described[k] for k in _CLIENT_FIELDS if k in described})
        except ClientError:
            continue  # no access to the pool: the API's own definition is still useful
    return found


def write_cache(entries: list[dict[str, Any]], path: Path) -> None:
    document = {"apigwDoctorDiscover": CACHE_VERSION, "discoveredAt": int(time.time()), "apis": entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=1, default=str, sort_keys=True) + "\n")
    tmp.replace(path)
