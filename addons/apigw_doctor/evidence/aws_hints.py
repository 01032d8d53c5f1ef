"""Where the server side of a failure is written down, and the commands that read it (pure; no AWS call).

Inputs are the `apigw_doctor` metadata dict, the response's request-id headers and the target; outputs are log
group names, a CloudWatch Logs Insights query keyed by the request ids, a recommended access-log format and AWS CLI
commands with the ids filled in. Unknown ids are left as `<placeholders>` for the reader to fill.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..pools import pool_id_region, split_cognito_issuer
from ..timefmt import utc
from ..wire import REQUEST_ID_HEADERS

# Ids that appear in API Gateway's own logs (execution log lines start with `(<requestId>)`).
_LOGGED_IDS = ("x-amzn-requestid", "apigw-requestid", "x-amz-apigw-id")

# The variables both API types log the same way (AWS docs: the access-logging pages).
_REQUEST = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
}
_OUTCOME = {
    "path": "$context.path",
    "stage": "$context.stage",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "errorResponseType": "$context.error.responseType",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
}
# REST: `authorize`/`authenticate` exist for access logging only.
REST_ACCESS_LOG_FORMAT: dict[str, str] = {
    **_REQUEST,
    "resourcePath": "$context.resourcePath",
    **_OUTCOME,
    "authorizerStatus": "$context.authorizer.status",
    "authorizerIntegrationStatus": "$context.authorizer.integrationStatus",
    "authorizerLatency": "$context.authorizer.latency",
    "authorizeError": "$context.authorize.error",
    "authorizeStatus": "$context.authorize.status",
    "authenticateError": "$context.authenticate.error",
    "authenticateStatus": "$context.authenticate.status",
    "apiKeyId": "$context.identity.apiKeyId",
    "wafResponseCode": "$context.wafResponseCode",
    "integrationErrorMessage": "$context.integrationErrorMessage",
}
HTTP_ACCESS_LOG_FORMAT: dict[str, str] = {
    **_REQUEST,
    "routeKey": "$context.routeKey",
    **_OUTCOME,
    "integrationErrorMessage": "$context.integrationErrorMessage",
}

_WINDOW = 300  # seconds either side of the request for log searches


@dataclass(frozen=True, slots=True)
class Command:
    purpose: str
    command: str

    def as_dict(self) -> dict[str, str]:
        return {"purpose": self.purpose, "command": self.command}


@dataclass(frozen=True, slots=True)
class AwsHints:
    """What to look at in the AWS account, with ids filled in where the flow told us."""

    request_ids: dict[str, str]
    log_groups: list[str]
    insights_query: str | None
    access_log_format: dict[str, str] | None
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    user_pool_id: str | None = None
    client_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_ids": dict(self.request_ids),
            "log_groups": list(self.log_groups),
            "insights_query": self.insights_query,
            "access_log_format": dict(self.access_log_format) if self.access_log_format else None,
            "commands": [c.as_dict() for c in self.commands],
            "notes": list(self.notes),
            "user_pool_id": self.user_pool_id,
            "client_id": self.client_id,
        }


def request_ids_from_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request-id headers present, keyed by lower-case name, in `REQUEST_ID_HEADERS` order."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    return {name: lowered[name] for name in REQUEST_ID_HEADERS if lowered.get(name)}


def token_claims(diagnosis: Mapping[str, Any] | None) -> dict[str, Any]:
    """Claims from metadata `token`, which is either the claims or `{"header", "claims", "fingerprint"}`."""
    token = (diagnosis or {}).get("token")
    if not isinstance(token, Mapping):
        return {}
    claims = token.get("claims")
    return dict(claims) if isinstance(claims, Mapping) else dict(token)


def pool_from_claims(claims: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(pool id, pool region) from a Cognito `iss`."""
    iss = claims.get("iss")
    found = split_cognito_issuer(iss.rstrip("/")) if isinstance(iss, str) else None
    return (found[1], found[0]) if found else (None, None)


def client_from_claims(claims: Mapping[str, Any]) -> str | None:
    """The app client: `client_id` (access token) or `aud` (ID token)."""
    for name in ("client_id", "aud"):
        value = claims.get(name)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value:
            return value
    return None


def access_log_format(surface: str | None) -> dict[str, str] | None:
    """The recommended access-log format for a surface; None where it is unknown (custom domain) or n/a."""
    if surface in {"rest", "websocket"}:
        return dict(REST_ACCESS_LOG_FORMAT)
    if surface == "http":
        return dict(HTTP_ACCESS_LOG_FORMAT)
    return None


def insights_query(ids: Mapping[str, str]) -> str | None:
    wanted = [ids[name] for name in _LOGGED_IDS if ids.get(name)]
    if not wanted:
        return None
    likes = " or ".join(f"@message like {json.dumps(v)}" for v in dict.fromkeys(wanted))
    return f"fields @timestamp, @logStream, @message\n| filter {likes}\n| sort @timestamp asc\n| limit 200"


def aws_hints(
    diagnosis: Mapping[str, Any] | None,
    request_ids: Mapping[str, str],
    target: Mapping[str, Any] | None = None,
    *,
    request_time: float | None = None,
    method: str | None = None,
    path: str | None = None,
    user_pool_id: str | None = None,
    client_id: str | None = None,
) -> AwsHints:
    """Log groups, Logs Insights query, access-log format and CLI commands for one diagnosed flow.

    `target` defaults to `diagnosis["target"]`. `user_pool_id`/`client_id` override what the token's `iss` and
    `aud`/`client_id` say (a Cognito sign-in carries a ClientId but no token yet).
    """
    diagnosis = diagnosis or {}
    tgt = dict(target if target is not None else diagnosis.get("target") or {})
    surface = tgt.get("surface")
    api_id = tgt.get("api_id")
    region = tgt.get("region")
    stage = tgt.get("stage")
    cause = str(diagnosis.get("cause") or "")
    ids = {k.lower(): v for k, v in request_ids.items() if v}

    claims = token_claims(diagnosis)
    pool, pool_region = pool_from_claims(claims)
    pool = user_pool_id or pool
    if pool and not pool_region:
        pool_region = pool_id_region(pool)
    client = client_id or client_from_claims(claims)

    q = shlex.quote
    api = q(api_id) if api_id else "<api-id>"
    reg = q(region) if region else "<region>"
    stg = q(stage) if stage else ("'$default'" if surface == "http" else "<stage>")
    stage_name = stage or ("$default" if surface == "http" else "<stage>")
    api_name = api_id or "<api-id>"

    log_groups: list[str] = []
    commands: list[Command] = []
    notes: list[str] = []
    fmt = access_log_format(surface)
    log_arn = f"arn:aws:logs:{region or '<region>'}:<account-id>:log-group:<access-log-group>"

    if surface in {"rest", "websocket"}:
        log_groups.append(f"API-Gateway-Execution-Logs_{api_name}/{stage_name}")
        notes.append(
            "Execution logs exist only when the stage has CloudWatch logging (INFO or ERROR) turned on; "
            "their lines start with the request id in parentheses."
        )
    if surface in {"rest", "http", "websocket", "custom"}:
        log_groups.append("your access log group (the stage's access log settings name it)")
    if surface == "lambda-url" or cause.startswith("authorizer-"):
        log_groups.append("/aws/lambda/<function-name> (the Lambda authorizer's or function's own log group)")

    if surface == "rest":
        commands += [
            Command(
                "Authorizers of the API: type, identitySource, providerARNs (the pools it accepts), "
                "identityValidationExpression",
                f"aws apigateway get-authorizers --rest-api-id {api} --region {reg}",
            ),
            Command(
                "Resource ids, then the method's authorizationType, authorizerId and authorizationScopes",
                f"aws apigateway get-resources --rest-api-id {api} --region {reg}\n"
                f"aws apigateway get-method --rest-api-id {api} --resource-id <resource-id> "
                f"--http-method {q(method) if method else '<method>'} --region {reg}",
            ),
            Command(
                "Stage settings: access log destination and format, logging level",
                f"aws apigateway get-stage --rest-api-id {api} --stage-name {stg} --region {reg}",
            ),
            Command(
                "Customised gateway responses (they change the status and the body the client sees)",
                f"aws apigateway get-gateway-responses --rest-api-id {api} --region {reg}",
            ),
            Command(
                "Turn on access logging with the recommended format",
                f"aws apigateway update-stage --rest-api-id {api} --stage-name {stg} --region {reg} "
                "--patch-operations "
                + q(
                    json.dumps(
                        [
                            {
                                "op": "replace",
                                "path": "/accessLogSettings/destinationArn",
                                "value": log_arn,
                            },
                            {"op": "replace", "path": "/accessLogSettings/format", "value": _one_line(fmt)},
                        ]
                    )
                ),
            ),
            Command(
                "Turn on execution logging (needs the account's API Gateway CloudWatch role)",
                f"aws apigateway update-stage --rest-api-id {api} --stage-name {stg} --region {reg} "
                "--patch-operations 'op=replace,path=/*/*/logging/loglevel,value=INFO'",
            ),
        ]
        if claims:
            commands.append(
                Command(
                    "Run the authorizer on the token (paste the full token; the evidence holds none)",
                    f"aws apigateway test-invoke-authorizer --rest-api-id {api} --authorizer-id <authorizer-id> "
                    f"--headers Authorization='<token>' --region {reg}",
                )
            )
    elif surface in {"http", "websocket"}:
        commands += [
            Command(
                "Authorizers of the API: type, identitySource, jwtConfiguration (issuer, audience)",
                f"aws apigatewayv2 get-authorizers --api-id {api} --region {reg}",
            ),
            Command(
                "Routes: authorizationType, authorizerId and authorizationScopes of each route",
                f"aws apigatewayv2 get-routes --api-id {api} --region {reg}",
            ),
            Command(
                "Stage settings: access log destination and format",
                f"aws apigatewayv2 get-stage --api-id {api} --stage-name {stg} --region {reg}",
            ),
            Command(
                "Turn on access logging with the recommended format",
                f"aws apigatewayv2 update-stage --api-id {api} --stage-name {stg} --region {reg} "
                "--access-log-settings "
                + q(
                    json.dumps(
                        {
                            "DestinationArn": log_arn,
                            "Format": _one_line(fmt),
                        }
                    )
                ),
            ),
        ]

    if pool:
        preg = q(pool_region) if pool_region else reg
        if client:
            commands.append(
                Command(
                    "The app client: allowed flows and OAuth scopes, secret or not, token validity, read attributes",
                    f"aws cognito-idp describe-user-pool-client --user-pool-id {q(pool)} --client-id {q(client)} "
                    f"--region {preg}",
                )
            )
        if "scope" in cause:
            commands.append(
                Command(
                    "Resource servers and the custom scopes they define",
                    f"aws cognito-idp list-resource-servers --user-pool-id {q(pool)} --max-results 50 --region {preg}",
                )
            )
        if cause in {"unknown-key", "bad-signature", "wrong-issuer"}:
            jwks_url = f"https://cognito-idp.{pool_region or '<region>'}.amazonaws.com/{pool}/.well-known/jwks.json"
            commands.append(
                Command(
                    "The pool's signing keys (compare the token's kid)",
                    f"curl -s {q(jwks_url)}",
                )
            )
    elif surface in {"cognito-idp", "cognito-oauth"}:
        notes.append("The user pool id is not in the traffic; find it with `aws cognito-idp list-user-pools`.")
        if client:
            commands.append(
                Command(
                    "The app client (fill in the pool id)",
                    f"aws cognito-idp describe-user-pool-client --user-pool-id <user-pool-id> --client-id {q(client)} "
                    f"--region {reg}",
                )
            )
    if surface in {"cognito-idp", "cognito-oauth"}:
        notes.append("Cognito writes no request log to CloudWatch; CloudTrail records user-pool API calls.")
        window = _window_iso(request_time)
        commands.append(
            Command(
                "CloudTrail events from Cognito around the request (match the request id)",
                "aws cloudtrail lookup-events --lookup-attributes "
                f"AttributeKey=EventSource,AttributeValue=cognito-idp.amazonaws.com {window}--region {reg}",
            )
        )

    query = insights_query(ids)
    real_groups = [g for g in log_groups if not g.startswith(("your ", "/aws/lambda/<"))]
    if query and surface not in {"cognito-idp", "cognito-oauth"}:
        groups = " ".join(q(g) for g in real_groups) or "<access-log-group>"
        if real_groups:
            groups += " <access-log-group>"
        commands.append(
            Command(
                "Search the logs for this request (Logs Insights; then fetch the results)",
                f"aws logs start-query --log-group-names {groups} {_window(request_time, 1)}"
                f"--query-string {q(query)} --region {reg}\n"
                f"aws logs get-query-results --query-id <query-id> --region {reg}",
            )
        )
        first = next(v for k, v in ids.items() if k in _LOGGED_IDS)
        first_group = q(real_groups[0]) if real_groups else "<access-log-group>"
        commands.append(
            Command(
                "Or grep one log group for the request id",
                f"aws logs filter-log-events --log-group-name {first_group} "
                f"--filter-pattern {q(json.dumps(first))} {_window(request_time, 1000)}--region {reg}",
            )
        )

    return AwsHints(
        request_ids=ids,
        log_groups=log_groups,
        insights_query=query,
        access_log_format=fmt,
        commands=commands,
        notes=notes,
        user_pool_id=pool,
        client_id=client,
    )


def _one_line(fmt: Mapping[str, str] | None) -> str:
    return json.dumps(dict(fmt or {}), separators=(",", ":"))


def _window(request_time: float | None, scale: int) -> str:
    """`--start-time S --end-time E ` around the request, in seconds (scale 1) or milliseconds (1000)."""
    if request_time is None:
        return ""
    start = int((request_time - _WINDOW) * scale)
    end = int((request_time + _WINDOW) * scale)
    return f"--start-time {start} --end-time {end} "


def _window_iso(request_time: float | None) -> str:
    if request_time is None:
        return ""
    start, end = (utc(request_time + d) for d in (-_WINDOW, _WINDOW))
    return f"--start-time {start} --end-time {end} "
