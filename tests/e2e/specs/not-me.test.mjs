// "This wasn't me": the link in a real notice mail opened in the browser, in English and Czech;
// the page asks first, the button reports, the result page says what ended and what next, and
// the session that was signed in elsewhere is gone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { waitForMailedToken, waitForMailWithLink } from "../lib/mail.mjs";
import { startServer } from "../lib/server.mjs";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a brand new password";

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

/** A customer with a verified address (the sign-up link followed by API), in `language`. */
async function verifiedCustomer(username, email, language) {
  const api = apiClient(server.baseUrl);
  await api.call("POST", "/auth/register", { body: { username, password: PASSWORD, email } });
  const token = await waitForMailedToken(server.dataDir, email, "/verify-email");
  await api.call("POST", "/auth/email/verify", { body: { token } });
  return api;
}

async function logIn(page, username, { heading = "Log in", submit = "Log in", password = PASSWORD } = {}) {
  await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
  await page.getByLabel(/^(Username|Uživatelské jméno)$/).fill(username);
  await page.getByLabel(/^(Password|Heslo)$/).fill(password);
  await page.getByRole("button", { name: submit }).click();
}

/** Someone else signs in with the password from a device the account never used: the holder is mailed. */
async function strangerSignsIn(api, username) {
  const reply = await api.login(username, PASSWORD);
  assert.equal(reply.status, "authenticated");
  return reply.access_token;
}

async function accountStatus(token) {
  const reply = await fetch(`${server.baseUrl}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
  return reply.status;
}

describe("this wasn't me", () => {
  it("English: the link from the new-sign-in mail secures the account, signs everyone out, and the reset gets it back", async () => {
    const api = await verifiedCustomer("nina", "nina@example.com");
    // The holder's own browser, the account's first device (no mail for that one).
    const own = await newPhonePage(browser, server.baseUrl, problems);
    await own.page.goto("/sign-in");
    await logIn(own.page, "nina");
    await own.page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

    const stranger = await strangerSignsIn(api, "nina");
    const mail = await waitForMailWithLink(server.dataDir, "nina@example.com", "/not-me");
    assert.match(mail.text, /Someone signed in to your account nina from a device or browser it was not used on before/);
    assert.match(mail.text, /If this was not you and you want to stop whoever did it at once, open this link/);

    // The holder opens the link on the phone: the page asks, and opening it ended nothing.
    const phone = await newPhonePage(browser, server.baseUrl, problems);
    await phone.page.goto(`/not-me?token=${encodeURIComponent(mail.token)}`);
    await phone.page.getByRole("heading", { name: "This wasn't me", level: 1 }).waitFor();
    assert.equal(await accountStatus(stranger), 200, "opening the link ends nothing");
    await checkpoint(phone.page, "100-not-me-confirm");
    await phone.page.getByRole("button", { name: "It wasn't me: secure my account" }).click();
    await phone.page.getByRole("heading", { name: "Your account is secured", level: 1 }).waitFor();
    const ended = phone.page.getByRole("list", { name: "What ended" });
    await ended.getByText("2 sessions ended").waitFor();
    await ended.getByText("Signing in with your password is blocked").waitFor();
    await checkpoint(phone.page, "101-not-me-done");

    // Both sessions are gone: the stranger's token, and the holder's own browser.
    assert.equal(await accountStatus(stranger), 401);
    await own.page.reload();
    await own.page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
    await own.context.close();

    // The password no longer signs in; the page says why and leads to the reset.
    await phone.page.goto("/sign-in");
    await logIn(phone.page, "nina");
    await phone.page.getByRole("alert").getByText(/Signing in with the password is blocked/).waitFor();
    await checkpoint(phone.page, "102-sign-in-blocked");
    await phone.page.getByRole("link", { name: "Reset your password" }).click();
    await phone.page.getByLabel("Username or email").fill("nina");
    await phone.page.getByRole("button", { name: "Send reset link" }).click();
    const reset = await waitForMailedToken(server.dataDir, "nina@example.com", "/reset-password");
    await phone.page.goto(`/reset-password?token=${encodeURIComponent(reset)}`);
    await phone.page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await phone.page.getByLabel("Repeat new password").fill(NEW_PASSWORD);
    await phone.page.getByRole("button", { name: "Set new password" }).click();
    await phone.page.getByRole("heading", { name: "Your password was reset", level: 1 }).waitFor();
    await phone.page.getByRole("link", { name: "Log in" }).click();
    await logIn(phone.page, "nina", { password: NEW_PASSWORD });
    await phone.page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    const events = phone.page.getByRole("region", { name: "Recent security events" });
    await events.getByText('Reported: "This wasn\'t me"').waitFor();
    await phone.context.close();
  });

  it("Czech: the mail and the page speak the account's language; the link works once", async () => {
    const api = await verifiedCustomer("petr", "petr@example.com");
    // The account speaks Czech (as choosing Čeština in the SPA's menu remembers); this first
    // sign-in is the account's first device, which nobody is told of.
    const { access_token } = await api.login("petr", PASSWORD);
    await api.call("PATCH", "/account", { token: access_token, body: { language: "cs" } });
    const own = await newPhonePage(browser, server.baseUrl, problems, { locale: "cs-CZ" });
    await own.page.goto("/sign-in");
    await logIn(own.page, "petr", { heading: "Přihlášení", submit: "Přihlásit se" });
    await own.page.getByRole("heading", { name: "Nastavení účtu", level: 1 }).waitFor();
    const stranger = await strangerSignsIn(api, "petr");

    const mail = await waitForMailWithLink(server.dataDir, "petr@example.com", "/not-me");
    assert.match(mail.text, /Někdo se přihlásil k vašemu účtu petr/);
    assert.match(mail.text, /Pokud jste to nebyli vy a chcete toho, kdo to udělal, hned zastavit, otevřete tento odkaz/);

    const phone = await newPhonePage(browser, server.baseUrl, problems, { locale: "cs-CZ" });
    const link = `/not-me?token=${encodeURIComponent(mail.token)}`;
    await phone.page.goto(link);
    await phone.page.getByRole("heading", { name: "Nebyl(a) jsem to já", level: 1 }).waitFor();
    await checkpoint(phone.page, "103-not-me-confirm-cs");
    await phone.page.getByRole("button", { name: "Nebyl(a) jsem to já: zabezpečit účet" }).click();
    await phone.page.getByRole("heading", { name: "Váš účet je zabezpečený", level: 1 }).waitFor();
    await phone.page.getByRole("list", { name: "Co skončilo" }).getByText("Přihlášení heslem je zablokované").waitFor();
    await phone.page.getByRole("link", { name: "Obnovit heslo" }).waitFor();
    await checkpoint(phone.page, "104-not-me-done-cs");

    assert.equal(await accountStatus(stranger), 401);
    await own.page.reload();
    await own.page.getByRole("heading", { name: "Přihlášení", level: 1 }).waitFor();
    await own.context.close();

    // Single use: the same link again says so.
    await phone.page.goto(link);
    await phone.page.getByRole("button", { name: "Nebyl(a) jsem to já: zabezpečit účet" }).click();
    await phone.page.getByRole("alert").getByText(/Tento odkaz neznáme, už byl použit nebo vypršel/).waitFor();
    await phone.context.close();
  });
});
