/* Beckon wake-up — what a site's proactive rules need the host page to watch before the chat
 * app runs: scroll depth, active time and time on site, exit intent (the pointer leaving at
 * the top, or a fast scroll back up on touch), and whether one of the rules' wake-up triggers
 * (URL gates and the lowest threshold of each kind, compiled by the edge) is met now.
 *
 * With `remember_visitors` on, it also keeps the visit's start and landing page (session
 * storage) and counts visits (local storage) for the rules that ask — carried for such a site
 * even while it has no rule enabled, so the count is right when one is.
 *
 * The boot script of a site with a rule enabled (or `remember_visitors` on) carries it,
 * minified, after the configuration (or loads it by a tag if the edge could not read it), so
 * the loader carries none of it, other sites pay nothing, and sites with rules make no request
 * more. It shares the loader's signals through `Beckon._k` (`s` the signals, `t` the loader's
 * tick, `c` the site's config, `o` the loader's storage helper, `st` when the visit started)
 * and answers `f()`: the loader then creates the app's iframe, and, once the app runs,
 * forwards these signals to its rule engine every second and on every scroll.
 * Size budget: 1 KB gzipped.
 */
((w, d) => {
  "use strict";
  var k = w.Beckon && w.Beckon._k;
  if (!k || !k.c || k.f) return;
  var sig = k.s, store = k.o;
  if (k.c.remember_visitors) {
    if (!store(sessionStorage, "start")) {
      store(sessionStorage, "start", k.st);
      store(sessionStorage, "landing", sig.l);
      store(localStorage, "visits", (+store(localStorage, "visits") || 0) + 1);
    }
    // (The loader's time on site counts from it too.)
    k.st = +store(sessionStorage, "start") || k.st;
    sig.l = store(sessionStorage, "landing") || sig.l;
    sig.v = +store(localStorage, "visits") || 1;
  }

  function glob(p, url) {
    var u = p.indexOf("://") > 0 ? url.split("#")[0] : new URL(url).pathname;
    return new RegExp("^" + p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$").test(u);
  }

  // Whether a rule of the spec could fire now: every URL gate passes, and it has no threshold
  // or one of them is crossed.
  k.f = () => {
    return (k.c.wakeup.w || []).some((t) => {
      var gate = (t.u || []).every((g) => {
        return g.e ? new URL(sig.u).pathname === g.e || sig.u.split("#")[0] === g.e : glob(g.g, sig.u);
      });
      var hit = !("s" in t || "a" in t || "t" in t || t.x || t.e || "r" in t) ||
        sig.p >= t.s || sig.a >= t.a || sig.s >= t.t || (t.x && sig.x) || sig.n >= t.r ||
        (t.e || []).some((e) => { return sig.e.indexOf(e) >= 0; });
      return gate && hit;
    });
  };

  function on(t, e, f) { t.addEventListener(e, f, { passive: true }); }

  setInterval(() => {
    if (!d.hidden) sig.a++;
    sig.s = Math.round((Date.now() - k.st) / 1000);
    k.t();
  }, 1000);
  // Not `scrollY`: reading it here would force a layout of the host page at boot.
  var pending, lastY = 0, lastT = Date.now();
  on(w, "scroll", () => {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      var h = d.documentElement.scrollHeight - innerHeight, y = scrollY, now = Date.now();
      sig.p = Math.max(sig.p, h > 0 ? Math.round(y / h * 100) : 100);
      // Touch fallback for exit intent: a fast scroll back up.
      if (lastY - y > innerHeight / 3 && now - lastT < 400) sig.x = true;
      if (now - lastT > 200) { lastY = y; lastT = now; }
      k.t();
    });
  });
  on(d, "mouseout", (e) => {
    if (!e.relatedTarget && e.clientY <= 0) { sig.x = true; k.t(); }
  });
  k.t();
})(window, document);
