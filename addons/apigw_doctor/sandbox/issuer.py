"""A Cognito-like token issuer: user pools with RSA keys, app clients, users, and token minting.

Token shapes follow docs/wire-reference.md, "Cognito tokens": RS256, a different `kid` for ID and access tokens, the AWS
issuer form
`https://cognito-idp.{region}.amazonaws.com/{pool}`, ID tokens with `aud` and no `scope`/`client_id`, access tokens
with `client_id` and `scope` and no `aud`, and refresh tokens shaped like Cognito's 5-part JWE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

Clock = Callable[[], float]

DEFAULT_POOL_ID = "us-east-1_Sandbox01"
OTHER_POOL_ID = "us-east-1_Sandbox02"
OTHER_REGION_POOL_ID = "eu-west-1_Sandbox01"

# Real app client ids are 26 lower-case alphanumerics (docs/design.md, "The sandbox"); these keep that shape and stay
# readable.
WEB_CLIENT_ID = "1sandboxwebclient000000001"  # public SPA client: code flow, no secret
SERVER_CLIENT_ID = "2sandboxserverclient000002"  # confidential client: has a secret
M2M_CLIENT_ID = "3sandboxmachineclient00003"  # client_credentials only
OTHER_CLIENT_ID = "4sandboxotherappclient0004"  # another app client in the same pool (wrong-audience cases)

DEFAULT_USER = "alice"
DEFAULT_PASSWORD = "Sandbox!Passw0rd"  # a throwaway sandbox credential
# the only scope InitiateAuth sign-ins get (wire-reference "Cognito tokens")
SIGNIN_SCOPE = "aws.cognito.signin.user.admin"
ORDERS_READ = "orders/read"
ADMIN_WRITE = "admin/write"

# Cognito refresh tokens are JWEs whose protected header is exactly this (RSA-OAEP key wrap, A256GCM content).
_REFRESH_HEADER = {"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(key=client secret, msg=username + client id))."""
    mac = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


@dataclass(slots=True)
class AppClient:
    client_id: str
    name: str
    secret: str | None = None
    callback_urls: tuple[str, ...] = ()
    oauth_flows: frozenset[str] = frozenset()  # "code", "implicit", "client_credentials" (AllowedOAuthFlows)
    scopes: tuple[str, ...] = ()  # AllowedOAuthScopes
    # ExplicitAuthFlows (without the ALLOW_ prefix); SRP and custom flows are not modelled, so not enabled.
    auth_flows: frozenset[str] = frozenset({"USER_PASSWORD_AUTH", "REFRESH_TOKEN_AUTH"})


@dataclass(slots=True)
class User:
    username: str
    password: str
    sub: str
    email: str
    groups: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(slots=True)
class RefreshGrant:
    """What an opaque refresh token stands for, as the pool remembers it."""

    username: str
    client_id: str
    origin_jti: str
    revoked: bool = False


@dataclass(slots=True)
class AuthCode:
    client_id: str
    username: str
    redirect_uri: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass(frozen=True, slots=True)
class TokenSet:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


@dataclass(slots=True)
class _SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> _SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # Real Cognito kids are 44-character base64 strings; a digest of the public key gives the same shape.
        return cls(kid=base64.b64encode(hashlib.sha256(der).digest()).decode("ascii"), private=private)

    def jwk(self) -> dict[str, Any]:
        pub = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {"alg": "RS256", "e": pub["e"], "kid": self.kid, "kty": "RSA", "n": pub["n"], "use": "sig"}


@dataclass
class Pool:
    """One user pool: its keys, app clients, users and the tokens it has handed out."""

    pool_id: str
    clock: Clock = time.time
    id_ttl: int = 3600
    access_ttl: int = 3600
    clients: dict[str, AppClient] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    id_key: _SigningKey = field(default_factory=_SigningKey.generate)
    access_key: _SigningKey = field(default_factory=_SigningKey.generate)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    revoked_origins: set[str] = field(default_factory=set)  # origin_jti of signed-out sessions
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def region(self) -> str:
        return self.pool_id.split("_", 1)[0]

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.id_key.jwk(), self.access_key.jwk()]}

    # --- directory -------------------------------------------------------------------------------------------

    def add_client(self, client: AppClient) -> AppClient:
        self.clients[client.client_id] = client
        return client

    def add_user(self, username: str, password: str, email: str | None = None, groups: Iterable[str] = ()) -> User:
        user = User(username, password, str(uuid.uuid4()), email or f"{username}@example.com", tuple(groups))
        self.users[username] = user
        return user

    def user(self, username: str) -> User:
        if username not in self.users:
            self.add_user(username, secrets.token_urlsafe(16))
        return self.users[username]

    # --- claims and signing ----------------------------------------------------------------------------------

    def id_claims(
        self,
        username: str = DEFAULT_USER,
        client_id: str = WEB_CLIENT_ID,
        *,
        iat: int | None = None,
        ttl: int | None = None,
        auth_time: int | None = None,
        origin_jti: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        user = self.user(username)
        issued = int(self.clock()) if iat is None else iat
        claims: dict[str, Any] = {
            "sub": user.sub,
            "aud": client_id,
            "email_verified": True,
            "token_use": "id",
            "auth_time": issued if auth_time is None else auth_time,
            "iss": self.issuer,
            "cognito:username": user.username,
            "exp": issued + (self.id_ttl if ttl is None else ttl),
            "iat": issued,
            "jti": str(uuid.uuid4()),
            "origin_jti": origin_jti or str(uuid.uuid4()),
            "email": user.email,
        }
        if user.groups:
            claims["cognito:groups"] = list(user.groups)
        claims.update(extra or {})
        return claims

    def access_claims(
        self,
        username: str = DEFAULT_USER,
        client_id: str = WEB_CLIENT_ID,
        *,
        scope: str = SIGNIN_SCOPE,
        iat: int | None = None,
        ttl: int | None = None,
        auth_time: int | None = None,
        origin_jti: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        user = self.user(username)
        issued = int(self.clock()) if iat is None else iat
        claims: dict[str, Any] = {
            "sub": user.sub,
            "token_use": "access",
            "scope": scope,
            "auth_time": issued if auth_time is None else auth_time,
            "iss": self.issuer,
            "exp": issued + (self.access_ttl if ttl is None else ttl),
            "iat": issued,
            "origin_jti": origin_jti or str(uuid.uuid4()),
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
            "username": user.username,
        }
        if user.groups:
            claims["cognito:groups"] = list(user.groups)
        claims.update(extra or {})
        return claims

    def machine_claims(
        self, client_id: str = M2M_CLIENT_ID, scopes: Iterable[str] = (ORDERS_READ,), *, iat: int | None = None
    ) -> dict[str, Any]:
        """Claims of a client_credentials access token: the subject is the client itself; no user claims."""
        issued = int(self.clock()) if iat is None else iat
        return {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": issued,
            "iss": self.issuer,
            "exp": issued + self.access_ttl,
            "iat": issued,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }

    def sign(
        self,
        claims: dict[str, Any],
        *,
        use: str = "id",
        alg: str = "RS256",
        key: Any = None,
        kid: str | None = "",
        headers: dict[str, Any] | None = None,
    ) -> str:
        """Sign any claims. Defaults to the pool's ID (`use="id"`) or access key; `kid=None` leaves `kid` out.

        `alg`/`key` allow tokens AWS would refuse, e.g. `alg="HS256", key=b"..."` or `alg="none"`.
        """
        signing = self.id_key if use == "id" else self.access_key
        # Cognito's token headers are just {"kid", "alg"}; a None `typ` stops PyJWT adding one.
        hdr: dict[str, Any] = {"typ": None, "kid": signing.kid if kid == "" else kid}
        if hdr["kid"] is None:
            del hdr["kid"]
        hdr.update(headers or {})
        if key is None and alg.startswith("RS"):
            key = signing.private
        token = jwt.encode(claims, key, algorithm=alg, headers=hdr)
        return token

    def mint_id_token(self, username: str = DEFAULT_USER, client_id: str = WEB_CLIENT_ID, **kw: Any) -> str:
        return self.sign(self.id_claims(username, client_id, **kw), use="id")

    def mint_access_token(self, username: str = DEFAULT_USER, client_id: str = WEB_CLIENT_ID, **kw: Any) -> str:
        return self.sign(self.access_claims(username, client_id, **kw), use="access")

    def mint_machine_token(self, client_id: str = M2M_CLIENT_ID, scopes: Iterable[str] = (ORDERS_READ,)) -> str:
        return self.sign(self.machine_claims(client_id, scopes), use="access")

    def mint_refresh_token(
        self, username: str = DEFAULT_USER, client_id: str = WEB_CLIENT_ID, origin_jti: str | None = None
    ) -> str:
        """An opaque refresh token shaped like Cognito's: a 5-part JWE (header, wrapped key, IV, ciphertext, tag)."""
        parts = [
            b64url(json.dumps(_REFRESH_HEADER, separators=(",", ":")).encode()),
            b64url(os.urandom(256)),  # RSA-2048 wrapped content key
            b64url(os.urandom(12)),  # GCM IV
            b64url(os.urandom(384)),
            b64url(os.urandom(16)),  # GCM tag
        ]
        token = ".".join(parts)
        with self._lock:
            self.refresh_grants[token] = RefreshGrant(username, client_id, origin_jti or str(uuid.uuid4()))
        return token

    def login(self, username: str, client_id: str, scopes: Iterable[str] = (SIGNIN_SCOPE,)) -> TokenSet:
        """The tokens one sign-in yields: ID, access and refresh sharing one `origin_jti` and `auth_time`."""
        origin = str(uuid.uuid4())
        now = int(self.clock())
        return TokenSet(
            id_token=self.mint_id_token(username, client_id, iat=now, origin_jti=origin),
            access_token=self.mint_access_token(
                username, client_id, scope=" ".join(scopes), iat=now, origin_jti=origin
            ),
            refresh_token=self.mint_refresh_token(username, client_id, origin),
            expires_in=self.access_ttl,
        )

    def refresh(self, refresh_token: str, client_id: str) -> TokenSet | None:
        """New ID and access tokens for a live refresh token of this client, else None. No new refresh token."""
        grant = self.refresh_grants.get(refresh_token)
        if grant is None or grant.revoked or grant.client_id != client_id or grant.origin_jti in self.revoked_origins:
            return None
        now = int(self.clock())
        user = self.users.get(grant.username)
        if user is None:
            return None
        return TokenSet(
            id_token=self.mint_id_token(grant.username, client_id, iat=now, origin_jti=grant.origin_jti),
            access_token=self.mint_access_token(grant.username, client_id, iat=now, origin_jti=grant.origin_jti),
            refresh_token=None,
            expires_in=self.access_ttl,
        )

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """RevokeToken: the refresh token and every token of its session stop working at Cognito (not at API GW)."""
        grant = self.refresh_grants.get(refresh_token)
        if grant is not None:
            grant.revoked = True
            self.revoked_origins.add(grant.origin_jti)

    def global_sign_out(self, username: str) -> None:
        for grant in self.refresh_grants.values():
            if grant.username == username:
                grant.revoked = True
                self.revoked_origins.add(grant.origin_jti)

    def issue_code(self, client_id: str, username: str, redirect_uri: str, scopes: Iterable[str]) -> str:
        code = str(uuid.uuid4())
        with self._lock:
            self.codes[code] = AuthCode(client_id, username, redirect_uri, tuple(scopes))
        return code

    def secret_hash(self, username: str, client_id: str) -> str:
        secret = self.clients[client_id].secret
        if secret is None:
            raise ValueError(f"client {client_id} has no secret")
        return secret_hash(username, client_id, secret)


class Issuer:
    """The sandbox's three pools: the trusted one, another pool in the same region, and one in another region."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self.pool = _default_pool(DEFAULT_POOL_ID, clock)
        self.other_pool = _default_pool(OTHER_POOL_ID, clock)
        self.other_region_pool = _default_pool(OTHER_REGION_POOL_ID, clock)

    @property
    def pools(self) -> dict[str, Pool]:
        return {p.pool_id: p for p in (self.pool, self.other_pool, self.other_region_pool)}

    def by_issuer(self, iss: str) -> Pool | None:
        return next((p for p in self.pools.values() if p.issuer == iss), None)

    def jwks(self, pool_id: str = DEFAULT_POOL_ID) -> dict[str, Any]:
        return self.pools[pool_id].jwks()


def _default_pool(pool_id: str, clock: Clock) -> Pool:
    pool = Pool(pool_id, clock=clock)
    callbacks = ("https://app.example.com/callback", "http://localhost:3000/callback")
    pool.add_client(
        AppClient(
            WEB_CLIENT_ID,
            "web",
            callback_urls=callbacks,
            oauth_flows=frozenset({"code", "implicit"}),
            scopes=("openid", "email", "profile", SIGNIN_SCOPE, ORDERS_READ),
        )
    )
    pool.add_client(
        AppClient(
            SERVER_CLIENT_ID,
            "server",
            secret="sandbox-server-secret-" + secrets.token_hex(8),
            callback_urls=callbacks,
            oauth_flows=frozenset({"code"}),
            scopes=("openid", "email", ORDERS_READ),
        )
    )
    pool.add_client(
        AppClient(
            M2M_CLIENT_ID,
            "machine",
            secret="sandbox-m2m-secret-" + secrets.token_hex(8),
            oauth_flows=frozenset({"client_credentials"}),
            scopes=(ORDERS_READ, ADMIN_WRITE),
        )
    )
    pool.add_client(AppClient(OTHER_CLIENT_ID, "other-app", callback_urls=callbacks, oauth_flows=frozenset({"code"})))
    pool.add_user(DEFAULT_USER, DEFAULT_PASSWORD, groups=("readers",))
    pool.add_user("bob", DEFAULT_PASSWORD)
    return pool
