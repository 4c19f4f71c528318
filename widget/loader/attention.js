/* Beckon attention — what a site turned on to catch its visitor's eye when the business writes
 * while the chat panel is closed or the page is in the background: the unread count in the
 * page's title, a short chime, and a browser notification once the visitor agreed (the chat
 * panel asks; the browser's own prompt decides).
 *
 * Loaded by the site's boot script only when one of them is on (`attention` in the site's
 * settings), so the loader carries none of it and other sites pay nothing. It listens to the
 * page API like any page script (`Beckon.on`), reads whether the panel is open from the
 * launcher's `aria-expanded`, and tells the chat app whether the browser may notify through the
 * loader's `Beckon._p` (the app lives in a cross-origin iframe, where browsers refuse to ask). Its options are its script tag's `data-*`: title, sound, notify
 * (each "1" when on), name (the site's, a notification's title when no agent signs it).
 * Size budget: 1 KB gzipped.
 */
((w, d) => {
  "use strict";
  var B = w.Beckon, o = d.currentScript && d.currentScript.dataset, N = w.Notification;
  if (!B || !B.on || !o) return;
  var base = d.title, shown = null, audio;
  // Whether the chat panel is open: the launcher says so (`aria-expanded`), whatever opened or
  // closed it, before or after this script ran.
  var open = () => {
    var r = d.getElementById("beckon-root"), l = r && r.shadowRoot.querySelector("[aria-expanded]");
    return !!l && l.getAttribute("aria-expanded") === "true";
  };

  if (o.title) B.on("unread", (n) => {
    // A page that changed its own title meanwhile keeps the new one.
    if (d.title !== shown) base = d.title;
    shown = d.title = n > 0 ? "(" + (n > 99 ? "99+" : n) + ") " + base : base;
  });

  // Two soft rising tones, half a second (browsers keep it silent until the visitor has
  // interacted with the page).
  function chime() {
    try {
      audio = audio || new AudioContext();
      // Created before the visitor touched the page, it starts suspended: try again each time.
      if (audio.state !== "running") audio.resume();
      var t = audio.currentTime, g = audio.createGain();
      g.connect(audio.destination);
      g.gain.setValueAtTime(0.15, t);
      g.gain.exponentialRampToValueAtTime(0.001, t + 0.5);
      [660, 880].forEach((f, i) => {
        var s = audio.createOscillator();
        s.frequency.value = f;
        s.connect(g);
        s.start(t + i * 0.12);
        s.stop(t + 0.5);
      });
    } catch (e) { /* no audio here */ }
  }

  B.on("message", (m) => {
    if (open() && !d.hidden) return;
    if (o.sound) chime();
    if (o.notify && N && N.permission === "granted") {
      try {
        // One notification at a time: a newer message replaces the one still shown.
        var n = new N(m.from || o.name, { body: String(m.text).slice(0, 200), tag: "beckon" });
        n.onclick = () => { w.focus(); B.open(); n.close(); };
      } catch (e) {
        // Where pages cannot show one (Android's Chrome wants a service worker): stop offering.
        N = 0;
        B._p({ t: "notify", s: "denied" });
      }
    }
  });

  if (o.notify && N) {
    // The app offers to notify only while the browser has not been asked.
    var tell = () => { B._p({ t: "notify", s: N ? N.permission : "denied" }); };
    // Now (queued until the app runs) and for every app after (`shutdown` starts a new one).
    tell();
    B.on("ready", tell);
    B.on("_notify", () => { N && N.requestPermission().then(tell, tell); });
  }
})(window, document);
