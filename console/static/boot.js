// Starts the inbox app (kept in a file: the console's CSP allows no inline script).
import init from "./beckon_console.js";

// The rarely used pages (their own wasm, `beckon-console-pages`), imported and started the
// first time one is opened; one import however often asked, tried again after a failure.
let pages;
window.beckonPages = () =>
  (pages ??= import("./pages/beckon_console_pages.js")
    .then(async (m) => {
      await m.default();
      return m;
    })
    .catch((e) => {
      pages = undefined;
      throw e;
    }));

init();
