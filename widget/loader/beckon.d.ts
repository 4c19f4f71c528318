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

  /** The languages the widget speaks. Any BCP 47 tag is accepted and matched by its primary
   * subtag (`"pt-PT"` gets Brazilian Portuguese); others leave the language as it is. */
  type Locale = "en" | "id" | "es" | "pt-BR" | "fr" | "de" | "ar";

  /** A message from the business (an agent, a rule, a broadcast) that arrived while the page
   * was open. */
  interface MessageEvent {
    text: string;
    /** The agent's name, if the message has one. */
    from: string | null;
    seq: number;
  }

  /** Events a page can listen to, and what their callbacks get. */
  interface Events {
    /** The chat app has loaded (on intent, a rule, or at once for a returning visitor). */
    ready: undefined;
    open: undefined;
    close: undefined;
    message: MessageEvent;
    /** Unread messages from the business while the panel is closed. */
    unread: number;
    /** A proactive message is shown beside the launcher. */
    teaser: undefined;
  }
  type EventName = keyof Events;

  interface Api {
    /** This loader's version, e.g. `"0.1.0"`. */
    readonly version: string;
    /** The widget's language from now on (before or after it loaded); overrides the site's
     * setting and the browser's. After it loaded, the app is replaced by one in the new
     * language (the conversation, an open panel and `identify` carry on; `ready` is not
     * told again). The same language again changes nothing. */
    setLocale(locale: Locale | string): void;
    /** Forgets the visitor — call it when a person signs out of your site: the widget's
     * storage is cleared, its connection closed, and the next visitor starts afresh. Resolves
     * once that is recorded on this page (at the latest after 2 s, where the browser's
     * IndexedDB is missing or fails), so a next page view forgets too if this one ends first:
     * a logout that navigates waits for it (`await Beckon.shutdown()`); a page that leaves
     * sooner may keep the visitor. */
    shutdown(): Promise<void>;
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
    on<E extends EventName>(event: E, cb: (data: Events[E]) => void): void;
    /** Stops calling `cb` on `event` (every listener of it without `cb`). */
    off<E extends EventName>(event: E, cb?: (data: Events[E]) => void): void;
  }

  /** The queue stub a page may define before the loader runs. */
  interface Stub {
    q: Array<[keyof Api, ...unknown[]]>;
  }
}

interface Window {
  Beckon?: Beckon.Api | Beckon.Stub;
}
