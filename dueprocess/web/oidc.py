"""OpenID Connect's authorization code flow with PKCE, as the reviewers' inbox and the
residents' login both use it: the provider's metadata, the authorization request, and the
ID token's claims once its signature, issuer, audience, expiry and nonce hold.

Each caller keeps its own cookies and answers; `pending` is what it keeps between the
redirect and the callback (`s` state, `n` nonce, `v` PKCE verifier)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dueprocess.settings import InboxSettings

__all__ = ["LOGIN_REFUSED", "authorization_request", "provider_metadata", "verified_claims",
           "verified_id_token"]

HTTP_TIMEOUT = 10.0
# What a provider's or a token's fault raises: the callers answer it as a refused login.
LOGIN_REFUSED = (requests.RequestException, ValueError, KeyError, JoseError)


@lru_cache(maxsize=8)
def provider_metadata(issuer: str) -> dict[str, Any]:
    """The provider's discovery document; ValueError when it names another issuer."""
    response = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration",
                            timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    if metadata.get("issuer") != issuer.rstrip("/"):
        raise ValueError(f"the provider's metadata names issuer {metadata.get('issuer')!r}")
    return metadata


def _client(settings: InboxSettings, redirect_uri: str) -> OAuth2Session:
    secret = settings.oidc_client_secret.get_secret_value()
    # Without a secret the portal is a public client, protected by PKCE alone.
    return OAuth2Session(settings.oidc_client_id, secret or None, scope="openid",
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic" if secret else "none")


def authorization_request(settings: InboxSettings, *, redirect_uri: str) -> tuple[
        str, dict[str, str]]:
    """The provider's URL to send the browser to, and what to keep until the callback."""
    metadata = provider_metadata(settings.oidc_issuer or "")
    verifier, nonce = generate_token(48), generate_token(24)
    with _client(settings, redirect_uri) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
    return url, {"s": state, "n": nonce, "v": verifier}


def verified_claims(settings: InboxSettings, *, redirect_uri: str, code: str,
                    pending: dict[str, Any]) -> dict[str, Any]:
    """The callback's code exchanged for an ID token, and the token's verified claims;
    raises one of LOGIN_REFUSED."""
    issuer = settings.oidc_issuer or ""
    metadata = provider_metadata(issuer)
    with _client(settings, redirect_uri) as client:
        token = client.fetch_token(metadata["token_endpoint"], code=code,
                                   code_verifier=pending["v"], timeout=HTTP_TIMEOUT)
    keys = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    return verified_id_token(str(token.get("id_token", "")), keys, issuer=issuer,
                             client_id=settings.oidc_client_id, nonce=pending["n"])


def verified_id_token(id_token: str, keys: dict[str, Any], *, issuer: str, client_id: str,
                      nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce hold."""
    decoded = jwt.decode(id_token, KeySet.import_key_set(keys))  # type: ignore[arg-type]
    jwt.JWTClaimsRegistry(
        leeway=60, iss={"essential": True, "value": issuer.rstrip("/")},
        aud={"essential": True, "value": client_id}, sub={"essential": True},
        nonce={"essential": True, "value": nonce}, exp={"essential": True},
    ).validate(decoded.claims)
    return dict(decoded.claims)
