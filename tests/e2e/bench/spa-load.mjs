// How heavy the sign-in page is, measured from outside in Chromium over the DevTools protocol:
// the JavaScript it fetches (gzipped and as sent), every byte transferred, and the time until the
// username field can be typed into, with the CPU slowed 4× (Emulation.setCPUThrottlingRate).
//
//   node tests/e2e/bench/spa-load.mjs [--dist DIR] [--runs N] [--locale en-GB] [--rate 4]
//
// --dist is the built SPA to serve (default: frontend/dist of this checkout), so two builds are
// measured by the same binary, machine and command. Each run is a new browser context (empty
// cache); one warm-up run is not counted. Prints one JSON line per run and the medians.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { launchBrowser } from "../lib/browser.mjs";
import { repoRoot, startServer } from "../lib/server.mjs";

const { values } = parseArgs({
  options: {
    dist: { type: "string", default: path.join(repoRoot, "frontend/dist") },
    runs: { type: "string", default: "7" },
    locale: { type: "string", default: "en-GB" },
    rate: { type: "string", default: "4" },
  },
});
const dist = path.resolve(values.dist);
const runs = Number(values.runs);
const rate = Number(values.rate);

/** The size of the build's `.gz` beside the file a URL names (the server sends exactly that file). */
function gzippedSize(url) {
  const file = path.join(dist, new URL(url).pathname);
  if (existsSync(`${file}.gz`)) return statSync(`${file}.gz`).size;
  return existsSync(file) ? statSync(file).size : 0;
}

// Marks the moment the username field is in the page and enabled: watched from before the
// first script runs, so no polling from outside adds work to the throttled main thread.
const WATCH_FIELD = () => {
  const ready = () => {
    const field = document.querySelector('input[autocomplete="username"]');
    return field && !field.disabled && !field.readOnly;
  };
  new MutationObserver((_, observer) => {
    if (window.__typeableAt === undefined && ready()) {
      window.__typeableAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true, attributes: true });
};

async function measureOnce(browser, baseUrl) {
  const context = await browser.newContext({ baseURL: baseUrl, locale: values.locale });
  const page = await context.newPage();
  await page.addInitScript(WATCH_FIELD);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });

  const responses = new Map();
  cdp.on("Network.responseReceived", ({ requestId, type, response }) =>
    responses.set(requestId, { type, url: response.url, encoding: response.headers["content-encoding"] ?? response.headers["Content-Encoding"] ?? "" }),
  );
  const transferred = new Map();
  cdp.on("Network.loadingFinished", ({ requestId, encodedDataLength }) => transferred.set(requestId, encodedDataLength));

  await page.goto("/sign-in");
  await page.waitForFunction(() => window.__typeableAt !== undefined, null, { timeout: 60_000, polling: 500 });
  const typeableMs = await page.evaluate(() => window.__typeableAt);
  // It must really take typing: the measure means nothing otherwise.
  await page.locator('input[autocomplete="username"]').fill("alice");
  await page.waitForLoadState("networkidle");

  let jsGzip = 0;
  let jsSent = 0;
  let allSent = 0;
  const scripts = [];
  const encodings = new Set();
  for (const [id, response] of responses) {
    const bytes = transferred.get(id) ?? 0;
    allSent += bytes;
    if (response.type !== "Script") continue;
    jsSent += bytes;
    jsGzip += gzippedSize(response.url);
    encodings.add(response.encoding || "identity");
    scripts.push(new URL(response.url).pathname);
  }
  await context.close();
  return { typeableMs: Math.round(typeableMs), jsGzip, jsSent, allSent, encodings: [...encodings], scripts: scripts.sort() };
}

const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const server = await startServer({ CUSTADMIN_STATIC_DIR: dist });
const browser = await launchBrowser();
try {
  await measureOnce(browser, server.browserUrl);
  const results = [];
  for (let run = 0; run < runs; run += 1) {
    const result = await measureOnce(browser, server.browserUrl);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  const kb = (bytes) => (bytes / 1000).toFixed(1);
  const pick = (key) => results.map((r) => r[key]);
  console.log(`dist ${dist}, ${runs} runs, CPU ${rate}× slower, locale ${values.locale}`);
  console.log(`scripts: ${results[0].scripts.join(" ")}`);
  console.log(`JavaScript gzipped:   ${kb(median(pick("jsGzip")))} KB`);
  console.log(`JavaScript as sent:   ${kb(median(pick("jsSent")))} KB (${results[0].encodings.join(", ")})`);
  console.log(`everything as sent:   ${kb(median(pick("allSent")))} KB`);
  const times = pick("typeableMs");
  console.log(`until typeable:       ${median(times)} ms median (min ${Math.min(...times)}, max ${Math.max(...times)})`);
} finally {
  await browser.close();
  await server.stop();
}
