//# allFunctionsCalledOnLoad
/* Beckon loader — the only code a host page runs before the visitor shows intent or a
 * proactive rule's threshold is crossed.
 *
 * It draws a static launcher (shadow DOM, constructable stylesheet: nothing inline, so it
 * works under a strict host CSP), installs `window.Beckon` with a command queue, and follows
 * the page's SPA route changes and named events. The chat app's iframe is created on intent
 * (hover, focus, touch or click on the launcher), when a rule's wake-up threshold is crossed
 * (`wakeup.js`, which the boot script of a site with rules carries, watches scroll depth, time
 * and exit intent), or at once for a visitor who already has a conversation. Before that: no
 * wasm, no iframe, no storage, no cookie (unless the site turned on `remember_visitors`).
 * Every message to and from the iframe is origin-checked. Size budget: 3 KB gzipped.
 *
 * Its first line asks V8 to compile every function with the script, off the main thread (the
 * browser streams it), where it would otherwise compile each on its first call; the launcher is
 * drawn in a microtask, so no stack through the script's top level is captured for it.
 */
((w, d) => {
  var script = d.currentScript;
  if (!script || (w.Beckon && w.Beckon._loaded)) return;
  // The site: named by the first snippet's `data-site`, or in the path of the one that brings
  // its boot script in the same response (`https://edge/api/v1/sites/{site}/beckon.js`).
  var site = script.dataset.site || script.src.split("/")[6] || "";
  // The inbox's preview of unsaved settings: their signed token, for the boot script and frame.
  var preview = script.dataset.preview, pq = preview ? "&p=" + encodeURIComponent(preview) : "";
  var base = script.src.split("/", 3).join("/");
  var key = "beckon:" + site + ":";
  var pre = w.Beckon; // a stub with a queue `q`, if the page defined one
  var queue = []; // messages for the app until it says "ready"
  var listeners = {};
  // `who`: the page's last `identify`, for an app that replaces this one in another language
  // (`swap`: the replacement is not a new `ready` for the page).
  var cfg, root, launcher, badge, frame, ready, lang, wipe, who, swap, mode = "closed";
  // The launcher's words (open, close, the frame's title, direction, label; unread): the edge's
  // guess of the visitor's language in the boot script (always all of them, before the
  // launcher is drawn), then the app's own once it runs.
  var L = {};
  // Signals the rules look at; the app gets them once it runs.
  var sig = { u: location.href, l: location.href, r: d.referrer, a: 0, s: 0, p: 0, x: false, n: 0, e: [], v: null };
  // What `wakeup.js` shares: the signals, the tick, the config, our storage, when the page
  // started (`st`), and — once it runs — whether a rule could fire now (`f`).
  var k = { s: sig, t: tick, o: store, st: Date.now() };

  function on(t, e, f) { t.addEventListener(e, f, { passive: true }); }
  // Reads (no `v`), writes, or removes (`v` null) one of our keys.
  function store(s, k, v) {
    try { return v === undefined ? s.getItem(key + k) : v === null ? s.removeItem(key + k) : s.setItem(key + k, v); } catch (e) {}
  }

  function post(msg) {
    if (!ready) return queue.push(msg);
    msg.beckon = 1;
    frame.contentWindow.postMessage(msg, base);
  }

  function emit(name, data) {
    (listeners[name] || []).forEach((cb) => { try { cb(data); } catch (e) { reportError(e); } });
  }

  // Wakes the app when a rule could fire now (`wakeup.js` says); forwards signals once it runs.
  function tick() {
    if (!launcher) return;
    if (frame) return ready && signals();
    k.f && k.f() && load();
  }

  // (Time on site also for a site without rules: the inbox's "Online now" shows it; the width
  // on every resize: the app marks a phone by it.)
  function signals() {
    sig.s = Math.round((Date.now() - k.st) / 1000);
    post({ t: "sig", sig: sig, w: innerWidth, c: matchMedia("(pointer:coarse)").matches });
  }

  function watch() {
    ["pushState", "replaceState"].forEach((m) => {
      var orig = history[m];
      history[m] = function () {
        var r = orig.apply(this, arguments);
        route();
        return r;
      };
    });
    on(w, "popstate", route);
    tick();
  }

  function route() {
    if (sig.u != (sig.u = location.href)) sig.n++, page(), tick();
  }

  function page() {
    post({ t: "page", url: sig.u, title: d.title, referrer: d.referrer });
  }

  var css =
    ".l,.f{position:fixed;border:0;z-index:2147483000}.l{bottom:var(--y);width:60px;height:60px;border-radius:50%;cursor:pointer;" +
    "color:var(--t);background:var(--a);box-shadow:0 6px 24px #0004;display:grid;place-items:center;" +
    "grid-auto-flow:column;gap:8px;font:600 15px var(--f)}.l.p{width:auto;padding:0 18px;border-radius:30px}" +
    ".l:focus-visible{outline:3px solid #111;outline-offset:3px}svg{width:28px;height:28px;fill:none;stroke:currentColor;" +
    "stroke-width:2;stroke-linecap:round}" +
    "b:empty{display:none}b{position:absolute;top:-4px;right:-4px;min-width:8px;height:20px;padding:0 6px;" +
    "border-radius:10px;background:#dc2626;color:#fff;font:700 12px/20px var(--f)}" +
    ".f{bottom:calc(var(--y) + 72px);width:min(380px,100vw - var(--x) - 20px);height:min(640px,calc(100vh - var(--y) - 92px));border-radius:16px;" +
    "box-shadow:0 12px 48px #0004;background:#fff;display:none}.f.t{display:block;width:min(320px,100vw - var(--x) - 20px);" +
    "background:none;box-shadow:none}.f.o{display:block}.R{right:var(--x)}.L{left:var(--x)}" +
    "@media(max-width:480px){.f.o{inset:0;width:100%;height:100%;border-radius:0}.l.h{display:none}}";

  // The launcher's face: the site's icon and label, or a cross while open (hidden on a phone,
  // where the panel covers it). Icons from DOM calls (no innerHTML), so Trusted Types pages
  // accept them too.
  function icon() {
    var s = d.createElementNS("http://www.w3.org/2000/svg", "svg"), p = d.createElementNS(s.namespaceURI, "path");
    s.setAttribute("viewBox", "0 0 24 24");
    var open = mode === "open", pill = !open && L.l;
    p.setAttribute("d", open ? "M18 6 6 18M6 6l12 12" : cfg.icon);
    s.appendChild(p);
    // A site's label beside the icon makes the closed launcher a pill.
    launcher.className = "l" + side() + (pill ? " p" : "") + (open ? " h" : "");
    launcher.replaceChildren(s, pill || "", badge);
  }

  // Right to left mirrors the site's corner.
  function side() {
    return (cfg.position === "left") !== (L.d === "rtl") ? " L" : " R";
  }

  // The launcher, built whole before it joins the page (one insertion); the frame comes later.
  function draw() {
    var host = d.createElement("div"), sheet = new CSSStyleSheet();
    host.id = "beckon-root";
    root = host.attachShadow({ mode: "open" });
    // The site's look (checked by the edge): accent, the text on it, the corner's offsets, the
    // font — set inside the shadow tree, where no rule of the page reaches.
    sheet.replaceSync(":host{all:initial}*{--a:" + cfg.accent + ";--t:" + cfg.accent_text + ";--x:" + cfg.x + "px;--y:" + cfg.y +
      "px;--f:" + cfg.font + "}" + css);
    root.adoptedStyleSheets = [sheet];
    launcher = d.createElement("button");
    // (The unread count's badge, shown while it has one: a `b`, no interface more to set up.)
    badge = d.createElement("b");
    // pointerenter comes first for touch too (before pointerdown): no touchstart listener needed.
    on(launcher, "pointerenter", load);
    on(launcher, "focus", load);
    launcher.onclick = api.toggle;
    show("closed");
    root.appendChild(launcher);
    d.body.appendChild(host);
    mark();
    wipe && load();
    watch();
  }

  // The chat app's frame (again after `setLocale` or `shutdown` dropped it).
  function load() {
    if (frame) return;
    frame = d.createElement("iframe");
    frame.className = "f" + side();
    frame.title = L.f;
    ready = false;
    if (!sized) {
      sized = 1;
      vv = w.visualViewport;
      vv && ["resize", "scroll"].forEach((e) => { on(vv, e, fit); });
      on(w, "resize", () => { fit(); ready && signals(); });
      on(w, "message", message);
    }
    frame.src = base + "/frame/" + encodeURIComponent(site) + "?host=" + encodeURIComponent(location.origin) +
      (lang ? "&lang=" + encodeURIComponent(lang) : "") + (wipe ? "&forget=1" : "") + pq;
    root.appendChild(frame);
  }

  // Phones: the open panel fills the visual viewport — an on-screen keyboard shrinks it, and
  // the composer stays above the keyboard — and the page behind it does not scroll.
  var vv, lock, sized;
  function fit() {
    var full = mode === "open" && innerWidth <= 480, h = d.documentElement.style, s = frame && frame.style;
    if (full && !lock) lock = h.overflow || " ", h.overflow = "hidden";
    if (!full && lock) h.overflow = lock.trim(), lock = 0;
    if (full && vv) s.height = vv.height + "px", s.top = vv.offsetTop + "px";
    else if (s && mode !== "teaser") s.height = s.top = "";
  }

  // "closed", "teaser" (a message beside the launcher) or "open" (the chat panel).
  function show(m, height) {
    var open = m === "open";
    mode = m;
    frame && (frame.className = frame.className.replace(/ [ot]\b/g, "") + (open ? " o" : m === "teaser" ? " t" : ""));
    if (frame && m === "teaser") frame.style.height = Math.min(height || 160, innerHeight - cfg.y - 92) + "px";
    launcher.setAttribute("aria-expanded", open);
    label();
    icon();
    frame && fit();
  }

  function label() {
    var n = badge.textContent;
    // A visible label starts the name (what a voice user says to press it), read in the
    // language's direction.
    launcher.dir = L.d;
    launcher.setAttribute("aria-label", (mode === "open" ? L.c : (L.l ? L.l + " - " : "") + L.o) +
      (n ? " (" + (L.u || n) + ")" : ""));
  }

  function setOpen(open, fromApp) {
    if (!launcher) return queue.push({ t: open ? "open" : "close" });
    load();
    show(open ? "open" : "closed");
    if (!fromApp) post({ t: open ? "open" : "close" });
    if (!open && fromApp) launcher.focus();
    emit(open ? "open" : "close");
  }

  // The page's marks, empty IndexedDB databases, listed without creating one and without the
  // wait of a first localStorage read: `engaged`, the visitor has a conversation here (the app
  // loads at once; each app says whether they do as it starts, and when one starts); `forget`, `shutdown` ran and no app has forgotten yet (the next one does, at
  // once, on whichever page view). `n` and `v`: make it, `v` called once it is stored; `n`
  // alone: remove it; none: look.
  function mark(n, v) {
    try {
      var I = indexedDB, r;
      n ? v ? (r = I.open(key + n)).onsuccess = () => v(r.result.close()) : I.deleteDatabase(key + n) :
        I.databases().then((l) => {
          l = l.map((x) => x.name);
          (wipe = wipe || l.includes(key + "forget")) || l.includes(key + "engaged") ? load() : 0;
        }, () => {});
    } catch (e) {}
  }

  function message(e) {
    var m = e.data;
    if (e.origin !== base || !frame || e.source !== frame.contentWindow || !m || m.beckon !== 1) return;
    if (m.t === "ready") {
      ready = true;
      // (An app that forgot the visitor: the mark goes with what it cleared; `engaged` goes
      // as the app says it has no conversation.)
      if (wipe) wipe = 0, mark("forget");
      swap ? swap = 0 : emit("ready");
      var q = queue;
      queue = [];
      page();
      signals();
      q.forEach(post);
    } else if (m.t === "mode" && ready) {
      // (Before "ready" the app says only its first state, closed: the page's own wins.)
      if (m.mode === "teaser") mode !== "teaser" && emit("teaser"), show("teaser", m.h);
      else if (m.mode !== mode) setOpen(m.mode === "open", true);
    } else if (m.t === "unread") {
      badge.textContent = m.n > 9 ? "9+" : m.n || "";
      L.u = m.l;
      label();
      emit("unread", m.n);
    } else if (m.t === "labels") {
      Object.assign(L, m);
      frame.className = frame.className.replace(/ [LR]\b/, side());
      frame.title = m.f;
      label();
      icon();
    } else if (m.t === "engaged") {
      mark("engaged", !m.n && Date); // (nothing to do once stored: `Date()` does nothing)
    } else if (m.t === "event") {
      emit(m.name, m.data);
    }
  }

  var api = {
    _loaded: true,
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(mode !== "open"),
    identify: (traits) => { post({ t: "identify", traits: who = traits }); },
    track: (name, props) => { post({ t: "track", name: String(name), props: props || {} }); },
    trigger: (name) => {
      name = String(name);
      sig.e.includes(name) || sig.e.push(name);
      post({ t: "trigger", name: name });
      tick();
    },
    version: "0.1.0",
    // After the app loaded: a new one, served in that language (the site's own words too),
    // in the same state — the conversation, an open panel and the page's `identify` go on.
    // The same language again changes nothing.
    setLocale: (l) => {
      var m = mode == "open";
      if (lang == (lang = l + "")) return;
      if (frame) {
        frame.remove(), frame = 0, swap = 1, load(), show(m ? "open" : "closed");
        m && post({ t: "open" });
        who && post({ t: "identify", traits: who });
      }
    },
    // Forgets the visitor (on logout): the page's keys, and the app with its socket; a new app
    // (`&forget=1`) clears the frame's storage as it starts — at once, and on the next page
    // view if this one ends first (the `forget` mark, stored when the promise resolves — or 2 s
    // passed —: a page that navigates before may lose it). (`engaged` in local storage: an older
    // loader's mark.)
    shutdown: () => new Promise((done) => {
      ["engaged", "visits", "start", "landing"].forEach((k, i) => { store(i < 2 ? localStorage : sessionStorage, k, null); });
      queue = [];
      who = 0;
      wipe = 1;
      mark("forget", done);
      setTimeout(done, 2e3); // (a browser without IndexedDB, or whose IndexedDB fails or hangs)
      // (Closed while the frame is still there, so a phone's page scrolls again.)
      if (frame) badge.textContent = "", show("closed"), frame.remove(), frame = ready = 0, emit("unread", 0);
      launcher && load();
    }),
    on: (name, cb) => { (listeners[name] = listeners[name] || []).push(cb); },
    off: (name, cb) => { listeners[name] = (listeners[name] || []).filter((x) => { return cb && x !== cb; }); },
    // For the site's `attention.js`: a message to the app (queued until it runs).
    _p: post,
    // For the site's `wakeup.js`.
    _k: k,
    // From the site's boot script: its configuration and the launcher's words.
    _boot: (config, labels) => {
      if (cfg || !config) return;
      cfg = config;
      k.c = config;
      Object.assign(L, labels);
      var go = () => {
        var pending = queue;
        queue = [];
        draw();
        pending.forEach((m) => { m.t === "open" || m.t === "close" ? setOpen(m.t === "open") : post(m); });
      };
      d.body ? queueMicrotask(go) : on(d, "DOMContentLoaded", go);
    }
  };
  w.Beckon = api;
  // Replay calls queued by a pre-load stub: window.Beckon = {q: [["open"], ["track", "x"]]}.
  (pre && pre.q || []).forEach((c) => { if (api[c[0]] && c[0][0] !== "_") api[c[0]].apply(0, [].slice.call(c, 1)); });

  // The site's boot script follows in this same script when the page embeds
  // `/api/v1/sites/{site}/beckon.js` (so `_boot` ran before this); else it is loaded beside us.
  // `v`: the loader it is for (one cached for an older loader is not: v3 carries the wake-up
  // code).
  queueMicrotask(() => {
    if (cfg) return;
    var boot = d.createElement("script");
    boot.src = base + "/api/v1/sites/" + encodeURIComponent(site) + "/boot.js?v=3" + pq;
    d.head.appendChild(boot);
  });
})(window, document);
