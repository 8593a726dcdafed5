// Required two-factor (CUSTADMIN_REQUIRE_TWO_FACTOR=all): before the deadline every page shows
// it with a link to the set-up; past it, the password opens only a set-up session, which the SPA
// takes straight to the article's set-up steps, in the customer's language.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";
import { CodeSource } from "../lib/totp.mjs";

const PASSWORD = "correct horse battery";

// Two servers: one with the usual grace period, one whose deadline is the sign-up itself.
let withGrace;
let overdue;
let browser;
const problems = [];

before(async () => {
  [withGrace, overdue] = await Promise.all([
    startServer({ CUSTADMIN_REQUIRE_TWO_FACTOR: "all", CUSTADMIN_TWO_FACTOR_GRACE_DAYS: "14" }),
    startServer({ CUSTADMIN_REQUIRE_TWO_FACTOR: "all", CUSTADMIN_TWO_FACTOR_GRACE_DAYS: "0" }),
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await withGrace?.stop();
  await overdue?.stop();
  assert.deepEqual(problems, [], "a page reported CSP violations or errors");
});

/** Signs in with the password on a fresh phone in `locale`. */
async function signIn(server, username, locale, words) {
  const { context, page } = await newPhonePage(browser, server.baseUrl, problems, { locale });
  await page.goto("/sign-in");
  await page.getByLabel(words.username, { exact: true }).fill(username);
  await page.getByLabel(words.password, { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: words.logIn }).click();
  return { context, page };
}

const ENGLISH = {
  username: "Username",
  password: "Password",
  logIn: "Log in",
  setUpBox: "Set up two-factor authentication when logging in using a username and password",
  code: "Six-digit code",
  save: "Save Settings",
  saved: "I have saved my recovery codes",
  done: "Done",
  heading: "Set up two-factor authentication",
  why: /requires two-factor authentication for this account since/,
  fullyAvailable: /Your account is fully available again/,
  continue: "Continue to Account Settings",
  account: "Account Settings",
};

const CZECH = {
  username: "Uživatelské jméno",
  password: "Heslo",
  logIn: "Přihlásit se",
  setUpBox: "Nastavit dvoufázové ověření při přihlašování uživatelským jménem a heslem",
  code: "Šestimístný kód",
  save: "Uložit nastavení",
  saved: "Záložní kódy mám uložené",
  done: "Hotovo",
  heading: "Nastavte si dvoufázové ověření",
  why: /vyžaduje dvoufázové ověření od/,
  fullyAvailable: /Celý účet je vám zase k dispozici/,
  continue: "Pokračovat do Nastavení účtu",
  account: "Nastavení účtu",
};

describe("required two-factor", () => {
  it("shows the deadline on every signed-in page, with a link to the set-up", async () => {
    await apiClient(withGrace.baseUrl).register("grace", PASSWORD);
    const { context, page } = await signIn(withGrace, "grace", "en-GB", ENGLISH);
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    const banner = page.getByRole("note");
    await banner.waitFor();
    assert.match(await banner.innerText(), /Please set it up by/);
    await checkpoint(page, "40-required-two-factor-banner");
    await context.close();
  });

  for (const [locale, words, name] of [
    ["en-GB", ENGLISH, "overdue-en"],
    ["cs-CZ", CZECH, "overdue-cs"],
  ]) {
    it(`past the deadline, sign-in leads straight to the set-up and then on (${locale})`, async () => {
      const api = apiClient(overdue.baseUrl);
      await api.register(name, PASSWORD);
      // The server refuses everything else to this session: prove it from outside too.
      const { access_token: token } = await api.login(name, PASSWORD);
      await assert.rejects(api.call("GET", "/account/sessions", { token }), /403 .*two_factor_setup_required/);

      const { context, page } = await signIn(overdue, name, locale, words);
      await page.getByRole("heading", { name: words.heading, level: 1 }).waitFor();
      assert.match(await page.locator("main").innerText(), words.why);
      assert.equal(new URL(page.url()).pathname, "/two-factor-setup");
      await checkpoint(page, `41-set-up-session-${locale}`);

      await page.getByLabel(words.setUpBox).check();
      await page.getByRole("img", { name: /QR/ }).waitFor();
      const codes = new CodeSource((await page.locator(".secret").innerText()).replace(/\s/g, ""));
      await page.getByLabel(words.code).fill(await codes.next());
      await page.getByRole("button", { name: words.save }).click();
      await page.getByLabel(words.saved).check();
      await page.getByText(words.fullyAvailable).waitFor();
      await page.getByRole("button", { name: words.done }).click();
      await checkpoint(page, `42-set-up-done-${locale}`);
      await page.getByRole("link", { name: words.continue }).click();
      await page.getByRole("heading", { name: words.account, level: 1 }).waitFor();
      assert.equal(await page.getByRole("note").count(), 0, "no deadline banner once two-factor is on");
      await context.close();
    });
  }
});
