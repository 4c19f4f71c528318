
// ---- Added by tools/wasm-split (build-wasm-app.sh): the app's second part. ----
// The functions a usual session does not run are in the second module. It is fetched and
// linked in the background once the app has started (tried again while it fails, and when
// the browser is back online); if one of its functions is called before that, the primary's
// stub asks for it here and it is loaded synchronously. `self.__beckonSplit` says how it went.
const __split_url = new URL("__SPLIT_FILE__", import.meta.url);
let __split_module, __split_linked = false, __split_stale_seen = false, __split_tries = 0;
function __split_link(module) {
    if (__split_linked) return;
    try {
        new WebAssembly.Instance(module, { primary: wasm });
    } catch (e) {
        __split_stale(e);
        throw e;
    }
    __split_linked = true;
    self.__beckonSplit = "linked";
}
// A second part that is not this first part's (gone, or from another build: a deploy between
// the two downloads — they check each other's build mark when linked) cannot be used: the page
// is loaded again, at most once a minute.
function __split_stale(why) {
    __split_stale_seen = true;
    self.__beckonSplit = String(why);
    console.warn("Beckon: the app's second part does not fit this app; loading it again.", why);
    try {
        const key = "beckon:split-reload", last = Number(sessionStorage.getItem(key) || 0);
        if (Date.now() - last < 60000) return;
        sessionStorage.setItem(key, String(Date.now()));
    } catch (e) {} // storage blocked: reload once anyway
    setTimeout(() => location.reload(), 0);
}
const __split_hooks = {
    load() {
        if (__split_linked) return;
        if (!__split_module) {
            const xhr = new XMLHttpRequest();
            xhr.open("GET", __split_url, false);
            xhr.overrideMimeType("text/plain; charset=x-user-defined");
            xhr.send(); // throws offline, or where the page forbids synchronous requests
            if (xhr.status === 404) __split_stale(`${__split_url} is gone`);
            if (xhr.status !== 200) throw new Error(`the app's second part did not load (${xhr.status})`);
            const text = xhr.responseText, bytes = new Uint8Array(text.length);
            for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            __split_module = new WebAssembly.Module(bytes);
        }
        __split_link(__split_module);
    },
};
function __split_fetch() {
    if (__split_linked) return;
    fetch(__split_url)
        .then((r) => {
            if (r.status === 404) return __split_stale(`${__split_url} is gone`);
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
            return WebAssembly.compileStreaming(r).then((m) => {
                __split_module = m;
                __split_link(m);
            });
        })
        .catch((e) => {
            if (__split_linked || __split_stale_seen) return;
            // A network failure: again in 2, 4, 8 … 60 s, or as soon as the browser is online.
            const wait = Math.min(60000, 2000 * 2 ** __split_tries++);
            console.warn(`Beckon: the app's second part did not load (${e}); trying again in ${wait / 1000} s.`);
            const again = () => { clearTimeout(timer); removeEventListener("online", again); __split_fetch(); };
            const timer = setTimeout(again, wait);
            addEventListener("online", again);
        });
}
function __split_soon() {
    (self.requestIdleCallback || ((f) => setTimeout(f, 200)))(__split_fetch, { timeout: 3000 });
}
