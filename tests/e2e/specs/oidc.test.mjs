// "Sign in with custadmin": a relying party built on panva's OpenID Certified `openid-client`
// (and `jose` for a second, independent check of each ID token against the JWKS) signs
// customers in through the real SPA in Chromium. Nothing of ours is on the relying party's side:
// if the provider strays from OpenID Connect, these libraries refuse it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createServer } from "node:http";
import * as oidc from "openid-client";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";
import { addAuthenticator } from "../lib/webauthn.mjs";
import { CodeSource } from "../lib/totp.mjs";

const PASSWORD = "correct horse battery";
const ACR_MFA = "urn:custadmin:acr:mfa";
const ACR_PASSKEY = "urn:custadmin:acr:hwk";

// The relying party's own web server: all it does is note where the browser came back to,
// which is all a callback has to do before the library takes over.
let relyingPartyServer;
let CALLBACK;
let SIGNED_OUT;
const arrivals = [];

async function startRelyingPartyServer() {
  relyingPartyServer = createServer((request, response) => {
    const url = new URL(request.url, `http://${request.headers.host}`);
    const waiting = arrivals.findIndex((arrival) => arrival.pathname === url.pathname);
    if (waiting >= 0) arrivals.splice(waiting, 1)[0].resolve(url);
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end("<!doctype html><html lang=en><title>Relying party</title><p>Back at the relying party.</p>");
  });
  await new Promise((resolve) => relyingPartyServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${relyingPartyServer.address().port}`;
  CALLBACK = `${base}/callback`;
  SIGNED_OUT = `${base}/signed-out`;
}

let server;
let browser;
let issuer;
let confidential;
let spa;
const problems = [];

before(async () => {
  await startRelyingPartyServer();
  server = await startServer();
  browser = await launchBrowser();
  // The issuer is the public URL: on a loopback bind, http://localhost:<port>.
  issuer = new URL(server.browserUrl);
  confidential = server.cli([
    "oidc-client", "create", "--name", "Reseller Portal", "--redirect-uri", CALLBACK,
    "--post-logout-redirect-uri", SIGNED_OUT,
  ]);
  spa = server.cli([
    "oidc-client", "create", "--name", "Helpdesk", "--redirect-uri", CALLBACK, "--public",
    "--id-token-alg", "EdDSA",
  ]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  relyingPartyServer?.close();
  assert.deepEqual(problems, [], "a page reported CSP violations or errors");
});

/** The relying party's configuration, from discovery, as an integrator would make it. */
async function relyingParty(client, metadata = {}) {
  const auth = client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None();
  return oidc.discovery(issuer, client.client_id, metadata, auth, {
    // Plain HTTP on loopback only, and ID tokens' signatures checked even from the token
    // endpoint (the library's strictest setting).
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
}

/** A fresh authorization request: its URL and the checks the callback must pass. */
async function authorization(config, extra = {}) {
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const expectedNonce = oidc.randomNonce();
  const expectedState = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: "openid profile email offline_access",
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: "S256",
    nonce: expectedNonce,
    state: expectedState,
    ...extra,
  });
  return { url, checks: { pkceCodeVerifier, expectedNonce, expectedState } };
}

/**
 * Runs `start` in `page` and returns the URL the browser then came back to at the relying party,
 * once the relying party's page has loaded there (so the next navigation cannot race it).
 */
async function followToRelyingParty(page, start, back = CALLBACK) {
  const { pathname } = new URL(back);
  const arrived = new Promise((resolve) => arrivals.push({ pathname, resolve }));
  await start();
  const url = await arrived;
  await page.waitForURL((current) => current.href.startsWith(back), { waitUntil: "load" });
  return url;
}

/** Opens `url` where the SPA may send the browser on at once: waits only for the first answer. */
const open = (page, url) => page.goto(url.href, { waitUntil: "commit" });

/** An ID token checked a second time, by `jose` against the JWKS, with the algorithm pinned. */
async function verifyWithJose(idToken, audience, algorithm) {
  const config = await fetch(new URL("/.well-known/openid-configuration", issuer)).then((r) => r.json());
  const jwks = createRemoteJWKSet(new URL(config.jwks_uri));
  assert.equal(decodeProtectedHeader(idToken).alg, algorithm);
  const { payload } = await jwtVerify(idToken, jwks, { issuer: issuer.origin, audience, algorithms: [algorithm] });
  return payload;
}

describe("Sign in with custadmin (OpenID Connect, openid-client as the relying party)", () => {
  let customer;
  let codes;
  let context;
  let page;
  let tokens;
  let config;

  it("discovery: the relying party library accepts the provider's metadata", async () => {
    config = await relyingParty(confidential);
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, issuer.origin);
    assert.deepEqual(metadata.code_challenge_methods_supported, ["S256"]);
    assert.ok(metadata.id_token_signing_alg_values_supported.includes("RS256"));
    assert.ok(metadata.id_token_signing_alg_values_supported.includes("EdDSA"));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.ok(metadata.end_session_endpoint && metadata.revocation_endpoint && metadata.userinfo_endpoint);
  });

  it("code flow with PKCE and nonce through the SPA: password, code, consent; RS256 ID token", async () => {
    const api = apiClient(server.baseUrl);
    customer = "oidc-customer";
    const { secret, usedStep } = await api.customerWithTwoFactor(customer, PASSWORD);
    codes = new CodeSource(secret, usedStep);
    ({ context, page } = await newPhonePage(browser, server.browserUrl, problems));

    const { url, checks } = await authorization(config);
    const callback = await followToRelyingParty(page, async () => {
      await page.goto(url.href);
      await page.getByLabel("Username", { exact: true }).fill(customer);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByLabel("Six-digit code").fill(await codes.next());
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("button", { name: "Allow" }).waitFor();
      assert.match(await page.locator("main").innerText(), /Reseller Portal/);
      await checkpoint(page, "60-oidc-consent");
      await page.getByRole("button", { name: "Allow" }).click();
    });
    assert.equal(callback.searchParams.get("iss"), issuer.origin, "RFC 9207 iss in the response");

    tokens = await oidc.authorizationCodeGrant(config, callback, checks);
    const claims = tokens.claims();
    assert.equal(claims.iss, issuer.origin);
    assert.deepEqual([claims.aud].flat(), [confidential.client_id]);
    assert.equal(claims.nonce, checks.expectedNonce);
    assert.equal(claims.acr, ACR_MFA, "password and code: multi-factor");
    assert.ok(claims.amr.includes("pwd") && claims.amr.includes("otp"), `amr ${claims.amr}`);
    assert.ok(claims.sid && claims.auth_time);
    assert.ok(tokens.refresh_token, "offline_access was granted");
    const again = await verifyWithJose(tokens.id_token, confidential.client_id, "RS256");
    assert.equal(again.sub, claims.sub);
  });

  it("UserInfo answers the scopes' claims for the access token", async () => {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    assert.equal(info.sub, tokens.claims().sub);
    assert.equal(info.preferred_username, customer);
  });

  it("our own API does not take the UserInfo access token", async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/account`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(response.status, 401);
  });

  it("refresh rotates the token; the old one replayed ends the grant", async () => {
    const first = tokens.refresh_token;
    const refreshed = await oidc.refreshTokenGrant(config, first);
    assert.notEqual(refreshed.refresh_token, first);
    assert.equal(refreshed.claims().sub, tokens.claims().sub);
    await assert.rejects(oidc.refreshTokenGrant(config, first), (error) => error.error === "invalid_grant");
    await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token), (error) => error.error === "invalid_grant");
  });

  it("a second sign-in needs no password and no consent; revocation ends the grant at once", async () => {
    const { url, checks } = await authorization(config);
    const callback = await followToRelyingParty(page, () => open(page, url));
    tokens = await oidc.authorizationCodeGrant(config, callback, checks);
    await oidc.tokenRevocation(config, tokens.refresh_token);
    await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (error) => error.error === "invalid_grant");
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub));
  });

  it("prompt=login asks for the password and code again, even with a session", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { url, checks } = await authorization(config, { prompt: "login" });
    const callback = await followToRelyingParty(page, async () => {
      await open(page, url);
      await page.getByText("Log in to continue to Reseller Portal.").waitFor();
      await page.getByLabel("Username", { exact: true }).fill(customer);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByLabel("Six-digit code").fill(await codes.next());
      await page.getByRole("button", { name: "Log in" }).click();
    });
    const again = await oidc.authorizationCodeGrant(config, callback, checks);
    assert.ok(again.claims().auth_time >= before, "auth_time is the new sign-in");
  });

  it("hostile relying parties: a wrong verifier, another client's code, a replayed code", async () => {
    const rejectsGrant = (promise) => assert.rejects(promise, (error) => error.error === "invalid_grant");
    // A wrong PKCE verifier: refused, and the code is spent by the attempt.
    let { url, checks } = await authorization(config);
    let callback = await followToRelyingParty(page, () => open(page, url));
    await rejectsGrant(oidc.authorizationCodeGrant(config, callback, { ...checks, pkceCodeVerifier: oidc.randomPKCECodeVerifier() }));
    await rejectsGrant(oidc.authorizationCodeGrant(config, callback, checks));

    // The confidential client's code taken to the public client: refused.
    const publicConfig = await relyingParty(spa, { id_token_signed_response_alg: "EdDSA" });
    ({ url, checks } = await authorization(config));
    callback = await followToRelyingParty(page, () => open(page, url));
    await rejectsGrant(oidc.authorizationCodeGrant(publicConfig, callback, checks));

    // A code replayed after it was redeemed: refused, and what the first use issued ends.
    ({ url, checks } = await authorization(config));
    callback = await followToRelyingParty(page, () => open(page, url));
    const first = await oidc.authorizationCodeGrant(config, callback, checks);
    await rejectsGrant(oidc.authorizationCodeGrant(config, callback, checks));
    await rejectsGrant(oidc.refreshTokenGrant(config, first.refresh_token));
    await assert.rejects(oidc.fetchUserInfo(config, first.access_token, first.claims().sub));
  });

  it("an id_token_hint with alg none is refused at logout, and nothing is ended", async () => {
    const [, payload] = tokens.id_token.split(".");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: unsigned, post_logout_redirect_uri: SIGNED_OUT });
    const response = await page.goto(logout.href);
    assert.equal(response.status(), 400);
    assert.equal(new URL(page.url()).origin, issuer.origin, "no redirect on a forged hint");
    await page.goto("/account");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("a public client with PKCE and EdDSA ID tokens: consent asked for this app too", async () => {
    const publicConfig = await relyingParty(spa, { id_token_signed_response_alg: "EdDSA" });
    const { url, checks } = await authorization(publicConfig, { scope: "openid profile" });
    const callback = await followToRelyingParty(page, async () => {
      await page.goto(url.href);
      await page.getByRole("button", { name: "Allow" }).click();
    });
    const result = await oidc.authorizationCodeGrant(publicConfig, callback, checks);
    assert.equal(result.refresh_token, undefined, "no offline_access, no refresh token");
    const claims = await verifyWithJose(result.id_token, spa.client_id, "EdDSA");
    assert.equal(claims.sub, tokens.claims().sub, "sub is stable per account across clients");
  });

  it("step-up: acr_values asks a session opened on a remembered device for the code", async () => {
    // A customer of its own, so that its codes need no wait for the clock. It signs in
    // ticking "remember this device", then once more: the code is skipped.
    const stepUpCustomer = "oidc-step-up";
    const { secret, usedStep } = await apiClient(server.baseUrl).customerWithTwoFactor(stepUpCustomer, PASSWORD);
    const codes = new CodeSource(secret, usedStep);
    await context.close();
    ({ context, page } = await newPhonePage(browser, server.browserUrl, problems));
    for (const remember of [true, false]) {
      await page.goto("/sign-in");
      await page.getByLabel("Username", { exact: true }).fill(stepUpCustomer);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      if (remember) {
        await page.getByLabel("Six-digit code").fill(await codes.next());
        await page.getByLabel("Don't ask for a code on this device for 30 days").check();
        await page.getByRole("button", { name: "Log in" }).click();
      }
      await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
      if (remember) {
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.getByText("You have signed out.").waitFor();
      }
    }
    const { url, checks } = await authorization(config, { acr_values: ACR_MFA, prompt: "consent" });
    const callback = await followToRelyingParty(page, async () => {
      await page.goto(url.href);
      await page.getByLabel("Six-digit code").fill(await codes.next());
      await checkpoint(page, "61-oidc-step-up");
      await page.getByRole("button", { name: "Allow and continue" }).click();
    });
    const stepped = await oidc.authorizationCodeGrant(config, callback, checks);
    assert.equal(stepped.claims().acr, ACR_MFA);
    assert.ok(stepped.claims().amr.includes("otp"), `amr ${stepped.claims().amr}`);
    tokens = stepped;
  });

  it("step-up to a passkey: acr hwk is not met by a code, the passkey answers it", async () => {
    const hwkCustomer = "oidc-passkey";
    const { secret, usedStep } = await apiClient(server.baseUrl).customerWithTwoFactor(hwkCustomer, PASSWORD);
    const codes = new CodeSource(secret, usedStep);
    const phone = await newPhonePage(browser, server.browserUrl, problems);
    await addAuthenticator(phone.page);
    await phone.page.goto("/sign-in");
    await phone.page.getByLabel("Username", { exact: true }).fill(hwkCustomer);
    await phone.page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await phone.page.getByRole("button", { name: "Log in" }).click();
    await phone.page.getByLabel("Six-digit code").fill(await codes.next());
    await phone.page.getByRole("button", { name: "Log in" }).click();
    const passkeys = phone.page.getByRole("region", { name: "Passkeys and security keys" });
    await passkeys.getByRole("button", { name: "Add a passkey or security key" }).click();
    await passkeys.getByLabel("Name", { exact: true }).fill("Test phone");
    await passkeys.getByRole("button", { name: "Continue" }).click();
    await passkeys.getByRole("listitem").filter({ hasText: "Test phone" }).waitFor();

    // Signed in with password and code (acr mfa); the app asks for a passkey.
    const { url, checks } = await authorization(config, { acr_values: ACR_PASSKEY, prompt: "consent" });
    const callback = await followToRelyingParty(phone.page, async () => {
      await open(phone.page, url);
      const allow = phone.page.getByRole("button", { name: "Allow with your passkey or security key" });
      await allow.waitFor();
      assert.equal(await phone.page.getByLabel("Six-digit code").count(), 0, "a code cannot answer hwk");
      await checkpoint(phone.page, "63-oidc-step-up-passkey");
      await allow.click();
    });
    const stepped = await oidc.authorizationCodeGrant(config, callback, checks);
    assert.equal(stepped.claims().acr, ACR_PASSKEY);
    assert.ok(stepped.claims().amr.includes("hwk"), `amr ${stepped.claims().amr}`);
    await phone.context.close();
  });

  it("logout without an id_token_hint asks the customer, and staying keeps the session", async () => {
    await page.goto(new URL("/oauth2/logout", issuer).href);
    await page.getByRole("heading", { name: /^Sign out of .*\?$/, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/sign-out");
    await checkpoint(page, "62-oidc-sign-out-question");
    await page.getByRole("button", { name: "Stay signed in" }).click();
    await page.goto("/account");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("RP-initiated logout ends the custadmin session and returns with the state", async () => {
    const state = oidc.randomState();
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: SIGNED_OUT,
      state,
    });
    const back = await followToRelyingParty(page, () => open(page, logout), SIGNED_OUT);
    assert.equal(back.searchParams.get("state"), state);
    await page.goto("/account");
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await context.close();
  });

  it("prompt=none without a session comes back with login_required, never a page", async () => {
    const fresh = await newPhonePage(browser, server.browserUrl, problems);
    const { url, checks } = await authorization(config, { prompt: "none" });
    const callback = await followToRelyingParty(fresh.page, () => open(fresh.page, url));
    assert.equal(callback.searchParams.get("error"), "login_required");
    await assert.rejects(oidc.authorizationCodeGrant(config, callback, checks), (error) => error.error === "login_required");
    await fresh.context.close();
  });

  it("an unregistered redirect URI gets an error page and no redirect", async () => {
    const fresh = await newPhonePage(browser, server.browserUrl, problems);
    const { url } = await authorization(config, { redirect_uri: `${CALLBACK}/elsewhere` });
    const response = await fresh.page.goto(url.href);
    assert.equal(response.status(), 400);
    assert.equal(new URL(fresh.page.url()).origin, issuer.origin, "the browser stayed with the provider");
    await fresh.context.close();
  });
});
