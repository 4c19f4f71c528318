// Starts the chat app (kept in a file: the iframe's CSP allows one hashed inline line only). The site's
// colours and font are set first, through the CSSOM (which the CSP permits), so the panel never
// shows the default accent: the accent, the text colour the edge chose for it (AA contrast), and
// the site's font stack (validated by the edge: family names only).
import init from "./beckon_widget.js";
// `Beckon.shutdown()` on the page: this app starts without the visitor before it — every key of
// ours goes from the frame's storage (their token, conversation, unsent messages, and what the
// rules remember) before the app reads any.
if (/[?&]forget=1(&|$)/.test(location.search)) {
  try {
    for (const s of [localStorage, sessionStorage]) {
      Object.keys(s).filter((k) => k.startsWith("beckon:")).forEach((k) => s.removeItem(k));
    }
  } catch (e) {} // storage blocked: nothing of theirs was kept either
}
try {
  const c = JSON.parse(document.getElementById("beckon-boot").textContent).config;
  const s = document.documentElement.style;
  s.setProperty("--accent", c.accent);
  if (c.accent_text) s.setProperty("--on-accent", c.accent_text);
  s.setProperty("--font", c.font);
} catch (e) {}
// The wasm's download began with the document (the frame's inline script); it is asked for
// again only if that request failed.
const wasm = new URL("beckon_widget_bg.wasm", import.meta.url);
init({ module_or_path: (window.beckonWasm || Promise.reject()).catch(() => fetch(wasm)) });

// On a phone the open panel covers the page (the app marks the document `data-phone`): Tab on
// its last control goes to its first, Shift+Tab on the first to the last.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Tab" || !document.documentElement.hasAttribute("data-phone")) return;
  const all = document.querySelectorAll(
    ".panel :is(button:not([disabled]), textarea, input:not([hidden]), a[href], [tabindex='0'])");
  const first = all[0], last = all[all.length - 1];
  if (first && document.activeElement === (e.shiftKey ? first : last)) {
    e.preventDefault();
    (e.shiftKey ? last : first).focus();
  }
});
