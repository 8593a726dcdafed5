// Mailed links (verify an address, reset a password), the remembered device and ending a
// session, in a real browser against the real binary; mails are read from the server's .eml files.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { waitForMailedToken } from "../lib/mail.mjs";
import { startServer } from "../lib/server.mjs";
import { CodeSource } from "../lib/totp.mjs";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a brand new password";
const REMEMBER = "Don't ask for a code on this device for 30 days";

// One server and one browser for the file; each flow has its own browser context.
let server;
let browser;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(problems, [], "a page reported CSP violations or errors");
});

async function logIn(page, username, password = PASSWORD) {
  await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** A customer with a verified address (the link followed by API) and two-factor on. */
async function verifiedCustomerWithTwoFactor(username, email) {
  const api = apiClient(server.baseUrl);
  await api.call("POST", "/auth/register", { body: { username, password: PASSWORD, email } });
  const token = await waitForMailedToken(server.dataDir, email, "/verify-email");
  await api.call("POST", "/auth/email/verify", { body: { token } });
  const { secret, usedStep } = await api.enableTwoFactor(username, PASSWORD);
  return { api, codes: new CodeSource(secret, usedStep) };
}

describe("mailed links", () => {
  it("sign-up with an e-mail, the mailed link opened in the browser, the address verified in Account Settings", async () => {
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-up");
    await page.getByLabel("Username", { exact: true }).fill("gina");
    await page.getByLabel("Email (optional)").fill("gina@example.com");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await logIn(page, "gina");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    const email = page.getByRole("region", { name: "Email address" });
    await email.getByText("Not verified").waitFor();
    await email.getByRole("button", { name: "Resend verification link" }).waitFor();
    await checkpoint(page, "70-email-not-verified");

    const token = await waitForMailedToken(server.dataDir, "gina@example.com", "/verify-email");
    await page.goto(`/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByText("Your email address gina@example.com is verified.").waitFor();
    await checkpoint(page, "71-verify-email-done");
    await page.getByRole("link", { name: "Go to Account Settings" }).click();
    await email.getByText("Verified", { exact: true }).waitFor();
    assert.equal(await email.getByRole("button", { name: "Resend verification link" }).count(), 0);
    await checkpoint(page, "72-account-email-verified");

    // The link is single use: opened again, it says so and how to get a new one.
    await page.goto(`/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByRole("alert").getByText(/This link is unknown, already used or expired/).waitFor();
    await checkpoint(page, "73-verify-email-used-link");
    await context.close();
  });

  it("forgot password on a two-factor account: the mailed link asks for the code, then the new password signs in", async () => {
    const { codes } = await verifiedCustomerWithTwoFactor("hana", "hana@example.com");
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-in");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByRole("heading", { name: "Forgot your password?", level: 1 }).waitFor();
    await page.getByLabel("Username or email").fill("hana@example.com");
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText("If the account exists and has a verified address, we sent a link. It works for 30 minutes.").waitFor();
    await checkpoint(page, "74-forgot-password-sent");

    const token = await waitForMailedToken(server.dataDir, "hana@example.com", "/reset-password");
    await page.goto(`/reset-password?token=${encodeURIComponent(token)}`);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByText(/Your account uses two-factor authentication/).waitFor();
    await checkpoint(page, "75-reset-password-code");
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByRole("heading", { name: "Your password was reset", level: 1 }).waitFor();
    await page.getByText("Your password was reset; every session was signed out.", { exact: false }).waitFor();
    await checkpoint(page, "76-reset-password-done");

    await page.getByRole("link", { name: "Log in" }).click();
    await logIn(page, "hana", NEW_PASSWORD);
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await context.close();
  });
});

describe("devices and sessions", () => {
  it("a remembered device signs in without the code; another session is ended from 'Where you're signed in'", async () => {
    const { api, codes } = await verifiedCustomerWithTwoFactor("ivan", "ivan@example.com");
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-in");
    await logIn(page, "ivan");
    await page.getByLabel(REMEMBER).check();
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await checkpoint(page, "77-sign-in-remember-device");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

    // Signed out and in again on this device: the password alone is enough.
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn(page, "ivan");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

    // Another place signs in with the code: a program with a user agent of its own. (The set-up
    // above left a third session, the one that switched two-factor on.)
    const { challenge_token } = await api.login("ivan", PASSWORD);
    const signIn = await fetch(`${server.baseUrl}/api/v1/auth/otp`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "PartnerPortal/1.0 (reseller sync)" },
      body: JSON.stringify({ challenge_token, code: await codes.next() }),
    });
    assert.equal(signIn.status, 200);
    const other = await signIn.json();

    await page.reload();
    const places = page.getByRole("region", { name: "Where you're signed in" });
    const sessions = places.getByRole("list", { name: "Sessions" }).getByRole("listitem");
    await places.getByText("You are signed in in 3 places.").waitFor();
    const mine = sessions.filter({ hasText: "This session" });
    await mine.getByText("Password + trusted device").waitFor();
    const theirs = sessions.filter({ hasText: "PartnerPortal/1.0 (reseller sync)" });
    await theirs.getByText("Password + code").waitFor();
    const devices = places.getByRole("list", { name: "Known devices" }).getByRole("listitem");
    await devices.filter({ hasText: "This device" }).getByText(/Trusted until/).waitFor();
    await checkpoint(page, "78-where-signed-in");

    await theirs.getByRole("button", { name: /^End session/ }).click();
    await places.getByText("The session has ended: that browser has to log in again.").waitFor();
    await places.getByText("You are signed in in 2 places.").waitFor();
    assert.equal(await theirs.count(), 0);
    await page.getByRole("region", { name: "Recent security events" }).getByText("Session ended").first().waitFor();
    await checkpoint(page, "79-session-ended");

    // The ended session's refresh token no longer works; this one still does.
    const refreshed = await fetch(`${server.baseUrl}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: other.refresh_token }),
    });
    assert.equal(refreshed.status, 401);
    await page.reload();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await context.close();
  });
});

describe("API tokens", () => {
  it("a token is made in Account Settings, shown once, works for GET /account, and is revoked", async () => {
    await apiClient(server.baseUrl).register("jana", PASSWORD);
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-in");
    await logIn(page, "jana");
    const section = page.getByRole("region", { name: "API tokens" });
    await section.getByText("You have no API tokens.").waitFor();
    await section.getByRole("button", { name: "Create an API token" }).click();
    await section.getByLabel("Name", { exact: true }).fill("Reseller portal");
    await checkpoint(page, "80-api-token-form");
    // Just signed in: inside the privileged window, so no proof is asked.
    await section.getByRole("button", { name: "Create token" }).click();
    await section.getByText("Copy it now: you will not see it again.").waitFor();
    const token = (await section.locator("code.secret").textContent()) ?? "";
    assert.match(token, /^cat_/);
    await checkpoint(page, "81-api-token-created");

    const read = await fetch(`${server.baseUrl}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(read.status, 200);
    assert.equal((await read.json()).username, "jana");

    await section.getByRole("button", { name: "Done" }).click();
    assert.equal(await section.getByText(token).count(), 0);
    await section.getByRole("button", { name: "Revoke token Reseller portal" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
    await section.getByText('The token "Reseller portal" has been revoked.').waitFor();
    await section.getByText("You have no API tokens.").waitFor();
    const refused = await fetch(`${server.baseUrl}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 401);
    await context.close();
  });
});
