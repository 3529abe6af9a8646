// End to end: the page as a production station on the simulated modem. Three modules one after
// the other ("Next module" gives a fresh simulated modem with a new IMEI; the second and third
// are provisioned automatically), the "Provisioned modules" table, the batch CSV (three rows,
// distinct IMEIs and keys), nothing secret in web storage or IndexedDB, the confirmation before
// leaving with rows not downloaded, and a module already in the table not re-keyed without
// "Re-key anyway". Also the two defects of issue 13: "Review plan"/"Provision" right after
// connecting (while the device is read) and the FOTA monitor before any notification.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  button,
  downloadText,
  field,
  guarded,
  indexedDbNames,
  launch,
  leavingAsks,
  openPage,
  pageText,
  shot,
  STATION_TABLE,
  stationRowsDone,
  storageDump,
  tableRows,
  until,
} from './lib.mjs';

const TABLE = STATION_TABLE;
const URI = 'coaps://bootstrap.example.test:5684';

let browser;
let page;
let consoleLines;
let pageErrors;
const keys = []; // every key seen in a batch CSV

before(async () => {
  browser = await launch();
  ({ page, consoleLines, pageErrors } = await openPage(browser));
});

after(async () => {
  await browser?.close();
});

/** A test whose failure leaves a screenshot and the page's text behind. */
function check(name, body) {
  test(name, guarded(() => page, 'station', name, body));
}

/** Waits until the table has `n` finished rows; returns them. */
function rowsDone(n, timeout = 180_000) {
  return stationRowsDone(page, n, timeout);
}

/** The batch CSV's rows (without the header), each as [endpoint, identity, key]. */
async function batch() {
  const csv = await downloadText(page, 'Download batch CSV');
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], 'endpointName,dtlsIdentity,dtlsPskHex', 'the Coiote header');
  return lines.slice(1).map((l) => l.split(','));
}

check('right after connecting, Review plan and Provision wait for the device, saying why', async () => {
  // At 1× the device takes a moment to read.
  await page.getByLabel('Simulation speed').selectOption('1');
  await button(page, 'Use simulated modem').click();
  await page.getByText('Reading…', { exact: true }).waitFor({ state: 'visible', timeout: 30_000 });
  assert.ok(await button(page, 'Review plan').isDisabled(), 'Review plan waits for the IMEI');
  assert.ok(await button(page, 'Provision').isDisabled(), 'Provision waits for the IMEI');
  assert.match(await pageText(page), /Reading the modem \(its IMEI names the plan\)/, 'the reason is shown');
  await shot(page, 'station', 'reading');
  // The click goes through once the device is read: the plan, never "Connect a modem first".
  await button(page, 'Review plan').click({ timeout: 60_000 });
  await until('the plan', async () => (await pageText(page)).includes('AT+SQNDMCFG'));
  assert.doesNotMatch(await pageText(page), /Connect a modem \(or the simulated one\) first/);
});

check('before any notification the FOTA monitor says nothing was reported yet', async () => {
  const text = await pageText(page);
  assert.match(text, /Nothing reported yet: no FOTA notification from the modem since connecting\./);
  assert.doesNotMatch(text, /FOTA state 0/);
  assert.doesNotMatch(text, /not documented/);
});

check('three modules in a row: the table, the batch CSV, nothing secret in storage', async () => {
  await page.getByLabel('Simulation speed').selectOption('30');
  await field(page, 'Bootstrap server URI').fill(URI);
  await field(page, 'Server ID').fill('123');
  await field(page, 'Hold-off (s)').fill('30');
  await field(page, 'PSK identity').fill('urn:imei:{imei}');
  assert.equal(await leavingAsks(page), false, 'nothing to lose yet');

  // The first module by hand; the next two automatically after "Next module".
  await button(page, 'Provision').click();
  let rows = await rowsDone(1);
  assert.equal(rows[0][4], 'provisioned');
  assert.equal(await leavingAsks(page), true, 'leaving asks while rows are not downloaded');
  await page.getByLabel('Provision each new module automatically').check();
  for (const n of [2, 3]) {
    await button(page, 'Next module').click();
    rows = await rowsDone(n);
    assert.equal(rows[n - 1][4], 'provisioned', JSON.stringify(rows));
  }
  await shot(page, 'station', 'three-modules');
  // The station view as an operator sees it (the README's screenshot, docs/station.png).
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'station', 'view', { fullPage: false });

  const imeis = rows.map((r) => r[0]);
  for (const imei of imeis) assert.match(imei, /^\d{15}$/);
  assert.equal(new Set(imeis).size, 3, `distinct IMEIs: ${imeis}`);
  rows.forEach((r) => {
    assert.equal(r[1], `urn:imei:${r[0]}`, 'the endpoint');
    assert.equal(r[2], `urn:imei:${r[0]}`, 'the PSK identity');
    assert.match(r[3], /^[0-9a-f]{4}…$/, 'only the key prefix is shown');
  });

  const csv = await batch();
  assert.equal(csv.length, 3, 'three rows');
  csv.forEach(([endpoint, identity, key], i) => {
    assert.equal(endpoint, `urn:imei:${imeis[i]}`);
    assert.equal(identity, `urn:imei:${imeis[i]}`);
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.ok(key.startsWith(rows[i][3].slice(0, 4)), 'the key the table names');
    keys.push(key);
  });
  assert.equal(new Set(keys).size, 3, 'distinct keys');
  assert.equal(await leavingAsks(page), false, 'downloaded: leaving does not ask');

  // The keys live in memory only.
  const storage = await storageDump(page);
  assert.equal(storage, '', 'nothing in localStorage/sessionStorage');
  assert.deepEqual(await indexedDbNames(page), [], 'no IndexedDB database');
  const text = await pageText(page);
  for (const k of keys) {
    assert.ok(!text.includes(k), 'a key in full on screen');
    assert.ok(!consoleLines.join('\n').includes(k), 'a key in the console');
  }
});

check('a module already in the table is not re-keyed without confirmation', async () => {
  // The third module again (disconnect, connect): recognised, not provisioned automatically.
  const before = await tableRows(page, TABLE);
  await button(page, 'Disconnect').click();
  await button(page, 'Use simulated modem').click();
  await until('the module recognised', async () => /already in the table: not re-keyed automatically/.test(await pageText(page)));
  await button(page, 'Provision').click();
  await button(page, 'Re-key anyway').waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await pageText(page), /is already provisioned/);
  assert.deepEqual(await tableRows(page, TABLE), before, 'nothing re-keyed');
  await shot(page, 'station', 'rekey-confirmation');

  await button(page, 'Re-key anyway').click();
  // Re-keyed: a new row to download (the old one replaced).
  await until('the re-keyed module provisioned', async () => leavingAsks(page), { timeout: 180_000 });
  const rows = await tableRows(page, TABLE);
  assert.equal(rows.length, 3, 'still one row per module');
  assert.equal(rows[2][0], before[2][0]);
  assert.equal(rows[2][4], 'provisioned');
  const csv = await batch();
  assert.equal(csv.length, 3, 'still one row per module');
  assert.equal(csv[2][0], `urn:imei:${before[2][0]}`);
  assert.notEqual(csv[2][2], keys[2], 'a new key for the re-keyed module');
  assert.deepEqual(pageErrors, [], 'uncaught page errors');
});

check('leaving with rows not downloaded asks for confirmation', async () => {
  // A new module not downloaded yet.
  await button(page, 'Next module').click();
  await rowsDone(4);
  const asked = page.waitForEvent('dialog', { timeout: 10_000 });
  await page.close({ runBeforeUnload: true });
  const dialog = await asked;
  assert.equal(dialog.type(), 'beforeunload');
  await dialog.dismiss();
  assert.equal(page.isClosed(), false, 'the page stays when the operator cancels');
});
