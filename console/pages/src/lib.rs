//! The inbox's rarely used pages — channels, rules, dashboard, the widget's look, people,
//! audiences, broadcasts, contacts — as their own wasm app, so the inbox an agent opens every day does not carry
//! them. The inbox (`beckon-console`'s `lazy`) imports this module the first time one of them
//! is opened and calls [`mount`] with the page, the credential and the site; a page's events
//! for the inbox (a channel changed, a conversation started) go back through `notify`.
//!
//! It is mounted in `#pages`, outside the inbox's `#app`: two yew apps must not share a DOM
//! subtree (each brands its elements for its own event delegation).

mod audiences;
mod broadcasts;
mod channels;
mod contacts;
mod dashboard;
mod data_requests;
mod look;
mod metrics;
mod people;
mod rules;

use beckon_console::kit::{Page as Kind, CHANNELS_CHANGED, CONVERSATION_STARTED};
use beckon_console::{newest, write_first};
use beckon_shared::{ConversationId, SiteKey};
use wasm_bindgen::prelude::*;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
struct PageProps {
    page: Kind,
    admin_key: AttrValue,
    site: SiteKey,
    site_name: AttrValue,
    agent_name: AttrValue,
    notify: Callback<(&'static str, String)>,
}

#[function_component]
fn Page(p: &PageProps) -> Html {
    let (admin_key, site) = (p.admin_key.clone(), p.site.clone());
    let notify = p.notify.clone();
    match p.page {
        Kind::Channels => {
            let on_change =
                Callback::from(move |()| notify.emit((CHANNELS_CHANGED, String::new())));
            html! { <channels::ChannelsPage {admin_key} {site} {on_change} /> }
        }
        Kind::Rules => {
            html! { <rules::RulesPage {admin_key} site_name={p.site_name.clone()} {site} /> }
        }
        Kind::Dashboard => html! { <dashboard::DashboardPage {admin_key} {site} /> },
        Kind::People => html! { <people::PeoplePage {admin_key} {site} /> },
        Kind::Widget => html! { <look::LookPage {admin_key} {site} /> },
        Kind::Audiences => html! { <audiences::AudiencesPage {admin_key} {site} /> },
        Kind::Broadcasts => html! { <broadcasts::BroadcastsPage {admin_key} {site} /> },
        Kind::Contacts => {
            let on_started = Callback::from(move |id: ConversationId| {
                notify.emit((CONVERSATION_STARTED, id.to_string()))
            });
            html! { <contacts::ContactsPage {admin_key} agent_name={p.agent_name.clone()} {site} {on_started} /> }
        }
    }
}

/// A page mounted by [`mount`]; `destroy` takes it off the page.
#[wasm_bindgen]
pub struct Mounted {
    app: yew::AppHandle<Page>,
    /// The page's own element in the host (gone at once, whatever yew still has queued).
    root: web_sys::Element,
}

#[wasm_bindgen]
impl Mounted {
    pub fn destroy(self) {
        self.app.destroy();
        self.root.remove();
    }
}

/// Renders `page` into a new element in `host` for `site`, signed in with `admin_key`. `notify(kind, value)`
/// tells the inbox what it must know: `(CHANNELS_CHANGED, "")` after a channel changed,
/// `(CONVERSATION_STARTED, conversation id)` after the business started a conversation.
#[wasm_bindgen]
pub fn mount(
    host: web_sys::Element,
    page: String,
    admin_key: String,
    site: String,
    site_name: String,
    agent_name: String,
    notify: js_sys::Function,
) -> Result<Mounted, JsError> {
    let page = Kind::parse(&page).ok_or_else(|| JsError::new("no such page"))?;
    let site = SiteKey::parse(&site).map_err(|e| JsError::new(&e.to_string()))?;
    let notify = Callback::from(move |(kind, value): (&'static str, String)| {
        let _ = notify.call2(
            &JsValue::NULL,
            &JsValue::from_str(kind),
            &JsValue::from_str(&value),
        );
    });
    let props = PageProps {
        page,
        admin_key: admin_key.into(),
        site,
        site_name: site_name.into(),
        agent_name: agent_name.into(),
        notify,
    };
    let root = host
        .owner_document()
        .ok_or_else(|| JsError::new("no document"))?
        .create_element("div")
        .map_err(|_| JsError::new("no element"))?;
    host.append_child(&root)
        .map_err(|_| JsError::new("not added"))?;
    let app = yew::Renderer::<Page>::with_root_and_props(root.clone(), props).render();
    Ok(Mounted { app, root })
}
