// Starts the wasm app. A file of its own (not an inline script) so that the page's
// Content-Security-Policy needs no 'unsafe-inline'. Trunk.toml turns file hashing off so that
// these names are stable.
import init from './ryz014-web.js';

await init({ module_or_path: new URL('./ryz014-web_bg.wasm', import.meta.url) });
