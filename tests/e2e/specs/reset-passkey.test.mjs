// A passkey-only customer who forgot the password: the mailed reset link is proved with the
// passkey (Chromium's virtual authenticator), then the new password and the passkey sign in.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { waitForMailedToken } from "../lib/mail.mjs";
import { startServer } from "../lib/server.mjs";
import { addAuthenticator } from "../lib/webauthn.mjs";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a brand new password";
const USE_PASSKEY = "Use your passkey or security key";

let server;
let browser;
let page;
const problems = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // WebAuthn works only on the server's public origin.
  ({ page } = await newPhonePage(browser, server.browserUrl, problems));
  await addAuthenticator(page);
});

after(async () => {
  await page?.context().close();
  await browser?.close();
  await server?.stop();
  assert.deepEqual(problems, [], "a page reported CSP violations or errors");
});

async function logIn(username, password) {
  await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

const events = () => page.getByRole("region", { name: "Recent security events" });

describe("a passkey-only customer resets the password from the mailed link", () => {
  it("has a verified address and a passkey as the only second factor", async () => {
    const api = apiClient(server.baseUrl);
    await api.call("POST", "/auth/register", { body: { username: "rita", password: PASSWORD, email: "rita@example.com" } });
    const token = await waitForMailedToken(server.dataDir, "rita@example.com", "/verify-email");
    await api.call("POST", "/auth/email/verify", { body: { token } });

    await page.goto("/sign-in");
    await logIn("rita", PASSWORD);
    const passkeys = page.getByRole("region", { name: "Passkeys and security keys" });
    await passkeys.getByRole("button", { name: "Add a passkey or security key" }).click();
    await passkeys.getByLabel("Name", { exact: true }).fill("Phone");
    await passkeys.getByRole("button", { name: "Continue" }).click();
    await passkeys.getByRole("heading", { name: "Your recovery codes" }).waitFor();
    await passkeys.getByLabel("I have saved my recovery codes").check();
    await passkeys.getByRole("button", { name: "Done" }).click();
    await page.getByText("Two-factor authentication is on since").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
  });

  it("asks for a link, opens it, and proves the reset with the passkey", async () => {
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Username or email").fill("rita@example.com");
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText("If the account exists and has a verified address, we sent a link.", { exact: false }).waitFor();

    const token = await waitForMailedToken(server.dataDir, "rita@example.com", "/reset-password");
    await page.goto(`/reset-password?token=${encodeURIComponent(token)}`);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set new password" }).click();
    // The passkey first; the codes stay beside it.
    await page.getByText(/confirm it's you with your passkey or security key/).waitFor();
    await page.getByText("Or enter a six-digit code from your OTP application or one of your recovery codes:").waitFor();
    await checkpoint(page, "77-reset-password-passkey");
    await page.getByRole("button", { name: USE_PASSKEY }).click();
    await page.getByRole("heading", { name: "Your password was reset", level: 1 }).waitFor();
    await checkpoint(page, "78-reset-password-passkey-done");
  });

  it("signs in with the new password and the passkey", async () => {
    await page.getByRole("link", { name: "Log in" }).click();
    await logIn("rita", NEW_PASSWORD);
    await page.getByRole("heading", { name: "Two-factor authentication", level: 1 }).waitFor();
    await page.getByRole("button", { name: USE_PASSKEY }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await events().getByText("Password reset by email link").waitFor();
    await events().getByText("Passkey used").first().waitFor();
  });

  it("the old password no longer signs in", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn("rita", PASSWORD);
    await page.getByRole("alert").waitFor();
    assert.equal(await page.getByRole("heading", { name: "Two-factor authentication", level: 1 }).count(), 0);
  });
});
