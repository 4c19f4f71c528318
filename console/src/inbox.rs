//! The inbox: pick a site, see its conversations (most recent first, updated live), open one.

use crate::conversation::ConversationPane;
use crate::feed::{Feed, FeedUpdate};
use crate::kit::{Page, CHANNELS_CHANGED, CONVERSATION_STARTED};
use crate::lazy::LazyPage;
use crate::viewers::Viewers;
use crate::visitors::VisitorsPage;
use crate::work::status_now;
use beckon_client::api;
use beckon_shared::proto::v1::{
    ContactChannel, ConversationList, ConversationOrigin, ConversationSummary, InboxEvent,
    OnlineVisitor, Role, Work, WorkStatus,
};
use beckon_shared::{ConversationId, SiteKey};
use std::rc::Rc;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InboxProps {
    pub admin_key: AttrValue,
    pub agent_name: AttrValue,
    pub on_sign_out: Callback<()>,
}

/// The inbox's views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Conversations,
    Visitors,
    Contacts,
    Audiences,
    Broadcasts,
    Rules,
    Metrics,
    Widget,
    Channels,
    People,
}

impl Tab {
    const ALL: [Tab; 10] = [
        Tab::Conversations,
        Tab::Visitors,
        Tab::Contacts,
        Tab::Audiences,
        Tab::Broadcasts,
        Tab::Rules,
        Tab::Metrics,
        Tab::Widget,
        Tab::Channels,
        Tab::People,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Conversations => "Conversations",
            Tab::Visitors => "Online now",
            Tab::Contacts => "Contacts",
            Tab::Audiences => "Audiences",
            Tab::Broadcasts => "Broadcasts",
            Tab::Rules => "Rules",
            Tab::Metrics => "Dashboard",
            Tab::Widget => "Widget",
            Tab::Channels => "Channels",
            Tab::People => "People",
        }
    }

    /// The page loaded on first use (`lazy`) that shows this view; the views of this app
    /// have none.
    fn page(self) -> Option<Page> {
        match self {
            Tab::Contacts => Some(Page::Contacts),
            Tab::Audiences => Some(Page::Audiences),
            Tab::Broadcasts => Some(Page::Broadcasts),
            Tab::Rules => Some(Page::Rules),
            Tab::Metrics => Some(Page::Dashboard),
            Tab::Widget => Some(Page::Widget),
            Tab::Channels => Some(Page::Channels),
            Tab::People => Some(Page::People),
            Tab::Conversations | Tab::Visitors => None,
        }
    }
}

/// A counter that only goes up.
#[derive(Default, PartialEq)]
struct Bumps(u32);

impl Reducible for Bumps {
    type Action = ();
    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Bumps(self.0 + 1))
    }
}

/// Which conversations the list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    Open,
    Mine,
    Unassigned,
    Snoozed,
    Closed,
    All,
}

impl Filter {
    const ALL: [Filter; 6] = [
        Filter::Open,
        Filter::Mine,
        Filter::Unassigned,
        Filter::Snoozed,
        Filter::Closed,
        Filter::All,
    ];

    fn label(self) -> &'static str {
        match self {
            Filter::Open => "Open",
            Filter::Mine => "Mine",
            Filter::Unassigned => "Unassigned",
            Filter::Snoozed => "Snoozed",
            Filter::Closed => "Closed",
            Filter::All => "All",
        }
    }

    /// The list's query.
    fn query(self) -> &'static str {
        match self {
            Filter::Open => "status=open",
            Filter::Mine => "status=open&assignee=me",
            Filter::Unassigned => "status=open&assignee=none",
            Filter::Snoozed => "status=snoozed",
            Filter::Closed => "status=closed",
            Filter::All => "",
        }
    }

    /// Whether `c` belongs in the list at time `now` (`me`: the signed-in person's id).
    fn fits(self, c: &ConversationSummary, me: Option<&str>, now: i64) -> bool {
        let work = c.work.clone().unwrap_or_default();
        let mine = work.assignee.as_ref().map(|a| a.id.as_str());
        let status = status_now(&work, c.last_visitor_at, now);
        let open = status == WorkStatus::Open;
        match self {
            Filter::Open => open,
            Filter::Mine => open && mine.is_some() && mine == me,
            Filter::Unassigned => open && mine.is_none(),
            Filter::Snoozed => status == WorkStatus::Snoozed,
            Filter::Closed => status == WorkStatus::Closed,
            Filter::All => true,
        }
    }
}

/// The list narrowed further by origin, channel and tag (each empty: any).
#[derive(Clone, Default, PartialEq)]
struct Narrow {
    origin: String,
    channel: String,
    tag: String,
}

/// The choices of [`Narrow`]: (value, label).
const ORIGINS: [(&str, &str); 5] = [
    ("", "Any origin"),
    ("visitor", "Visitors"),
    ("rule", "Rules"),
    ("broadcast", "Broadcasts"),
    ("agent", "Business"),
];

impl Narrow {
    fn is_any(&self) -> bool {
        *self == Narrow::default()
    }

    /// The list's query, after the filter's.
    fn query(&self) -> String {
        [
            ("origin", &self.origin),
            ("channel", &self.channel),
            ("tag", &self.tag),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("&{k}={}", js_sys::encode_uri_component(v)))
        .collect()
    }

    /// Whether `c` (from the list or the live feed) belongs in the narrowed list.
    fn fits(&self, c: &ConversationSummary) -> bool {
        let origin = c.origin.kind();
        let tag = self.tag.trim().to_lowercase();
        (self.origin.is_empty() || self.origin == origin)
            && (self.channel.is_empty()
                || self.channel == c.contact.map_or("web", |ch| ch.as_str()))
            && (tag.is_empty() || c.work.as_ref().is_some_and(|w| w.tags.contains(&tag)))
    }
}

#[derive(Clone, Default, PartialEq)]
struct List {
    items: Vec<ConversationSummary>,
    /// Bumped when the feed brought a conversation whose work the list does not know (new to
    /// the list, or opened again): the index has it a moment later.
    stale: u32,
    /// When the first of the site's snoozes ends (the list is asked again then).
    next_snooze_end: Option<i64>,
    /// The words the list answers (empty: not a search). A searched list takes no
    /// conversation from the live feed that the search did not find.
    searched: String,
    /// A conversation the searched list does not hold whose new message (from the feed)
    /// may match, and when: the search is asked again until it is found or `INDEX_LAG_MS`
    /// old (the index writes in batches).
    unsearched: Option<(ConversationId, i64)>,
    live: bool,
    error: Option<String>,
}

/// Conversations the feed brought that the index may not have written yet are kept through
/// a reload for this long.
const INDEX_LAG_MS: i64 = 10_000;

enum ListAction {
    /// The list as loaded (`true`: for another filter than before; nothing else is kept), for
    /// the words searched.
    Replace(ConversationList, bool, String),
    Work(ConversationId, Work),
    Upsert(Box<ConversationSummary>),
    Live(bool),
    Error(String),
}

impl Reducible for List {
    type Action = ListAction;
    fn reduce(self: Rc<Self>, action: ListAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            // The index decides which conversations are listed and their work; what the
            // live feed said since may be newer in messages only. A conversation only the
            // feed has told of (no work yet) stays a while: the index writes in batches.
            ListAction::Replace(loaded, fresh, searched) => {
                let live = std::mem::replace(&mut next.items, loaded.conversations);
                next.next_snooze_end = loaded.next_snooze_end;
                next.searched = searched;
                let searching = !next.searched.is_empty();
                let now = js_sys::Date::now() as i64;
                for s in live.into_iter().filter(|_| !fresh) {
                    match next.items.iter_mut().find(|c| c.id == s.id) {
                        Some(listed)
                            if (s.last_seq, s.agent_read_seq)
                                > (listed.last_seq, listed.agent_read_seq) =>
                        {
                            let (work, matched) = (listed.work.take(), listed.matched.take());
                            *listed = ConversationSummary { work, matched, ..s };
                        }
                        Some(_) => {}
                        None if !searching
                            && s.work.is_none()
                            && now - s.updated_at < INDEX_LAG_MS =>
                        {
                            next.items.push(s);
                            next.stale += 1;
                        }
                        None => {}
                    }
                }
                newest_first(&mut next.items);
                next.error = None;
                next.unsearched = next.unsearched.take().filter(|(id, at)| {
                    !fresh
                        && searching
                        && now - at < INDEX_LAG_MS
                        && !next.items.iter().any(|c| &c.id == id)
                });
                if next.unsearched.is_some() {
                    next.stale += 1;
                }
            }
            ListAction::Upsert(s) => {
                let found = next.items.iter().any(|c| c.id == s.id);
                if !found && !next.searched.is_empty() {
                    // Not listed by the search, but its new message may match: asked again
                    // shortly, and while the index may still be writing it.
                    let body = s.last_message.as_ref().map_or("", |m| m.body.as_str());
                    if may_match(&next.searched, body) {
                        next.unsearched = Some((s.id.clone(), js_sys::Date::now() as i64));
                        next.stale += 1;
                    }
                } else if upsert(&mut next.items, *s) {
                    next.stale += 1;
                }
                newest_first(&mut next.items);
            }
            // It may join or leave this list: asked again shortly (once for many changes).
            ListAction::Work(id, work) => {
                if let Some(c) = next.items.iter_mut().find(|c| c.id == id) {
                    c.work = Some(work);
                }
                next.stale += 1;
            }
            ListAction::Live(live) => next.live = live,
            ListAction::Error(e) => next.error = Some(e),
        }
        Rc::new(next)
    }
}

/// Whether `body` may hold every word of `search` (loosely: each ASCII word somewhere in it,
/// case ignored; a word with other letters is taken to match, as the index folds accents).
fn may_match(search: &str, body: &str) -> bool {
    let body = body.as_bytes();
    search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|w| {
            !w.is_ascii()
                || body
                    .windows(w.len())
                    .any(|b| b.eq_ignore_ascii_case(w.as_bytes()))
        })
}

/// The list's order: the newest activity first.
fn newest_first(items: &mut [ConversationSummary]) {
    items.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
}

/// Keeps the newer of `s` and the listed state of its conversation. A summary from the live
/// feed carries no work: the listed one stays, opened again if the visitor wrote since (as
/// the edge does). Returns whether the list should ask the index again (the work it shows
/// may be out of date).
fn upsert(items: &mut Vec<ConversationSummary>, mut s: ConversationSummary) -> bool {
    let newer = |a: &ConversationSummary, b: &ConversationSummary| {
        (a.last_seq, a.agent_read_seq) > (b.last_seq, b.agent_read_seq)
    };
    match items.iter_mut().find(|c| c.id == s.id) {
        Some(existing) if !newer(&s, existing) => false,
        Some(existing) => {
            let mut reopened = false;
            // What a search found in it stays with it.
            if s.matched.is_none() {
                s.matched = existing.matched.take();
            }
            if s.work.is_none() {
                s.work = existing.work.take();
                // The same rule as the edge's: a visitor message after the status was set.
                if let Some(w) = s.work.as_mut().filter(|w| w.status != WorkStatus::Open) {
                    if s.last_visitor_at.unwrap_or(0) > w.status_at {
                        w.status = WorkStatus::Open;
                        w.snoozed_until = None;
                        reopened = true;
                    }
                }
            }
            *existing = s;
            reopened
        }
        None => {
            let unknown = s.work.is_none();
            items.push(s);
            unknown
        }
    }
}

fn ago(ms: i64) -> String {
    let secs = ((js_sys::Date::now() as i64 - ms) / 1000).max(0);
    match secs {
        0..=59 => "now".into(),
        60..=3599 => format!("{} min", secs / 60),
        3600..=86_399 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// Where the conversation came from and, for a contact's own channel, where it is held.
fn origin_label(c: &ConversationSummary) -> Option<String> {
    let origin = match &c.origin {
        ConversationOrigin::Rule { rule_id } => Some(format!("from rule {rule_id}")),
        ConversationOrigin::Agent { .. } => Some("started by an agent".into()),
        ConversationOrigin::Broadcast { .. } => Some("from a broadcast".into()),
        _ => None,
    };
    let held = c.contact.map(|ch| format!("on {}", ch.label()));
    match (origin, held) {
        (Some(o), Some(h)) => Some(format!("{o} · {h}")),
        (o, h) => o.or(h),
    }
}

/// Who has it and, unless open, where it stands now: "Ana · closed".
fn work_label(c: &ConversationSummary, w: &Work, now: i64) -> String {
    let who = w.assignee.as_ref().map(|a| a.name.as_str());
    let status = status_now(w, c.last_visitor_at, now);
    let status = (status != WorkStatus::Open).then_some(status.as_str());
    who.into_iter()
        .chain(status)
        .collect::<Vec<_>>()
        .join(" · ")
}

fn short_visitor(s: &ConversationSummary) -> String {
    format!("Visitor {}", &s.visitor_id.as_str()[2..8])
}

#[function_component]
pub fn Inbox(props: &InboxProps) -> Html {
    let sites = use_state(Vec::<api::SiteListing>::new);
    let site = use_state(|| None::<SiteKey>);
    let list = use_reducer(List::default);
    let selected = use_state(|| None::<ConversationId>);
    let pinned = use_state(|| None::<ConversationSummary>);
    let tab = use_state(|| Tab::Conversations);
    let online = use_state(Vec::<OnlineVisitor>::new);
    // Colleagues' tabs, and this tab's feed (to say which conversation it shows).
    let viewers = use_state(Viewers::default);
    let feed_now = use_mut_ref(|| None::<Rc<Feed>>);
    let shown = (*tab == Tab::Conversations)
        .then(|| (*selected).clone())
        .flatten();
    let shown_now = use_mut_ref(|| None::<ConversationId>);
    shown_now.borrow_mut().clone_from(&shown);
    let health = use_state(Vec::<String>::new);
    let filter = use_state(|| Filter::Open);
    // The filter as the feed's reloads read it (the feed outlives a change of filter).
    let filter_now = use_mut_ref(|| Filter::Open);
    *filter_now.borrow_mut() = *filter;
    // Words searched for in messages (none: the list as filtered).
    let search = use_state(String::new);
    let search_now = use_mut_ref(String::new);
    search_now.borrow_mut().clone_from(&search);
    let narrow = use_state(Narrow::default);
    let narrow_now = use_mut_ref(Narrow::default);
    narrow_now.borrow_mut().clone_from(&narrow);
    // Bumped by the feed's note events (a reducer: the feed's callback outlives renders).
    let notes_changed = use_reducer(Bumps::default);
    // The signed-in person's id ("Mine", "Me"); none with an admin key.
    let me = use_state(|| None::<String>);
    {
        let (me, key) = (me.clone(), props.admin_key.to_string());
        use_effect_with((), move |_| {
            if key.starts_with(api::SESSION_CREDENTIAL) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok((_, text)) =
                        api::call("GET", "/api/v1/admin/session", Some(&key), None).await
                    {
                        let v = beckon_shared::json::parse(&text).unwrap_or_default();
                        me.set(v["person"]["id"].as_str().map(str::to_owned));
                    }
                });
            }
        });
    }
    // Loads the list for the filter now; `fresh` drops what was listed before.
    // The site as loads read it (a timer set for another site must not load that one), and
    // how many loads were asked for: only the newest answer is applied.
    let site_now = use_mut_ref(|| None::<SiteKey>);
    site_now.borrow_mut().clone_from(&site);
    let loads = crate::newest::use_newest();
    let load = {
        let (list, key) = (list.dispatcher(), props.admin_key.to_string());
        let (site_now, filter_now, loads) = (site_now.clone(), filter_now.clone(), loads.clone());
        let (search_now, narrow_now) = (search_now.clone(), narrow_now.clone());
        Callback::from(move |fresh: bool| {
            let Some(site) = site_now.borrow().clone() else {
                return;
            };
            let (list, key, filter) = (list.clone(), key.clone(), *filter_now.borrow());
            let mut query = filter.query().to_owned();
            query.push_str(&narrow_now.borrow().query());
            let words = search_now.borrow().clone();
            if !words.is_empty() {
                query.push_str(&format!("&q={}", js_sys::encode_uri_component(&words)));
            }
            let asked = loads.ask();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::list_conversations(&key, &site, &query).await;
                if !asked.is_newest() {
                    return;
                }
                match answer {
                    Ok(l) => list.dispatch(ListAction::Replace(l, fresh, words)),
                    Err(f) => list.dispatch(ListAction::Error(f.describe())),
                }
            });
        })
    };
    {
        let load = load.clone();
        let asked = (
            (*site).clone(),
            *filter,
            (*search).clone(),
            (*narrow).clone(),
        );
        use_effect_with(asked, move |_| load.emit(true));
    }
    {
        // After the index's next batch (about a second), what the feed could not say.
        let load = load.clone();
        use_effect_with(list.stale, move |stale| {
            let timer = (*stale > 0)
                .then(|| gloo_timers::callback::Timeout::new(1_500, move || load.emit(false)));
            move || drop(timer)
        });
    }
    let refresh_health = {
        let (health, site, key) = (health.clone(), site.clone(), props.admin_key.to_string());
        Callback::from(move |_: ()| {
            let Some(site) = (*site).clone() else { return };
            let (health, key) = (health.clone(), key.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(list) = api::list_channels(&key, &site).await {
                    health.set(failing(&list).into_iter().map(str::to_owned).collect());
                }
            });
        })
    };
    {
        let refresh_health = refresh_health.clone();
        use_effect_with((*site).clone(), move |_| refresh_health.emit(()));
    }

    {
        let (sites, site, list, key) = (
            sites.clone(),
            site.clone(),
            list.dispatcher(),
            props.admin_key.to_string(),
        );
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::list_sites(&key).await {
                    Ok(all) => {
                        let first = all
                            .iter()
                            .find(|s| s.key.as_str() == "demo")
                            .or(all.first())
                            .map(|s| s.key.clone());
                        sites.set(all);
                        site.set(first);
                    }
                    Err(f) => list.dispatch(ListAction::Error(f.describe())),
                }
            });
        });
    }

    {
        let (list, key) = (list.dispatcher(), props.admin_key.to_string());
        let refresh_health = refresh_health.clone();
        let (online, notes_changed) = (online.clone(), notes_changed.dispatcher());
        let load = load.clone();
        let on_sign_out = props.on_sign_out.clone();
        let (viewers, feed_now, shown_now) = (viewers.clone(), feed_now.clone(), shown_now.clone());
        let name = props.agent_name.to_string();
        use_effect_with((*site).clone(), move |site| {
            // Another site's colleagues are not this one's.
            viewers.set(Viewers::default());
            let feed = site.clone().map(|site| {
                let refresh_health = refresh_health.clone();
                let online = online.clone();
                let (told, shown_now) = (feed_now.clone(), shown_now.clone());
                let on_update = Callback::from(move |u| match u {
                    FeedUpdate::Connected => {
                        list.dispatch(ListAction::Live(true));
                        load.emit(false);
                        refresh_health.emit(());
                        if let Some(feed) = told.borrow().as_ref() {
                            feed.viewing(shown_now.borrow().clone(), false);
                        }
                    }
                    FeedUpdate::Event(InboxEvent::Viewers { you, viewers: all }) => {
                        viewers.set(Viewers { you, all })
                    }
                    // Someone took, closed or snoozed a conversation: it may join or leave
                    // this list.
                    FeedUpdate::Event(InboxEvent::Work {
                        conversation_id,
                        work,
                    }) => {
                        list.dispatch(ListAction::Work(conversation_id, work));
                    }
                    FeedUpdate::Event(InboxEvent::Note { .. }) => notes_changed.dispatch(()),
                    FeedUpdate::Disconnected => {
                        list.dispatch(ListAction::Live(false));
                        viewers.set(Viewers::default());
                    }
                    FeedUpdate::SignedOut => on_sign_out.emit(()),
                    FeedUpdate::Event(InboxEvent::Conversation { summary }) => {
                        list.dispatch(ListAction::Upsert(summary))
                    }
                    FeedUpdate::Event(InboxEvent::Presence { visitors }) => online.set(visitors),
                    FeedUpdate::Event(_) => {}
                });
                let feed = Rc::new(Feed::open(key, name, site, on_update));
                *feed_now.borrow_mut() = Some(feed.clone());
                feed
            });
            move || {
                feed_now.borrow_mut().take();
                drop(feed)
            }
        });
    }
    // Colleagues see which conversation this tab shows, and when its person is writing a
    // reply there (said when they type, at most every 3 s; over after 5 s without typing).
    let typing = use_mut_ref(|| (0.0, None::<gloo_timers::callback::Timeout>));
    {
        let (feed_now, typing) = (feed_now.clone(), typing.clone());
        use_effect_with(shown.clone(), move |shown| {
            *typing.borrow_mut() = (0.0, None);
            if let Some(feed) = feed_now.borrow().as_ref() {
                feed.viewing(shown.clone(), false);
            }
        });
    }
    let on_typing = {
        let (feed_now, shown_now) = (feed_now.clone(), shown_now.clone());
        Callback::from(move |e: InputEvent| {
            let in_composer = e
                .target_dyn_into::<web_sys::Element>()
                .is_some_and(|t| t.closest(".composer").ok().flatten().is_some());
            let Some(feed) = feed_now.borrow().clone().filter(|_| in_composer) else {
                return;
            };
            let shown = shown_now.borrow().clone();
            let now = js_sys::Date::now();
            let mut t = typing.borrow_mut();
            if now - t.0 > 3_000.0 {
                t.0 = now;
                feed.viewing(shown.clone(), true);
            }
            let (typing, feed) = (typing.clone(), feed.clone());
            t.1 = Some(gloo_timers::callback::Timeout::new(5_000, move || {
                typing.borrow_mut().0 = 0.0;
                feed.viewing(shown, false);
            }));
        })
    };

    let on_site = {
        let (site, selected) = (site.clone(), selected.clone());
        Callback::from(move |e: Event| {
            let value = e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value());
            site.set(value.and_then(|v| SiteKey::parse(&v).ok()));
            selected.set(None);
        })
    };
    let now = js_sys::Date::now() as i64;
    {
        // When the first of the site's snoozes ends, the list is asked again.
        let wake = list.next_snooze_end.filter(|t| *t > now);
        let load = load.clone();
        use_effect_with(wake, move |wake| {
            let timer = wake.map(|t| {
                let after = (t - now + 500).clamp(0, i64::from(i32::MAX)) as u32;
                gloo_timers::callback::Timeout::new(after, move || load.emit(false))
            });
            move || drop(timer)
        });
    }
    // A change made here shows at once, whether or not the live feed is up.
    let on_work = {
        let (list, pinned) = (list.dispatcher(), pinned.clone());
        Callback::from(move |(id, work): (ConversationId, Work)| {
            // A conversation opened from the sidebar that the list does not hold keeps up too.
            if let Some(p) = pinned.as_ref().filter(|p| p.id == id) {
                pinned.set(Some(ConversationSummary {
                    work: Some(work.clone()),
                    ..p.clone()
                }));
            }
            list.dispatch(ListAction::Work(id, work))
        })
    };
    // The words, trimmed, when the box's value is committed (Enter, leaving it) — or at once
    // when it is emptied (its clear button).
    let on_search = {
        let search = search.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value());
            search.set(value.unwrap_or_default().trim().to_owned());
        })
    };
    let on_search_input = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| {
            let value = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value());
            if value.is_some_and(|v| v.trim().is_empty()) {
                search.set(String::new());
            }
        })
    };
    // One of the narrowing choices changed: `which` names it.
    let on_narrow = |which: &'static str| {
        let narrow = narrow.clone();
        Callback::from(move |e: Event| {
            let value = crate::kit::input_value(&e);
            let mut n = (*narrow).clone();
            match which {
                "origin" => n.origin = value,
                "channel" => n.channel = value,
                _ => n.tag = value.trim().to_lowercase(),
            }
            narrow.set(n);
        })
    };
    // The tag field emptied (its clear button): the list widens at once.
    let on_tag_input = {
        let narrow = narrow.clone();
        Callback::from(move |e: InputEvent| {
            let value = e
                .target_dyn_into::<web_sys::HtmlInputElement>()
                .map(|i| i.value());
            if value.is_some_and(|v| v.trim().is_empty()) && !narrow.tag.is_empty() {
                narrow.set(Narrow {
                    tag: String::new(),
                    ..(*narrow).clone()
                });
            }
        })
    };
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let value = e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value());
            if let Some(f) = Filter::ALL
                .into_iter()
                .find(|f| Some(f.label()) == value.as_deref())
            {
                filter.set(f);
            }
        })
    };
    let sign_out = props.on_sign_out.reform(|_: MouseEvent| ());
    let site_name = sites
        .iter()
        .find(|s| Some(&s.key) == site.as_ref())
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let current = selected.as_ref().and_then(|id| {
        list.items
            .iter()
            .find(|c| &c.id == id)
            .or_else(|| pinned.as_ref().filter(|c| &c.id == id))
            .cloned()
    });
    // One of the visitor's other conversations, from the sidebar: shown even when the list
    // (its filters, its page) does not hold it.
    let open_other = {
        let (pinned, selected) = (pinned.clone(), selected.clone());
        Callback::from(move |c: ConversationSummary| {
            selected.set(Some(c.id.clone()));
            pinned.set(Some(c));
        })
    };
    // A conversation the business just started (online visitor or contact): open it.
    let open_started = {
        let (tab, selected) = (tab.clone(), selected.clone());
        Callback::from(move |id| {
            selected.set(Some(id));
            tab.set(Tab::Conversations);
        })
    };

    // What a page loaded on first use tells the inbox.
    let on_page_event = {
        let (refresh_health, open_started) = (refresh_health.clone(), open_started.clone());
        Callback::from(move |(kind, value): (String, String)| match kind.as_str() {
            CHANNELS_CHANGED => refresh_health.emit(()),
            CONVERSATION_STARTED => {
                if let Ok(id) = ConversationId::parse(&value) {
                    open_started.emit(id);
                }
            }
            _ => {}
        })
    };

    html! {
        <div class="inbox">
            <header class="bar">
                <strong class="brand">{ "Beckon" }</strong>
                <label class="site-pick">{ "Site " }
                    <select onchange={on_site} aria-label="Site">
                        { for sites.iter().map(|s| html! {
                            <option value={s.key.to_string()} selected={Some(&s.key) == site.as_ref()}>{ format!("{} ({})", s.name, s.key) }</option>
                        }) }
                    </select>
                </label>
                <span class={classes!("live", list.live.then_some("on"))} role="status">{ if list.live { "Live" } else { "Connecting…" } }</span>
                <nav class="views" aria-label="Views">
                    { for Tab::ALL.iter().map(|t| {
                        let label = match t {
                            Tab::Visitors => format!("Online now ({})", online.len()),
                            other => other.label().to_owned(),
                        };
                        let onclick = { let tab = tab.clone(); let t = *t; Callback::from(move |_| tab.set(t)) };
                        html! { <button type="button" aria-pressed={(*tab == *t).to_string()} {onclick}>{ label }</button> }
                    }) }
                </nav>
                if !health.is_empty() {
                    <button type="button" class="alert" onclick={{ let s = tab.clone(); Callback::from(move |_| s.set(Tab::Channels)) }}>
                        { format!("{} relay failing", health.join(", ")) }
                    </button>
                }
                <crate::shortcuts::Shortcuts />
                <button type="button" class="linkish" onclick={sign_out}>{ "Sign out" }</button>
            </header>
            if let Some(e) = &list.error { <p class="error" role="alert">{ e }</p> }
            if *tab != Tab::Conversations {
                if let Some(site) = (*site).clone() {
                    <div class="settings-wrap">
                        { match tab.page() {
                            Some(page) => html! {
                                <LazyPage {page} admin_key={props.admin_key.clone()} {site} site_name={AttrValue::from(site_name.clone())} agent_name={props.agent_name.clone()} on_event={on_page_event.clone()} />
                            },
                            None => html! { <VisitorsPage admin_key={props.admin_key.clone()} agent_name={props.agent_name.clone()} {site} visitors={(*online).clone()} on_started={open_started.clone()} /> },
                        } }
                    </div>
                }
            } else {
            <div class="columns">
                <nav class="list" aria-label="Conversations">
                    <label class="filter">{ "Show " }
                        <select aria-label="Show" onchange={on_filter}>
                            { for Filter::ALL.iter().filter(|f| **f != Filter::Mine || me.is_some()).map(|f| html! {
                                <option value={f.label()} selected={*filter == *f}>{ f.label() }</option>
                            }) }
                        </select>
                    </label>
                    <details class="narrow">
                        <summary>{ if narrow.is_any() { "More filters" } else { "More filters (on)" } }</summary>
                        <select aria-label="Origin" onchange={on_narrow("origin")}>
                            { for ORIGINS.iter().map(|(v, l)| html! { <option value={*v} selected={narrow.origin == *v}>{ *l }</option> }) }
                        </select>
                        <select aria-label="Channel" onchange={on_narrow("channel")}>
                            <option value="" selected={narrow.channel.is_empty()}>{ "Any channel" }</option>
                            <option value="web" selected={narrow.channel == "web"}>{ "Website" }</option>
                            { for ContactChannel::ALL.iter().map(|c| html! { <option value={c.as_str()} selected={narrow.channel == c.as_str()}>{ c.label() }</option> }) }
                        </select>
                        <input type="search" aria-label="Tag" placeholder="Tag" value={narrow.tag.clone()} onchange={on_narrow("tag")} oninput={on_tag_input} />
                    </details>
                    <input type="search" class="search" aria-label="Search messages" placeholder="Search messages" value={(*search).clone()} onchange={on_search} oninput={on_search_input} />
                    if list.items.is_empty() && *filter == Filter::Open && search.is_empty() && narrow.is_any() { <p class="empty">{ "No conversations yet. Open the demo page and say hello." }</p> }
                    if !narrow.is_any() && !list.items.iter().any(|c| narrow.fits(c)) { <p class="empty">{ "No conversation fits these filters." }</p> }
                    if !search.is_empty() && list.searched == *search && !list.items.iter().any(|c| c.matched.is_some()) { <p class="empty">{ "No message holds these words." }</p> }
                    <ul>
                        { for list.items.iter().filter(|c| filter.fits(c, me.as_deref(), now) && narrow.fits(c) && (search.is_empty() || c.matched.is_some())).map(|c| {
                            let id = c.id.clone();
                            let onclick = { let selected = selected.clone(); Callback::from(move |_| selected.set(Some(id.clone()))) };
                            let active = selected.as_ref() == Some(&c.id);
                            let preview = c.matched.clone().or_else(|| c.last_message.as_ref().map(|m| {
                                let who = if m.role == Role::Visitor { "" } else { "You: " };
                                format!("{who}{}", m.body)
                            })).unwrap_or_else(|| "(no messages yet)".into());
                            html! {
                                <li key={c.id.to_string()}>
                                    <button type="button" class={classes!("conv", active.then_some("active"))} {onclick} aria-current={active.then_some("true")}>
                                        <span class="row1">
                                            <span class="who">{ short_visitor(c) }</span>
                                            <span class="when">{ ago(c.updated_at) }</span>
                                        </span>
                                        <span class="preview">{ preview }</span>
                                        if let Some(o) = origin_label(c) { <span class="origin">{ o }</span> }
                                        if let Some(w) = c.work.as_ref().filter(|w| !w.tags.is_empty()) {
                                            <span class="tags-line">{ w.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" ") }</span>
                                        }
                                        if let Some(label) = c.work.as_ref().map(|w| work_label(c, w, now)).filter(|l| !l.is_empty()) {
                                            <span class="assigned">{ label }</span>
                                        }
                                        if let Some(here) = viewers.describe(&c.id) { <span class="viewing">{ here }</span> }
                                        if c.unread > 0 { <span class="unread" aria-label={format!("{} unread", c.unread)}>{ c.unread }</span> }
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                </nav>
                <section class="pane" oninput={on_typing}>
                    if let Some((k, c)) = current.map(|c| (c.id.to_string(), c)) {
                        <p class="colleagues" role="status" aria-live="polite">{ viewers.describe(&c.id).unwrap_or_default() }</p>
                        <ConversationPane key={k} admin_key={props.admin_key.clone()} agent_name={props.agent_name.clone()} summary={c}
                            me={me.as_deref().map(|m| AttrValue::from(m.to_owned()))} notes_changed={notes_changed.0} {on_work}
                            online={Rc::new((*online).clone())} on_open={open_other} />
                    } else {
                        <p class="empty">{ "Select a conversation." }</p>
                    }
                </section>
            </div>
            }
        </div>
    }
}

/// The inbox badge: which enabled channels are failing.
fn failing(channels: &[api::ChannelView]) -> Vec<&'static str> {
    channels
        .iter()
        .filter(|c| c.enabled && c.status == beckon_shared::proto::v1::ChannelStatus::Failing)
        .map(|c| c.kind.label())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::may_match;

    #[test]
    fn a_new_message_may_match_a_search_only_if_it_holds_its_words() {
        assert!(may_match("parcel", "My PARCEL arrived"));
        assert!(may_match("order 7781", "order #7781 is late"));
        assert!(may_match("parc", "parcels"), "the last word as a prefix");
        assert!(!may_match("parcel jakarta", "my parcel"), "every word");
        assert!(!may_match("refund", "Thanks!"));
        assert!(
            may_match("São", "sao paulo"),
            "accents are the index's to fold"
        );
    }
}
