// Starts the inbox app (kept in a file: the console's CSP allows no inline script).
import init from "./beckon_console.js";
init();
