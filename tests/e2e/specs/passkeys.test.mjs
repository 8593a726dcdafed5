// Passkeys in Chromium with its virtual authenticator (the DevTools protocol's WebAuthn domain):
// added in Account Settings, used as the second factor after the password, used alone, removed;
// after the privileged window the passkey proves adding and removing (a recovery code still can).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";
import { addAuthenticator, AUTHENTICATOR } from "../lib/webauthn.mjs";

const PASSWORD = "correct horse battery";

// One browser for the file; each story has its own server and a page with its own authenticator.
let browser;
const problems = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], "a page reported CSP violations or errors");
});

/** A phone page on the server's public origin (WebAuthn works only there) with a virtual passkey authenticator. */
async function pageWithAuthenticator(server) {
  const { page } = await newPhonePage(browser, server.browserUrl, problems);
  return { page, ...(await addAuthenticator(page)) };
}

let server;
let page;
let cdp;
let authenticatorId;

async function credentials() {
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
}

async function logIn(username) {
  await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function signOut() {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You have signed out.").waitFor();
}

const section = () => page.getByRole("region", { name: "Passkeys and security keys" });
const thisSession = () =>
  page
    .getByRole("region", { name: "Where you're signed in" })
    .getByRole("list", { name: "Sessions" })
    .getByRole("listitem")
    .filter({ hasText: "This session" });

describe("a customer with a passkey", () => {
  let recoveryCodes;

  before(async () => {
    server = await startServer();
    ({ page, cdp, authenticatorId } = await pageWithAuthenticator(server));
  });

  after(async () => {
    await page?.context().close();
    await server?.stop();
  });

  it("adds a passkey in Account Settings and gets recovery codes, as it is the first second factor", async () => {
    await apiClient(server.baseUrl).register("paula", PASSWORD);
    await page.goto("/sign-in");
    await logIn("paula");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await page.getByText("Two-factor authentication is off").waitFor();
    await section().getByText("You have no passkeys or security keys.").waitFor();

    await section().getByRole("button", { name: "Add a passkey or security key" }).click();
    await section().getByLabel("Name", { exact: true }).fill("Test phone");
    await checkpoint(page, "90-passkey-name");
    await section().getByRole("button", { name: "Continue" }).click();

    await section().getByRole("heading", { name: "Your recovery codes" }).waitFor();
    recoveryCodes = await section().locator(".codes code").allInnerTexts();
    assert.equal(recoveryCodes.length, 10);
    await section().getByText('The passkey "Test phone" is added.').waitFor();
    await page.getByText("Two-factor authentication is on since").waitFor();
    await checkpoint(page, "91-passkey-recovery-codes");
    await section().getByLabel("I have saved my recovery codes").check();
    await section().getByRole("button", { name: "Done" }).click();

    const item = section().getByRole("listitem").filter({ hasText: "Test phone" });
    await item.getByText(/Added .* · never used/).waitFor();
    // The authenticator holds a discoverable credential for this site, made with user verification.
    const stored = await credentials();
    assert.equal(stored.length, 1);
    assert.equal(stored[0].rpId, "localhost");
    assert.equal(stored[0].isResidentCredential, true);
    await page.getByRole("region", { name: "Recent security events" }).getByText("Passkey added").waitFor();
    // Without an OTP application, one may be added beside the passkey.
    await page.getByLabel("Also set up an OTP application for six-digit codes").waitFor();
    await checkpoint(page, "92-passkey-listed");
  });

  it("renames it", async () => {
    await section().getByRole("button", { name: "Rename passkey Test phone" }).click();
    await section().getByLabel("New name").fill("My phone");
    await section().getByRole("button", { name: "Save name" }).click();
    await section().getByText('The passkey is now called "My phone".').waitFor();
    await section().getByRole("listitem").filter({ hasText: "My phone" }).waitFor();
  });

  it("signs out, then signs in with the password and the passkey", async () => {
    await signOut();
    await logIn("paula");
    await page.getByRole("heading", { name: "Two-factor authentication", level: 1 }).waitFor();
    // A passkey-only account: the passkey, or a recovery code; there is no six-digit code.
    assert.equal(await page.getByLabel("Six-digit code").count(), 0);
    await page.getByRole("textbox", { name: "Recovery code" }).waitFor();
    await checkpoint(page, "93-sign-in-passkey-step");
    await page.getByRole("button", { name: "Use your passkey or security key" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await thisSession().getByText("Password + passkey").waitFor();
    await section().getByRole("listitem").filter({ hasText: "My phone" }).getByText(/last used/).waitFor();
    await page.getByRole("region", { name: "Recent security events" }).getByText("Passkey used").first().waitFor();
  });

  it("signs out, then signs in with the passkey alone", async () => {
    await signOut();
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await page.getByText("paula").first().waitFor();
    await thisSession().getByText("Passkey", { exact: true }).waitFor();
  });

  it("removes the passkey after OK; two-factor goes off and the password alone signs in", async () => {
    await section().getByRole("button", { name: "Remove passkey My phone" }).click();
    const dialog = page.getByRole("alertdialog", { name: 'Remove the passkey "My phone"?' });
    await dialog.getByText("It is your last second factor").waitFor();
    await checkpoint(page, "94-passkey-remove-dialog");
    await dialog.getByRole("button", { name: "OK" }).click();
    await section().getByText('The passkey "My phone" has been removed.').waitFor();
    await section().getByText("You have no passkeys or security keys.").waitFor();
    await page.getByText("Two-factor authentication is off").waitFor();
    await page.getByRole("region", { name: "Recent security events" }).getByText("Passkey removed").waitFor();

    await signOut();
    await logIn("paula");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("a passkey the server no longer knows is refused with words, not an error page", async () => {
    // The credential is still on the authenticator, but the account no longer has it.
    assert.equal((await credentials()).length, 1);
    await signOut();
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.getByRole("alert").filter({ hasText: "could not be verified" }).waitFor();
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
  });
});

describe("passkeys after the privileged window ask to confirm it's you", () => {
  before(async () => {
    server = await startServer({ CUSTADMIN_PRIVILEGED_WINDOW_SECS: "1" });
    ({ page, cdp, authenticatorId } = await pageWithAuthenticator(server));
  });

  after(async () => {
    await page?.context().close();
    await server?.stop();
  });

  async function addPasskey(name) {
    await section().getByRole("button", { name: "Add a passkey or security key" }).click();
    await section().getByLabel("Name", { exact: true }).fill(name);
    await section().getByRole("button", { name: "Continue" }).click();
  }

  let recoveryCodes;

  it("adding asks for the password while two-factor is off", async () => {
    await apiClient(server.baseUrl).register("quinn", PASSWORD);
    await page.goto("/sign-in");
    await logIn("quinn");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await page.waitForTimeout(1500);
    await addPasskey("Laptop");
    await section().getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await section().getByLabel("Password", { exact: true }).fill(PASSWORD);
    await section().getByRole("button", { name: "Confirm", exact: true }).click();
    await section().getByRole("heading", { name: "Your recovery codes" }).waitFor();
    recoveryCodes = await section().locator(".codes code").allInnerTexts();
    await section().getByLabel("I have saved my recovery codes").check();
    await section().getByRole("button", { name: "Done" }).click();
    await section().getByRole("listitem").filter({ hasText: "Laptop" }).waitFor();
  });

  it("adding again on the same authenticator: the passkey is the proof, and the browser says the key is already there", async () => {
    await addPasskey("Laptop again");
    await section().getByRole("heading", { name: "Confirm it's you" }).waitFor();
    // Passkeys only: the passkey first, a recovery code beside it; no six-digit code, no password.
    assert.equal(await section().getByLabel("Six-digit code").count(), 0);
    assert.equal(await section().locator(".reauth input[type=password]").count(), 0);
    await section().getByLabel("Recovery code").waitFor();
    await checkpoint(page, "95-passkey-reauthenticate");
    await section().getByRole("button", { name: "Confirm with your passkey or security key" }).click();
    // The server took the passkey's answer (it sent creation options); the authenticator then
    // refuses to make a second credential for the same account.
    await section().getByRole("alert").filter({ hasText: "already added to your account" }).waitFor();
    assert.equal(await section().getByRole("heading", { name: "Confirm it's you" }).count(), 0);
    assert.equal((await credentials()).length, 1);
  });

  it("a recovery code still proves it", async () => {
    await section().getByRole("button", { name: "Continue" }).click();
    await section().getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await section().getByLabel("Recovery code").fill(recoveryCodes[0]);
    await section().getByRole("button", { name: "Confirm", exact: true }).click();
    await section().getByRole("alert").filter({ hasText: "already added to your account" }).waitFor();
    assert.equal(await section().getByRole("heading", { name: "Confirm it's you" }).count(), 0);
  });

  it("adding a second key is proved with the first passkey", async () => {
    // The authenticator holding "Laptop" signs the proof; it would refuse to make a second
    // credential for the account, so once the proof is on its way the new key goes on another.
    const start = "**/api/v1/account/passkeys/register/start";
    await page.route(start, async (route) => {
      if (route.request().postDataJSON()?.webauthn) {
        await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
        ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", { options: AUTHENTICATOR }));
      }
      await route.continue();
    });
    await section().getByLabel("Name", { exact: true }).fill("USB key");
    await section().getByRole("button", { name: "Continue" }).click();
    await section().getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await section().getByRole("button", { name: "Confirm with your passkey or security key" }).click();
    await section().getByText('The passkey "USB key" is added.').waitFor();
    await page.unroute(start);
    await section().getByRole("listitem").filter({ hasText: "USB key" }).waitFor();
    assert.equal((await credentials()).length, 1);
  });

  it("removing is proved with a passkey too; without the last one two-factor goes off", async () => {
    // "Laptop" went with its authenticator: the one holding "USB key" answers both proofs.
    for (const [name, last] of [
      ["Laptop", false],
      ["USB key", true],
    ]) {
      await section().getByRole("button", { name: `Remove passkey ${name}` }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
      await section().getByRole("heading", { name: "Confirm it's you" }).waitFor();
      await section().getByRole("button", { name: "Confirm with your passkey or security key" }).click();
      await section().getByText(`The passkey "${name}" has been removed.`).waitFor();
      await page.getByText(last ? "Two-factor authentication is off" : "Two-factor authentication is on since").waitFor();
      // The next removal is again outside the privileged window of one second.
      await page.waitForTimeout(1100);
    }
    await section().getByText("You have no passkeys or security keys.").waitFor();
  });
});
