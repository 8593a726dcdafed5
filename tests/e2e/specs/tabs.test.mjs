// Several tabs of one browser share one refresh cookie: reloading them together must not sign
// the customer out (the server treats a refresh token presented twice as stolen).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiClient } from "../lib/api.mjs";
import { checkpoint, launchBrowser, newPhonePage, newWatchedPage } from "../lib/browser.mjs";
import { startServer } from "../lib/server.mjs";
import { CodeSource } from "../lib/totp.mjs";

const PASSWORD = "correct horse battery";

// One server and one browser for every test in this file; each test has its own context.
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

/** Two pages (tabs) of one new context, the first one signed in as `username`. */
async function twoTabs(username, secondFactor) {
  const { context, page: first } = await newPhonePage(browser, server.baseUrl, problems);
  const second = await newWatchedPage(context, problems);

  await first.goto("/sign-in");
  await first.getByLabel("Username", { exact: true }).fill(username);
  await first.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await first.getByRole("button", { name: "Log in" }).click();
  if (secondFactor) {
    await first.getByLabel("Six-digit code").fill(await secondFactor.next());
    await first.getByRole("button", { name: "Log in" }).click();
  }
  await first.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();

  // The second tab opens later, as a customer would: the shared cookie signs it in.
  await second.goto("/account");
  await second.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
  return { context, tabs: [first, second] };
}

/** Reloads every tab at the same moment and waits until each shows Account Settings again. */
async function reloadTogether(tabs, accountText) {
  await Promise.all(tabs.map((tab) => tab.reload()));
  await Promise.all(
    tabs.map(async (tab) => {
      await tab.getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
      await tab.getByText(accountText).waitFor();
      assert.match(tab.url(), /\/account$/);
    }),
  );
}

describe("two tabs of one browser", () => {
  it("both stay signed in when they reload at the same moment, again and again", async () => {
    await apiClient(server.baseUrl).register("erin", PASSWORD);
    const { context, tabs } = await twoTabs("erin");
    for (let round = 0; round < 3; round += 1) {
      await reloadTogether(tabs, "Two-factor authentication is off");
    }
    await checkpoint(tabs[1], "40-second-tab-after-reloads");
    // Still one live session: a later reload of one tab alone works too.
    await tabs[0].reload();
    await tabs[0].getByRole("heading", { name: "Account Settings", level: 1 }).waitFor();
    await context.close();
  });

  it("the same with two-factor on, whose sessions must keep their second factor", async () => {
    const api = apiClient(server.baseUrl);
    await api.register("fiona", PASSWORD);
    const { secret, usedStep } = await api.enableTwoFactor("fiona", PASSWORD);
    const { context, tabs } = await twoTabs("fiona", new CodeSource(secret, usedStep));
    for (let round = 0; round < 3; round += 1) {
      await reloadTogether(tabs, "Two-factor authentication is on since");
    }
    await context.close();
  });
});
