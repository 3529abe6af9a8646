// A fake `navigator.serial` with one port wired to a small RYZ014 responder, injected with
// `page.addInitScript` before the page loads (plain script, no imports).
//
// The port is built from real `ReadableStream`/`WritableStream`s, as the Web Serial API hands
// them out. The responder answers like the modem in Renesas' note AN0214EU0100 (and like
// `ryz014-sim`): echo on and `AT+CMEE=0` at power-up, `OK`/`ERROR` finals framed `\r\n...\r\n`,
// `AT+SQNDMCFG`/`AT+SQNFOTACFG` stored and read back (the PSK read back as its first 4 hex
// digits only), `AT^RESET` and `AT+CFUN=1,1` answered `OK` then `+SHUTDOWN`, input ignored
// while down, `+SYSSTART` after the boot, `+CEREG: 2` then `+CEREG: 1,...` once attached. Its
// output goes out in small chunks so that the page's framer sees lines split anywhere.
//
// Everything the page writes is recorded, byte for byte: `window.__fakeSerial.written()` (an
// array of byte values), `.commands()` (the `\r`-terminated lines), `.opens()` (the options
// given to `open`), `.requests()` (how many times the page asked for a port with the picker).
// `.failOn(prefix)` makes the modem answer `ERROR` to every command starting with `prefix`
// (`.failOn(null)`: none).
// `window.__fakeSerial.unplug()` simulates pulling the cable, `.replug()` plugging it back in
// (the modem powers up again with its stored settings); `.replug({ imei })` plugs in another
// module instead (that IMEI, factory settings), as a production station does.
(() => {
  'use strict';

  const config = Object.assign(
    {
      imei: '353760102345677', // 15 digits, valid Luhn check digit
      ue: 'UE5.4.1.0-57857',
      firmware: '5.4.1.0-57857',
      operatorMode: 'standard',
      bootMs: 600,
      attachMs: 300,
      replyDelayMs: 5,
      chunk: 7,
    },
    window.__fakeSerialConfig || {},
  );

  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const written = [];
  const opens = [];

  // ------------------------------------------------------------------ the modem
  const fresh = () => ({ echo: true, cmee: 0, cfun: 1 });
  let volatileState = fresh();
  const factoryNv = () => ({
    operatorMode: config.operatorMode,
    autoconnect: false,
    dm: new Map(), // profile -> { service, servers: Map(id -> server), psks: Map(id -> psk) }
    fota: null,
    restorationPoint: null,
  });
  let nv = factoryNv();
  let requests = 0;
  let failOn = null; // a command prefix the modem answers ERROR (see failOn() below)
  let up = true;
  let attached = true;
  let pending = '';
  let emit = () => {}; // set while the port is open
  let outQueue = Promise.resolve();

  // Sends text to the host in small chunks, after a short delay, in order.
  function send(text) {
    const bytes = enc.encode(text);
    outQueue = outQueue.then(async () => {
      await new Promise((r) => setTimeout(r, config.replyDelayMs));
      for (let i = 0; i < bytes.length; i += config.chunk) {
        emit(bytes.slice(i, i + config.chunk));
      }
    });
  }
  const urc = (line) => send(`\r\n${line}\r\n`);
  const later = (ms, f) => setTimeout(f, ms);

  function reboot(level) {
    up = false;
    attached = false;
    later(40, () => urc('+SHUTDOWN'));
    later(config.bootMs, () => {
      volatileState = fresh();
      volatileState.cfun = level === 'auto' ? (nv.autoconnect ? 1 : 0) : level;
      up = true;
      urc('+SYSSTART');
      if (volatileState.cfun === 1) startAttach();
    });
  }

  function startAttach() {
    later(50, () => urc('+CEREG: 2'));
    later(50 + config.attachMs, () => {
      if (volatileState.cfun !== 1) return;
      attached = true;
      urc('+CEREG: 1,"0001","01A2D001",7');
    });
  }

  // Splits AT arguments at commas outside quotes; quoted ones come back unquoted, with `quoted`.
  function args(text) {
    const out = [];
    let cur = '';
    let quoted = false;
    let wasQuoted = false;
    for (const ch of text) {
      if (ch === '"') {
        quoted = !quoted;
        wasQuoted = true;
      } else if (ch === ',' && !quoted) {
        out.push({ v: cur, q: wasQuoted });
        cur = '';
        wasQuoted = false;
      } else {
        cur += ch;
      }
    }
    out.push({ v: cur, q: wasQuoted });
    return out;
  }

  const OK = { lines: [], final: 'OK' };
  const lines = (...l) => ({ lines: l, final: 'OK' });
  const cme = (n) => ({ lines: [], final: volatileState.cmee === 0 ? 'ERROR' : `+CME ERROR: ${n}` });
  const opt = (a) => (a === undefined || a === '' ? '' : a);

  function dmProfile(name, create) {
    if (!nv.dm.has(name) && create) {
      nv.dm.set(name, { service: 0, servers: new Map(), psks: new Map() });
    }
    return nv.dm.get(name);
  }

  function dmLines(name, group) {
    const p = nv.dm.get(name);
    if (!p) return [];
    const out = [];
    if (!group || group === 'service') out.push(`+SQNDMCFG: "${name}","service",${p.service}`);
    if (!group || group === 'server') {
      for (const s of p.servers.values()) {
        out.push(
          `+SQNDMCFG: "${name}","server",${s.id},${opt(s.lifetime)},"${s.url}",${opt(s.cid)},"${s.type}"`,
        );
      }
    }
    if (!group || group === 'psk') {
      for (const k of p.psks.values()) {
        out.push(`+SQNDMCFG: "${name}","psk",${k.id},"${k.identity}","${k.secret.slice(0, 4)}"`);
      }
    }
    return out;
  }

  function dmcfg(a) {
    const name = a[0] && a[0].v;
    if (!name || name.length > 32) return cme(4);
    const group = a[1] && a[1].v.toLowerCase();
    if (a.length === 1) return lines(...dmLines(name));
    if (a.length === 2 && ['service', 'server', 'psk'].includes(group)) {
      return lines(...dmLines(name, group));
    }
    if (group === 'delete-profile-config' && a.length === 2) {
      nv.dm.delete(name);
      return OK;
    }
    if (group === 'service' && a.length === 3 && /^[01]$/.test(a[2].v)) {
      dmProfile(name, true).service = Number(a[2].v);
      return OK;
    }
    if (group === 'server' && a.length >= 5 && a.length <= 7) {
      const id = Number(a[2].v);
      const url = a[4].v;
      const type = a[6] ? a[6].v.toLowerCase() : 'dm';
      if (!(id >= 1 && id <= 65535) || !url || url.length > 256 || !['bs', 'dm'].includes(type)) {
        return cme(4);
      }
      dmProfile(name, true).servers.set(id, {
        id,
        lifetime: a[3].v,
        url,
        cid: a[5] ? a[5].v : '',
        type,
      });
      return OK;
    }
    if (group === 'psk' && a.length === 5) {
      const id = Number(a[2].v);
      const secret = a[4].v;
      if (!(id >= 1 && id <= 65535) || !/^([0-9a-fA-F]{2}){1,32}$/.test(secret)) return cme(4);
      dmProfile(name, true).psks.set(id, { id, identity: a[3].v, secret });
      return OK;
    }
    return cme(4);
  }

  function fotacfg(a) {
    const [profile, mode, state, download, timer, dlTimeout, cert] = a.map((x) => x.v);
    if (!nv.dm.has(profile)) return cme(4);
    const inRange = (v, lo, hi) => v === undefined || v === '' || (Number(v) >= lo && Number(v) <= hi);
    if (
      a.length < 4 ||
      a.length > 7 ||
      !inRange(mode, 0, 1) ||
      !inRange(state, 0, 2) ||
      !inRange(download, 0, 100) ||
      !inRange(timer, 60, 32000000) ||
      !inRange(dlTimeout, 60, 65535) ||
      !inRange(cert, 11, 19)
    ) {
      return cme(4);
    }
    nv.fota = { profile, mode, state, download, timer, dlTimeout, cert };
    return OK;
  }

  function execute(cmd) {
    const upper = cmd.toUpperCase();
    if (!upper.startsWith('AT')) return cme(4);
    if (failOn && upper.startsWith(failOn.toUpperCase())) return { lines: [], final: 'ERROR' };
    const body = cmd.slice(2);
    const ubody = upper.slice(2);
    let m;
    if (ubody === '') return OK;
    if ((m = /^E([01])$/.exec(ubody))) {
      volatileState.echo = m[1] === '1';
      return OK;
    }
    if (ubody === 'I1') return lines(config.ue, `LR${config.firmware}`);
    if (ubody === 'I' || ubody === 'I0') return lines('SEQUANS Communications', 'GM01Q', config.ue);
    if (ubody === '+CGSN') return lines(config.imei);
    if (ubody === '+CGSN=1') return lines(`+CGSN: "${config.imei}"`);
    if (ubody === '+CMEE?') return lines(`+CMEE: ${volatileState.cmee}`);
    if ((m = /^\+CMEE=([0-2])$/.exec(ubody))) {
      volatileState.cmee = Number(m[1]);
      return OK;
    }
    if (ubody === '+CFUN?') return lines(`+CFUN: ${volatileState.cfun}`);
    if ((m = /^\+CFUN=([0145])(?:,([01]))?$/.exec(ubody))) {
      const level = Number(m[1]);
      if (m[2] === '1') return { ...OK, after: () => reboot(level) };
      const old = volatileState.cfun;
      volatileState.cfun = level;
      if (level !== 1) attached = false;
      else if (old !== 1) startAttach();
      return OK;
    }
    if (ubody === '^RESET') return { ...OK, after: () => reboot('auto') };
    if (ubody === '+SQNCTM?') return lines(`+SQNCTM: ${nv.operatorMode}`);
    if (ubody === '+SQNAUTOCONNECT?') return lines(`+SQNAUTOCONNECT: ${nv.autoconnect ? 1 : 0}`);
    if ((m = /^\+SQNAUTOCONNECT=([01])$/.exec(ubody))) {
      nv.autoconnect = m[1] === '1';
      return OK;
    }
    if (ubody === '+CEREG?') {
      return lines(attached ? '+CEREG: 2,1,"0001","01A2D001",7' : `+CEREG: 2,${volatileState.cfun === 1 ? 2 : 0}`);
    }
    if ((m = /^\+CEREG=([0-5])$/.exec(ubody))) return OK;
    if (ubody.startsWith('+SQNDMCFG=')) return dmcfg(args(body.slice('+SQNDMCFG='.length)));
    if (ubody === '+SQNFOTACFG?') {
      const f = nv.fota;
      if (!f) return OK;
      return lines(
        `+SQNFOTACFG: "${f.profile}",${f.mode},${f.state},${f.download},${opt(f.timer)},${opt(f.timer)},${opt(f.dlTimeout)},${opt(f.cert)}`,
      );
    }
    if (ubody.startsWith('+SQNFOTACFG=')) return fotacfg(args(body.slice('+SQNFOTACFG='.length)));
    if (ubody.startsWith('+SQNFACTORYSAVE=')) {
      if (volatileState.cfun !== 5) return cme(3);
      nv.restorationPoint = JSON.stringify({ ...nv, dm: [...nv.dm] });
      return OK;
    }
    // Not attached to a DM server in this fake: the note's plain ERROR.
    if (ubody === '+SQNDMST') return { lines: [], final: 'ERROR' };
    if (ubody === '+SQNSUPGRADE?') return lines('+SQNSUPGRADE: "idle"');
    return cme(4);
  }

  function receive(bytes) {
    for (const b of bytes) written.push(b);
    if (!up) return; // input is lost while the modem is down
    pending += dec.decode(bytes, { stream: true });
    let end;
    while ((end = pending.search(/[\r]/)) >= 0) {
      const raw = pending.slice(0, end);
      pending = pending.slice(end + 1);
      const cmd = raw.replace(/^\n+/, '');
      if (volatileState.echo) send(`${cmd}\r`);
      if (cmd.trim() === '') continue;
      const reply = execute(cmd.trim());
      const body = reply.lines.map((l) => `\r\n${l}\r\n`).join('');
      send(`${body}\r\n${reply.final}\r\n`);
      if (reply.after) outQueue.then(reply.after);
    }
  }

  // ------------------------------------------------------------------ Web Serial objects
  // Instances of the real interfaces when the browser has them (so that `instanceof` checks in
  // wasm-bindgen's `dyn_into` pass), with every member used replaced by our own.
  const proto = (name) => (typeof window[name] === 'function' ? window[name].prototype : Object.prototype);

  function withEvents(obj) {
    const target = new EventTarget();
    Object.defineProperties(obj, {
      addEventListener: { value: (...a) => target.addEventListener(...a) },
      removeEventListener: { value: (...a) => target.removeEventListener(...a) },
      dispatchEvent: { value: (e) => target.dispatchEvent(e) },
    });
    for (const type of ['connect', 'disconnect']) {
      let handler = null;
      Object.defineProperty(obj, `on${type}`, {
        get: () => handler,
        set: (h) => {
          if (handler) target.removeEventListener(type, handler);
          handler = h;
          if (h) target.addEventListener(type, h);
        },
      });
    }
    return obj;
  }

  const port = withEvents(Object.create(proto('SerialPort')));
  let readable = null;
  let writable = null;
  let readController = null;
  let plugged = true;

  Object.defineProperties(port, {
    readable: { get: () => readable },
    writable: { get: () => writable },
    connected: { get: () => plugged },
    getInfo: { value: () => ({ usbVendorId: 0x0403, usbProductId: 0x6015 }) },
    open: {
      value: async (options) => {
        if (!plugged) throw new DOMException('The device has been lost.', 'NetworkError');
        if (readable) throw new DOMException('The port is already open.', 'InvalidStateError');
        if (!options || typeof options.baudRate !== 'number' || options.baudRate <= 0) {
          throw new TypeError('Failed to execute open on SerialPort: baudRate is required.');
        }
        opens.push({ ...options });
        readable = new ReadableStream({
          start(controller) {
            readController = controller;
          },
        });
        emit = (chunk) => {
          try {
            readController && readController.enqueue(chunk);
          } catch (_) {
            /* closed */
          }
        };
        writable = new WritableStream({
          write(chunk) {
            if (!plugged) throw new DOMException('The device has been lost.', 'NetworkError');
            receive(new Uint8Array(chunk.buffer ? chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) : chunk));
          },
        });
      },
    },
    close: {
      value: async () => {
        emit = () => {};
        try {
          readController && readController.close();
        } catch (_) {
          /* already errored or closed */
        }
        readController = null;
        readable = null;
        writable = null;
      },
    },
    forget: { value: async () => {} },
    setSignals: { value: async () => {} },
    getSignals: {
      value: async () => ({ dataCarrierDetect: true, clearToSend: true, ringIndicator: false, dataSetReady: true }),
    },
  });

  const serial = withEvents(Object.create(proto('Serial')));
  let granted = false;
  Object.defineProperties(serial, {
    requestPort: {
      value: async () => {
        requests += 1;
        granted = true;
        return port;
      },
    },
    getPorts: { value: async () => (granted ? [port] : []) },
  });

  Object.defineProperty(Navigator.prototype, 'serial', { configurable: true, get: () => serial });

  window.__fakeSerial = {
    written: () => written.slice(),
    commands: () => dec.decode(new Uint8Array(written)).split('\r').slice(0, -1),
    opens: () => opens.slice(),
    requests: () => requests,
    failOn: (prefix) => {
      failOn = prefix || null;
    },
    nv: () => ({ ...nv, dm: Object.fromEntries([...nv.dm].map(([k, v]) => [k, { ...v, servers: [...v.servers.values()], psks: [...v.psks.values()] }])) }),
    unplug: () => {
      plugged = false;
      try {
        readController && readController.error(new DOMException('The device has been lost.', 'NetworkError'));
      } catch (_) {
        /* ignore */
      }
      const ev = new Event('disconnect', { bubbles: true });
      port.dispatchEvent(ev);
      serial.dispatchEvent(new Event('disconnect'));
    },
    replug: (other) => {
      if (other && other.imei) {
        config.imei = other.imei;
        nv = factoryNv();
      }
      plugged = true;
      readable = null;
      writable = null;
      readController = null;
      emit = () => {};
      volatileState = fresh();
      up = true;
      pending = '';
      const ev = new Event('connect', { bubbles: true });
      port.dispatchEvent(ev);
      serial.dispatchEvent(new Event('connect'));
    },
  };
})();
