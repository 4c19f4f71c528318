// Starts the chat app (kept in a file: the iframe's CSP allows no inline script). The site's
// colours are set first, through the CSSOM (which the CSP permits), so the panel never shows
// the default accent: the accent, and the text colour the edge chose for it (AA contrast).
import init from "./beckon_widget.js";
try {
  const c = JSON.parse(document.getElementById("beckon-boot").textContent).config;
  const s = document.documentElement.style;
  s.setProperty("--accent", c.accent);
  if (c.accent_text) s.setProperty("--on-accent", c.accent_text);
} catch (e) {}
init();
