"""Interoperability: Back-Channel Logout 1.0 for an Authlib app. A small HTTP receiver stands in
for the app; the logout token is verified with joserfc (Authlib's JOSE library): RS256 through
/jwks, HS512 with the registration's key."""

import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
import requests
from authlib.integrations.requests_client import OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey

from test_authlib import TIMEOUT, admin, api, code_flow, make_fixture, metadata, oauth_session, set_signing  # noqa: F401

INPUT_FIELDS = ("name", "redirect_urls", "profile_query", "id_token_fields", "role_query", "role_format",
                "no_access_mapping", "grant_types", "id_token_hmac_key")
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def start_receiver():
    bodies: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("content-length", "0"))
            bodies.put(self.rfile.read(length).decode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/backchannel", bodies


def sign_in_and_out(admin, metadata, fx, url):  # noqa: F811
    current = api(admin, "GET", f"/registrations/{fx.client_id}")
    body = {k: current[k] for k in INPUT_FIELDS} | {"backchannel_logout_url": url}
    assert api(admin, "PUT", f"/registrations/{fx.client_id}", body)["backchannel_logout_url"] == url
    browser = requests.Session()
    session = oauth_session(fx, scope="openid offline_access")
    token, _, _ = code_flow(session, fx, metadata, browser=browser)
    page = browser.get(f"{metadata['issuer']}/signout", timeout=TIMEOUT).text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = browser.post(f"{metadata['issuer']}/signout", data={"csrf_token": csrf}, allow_redirects=False, timeout=TIMEOUT)
    assert done.status_code == 303
    return session, token


def check(claims, fx, id_claims):
    assert claims["sub"] == fx.member_id and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}} and "nonce" not in claims and claims["jti"]


def test_backchannel_logout_rs256(admin, metadata, make_fixture):  # noqa: F811
    set_signing(admin, "RS256")
    server, url, bodies = start_receiver()
    try:
        fx = make_fixture()
        session, token = sign_in_and_out(admin, metadata, fx, url)
        logout_token = parse_qs(bodies.get(timeout=10))["logout_token"][0]
        keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
        decoded = jwt.decode(logout_token, keys, algorithms=["RS256"])
        registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": metadata["issuer"]},
                                         aud={"essential": True, "value": fx.client_id})
        registry.validate(decoded.claims)
        id_claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
        check(decoded.claims, fx, id_claims)
        with pytest.raises(OAuthError) as refused:
            session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert refused.value.error == "invalid_grant", "the session's refresh token stops working"
    finally:
        server.shutdown()


def test_backchannel_logout_hs512(admin, metadata, make_fixture):  # noqa: F811
    set_signing(admin, "HS512")
    server, url, bodies = start_receiver()
    try:
        fx = make_fixture()
        _, token = sign_in_and_out(admin, metadata, fx, url)
        logout_token = parse_qs(bodies.get(timeout=10))["logout_token"][0]
        key = OctKey.import_key(fx.signing_key())
        decoded = jwt.decode(logout_token, key, algorithms=["HS512"])
        assert decoded.claims["aud"] == fx.client_id and decoded.claims["iss"] == metadata["issuer"]
        check(decoded.claims, fx, jwt.decode(token["id_token"], key, algorithms=["HS512"]).claims)
    finally:
        server.shutdown()
