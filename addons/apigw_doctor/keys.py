"""Signing keys from JWKS files (`apigw_jwks`), so the check chain can verify signatures offline.

A spec is `PATH` or `POOL=PATH` (pool id, pool ARN or issuer URL, as in apigw_user_pools): naming the pool lets a
verdict say which known pool a foreign `kid` belongs to. One plain `PATH` with exactly one pool in apigw_user_pools
is that pool's JWKS. Keys are read once, in `configure`; no network I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jwt

from .pools import parse_pool


@dataclass(slots=True)
class PoolKey:
    issuer: str | None  # None: the file did not name its pool
    key: jwt.PyJWK


class KeyStore:
    def __init__(self, keys: Iterable[tuple[str, PoolKey]] = ()) -> None:
        self._by_kid: dict[str, list[PoolKey]] = {}
        self._issuers: set[str] = set()
        for kid, entry in keys:
            self._by_kid.setdefault(kid, []).append(entry)
            if entry.issuer:
                self._issuers.add(entry.issuer)

    def __bool__(self) -> bool:
        return bool(self._by_kid)

    def lookup(self, kid: str) -> list[PoolKey]:
        return self._by_kid.get(kid, [])

    def knows_issuer(self, issuer: str | None) -> bool:
        return issuer in self._issuers


def load_keystore(specs: Iterable[str], pools: Sequence[str] = ()) -> KeyStore:
    """Raises ValueError naming the file and what is wrong with it. `pools`: the issuers of apigw_user_pools."""
    entries: list[tuple[str, PoolKey]] = []
    specs = list(specs)
    for spec in specs:
        issuer, path = _split(spec)
        if issuer is None and len(specs) == 1 and len(pools) == 1:
            issuer = pools[0]  # one file, one pool: the file is that pool's JWKS
        try:
            document = json.loads(_read_capped(Path(path).expanduser()))
        except _TooLarge as e:
            raise ValueError(f"apigw_jwks: {path} is {e}") from None
        except OSError as e:
            raise ValueError(f"apigw_jwks: cannot read {path}: {e.strerror or e}") from e
        except ValueError as e:
            raise ValueError(f"apigw_jwks: {path} is not JSON: {e}") from e
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list) or not keys:
            raise ValueError(f'apigw_jwks: {path} has no "keys" list (expected a JWKS document)')
        for item in keys:
            try:
                entries.append((str(item["kid"]), PoolKey(issuer, jwt.PyJWK.from_dict(item))))
            except (KeyError, TypeError, jwt.PyJWTError) as e:
                raise ValueError(f"apigw_jwks: {path}: unusable key {item.get('kid', '?')!r}: {e}") from e
    return KeyStore(entries)


MAX_JWKS_BYTES = 1 * 2**20  # a JWKS holds a few keys (Cognito's: 2, about 1 KB each)


class _TooLarge(ValueError):
    pass


def _read_capped(path: Path) -> str:
    """The file's text, refusing anything over MAX_JWKS_BYTES (`/dev/zero` would otherwise be read until OOM)."""
    with path.open("rb") as fp:
        data = fp.read(MAX_JWKS_BYTES + 1)
    if len(data) > MAX_JWKS_BYTES:
        raise _TooLarge(f"larger than {MAX_JWKS_BYTES // 2**20} MB, so not a JWKS document (give the pool's jwks.json)")
    return data.decode("utf-8")


def _split(spec: str) -> tuple[str | None, str]:
    pool, sep, path = spec.partition("=")
    if sep and not Path(spec).exists():
        return parse_pool(pool), path
    return None, spec


def verify_signature(token_text: str, key: jwt.PyJWK, alg: str) -> bool | None:
    """The signature alone (claims are judged by their own checks); None when it cannot be judged with this key."""
    try:
        jwt.api_jws.PyJWS().decode_complete(token_text, key.key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        return False
    except (jwt.PyJWTError, TypeError, ValueError):  # PyJWT raises TypeError for a key of another family
        return None
    return True
