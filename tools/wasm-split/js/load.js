
// ---- Added by tools/wasm-split (build-wasm-app.sh): the app's second part. ----
// The functions a usual session does not run are in the second module. It is fetched and
// linked in the background once the app has started; if one of its functions is called
// before that, the primary's stub asks for it here and it is loaded synchronously.
const __split_url = new URL("__SPLIT_FILE__", import.meta.url);
let __split_module, __split_linked = false;
function __split_link(module) {
    if (__split_linked) return;
    new WebAssembly.Instance(module, { primary: wasm });
    __split_linked = true;
}
const __split_hooks = {
    load() {
        if (__split_linked) return;
        if (!__split_module) {
            const xhr = new XMLHttpRequest();
            xhr.open("GET", __split_url, false);
            xhr.overrideMimeType("text/plain; charset=x-user-defined");
            xhr.send();
            if (xhr.status !== 200) throw new Error(`the app's second part did not load (${xhr.status})`);
            const text = xhr.responseText, bytes = new Uint8Array(text.length);
            for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
            __split_module = new WebAssembly.Module(bytes);
        }
        __split_link(__split_module);
    },
};
function __split_soon() {
    const fetchIt = () => __split_linked || WebAssembly.compileStreaming(fetch(__split_url))
        .then((m) => { __split_module = m; __split_link(m); })
        .catch(() => {}); // a later first use loads it, or says why not
    (self.requestIdleCallback || ((f) => setTimeout(f, 200)))(fetchIt, { timeout: 3000 });
}
