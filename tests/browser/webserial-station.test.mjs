// End to end: the production station over Web Serial (the fake port of fake-serial.js). The
// first module is provisioned by hand; with "Provision each new module automatically" checked,
// the operator unplugs it and plugs in the next one (another IMEI) into the port already
// granted: Web Serial's `connect` event makes the page reconnect without a picker, read the new
// IMEI and provision it. Plugged in again, a module already in the table is recognised and not
// re-keyed. A module that fails keeps its row (the step and the modem's answer) and the station
// carries on with the next.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  button,
  downloadText,
  field,
  guarded,
  indexedDbNames,
  launch,
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
const FIRST = '353760102345677';

/** A 15-digit IMEI with its Luhn check digit, from its first 14 digits. */
function imei(body) {
  let sum = 0;
  for (let i = 0; i < 14; i += 1) {
    let d = Number(body[13 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}
const SECOND = imei('35376010234570');
const THIRD = imei('35376010234571');
const FOURTH = imei('35376010234572');

let browser;
let page;
let consoleLines;
let pageErrors;

const fake = (f, arg) => page.evaluate(([f, arg]) => window.__fakeSerial[f](arg), [f, arg]);
const pskCommands = async () => (await fake('commands')).filter((l) => l.startsWith('AT+SQNDMCFG="standard","psk",'));

before(async () => {
  browser = await launch();
  ({ page, consoleLines, pageErrors } = await openPage(browser, {
    fakeSerial: true,
    fakeSerialConfig: { imei: FIRST },
  }));
});

after(async () => {
  await browser?.close();
});

/** A test whose failure leaves a screenshot and the page's text behind. */
function check(name, body) {
  test(name, guarded(() => page, 'serial-station', name, body));
}

/** Waits until the table has `n` finished rows; returns them. */
function rowsDone(n, timeout = 120_000) {
  return stationRowsDone(page, n, timeout);
}

check('the first module is provisioned by hand', async () => {
  assert.match(SECOND, /^\d{15}$/);
  assert.notEqual(SECOND, FIRST);
  await button(page, 'Connect modem').click();
  await until('the first IMEI', async () => (await pageText(page)).includes(FIRST), { timeout: 30_000 });
  await field(page, 'Bootstrap server URI').fill('coaps://bootstrap.example.test:5684');
  await field(page, 'Server ID').fill('321');
  await field(page, 'PSK identity').fill('urn:imei:{imei}');
  await button(page, 'Provision').click({ timeout: 30_000 });
  const rows = await rowsDone(1);
  assert.deepEqual(rows[0].slice(0, 3), [FIRST, `urn:imei:${FIRST}`, `urn:imei:${FIRST}`]);
  assert.equal(rows[0][4], 'provisioned');
});

check('unplug, plug in another module: reconnected without a picker and provisioned automatically', async () => {
  await page.getByLabel('Provision each new module automatically').check();
  const psksBefore = (await pskCommands()).length;
  await fake('unplug');
  await button(page, 'Connect modem').waitFor({ state: 'visible', timeout: 15_000 });
  await fake('replug', { imei: SECOND });
  // No click: the `connect` event brings the page back to the port.
  const rows = await rowsDone(2);
  assert.deepEqual(rows[1].slice(0, 3), [SECOND, `urn:imei:${SECOND}`, `urn:imei:${SECOND}`]);
  assert.equal(rows[1][4], 'provisioned');
  assert.equal(await fake('requests'), 1, 'the picker was shown once, for the first module');
  assert.equal((await fake('opens')).length, 2, 'the same port was opened again');
  const psks = await pskCommands();
  assert.equal(psks.length, psksBefore + 1, 'one key written to the new module');
  assert.ok(psks[psks.length - 1].includes(`"urn:imei:${SECOND}"`), 'for its own IMEI');
  await shot(page, 'serial-station', 'second-module');

  const csv = (await downloadText(page, 'Download batch CSV')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  assert.equal(csv.length, 2);
  assert.deepEqual(csv.map((r) => r[0]), [`urn:imei:${FIRST}`, `urn:imei:${SECOND}`]);
  assert.notEqual(csv[0][2], csv[1][2], 'distinct keys');
  const nv = await fake('nv');
  assert.equal(nv.dm.standard.psks[0].secret, csv[1][2], 'the key the module holds is the one exported');
  for (const [, , key] of csv) {
    assert.ok(!(await storageDump(page)).includes(key), 'a key in web storage');
    assert.ok(!consoleLines.join('\n').includes(key), 'a key in the console');
  }
  assert.deepEqual(await indexedDbNames(page), []);
});

check('a module plugged in again is recognised and not re-keyed', async () => {
  const psksBefore = (await pskCommands()).length;
  const opens = (await fake('opens')).length;
  await fake('unplug');
  await button(page, 'Connect modem').waitFor({ state: 'visible', timeout: 15_000 });
  await fake('replug');
  await until('the module recognised', async () => /already in the table: not re-keyed automatically/.test(await pageText(page)), {
    timeout: 30_000,
  });
  assert.equal((await fake('opens')).length, opens + 1, 'reconnected');
  await page.waitForTimeout(500);
  assert.equal((await pskCommands()).length, psksBefore, 'no key written');
  assert.equal((await tableRows(page, TABLE)).length, 2);
  assert.deepEqual(pageErrors, [], 'uncaught page errors');
});

check('a module that fails keeps its row with the step and the answer; the station carries on', async () => {
  await fake('unplug');
  await button(page, 'Connect modem').waitFor({ state: 'visible', timeout: 15_000 });
  await fake('failOn', 'AT+SQNFOTACFG=');
  await fake('replug', { imei: THIRD });
  let rows = await rowsDone(3);
  assert.equal(rows[2][0], THIRD);
  assert.match(rows[2][4], /^failed at configure-fota/, JSON.stringify(rows[2]));
  assert.match(rows[2][4], /ERROR/, 'the modem\'s answer');
  await shot(page, 'serial-station', 'failed-module');

  await fake('unplug');
  await button(page, 'Connect modem').waitFor({ state: 'visible', timeout: 15_000 });
  await fake('failOn', null);
  await fake('replug', { imei: FOURTH });
  rows = await rowsDone(4);
  assert.equal(rows[2][0], THIRD, 'the failed row stays');
  assert.deepEqual([rows[3][0], rows[3][4]], [FOURTH, 'provisioned']);
  const csv = (await downloadText(page, 'Download batch CSV')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
  assert.deepEqual(csv.map((r) => r[0]), [FIRST, SECOND, FOURTH].map((i) => `urn:imei:${i}`), 'provisioned modules only');
  assert.equal(new Set(csv.map((r) => r[2])).size, 3, 'distinct keys');
  assert.deepEqual(pageErrors, [], 'uncaught page errors');
});
