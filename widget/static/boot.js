// Starts the chat app (kept in a file: the iframe's CSP allows no inline script).
import init from "./beckon_widget.js";
init();
