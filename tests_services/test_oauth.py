"""XOAUTH2 logins against the real Dovecot and SMTP sink, with tokens of the fake OAuth provider.

Timeouts are 10 s: after a refused XOAUTH2 login Dovecot delays the next logins from the same address a few
seconds (its auth penalty), so only one IMAP refusal is provoked here.
"""

import base64
import json
import smtplib
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest

from comunik_mail.services import connection
from comunik_support import servers
from comunik_support.oauth import GOOGLE, MICROSOFT, get_oauth_provider


@pytest.fixture(scope="module")
def provider(real_servers):
    provider = get_oauth_provider()
    provider.register_client("svc-client", "svc-secret")
    return provider


@pytest.fixture
def mailbox(real_servers):
    dovecot, _smtp = real_servers
    login = f"oauth-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, uuid.uuid4().hex)  # a password nobody is given: only tokens open it
    return login


def imap(login, token):
    return connection.ServerSettings(servers.HOST, servers.IMAPS_PORT, "ssl", login, "", 10, access_token=token)


def smtp(login, token, port=servers.SMTP_PORT, encryption="starttls"):
    return connection.ServerSettings(servers.HOST, port, encryption, login, "", 10, access_token=token)


def test_xoauth2_string():
    assert connection.xoauth2_string("a@b.fr", "tok") == "user=a@b.fr\x01auth=Bearer tok\x01\x01"


def test_imap_and_smtp_accept_a_valid_token(provider, mailbox, real_servers):
    token = provider.issue_access_token(mailbox)
    assert connection.check_imap(imap(mailbox, token)).ok
    assert connection.check_smtp(smtp(mailbox, token)).ok
    assert connection.check_smtp(smtp(mailbox, token, servers.SMTPS_PORT, "ssl")).ok
    _dovecot, sink = real_servers
    count = len(sink.messages)
    client = connection.smtp_connect(smtp(mailbox, token))
    client.sendmail(mailbox, ["client@example.test"], b"Subject: oauth\r\n\r\nbody\r\n")
    client.quit()
    captured = sink.wait_for(count + 1)[-1]
    assert (captured["auth_login"], captured["auth_mechanism"]) == (mailbox, "XOAUTH2")


@pytest.mark.parametrize("case", ["expired", "revoked", "other_user", "unknown"])
def test_refused_tokens(provider, mailbox, real_servers, case):
    dovecot, _sink = real_servers
    other = f"other-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(other, "pw")
    token = provider.issue_access_token(other if case == "other_user" else mailbox)
    if case == "expired":
        provider.expire_access_tokens(mailbox)
    elif case == "revoked":
        provider.revoke(mailbox)
    elif case == "unknown":
        token = "at-forged"
    assert connection.check_smtp(smtp(mailbox, token)).code == connection.AUTH
    assert not provider.introspect(token)["active"] or case == "other_user"


def test_dovecot_refuses_another_mailboxs_token(provider, mailbox, real_servers):
    """One refused IMAP login only: Dovecot delays each further refused XOAUTH2 login from the same address
    (4 s, 8 s...), so expiry and revocation are checked on the SMTP sink and the introspection answer, which
    decide for Dovecot too."""
    dovecot, _sink = real_servers
    other = f"other-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(other, "pw")
    assert connection.check_imap(imap(mailbox, provider.issue_access_token(other))).code == connection.AUTH


def test_password_logins_still_work(provider, real_servers):
    dovecot, sink = real_servers
    login = f"pw-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(login, "pw-123")
    sink.add_user(login, "pw-123")
    settings = connection.ServerSettings(servers.HOST, servers.IMAPS_PORT, "ssl", login, "pw-123", 10)
    assert connection.check_imap(settings).ok
    assert connection.check_smtp(connection.ServerSettings(servers.HOST, servers.SMTPS_PORT, "ssl", login, "pw-123")).ok


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def _post(url, **form):
    import urllib.error

    try:
        with build_opener().open(Request(url, data=urlencode(form).encode()), timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _consent(provider, auth_url, email):
    import urllib.error

    provider.consent_as = email
    query = urlencode({"client_id": "svc-client", "redirect_uri": "http://odoo.test/cb", "state": '{"id": 7}'})
    try:
        build_opener(_NoRedirect).open(f"{auth_url}?{query}", timeout=5)
    except urllib.error.HTTPError as error:
        location = error.headers["Location"]
    finally:
        provider.consent_as = None
    params = parse_qs(urlsplit(location).query)
    assert params["state"] == ['{"id": 7}'], "the state comes back unchanged"
    return params.get("code", [None])[0], params


@pytest.mark.parametrize("kind", [GOOGLE, MICROSOFT])
def test_code_and_refresh_grants(provider, mailbox, kind):
    auth_url = provider.google_auth_url if kind == GOOGLE else provider.microsoft_endpoint + "authorize"
    token_url = provider.google_token_url if kind == GOOGLE else provider.microsoft_endpoint + "token"
    client = {"client_id": "svc-client", "client_secret": "svc-secret"}
    code, _params = _consent(provider, auth_url, mailbox)
    status, body = _post(token_url, grant_type="authorization_code", code=code, **client)
    assert status == 200 and provider.validate(body["access_token"]) == mailbox
    assert _post(token_url, grant_type="authorization_code", code=code, **client)[0] == 400, "a code is single-use"
    refresh = body["refresh_token"]
    status, renewed = _post(token_url, grant_type="refresh_token", refresh_token=refresh, **client)
    assert status == 200 and provider.validate(renewed["access_token"]) == mailbox
    if kind == MICROSOFT:
        assert renewed["refresh_token"] != refresh, "Microsoft rotates refresh tokens"
        claims = renewed["id_token"].split(".")[1]
        assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["email"] == mailbox
    else:
        assert "refresh_token" not in renewed
    forged = {"client_id": "x", "client_secret": "y"}
    assert _post(token_url, grant_type="refresh_token", refresh_token=refresh, **forged)[0] == 401
    provider.revoke(mailbox)
    status, body = _post(token_url, grant_type="refresh_token", refresh_token=refresh, **client)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_consent_refused_without_account(provider):
    code, params = _consent(provider, provider.google_auth_url, None)
    assert code is None and params["error"] == ["access_denied"]


def test_introspection_answers_dovecot(provider, mailbox):
    token = provider.issue_access_token(mailbox)
    answer = {"active": True, "email": mailbox, "username": mailbox}
    assert _post(provider.introspection_url, token=token) == (200, answer)
    assert _post(provider.introspection_url, token="nope") == (200, {"active": False})


def test_smtp_refusal_is_an_authentication_error(provider, mailbox):
    with pytest.raises(smtplib.SMTPAuthenticationError):
        connection.smtp_connect(smtp(mailbox, "at-forged"))
