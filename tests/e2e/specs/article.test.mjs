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
const SUPPORT_CONTACT = "help@example.com";
const SET_UP = "Set up two-factor authentication when logging in using a username and password";
const DISABLE = "Disable two-factor authentication when logging in with a username and password";

// One browser for every flow in this file; each flow has its own server and context.
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe("a customer follows the help article", () => {
  let server;
  let page;
  let context;
  let problems;
  let codes;
  let recoveryCodes;

  before(async () => {
    server = await startServer({ CUSTADMIN_SUPPORT_CONTACT: SUPPORT_CONTACT });
    ({ page, context, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
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
    await page.getByLabel(SET_UP).check();
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
    // The status line already says "on" while the codes are on screen.
    await page.getByText("Two-factor authentication is on since").waitFor();
    recoveryCodes = await page.locator(".codes code").allInnerTexts();
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) assert.match(code, /^[a-z0-9]{5}-[a-z0-9]{5}$/);
    await checkpoint(page, "05-recovery-codes");

    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("Two-factor authentication is on. From now on").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Two-factor authentication");
    await page.getByRole("link", { name: SUPPORT_CONTACT }).waitFor();
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
    await page.getByText("If you have lost access to your OTP application").waitFor();
    assert.equal(await page.getByRole("link", { name: SUPPORT_CONTACT }).getAttribute("href"), `mailto:${SUPPORT_CONTACT}`);
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
    const field = page.getByRole("textbox", { name: "Recovery code" });
    // Typed as written on paper: no spelling check, no capital letter put in by a phone.
    assert.equal(await field.getAttribute("spellcheck"), "false");
    assert.equal(await field.getAttribute("autocapitalize"), "off");
    await field.fill(recoveryCodes[0]);
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
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "code", "focus back in the field");
    await checkpoint(page, "09-sign-in-wrong-code");
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("sends the customer back to the password step once the challenge is spent by wrong codes", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await logIn("alice");
    const field = page.getByLabel("Six-digit code");
    const spent = page.getByRole("alert").filter({ hasText: "Too many wrong codes. Sign in again with your password." });
    // Five wrong codes spend the challenge; the next answer says so (never 429: ten per account).
    for (let attempt = 1; attempt <= 6 && !(await spent.isVisible()); attempt += 1) {
      await field.fill("000000");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("alert").waitFor();
      await page.waitForFunction(() => !document.querySelector("button[type=submit]")?.disabled);
    }
    await spent.waitFor();
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
    assert.equal(await page.getByLabel("Username", { exact: true }).inputValue(), "alice");
    await checkpoint(page, "09b-sign-in-challenge-spent");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });

  it("ticks the disable box, is prompted at once, OK, Save Settings, and sees the deactivation confirmed (keyboard only)", async () => {
    // Save Settings with the box unticked sends nothing and says what to do.
    await page.getByRole("button", { name: "Save Settings" }).click();
    await page.getByRole("alert").filter({ hasText: "tick the box above" }).waitFor();

    // Cancel in the prompt unticks the box.
    const box = page.getByLabel(DISABLE);
    await box.click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Cancel" }).click();
    assert.equal(await box.isChecked(), false);

    await box.focus();
    await page.keyboard.press("Space");
    const dialog = page.getByRole("alertdialog", { name: "Disable two-factor authentication?" });
    await dialog.waitFor();
    await checkpoint(page, "10-disable-confirm-dialog");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "OK");
    await page.keyboard.press("Enter"); // OK
    await dialog.waitFor({ state: "detached" });
    assert.equal(await box.isChecked(), true);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "disable-2fa", "focus back on the box");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter"); // Save Settings
    await page.getByText("Two-factor authentication has been disabled.").waitFor();
    await page.getByText("Two-factor authentication is off").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Two-factor authentication");
    await checkpoint(page, "11-disabled");
  });

  it("lists recent security events", async () => {
    const events = page.getByRole("region", { name: "Recent security events" });
    await events.getByText("Two-factor authentication disabled").waitFor();
    await events.getByText("Recovery code used").waitFor();
    await events.getByText("Wrong six-digit code").first().waitFor();
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
  let page;
  let problems;

  before(async () => {
    server = await startServer();
    ({ page, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
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
    await page.getByLabel(SET_UP).check();
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
  let page;
  let problems;

  before(async () => {
    server = await startServer({ CUSTADMIN_PRIVILEGED_WINDOW_SECS: "1" });
    ({ page, problems } = await newPhonePage(browser, server.baseUrl));
  });

  after(async () => {
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

    await page.getByLabel(DISABLE).check();
    await page.getByRole("alertdialog").getByRole("button", { name: "OK" }).click();
    await page.getByRole("button", { name: "Save Settings" }).click();
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

    await page.getByLabel(SET_UP).check();
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

describe("a Czech customer follows the whole article in Czech", () => {
  let server;
  let page;
  let problems;
  let codes;

  before(async () => {
    server = await startServer({ CUSTADMIN_SUPPORT_CONTACT: "https://help.example.com/" });
    // The browser prefers Czech: the SPA follows it without being asked.
    ({ page, problems } = await newPhonePage(browser, server.baseUrl, [], { locale: "cs-CZ" }));
  });

  after(async () => {
    await server?.stop();
    assert.deepEqual(problems ?? [], [], "the page reported CSP violations or errors");
  });

  async function logIn(username) {
    await page.getByRole("heading", { name: "Přihlášení", level: 1 }).waitFor();
    await page.getByLabel("Uživatelské jméno", { exact: true }).fill(username);
    await page.getByLabel("Heslo", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Přihlásit se" }).click();
  }

  it("signs up and logs in, in Czech", async () => {
    await page.goto("/sign-up");
    await page.getByRole("heading", { name: "Vytvořit účet" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "cs");
    await checkpoint(page, "50-cs-sign-up");
    await page.getByLabel("Uživatelské jméno", { exact: true }).fill("jana");
    await page.getByLabel("Heslo", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Vytvořit účet" }).click();
    await page.getByText("Váš účet byl vytvořen").waitFor();
    await logIn("jana");
    await page.getByRole("heading", { name: "Nastavení účtu", level: 1 }).waitFor();
    await page.getByText("Dvoufázové ověření je vypnuté").waitFor();
    await checkpoint(page, "51-cs-account-settings-off");
  });

  it("ticks the set-up box, scans, saves the code and keeps the recovery codes", async () => {
    await page.getByLabel("Nastavit dvoufázové ověření při přihlašování uživatelským jménem a heslem").check();
    await page.getByRole("img", { name: /QR kód/ }).waitFor();
    const link = page.getByRole("link", { name: "Otevřít v aplikaci OTP" });
    assert.match(await link.getAttribute("href"), /^otpauth:\/\/totp\/custadmin:jana\?secret=/);
    codes = new CodeSource((await page.locator(".secret").innerText()).replace(/\s/g, ""));
    await checkpoint(page, "52-cs-set-up-qr-code");
    await page.getByLabel("Šestimístný kód").fill(await codes.next());
    await page.getByRole("button", { name: "Uložit nastavení" }).click();
    await page.getByRole("heading", { name: "Vaše záložní kódy" }).waitFor();
    await page.getByText("Dvoufázové ověření je zapnuté od").waitFor();
    await page.getByText("Máte 10 nepoužitých záložních kódů.").waitFor();
    await checkpoint(page, "53-cs-recovery-codes");
    await page.getByLabel("Záložní kódy mám uložené").check();
    await page.getByRole("button", { name: "Hotovo" }).click();
    await page.getByRole("link", { name: "https://help.example.com/" }).waitFor();
    await checkpoint(page, "54-cs-account-settings-on");
  });

  it("logs in with the six-digit code", async () => {
    await page.getByRole("button", { name: "Odhlásit se" }).click();
    await page.getByText("Byli jste odhlášeni.").waitFor();
    await logIn("jana");
    await page.getByRole("heading", { name: "Dvoufázové ověření", level: 1 }).waitFor();
    await page.getByText("Pokud jste ztratili přístup k aplikaci OTP").waitFor();
    await checkpoint(page, "55-cs-sign-in-code");
    await page.getByLabel("Šestimístný kód").fill(await codes.next());
    await page.getByRole("button", { name: "Přihlásit se" }).click();
    await page.getByRole("heading", { name: "Nastavení účtu", level: 1 }).waitFor();
  });

  it("disables two-factor in the article's order: tick, prompt, OK, Save Settings, confirmation", async () => {
    await page.getByLabel("Vypnout dvoufázové ověření při přihlašování uživatelským jménem a heslem").check();
    const dialog = page.getByRole("alertdialog", { name: "Vypnout dvoufázové ověření?" });
    await dialog.waitFor();
    await checkpoint(page, "56-cs-disable-confirm-dialog");
    await dialog.getByRole("button", { name: "OK" }).click();
    await page.getByRole("button", { name: "Uložit nastavení" }).click();
    await page.getByText("Dvoufázové ověření bylo vypnuto.").waitFor();
    await page.getByText("Dvoufázové ověření je vypnuté").waitFor();
    await page.getByRole("region", { name: "Nedávné bezpečnostní události" }).getByText("Dvoufázové ověření vypnuto").waitFor();
    await checkpoint(page, "57-cs-disabled");
  });

  it("switches to English in the header and remembers the choice on the account", async () => {
    const remembered = page.waitForResponse((r) => r.url().endsWith("/api/v1/account") && r.request().method() === "PATCH");
    await page.getByLabel("Jazyk").selectOption("en");
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    assert.equal((await remembered).status(), 200);
    await page.reload();
    // The Czech browser still gets English: the account remembers it.
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await checkpoint(page, "58-en-after-switch");
  });
});
