
// ---- Added by tools/wasm-split (build-wasm-app.sh): a profiling build. ----
// Every function of the app reports its index the first time it runs (`make split-profile`
// reads `__beckonSplitHits` and writes the app's keep list).
const __split_hooks = {
    hit(i) { (self.__beckonSplitHits ||= new Set()).add(i); },
};
function __split_soon() {}
// Here the second part never comes: what the app only does once it came (`split::ready`) is
// not profiled, so it is left to the second part.
self.__beckonSplitReady = () => new Promise(() => {});
