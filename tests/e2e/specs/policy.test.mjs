// The hosting company's rules, in a real browser against the real binary: new passwords are
// measured while typed and refused when guessable or breached (a local fake of the range API
// answers), in English and Czech; API tokens bound to networks; devices named as people know them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";

const PASSWORD = "correct horse battery";
const BREACHED = "Tr0ub4dor&3 horse battery";

const sha1 = (text) => createHash("sha1").update(text).digest("hex").toUpperCase();

/** A range API on a local port that lists BREACHED (and padding); remembers what it was asked. */
function startFakeRange() {
  const asked = [];
  const server = createServer((request, response) => {
    asked.push({ path: request.url, padding: request.headers["add-padding"] });
    const digest = sha1(BREACHED);
    const body =
      request.url === `/range/${digest.slice(0, 5)}`
        ? `${digest.slice(5)}:42\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n`
        : "0018A45C4D1DEF81644B54AB7F969B88D65:0\r\n";
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}`, asked, server }));
  });
}

let browser;
let server;
let range;
const problems = [];

before(async () => {
  browser = await launchBrowser();
  range = await startFakeRange();
  server = await startServer({ CUSTADMIN_BREACHED_PASSWORDS_URL: range.url });
});

after(async () => {
  await server?.stop();
  range?.server.close();
  await browser?.close();
  assert.deepEqual(problems, [], "the pages reported CSP violations or errors");
});

describe("new passwords", () => {
  it("the sign-up page measures the password while it is typed and says why the server refuses it", async () => {
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-up");
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await page.getByLabel("Username", { exact: true }).fill("berta");
    const password = page.getByLabel("Password", { exact: true });
    await password.fill("password1");
    await page.getByText("Strength: very weak").waitFor();
    await page.getByText("This is a commonly used password.").first().waitFor();
    await checkpoint(page, "90-strength-meter");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("alert").getByText(/This password is too easy to guess\./).waitFor();

    await password.fill(BREACHED);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("alert").getByText(/appeared in a data breach elsewhere/).waitFor();
    await checkpoint(page, "91-breached-password");
    // Only the first five hex characters of the SHA-1 left the server, with padding asked for.
    assert.deepEqual(range.asked.at(-1), { path: `/range/${sha1(BREACHED).slice(0, 5)}`, padding: "true" });

    await password.fill(PASSWORD);
    await page.getByText(/^Strength: (strong|very strong)$/).waitFor();
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Your account has been created").waitFor();
    await context.close();
  });

  it("speaks Czech: the meter's advice and the server's refusal", async () => {
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems, { locale: "cs-CZ" });
    await page.goto("/sign-up");
    await page.getByRole("heading", { name: "Vytvořit účet" }).waitFor();
    await page.getByLabel("Uživatelské jméno", { exact: true }).fill("quillbertson");
    await page.getByLabel("Heslo", { exact: true }).fill("quillbertson2024");
    await page.getByText("Obsahuje vaše uživatelské jméno nebo e-mailovou adresu.").first().waitFor();
    await page.getByRole("button", { name: "Vytvořit účet" }).click();
    await page.getByRole("alert").getByText(/Toto heslo se dá příliš snadno uhodnout\./).waitFor();
    await checkpoint(page, "92-cs-password-too-weak");
    await context.close();
  });
});

describe("API tokens bound to networks, devices people recognise", () => {
  it("a token made for one network is refused from another, and the log says so by browser name", async () => {
    await apiClient(server.baseUrl).register("jonas", PASSWORD);
    const { context, page } = await newPhonePage(browser, server.baseUrl, problems);
    await page.goto("/sign-in");
    await page.getByLabel("Username", { exact: true }).fill("jonas");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

    // Playwright's Chromium says "HeadlessChrome/<version>" on Linux: named, not raw.
    const places = page.getByRole("region", { name: "Where you're signed in" });
    await places.getByText(/^Chrome \d+ on Linux$/).first().waitFor();

    const section = page.getByRole("region", { name: "API tokens" });
    await section.getByRole("button", { name: "Create an API token" }).click();
    await section.getByLabel("Name", { exact: true }).fill("Deploy server");
    await section.getByLabel("Allowed networks (optional)").fill("203.0.113.0/24, 2001:db8:42::/48");
    await section.getByRole("button", { name: "Create token" }).click();
    await section.getByText("Copy it now: you will not see it again.").waitFor();
    const token = (await section.locator("code.secret").textContent()) ?? "";
    await section.getByRole("button", { name: "Done" }).click();
    await section.getByText(/only from 203\.0\.113\.0\/24 and 2001:db8:42::\/48/).waitFor();
    await checkpoint(page, "93-token-bound-to-networks");

    // This test runs on 127.0.0.1, outside both networks.
    const refused = await fetch(`${server.baseUrl}/api/v1/account`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).code, "network_not_allowed");
    await page.reload();
    const events = page.getByRole("region", { name: "Recent security events" });
    await events.getByText("API token used from a network it is not allowed on").waitFor();
    await checkpoint(page, "94-token-refused-event");
    await context.close();
  });
});
