// A hosting company's name, logo and colour, set by the operator, wherever a customer meets
// them: the pages, the OTP app's entry and the code step's hint, the recovery-code file and
// the mails. Against the real binary in a real browser; defaults are the other specs' business.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { waitForMail, waitForMailedToken } from "../lib/mail.mjs";
import { startServer } from "../lib/server.mjs";
import { CodeSource } from "../lib/totp.mjs";

const PASSWORD = "correct horse battery";
const SITE = "Example Hosting";
const COLOR = "#1f6f43";
const COLOR_RGB = "rgb(31, 111, 67)";
const SET_UP = "Set up two-factor authentication when logging in using a username and password";
// A wordmark: a green square and the name, as a designer would hand it over.
const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="176" height="32" viewBox="0 0 176 32">
  <rect width="32" height="32" rx="6" fill="#ffffff"/>
  <path d="M8 23 L16 8 L24 23 Z" fill="${COLOR}"/>
  <text x="40" y="23" font-family="sans-serif" font-size="16" font-weight="700" fill="#ffffff">${SITE}</text>
</svg>`;

let browser;
let server;
let logoDir;
let page;
let problems;

before(async () => {
  logoDir = mkdtempSync(path.join(tmpdir(), "custadmin-logo-"));
  const logoFile = path.join(logoDir, "logo.svg");
  writeFileSync(logoFile, LOGO);
  server = await startServer({
    CUSTADMIN_SITE_NAME: SITE,
    CUSTADMIN_LOGO_FILE: logoFile,
    CUSTADMIN_BRAND_COLOR: COLOR,
    CUSTADMIN_MAIL_FROM: "noreply@example.com",
  });
  browser = await launchBrowser();
  ({ page, problems } = await newPhonePage(browser, server.baseUrl));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (logoDir) rmSync(logoDir, { recursive: true, force: true });
  assert.deepEqual(problems ?? [], [], "the page reported CSP violations or errors");
});

/** The header's logo has loaded, says the site's name, and the header wears the brand colour. */
async function assertBrandedHeader() {
  const logo = page.getByRole("banner").getByRole("img", { name: SITE });
  await logo.waitFor();
  await page.waitForFunction(() => document.querySelector(".brand-logo")?.naturalWidth > 0);
  const header = await page.locator(".site-header").evaluate((element) => getComputedStyle(element).backgroundColor);
  assert.equal(header, COLOR_RGB);
}

/** Whether the focused element draws the focus ring: matched by :focus-visible, with an outline. */
function focusRing() {
  return page.evaluate(() => {
    const focused = document.activeElement;
    return {
      text: focused?.textContent,
      visible: focused?.matches(":focus-visible") ?? false,
      outline: focused ? getComputedStyle(focused).outlineStyle : "none",
    };
  });
}

describe("a hosting company's brand", () => {
  let otpauthIssuer;
  let codes;

  it("greets a first visit at / with the branded sign-in page, not 'Please log in to continue'", async () => {
    await page.goto("/");
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
    assert.match(page.url(), /\/sign-in$/);
    assert.equal(await page.getByText("Please log in to continue.").count(), 0);
    // The heading has focus for screen readers; nobody moved there, so no ring is drawn.
    const ring = await focusRing();
    assert.deepEqual([ring.text, ring.visible, ring.outline], ["Log in", false, "none"]);
    await assertBrandedHeader();
    assert.equal(await page.title(), `Log in · ${SITE}`);
    const submit = await page.getByRole("button", { name: "Log in" }).evaluate((element) => getComputedStyle(element).backgroundColor);
    assert.equal(submit, COLOR_RGB, "primary buttons wear the brand colour");
    await checkpoint(page, "80-brand-sign-in");
  });

  it("serves the logo by its content hash, cached for good and unable to run script", async () => {
    const config = await (await fetch(`${server.baseUrl}/api/v1/config`)).json();
    assert.equal(config.site_name, SITE);
    assert.equal(config.brand_color, COLOR);
    assert.match(config.logo_url, /^\/api\/v1\/brand\/logo-[0-9a-f]{16}\.svg$/);
    assert.equal(await page.getByRole("img", { name: SITE }).getAttribute("src"), config.logo_url);
    const logo = await fetch(`${server.baseUrl}${config.logo_url}`);
    assert.equal(logo.headers.get("content-type"), "image/svg+xml");
    assert.equal(logo.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(logo.headers.get("content-security-policy"), /sandbox/);
    assert.equal(await logo.text(), LOGO);
  });

  it("signs up with an address, confirms it, and opens the branded Account Settings", async () => {
    await page.getByRole("link", { name: "Create an account" }).click();
    // The sign-up page is a chunk of its own; until it is in, the sign-in form (with its own
    // Username and Password) stays on screen and would take the typing.
    await page.getByRole("heading", { name: "Create an account", level: 1 }).waitFor();
    await page.getByLabel("Username", { exact: true }).fill("olga");
    await page.getByLabel("Email (optional)").fill("olga@example.com");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Your account has been created").waitFor();
    await page.getByLabel("Username", { exact: true }).fill("olga");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

    const token = await waitForMailedToken(server.dataDir, "olga@example.com", "/verify-email");
    await page.goto(`/verify-email?token=${encodeURIComponent(token)}`);
    await page.getByText("Your email address olga@example.com is verified.").waitFor();
    await page.getByRole("link", { name: "Go to Account Settings" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    // After a click, focus moves to the heading for screen readers, and no ring is drawn.
    const ring = await focusRing();
    assert.equal(ring.text, "Account Settings");
    assert.deepEqual([ring.visible, ring.outline], [false, "none"], "no ring after a click");
    await assertBrandedHeader();
    assert.equal(await page.title(), `Account Settings · ${SITE}`);
    await checkpoint(page, "81-brand-account-settings");
  });

  it("puts the site name in the otpauth URI's issuer and the QR code's text", async () => {
    await page.getByLabel(SET_UP).check();
    const qr = page.getByRole("img", { name: `QR code for adding ${SITE} to your OTP application` });
    await qr.waitFor();
    const pixels = PNG.sync.read(await qr.screenshot());
    const decoded = jsQR(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
    assert.ok(decoded, "the QR code on screen decodes");
    const uri = new URL(decoded.data);
    otpauthIssuer = uri.searchParams.get("issuer");
    assert.equal(otpauthIssuer, SITE);
    assert.equal(uri.host, "totp");
    assert.equal(decodeURIComponent(uri.pathname), `/${SITE}:olga`, "the label's prefix too");
    const secret = uri.searchParams.get("secret");
    codes = new CodeSource(secret);
    await checkpoint(page, "82-brand-set-up-qr-code");
    await page.getByLabel("Six-digit code").fill(await codes.next());
    await page.getByRole("button", { name: "Save Settings" }).click();
    await page.getByRole("heading", { name: "Your recovery codes" }).waitFor();
  });

  it("names the downloaded recovery-code file and its heading after the site", async () => {
    const shown = await page.locator(".codes code").allInnerTexts();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download codes" }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^Example_Hosting-recovery-codes-olga-\d{4}-\d{2}-\d{2}\.txt$/);
    const text = readFileSync(await download.path(), "utf8");
    assert.match(text.split("\n")[0], new RegExp(`^Recovery codes for olga at ${SITE}, created .+\\. Each code works once\\.$`));
    assert.deepEqual(text.trim().split("\n").slice(2), shown);
    await checkpoint(page, "83-brand-recovery-codes");
    await page.getByLabel("I have saved my recovery codes").check();
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByText("Two-factor authentication is on. From now on").waitFor();
  });

  it("mails the change from the site, with its name in the subject and the signature", async () => {
    const mail = await waitForMail(server.dataDir, "olga@example.com", `Two-factor authentication was switched on · ${SITE}`);
    assert.match(mail.from, new RegExp(`^"?${SITE}"? <noreply@example\\.com>$`));
    assert.match(mail.text, new RegExp(`Kind regards,\\n${SITE}\\s*$`, "m"));
  });

  it("asks for the code of the entry the OTP app shows: the same name as the otpauth issuer", async () => {
    // Signing out with the keyboard: the sign-in heading takes focus and draws the ring.
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor();
    const ring = await focusRing();
    assert.equal(ring.text, "Log in");
    assert.deepEqual([ring.visible, ring.outline], [true, "solid"], "the ring after the keyboard");
    await page.getByLabel("Username", { exact: true }).fill("olga");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    const field = page.getByLabel("Six-digit code");
    await field.waitFor();
    const hintId = await field.getAttribute("aria-describedby");
    const hint = await page.locator(`[id="${hintId}"]`).innerText();
    assert.equal(hint, `Open your OTP application and enter the six-digit code it shows for ${otpauthIssuer}.`);
    assert.equal(await page.title(), `Two-factor authentication · ${SITE}`);
    await assertBrandedHeader();
    await checkpoint(page, "84-brand-code-step");
    await field.fill(await codes.next());
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  });
});
