// Cloudflare Turnstile for the chat app, on sites that ask visitors to pass it before a
// conversation starts. The app adds this script on each start (never before the first), with
// the site's Turnstile key and Turnstile's script URL as data attributes. It loads Turnstile
// once, draws the challenge above the composer (visible only if the visitor must interact),
// and answers with a `beckon-challenge` event on its own element: the token, or null.
(() => {
  const me = document.currentScript;
  const host = document.createElement("div");
  host.className = "challenge";
  host.setAttribute("role", "region");
  host.setAttribute("aria-label", "Check that you are a person");
  document.body.append(host);
  let done = false;
  const finish = (token) => {
    if (done) return true;
    done = true;
    host.remove();
    me.dispatchEvent(new CustomEvent("beckon-challenge", { detail: token || null }));
    return true;
  };
  const run = () => {
    try {
      window.turnstile.render(host, {
        sitekey: me.dataset.sitekey,
        action: "start",
        appearance: "interaction-only",
        callback: finish,
        "error-callback": () => finish(null),
        "expired-callback": () => finish(null),
        "timeout-callback": () => finish(null),
      });
    } catch (e) {
      finish(null);
    }
  };
  // Never wait for ever (a script that does not load, a check left alone).
  setTimeout(() => finish(null), 120000);
  if (window.turnstile) return run();
  const api = document.createElement("script");
  api.src = me.dataset.src;
  api.onload = run;
  api.onerror = () => finish(null);
  document.head.append(api);
})();
