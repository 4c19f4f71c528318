
// ---- Added by tools/wasm-split (build-wasm-app.sh): the app's second part. ----
// The functions a usual session does not run are in the second module. It is fetched and
// linked in the background once the app has started (tried again while the network fails,
// and when the browser is back online); if one of its functions is called before that, the
// primary's stub asks for it here and it is loaded synchronously (`self.__beckonSplitOnDemand`
// is then set). `self.__beckonSplit` says "linked", or why it could not be.
// `self.__beckonSplitReady(now)` (the app's `split::ready` and `linked`) resolves once it is
// linked, for code that can wait for it rather than have the page wait; with `now`, it is
// fetched now rather than once the browser is idle.
const __split_url = new URL("__SPLIT_FILE__", import.meta.url);
let __split_module, __split_linked = false, __split_failed = false, __split_tries = 0;
let __split_busy = false, __split_retry = null, __split_waiting = [];
function __split_settle(why) {
    for (const [resolve, reject] of __split_waiting.splice(0)) why ? reject(why) : resolve();
}
self.__beckonSplitReady = (now) => {
    if (__split_linked) return Promise.resolve();
    if (__split_failed) return Promise.reject(new Error(self.__beckonSplit));
    return new Promise((resolve, reject) => {
        __split_waiting.push([resolve, reject]);
        if (now) __split_fetch(); // now, not after a pending retry's wait
    });
};
// It will not come: gone (404: a deploy replaced it while this first part was cached) or
// not this first part's (the two check each other's build mark when linked). The usual
// session goes on; a call into the second part throws, until the next load of the page.
function __split_give_up(why) {
    __split_failed = true;
    if (__split_retry) __split_retry();
    self.__beckonSplit = String(why);
    console.warn("Beckon: the app's second part cannot be used:", why);
    __split_settle(why instanceof Error ? why : new Error(String(why)));
}
function __split_link(module) {
    if (__split_linked) return;
    try {
        new WebAssembly.Instance(module, { primary: wasm });
    } catch (e) {
        __split_give_up(e);
        throw e;
    }
    __split_linked = true;
    if (__split_retry) __split_retry();
    self.__beckonSplit = "linked";
    __split_settle();
}
const __split_hooks = {
    load() {
        if (__split_linked) return;
        self.__beckonSplitOnDemand = true;
        if (!__split_module) {
            const xhr = new XMLHttpRequest();
            xhr.open("GET", __split_url, false);
            xhr.overrideMimeType("text/plain; charset=x-user-defined");
            xhr.send(); // throws offline, or where the page forbids synchronous requests
            if (xhr.status !== 200) {
                const why = new Error(`the app's second part did not load (HTTP ${xhr.status})`);
                if (xhr.status === 404) __split_give_up(why);
                throw why;
            }
            const text = xhr.responseText, bytes = new Uint8Array(text.length);
            for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            __split_module = new WebAssembly.Module(bytes);
        }
        __split_link(__split_module);
    },
};
// One fetch at a time, and one retry pending at most: a fetch replaces it.
function __split_fetch() {
    if (__split_linked || __split_failed || __split_busy) return;
    if (__split_retry) __split_retry();
    __split_busy = true;
    fetch(__split_url)
        .then((r) => {
            if (r.status === 404) return __split_give_up(`${__split_url} is gone (404)`);
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
            return WebAssembly.compileStreaming(r).then((m) => {
                __split_module = m;
                __split_link(m);
            });
        })
        .catch((e) => {
            if (__split_linked || __split_failed) return;
            // Again in 2, 4, 8 … 60 s or as soon as the browser is online; 8 tries in all.
            if (++__split_tries >= 8) return __split_give_up(e);
            const wait = Math.min(60000, 1000 * 2 ** __split_tries);
            console.warn(`Beckon: the app's second part did not load (${e}); trying again in ${wait / 1000} s.`);
            const timer = setTimeout(__split_fetch, wait);
            addEventListener("online", __split_fetch);
            __split_retry = () => {
                clearTimeout(timer);
                removeEventListener("online", __split_fetch);
                __split_retry = null;
            };
        })
        .finally(() => { __split_busy = false; });
}
function __split_soon() {
    const start = () => __split_retry || __split_fetch(); // not ahead of a pending retry
    (self.requestIdleCallback || ((f) => setTimeout(f, 200)))(start, { timeout: 3000 });
}
