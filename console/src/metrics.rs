//! Metrics: what each proactive rule turned into over the last 30 days — a funnel chart
//! (impressions → opens → replies → goals) with conversion rates, goal value and the average
//! first-response time, and a daily chart of impressions and replies.

use beckon_client::api;
use beckon_shared::proto::v1::{MetricsReport, RuleDay, RuleFunnel};
use beckon_shared::SiteKey;
use yew::prelude::*;

fn day_string(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:04}-{:02}-{:02}",
        d.get_utc_full_year(),
        d.get_utc_month() + 1,
        d.get_utc_date()
    )
}

fn percent(part: u64, whole: u64) -> String {
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

fn rule_card(f: &RuleFunnel) -> Html {
    let t = &f.totals;
    html! {
        <article class="channel-card metric" aria-labelledby={format!("m-{}", f.rule_id)}>
            <header>
                <h3 id={format!("m-{}", f.rule_id)}>{ if f.name.is_empty() { format!("{} (deleted)", f.rule_id) } else { f.name.clone() } }</h3>
                <span class="badge neutral">{ &f.rule_id }</span>
            </header>
            { funnel(&[("Impressions", t.impressions), ("Opens", t.opens), ("Replies", t.replies), ("Goals", t.goals)]) }
            <dl class="figures">
                <div><dt>{ "Open rate" }</dt><dd>{ percent(t.opens, t.impressions) }</dd></div>
                <div><dt>{ "Reply rate" }</dt><dd>{ percent(t.replies, t.impressions) }</dd></div>
                <div><dt>{ "Goals per reply" }</dt><dd>{ percent(t.goals, t.replies) }</dd></div>
                <div><dt>{ "Goal value" }</dt><dd>{ format!("{:.2}", t.goal_value) }</dd></div>
                <div><dt>{ "Dismissed" }</dt><dd>{ t.dismissals }</dd></div>
                <div><dt>{ "First response" }</dt><dd>{ seconds(t.avg_first_response_ms) }</dd></div>
            </dl>
            { daily(&f.days) }
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct MetricsPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

#[function_component]
pub fn MetricsPage(props: &MetricsPageProps) -> Html {
    let report = use_state(|| None::<Result<MetricsReport, String>>);
    {
        let (report, key) = (report.clone(), props.admin_key.to_string());
        use_effect_with(props.site.clone(), move |site| {
            let site = site.clone();
            let now = js_sys::Date::now();
            let (from, to) = (day_string(now - 29.0 * 86_400_000.0), day_string(now));
            wasm_bindgen_futures::spawn_local(async move {
                report.set(Some(
                    api::metrics(&key, &site, &from, &to)
                        .await
                        .map_err(|f| f.describe()),
                ));
            });
        });
    }
    html! {
        <section class="settings" aria-labelledby="metrics-h">
            <h2 id="metrics-h">{ "Metrics" }</h2>
            <p class="lead">{ "What each rule turned into: impressions, opens, replies, goals (Beckon.track) and how fast agents answered. Counted in aggregate: nothing identifies visitors who did not chat." }</p>
            { match &*report {
                None => html! { <p class="empty">{ "Loading…" }</p> },
                Some(Err(e)) => html! { <p class="error" role="alert">{ e }</p> },
                Some(Ok(r)) if r.rules.is_empty() => html! { <p class="empty">{ "No rules yet: create one under Rules." }</p> },
                Some(Ok(r)) => html! {
                    <>
                        <p class="meta">{ format!("{} to {}", r.from, r.to) }</p>
                        { for r.rules.iter().map(rule_card) }
                    </>
                },
            } }
        </section>
    }
}
