"""Interoperability: RP-Initiated Logout 1.0 for an Authlib app against a running Gatehouse
(Authlib has no end-session helper: the app sends the browser to end_session_endpoint itself)."""

from urllib.parse import parse_qs, urlsplit

import requests

from test_authlib import TIMEOUT, admin, api, code_flow, make_fixture, metadata, oauth_session, set_signing  # noqa: F401

INPUT_FIELDS = ("name", "redirect_urls", "profile_query", "id_token_fields", "role_query", "role_format",
                "no_access_mapping", "grant_types", "id_token_hmac_key")


def test_logout_with_id_token_hint_returns_with_state(admin, metadata, make_fixture):  # noqa: F811
    set_signing(admin, "RS256")
    fx = make_fixture()
    bye = f"http://127.0.0.1:9/{fx.run}/signed-out"
    current = api(admin, "GET", f"/registrations/{fx.client_id}")
    body = {k: current[k] for k in INPUT_FIELDS} | {"post_logout_redirect_urls": [bye]}
    assert api(admin, "PUT", f"/registrations/{fx.client_id}", body)["post_logout_redirect_urls"] == [bye]

    browser = requests.Session()
    session = oauth_session(fx, scope="openid profile")
    token, _, _ = code_flow(session, fx, metadata, browser=browser)
    assert browser.get(f"{metadata['issuer']}/account", allow_redirects=False, timeout=TIMEOUT).status_code == 200

    end = metadata["end_session_endpoint"]
    refused = browser.get(end, params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
                          allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 400 and "location" not in refused.headers
    other = make_fixture()
    wrong = browser.get(end, params={"id_token_hint": token["id_token"], "client_id": other.client_id},
                        allow_redirects=False, timeout=TIMEOUT)
    assert wrong.status_code == 400, "a hint for another client"

    res = browser.get(end, params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": bye, "state": "py-state"},
                      allow_redirects=False, timeout=TIMEOUT)
    assert res.status_code == 303
    back = urlsplit(res.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == bye
    assert parse_qs(back.query)["state"] == ["py-state"]
    account = browser.get(f"{metadata['issuer']}/account", allow_redirects=False, timeout=TIMEOUT)
    assert account.status_code == 303 and account.headers["location"].startswith("/signin")
