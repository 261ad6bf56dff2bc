"""The inbox accepts an ID token only when its signature, issuer, audience, expiry and
nonce all hold (a forged or replayed token is refused)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from dueprocess.web.oidc import verified_id_token

ISSUER, CLIENT, NONCE = "https://idp.example", "dueprocess-portal", "n-123"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "k1"})
KEYS: dict[str, Any] = dict(KeySet([KEY]).as_dict(private=False))


def token(key: Any = KEY, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "liu@district", "nonce": NONCE,
            "iat": now, "exp": now + 300, **claims}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, body, key)


def test_a_genuine_id_token_is_accepted() -> None:
    claims = verified_id_token(token(), KEYS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)
    assert claims["sub"] == "liu@district"


@pytest.mark.parametrize("forged", [
    {"key": OTHER}, {"iss": "https://evil.example"}, {"aud": "another-client"},
    {"nonce": "replayed"}, {"exp": int(time.time()) - 3600},
])
def test_a_forged_or_replayed_id_token_is_refused(forged: dict[str, Any]) -> None:
    with pytest.raises(JoseError):
        verified_id_token(token(**forged), KEYS, issuer=ISSUER, client_id=CLIENT,
                          nonce=NONCE)
