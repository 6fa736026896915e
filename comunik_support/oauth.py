"""A fake OAuth2 provider on loopback, standing in for Google's and Microsoft's sign-in services.

Odoo's google_gmail and microsoft_outlook do the real OAuth work (consent, code exchange, refresh); the tests
point them here, and the throwaway Dovecot and SMTP sink of ``servers`` accept an XOAUTH2 login only with an
access token this provider issued and still considers valid. So a test proves the whole chain: consent in the
"browser", tokens stored by Odoo, IMAP and SMTP logins with them, expiry and refresh, revocation.

Endpoints (``base_url`` = http://127.0.0.1:OAUTH_PORT):
- ``/google/auth``, ``/microsoft/authorize``: the consent page; answers 302 to ``redirect_uri`` with a code
  (consent given as ``consent_as``, or the ``login_hint``), or ``error=access_denied``.
- ``/google/token``, ``/microsoft/token``: ``authorization_code`` and ``refresh_token`` grants, with each
  provider's answer shape (Microsoft rotates refresh tokens and adds an ``id_token``).
- ``/google/userinfo``: the email of an access token.
- ``/introspect``: what Dovecot's ``passdb oauth2`` asks (``introspection_mode = post``).

Only the standard library: no Odoo, so it also runs from a plain script or the service tests.
"""

import atexit
import base64
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

_PORT_OFFSET = int(os.environ.get("COMUNIK_TEST_PORT_OFFSET") or 0)
OAUTH_PORT = 19080 + _PORT_OFFSET
HOST = "127.0.0.1"
GOOGLE, MICROSOFT = "google", "microsoft"
ACCESS_LIFETIME = 3599


def _b64url(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def id_token(email):
    """An unsigned JWT-shaped id_token: Odoo only reads its middle part (it got it from the server itself)."""
    return f"{_b64url({'alg': 'none'})}.{_b64url({'email': email, 'preferred_username': email})}.sig"


class OAuthProvider:
    """Codes, refresh tokens and access tokens of both providers, in memory, thread-safe."""

    def __init__(self, port=OAUTH_PORT):
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.google_auth_url = f"{self.base_url}/google/auth"
        self.google_token_url = f"{self.base_url}/google/token"
        self.google_userinfo_url = f"{self.base_url}/google/userinfo"
        self.microsoft_endpoint = f"{self.base_url}/microsoft/"
        self.introspection_url = f"{self.base_url}/introspect"
        self.consent_as = None
        self.clients = {}
        self.last_authorize_params = {}
        self.token_requests = []
        self._codes = {}  # code -> (provider, email)
        self._refresh = {}  # refresh token -> (provider, email)
        self._access = {}  # access token -> (email, expires_at)
        self._lock = threading.Lock()
        self._server = None

    # ------------------------------------------------------------------ life cycle

    def start(self):
        provider = self

        class Handler(_Handler):
            oauth = provider

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ state (also used directly by tests)

    def register_client(self, client_id, secret):
        self.clients[client_id] = secret

    def issue_access_token(self, email, expires_in=ACCESS_LIFETIME):
        token = "at-" + secrets.token_urlsafe(24)
        with self._lock:
            self._access[token] = (email.lower(), time.time() + expires_in)
        return token

    def grant(self, email, provider=GOOGLE):
        """A refresh token, as if ``email`` had consented (no browser)."""
        token = "rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self._refresh[token] = (provider, email.lower())
        return token

    def validate(self, access_token):
        """The email of a valid, unexpired access token, else None (Dovecot and the SMTP sink ask this)."""
        with self._lock:
            email, expires_at = self._access.get(access_token or "", (None, 0))
        return email if expires_at > time.time() else None

    def expire_access_tokens(self, email=None):
        """As if the hour of every access token (of ``email``) had passed."""
        with self._lock:
            for token, (owner, _expires_at) in list(self._access.items()):
                if email is None or owner == email.lower():
                    self._access[token] = (owner, 0)

    def revoke(self, email):
        """The user withdrew the access (or an admin did): refresh and access tokens stop working."""
        with self._lock:
            self._refresh = {t: v for t, v in self._refresh.items() if v[1] != email.lower()}
            self._access = {t: v for t, v in self._access.items() if v[0] != email.lower()}

    # ------------------------------------------------------------------ endpoints

    def authorize(self, provider, params):
        """Redirect target of the consent page."""
        self.last_authorize_params = dict(params)
        email = params.get("login_hint") or self.consent_as
        answer = {"state": params.get("state", "")}
        if email:
            code = "code-" + secrets.token_urlsafe(16)
            with self._lock:
                self._codes[code] = (provider, email.lower())
            answer["code"] = code
        else:
            answer["error"] = "access_denied"
        return f"{params.get('redirect_uri', '')}?{urlencode(answer)}"

    def token(self, provider, form):
        """(status, JSON body) of a token request."""
        grant_type = form.get("grant_type")
        self.token_requests.append((provider, grant_type))
        if self.clients.get(form.get("client_id")) != form.get("client_secret") or not form.get("client_id"):
            return 401, {"error": "invalid_client"}
        with self._lock:
            if grant_type == "authorization_code":
                found = self._codes.pop(form.get("code", ""), None)
            elif grant_type == "refresh_token":
                found = self._refresh.get(form.get("refresh_token", ""))
            else:
                return 400, {"error": "unsupported_grant_type"}
        if not found or found[0] != provider:
            return 400, {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: The refresh token has expired or been revoked.",
            }
        email = found[1]
        body = {"access_token": self.issue_access_token(email), "expires_in": ACCESS_LIFETIME, "token_type": "Bearer"}
        if grant_type == "authorization_code" or provider == MICROSOFT:
            body["refresh_token"] = self.grant(email, provider)  # Microsoft rotates; the old one stays valid
        if provider == MICROSOFT:
            body["id_token"] = id_token(email)
        body["scope"] = form.get("scope", "")
        return 200, body

    def introspect(self, token):
        email = self.validate(token)
        return {"active": True, "email": email, "username": email} if email else {"active": False}


class _Handler(BaseHTTPRequestHandler):
    oauth = None  # set per server
    # Keep-alive: Dovecot's HTTP client reuses its connection to the introspection endpoint.
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: tests read answers, not logs
        pass

    def _send(self, status, body=None, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self):
        length = int(self.headers.get("Content-Length") or 0)
        return {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path in ("/google/auth", "/microsoft/authorize"):
            provider = GOOGLE if url.path.startswith("/google") else MICROSOFT
            return self._send(302, location=self.oauth.authorize(provider, params))
        if url.path == "/google/userinfo":
            email = self.oauth.validate(params.get("access_token"))
            return self._send(200, {"email": email, "verified_email": True}) if email else self._send(401, {})
        return self._send(404, {"error": "not_found"})

    def do_POST(self):  # noqa: N802 - http.server's name
        path = urlsplit(self.path).path
        form = self._form()
        if path in ("/google/token", "/microsoft/token"):
            status, body = self.oauth.token(GOOGLE if path.startswith("/google") else MICROSOFT, form)
            return self._send(status, body)
        if path == "/introspect":
            token = form.get("token") or self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            return self._send(200, self.oauth.introspect(token))
        return self._send(404, {"error": "not_found"})


_provider = None
_provider_lock = threading.Lock()


def get_oauth_provider():
    """Process-wide provider, started on first use and stopped at interpreter exit."""
    global _provider
    with _provider_lock:
        if _provider is None:
            _provider = OAuthProvider().start()
            atexit.register(_provider.stop)
        return _provider
