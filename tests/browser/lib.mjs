// Shared helpers of the browser end-to-end tests: launching Debian's Chromium through
// playwright-core, opening the page (optionally with the fake Web Serial port), screenshots,
// polling. `run.mjs` serves the Trunk-built page and passes its address in E2E_BASE_URL.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The browser: Debian's Chromium (`npx playwright install` cannot download one here). */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Screenshots of each view go here (the test output folder). */
export const SHOTS = process.env.E2E_SCREENSHOTS || path.resolve(here, '../../target/e2e-screenshots');

export function baseUrl() {
  const url = process.env.E2E_BASE_URL;
  if (!url) throw new Error('E2E_BASE_URL is not set: run the tests through tests/browser/run.mjs');
  return url;
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Opens the page in a fresh context. With `fakeSerial`, `fake-serial.js` is injected before
 * any of the page's scripts run (with `fakeSerialConfig` as its settings). Collects console
 * lines and page errors so that tests can check them.
 */
export async function openPage(browser, { fakeSerial = false, fakeSerialConfig = {} } = {}) {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1280, height: 1000 },
  });
  const page = await context.newPage();
  const consoleLines = [];
  const pageErrors = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  if (fakeSerial) {
    await page.addInitScript((cfg) => {
      window.__fakeSerialConfig = cfg;
    }, fakeSerialConfig);
    await page.addInitScript({ path: path.join(here, 'fake-serial.js') });
  }
  await page.goto(baseUrl());
  // The wasm app has rendered once its controls are there.
  await button(page, 'Use simulated modem').waitFor({ state: 'visible', timeout: 30_000 });
  return { context, page, consoleLines, pageErrors };
}

/** A button by its exact accessible name. */
export function button(page, name) {
  return page.getByRole('button', { name, exact: true });
}

/** A form control by its exact label. */
export function field(page, label) {
  return page.getByLabel(label, { exact: true });
}

let shotIndex = 0;
/**
 * Saves a screenshot as `<SHOTS>/<prefix>-<nn>-<name>.png`: the full page, or with
 * `{ fullPage: false }` what the window shows.
 */
export async function shot(page, prefix, name, { fullPage = true } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  shotIndex += 1;
  const file = path.join(SHOTS, `${prefix}-${String(shotIndex).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** Polls `probe` (async) until it returns a truthy value; throws `what` after `timeout` ms. */
export async function until(what, probe, { timeout = 60_000, every = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The visible text of the page. */
export function pageText(page) {
  return page.evaluate(() => document.body.innerText);
}

/** Every `role=progressbar` element's aria-valuenow (numbers; missing ones left out). */
export function progressValues(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[role="progressbar"]')]
      .map((e) => e.getAttribute('aria-valuenow'))
      .filter((v) => v !== null && v !== '')
      .map(Number),
  );
}

/** The `aria-valuetext` of every progress bar (the page puts the FOTA phase there: "installed: 100 %"). */
export function progressTexts(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[role="progressbar"]')]
      .map((e) => e.getAttribute('aria-valuetext'))
      .filter((v) => v !== null && v !== ''),
  );
}

/** The values of all text inputs and textareas (to find e.g. a generated key). */
export function inputValues(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, textarea')].map((e) => e.value));
}

/** Everything the page stored in localStorage/sessionStorage, as one string. */
export function storageDump(page) {
  return page.evaluate(() => {
    const all = [];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i += 1) all.push(`${s.key(i)}=${s.getItem(s.key(i))}`);
    }
    return all.join('\n');
  });
}

/**
 * Wraps a test body: on failure, saves a screenshot and the page's text next to the other
 * screenshots (`<prefix>-FAILED-<name>.png/.txt`) before passing the error on.
 */
export function guarded(getPage, prefix, name, body) {
  return async (t) => {
    try {
      await body(t);
    } catch (e) {
      const page = getPage();
      if (page) {
        mkdirSync(SHOTS, { recursive: true });
        const base = path.join(SHOTS, `${prefix}-FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`);
        await page.screenshot({ path: `${base}.png`, fullPage: true }).catch(() => {});
        const text = await pageText(page).catch(() => '');
        writeFileSync(`${base}.txt`, text);
        e.message += `\n(page screenshot and text: ${base}.png/.txt)`;
      }
      throw e;
    }
  };
}

/** The names of the IndexedDB databases of the page's origin (the page keeps none). */
export function indexedDbNames(page) {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
}

/**
 * Whether leaving the page now would ask for confirmation: dispatches a cancelable
 * `beforeunload` event and reports whether the page's handler cancelled it.
 */
export function leavingAsks(page) {
  return page.evaluate(() => {
    const e = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(e);
    return e.defaultPrevented;
  });
}

/** The rows of the table named `name` (its caption), as arrays of cell texts. */
export function tableRows(page, name) {
  return page
    .getByRole('table', { name, exact: true })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.innerText.trim())));
}

/** The station's table of modules (its accessible name). */
export const STATION_TABLE = 'Provisioned modules';

/** Waits until the station's table has `n` rows, each finished (result and time); returns them. */
export async function stationRowsDone(page, n, timeout) {
  return until(
    `${n} finished row(s) in the table`,
    async () => {
      const rows = await tableRows(page, STATION_TABLE);
      return rows.length === n && rows.every((r) => r[4] && r[5]) ? rows : null;
    },
    { timeout },
  );
}

/** Clicks `name` and returns the text of the file it downloads. */
export async function downloadText(page, name) {
  const { readFileSync } = await import('node:fs');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10_000 }),
    button(page, name).click(),
  ]);
  return readFileSync(await download.path(), 'utf8');
}
