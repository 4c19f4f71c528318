// TypeScript declarations for `window.Beckon`, the API the Beckon loader (`beckon.js`)
// installs. Served at `/beckon.d.ts`; copy it into your project, or reference it:
//   /// <reference path="./beckon.d.ts" />
// Calls made before the chat app has loaded are queued; to call before the loader itself has
// run, define `window.Beckon = { q: [["open"]] }` first (the loader replays `q`).

declare namespace Beckon {
  /** What a page may say about its visitor: a claim, shown to agents as "claimed". */
  interface Traits {
    name?: string;
    email?: string;
    /** With its country code, e.g. "+62 812 3456 789". */
    phone?: string;
  }

  /** A verified identity, proven by the site's backend with the site's identity secret. */
  type VerifiedIdentity =
    | (Traits & { user_id: string; user_hash: string })
    | (Traits & { jwt: string });

  /** Events a page can listen to. */
  type EventName = "open" | "close";

  interface Api {
    /** Shows the chat panel. */
    open(): void;
    /** Hides the chat panel. */
    close(): void;
    /** Shows the panel if it is hidden, hides it otherwise. */
    toggle(): void;
    /** The visitor becomes a known contact (a claim), or, with a proof, a verified identity. */
    identify(traits: Traits | VerifiedIdentity): void;
    /** A goal after a conversation, credited to the rule that started it (once per
     * conversation and name); `value` at least 0. */
    track(name: string, props?: { value?: number }): void;
    /** Fires the site's rules that have an `event` condition on `name`. */
    trigger(name: string): void;
    /** Calls `cb` on each `event`. */
    on(event: EventName, cb: (data?: unknown) => void): void;
    /** Stops calling `cb` on `event` (every listener of it without `cb`). */
    off(event: EventName, cb?: (data?: unknown) => void): void;
  }

  /** The queue stub a page may define before the loader runs. */
  interface Stub {
    q: Array<[keyof Api, ...unknown[]]>;
  }
}

interface Window {
  Beckon?: Beckon.Api | Beckon.Stub;
}
