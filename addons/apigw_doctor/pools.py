"""Cognito user pools: ids, ARNs and issuer URLs (wire-reference "Cognito tokens": `https://cognito-idp.{region}.amazonaws.com/{pool}`)."""

from __future__ import annotations

import re

_POOL_ID = re.compile(r"^(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)_[A-Za-z0-9]+$")
_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):\d{12}:userpool/(?P<pool>[^/\s]+)$")
_COGNITO_ISSUER = re.compile(
    r"^https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<pool>[a-z0-9-]+_[A-Za-z0-9]+)$"
)


def cognito_issuer(region: str, pool_id: str) -> str:
    suffix = ".cn" if region.startswith("cn-") else ""
    return f"https://cognito-idp.{region}.amazonaws.com{suffix}/{pool_id}"


def parse_pool(spec: str) -> str:
    """A pool id, pool ARN or issuer URL, as the issuer URL a token from that pool carries."""
    spec = spec.strip()
    if m := _POOL_ID.match(spec):
        return cognito_issuer(m["region"], spec)
    if m := _POOL_ARN.match(spec):
        return cognito_issuer(m["region"], m["pool"])
    if spec.startswith(("https://", "http://")):
        return spec
    raise ValueError(
        f"{spec!r} is not a user pool id (us-east-1_AbCdEf123), a pool ARN "
        "(arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID) or an issuer URL (https://...)"
    )


def split_cognito_issuer(issuer: str | None) -> tuple[str, str] | None:
    """(region, pool id) of a Cognito issuer URL, or None for any other issuer."""
    m = _COGNITO_ISSUER.match(issuer or "")
    return (m["region"], m["pool"]) if m else None


def pool_id_region(pool_id: str) -> str | None:
    """`us-east-1` for `us-east-1_AbCdEf123`; None for anything that is not a pool id."""
    m = _POOL_ID.match(pool_id)
    return m["region"] if m else None
