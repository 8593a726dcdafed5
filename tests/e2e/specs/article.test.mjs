// The help article, step by step, in a real browser against the real binary.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";
import { CodeSource } from "../lib/totp.mjs";
import jsQR from "jsqr";
import { PNG } from "pngjs";

const PASSWORD = "correct horse battery";

describe("a customer follows the help article", () => {
  let server;
  let browser;
  let page;
  let context;
  let problems;
  let codes;
  let recoveryCodes;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ({ page, context, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    assert.deepEqual(problems ?? [], [], "the page reported CSP violations or errors");
  });

  async function logIn(username, password = PASSWORD) {
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
    await page.getByLabel("Username", { exact: true }).fill(username);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
  }

  it("signs up on the sign-up page", async () => {
    await page.goto("/sign-up");
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await checkpoint(page, "01-sign-up");
    await page.getByLabel("Username", { exact: true }).fill("alice");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Your account has been created").waitFor();
    await checkpoint(page, "02-sign-in");
  });

  it("logs in and opens Account Settings", async () => {
    await logIn("alice");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Account Settings" }).click();
    await page.getByText("Two-factor authentication is off").waitFor();
    await checkpoint(page, "03-account-settings-off");
  });

  it("checks the set-up box, scans the QR code and saves the six-digit code", async () => {
    await page.getByLabel("Set up two-factor authentication when logging in using a username and password").check();
    const qr = page.getByRole("img", { name: /QR code/ });
    await qr.waitFor();
    assert.match(await qr.getAttribute("src"), /^data:image\/svg\+xml;utf8,/);
    const secret = (await page.locator(".secret").innerText()).replace(/\s/g, "");
    assert.match(secret, /^[A-Z2-7]{32}$/);
    // Read the QR code as a phone camera would: from the rendered pixels, with a decoder of
    // its own (jsQR), and check it carries the key shown for manual entry.
    const pixels = PNG.sync.read(await qr.screenshot());
    const decoded = jsQR(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
    assert.ok(decoded, "the QR code on screen decodes");
    assert.equal(
      decoded.data,
      `otpauth://totp/custadmin:alice?secret=${secret}&issuer=custadmin&algorithm=SHA1&digits=6&period=30`,
    );
    codes = new CodeSource(secret);
    await checkpoint(page, "04-set-up-qr-code");

    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Save Settings" }).click();
    await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
    recoveryCodes = await page.locator(".codes code").allInnerTexts();
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) assert.match(code, /^[a-z0-9]{5}-[a-z0-9]{5}$/);
    await checkpoint(page, "05-recovery-codes");

    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("Two-factor authentication is on since").waitFor();
    await checkpoint(page, "06-account-settings-on");
  });

  it("keeps the customer signed in across a reload, with no token in web storage", async () => {
    await page.reload();
    await page.getByText("Two-factor authentication is on since").waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    assert.equal(stored, "{}");
  });

  it("signs out, then logs in with the six-digit code, using only the keyboard", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out.").waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.textContent || document.activeElement?.id);
    assert.equal(await focused(), "Log in", "focus moves to the sign-in heading");
    await page.keyboard.press("Tab");
    await page.keyboard.type("alice");
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");

    const field = page.getByLabel("Six-digit code");
    await field.waitFor();
    assert.equal(await field.getAttribute("autocomplete"), "one-time-code");
    assert.equal(await field.getAttribute("inputmode"), "numeric");
    assert.equal(await focused(), "Two-factor authentication", "focus moves to the new step");
    await page.getByText("contact customer support").waitFor();
    await checkpoint(page, "07-sign-in-six-digit-code");
    await page.keyboard.press("Tab");
    await page.keyboard.type(await codes.next());
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("logs in with a recovery code instead", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn("alice");
    await page.getByLabel("Use a recovery code instead").check();
    await page.getByRole("textbox", { name: "Recovery code" }).fill(recoveryCodes[0]);
    await checkpoint(page, "08-sign-in-recovery-code");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("You have 9 unused recovery codes").waitFor();
  });

  it("shows a wrong code in words, announced to screen readers", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn("alice");
    await page.getByLabel("Six-digit code").fill("000000");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "That code did not work" }).waitFor();
    await checkpoint(page, "09-sign-in-wrong-code");
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("checks the disable box, confirms with OK, saves, and sees the deactivation confirmed (keyboard only)", async () => {
    const box = page.getByLabel("Disable two-factor authentication when logging in with a username and password");
    await box.focus();
    await page.keyboard.press("Space");
    assert.equal(await box.isChecked(), true);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter"); // Save Settings
    const dialog = page.getByRole("alertdialog", { name: "Disable two-factor authentication?" });
    await dialog.waitFor();
    await checkpoint(page, "10-disable-confirm-dialog");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "OK");
    await page.keyboard.press("Enter");
    await page.getByText("Two-factor authentication has been disabled.").waitFor();
    await page.getByText("Two-factor authentication is off").waitFor();
    await checkpoint(page, "11-disabled");
  });

  it("lists recent security events", async () => {
    const events = page.getByRole("region", { name: "Recent security events" });
    await events.getByText("Two-factor authentication disabled").waitFor();
    await events.getByText("Recovery code used").waitFor();
    await events.getByText("Wrong six-digit code").waitFor();
  });

  it("returns an expired session to sign-in and back to where the customer wanted to go", async () => {
    await context.clearCookies();
    await page.goto("/account");
    await page.getByText("Please log in to continue.").waitFor();
    assert.match(page.url(), /\/sign-in\?next=%2Faccount$/);
    await checkpoint(page, "12-session-expired");
    await logIn("alice");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    assert.match(page.url(), /\/account$/);
  });
});

describe("support staff reset two-factor for a customer who lost their phone", () => {
  let server;
  let browser;
  let page;
  let problems;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ({ page, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    assert.deepEqual(problems ?? [], [], "the page reported CSP violations or errors");
  });

  it("leads a new agent to switch on two-factor before the desk opens", async () => {
    const api = apiClient(server.baseUrl);
    await api.customerWithTwoFactor("carol", PASSWORD);
    await api.register("carlos", PASSWORD);
    server.createAccount("sam", PASSWORD, "support");

    await page.goto("/support");
    await page.getByLabel("Username", { exact: true }).fill("sam");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Support desk" }).waitFor();
    await page.getByRole("heading", { name: "Switch on two-factor authentication first" }).waitFor();
    assert.equal(await page.getByLabel("Search customers").count(), 0);
    await checkpoint(page, "20-support-desk-needs-two-factor");

    await page.getByRole("link", { name: "Go to Account Settings to switch on two-factor authentication" }).click();
    await page.getByLabel("Set up two-factor authentication when logging in using a username and password").check();
    await page.getByRole("img", { name: /QR code/ }).waitFor();
    const codes = new CodeSource((await page.locator(".secret").innerText()).replace(/\s/g, ""));
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Save Settings" }).click();
    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("Two-factor authentication is on since").waitFor();

    await page.getByRole("link", { name: "Support desk" }).click();
    await page.getByLabel("Search customers").waitFor();
    await checkpoint(page, "21-support-desk");
  });

  it("searches, checks the customer's recent events, and resets two-factor with a reason", async () => {
    await page.getByLabel("Search customers").fill("car");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("heading", { name: "Customers (2)" }).waitFor();
    await checkpoint(page, "22-support-search");

    await page.getByRole("button", { name: "Open carol" }).click();
    const events = page.getByRole("region", { name: "Recent security events" });
    await events.getByText("Two-factor authentication set up").waitFor();
    await checkpoint(page, "23-support-customer");

    await page.getByRole("button", { name: "Reset two-factor for carol" }).click();
    await page.getByLabel("Reason (required)").fill("Lost phone; identity checked by call-back to the number on file");
    await page.getByRole("button", { name: "Reset two-factor", exact: true }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    await checkpoint(page, "24-support-reset-confirm");
    await dialog.getByRole("button", { name: "OK" }).click();
    await page.getByText("Two-factor authentication for carol has been reset.").waitFor();
    await events.getByText("Two-factor authentication reset by customer support").waitFor();
    await checkpoint(page, "25-support-reset-done");

    const login = await apiClient(server.baseUrl).login("carol", PASSWORD);
    assert.equal(login.status, "authenticated");
  });

  it("unlocks sign-in for a customer with a reason", async () => {
    await page.getByRole("button", { name: "Open carlos" }).click();
    await page.getByRole("heading", { name: "Customer carlos" }).waitFor();
    await page.getByRole("button", { name: "Unlock sign-in for carlos" }).click();
    await page.getByLabel("Reason (required)").fill("Locked out after typing an old password; identity checked");
    await page.getByRole("button", { name: "Unlock sign-in", exact: true }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
    await page.getByText("Sign-in for carlos has been unlocked.").waitFor();
    const events = page.getByRole("region", { name: "Recent security events" });
    await events.getByText("Sign-in unlocked by customer support").waitFor();
    await checkpoint(page, "26-support-unlock-done");
  });

  it("keeps customers out of the support desk", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Username", { exact: true }).fill("carlos");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Support desk" }).count(), 0);
    await page.goto("/support");
    await page.getByRole("heading", { name: "Page not found" }).waitFor();
  });
});

describe("privileged actions after the privileged window ask to confirm it's you", () => {
  let server;
  let browser;
  let page;
  let problems;

  before(async () => {
    server = await startServer({ CUSTADMIN_PRIVILEGED_WINDOW_SECS: "1" });
    browser = await launchBrowser();
    ({ page, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    assert.deepEqual(problems ?? [], [], "the page reported CSP violations or errors");
  });

  it("asks for a code (two-factor on) or the password (off), then disables and re-enrols", async () => {
    const api = apiClient(server.baseUrl);
    const { secret, usedStep } = await api.customerWithTwoFactor("dave", PASSWORD);
    const codes = new CodeSource(secret, usedStep);

    await page.goto("/");
    await page.getByLabel("Username", { exact: true }).fill("dave");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await page.waitForTimeout(1500);

    await page.getByLabel("Disable two-factor authentication when logging in with a username and password").check();
    await page.getByRole("button", { name: "Save Settings" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
    await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await checkpoint(page, "30-reauthenticate-disable");
    // Two-factor is on: the server takes only a code or a recovery code, so no password is offered.
    assert.equal(await page.locator(".reauth input[type=password]").count(), 0);
    await page.getByRole("textbox", { name: "Six-digit code" }).fill("000000");
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("alert").filter({ hasText: "That code did not work" }).waitFor();
    await page.getByRole("textbox", { name: "Six-digit code" }).fill(await codes.next());
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByText("Two-factor authentication has been disabled.").waitFor();

    await page.getByLabel("Set up two-factor authentication when logging in using a username and password").check();
    await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
    await checkpoint(page, "31-reauthenticate-enrol");
    await page.locator(".reauth input[type=password]").fill(PASSWORD);
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("img", { name: /QR code/ }).waitFor();
    await checkpoint(page, "32-set-up-after-reauthentication");
  });

  it("asks a support agent for their six-digit code before a reset, then resets", async () => {
    const api = apiClient(server.baseUrl);
    await api.customerWithTwoFactor("gina", PASSWORD);
    server.createAccount("sue", PASSWORD, "support");
    const { secret, usedStep } = await api.enableTwoFactor("sue", PASSWORD);
    const codes = new CodeSource(secret, usedStep);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Username", { exact: true }).fill("sue");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("link", { name: "Support desk" }).click();
    await page.getByLabel("Search customers").fill("gina");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: "Open gina" }).click();
    await page.waitForTimeout(1500); // past the one-second privileged window

    await page.getByRole("button", { name: "Reset two-factor for gina" }).click();
    await page.getByLabel("Reason (required)").fill("Lost phone; identity checked by video call");
    await page.getByRole("button", { name: "Reset two-factor", exact: true }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
    await page.getByRole("heading", { name: "Confirm it's you" }).waitFor();
    assert.equal(await page.locator(".reauth input[type=password]").count(), 0);
    await checkpoint(page, "33-support-reauthenticate");
    await page.getByRole("textbox", { name: "Six-digit code" }).fill(await codes.next());
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByText("Two-factor authentication for gina has been reset.").waitFor();
    assert.equal((await api.login("gina", PASSWORD)).status, "authenticated");
  });
});
