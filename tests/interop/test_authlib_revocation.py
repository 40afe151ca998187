"""Interoperability: Authlib's OAuth2Session revoke_token (RFC 7009) and introspect_token
(RFC 7662) against a running Gatehouse. Fixtures and helpers come from test_authlib."""

from authlib.integrations.requests_client import OAuthError

import pytest

from test_authlib import admin, code_flow, make_fixture, metadata, oauth_session, set_signing  # noqa: F401


def test_revoke_then_introspect_refresh_token(admin, metadata, make_fixture):  # noqa: F811
    set_signing(admin, "RS256")
    fx = make_fixture()
    session = oauth_session(fx, scope="openid profile offline_access")
    token, _, _ = code_flow(session, fx, metadata)
    refresh = token["refresh_token"]

    seen = session.introspect_token(metadata["introspection_endpoint"], token=refresh).json()
    assert seen["active"] is True and seen["client_id"] == fx.client_id and seen["sub"] == fx.member_id
    assert seen["username"] == fx.username and seen["token_type"] == "refresh_token"

    res = session.revoke_token(metadata["revocation_endpoint"], token=refresh, token_type_hint="refresh_token")
    assert res.status_code == 200
    seen = session.introspect_token(metadata["introspection_endpoint"], token=refresh).json()
    assert seen == {"active": False}
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refresh)
    assert refused.value.error == "invalid_grant"
    access = session.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
    assert access == {"active": False}, "revoking the refresh token ends its access tokens too"


def test_another_client_cannot_revoke_or_introspect(admin, metadata, make_fixture):  # noqa: F811
    set_signing(admin, "RS256")
    fx, other = make_fixture(), make_fixture()
    session = oauth_session(fx, scope="openid offline_access")
    token, _, _ = code_flow(session, fx, metadata)
    stranger = oauth_session(other)
    seen = stranger.introspect_token(metadata["introspection_endpoint"], token=token["access_token"]).json()
    assert seen == {"active": False}
    res = stranger.revoke_token(metadata["revocation_endpoint"], token=token["refresh_token"])
    assert res.status_code == 400 and res.json()["error"] == "unauthorized_client"
    seen = session.introspect_token(metadata["introspection_endpoint"], token=token["refresh_token"]).json()
    assert seen["active"] is True, "nothing changed"
