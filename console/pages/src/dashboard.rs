//! The dashboard (owners): what the site's conversations were and earned over a range of
//! days — started per day by origin, first-response and resolution times in all and per
//! agent, the busiest hours, the visitors' ratings (CSAT), and the funnels of rules and
//! broadcasts. Every chart is SVG drawn here; each part downloads as CSV (made by the edge).

use crate::broadcasts::{admin, n};
use crate::metrics::{day_string, figures, funnel, percent, rule_card};
use beckon_client::api;
use beckon_shared::proto::v1::{RuleFunnel, RATING_LABELS};
use beckon_shared::SiteKey;
use serde_json::Value;
use yew::prelude::*;

/// A duration for people: "–", "42 s", "12.5 min", "3.2 h", "2.1 d".
pub(crate) fn duration(ms: Option<u64>) -> String {
    let Some(ms) = ms else { return "–".into() };
    let s = ms as f64 / 1000.0;
    match s {
        s if s < 60.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.1} min", s / 60.0),
        s if s < 129_600.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} d", s / 86_400.0),
    }
}

/// Conversations started per day, stacked by origin.
const ORIGINS: [(&str, &str); 4] = [
    ("visitor", "Visitors"),
    ("rule", "Rules"),
    ("broadcast", "Broadcasts"),
    ("business", "Business"),
];

fn days_chart(days: &[Value]) -> Html {
    let max = days
        .iter()
        .map(|d| ORIGINS.iter().map(|(k, _)| n(&d[*k])).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = 600.0 / days.len().max(1) as f64;
    let first = days.first().and_then(|d| d["day"].as_str()).unwrap_or("");
    let last = days.last().and_then(|d| d["day"].as_str()).unwrap_or("");
    html! {
        <>
            <svg class="days" viewBox="0 0 620 150" role="img" aria-label="Conversations started per day, by origin">
                { for days.iter().enumerate().map(|(i, d)| {
                    let x = 10.0 + i as f64 * step;
                    let mut y = 130.0;
                    let title = ORIGINS.iter().map(|(k, l)| format!("{} {}", n(&d[*k]), l.to_lowercase())).collect::<Vec<_>>().join(", ");
                    html! {
                        <g>
                            <title>{ format!("{}: {title}", d["day"].as_str().unwrap_or("")) }</title>
                            { for ORIGINS.iter().enumerate().map(|(j, (k, _))| {
                                let h = n(&d[*k]) as f64 / max * 115.0;
                                y -= h;
                                html! { <rect x={format!("{x:.1}")} y={format!("{y:.1}")} width={format!("{:.1}", (step * 0.75).max(1.5))} height={format!("{h:.1}")} class={format!("o{j}")} /> }
                            }) }
                        </g>
                    }
                }) }
                <text x="10" y="146" class="label">{ first }</text>
                <text x="610" y="146" class="label" text-anchor="end">{ last }</text>
                <text x="610" y="12" class="label" text-anchor="end">{ format!("max {max} a day") }</text>
            </svg>
            <ul class="legend">
                { for ORIGINS.iter().enumerate().map(|(j, (k, l))| html! {
                    <li><span class={format!("swatch o{j}")}></span>{ format!("{l}: {}", days.iter().map(|d| n(&d[*k])).sum::<u64>()) }</li>
                }) }
            </ul>
        </>
    }
}

/// Conversations started per weekday and hour: the darker, the busier.
fn hours_chart(hours: &[Value]) -> Html {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let max = hours
        .iter()
        .flat_map(|w| w.as_array().into_iter().flatten().map(n))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    html! {
        <svg class="hours" viewBox="0 0 620 190" role="img" aria-label="Conversations started per weekday and hour">
            { for DAYS.iter().enumerate().map(|(w, name)| html! {
                <g>
                    <text x="0" y={format!("{}", w * 24 + 17)} class="label">{ *name }</text>
                    { for (0..24).map(|h| {
                        let c = n(&hours.get(w).map_or(Value::Null, |d| d[h].clone()));
                        html! {
                            <rect x={format!("{}", 40 + h * 24)} y={format!("{}", w * 24 + 2)} width="22" height="22" rx="3" class="cell" fill-opacity={format!("{:.2}", 0.06 + 0.94 * c as f64 / max)}>
                                <title>{ format!("{name} {h:02}:00: {c}") }</title>
                            </rect>
                        }
                    }) }
                </g>
            }) }
            { for [0, 6, 12, 18, 23].iter().map(|h| html! {
                <text x={format!("{}", 40 + h * 24)} y="186" class="label">{ format!("{h:02}") }</text>
            }) }
        </svg>
    }
}

fn agents_table(d: &Value) -> Html {
    let row = |a: &Value, name: String| {
        let (f, r) = (&a["first_response"], &a["resolution"]);
        html! {
            <tr>
                <th scope="row">{ name }</th>
                <td>{ n(&f["count"]) }</td>
                <td>{ duration(f["median_ms"].as_u64()) }</td>
                <td>{ duration(f["p90_ms"].as_u64()) }</td>
                <td>{ n(&r["count"]) }</td>
                <td>{ duration(r["median_ms"].as_u64()) }</td>
                <td>{ duration(r["p90_ms"].as_u64()) }</td>
                <td>{ a["rating_mean"].as_f64().map_or("–".into(), |m| format!("{m:.1} ({})", n(&a["ratings"]))) }</td>
            </tr>
        }
    };
    html! {
        <div class="table-scroll">
            <table class="agents">
                <thead><tr>
                    <th scope="col">{ "Agent" }</th>
                    <th scope="col">{ "Answered first" }</th><th scope="col">{ "Median" }</th><th scope="col">{ "p90" }</th>
                    <th scope="col">{ "Resolved" }</th><th scope="col">{ "Median" }</th><th scope="col">{ "p90" }</th>
                    <th scope="col">{ "Rating" }</th>
                </tr></thead>
                <tbody>
                    { for d["agents"].as_array().into_iter().flatten().map(|a| {
                        let name = a["agent"].as_str().map_or("Unassigned / unnamed".into(), str::to_owned);
                        row(a, name)
                    }) }
                </tbody>
                <tfoot>{ row(&d["total"], "All".into()) }</tfoot>
            </table>
        </div>
    }
}

/// The share of ratings that are 4 or 5.
fn csat(ratings: &Value) -> String {
    ratings["csat_percent"]
        .as_f64()
        .map_or("–".into(), |p| format!("{p:.0}%"))
}

fn ratings(r: &Value) -> Html {
    let scores: Vec<u64> = r["scores"]
        .as_array()
        .into_iter()
        .flatten()
        .map(n)
        .collect();
    let steps: Vec<(&str, u64)> = RATING_LABELS
        .iter()
        .enumerate()
        .map(|(i, l)| (*l, scores.get(4 - i).copied().unwrap_or(0)))
        .collect();
    html! {
        <>
            { figures(&[
                ("CSAT (4–5 of 5)", csat(r)),
                ("Average", r["mean"].as_f64().map_or("–".into(), |m| format!("{m:.2} / 5"))),
                ("Ratings", n(&r["count"]).to_string()),
            ]) }
            { funnel(&steps) }
            <ul class="comments">
                { for r["comments"].as_array().into_iter().flatten().map(|c| html! {
                    <li>
                        <span class="badge neutral">{ format!("{} / 5", n(&c["score"])) }</span>
                        <q dir="auto">{ c["comment"].as_str().unwrap_or("") }</q>
                        if let Some(a) = c["agent"].as_str() { <span class="meta">{ format!(" — {a}") }</span> }
                    </li>
                }) }
            </ul>
        </>
    }
}

fn broadcast_card(b: &Value) -> Html {
    let f = &b["funnel"];
    html! {
        <article class="channel-card metric">
            <header><h4>{ b["name"].as_str().unwrap_or("") }</h4></header>
            { funnel(&[("Recipients", n(&f["recipients"])), ("Delivered", n(&f["delivered"])), ("Read", n(&f["read"])), ("Replied", n(&f["replied"])), ("Goals", n(&f["goals"]))]) }
            { figures(&[
                ("Reply rate", percent(n(&f["replied"]), n(&f["sent"]))),
                ("Goal value", format!("{:.2}", f["goal_value"].as_f64().unwrap_or(0.0))),
            ]) }
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct DashboardPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

/// The browser's offset from UTC, in minutes east.
fn tz() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

fn input_value(e: &Event) -> String {
    use wasm_bindgen::JsCast;
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

#[function_component]
pub fn DashboardPage(props: &DashboardPageProps) -> Html {
    let range = use_state(|| {
        // Today and the 29 days before it, in the browser's time zone.
        let now = js_sys::Date::now() + f64::from(tz()) * 60_000.0;
        (day_string(now - 29.0 * 86_400_000.0), day_string(now))
    });
    let dash = use_state(|| None::<Result<Value, String>>);
    let csv_error = use_state(|| None::<String>);
    let query = format!("from={}&to={}&tz={}", range.0, range.1, tz());
    // Asked again for another site or range: only the newest answer is shown.
    let loads = crate::newest::use_newest();
    {
        let (dash, key, csv_error) = (dash.clone(), props.admin_key.to_string(), csv_error.clone());
        use_effect_with((props.site.clone(), query.clone()), move |(site, query)| {
            let url = crate::broadcasts::url(site, &format!("dashboard?{query}"));
            let asked = loads.ask();
            dash.set(None);
            csv_error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = admin(&key, "GET", &url, None).await;
                if asked.is_newest() {
                    dash.set(Some(answer.map_err(|e| e.describe())));
                }
            });
        });
    }
    let set = |first: bool| {
        let range = range.clone();
        Callback::from(move |e: Event| {
            let v = input_value(&e);
            if v.len() == 10 {
                let (f, t) = (*range).clone();
                range.set(if first { (v, t) } else { (f, v) });
            }
        })
    };
    let csv = |part: &'static str| {
        let (key, site, query) = (
            props.admin_key.to_string(),
            props.site.clone(),
            query.clone(),
        );
        let csv_error = csv_error.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            let url =
                crate::broadcasts::url(&site, &format!("dashboard?{query}&format=csv&part={part}"));
            let (key, name) = (key.clone(), format!("beckon-{site}-{part}.csv"));
            let csv_error = csv_error.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::call("GET", &url, Some(&key), None).await {
                    Ok((_, text)) => {
                        crate::contacts::download(&name, &text, "text/csv");
                        csv_error.set(None);
                    }
                    Err(e) => {
                        csv_error.set(Some(format!("The CSV could not be made: {}", e.describe())))
                    }
                }
            });
        });
        html! { <button type="button" class="link csv" {onclick}>{ "Download CSV" }</button> }
    };
    let section = |id: &str, title: &str, part: &'static str, body: Html| {
        html! {
            <section class="channel-card metric dash-part" aria-labelledby={format!("d-{id}")}>
                <header><h3 id={format!("d-{id}")}>{ title.to_owned() }</h3>{ csv(part) }</header>
                { body }
            </section>
        }
    };
    html! {
        <section class="settings dash" aria-labelledby="dash-h">
            <h2 id="dash-h">{ "Dashboard" }</h2>
            <p class="lead">{ "What conversations were and earned: who started them, how fast they were answered and resolved, when visitors come, how they rated them, and what rules and broadcasts turned into. Counted in aggregate." }</p>
            <form class="range" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <label>{ "From " }<input type="date" value={range.0.clone()} max={range.1.clone()} onchange={set(true)} /></label>
                <label>{ "To " }<input type="date" value={range.1.clone()} min={range.0.clone()} onchange={set(false)} /></label>
            </form>
            if let Some(e) = &*csv_error { <p class="error" role="alert">{ e }</p> }
            { match &*dash {
                None => html! { <p class="empty">{ "Loading…" }</p> },
                Some(Err(e)) => html! { <p class="error" role="alert">{ e }</p> },
                Some(Ok(d)) => {
                    let days = d["days"].as_array().cloned().unwrap_or_default();
                    let started: u64 = days.iter().map(|x| ORIGINS.iter().map(|(k, _)| n(&x[*k])).sum::<u64>()).sum();
                    let t = &d["total"];
                    let rules: Vec<RuleFunnel> = beckon_shared::json::FromJson::from_json(d["rules"].clone()).unwrap_or_default();
                    html! {
                        <>
                            <div class="totals">{ figures(&[
                                ("Conversations", started.to_string()),
                                ("First response, median", duration(t["first_response"]["median_ms"].as_u64())),
                                ("First response, p90", duration(t["first_response"]["p90_ms"].as_u64())),
                                ("Resolution, median", duration(t["resolution"]["median_ms"].as_u64())),
                                ("Resolution, p90", duration(t["resolution"]["p90_ms"].as_u64())),
                                ("CSAT", csat(&d["ratings"])),
                            ]) }</div>
                            { section("days", "Conversations per day", "days", days_chart(&days)) }
                            { section("agents", "Response and resolution by agent", "agents", agents_table(d)) }
                            { section("hours", "Busiest hours", "hours", hours_chart(d["hours"].as_array().map_or(&[][..], |v| v.as_slice()))) }
                            { section("ratings", "Ratings", "ratings", ratings(&d["ratings"])) }
                            { section("rules", "Proactive rules", "rules", if rules.is_empty() { html! { <p class="empty">{ "No rules yet." }</p> } } else { html! { <>{ for rules.iter().map(rule_card) }</> } }) }
                            { section("broadcasts", "Broadcasts", "broadcasts", match d["broadcasts"].as_array() {
                                Some(b) if !b.is_empty() => html! { <>{ for b.iter().map(broadcast_card) }</> },
                                _ => html! { <p class="empty">{ "No broadcasts in these days." }</p> },
                            }) }
                        </>
                    }
                }
            } }
        </section>
    }
}
