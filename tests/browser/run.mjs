// Runs the browser end-to-end tests: serves the Trunk-built page (dist/) on a free localhost
// port, then runs every `*.test.mjs` of this folder with node:test, one file at a time.
//
//   node tests/browser/run.mjs [--dist <dir>] [test files...]
//
// The dist folder defaults to $E2E_DIST, else the first of <repo>/dist, <repo>/web/dist that has
// an index.html. Screenshots: $E2E_SCREENSHOTS (default <repo>/target/e2e-screenshots).
// Prints libtest's summary line ("test result: ok. N passed; M failed") for scripts/test-all.sh.

import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const argv = process.argv.slice(2);
let dist = process.env.E2E_DIST;
const files = [];
for (let i = 0; i < argv.length; i += 1) {
  if (argv[i] === '--dist') dist = argv[(i += 1)];
  else files.push(path.resolve(argv[i]));
}
dist ??= [path.join(repo, 'dist'), path.join(repo, 'web', 'dist')].find((d) =>
  existsSync(path.join(d, 'index.html')),
);
if (!dist || !existsSync(path.join(dist, 'index.html'))) {
  console.error(`e2e: no built page (index.html) in ${dist ?? 'dist/ or web/dist/'}: run trunk build --release first`);
  process.exit(2);
}
dist = path.resolve(dist);
if (files.length === 0) {
  for (const f of readdirSync(here).sort()) if (f.endsWith('.test.mjs')) files.push(path.join(here, f));
}

// Fresh screenshots for this run.
const shots = process.env.E2E_SCREENSHOTS || path.join(repo, 'target', 'e2e-screenshots');
process.env.E2E_SCREENSHOTS = shots;
rmSync(shots, { recursive: true, force: true });

// ------------------------------------------------------------------ a tiny static server
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.toml': 'text/plain; charset=utf-8',
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let file = path.normalize(path.join(dist, decodeURIComponent(url.pathname)));
  if (!file.startsWith(dist)) {
    res.writeHead(403).end();
    return;
  }
  if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!existsSync(file)) file = path.join(dist, 'index.html'); // single-page app
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  });
  res.end(readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
// `localhost` (not 127.0.0.1) so that the page is a secure context, as Web Serial requires.
process.env.E2E_BASE_URL = `http://localhost:${server.address().port}/`;
console.log(`e2e: serving ${dist} at ${process.env.E2E_BASE_URL}`);

// ------------------------------------------------------------------ the tests
let passed = 0;
let failed = 0;
const failures = [];
const started = Date.now();
const stream = run({ files, concurrency: 1, timeout: 10 * 60_000 });
// Suites are not counted; a file that fails to load shows up as one failed "test" named after it.
stream.on('test:pass', (t) => {
  if (t.details?.type !== 'suite') passed += 1;
});
stream.on('test:fail', (t) => {
  if (t.details?.type !== 'suite') {
    failed += 1;
    failures.push(t.name);
  }
});
stream.compose(spec).pipe(process.stdout);
await new Promise((resolve) => stream.on('close', resolve));
server.close();

const secs = ((Date.now() - started) / 1000).toFixed(2);
const status = failed === 0 && passed > 0 ? 'ok' : 'FAILED';
console.log(`\ntest result: ${status}. ${passed} passed; ${failed} failed; 0 ignored; 0 filtered out; finished in ${secs}s`);
if (failures.length) console.log(`failed: ${failures.join(', ')}`);
process.exit(status === 'ok' ? 0 : 1);
