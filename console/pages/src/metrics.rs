//! Funnel charts, and each proactive rule's card for the dashboard: its funnel (impressions
//! → opens → replies → goals) with conversion rates, goal value and the average
//! first-response time, and a daily chart of impressions and replies.

use beckon_shared::proto::v1::{RuleDay, RuleFunnel};
use yew::prelude::*;

pub(crate) fn day_string(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date()
    )
}

pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

fn seconds(ms: Option<u64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 60_000 => format!("{:.0} s", ms as f64 / 1000.0),
        Some(ms) => format!("{:.1} min", ms as f64 / 60_000.0),
    }
}

/// Named figures in a row of tiles.
pub(crate) fn figures(items: &[(&str, String)]) -> Html {
    html! {
        <dl class="figures">
            { for items.iter().map(|(name, value)| html! { <div><dt>{ *name }</dt><dd>{ value }</dd></div> }) }
        </dl>
    }
}

/// Horizontal funnel bars, scaled to the first step (a rule's impressions, a broadcast's
/// recipients).
pub(crate) fn funnel(steps: &[(&str, u64)]) -> Html {
    let max = steps.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let label = steps
        .iter()
        .map(|(l, v)| format!("{v} {}", l.to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <svg class="funnel" viewBox={format!("0 0 420 {}", steps.len() * 32)} role="img" aria-label={format!("Funnel: {label}")}>
            { for steps.iter().enumerate().map(|(i, (label, n))| {
                let y = (i * 32) as f64;
                let w = (*n as f64 / max * 260.0).max(2.0);
                html! {
                    <g>
                        <text x="0" y={format!("{}", y + 19.0)} class="label">{ *label }</text>
                        <rect x="96" y={format!("{}", y + 4.0)} width={format!("{w:.1}")} height="22" rx="4" class={format!("bar b{}", i.min(3))} />
                        <text x={format!("{:.1}", 102.0 + w)} y={format!("{}", y + 19.0)} class="count">{ n }</text>
                    </g>
                }
            }) }
        </svg>
    }
}

/// Impressions (bars) and replies (dots) per day.
fn daily(days: &[RuleDay]) -> Html {
    if days.is_empty() {
        return html! {};
    }
    let max = days
        .iter()
        .map(|d| d.impressions.max(d.replies))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = 400.0 / days.len() as f64;
    html! {
        <svg class="daily" viewBox="0 0 420 90" role="img" aria-label="Impressions and replies per day">
            { for days.iter().enumerate().map(|(i, d)| {
                let x = 10.0 + i as f64 * step;
                let h = d.impressions as f64 / max * 70.0;
                let r = d.replies as f64 / max * 70.0;
                html! {
                    <g>
                        <title>{ format!("{}: {} impressions, {} replies", d.day, d.impressions, d.replies) }</title>
                        <rect x={format!("{x:.1}")} y={format!("{:.1}", 75.0 - h)} width={format!("{:.1}", (step * 0.7).max(2.0))} height={format!("{h:.1}")} class="bar b0" />
                        <circle cx={format!("{:.1}", x + step * 0.35)} cy={format!("{:.1}", 75.0 - r)} r="3" class="dot" />
                    </g>
                }
            }) }
            <text x="10" y="88" class="label">{ &days[0].day }</text>
            <text x="410" y="88" class="label" text-anchor="end">{ &days[days.len() - 1].day }</text>
        </svg>
    }
}

pub(crate) fn rule_card(f: &RuleFunnel) -> Html {
    let t = &f.totals;
    html! {
        <article class="channel-card metric" aria-labelledby={format!("m-{}", f.rule_id)}>
            <header>
                <h3 id={format!("m-{}", f.rule_id)}>{ if f.name.is_empty() { format!("{} (deleted)", f.rule_id) } else { f.name.clone() } }</h3>
                <span class="badge neutral">{ &f.rule_id }</span>
            </header>
            { funnel(&[("Impressions", t.impressions), ("Opens", t.opens), ("Replies", t.replies), ("Goals", t.goals)]) }
            { figures(&[
                ("Open rate", percent(t.opens, t.impressions)),
                ("Reply rate", percent(t.replies, t.impressions)),
                ("Goals per reply", percent(t.goals, t.replies)),
                ("Goal value", format!("{:.2}", t.goal_value)),
                ("Dismissed", t.dismissals.to_string()),
                ("First response", seconds(t.avg_first_response_ms)),
            ]) }
            { daily(&f.days) }
        </article>
    }
}
