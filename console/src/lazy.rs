//! The rarely used pages, loaded on first use: `beckon-console-pages` (its own wasm, built
//! beside this one into `console/pages/`) is imported the first time one is opened —
//! `boot.js`'s `beckonPages()`, one import however often it is asked — and the page is
//! mounted on `#pages`, beside `#app` and never inside it (two yew apps must not share a DOM
//! subtree: each brands its elements for its own event delegation). While one is shown,
//! `body.paged` gives `#pages` the space below the inbox's bar.

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
    /// `channels`, `rules`, `dashboard`, `people`, `audiences`, `broadcasts` or `contacts`.
    pub page: &'static str,
    pub admin_key: AttrValue,
    pub site: SiteKey,
    pub site_name: AttrValue,
    pub agent_name: AttrValue,
    /// What the page tells the inbox: `("channels", "")`, `("started", conversation id)`.
    pub on_event: Callback<(String, String)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Load {
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

/// Imports the pages (first time only) and mounts `page` on `#pages`: the mounted page's handle.
async fn mount(p: [JsValue; 5], notify: &Function) -> Result<JsValue, JsValue> {
    let module = JsFuture::from(beckon_pages()?).await?;
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
    mount.apply(&JsValue::NULL, &args)
}

fn destroy(handle: &JsValue) {
    if let Ok(f) = Reflect::get(handle, &"destroy".into()).and_then(|f| f.dyn_into::<Function>()) {
        let _ = f.call0(handle);
    }
}

#[function_component]
pub fn LazyPage(p: &LazyPageProps) -> Html {
    let load = use_state(|| Load::Loading);
    let deps = (
        p.page,
        p.admin_key.clone(),
        p.site.clone(),
        p.site_name.clone(),
        p.agent_name.clone(),
    );
    {
        let (load, on_event) = (load.clone(), p.on_event.clone());
        use_effect_with(deps, move |(page, key, site, site_name, agent)| {
            load.set(Load::Loading);
            paged(true);
            let gone = Rc::new(Cell::new(false));
            let mounted: Rc<RefCell<Option<JsValue>>> = Rc::default();
            let notify = Closure::<dyn Fn(String, String)>::new(move |kind, value| {
                on_event.emit((kind, value))
            });
            let args = [
                JsValue::from_str(page),
                JsValue::from_str(key),
                JsValue::from_str(site.as_str()),
                JsValue::from_str(site_name),
                JsValue::from_str(agent),
            ];
            {
                let (gone, mounted) = (gone.clone(), mounted.clone());
                let notify: Function = notify.as_ref().unchecked_ref::<Function>().clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = mount(args, &notify).await;
                    match result {
                        Ok(handle) if gone.get() => destroy(&handle),
                        Ok(handle) => {
                            *mounted.borrow_mut() = Some(handle);
                            load.set(Load::Shown);
                        }
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
                // The page is gone: nothing calls back any more.
                drop(notify);
            }
        });
    }
    match *load {
        Load::Loading => html! { <p class="muted lazy-status" role="status">{ "Loading…" }</p> },
        Load::Failed => html! {
            <p class="error" role="alert">{ "This page could not be loaded. Check the connection and reload the inbox." }</p>
        },
        Load::Shown => html! {},
    }
}
