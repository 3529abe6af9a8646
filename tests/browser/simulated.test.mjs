// End to end with the simulated modem built into the page: fill the provisioning profile,
// generate a key, review the plan (secret redacted), provision, download the CSV, then schedule
// a good image on the simulated server and watch the progress bar reach 100 % and the phase reach
// "installed"; then a wrong image and the core's advice for `+SQNFOTA: 3,8`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  button,
  guarded,
  field,
  inputValues,
  launch,
  openPage,
  pageText,
  progressTexts,
  progressValues,
  shot,
  storageDump,
  until,
} from './lib.mjs';

const URI = 'coaps://bootstrap.example.test:5684';
const SERVER_ID = '123';
const HOLD_OFF = '30';
const IDENTITY = 'urn:imei:{imei}';

let browser;
let page;
let consoleLines;
let pageErrors;
let key = null; // the generated PSK secret, read from the form's key field

before(async () => {
  browser = await launch();
  ({ page, consoleLines, pageErrors } = await openPage(browser));
});

after(async () => {
  await browser?.close();
});

/** A test whose failure leaves a screenshot and the page's text behind. */
function check(name, body) {
  test(name, guarded(() => page, 'sim', name, body));
}

/** Picks the good or the wrong image for "Schedule upgrade" (a select, radios or buttons). */
async function chooseImage(kind) {
  const pattern = kind === 'good' ? /good/i : /wrong|bad/i;
  const radio = page.getByRole('radio', { name: pattern });
  if ((await radio.count()) > 0) {
    await radio.first().check();
    return;
  }
  const select = page.getByRole('combobox', { name: /image/i });
  if ((await select.count()) > 0) {
    const options = await select.first().locator('option').allTextContents();
    const label = options.find((o) => pattern.test(o));
    assert.ok(label, `no ${kind} image among ${JSON.stringify(options)}`);
    await select.first().selectOption({ label });
    return;
  }
  throw new Error(`no way to choose the ${kind} image next to "Schedule upgrade"`);
}

check('the simulated modem connects', async () => {
  await shot(page, 'sim', 'start');
  await button(page, 'Use simulated modem').click();
  await button(page, 'Disconnect').waitFor({ state: 'visible', timeout: 30_000 });
  await until('the device panel to show the simulated IMEI', async () =>
    /\b\d{15}\b/.test(await pageText(page)),
  );
  await shot(page, 'sim', 'connected');
});

check('the profile form validates and names the allowed range', async () => {
  const serverId = field(page, 'Server ID');
  // The message under the field (aria-describedby) names the allowed range once invalid.
  const message = async () =>
    serverId.evaluate((e) => document.getElementById(e.getAttribute('aria-describedby') || '')?.textContent ?? '');
  await serverId.fill('70000');
  await until('the field to be marked invalid', async () => (await serverId.getAttribute('aria-invalid')) === 'true', {
    timeout: 10_000,
  });
  assert.match(await message(), /1\.\.65535/, 'the error names the allowed range');
  await shot(page, 'sim', 'validation');
  await serverId.fill(SERVER_ID);
  await until('the field to be valid again', async () => (await serverId.getAttribute('aria-invalid')) === 'false', {
    timeout: 10_000,
  });
});

check('provisioning through the simulated modem succeeds', async () => {
  await field(page, 'Bootstrap server URI').fill(URI);
  await field(page, 'Server ID').fill(SERVER_ID);
  await field(page, 'Hold-off (s)').fill(HOLD_OFF);
  await field(page, 'PSK identity').fill(IDENTITY);

  const before = await inputValues(page);
  await button(page, 'Generate key').click();
  key = await until('a generated 64-hex-digit key', async () =>
    (await inputValues(page)).find((v) => /^[0-9a-fA-F]{64}$/.test(v) && !before.includes(v)),
  );

  await button(page, 'Review plan').click();
  const plan = await until('the plan with its AT steps', async () => {
    const text = await pageText(page);
    return text.includes('AT+SQNDMCFG') && text.includes('"psk"') ? text : null;
  });
  assert.ok(plan.includes(`"server",${SERVER_ID},"${HOLD_OFF}","${URI}"`), 'the plan writes the profile\'s server');
  assert.ok(plan.includes('AT^RESET'), 'the plan resets the modem to apply the DM settings');
  assert.ok(plan.includes('AT+SQNFOTACFG='), 'the plan configures the FOTA client');
  assert.ok(!plan.includes(key), 'the plan shows the secret in full');
  assert.ok(plan.includes(`${key.slice(0, 4)}…`), 'the plan shows the secret\'s first 4 hex digits');
  await shot(page, 'sim', 'plan');

  await button(page, 'Provision').click();
  await button(page, 'Download CSV').waitFor({ state: 'visible', timeout: 180_000 });
  const text = await pageText(page);
  assert.match(text, /urn:imei:\d{15}/, 'the result names the endpoint / PSK identity');
  assert.match(text, /\bProvisioned\b/, 'the result is shown');
  assert.doesNotMatch(text, /Provisioning stopped/, 'no failed step');
  await shot(page, 'sim', 'provisioned');

  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10_000 }),
    button(page, 'Download CSV').click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  const rows = csv.trim().split(/\r?\n/);
  assert.ok(rows.length >= 2, `a header and a row: ${csv}`);
  assert.match(rows[1], /urn:imei:\d{15}/, 'the row names the endpoint');
  assert.ok(csv.toLowerCase().includes(key.toLowerCase()), 'the CSV carries the key for the DM server');
});

check('a good image: progress reaches 100 % and the phase reaches installed', async () => {
  await chooseImage('good');
  await button(page, 'Schedule upgrade').click();
  const seen = [];
  await until(
    'the progress bar at 100 and the phase "installed"',
    async () => {
      const values = await progressValues(page);
      for (const v of values) if (seen[seen.length - 1] !== v) seen.push(v);
      if (!seen.shot && values.some((v) => v > 0 && v < 100)) {
        seen.shot = true;
        await shot(page, 'sim', 'downloading');
      }
      // The phase as the progress bar tells assistive technology, not a stepper label.
      return values.includes(100) && (await progressTexts(page)).some((t) => /^installed\b/i.test(t));
    },
    { timeout: 240_000, every: 50 },
  );
  const download = seen.filter((v) => v > 0 && v <= 100);
  assert.ok(download.length >= 2, `intermediate progress values were shown: ${seen}`);
  for (let i = 1; i < download.length; i += 1) {
    assert.ok(download[i] >= download[i - 1], `progress never goes back: ${seen}`);
  }
  await shot(page, 'sim', 'installed');
});

check('a wrong image: the failure comes with the core\'s advice', async () => {
  // The server learns the result when the modem registers again after its reboot; schedule the
  // next image only then (as one would in Coiote).
  await until('the server to record the upgrade', async () => /upgrade succeeded/i.test(await pageText(page)), {
    timeout: 120_000,
  });
  await chooseImage('wrong');
  await button(page, 'Schedule upgrade').click();
  const text = await until(
    'the advice for cause 8',
    async () => {
      const t = await pageText(page);
      return /check the image uploaded/i.test(t) ? t : null;
    },
    { timeout: 240_000 },
  );
  assert.match(text, /installation failed/i);
  await shot(page, 'sim', 'wrong-image');
});

check('no secret in the console or in storage', async () => {
  const storage = await storageDump(page);
  const logs = consoleLines.join('\n');
  assert.deepEqual(pageErrors, [], 'uncaught page errors');
  assert.ok(!logs.toLowerCase().includes(key.toLowerCase()), 'the key appears in the console');
  assert.ok(!storage.toLowerCase().includes(key.toLowerCase()), 'the key appears in web storage');
  assert.doesNotMatch(logs + storage, /[0-9a-fA-F]{64}/, 'a 32-byte hex secret in console or storage');
});
