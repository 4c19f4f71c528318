/*! Beckon loader — the only code a host page runs before the visitor shows intent.
 *
 * It draws a static launcher (shadow DOM, constructable stylesheet: nothing inline, so it
 * works under a strict host CSP), installs `window.Beckon` with a command queue, and creates
 * the chat app's iframe only on intent (hover, focus, touch or click on the launcher), or at
 * once for a visitor who already has a conversation. Before that: no wasm, no iframe, no
 * storage, no cookie. All messages to and from the iframe are origin-checked.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || (window.Beckon && window.Beckon._loaded)) return;
  var site = script.getAttribute("data-site") || "";
  var base = new URL(script.src).origin;
  var engagedKey = "beckon:" + site + ":engaged";
  var Z = "2147483000";

  var pre = window.Beckon; // a stub with a queue `q`, if the page defined one
  var queue = []; // calls for the app, until it says "ready"
  var listeners = {};
  var cfg = null, root, launcher, badge, frame, ready = false, isOpen = false;

  function post(msg) {
    if (!frame || !ready) { queue.push(msg); return; }
    msg.beckon = 1;
    frame.contentWindow.postMessage(msg, base);
  }

  function emit(name, data) {
    (listeners[name] || []).slice().forEach(function (cb) {
      try { cb(data); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  function page() {
    return { t: "page", url: location.href, title: document.title, referrer: document.referrer };
  }

  function engaged() {
    try { return localStorage.getItem(engagedKey) === "1"; } catch (e) { return false; }
  }

  var css =
    ":host{all:initial}" +
    ".l{position:fixed;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;" +
    "color:#fff;background:var(--a);box-shadow:0 6px 24px rgba(0,0,0,.25);display:flex;align-items:center;" +
    "justify-content:center;z-index:" + Z + ";transition:transform .15s}" +
    ".l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid #111;outline-offset:3px}" +
    ".l svg{width:28px;height:28px}.b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;" +
    "padding:0 6px;box-sizing:border-box;border-radius:10px;background:#dc2626;color:#fff;" +
    "font:700 12px/20px system-ui,sans-serif;text-align:center}.b[hidden]{display:none}" +
    ".f{position:fixed;bottom:92px;width:380px;height:min(640px,calc(100vh - 112px));border:0;" +
    "border-radius:16px;box-shadow:0 12px 48px rgba(0,0,0,.25);background:#fff;z-index:" + Z + ";display:none}" +
    ".f.o{display:block}.R{right:20px}.L{left:20px}" +
    "@media (max-width:480px){.f.o{inset:0;width:100%;height:100%;border-radius:0}.l.h{display:none}}";

  // Icons are built with DOM calls (no innerHTML), so Trusted Types pages accept them too.
  var SVG = "http://www.w3.org/2000/svg";
  var CHAT = "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z";
  var CLOSE = "M18 6 6 18M6 6l12 12";
  function icon(d) {
    var svg = document.createElementNS(SVG, "svg");
    var path = document.createElementNS(SVG, "path");
    [["viewBox", "0 0 24 24"], ["aria-hidden", "true"], ["fill", "none"], ["stroke", "currentColor"],
      ["stroke-width", "2"], ["stroke-linecap", "round"], ["stroke-linejoin", "round"]].forEach(function (a) {
      svg.setAttribute(a[0], a[1]);
    });
    path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }
  function setIcon(d) {
    launcher.replaceChildren(icon(d), badge);
  }

  function draw() {
    var host = document.createElement("div");
    host.id = "beckon-root";
    root = host.attachShadow({ mode: "open" });
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    host.style.setProperty("--a", cfg.accent);
    var side = cfg.position === "left" ? "L" : "R";
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "l " + side;
    launcher.setAttribute("aria-label", "Open chat");
    launcher.setAttribute("aria-expanded", "false");
    badge = document.createElement("span");
    badge.className = "b";
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    setIcon(CHAT);
    ["pointerenter", "focus", "touchstart"].forEach(function (ev) {
      launcher.addEventListener(ev, load, { passive: true });
    });
    launcher.addEventListener("click", function () { api.toggle(); });
    root.appendChild(launcher);
    document.body.appendChild(host);
    if (engaged()) load();
  }

  function load() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.className = "f " + (cfg.position === "left" ? "L" : "R");
    frame.title = cfg.name + " chat";
    frame.src = base + "/frame/" + encodeURIComponent(site) + "?host=" + encodeURIComponent(location.origin);
    root.appendChild(frame);
  }

  function setOpen(open, fromApp) {
    if (!cfg) { queue.push({ t: open ? "open" : "close" }); return; }
    load();
    isOpen = open;
    frame.classList.toggle("o", open);
    launcher.classList.toggle("h", open);
    launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    setIcon(open ? CLOSE : CHAT);
    if (!fromApp) post({ t: open ? "open" : "close" });
    if (!open && fromApp) launcher.focus();
    emit(open ? "open" : "close");
  }

  window.addEventListener("message", function (e) {
    if (e.origin !== base || !frame || e.source !== frame.contentWindow) return;
    var m = e.data;
    if (!m || m.beckon !== 1) return;
    if (m.t === "ready") {
      ready = true;
      var q = queue;
      queue = [];
      post(page());
      q.forEach(post);
    } else if (m.t === "mode") {
      setOpen(!!m.open, true);
    } else if (m.t === "unread") {
      badge.textContent = m.n > 9 ? "9+" : String(m.n);
      badge.hidden = !m.n;
      launcher.setAttribute("aria-label", (isOpen ? "Close chat" : "Open chat") + (m.n ? " (" + m.n + " unread)" : ""));
    } else if (m.t === "engaged") {
      try { localStorage.setItem(engagedKey, "1"); } catch (err) { /* storage blocked: fine */ }
    } else if (m.t === "event") {
      emit(m.name, m.data);
    }
  });

  var api = {
    _loaded: true,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    toggle: function () { setOpen(!isOpen); },
    identify: function (traits) { post({ t: "identify", traits: traits }); },
    track: function (name, props) { post({ t: "track", name: String(name), props: props || {} }); },
    trigger: function (name) { post({ t: "trigger", name: String(name) }); },
    on: function (name, cb) { (listeners[name] = listeners[name] || []).push(cb); },
    off: function (name, cb) {
      listeners[name] = cb ? (listeners[name] || []).filter(function (x) { return x !== cb; }) : [];
    },
    _boot: function (config) {
      if (cfg || !config) return;
      cfg = config;
      var pending = queue;
      queue = [];
      var start = function () {
        draw();
        pending.forEach(function (m) {
          if (m.t === "open" || m.t === "close") setOpen(m.t === "open"); else post(m);
        });
      };
      if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
    }
  };
  window.Beckon = api;
  // Replay calls queued by a pre-load stub: window.Beckon = {q: [["open"], ["track", "x"]]}.
  if (pre && pre.q && pre.q.forEach) {
    pre.q.forEach(function (c) { if (api[c[0]] && c[0].charAt(0) !== "_") api[c[0]].apply(null, [].slice.call(c, 1)); });
  }

  var boot = document.createElement("script");
  boot.src = base + "/api/v1/sites/" + encodeURIComponent(site) + "/boot.js";
  boot.async = true;
  boot.onerror = function () { console.warn("Beckon: could not load the configuration of site \"" + site + "\""); };
  document.head.appendChild(boot);
})();
