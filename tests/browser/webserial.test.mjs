// End to end over Web Serial: a fake `navigator.serial` (fake-serial.js) is injected before the
// page loads; its port is made of real streams and answers like an RYZ014. The page connects,
// provisions, and the bytes it wrote are checked exactly against the note's sequence
// (AN0214EU0100 §4.3.1.2, §4.3.1.3, §4.3.3) for the profile entered in the form.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseUrl, button, field, guarded, launch, openPage, pageText, shot, storageDump, until } from './lib.mjs';

const IMEI = '353760102345677';
const URI = 'coaps://bootstrap.example.test:5684';
const SERVER_ID = '321';
const HOLD_OFF = '45';

let browser;
let page;
let consoleLines;
let pageErrors;

const commands = () => page.evaluate(() => window.__fakeSerial.commands());
const written = () => page.evaluate(() => window.__fakeSerial.written());

before(async () => {
  browser = await launch();
  ({ page, consoleLines, pageErrors } = await openPage(browser, {
    fakeSerial: true,
    fakeSerialConfig: { imei: IMEI },
  }));
});

after(async () => {
  await browser?.close();
});

/** A test whose failure leaves a screenshot and the page's text behind. */
function check(name, body) {
  test(name, guarded(() => page, 'serial', name, body));
}

check('"Connect modem" opens the port and talks AT', async () => {
  await shot(page, 'serial', 'start');
  assert.doesNotMatch(await pageText(page), /no Web Serial|not supported|unsupported/i, 'the page saw navigator.serial');
  await button(page, 'Connect modem').click();
  await button(page, 'Disconnect').waitFor({ state: 'visible', timeout: 30_000 });
  const opens = await page.evaluate(() => window.__fakeSerial.opens());
  assert.equal(opens.length, 1, 'the port is opened once');
  assert.equal(typeof opens[0].baudRate, 'number');
  await until('the IMEI read from the modem on screen', async () => (await pageText(page)).includes(IMEI), {
    timeout: 30_000,
  });
  const cmds = await commands();
  assert.ok(cmds.includes('AT+CGSN'), `the page read the IMEI: ${JSON.stringify(cmds)}`);
  await shot(page, 'serial', 'connected');
});

check('provisioning writes exactly the note\'s commands', async () => {
  await field(page, 'Bootstrap server URI').fill(URI);
  await field(page, 'Server ID').fill(SERVER_ID);
  await field(page, 'Hold-off (s)').fill(HOLD_OFF);
  await field(page, 'PSK identity').fill('urn:imei:{imei}');
  await button(page, 'Generate key').click();
  await button(page, 'Review plan').click();
  await until('the plan', async () => (await pageText(page)).includes('AT+SQNDMCFG'));
  const start = (await written()).length;

  await button(page, 'Provision').click();
  await button(page, 'Download CSV').waitFor({ state: 'visible', timeout: 120_000 });
  await shot(page, 'serial', 'provisioned');

  const bytes = (await written()).slice(start);
  const text = Buffer.from(bytes).toString('latin1');
  // Every byte written is part of a printable-ASCII command terminated by a lone \r.
  assert.match(text, /^([\x20-\x7e]+\r)+$/, `only AT command lines ending in \\r: ${JSON.stringify(text)}`);
  const lines = text.split('\r').slice(0, -1);
  for (const l of lines) assert.match(l, /^AT/i, `not an AT command: ${l}`);

  // The PSK line carries the generated key: 32 random bytes in hex.
  const psk = lines.find((l) => l.startsWith('AT+SQNDMCFG="standard","psk"'));
  assert.ok(psk, `a PSK command was written: ${JSON.stringify(lines)}`);
  const m = /^AT\+SQNDMCFG="standard","psk",(\d+),"([^"]*)","([0-9A-Fa-f]*)"$/.exec(psk);
  assert.ok(m, psk.slice(0, 60));
  const secret = m[3];
  assert.equal(secret.length, 64, 'a 32-byte key');

  // The plan, in order, byte for byte (other reads such as "AT" re-syncs after a reboot may come
  // in between; each of these must appear, in this order, exactly once as a whole line).
  const expected = [
    'AT+CGSN',
    'ATI1',
    'AT+SQNCTM?',
    'AT+SQNAUTOCONNECT=1',
    'AT+CFUN=5',
    'AT+SQNDMCFG="standard","delete-profile-config"',
    'AT+SQNDMCFG="standard","service",1',
    `AT+SQNDMCFG="standard","server",${SERVER_ID},"${HOLD_OFF}","${URI}","1","bs"`,
    `AT+SQNDMCFG="standard","psk",${SERVER_ID},"urn:imei:${IMEI}","${secret}"`,
    'AT^RESET',
    'AT+CFUN=5',
    'AT+SQNFACTORYSAVE="oem"',
    'AT+SQNFOTACFG="standard",0,2,10,86400,600,11',
    'AT+CFUN=1,1',
    'AT+SQNDMCFG="standard","service"',
    'AT+SQNDMCFG="standard","server"',
    'AT+SQNDMCFG="standard","psk"',
    'AT+SQNFOTACFG?',
  ];
  let at = 0;
  for (const want of expected) {
    const found = lines.indexOf(want, at);
    assert.ok(found >= 0, `missing (in order) ${want.replace(secret, `${secret.slice(0, 4)}…`)}\nwritten: ${JSON.stringify(lines.map((l) => l.replace(secret, '<secret>')), null, 1)}`);
    at = found + 1;
  }
  const extra = lines.filter((l) => !expected.includes(l));
  for (const l of extra) {
    assert.match(l, /^(AT|ATE[01]|AT\+CMEE(=[0-2]|\?)|AT\+CEREG[?=].*|AT\+CFUN\?|AT\+SQNDMST|AT\+SQNCTM\?|ATI1?|AT\+CGSN|AT\+SQNDMCFG="standard"(,"(service|server|psk)")?|AT\+SQNFOTACFG\?|AT\+SQNAUTOCONNECT\?)$/,
      `only reads and syncs besides the plan: ${l}`);
  }

  // The modem holds what was written.
  const nv = await page.evaluate(() => window.__fakeSerial.nv());
  assert.equal(nv.dm.standard.psks[0].secret, secret);
  assert.equal(nv.dm.standard.servers[0].url, URI);
  assert.equal(nv.fota.cert, '11');

  // The secret stays off the screen (until revealed), out of the console and out of storage.
  assert.ok(!(await pageText(page)).includes(secret), 'the key is shown in full before being revealed');
  assert.ok(!consoleLines.join('\n').includes(secret), 'the key appears in the console');
  assert.ok(!(await storageDump(page)).includes(secret), 'the key appears in web storage');
  assert.deepEqual(pageErrors, [], 'uncaught page errors');
});

check('unplugging shows a banner and a safe state; the same port reconnects', async () => {
  await page.evaluate(() => window.__fakeSerial.unplug());
  const banner = page.getByRole('alert').filter({ hasText: /disconnected|unplugged/i });
  await banner.first().waitFor({ state: 'visible', timeout: 15_000 });
  await button(page, 'Disconnect').waitFor({ state: 'detached', timeout: 15_000 });
  await button(page, 'Connect modem').waitFor({ state: 'visible', timeout: 15_000 });
  const sentBefore = (await written()).length;
  await page.waitForTimeout(1000);
  assert.equal((await written()).length, sentBefore, 'nothing is written to an unplugged port');
  await shot(page, 'serial', 'unplugged');

  await page.evaluate(() => window.__fakeSerial.replug());
  await button(page, 'Reconnect').click();
  await button(page, 'Disconnect').waitFor({ state: 'visible', timeout: 30_000 });
  const opens = await page.evaluate(() => window.__fakeSerial.opens());
  assert.equal(opens.length, 2, 'the same port is opened again');
  assert.equal(opens[1].baudRate, opens[0].baudRate, 'at the same speed');
  await until('the modem to answer again', async () => (await written()).length > sentBefore, { timeout: 15_000 });
  await shot(page, 'serial', 'reconnected');
});

check('without Web Serial the page says which browsers work and still offers the simulator', async () => {
  const context = await browser.newContext();
  try {
    const other = await context.newPage();
    // As in Firefox or Safari: no navigator.serial at all.
    await other.addInitScript(() => {
      delete Navigator.prototype.serial;
    });
    await other.goto(baseUrl());
    await button(other, 'Use simulated modem').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await other.evaluate(() => 'serial' in navigator), false);
    const text = await pageText(other);
    assert.match(text, /no Web Serial/i);
    assert.match(text, /Chrome/);
    assert.match(text, /Edge/);
    assert.ok(await button(other, 'Use simulated modem').isEnabled(), 'the simulator stays available');
    await shot(other, 'serial', 'no-web-serial');
  } finally {
    await context.close();
  }
});
