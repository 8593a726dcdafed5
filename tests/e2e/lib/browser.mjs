// Debian's Chromium driven by playwright-core, with screenshots and axe-core scans.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";
import { repoRoot } from "./server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

const screenshotDir = path.join(repoRoot, "artifacts/screenshots");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/**
 * A phone-sized page in a new context; CSP violations and uncaught errors go to `problems`,
 * which the test asserts empty at the end.
 */
export async function newPhonePage(browser, baseUrl, problems = [], { locale = "en-GB", timezoneId = "Europe/Prague" } = {}) {
  const context = await browser.newContext({
    baseURL: baseUrl,
    // The SPA picks its language from the browser's preferences: fixed here so runs agree.
    locale,
    timezoneId,
    viewport: { width: 360, height: 780 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
  });
  const page = await newWatchedPage(context, problems);
  return { context, page, problems };
}

/** Another page (a second tab) in the same context, its CSP violations and errors added to `problems`. */
export async function newWatchedPage(context, problems) {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Runs axe-core in the page; fails on serious or critical violations. */
export async function assertAccessible(page, label) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(blocking, [], `axe found serious/critical violations on ${label}`);
}

/** Nothing may scroll sideways on a 360 px phone. */
export async function assertNoHorizontalOverflow(page, label) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${label}: the page is ${scrollWidth} px wide in a ${clientWidth} px viewport`);
}

/** Screenshot, accessibility scan and overflow check of one step of a flow. */
export async function checkpoint(page, name) {
  await screenshot(page, name);
  await assertAccessible(page, name);
  await assertNoHorizontalOverflow(page, name);
}
