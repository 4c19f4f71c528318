//! Sizes the iframe to the teaser on screen: the iframe has no layout until the loader shows
//! it, so it is shown at a default height first, then fitted once laid out (again after
//! images load).

use crate::bridge::{Bridge, ToHost};
use crate::state::{Mode, View};
use yew::prelude::*;

const DEFAULT_HEIGHT: u32 = 200;
/// When to measure the teaser again (ms after it appears).
const MEASURE_AT: [u32; 3] = [60, 400, 1500];
/// Room around the teaser card (shadow, close button).
const MARGIN: u32 = 24;

/// Runs again whenever `view` changes (another teaser, the panel, closed).
#[hook]
pub fn use_teaser_sizing(bridge: &Bridge, showing: bool, view: View) {
    let bridge = bridge.clone();
    use_effect_with(view, move |_| {
        if let Some(root) = crate::app::root_element() {
            let _ = root.class_list().toggle_with_force("teaser-mode", showing);
        }
        let mut timers = Vec::new();
        if showing {
            bridge.post(&ToHost::Mode {
                mode: Mode::Teaser,
                h: Some(DEFAULT_HEIGHT),
            });
            for delay in MEASURE_AT {
                let bridge = bridge.clone();
                timers.push(gloo_timers::callback::Timeout::new(delay, move || {
                    if let Some(h) = teaser_height() {
                        bridge.post(&ToHost::Mode {
                            mode: Mode::Teaser,
                            h: Some(h + MARGIN),
                        });
                    }
                }));
            }
        }
        move || drop(timers)
    });
}

fn teaser_height() -> Option<u32> {
    let el = web_sys::window()?.document()?.get_element_by_id("teaser")?;
    let el = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok()?;
    Some(el.offset_height() as u32).filter(|h| *h > 0)
}
