"""Redaction that keeps what helps a ticket and leaves no usable secret.

Kept: JWT headers and claims, `www-authenticate`, `x-amzn-ErrorType`/`x-amzn-errormessage`, request ids, Date,
CloudFront headers, SigV4 scope (date, region, service, SignedHeaders), cookie names, 4-char API key and access key
prefixes, and the raw shape of a damaged Authorization header (quotes, spaces, a doubled scheme), which is evidence.
Removed: JWT signatures (replaced by `REDACTED-SIG-<fp>`), JWEs and opaque tokens, passwords, SECRET_HASH, client
secrets, Basic credentials, cookie values, SigV4 signatures and security tokens, OAuth codes, Cognito sessions.

Only high-entropy values (signatures, tokens, keys, cookie values) get a tag: `<fp>` is the first 10 hex digits of
an HMAC-SHA256 of the removed part under a random key made for each export, so within one bundle the same token
gets the same tag everywhere, and a tag cannot be looked up or matched across tickets. Low-entropy secrets
(passwords, client secrets, SECRET_HASH, one-time codes) become a plain `REDACTED`: nothing derived from them, which
could confirm a guess, is written. With `personal=True`, the personal claims (`PERSONAL_CLAIMS`) of every token
become `REDACTED` as well.

Every pattern here runs on untrusted text, so each is linear: runs are found with single character classes, and
repetitions around them are bounded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, unquote, unquote_plus

from mitmproxy import http

from ..bounds import levels
from ..model import METADATA_KEY
from ..render import comment_head
from ..reply import decoded_body
from ..tokens import fingerprint

REDACTION_VERSION = 2
SANITIZED_BY = (
    f"sanitized-by: apigw-doctor redact v{REDACTION_VERSION} "
    "(JWT signatures -> REDACTED-SIG-<keyed hash, this export only>; JWEs, opaque tokens, passwords, secrets, "
    "cookie values, SigV4 signatures and security tokens removed; API keys and access key ids cut to 4 chars)"
)
PERSONAL_CLAIMS = frozenset({"email", "phone_number", "cognito:username", "name"})
PLAIN = "REDACTED"  # what a low-entropy secret becomes: no tag, so nothing to confirm a guess against
_MAX_JSON_LEVELS = 64  # deeper bodies are scrubbed as text (no recursion over them)
_GLUED_TRIES = 16  # candidate starts of a JSON object glued to the end of a segment
MAX_BODY_DECODED = 256 * 1024  # bytes of a (decoded) body kept in evidence; gateway error bodies are tiny
MAX_HEADER_VALUE = 16 * 1024  # characters of a header value kept in evidence

Context = Literal["json", "form", "query"]


@dataclass(slots=True)
class Redacted:
    """A redacted copy of a flow (new id, `live=False`) and what was taken out of it, one line per removal."""

    flow: http.HTTPFlow
    removed: list[str] = field(default_factory=list)
    key: bytes = b""  # the export's tag key, for later passes over the same export


# Runs of base64url and dots: where JWS (3 segments) and JWE (5 segments) live. One character class, so finding them
# is linear; each run with a dot is read segment by segment (`_Scrubber.tokens`), so tokens glued to text or to each
# other are still found.
_RUN_RE = re.compile(r"[A-Za-z0-9_.-]+")
_LOOKS_LIKE_JWT = re.compile(r"e[wy][A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.")  # only ever `.match`ed (anchored)
_JSON_START = re.compile(r"e[wy]")  # base64url of `{"`, `{ `, `{\n`, `{\r`, `{\t`
_BEARER_RE = re.compile(r"(?i)\b(bearer)([\s:]+)([\"']?)(?!bearer\b)([A-Za-z0-9._~+/=-]+)")
_BASIC_RE = re.compile(r"(?i)\b(basic)(\s+)([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])")
_SIGNATURE_RE = re.compile(r"(?i)\b((?:x-amz-)?signature\s*=\s*)([0-9a-f]{16,})\b")
_ACCESS_KEY_RE = re.compile(r"\b(A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|BIA|CCA))[A-Z0-9]{12,124}\b")
# `"key": "value"`, `key=value`, `key: value`; the key is classified by `_classify` before anything is replaced.
_KEY_VALUE_RE = re.compile(
    r"(?<![A-Za-z0-9_.+/-])(?P<key>[A-Za-z][A-Za-z0-9_.-]{1,63})(?P<kq>[\"']?)(?P<sep>[ \t]{0,8}[:=][ \t]{0,8})"
    r"(?P<vq>[\"']?)(?P<val>[^\s\"'&,;{}\[\]<>][^\s\"'&,;}<>]*)"
)
# A secret in `name=value` text runs to the next `&` or line end, spaces included (`password=correct horse`).
_SECRET_ASSIGN_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(?P<key>[A-Za-z0-9_.-]{0,32}(?:password|passwd|secret)[A-Za-z0-9_.-]{0,32}=)(?P<val>[^&\r\n\"]+)"
)
_BOUNDARY_RE = re.compile(r'(?i)boundary="?([^";,\s]{1,200})"?')
_PART_NAME_RE = re.compile(r'(?i)content-disposition:[^\r\n]{0,300}?\bname="([^"\r\n]{0,200})"')
_PLACEHOLDER_RE = re.compile(
    r"(?i)^(?:undefined|null|none|nil|nan|true|false|bearer|basic|token|jwt|id_?token|access_?token|"
    r"\[object object\]|\$\{.*\}|\{\{.*\}\}|<.*>|%.*%|\$[A-Za-z_]\w*|"
    r"your[_-]?(?:access[_-]?|id[_-]?)?token(?:[_-]?here)?|x+|\*+|\.+)$"
)
# Words that follow `token:` or `secret:` in a verdict line and are not secrets.
_PROSE_WORDS = frozenset(
    {"missing", "present", "absent", "empty", "expired", "invalid", "required", "sent", "none", "set", "unset"}
)
_STRICT_PLACEHOLDER_RE = re.compile(r"(?i)^(?:undefined|null|none|\[object object\]|\$\{[^}]*\}|\{\{[^}]*\}\})$")
_SCHEMES_RE = re.compile(r"(?i)^[\s\"']*(?:(?:bearer|basic|token|jwt)\b[\s:]*)*")
_AUTH_SCHEMES = frozenset(
    {"bearer", "basic", "token", "jwt", "digest", "negotiate", "ntlm", "aws4-hmac-sha256", "hoba", "mutual", "dpop"}
)
# Parameters of Digest/SigV4-style headers that carry no secret.
_SAFE_AUTH_PARAMS = frozenset({"signedheaders", "realm", "username", "uri", "algorithm", "qop", "nc", "scope"})

# Headers that carry no secret and are evidence: kept as they are (after a text pass for stray JWTs).
_KEEP_HEADERS = frozenset(
    {
        "www-authenticate",
        "x-amzn-errortype",
        "x-amzn-errormessage",
        "x-amzn-requestid",
        "x-amz-apigw-id",
        "apigw-requestid",
        "x-amzn-trace-id",
        "x-amz-cf-id",
        "x-amz-cf-pop",
        "x-cache",
        "via",
        "date",
        "x-amz-cognito-request-id",
        "x-amz-request-id",
        "x-amz-id-2",
        "x-amz-date",
        "x-amz-target",
        "x-amz-content-sha256",
        "x-amz-user-agent",
        "host",
        "content-type",
        "content-length",
        "content-encoding",
        "user-agent",
        "accept",
        "server",
        "x-application-context",
    }
)
_URL_HEADERS = frozenset({"location", "referer", "origin", "content-location", "x-forwarded-uri"})
_SENSITIVE_HEADER_WORDS = ("auth", "token", "secret", "password", "session", "credential", "signature", "jwt", "key")


def _b64url_json(segment: str) -> Any:
    """The JSON *object* a base64url segment encodes, or None (anything else: not worth decoding)."""
    if not _JSON_START.match(segment):  # base64url of `{` followed by `"` or white space
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _json_start(segment: str, *, whole: bool = True) -> int | None:
    """Where a base64url JSON object begins in `segment` (0: the whole of it), or None.

    `whole=False`: the caller already knows the whole segment is no JSON object."""
    if whole and isinstance(_b64url_json(segment), dict):
        return 0
    # A glued object is a JWT header or claims, a few KiB at most: looking further back only costs time, and a few
    # candidate starts are enough (each costs a decode of the rest of the segment).
    for tries, m in enumerate(_JSON_START.finditer(segment, max(1, len(segment) - 16384))):
        if tries >= _GLUED_TRIES:
            break
        if len(segment) - m.start() >= 6 and isinstance(_b64url_json(segment[m.start() :]), dict):
            return m.start()
    return None


def looks_like_jwt(value: str) -> bool:
    """A JWT-shaped run anywhere in `value` (`e[wy]` + 4 characters, a segment, a dot), found in linear time."""
    if "ey" not in value and "ew" not in value:
        return False
    for run in _RUN_RE.findall(value):
        segments = run.split(".")
        for seg in segments[:-2]:
            starts = [i for i in (seg.find("ey"), seg.find("ew")) if i >= 0]
            if starts and len(seg) - min(starts) >= 6:
                return True
    return False


def new_key() -> bytes:
    """A fresh tag key for one export."""
    return secrets.token_bytes(16)


def tag(key: bytes, value: str) -> str:
    """The tag of `value` under an export's key: 10 hex digits of HMAC-SHA256."""
    return hmac.new(key, value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:10]


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


# One-time codes that grant something (Cognito confirmation and MFA codes, OAuth codes); not `statusCode` & co.
_SECRET_CODES = frozenset(
    {
        "confirmationcode",
        "smsmfacode",
        "softwaretokenmfacode",
        "emailotpcode",
        "smsotpcode",
        "emailmfacode",
        "mfacode",
        "otpcode",
        "totpcode",
        "usercode",
        "devicecode",
        "authcode",
        "authorizationcode",
        "verificationcode",
    }
)


def _classify(key: str, context: Context) -> str | None:
    """What kind of secret a field named `key` holds, or None when its name says nothing."""
    k = _norm(key)
    if not k:
        return None
    if k in {"xapikey", "apikey", "apikeyvalue"}:
        return "api-key"
    if k in {"accesskeyid", "awsaccesskeyid"}:
        return "access-key-id"
    if k in {"xamzcredential", "credential"}:
        return "sigv4-credential"
    if k in {"authorization", "proxyauthorization"}:
        return "authorization"
    if "password" in k or "secret" in k or k in {"passwd", "pwd"}:
        return "secret"
    if k.endswith("token") or k in {"assertion", "clientassertion", "samlresponse", "jwt", "idtokenhint"}:
        return "token"
    if k in {"signature", "xamzsignature", "session", "codeverifier", "answer", "otp", "totp", "usercode"}:
        return "secret"
    if k in _SECRET_CODES:
        return "secret"
    # `code` is an OAuth authorization code in a form or a query, but an error code in most JSON bodies.
    if k == "code" and context != "json":
        return "secret"
    return None


def _is_placeholder(value: str) -> bool:
    return not value.strip() or bool(_PLACEHOLDER_RE.match(value.strip()))


def _already_redacted(value: str) -> bool:
    return "REDACTED" in value


def _token_like(value: str) -> bool:
    """In free text, tell a credential from a word: long, and not an all-lower-case word or phrase."""
    return len(value) >= 12 and not re.fullmatch(r"[a-z-]+", value)


class _Scrubber:
    """Applies the rules and records each removal as `<where>: <what>`."""

    def __init__(self, key: bytes | None = None, personal: bool = False) -> None:
        self.removed: list[str] = []
        self.key = key if key is not None else new_key()
        self.personal = personal
        self.tags: dict[str, str] = {}  # the engine's unkeyed token fingerprint -> this export's tag

    def tag(self, value: str) -> str:
        """The keyed tag of a high-entropy value; equal within this export only."""
        return tag(self.key, value)

    def signature_tag(self, signature: str) -> str:
        tag = self.tag(signature)
        self.tags[fingerprint(signature)] = tag
        return tag

    def note(self, where: str, what: str) -> None:
        line = f"{where}: {what}" if where else what
        if line not in self.removed:
            self.removed.append(line)

    def opaque(self, value: str, where: str, what: str = "opaque credential removed") -> str:
        self.note(where, what)
        return f"REDACTED-{self.tag(value)}"

    def plain(self, where: str, what: str = "secret removed") -> str:
        self.note(where, what)
        return PLAIN

    # --- free text -------------------------------------------------------------------------------------------

    def text(self, value: str, where: str = "") -> str:
        if not value:
            return value
        out = self.tokens(value, where)
        out = _SIGNATURE_RE.sub(lambda m: self._sub(m, 2, where, "SigV4 signature removed"), out)
        out = _ACCESS_KEY_RE.sub(lambda m: self._access_key(m.group(0), where), out)
        out = _BEARER_RE.sub(lambda m: self._bearer_text(m, where), out)
        out = _BASIC_RE.sub(lambda m: self._basic_text(m, where), out)
        if "=" in out:
            out = _SECRET_ASSIGN_RE.sub(lambda m: self._secret_assign(m, where), out)
        return _KEY_VALUE_RE.sub(lambda m: self._key_value(m, where), out)

    def shapes(self, value: str, where: str) -> str:
        """Only what has a secret's shape (JWTs, a long opaque Bearer value): never rewrites a word of prose."""
        if not value:
            return value
        out = self.tokens(value, where)
        return _BEARER_RE.sub(lambda m: self._bearer_text(m, where), out) if "earer" in out else out

    def _secret_assign(self, m: re.Match[str], where: str) -> str:
        value = m.group("val")
        if _already_redacted(value) or _STRICT_PLACEHOLDER_RE.match(value) or value.strip().lower() in _PROSE_WORDS:
            return m.group(0)
        return m.group("key") + self.plain(f"{where} {m.group('key')[:-1]}".strip())

    def tokens(self, text: str, where: str) -> str:
        """Every JWS loses its signature and every JWE goes, wherever they sit in `text`."""
        if "ey" not in text and "ew" not in text:
            return text
        return _RUN_RE.sub(lambda m: self._run(m.group(0), where), text)

    def _run(self, run: str, where: str) -> str:
        body = run.lstrip(".")
        if "." not in body:
            return run
        return run[: len(run) - len(body)] + self._chain(body, where)

    def _chain(self, chain: str, where: str) -> str:
        """Segment by segment. JSON objects (headers, claims) stay; the segment after a JWT header is the payload
        slot (kept even when damaged); a non-JSON segment after claims is a signature and goes; a JWE header takes
        its four segments with it. A JSON object glued to the end of a segment (the next token, with no separator)
        is cut off and read as a segment of its own."""
        if "ey" not in chain and "ew" not in chain:
            return chain
        segs = chain.split(".")
        out: list[str] = []
        after = ""  # "header": the previous segment was a JWT header; "claims": it was another JSON object
        glued = False  # segs[i] was cut from the end of the previous segment: no dot before it
        i = 0

        def emit(text: str) -> None:
            if glued and out:
                out[-1] += text
            else:
                out.append(text)

        while i < len(segs):
            seg = segs[i]
            if seg.startswith("REDACTED"):  # redacted before: redaction is idempotent
                emit(seg)
                i, glued, after = i + 1, False, ""
                continue
            obj = _b64url_json(seg)
            if isinstance(obj, dict) and "enc" in obj:
                parts = segs[i : i + 5]
                cut = _json_start(parts[-1]) if len(parts) == 5 else None
                if cut:
                    parts[-1] = parts[-1][:cut]
                self.note(where, "JWE removed")
                emit(f"REDACTED-JWE-{self.signature_tag('.'.join(parts))}")
                after = ""
                if cut:
                    segs[i + 4] = segs[i + 4][cut:]
                    i, glued = i + 4, True
                else:
                    i, glued = i + 5, False
                continue
            if isinstance(obj, dict):
                is_header = after != "header" and ("alg" in obj or "typ" in obj or "kid" in obj)
                emit(self._personal_segment(seg, obj, where) if not is_header else seg)
                after = "header" if is_header else "claims"
            elif after == "header" and i + 1 < len(segs):
                emit(seg)  # a payload we cannot read: evidence for `not-a-jwt`, and no secret
                after = "claims"
            else:
                cut = _json_start(seg, whole=False) if seg and obj is None else None
                head = seg[:cut] if cut else seg
                if after and head:
                    self.note(where, "JWT signature removed")
                    emit(f"REDACTED-SIG-{self.signature_tag(head)}")
                else:
                    emit(head)  # ordinary text, or the empty signature of `alg: none`
                if cut:
                    segs[i], glued, after = seg[cut:], True, ""
                    continue
                damaged_header = not after and seg.startswith("eyJ") and len(seg) >= 10 and "REDACTED" not in seg
                after = "header" if damaged_header else ""
            i, glued = i + 1, False
        return ".".join(out)

    def _personal_segment(self, seg: str, claims: dict, where: str) -> str:
        """With `personal`, a claims segment with personal claims is written again with them as `REDACTED`."""
        if not self.personal or not PERSONAL_CLAIMS & claims.keys():
            return seg
        self.note(where, "personal claims removed")
        cleaned = self.claims(claims)
        return base64.urlsafe_b64encode(json.dumps(cleaned, separators=(",", ":")).encode()).rstrip(b"=").decode()

    def claims(self, claims: dict) -> dict:
        if not self.personal:
            return claims
        return {k: (PLAIN if k in PERSONAL_CLAIMS else v) for k, v in claims.items()}

    def _sub(self, m: re.Match[str], group: int, where: str, what: str) -> str:
        value = m.group(group)
        self.note(where, what)
        start, end = m.span(group)
        base = m.start(0)
        whole = m.group(0)
        return whole[: start - base] + f"REDACTED-{self.tag(value)}" + whole[end - base :]

    def _access_key(self, key: str, where: str) -> str:
        self.note(where, "access key id cut to 4 chars")
        return f"{key[:4]}-REDACTED-{self.tag(key)}"

    def _bearer_text(self, m: re.Match[str], where: str) -> str:
        token = m.group(4)
        if _already_redacted(token) or _is_placeholder(token) or not _token_like(token):
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{m.group(3)}{self.opaque(token, where, 'opaque bearer token removed')}"

    def _basic_text(self, m: re.Match[str], where: str) -> str:
        try:
            decoded = base64.b64decode(m.group(3), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return m.group(0)
        if ":" not in decoded:
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}{self._basic(m.group(3), where)}"

    def _basic(self, credentials: str, where: str) -> str:
        """Basic credentials go; the user name (for Cognito: the app client id) stays, as it is evidence."""
        self.note(where, "Basic credentials removed")
        try:
            user = base64.b64decode(credentials + "=" * (-len(credentials) % 4)).decode("utf-8").partition(":")[0]
        except (binascii.Error, ValueError):
            user = ""
        kept = f" (user {user})" if re.fullmatch(r"[\w.@+-]{1,128}", user) else ""
        return f"{PLAIN}{kept}"  # it holds a password or client secret: nothing derived from it

    def _key_value(self, m: re.Match[str], where: str) -> str:
        value = m.group("val")
        key = m.group("key").rsplit(".", 1)[-1]  # `AuthParameters.PASSWORD`: the last name says what it is
        kind = _classify(key, "form")
        if kind is None or kind == "authorization" or _already_redacted(value) or _is_placeholder(value):
            return m.group(0)
        if value.lower() in _PROSE_WORDS or (kind == "token" and not _token_like(value)):
            return m.group(0)
        if _norm(key) == "code" and "=" not in m.group("sep"):
            return m.group(0)  # "status code: 403" in prose; an OAuth code travels as `code=...`
        new = self.field_value(kind, value, f"{where} {m.group('key')}".strip())
        return m.group(0)[: m.start("val") - m.start(0)] + new

    # --- fields named by a key (JSON members, form fields, query parameters) -----------------------------------

    def field(self, key: str, value: str, where: str, context: Context) -> str:
        kind = _classify(key, context)
        if kind is None:
            return self.text(value, where)
        return self.field_value(kind, value, where)

    def field_value(self, kind: str, value: str, where: str) -> str:
        if not value or _already_redacted(value):
            return value
        if kind == "authorization":
            return self.credential(value, where)
        if kind == "api-key":
            return self.api_key(value, where)
        if kind == "access-key-id":
            return self._access_key(value, where) if len(value) > 4 else value
        if kind == "sigv4-credential":
            return self.sigv4_credential(value, where)
        if kind == "token":
            return value if _is_placeholder(value) else self.credential(value, where)
        if _STRICT_PLACEHOLDER_RE.match(value):  # a password can look like anything but these
            return value
        return self.plain(where)

    def api_key(self, value: str, where: str) -> str:
        if _is_placeholder(value) or _already_redacted(value):
            return value
        self.note(where, "API key cut to 4 chars")
        return f"{value[:4]}...REDACTED-{self.tag(value)}"

    def sigv4_credential(self, value: str, where: str) -> str:
        """`AKID/20240101/eu-west-1/execute-api/aws4_request`: the key id is cut, the scope kept."""
        key, sep, scope = value.partition("/")
        if not key or _already_redacted(key):
            return value
        return self._access_key(key, where) + sep + scope if len(key) > 4 else value

    # --- headers -------------------------------------------------------------------------------------------

    def credential(self, value: str, where: str) -> str:
        """An Authorization-style value. Word by word, so quotes, spaces and a doubled scheme survive as evidence."""
        value = self.tokens(value, where)
        if _is_placeholder(_SCHEMES_RE.sub("", value).strip(" \"'")):
            return value  # `Bearer [object Object]`, `Bearer ${token}`: evidence, not a secret
        words = re.split(r"(\s+|,)", value)
        previous = ""
        for i, word in enumerate(words):
            if not word or word.isspace() or word == ",":
                continue
            core = word.strip("\"'")
            core = core.rstrip(",;:")
            lead = word[: word.find(core)] if core else word
            tail = word[len(lead) + len(core) :]
            new = self._credential_word(core, previous, where)
            words[i] = lead + new + tail
            if core:
                previous = core.lower()
        return self.text("".join(words), where)

    def _credential_word(self, core: str, previous: str, where: str) -> str:
        low = core.lower()
        scheme, colon, rest = core.partition(":")
        if colon and scheme.lower() in _AUTH_SCHEMES:  # `Bearer:token`, damage worth keeping
            return f"{scheme}:{self._credential_word(rest, scheme.lower(), where)}"
        if not core or low in _AUTH_SCHEMES or _already_redacted(core) or _is_placeholder(core):
            return core
        if previous == "basic":
            return self._basic(core, where)
        name, eq, param = core.partition("=")
        if eq and re.fullmatch(r"[A-Za-z][\w-]*", name) and param and param[0] != "=":  # not base64 padding
            param_core = param.strip("\"'")
            quote_ = param[: len(param) - len(param.lstrip("\"'"))]
            if not param_core or name.lower() in _SAFE_AUTH_PARAMS or _already_redacted(param_core):
                return core
            if name.lower() == "credential":
                return f"{name}={quote_}{self.sigv4_credential(param_core, where)}"
            what = "SigV4 signature removed" if name.lower() == "signature" else f"{name} removed"
            return f"{name}={quote_}{self.opaque(param_core, where, what)}"
        return self.opaque(core, where, "opaque credential removed")

    def cookie(self, value: str, where: str) -> str:
        parts = value.split(";")
        for i, part in enumerate(parts):
            name, eq, val = part.partition("=")
            if eq:
                parts[i] = f"{name}={self._cookie_value(val, f'{where}[{name.strip()}]')}"
            elif part.strip():  # a cookie with no name: the whole part is its value
                lead = part[: len(part) - len(part.lstrip())]
                parts[i] = lead + self._cookie_value(part.strip(), f"{where}[]")
        return ";".join(parts)

    def set_cookie(self, value: str, where: str) -> str:
        first, sep, attrs = value.partition(";")
        name, eq, val = first.partition("=")
        if not eq:
            return f"{self._cookie_value(first, f'{where}[]')}{sep}{attrs}" if first.strip() else value
        return f"{name}={self._cookie_value(val, f'{where}[{name.strip()}]')}{sep}{attrs}"

    def _cookie_value(self, value: str, where: str) -> str:
        core = value.strip().strip('"')
        if not core or _already_redacted(core) or _is_placeholder(core):
            return value
        if _LOOKS_LIKE_JWT.match(core):  # a token in a cookie keeps its claims, like anywhere else (`wrong-header`)
            redacted = self.tokens(core, where)
            if redacted != core:
                return value.replace(core, redacted)
        return self.opaque(core, where, "cookie value removed")

    def url(self, value: str, where: str) -> str:
        """A URL in a header: query and fragment (`#id_token=...` of the implicit grant) by field name."""
        base, hash_, fragment = value.partition("#")
        path, q, query = base.partition("?")
        out = self.text(path, where) + q + self.query(query, where)
        if hash_:
            out += hash_ + (self.query(fragment, where) if "=" in fragment else self.text(fragment, where))
        return out

    def query(self, qs: str, where: str, context: Context = "query") -> str:
        """`a=1&b=2`, field by field; untouched fields keep their exact encoding."""
        if not qs:
            return qs
        plus = context == "form"
        parts = qs.split("&")
        for i, part in enumerate(parts):
            raw_key, eq, raw_val = part.partition("=")
            key = unquote_plus(raw_key) if plus else unquote(raw_key)
            if not eq:
                new = self.text(key, where)
                if new != key:
                    parts[i] = quote(new, safe="-_.~")
                continue
            val = unquote_plus(raw_val) if plus else unquote(raw_val)
            new = self.field(key, val, f"{where}.{key}", context)
            if new != val:
                parts[i] = f"{raw_key}={quote(new, safe='-_.~')}"
        return "&".join(parts)

    def header(self, name: str, value: str, where: str) -> str:
        low = name.lower()
        where = f"{where}.{name}"
        if len(value) > MAX_HEADER_VALUE:  # no header a ticket needs is this long; checking it would only cost time
            self.note(where, "oversized header value removed")
            return f"[{len(value)} characters removed by apigw-doctor: longer than {MAX_HEADER_VALUE}]"
        if low in _KEEP_HEADERS or low.startswith("access-control-") or low.startswith("x-amz-cf-"):
            return self.text(value, where)
        if low == "cookie":
            return self.cookie(value, where)
        if low == "set-cookie":
            return self.set_cookie(value, where)
        if low in _URL_HEADERS:
            return self.url(value, where)
        kind = _classify(name, "json")
        if kind == "api-key":
            return self.api_key(value.strip(), where)
        if kind in {"authorization", "token", "secret"} or any(w in low for w in _SENSITIVE_HEADER_WORDS):
            return self.credential(value, where)
        if looks_like_jwt(value) or re.match(r"(?i)[ \t]{0,8}[\"']?[ \t]{0,8}(bearer|basic|aws4-hmac-sha256)\b", value):
            return self.credential(value, where)
        return self.text(value, where)

    def headers(self, headers: http.Headers, where: str) -> None:
        fields = []
        for raw_name, raw_value in headers.fields:
            name = raw_name.decode("utf-8", "surrogateescape")
            value = raw_value.decode("utf-8", "surrogateescape")
            new = self.header(name, value, where)
            fields.append((raw_name, new.encode("utf-8", "surrogateescape")))
        headers.fields = tuple(fields)

    # --- bodies --------------------------------------------------------------------------------------------

    def json_value(self, obj: Any, where: str, key: str | None = None, kind: str | None = None) -> Any:
        """`kind`: the secret kind a secret-named key above this value gave it (`{"password": {"value": ...}}`)."""
        if isinstance(obj, dict) and key is not None and _norm(key) == "logins":
            # Identity pools: provider name -> that provider's token (a Facebook or Amazon token is opaque).
            return {k: self.json_value(v, f"{where}.{k}", "token") for k, v in obj.items()}
        if kind is None and key is not None and isinstance(obj, dict | list) and _classify(key, "json") == "secret":
            kind = "secret"  # everything under a secret-named key is the secret
        if isinstance(obj, dict):
            return {k: self.json_value(v, f"{where}.{k}", str(k), kind) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.json_value(v, f"{where}[{i}]", key, kind) for i, v in enumerate(obj)]
        if isinstance(obj, str):
            if kind is not None:
                return self.field_value(kind, obj, where)
            return self.field(key, obj, where, "json") if key is not None else self.text(obj, where)
        secret = kind == "secret" or (key is not None and _classify(key, "json") == "secret")
        if isinstance(obj, int | float) and not isinstance(obj, bool) and secret:
            return self.plain(where)  # a numeric OTP or PIN
        return obj

    def body_text(self, text: str, content_type_header: str, where: str) -> str:
        content_type = content_type_header.lower()
        stripped = text.lstrip()
        if "multipart/form-data" in content_type and (boundary := _BOUNDARY_RE.search(content_type_header)):
            return self.multipart(text, boundary.group(1), where)
        if "json" in content_type or stripped[:1] in {"{", "["}:
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict | list) and levels(parsed) > _MAX_JSON_LEVELS:
                parsed = None  # absurdly deep: scrubbed as text below, never walked
            if isinstance(parsed, dict | list):
                new = self.json_value(parsed, where)
                if new == parsed:
                    return text
                indent = 2 if "\n" in stripped else None
                separators = None if indent else (",", ":")
                return json.dumps(new, indent=indent, separators=separators, ensure_ascii=False)
        if "x-www-form-urlencoded" in content_type:
            return self.query(text, where, "form")
        return self.text(text, where)

    def multipart(self, text: str, boundary: str, where: str) -> str:
        """`multipart/form-data`: each part's value judged by its field name, like a form field."""
        delimiter = f"--{boundary}"
        parts = text.split(delimiter)
        for i, part in enumerate(parts):
            head, sep, value = part.partition("\r\n\r\n")
            if not sep:
                head, sep, value = part.partition("\n\n")
            name = _PART_NAME_RE.search(head) if sep else None
            if name is None:
                parts[i] = self.text(part, where) if i else part
                continue
            core = value.rstrip("\r\n")
            new = self.field(name.group(1), core, f"{where}.{name.group(1)}", "form")
            parts[i] = head + sep + new + value[len(core) :]
        return delimiter.join(parts)

    def message(self, message: http.Message, where: str) -> None:
        self.headers(message.headers, f"{where}.header")
        if message.trailers:
            self.headers(message.trailers, f"{where}.trailer")
        if not message.raw_content:
            return
        try:
            content = decoded_body(message, MAX_BODY_DECODED, strict=True)
        except ValueError:
            # Bytes we cannot decode cannot be checked for secrets, so they go.
            message.headers.pop("content-encoding", None)
            message.content = b"[body removed by apigw-doctor: undecodable content-encoding]"
            self.note(f"{where}.body", "undecodable body removed")
            return
        if not content:
            return
        if len(content) > MAX_BODY_DECODED:  # a compression bomb, or just huge: never inflated or checked whole
            message.headers.pop("content-encoding", None)
            message.content = f"[body removed by apigw-doctor: more than {MAX_BODY_DECODED} bytes]".encode()
            self.note(f"{where}.body", "oversized body removed")
            return
        text = content.decode("utf-8", "surrogateescape")
        new = self.body_text(text, message.headers.get("content-type", ""), f"{where}.body")
        if new != text:
            message.content = new.encode("utf-8", "surrogateescape")


def redact_flow(flow: http.HTTPFlow, *, key: bytes | None = None, personal: bool = False) -> Redacted:
    """A redacted copy of `flow`; the original is never touched.

    `key`: the export's tag key (a new random one when None); flows exported together share it, so one token gets
    one tag across them. `personal`: also remove the personal claims of tokens (PERSONAL_CLAIMS).
    """
    if not isinstance(flow, http.HTTPFlow):
        raise TypeError(f"expected an HTTPFlow, got {type(flow).__name__}")
    copy = flow.copy()
    s = _Scrubber(key, personal)
    request = copy.request
    path, q, query = request.path.partition("?")
    request.path = s.text(path, "request.path") + q + s.query(query, "request.query")
    s.message(request, "request")
    if copy.response is not None:
        s.message(copy.response, "response")
    if copy.websocket is not None:
        for i, msg in enumerate(copy.websocket.messages):
            text = msg.content.decode("utf-8", "surrogateescape")
            new = s.body_text(text, "", f"websocket[{i}]")
            if new != text:
                msg.content = new.encode("utf-8", "surrogateescape")
    if copy.error is not None:
        copy.error.msg = s.text(copy.error.msg, "error")
    meta = flow.metadata.get(METADATA_KEY)
    if copy.comment:
        copy.comment = _redact_comment(s, copy.comment, meta)
    copy.metadata = {METADATA_KEY: _redact_metadata(s, meta)} if meta is not None else {}
    return Redacted(copy, s.removed, s.key)


# Fields of the verdict that are the tool's own text (the catalogue's words, filled with ids it checked):
# redaction never touches them, so a `cognito-secret-hash` verdict keeps its words.
_TOOL_FIELDS = frozenset({"cause", "confidence", "title", "summary", "fix", "warnings", "target"})


def _redact_metadata(s: _Scrubber, meta: Any) -> Any:
    if not isinstance(meta, dict):
        return s.json_value(meta, "metadata")
    out: dict[str, Any] = {}
    for name, value in meta.items():
        if name in _TOOL_FIELDS:
            out[name] = _shapes_only(s, value, f"metadata.{name}")
        elif name == "token" and isinstance(value, dict):
            out[name] = _redact_token_summary(s, value)
        elif name == "lineage" and isinstance(value, dict):
            out[name] = _redact_lineage(s, value)
        else:
            out[name] = s.json_value(value, f"metadata.{name}", name)
    return out


def _shapes_only(s: _Scrubber, value: Any, where: str) -> Any:
    if isinstance(value, str):
        return s.shapes(value, where)
    if isinstance(value, list):
        return [_shapes_only(s, v, where) for v in value]
    if isinstance(value, dict):
        return {k: _shapes_only(s, v, where) for k, v in value.items()}
    return value


def redact_shapes(text: str, key: bytes | None = None) -> str:
    """The tool's own text: only secret shapes (a JWT, a Bearer value) go; its words stay as written."""
    return _Scrubber(key).shapes(text, "")


def _redact_token_summary(s: _Scrubber, token: dict[str, Any]) -> dict[str, Any]:
    """Header and claims stay (personal claims go when asked); the engine's fingerprint becomes this export's tag."""
    out = {k: s.json_value(v, f"metadata.token.{k}", k) for k, v in token.items() if k != "fingerprint"}
    if isinstance(out.get("claims"), dict):
        out["claims"] = s.claims(out["claims"])
    tag = s.tags.get(str(token.get("fingerprint")))
    if tag is not None:
        out["fingerprint"] = tag
    return out


def _redact_lineage(s: _Scrubber, lineage: dict[str, Any]) -> dict[str, Any]:
    """The token's lineage (conversation.metadata): its fingerprints become this export's tags, like the token's."""
    out = s.json_value(lineage, "metadata.lineage", "lineage")
    if isinstance(out, dict):
        for key in ("fingerprint", "replaces", "replaced_by_token"):
            value = lineage.get(key)
            if isinstance(value, str):
                out[key] = s.tags.get(value) or s.tag(f"fingerprint {value}")
    return out


def _redact_comment(s: _Scrubber, comment: str, meta: Any) -> str:
    """Someone else's part of the comment is scrubbed; the verdict text the addon wrote is the tool's own."""
    ours = meta.get("title") if isinstance(meta, dict) else None
    cause = meta.get("cause") if isinstance(meta, dict) else None
    head = comment_head(cause, meta.get("confidence")) if cause else None
    index = comment.find(head) if head and ours else -1
    if index < 0:
        return s.text(comment, "comment")
    return s.text(comment[:index], "comment") + s.shapes(comment[index:], "comment")


def redact_text(text: str, key: bytes | None = None) -> str:
    """Strip JWT signatures and anything shaped like a secret from a log line, comment or message."""
    return _Scrubber(key).text(text)


def redact_value(obj: Any, key: bytes | None = None) -> Any:
    """A JSON-like value (the metadata dict, a parsed body) with every secret-bearing member redacted."""
    return _Scrubber(key).json_value(obj, "")


def sanitized_by(removed: list[str] | tuple[str, ...] = ()) -> str:
    """The marker line for a HAR `log.comment` or a report footer."""
    return f"{SANITIZED_BY}; {len(removed)} item(s) removed"
