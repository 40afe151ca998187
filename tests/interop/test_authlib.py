"""Interoperability: Python's Authlib (OAuth2Session, authlib.oidc.core claims) with joserfc as
the relying party against a running Gatehouse.

GATEHOUSE_URL and GATEHOUSE_ADMIN_PASSWORD say where and how. The ID token signing algorithm
is one organisation-wide setting: pytest runs these tests one after another and each sets
what it needs.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken, ImplicitIDToken, UserInfo
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidClaimError, InvalidKeyIdError, MissingKeyError
from joserfc.jwk import KeySet, OctKey

BASE = os.environ.get("GATEHOUSE_URL", "http://127.0.0.1:8080").rstrip("/")
ADMIN_USERNAME = os.environ.get("GATEHOUSE_ADMIN_USERNAME", "admin")
ADMIN_PASSWORD = os.environ.get("GATEHOUSE_ADMIN_PASSWORD")
MEMBER_PASSWORD = "bob-password-123"
TIMEOUT = 30


# ---------------------------------------------------------------------------------------------
# Admin API fixtures


@pytest.fixture(scope="session")
def admin() -> requests.Session:
    """A requests session carrying an admin API bearer token from the gatehouse-admin client."""
    if not ADMIN_PASSWORD:
        pytest.fail("GATEHOUSE_ADMIN_PASSWORD is not set")
    res = requests.post(
        f"{BASE}/token",
        data={
            "grant_type": "password",
            "client_id": "gatehouse-admin",
            "username": ADMIN_USERNAME,
            "password": ADMIN_PASSWORD,
            "scope": "admin",
        },
        timeout=TIMEOUT,
    )
    assert res.status_code == 200, res.text
    session = requests.Session()
    session.headers["authorization"] = f"Bearer {res.json()['access_token']}"
    return session


def api(admin: requests.Session, method: str, path: str, body=None):
    res = admin.request(method, f"{BASE}/admin/api{path}", json=body, timeout=TIMEOUT)
    assert 200 <= res.status_code < 300, f"{method} {path}: {res.status_code} {res.text}"
    return res.json() if res.content else None


def set_signing(admin: requests.Session, algorithm: str) -> None:
    assert api(admin, "PUT", "/signing", {"algorithm": algorithm})["algorithm"] == algorithm


@pytest.fixture(scope="session")
def metadata() -> dict:
    res = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=TIMEOUT)
    assert res.status_code == 200
    return res.json()


class Fixture:
    """A member and a registration (with its own queries) under one unique name."""

    def __init__(self, admin: requests.Session, grant_types=(), role_format="array", id_token_hmac_key=None):
        self.admin = admin
        self.run = f"py-{int(time.time()):x}-{secrets.token_hex(4)}"
        profile_query = f"$/Interop/{self.run}/ProfileData"
        role_query = f"$/Interop/{self.run}/RoleData"
        api(admin, "POST", "/queries", {
            "path": profile_query,
            "kind": "profile",
            "columns": [
                {"source": "first_name", "alias": "given_name"},
                {"source": "last_name", "alias": "family_name"},
                {"source": "email", "alias": "email"},
                {"source": "status", "alias": "AccessRestrictionCode"},
                {"source": "attributes.city", "alias": "address.locality"},
            ],
        })
        api(admin, "POST", "/queries", {
            "path": role_query,
            "kind": "role",
            "columns": [{"source": "roles", "alias": "Role"}],
        })
        self.username = f"bsmith-{self.run}"
        self.email = f"{self.username}@example.org"
        self.member_id = api(admin, "POST", "/contacts", {
            "username": self.username,
            "email": self.email,
            "first_name": "Bob",
            "last_name": "Smith",
            "password": MEMBER_PASSWORD,
            "roles": ["Staff", "Volunteer"],
            "attributes": {"city": "Leeds"},
        })["id"]
        self.redirect_uri = f"http://127.0.0.1:9/{self.run}/callback"
        reg = api(admin, "POST", "/registrations", {
            "name": f"Interop App {self.run}",
            "redirect_urls": [self.redirect_uri],
            "profile_query": profile_query,
            "id_token_fields": ["AccessRestrictionCode"],
            "role_query": role_query,
            "role_format": role_format,
            "no_access_mapping": "",
            "grant_types": list(grant_types),
            **({"id_token_hmac_key": id_token_hmac_key} if id_token_hmac_key else {}),
        })
        self.client_id = reg["client_id"]
        self.client_secret = reg["client_secret"]
        self._signing_key = reg["jwt_signing_key"]

    def signing_key(self) -> str:
        """The registration's HS512 key (the admin API hides it while an RSA algorithm signs)."""
        if not self._signing_key:
            self._signing_key = api(self.admin, "GET", f"/registrations/{self.client_id}")["jwt_signing_key"]
        assert self._signing_key, "jwt_signing_key is hidden: is signing HS512?"
        return self._signing_key


@pytest.fixture
def make_fixture(admin):
    return lambda **kwargs: Fixture(admin, **kwargs)


# ---------------------------------------------------------------------------------------------
# A "browser": requests with cookies, manual redirects, and the sign-in and consent forms


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "hidden": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("type", "").lower() == "hidden" and "name" in a:
            self._current["hidden"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def authorize_in_browser(url: str, username: str | None, password: str | None, decision="allow", browser=None):
    """Follows Gatehouse's pages like a member; returns (final URL outside Gatehouse, pages seen)."""
    browser = browser or requests.Session()
    pages: list[str] = []
    method, data = "GET", None
    for _ in range(20):
        if not url.startswith(BASE + "/"):
            return url, pages
        res = browser.request(method, url, data=data, allow_redirects=False, timeout=TIMEOUT)
        if res.status_code in (301, 302, 303, 307):
            url = urljoin(url, res.headers["location"])
            if res.status_code == 303:
                method, data = "GET", None
            continue
        parser = _Forms()
        parser.feed(res.text)
        by_action = {f["action"]: f for f in parser.forms if f["method"] == "post"}
        if res.status_code == 200 and "/signin" in by_action:
            pages.append("signin")
            assert username is not None, "the sign-in form was shown, but no username was given"
            method, url = "POST", f"{BASE}/signin"
            data = {**by_action["/signin"]["hidden"], "username": username, "password": password}
            assert data.get("csrf_token") and data["csrf_token"] == browser.cookies.get("gatehouse_csrf")
            continue
        if res.status_code == 200 and "/authorize/consent" in by_action:
            pages.append("consent")
            assert "to access the following information from your account at" in res.text
            method, url = "POST", f"{BASE}/authorize/consent"
            data = {**by_action["/authorize/consent"]["hidden"], "decision": decision}
            continue
        raise AssertionError(f"unexpected page {res.status_code} at {url}: {res.text[:500]}")
    raise AssertionError("too many steps")


# ---------------------------------------------------------------------------------------------
# Helpers for the client side


def oauth_session(fx: Fixture, auth="client_secret_basic", scope="openid profile email roles") -> OAuth2Session:
    return OAuth2Session(
        fx.client_id,
        fx.client_secret if auth != "none" else None,
        token_endpoint_auth_method=auth,
        scope=scope,
        redirect_uri=fx.redirect_uri,
        code_challenge_method="S256",
    )


def code_flow(session: OAuth2Session, fx: Fixture, metadata: dict, browser=None):
    """Authorization code + PKCE (S256) + state + nonce through Authlib; returns (token, nonce)."""
    code_verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    location, pages = authorize_in_browser(url, fx.username, MEMBER_PASSWORD, browser=browser)
    callback = parse_qs(urlsplit(location).query)
    assert callback["iss"] == [metadata["issuer"]], "RFC 9207 iss in the authorization response"
    assert callback["state"] == [state]
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=location, state=state, code_verifier=code_verifier
    )
    return token, nonce, pages


def claims_options(metadata: dict, fx: Fixture) -> dict:
    return {
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": fx.client_id},
    }


def validate_rs256_id_token(id_token: str, metadata: dict, fx: Fixture, params: dict, cls=CodeIDToken, alg="RS256"):
    """Verifies the signature through /jwks (joserfc), then the claims with Authlib's OIDC classes."""
    jwks = requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[alg])
    assert token.header["alg"] == alg and token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    claims = cls(token.claims, token.header, claims_options(metadata, fx), {"client_id": fx.client_id, **params})
    claims.validate(leeway=60)
    return claims


def assert_member_claims(claims, fx: Fixture, scope="openid profile email"):
    """Standard claims follow their scopes (OIDC Core 5.4): names with profile, email with email."""
    scopes = scope.split()
    assert claims["sub"] == fx.member_id
    profile = "profile" in scopes
    assert claims.get("given_name") == ("Bob" if profile else None)
    assert claims.get("family_name") == ("Smith" if profile else None)
    assert claims.get("preferred_username") == (fx.username if profile else None)
    assert claims.get("email") == (fx.email if "email" in scopes else None)


# ---------------------------------------------------------------------------------------------
# Tests


def test_discovery(metadata):
    assert metadata["issuer"] == BASE
    assert metadata["authorization_endpoint"] == f"{BASE}/authorize"
    assert metadata["token_endpoint"] == f"{BASE}/token"
    assert metadata["userinfo_endpoint"] == f"{BASE}/userinfo"
    assert metadata["jwks_uri"] == f"{BASE}/jwks"
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert {"code", "id_token", "id_token token"} <= set(metadata["response_types_supported"])


def test_code_flow_pkce_rs256_verified_through_jwks(admin, metadata, make_fixture):
    set_signing(admin, "RS256")
    fx = make_fixture()
    session = oauth_session(fx, auth="client_secret_basic")
    token, nonce, pages = code_flow(session, fx, metadata)
    assert pages == ["signin", "consent"]
    assert token["token_type"].lower() == "bearer"
    assert sorted(token["scope"].split()) == ["email", "openid", "profile", "roles"]
    assert "refresh_token" not in token

    claims = validate_rs256_id_token(
        token["id_token"], metadata, fx, {"nonce": nonce, "access_token": token["access_token"]}
    )
    assert_member_claims(claims, fx)
    assert claims["nonce"] == nonce
    assert claims["roles"] == ["Staff", "Volunteer"]
    assert claims["AccessRestrictionCode"] == "A"
    assert isinstance(claims["auth_time"], int)
    assert "at_hash" in claims  # and Authlib checked it against the access token

    # The same checks refuse a token meant for another request or client.
    wrong_nonce = CodeIDToken(dict(claims), claims.header, claims_options(metadata, fx),
                              {"client_id": fx.client_id, "nonce": "another-nonce"})
    with pytest.raises(InvalidClaimError):
        wrong_nonce.validate(leeway=60)
    wrong_at = CodeIDToken(dict(claims), claims.header, claims_options(metadata, fx),
                           {"client_id": fx.client_id, "nonce": nonce, "access_token": "another-token"})
    with pytest.raises(InvalidClaimError):
        wrong_at.validate(leeway=60)
    other_aud = dict(claims_options(metadata, fx), aud={"essential": True, "value": str(uuid.uuid4())})
    with pytest.raises(InvalidClaimError):
        CodeIDToken(dict(claims), claims.header, other_aud, {"client_id": fx.client_id}).validate(leeway=60)

    # userinfo through the session's bearer token.
    res = session.get(metadata["userinfo_endpoint"])
    assert res.status_code == 200
    info = UserInfo(res.json())
    assert info["sub"] == claims["sub"]
    assert info["given_name"] == "Bob"
    assert info["address"] == {"locality": "Leeds"}
    assert info["roles"] == ["Staff", "Volunteer"]


@pytest.mark.parametrize("alg,kty", [("ES256", "EC"), ("EdDSA", "OKP")])
def test_code_flow_with_elliptic_curve_id_tokens_verified_through_jwks(admin, metadata, make_fixture, alg, kty):
    set_signing(admin, alg)
    fx = make_fixture()
    session = oauth_session(fx, auth="client_secret_basic")
    token, nonce, _ = code_flow(session, fx, metadata)
    claims = validate_rs256_id_token(
        token["id_token"], metadata, fx, {"nonce": nonce, "access_token": token["access_token"]}, alg=alg
    )
    assert_member_claims(claims, fx)
    # Authlib checked at_hash: the left half of SHA-256 for ES256, of SHA-512 for Ed25519.
    assert "at_hash" in claims
    wrong_at = CodeIDToken(dict(claims), claims.header, claims_options(metadata, fx),
                           {"client_id": fx.client_id, "nonce": nonce, "access_token": "another-token"})
    with pytest.raises(InvalidClaimError):
        wrong_at.validate(leeway=60)
    jwks = requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json()
    published = next(k for k in jwks["keys"] if k["kid"] == claims.header["kid"])
    assert published["kty"] == kty and published["alg"] == alg and "d" not in published
    set_signing(admin, "HS512")


def test_hs512_id_token_verified_with_registration_key_client_secret_post(admin, metadata, make_fixture):
    set_signing(admin, "HS512")
    fx = make_fixture(role_format="csv")
    key = fx.signing_key()
    assert len(key) == 64 and key != fx.client_secret
    session = oauth_session(fx, auth="client_secret_post", scope="openid profile email roles")
    token, nonce, _ = code_flow(session, fx, metadata)

    decoded = jwt.decode(token["id_token"], OctKey.import_key(key), algorithms=["HS512"])
    assert decoded.header["alg"] == "HS512"
    claims = CodeIDToken(decoded.claims, decoded.header, claims_options(metadata, fx),
                         {"client_id": fx.client_id, "nonce": nonce, "access_token": token["access_token"]})
    claims.validate(leeway=60)  # includes at_hash: the left half of SHA-512 for HS512
    assert_member_claims(claims, fx)
    assert claims["roles"] == "Staff,Volunteer"

    with pytest.raises(BadSignatureError):
        jwt.decode(token["id_token"], OctKey.import_key(fx.client_secret), algorithms=["HS512"])

    info = session.get(metadata["userinfo_endpoint"]).json()
    assert info["roles"] == "Staff,Volunteer"
    assert info["address"]["locality"] == "Leeds"


def test_refresh_rotates_and_old_token_is_refused(admin, metadata, make_fixture):
    set_signing(admin, "RS256")
    fx = make_fixture()
    session = oauth_session(fx, scope="openid profile offline_access")
    token, nonce, _ = code_flow(session, fx, metadata)
    first_refresh = token["refresh_token"]
    first_claims = validate_rs256_id_token(
        token["id_token"], metadata, fx, {"nonce": nonce, "access_token": token["access_token"]}
    )

    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != first_refresh
    claims = validate_rs256_id_token(
        refreshed["id_token"], metadata, fx, {"access_token": refreshed["access_token"]}
    )
    assert claims["sub"] == first_claims["sub"]
    assert claims["auth_time"] == first_claims["auth_time"]
    # The session now carries the new access token.
    assert session.get(metadata["userinfo_endpoint"]).json()["sub"] == fx.member_id

    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh)
    assert refused.value.error == "invalid_grant"
    # Replaying the old one revoked the whole family, including the rotated token.
    with pytest.raises(OAuthError) as revoked:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert revoked.value.error == "invalid_grant"


def test_password_grant_confidential_and_public(admin, metadata, make_fixture):
    set_signing(admin, "RS256")
    confidential = make_fixture(grant_types=["password_confidential"])
    session = oauth_session(confidential, auth="client_secret_basic", scope="openid profile roles")
    token = session.fetch_token(metadata["token_endpoint"], username=confidential.username, password=MEMBER_PASSWORD)
    claims = validate_rs256_id_token(token["id_token"], metadata, confidential, {"access_token": token["access_token"]})
    assert_member_claims(claims, confidential, "openid profile roles")
    assert claims["roles"] == ["Staff", "Volunteer"]
    assert token["refresh_token"]
    with pytest.raises(OAuthError) as bad:
        session.fetch_token(metadata["token_endpoint"], username=confidential.username, password="not-the-password")
    assert bad.value.error == "invalid_grant"

    public = make_fixture(grant_types=["password_public"])
    session = oauth_session(public, auth="none", scope="openid email offline_access")
    token = session.fetch_token(metadata["token_endpoint"], username=public.username, password=MEMBER_PASSWORD)
    claims = validate_rs256_id_token(token["id_token"], metadata, public, {"access_token": token["access_token"]})
    assert claims["sub"] == public.member_id
    assert session.get(metadata["userinfo_endpoint"]).json()["email"] == public.email
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]

    disabled = make_fixture(grant_types=["implicit"])
    for auth in ("client_secret_basic", "client_secret_post", "none"):
        session = oauth_session(disabled, auth=auth, scope="openid")
        with pytest.raises(OAuthError) as refused:
            session.fetch_token(metadata["token_endpoint"], username=disabled.username, password=MEMBER_PASSWORD)
        assert refused.value.error == "unauthorized_client", auth


def test_implicit_id_token_token(admin, metadata, make_fixture):
    set_signing(admin, "RS256")
    fx = make_fixture(grant_types=["implicit"])
    session = oauth_session(fx, auth="none", scope="openid profile")
    nonce = generate_token(20)
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], response_type="id_token token", nonce=nonce
    )
    location, _ = authorize_in_browser(url, fx.username, MEMBER_PASSWORD)
    assert "#" in location and "?" not in location
    token = session.fetch_token(authorization_response=location, state=state)  # Authlib reads the fragment
    assert token["token_type"] == "Bearer"
    claims = validate_rs256_id_token(
        token["id_token"], metadata, fx, {"nonce": nonce, "access_token": token["access_token"]}, cls=ImplicitIDToken
    )
    assert_member_claims(claims, fx, "openid profile")
    assert session.get(metadata["userinfo_endpoint"]).json()["address"] == {"locality": "Leeds"}

    # Not enabled: the error comes back in the fragment, before any sign-in.
    other = make_fixture()
    session = oauth_session(other, auth="none", scope="openid")
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], response_type="id_token token", nonce=generate_token(20)
    )
    location, pages = authorize_in_browser(url, None, None)
    assert pages == []
    fragment = parse_qs(urlsplit(location).fragment)
    assert fragment["error"] == ["unauthorized_client"]
    assert fragment["state"] == [state]


def test_discovery_lists_only_the_configured_algorithm(admin):
    for algorithm in ("RS256", "HS512"):
        set_signing(admin, algorithm)
        res = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=TIMEOUT)
        assert res.json()["id_token_signing_alg_values_supported"] == [algorithm]
        assert res.headers["cache-control"] == "public, max-age=300"


class AuthlibApp(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's OpenID client as its Flask, Django and Starlette integrations build it."""

    client_cls = OAuth2Session


def hmac_jwks(key: str) -> dict:
    """The one setting Authlib needs for HS512: the HMAC key as the provider's key set."""
    k = base64.urlsafe_b64encode(key.encode()).rstrip(b"=").decode()
    return {"keys": [{"kty": "oct", "k": k, "alg": "HS512"}]}


def test_hs512_keyed_by_the_client_secret_with_authlibs_openid_client(admin, make_fixture):
    set_signing(admin, "HS512")
    fx = make_fixture(id_token_hmac_key="client_secret")
    settings = dict(
        client_id=fx.client_id,
        client_secret=fx.client_secret,
        server_metadata_url=f"{BASE}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    app = AuthlibApp(None, **settings)
    start = app.create_authorization_url(fx.redirect_uri)
    location, pages = authorize_in_browser(start["url"], fx.username, MEMBER_PASSWORD)
    assert pages == ["signin", "consent"]
    callback = parse_qs(urlsplit(location).query)
    assert callback["state"] == [start["state"]]
    token = app.fetch_access_token(fx.redirect_uri, code=callback["code"][0], code_verifier=start["code_verifier"])

    # Authlib's defaults verify ID tokens with the provider's /jwks only, which has no HMAC key
    # (it could not publish a client's secret): HS512 needs the key given as the key set.
    with pytest.raises((InvalidKeyIdError, MissingKeyError)):
        app.parse_id_token(token, start["nonce"])
    configured = AuthlibApp(None, jwks=hmac_jwks(fx.client_secret), **settings)
    claims = configured.parse_id_token(token, start["nonce"])  # signature, iss, aud, nonce, at_hash
    assert_member_claims(claims, fx)
    with pytest.raises(BadSignatureError):
        AuthlibApp(None, jwks=hmac_jwks(fx.client_secret[::-1]), **settings).parse_id_token(token, start["nonce"])

    info = app.userinfo(token=token)
    assert info["sub"] == fx.member_id and info["given_name"] == "Bob"
