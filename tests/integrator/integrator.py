"""A third-party integrator's script, written against a client generated from openapi.yaml by
openapi-python-client: sign in with the second factor, read the account, make an API token and
read the account with it, and verify the access token offline against the JWKS with PyJWT.
Proves the published description is enough to integrate. Usage: integrator.py BASE_URL"""

import json
import sys
import time

import jwt
import pyotp

from custadmin_client import AuthenticatedClient, Client
from custadmin_client.api.account import get_account
from custadmin_client.api.api_tokens import create_token
from custadmin_client.api.auth import log_in, register, verify_otp
from custadmin_client.api.meta import jwks, public_settings
from custadmin_client.api.two_factor import confirm, enroll
from custadmin_client.models import (
    AuthenticatedResponse,
    ConfirmRequest,
    CreateTokenRequest,
    LoginRequest,
    OtpRequest,
    OtpRequiredResponse,
    RegisterRequest,
    Scope,
)

base = sys.argv[1]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)
checks = []


def check(name, condition):
    checks.append((name, bool(condition)))
    print(("ok   " if condition else "FAIL ") + name)


password = "integrator's long password"
register.sync(client=anonymous, body=RegisterRequest(username="reseller", password=password))
signed_in = log_in.sync(client=anonymous, body=LoginRequest(username="reseller", password=password))
check("password-only sign-in gives tokens", isinstance(signed_in, AuthenticatedResponse))
user = AuthenticatedClient(base_url=base, token=signed_in.access_token, raise_on_unexpected_status=True)

# Optional bodies may be left out: the generated client must not choke on them.
enrolment = enroll.sync(client=user)
totp = pyotp.TOTP(enrolment.secret)
confirmed = confirm.sync(client=user, body=ConfirmRequest(code=totp.now()))
check("two-factor switched on, ten recovery codes", confirmed.enabled and len(confirmed.recovery_codes) == 10)

challenge = log_in.sync(client=anonymous, body=LoginRequest(username="reseller", password=password))
check("the next sign-in asks for the code", isinstance(challenge, OtpRequiredResponse))
# The step just used at confirmation is spent; the server also accepts the next step's code.
next_code = totp.at(time.time() + 30)
full = verify_otp.sync(client=anonymous, body=OtpRequest(challenge_token=challenge.challenge_token, code=next_code))
check("the code completes the sign-in", isinstance(full, AuthenticatedResponse))
user = AuthenticatedClient(base_url=base, token=full.access_token, raise_on_unexpected_status=True)

account = get_account.sync(client=user)
check("the account reads back", account.username == "reseller" and account.two_factor.enabled)

made = create_token.sync(
    client=user,
    body=CreateTokenRequest(name="nightly sync", scopes=[Scope.ACCOUNTREAD], expires_in_days=30),
)
check("an API token is made", made.token.startswith("cat_"))
machine = AuthenticatedClient(base_url=base, token=made.token, raise_on_unexpected_status=True)
check("the API token reads the account", get_account.sync(client=machine).id == account.id)

keys = jwks.sync(client=anonymous)
issuer = public_settings.sync(client=anonymous).issuer
header = jwt.get_unverified_header(full.access_token)
key = next(k for k in keys.to_dict()["keys"] if k["kid"] == header["kid"])
claims = jwt.decode(
    full.access_token,
    jwt.PyJWK(key).key,
    algorithms=["EdDSA"],
    audience="custadmin",
    issuer=issuer,
)
check("the access token verifies offline", header["typ"] == "at+jwt" and claims["sub"] == account.id)
check("it says both factors were used", claims["amr"] == ["pwd", "otp"])
try:
    jwt.decode(challenge.challenge_token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="custadmin", issuer=issuer)
    check("a challenge token is no access token", False)
except jwt.InvalidTokenError:
    check("a challenge token is no access token", True)

failed = sum(1 for _, ok in checks if not ok)
print(f"integrator: {len(checks) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
