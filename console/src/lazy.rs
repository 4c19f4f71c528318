//! The rarely used pages, loaded on first use: `beckon-console-pages` (its own wasm, built
//! beside this one into `console/pages/`) is imported the first time one is opened —
//! `boot.js`'s `beckonPages()`, one import however often it is asked, tried again after a
//! failure — and the page is mounted in `#pages`, beside `#app` and never inside it (two yew
//! apps must not share a DOM subtree: each brands its elements for its own event
//! delegation). While one is shown, `body.paged` gives `#pages` the space below the inbox's
//! bar. A page left before its module arrived is never mounted.

use crate::kit::Page;
use beckon_shared::SiteKey;
use js_sys::{Function, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The pages' module, imported and started (`boot.js`).
    #[wasm_bindgen(js_namespace = window, js_name = beckonPages, catch)]
    fn beckon_pages() -> Result<Promise, JsValue>;
}

#[derive(Properties, PartialEq)]
pub struct LazyPageProps {
    pub page: Page,
    pub admin_key: AttrValue,
    pub site: SiteKey,
    pub site_name: AttrValue,
    pub agent_name: AttrValue,
    /// What the page tells the inbox: `(kit::CHANNELS_CHANGED, "")`,
    /// `(kit::CONVERSATION_STARTED, conversation id)`.
    pub on_event: Callback<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Load {
    /// Its status region is on the page, still empty (so that "Loading…" is announced).
    Starting,
    Loading,
    Shown,
    Failed,
}

/// `body.paged` on or off (the stylesheet shows `#pages` under the bar while it is on).
fn paged(on: bool) {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.class_list().toggle_with_force("paged", on);
    }
}

/// Imports the pages (first time only) and mounts `page` in `#pages`, unless it is `gone`
/// by then: the mounted page's handle.
async fn mount(
    p: [JsValue; 5],
    notify: &Function,
    gone: &Cell<bool>,
) -> Result<Option<JsValue>, JsValue> {
    let module = JsFuture::from(beckon_pages()?).await?;
    if gone.get() {
        return Ok(None);
    }
    let host = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("pages"))
        .ok_or_else(|| JsValue::from_str("no #pages"))?;
    let mount: Function = Reflect::get(&module, &"mount".into())?.dyn_into()?;
    let args = js_sys::Array::of1(&host);
    for a in p {
        args.push(&a);
    }
    args.push(notify);
    mount.apply(&JsValue::NULL, &args).map(Some)
}

fn destroy(handle: &JsValue) {
    if let Ok(f) = Reflect::get(handle, &"destroy".into()).and_then(|f| f.dyn_into::<Function>()) {
        let _ = f.call0(handle);
    }
}

#[function_component]
pub fn LazyPage(p: &LazyPageProps) -> Html {
    let load = use_state(|| Load::Starting);
    // Asked again by "Try again" after a failed load.
    let attempt = use_state(|| 0u32);
    // What the pages call back, alive as long as this component (a page's save may end after
    // another page replaced it); it calls the newest `on_event`.
    let on_event = use_mut_ref(|| p.on_event.clone());
    *on_event.borrow_mut() = p.on_event.clone();
    let notify = use_memo((), {
        let on_event = on_event.clone();
        move |_| {
            Closure::<dyn Fn(String, String)>::new(move |kind, value| {
                let on_event = on_event.borrow().clone();
                on_event.emit((kind, value))
            })
        }
    });
    let notify: Function = (*notify).as_ref().unchecked_ref::<Function>().clone();
    let deps = (
        p.page,
        p.admin_key.clone(),
        p.site.clone(),
        p.site_name.clone(),
        p.agent_name.clone(),
        *attempt,
    );
    {
        let load = load.clone();
        use_effect_with(deps, move |(page, key, site, site_name, agent, _)| {
            load.set(Load::Loading);
            paged(true);
            let gone = Rc::new(Cell::new(false));
            let mounted: Rc<RefCell<Option<JsValue>>> = Rc::default();
            let args = [
                JsValue::from_str(page.name()),
                JsValue::from_str(key),
                JsValue::from_str(site.as_str()),
                JsValue::from_str(site_name),
                JsValue::from_str(agent),
            ];
            {
                let (gone, mounted) = (gone.clone(), mounted.clone());
                let notify = notify.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match mount(args, &notify, &gone).await {
                        Ok(Some(handle)) => {
                            *mounted.borrow_mut() = Some(handle);
                            load.set(Load::Shown);
                        }
                        Ok(None) => {}
                        Err(_) if gone.get() => {}
                        Err(_) => load.set(Load::Failed),
                    }
                });
            }
            move || {
                gone.set(true);
                if let Some(handle) = mounted.borrow_mut().take() {
                    destroy(&handle);
                }
                paged(false);
            }
        });
    }
    let retry = {
        let attempt = attempt.clone();
        Callback::from(move |_| attempt.set(*attempt + 1))
    };
    html! {
        <>
            <p class="muted lazy-status" role="status">{ if *load == Load::Loading { "Loading…" } else { "" } }</p>
            if *load == Load::Failed {
                <p class="error" role="alert">
                    { "This page could not be loaded. Check the connection, then " }
                    <button type="button" class="linkish" onclick={retry}>{ "try again" }</button>
                    { "." }
                </p>
            }
        </>
    }
}
