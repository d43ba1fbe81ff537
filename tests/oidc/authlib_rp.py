"""A second, independent relying party: Python Authlib and joserfc with their defaults,
against the running worker (BIOPASS_URL, BIOPASS_ADMIN_TOKEN). For each client
authentication method, and for an application signing its ID tokens with RS256: a pushed
authorization request, a first sign-in that enrols an authenticator app (driven through the
login API as the SPA does, with codes computed as an authenticator app does), the code
exchanged by Authlib, the ID token verified by joserfc against the JWKS, and userinfo. Then
the conformance cases a certified RP meets. Prints one line per check; exits 1 on a failure.
"""

import base64
import hashlib
import hmac
import os
import struct
import sys
import time
import urllib.parse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import ClientSecretJWT, PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

BASE = os.environ["BIOPASS_URL"].rstrip("/")
ADMIN = os.environ["BIOPASS_ADMIN_TOKEN"]
CALLBACK = "https://rp.example.com/callback"
failures = []


def check(name, ok, why=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {why}"), flush=True)
    if not ok:
        failures.append(name)


def admin(method, path, body=None):
    r = requests.request(method, f"{BASE}/admin/api{path}", json=body, headers={"authorization": f"Bearer {ADMIN}"}, timeout=30)
    return r.status_code, r.json()


def create_app(name, **extra):
    status, body = admin("POST", "/applications", {"name": name, "application_type": "amazon_cognito_mfa", "allowed_callback_urls": [CALLBACK], **extra})
    assert status == 201, (status, body)
    if body.get("client_authentication"):
        body["secret"] = admin("GET", f"/applications/{body['client_id']}/secret")[1]["client_secret"]
    return body


def totp(seed, step):
    mac = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def b32decode(s):
    return base64.b32decode(s + "=" * (-len(s) % 8))


def sign_in(authorize_url):
    """The SPA's part: follows /authorize to the login page, enrols an authenticator app
    and confirms it with its current code; answers the callback URL."""
    browser = requests.Session()
    r = browser.get(authorize_url, allow_redirects=False, timeout=30)
    location = r.headers.get("location", "")
    assert r.status_code == 302 and location.startswith("/login?tx="), (r.status_code, location, r.text[:300])
    tx = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["tx"][0]
    state = browser.get(f"{BASE}/api/login/{tx}", timeout=30).json()
    assert state["step"] == "enrol", state
    enrol = browser.post(f"{BASE}/api/login/{tx}/totp/enrol", json={}, timeout=30).json()
    code = totp(b32decode(enrol["secret"]), int(time.time()) // 30)
    done = browser.post(f"{BASE}/api/login/{tx}/totp/enrol/confirm", json={"code": code}, timeout=30)
    assert done.status_code == 200, (done.status_code, done.text)
    # A first enrolment shows the new recovery codes once; Continue finishes the sign-in.
    assert done.json()["step"] == "recovery_codes" and len(done.json()["codes"]) == 10, done.text
    done = browser.post(f"{BASE}/api/login/{tx}/skip", json={}, timeout=30)
    assert done.status_code == 200, (done.status_code, done.text)
    return done.json()["redirect_to"]


meta = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=30).json()
check("discovery: RS256 among the ID token algorithms (Discovery 3)", "RS256" in meta["id_token_signing_alg_values_supported"], meta["id_token_signing_alg_values_supported"])
check("discovery: request_uri_parameter_supported is false", meta.get("request_uri_parameter_supported") is False, meta.get("request_uri_parameter_supported"))
check("discovery: the same document as RFC 8414 metadata", requests.get(f"{BASE}/.well-known/oauth-authorization-server", timeout=30).json() == meta)

ec_key = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"})
apps = {
    "client_secret_basic": create_app("Authlib basic"),
    "client_secret_post": create_app("Authlib post"),
    "client_secret_jwt": create_app("Authlib secret JWT", client_auth_method="client_secret_jwt"),
    "private_key_jwt": create_app("Authlib key JWT", client_auth_method="private_key_jwt", public_key_jwk=ec_key.as_dict(private=False)),
    "RS256 ID tokens": create_app("Authlib RS256", id_token_signed_response_alg="RS256"),
}


def session_for(case, app):
    method = case if case in ("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt") else "client_secret_basic"
    secret = ec_key if method == "private_key_jwt" else app["secret"]
    s = OAuth2Session(app["client_id"], secret, token_endpoint_auth_method=method, redirect_uri=CALLBACK, scope="openid", code_challenge_method="S256")
    if method == "client_secret_jwt":
        s.register_client_auth_method(ClientSecretJWT(meta["token_endpoint"]))
    if method == "private_key_jwt":
        s.register_client_auth_method(PrivateKeyJWT(meta["token_endpoint"], alg="ES256"))
    return s


for n, (case, app) in enumerate(apps.items()):
    try:
        s = session_for(case, app)
        verifier = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        nonce, state = f"n-{n}-{time.time_ns()}", f"s-{n}"
        username = f"authlib-{n}-{time.time_ns()}@example.com"
        # RFC 9126: pushed with the client's own authentication, as Authlib makes it.
        params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK, "scope": "openid", "state": state,
                  "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": username}
        if s.token_endpoint_auth_method == "client_secret_post":
            del params["client_id"]  # the authentication puts it in the body (once: RFC 6749 3.1)
        pushed = s.post(meta["pushed_authorization_request_endpoint"], data=params, withhold_token=True,
                        auth=s.client_auth(s.token_endpoint_auth_method), timeout=30)
        assert pushed.status_code == 201, (pushed.status_code, pushed.text)
        query = urllib.parse.urlencode({"client_id": app["client_id"], "request_uri": pushed.json()["request_uri"]})
        callback = sign_in(f"{meta['authorization_endpoint']}?{query}")
        token = s.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier, state=state)
        jwks = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=30).json())
        alg = "RS256" if case == "RS256 ID tokens" else "ES256"
        decoded = jwt.decode(token["id_token"], jwks, algorithms=[alg])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": BASE}, aud={"essential": True, "value": app["client_id"]},
                              nonce={"essential": True, "value": nonce}, exp={"essential": True}).validate(decoded.claims)
        check(f"{case}: PAR, sign-in, code exchange, {alg} ID token verified", decoded.header["alg"] == alg and decoded.claims["preferred_username"] == username,
              decoded.header)
        info = s.get(meta["userinfo_endpoint"], timeout=30)
        check(f"{case}: userinfo", info.status_code == 200 and info.json()["sub"] == decoded.claims["sub"], info.text)
    except Exception as e:  # every case reports, none stops the others
        check(f"{case}: full code flow", False, repr(e))


def authorize_error(extra):
    """The error the authorization endpoint gives a request of the basic application with
    `extra`: from the redirect back, or from the error page."""
    q = {"client_id": apps["client_secret_basic"]["client_id"], "response_type": "code", "redirect_uri": CALLBACK, "scope": "openid", **extra}
    r = requests.get(meta["authorization_endpoint"], params=q, allow_redirects=False, timeout=30)
    if r.status_code in (302, 303):
        back = urllib.parse.parse_qs(urllib.parse.urlparse(r.headers["location"]).query)
        return back.get("error", [""])[0], back.get("error_description", [""])[0]
    return r.text, ""


error, _ = authorize_error({"request": "eyJhbGciOiJub25lIn0.e30."})
check("a request object is request_not_supported (Core 6.1)", "request_not_supported" in error, error[:200])
error, _ = authorize_error({"request_uri": "https://rp.example.com/request.jwt"})
check("a request_uri not from PAR is request_uri_not_supported (Core 6.2)", "request_uri_not_supported" in error, error[:200])
error, _ = authorize_error({"prompt": "none login", "login_hint": "someone@example.com"})
check("prompt=none with another value is invalid_request (Core 3.1.2.1)", "invalid_request" in error, error[:200])
r = requests.post(meta["token_endpoint"], data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK},
                  auth=("no-such-client", "wrong"), timeout=30)
body = r.json()
check("a bad client is invalid_client with a Basic challenge (RFC 6749 5.2)", r.status_code == 401 and body["error"] == "invalid_client" and "Basic" in r.headers.get("www-authenticate", ""), r.text)
check("error_description has no quote or backslash (RFC 6749 5.2)", '"' not in body.get("error_description", "") and "\\" not in body.get("error_description", ""), body)
check("GET /token is 405 with Allow: POST", requests.get(meta["token_endpoint"], timeout=30).status_code == 405)

print(f"{len(failures)} failed", flush=True)
sys.exit(1 if failures else 0)
