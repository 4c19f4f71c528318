// Starts the inbox app (kept in a file: the console's CSP allows no inline script).
import init from "./beckon_console.js";

// The rarely used pages (their own wasm, `beckon-console-pages`), imported and started the
// first time one is opened; one import however often asked. After a failure the next ask
// imports again under another address (a browser may keep a failed module import).
let pages;
let failures = 0;
window.beckonPages = () =>
  (pages ??= import(`./pages/beckon_console_pages.js${failures ? `?retry=${failures}` : ""}`)
    .then(async (m) => {
      await m.default();
      return m;
    })
    .catch((e) => {
      pages = undefined;
      failures += 1;
      throw e;
    }));

init();
