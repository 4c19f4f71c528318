//! Who gets a broadcast where and when, from contact records (pure): the first channel of the
//! broadcast's preference on which a contact is reachable and consented, their text with
//! their variables filled, and — for a local-time schedule — the moment it is 10:00 (say)
//! where they are.

use super::import::Fields;
use super::vars::Text;
use crate::channels::whatsapp::numbers::person_key;
use beckon_shared::proto::v1::{Audience, AudienceCount, BroadcastChannel, Reach};
use beckon_shared::rules::tz::{civil_from_days, days_from_civil, Zone};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::unionfind::UnionFind;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// How long before Meta's window closes a broadcast stops counting on it.
pub const WINDOW_MARGIN_MS: i64 = 10 * 60_000;

/// A contact record as the planner sees it: its fields and where it can be reached.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contact {
    pub id: String,
    pub fields: Fields,
    /// Their latest conversation in the widget, if they ever chatted there.
    pub web_conversation: Option<String>,
    pub telegram_chat: Option<String>,
    /// Their Messenger and Instagram ids while Meta's 24-hour window is open, with the moment
    /// it closes (ms).
    pub messenger: Option<(String, i64)>,
    pub instagram: Option<(String, i64)>,
    /// Consent per channel address, where one is recorded: `true` in, `false` out (a claimed
    /// phone or email has its address's opt-out, never its opt-in).
    pub consent: HashMap<BroadcastChannel, bool>,
}

impl Contact {
    /// A variable's value: the record's fields, then its custom attributes.
    pub fn value(&self, name: &str) -> Option<String> {
        let f = &self.fields;
        match name {
            "first_name" => f
                .name
                .as_deref()
                .and_then(|n| n.split_whitespace().next())
                .map(str::to_owned),
            "name" => f.name.clone(),
            "last_name" => f
                .name
                .as_deref()
                .and_then(|n| n.split_whitespace().nth(1).map(|_| n))
                .and_then(|n| n.split_whitespace().last())
                .map(str::to_owned),
            "email" => f.email.clone(),
            "phone" => f.phone.clone(),
            "language" => f.language.clone(),
            other => f.attributes.get(other).cloned(),
        }
    }

    /// Whether they said stop on any of their addresses: then no broadcast reaches them, on
    /// any channel.
    pub fn opted_out(&self) -> bool {
        self.consent.values().any(|c| !c)
    }

    /// Whether they opted in on `channel` (an import, START).
    pub fn opted_in(&self, channel: BroadcastChannel) -> bool {
        self.consent.get(&channel) == Some(&true)
    }

    /// Their address on `channel` if the business may send them a broadcast there: WhatsApp
    /// and email need a recorded opt-in; Telegram that they started the bot; the web that
    /// they chatted in the widget; Messenger and Instagram that they wrote within 24 hours.
    pub fn reachable(&self, channel: BroadcastChannel) -> Option<&str> {
        match channel {
            BroadcastChannel::Whatsapp => self
                .fields
                .phone
                .as_deref()
                .filter(|_| self.opted_in(channel)),
            BroadcastChannel::Telegram => self.telegram_chat.as_deref(),
            BroadcastChannel::Web => self.web_conversation.as_ref().map(|_| self.id.as_str()),
            BroadcastChannel::Email => self
                .fields
                .email
                .as_deref()
                .filter(|_| self.opted_in(channel)),
            BroadcastChannel::Messenger => self.messenger.as_ref().map(|(id, _)| id.as_str()),
            BroadcastChannel::Instagram => self.instagram.as_ref().map(|(id, _)| id.as_str()),
        }
    }

    /// Their address on `channel` for a message due at `at` (ms): Meta's window must still be
    /// open then, with [`WINDOW_MARGIN_MS`] to spare for the queue and the pace (else the next
    /// channel of the preference reaches them).
    pub fn reachable_at(&self, channel: BroadcastChannel, at: i64) -> Option<&str> {
        let window = match channel {
            BroadcastChannel::Messenger => &self.messenger,
            BroadcastChannel::Instagram => &self.instagram,
            _ => return self.reachable(channel),
        };
        window
            .as_ref()
            .filter(|(_, closes)| at + WINDOW_MARGIN_MS < *closes)
            .map(|(id, _)| id.as_str())
    }
}

/// One recipient of a broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub contact_id: String,
    pub channel: BroadcastChannel,
    pub address: String,
    pub body: String,
    /// WhatsApp template body parameters.
    pub parameters: Vec<String>,
    pub due_at: i64,
}

/// A broadcast's texts and schedule, parsed.
pub struct Plan<'a> {
    pub channels: &'a [BroadcastChannel],
    pub text: &'a Text,
    pub parameters: &'a [Text],
    pub send_at: i64,
    /// Minutes after local midnight, for a local-time schedule.
    pub local_minute: Option<u32>,
    /// Local quiet hours, minutes after midnight from and to.
    pub quiet: Option<(u32, u32)>,
}

/// Why a broadcast cannot be planned as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingValue {
    pub variable: String,
    pub contact_id: String,
    /// How many recipients lack it.
    pub recipients: u32,
}

/// Everyone of `contacts` who gets the broadcast, once per person ([`one_per_person`]), and
/// the count by channel; or the first variable some recipient lacks. `stopped`: the site's
/// records that opted out, in the audience or not — their person gets nothing — counted only
/// if they are in it.
pub fn recipients(
    plan: &Plan,
    contacts: &[Contact],
    stopped: &[Contact],
) -> Result<(Vec<Recipient>, AudienceCount), MissingValue> {
    let mut count = AudienceCount::default();
    let mut chosen = Vec::new();
    let ids: HashSet<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
    let outside = stopped.iter().filter(|c| !ids.contains(c.id.as_str()));
    for (c, counted) in contacts
        .iter()
        .map(|c| (c, true))
        .chain(outside.map(|c| (c, false)))
    {
        if c.opted_out() {
            // (Still one of a person's records: their stop holds for the others.)
            chosen.push(Choice {
                contact: c,
                to: None,
                due_at: 0,
                counted,
            });
            continue;
        }
        if !counted {
            continue;
        }
        let zone = c.fields.time_zone.as_deref();
        let mut due_at = match plan.local_minute {
            Some(minute) => local_due(plan.send_at, minute, zone),
            None => plan.send_at,
        };
        if let Some((from, to)) = plan.quiet {
            due_at = after_quiet(due_at, (from, to), zone);
        }
        match plan
            .channels
            .iter()
            .find_map(|ch| c.reachable_at(*ch, due_at).map(|a| (*ch, a)))
        {
            Some(to) => chosen.push(Choice {
                contact: c,
                to: Some(to),
                due_at,
                counted,
            }),
            None => count.unreachable += 1,
        }
    }
    let mut out = Vec::new();
    let mut missing: Option<MissingValue> = None;
    for (choice, fate) in chosen.iter().zip(one_per_person(plan.channels, &chosen)) {
        let (c, (channel, address)) = match (fate, choice.to) {
            (Fate::Send, Some(to)) => (choice.contact, to),
            (Fate::Stopped, _) | (_, None) => {
                count.opted_out += u32::from(choice.counted);
                continue;
            }
            _ => continue,
        };
        let rendered = plan.text.render(|n| c.value(n)).and_then(|body| {
            let parameters = match channel {
                BroadcastChannel::Whatsapp => plan
                    .parameters
                    .iter()
                    .map(|p| p.render(|n| c.value(n)))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => Vec::new(),
            };
            Ok((body, parameters))
        });
        let (body, parameters) = match rendered {
            Ok(r) => r,
            Err(variable) => {
                let m = missing.get_or_insert(MissingValue {
                    variable,
                    contact_id: c.id.clone(),
                    recipients: 0,
                });
                m.recipients += 1;
                continue;
            }
        };
        *count.channels.on(channel) += 1;
        out.push(Recipient {
            contact_id: c.id.clone(),
            channel,
            address: address.to_owned(),
            body,
            parameters,
            due_at: choice.due_at,
        });
    }
    match missing {
        Some(m) => Err(m),
        None => Ok((out, count)),
    }
}

/// One record: where it would get the broadcast (the first channel of the preference on which
/// it is reachable and consented, at `due_at`), or nowhere: it opted out. `counted`: in the
/// audience (else one of the site's stopped records, there for its person).
struct Choice<'c> {
    contact: &'c Contact,
    to: Option<(BroadcastChannel, &'c str)>,
    due_at: i64,
    counted: bool,
}

/// An address that makes two records one person's: a channel and the address on it, in the
/// form [`same_address`] gives.
type PersonKey = (BroadcastChannel, String);

impl Choice<'_> {
    /// The addresses the record holds, each with whether it is its own (else only claimed):
    /// where the broadcast reaches it, its phone (as a WhatsApp number) and its email.
    fn keys(&self) -> impl Iterator<Item = (PersonKey, bool)> + '_ {
        use BroadcastChannel::{Email, Whatsapp};
        let f = &self.contact.fields;
        let reached = self.to.map(|(ch, a)| ((ch, same_address(ch, a)), true));
        let phone = f.phone.as_deref();
        let phone = phone.map(|p| ((Whatsapp, same_address(Whatsapp, p)), !f.phone_claimed));
        let email = f.email.as_deref();
        let email = email.map(|m| ((Email, same_address(Email, m)), !f.email_claimed));
        reached.into_iter().chain(phone).chain(email)
    }
}

/// What becomes of one record of the audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Send,
    /// Another record of the same person gets it.
    Another,
    /// The person said stop (or muted) on one of their records.
    Stopped,
}

/// What becomes of each of `chosen`: one message per person.
///
/// - Records are one person when they share an address they hold as their own: the one the
///   broadcast reaches them at (a WhatsApp number in either of its forms, a Telegram chat…),
///   or a phone or email the business or a channel gave. That person gets it once, on the
///   channel first in the preference (then the first record in order) — nothing if any of
///   their records opted out.
/// - A phone or email a visitor typed into the widget is only claimed
///   ([`Fields::phone_claimed`]) and proves nothing. A person one of whose records claims an
///   address another person of the audience holds as their own is taken to be that person,
///   and gets it only through them (in a chain, through the last; people claiming each
///   other's addresses in a ring are one, sent once). So a claim can neither take someone's
///   message nor bring it to them twice, whatever the order of the records.
fn one_per_person(channels: &[BroadcastChannel], chosen: &[Choice]) -> Vec<Fate> {
    let rank = |i: usize| {
        let channel = chosen[i].to.map(|(ch, _)| ch);
        let position = channels.iter().position(|c| Some(*c) == channel);
        (position.unwrap_or(usize::MAX), i)
    };
    // People: records joined by the addresses they hold as their own.
    let mut same = UnionFind::<usize>::new(chosen.len());
    let mut owner: HashMap<PersonKey, usize> = HashMap::new();
    for (i, c) in chosen.iter().enumerate() {
        for (key, _) in c.keys().filter(|(_, own)| *own) {
            match owner.entry(key) {
                Entry::Occupied(o) => {
                    same.union(i, *o.get());
                }
                Entry::Vacant(v) => {
                    v.insert(i);
                }
            }
        }
    }
    let person: Vec<usize> = (0..chosen.len()).map(|i| same.find_mut(i)).collect();
    let mut records: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, p) in person.iter().enumerate() {
        records.entry(*p).or_default().push(i);
    }
    // Claims between people: an edge to whom a record of theirs claims to be.
    let mut claims = DiGraph::<usize, ()>::new();
    let node: HashMap<usize, NodeIndex> =
        records.keys().map(|p| (*p, claims.add_node(*p))).collect();
    for (i, c) in chosen.iter().enumerate() {
        for (key, _) in c.keys().filter(|(_, own)| !own) {
            match owner.get(&key).map(|j| person[*j]) {
                Some(them) if them != person[i] => {
                    claims.update_edge(node[&person[i]], node[&them], ());
                }
                _ => {}
            }
        }
    }
    // Those who claim nobody outside their ring get it once, on their best record.
    let rings = kosaraju_scc(&claims);
    let mut ring_of = vec![0; claims.node_count()];
    for (k, ring) in rings.iter().enumerate() {
        ring.iter().for_each(|n| ring_of[n.index()] = k);
    }
    let mut fate = vec![Fate::Another; chosen.len()];
    for (k, ring) in rings.iter().enumerate() {
        let leaves = |n: &NodeIndex| claims.neighbors(*n).any(|m| ring_of[m.index()] != k);
        if ring.iter().any(leaves) {
            continue;
        }
        let theirs: Vec<usize> = ring
            .iter()
            .flat_map(|n| &records[&claims[*n]])
            .copied()
            .collect();
        if theirs.iter().any(|i| chosen[*i].to.is_none()) {
            theirs.iter().for_each(|i| fate[*i] = Fate::Stopped);
        } else if let Some(best) = theirs.into_iter().min_by_key(|i| rank(*i)) {
            fate[best] = Fate::Send;
        }
    }
    fate
}

/// What makes two addresses on `channel` one person's: a WhatsApp number is the same person
/// in either of its forms (Brazil's ninth digit, Mexico's 1), so two records holding one each
/// are one recipient; an email address in any case; any other address is itself.
fn same_address(channel: BroadcastChannel, address: &str) -> String {
    match channel {
        BroadcastChannel::Whatsapp => person_key(address),
        BroadcastChannel::Email => address.to_ascii_lowercase(),
        _ => address.to_owned(),
    }
}

/// Why `audience` is not a filter we take, if it is not.
pub fn check_filter(a: &Audience) -> Result<(), String> {
    use super::import::{MAX_ATTRIBUTES, MAX_ATTRIBUTE_CHARS, MAX_TAGS, MAX_TAG_CHARS};
    let line = |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
    if a.tags.len() > MAX_TAGS || !a.tags.iter().all(|t| line(t, MAX_TAG_CHARS)) {
        return Err(format!(
            "audience.tags: at most {MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters each"
        ));
    }
    let tag = |l: &str| l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if a.language.as_deref().is_some_and(|l| !tag(l.trim())) {
        return Err("audience.language must be a language tag like pt or pt-BR".into());
    }
    if a.attributes.len() > MAX_ATTRIBUTES
        || !a
            .attributes
            .iter()
            .all(|(k, v)| !k.is_empty() && line(k, 60) && line(v, MAX_ATTRIBUTE_CHARS))
    {
        return Err(format!(
            "audience.attributes: at most {MAX_ATTRIBUTES} custom fields, each a name and one line of at most {MAX_ATTRIBUTE_CHARS} characters"
        ));
    }
    Ok(())
}

/// Whether a contact passes the filters of `audience` that the database does not apply:
/// custom fields, and a channel they can be reached on.
pub fn matches(audience: &Audience, c: &Contact) -> bool {
    audience
        .attributes
        .iter()
        .all(|(k, v)| c.fields.attributes.get(k) == Some(v))
        && (audience.reachable_on.is_empty()
            || !c.opted_out()
                && audience
                    .reachable_on
                    .iter()
                    .any(|ch| c.reachable(*ch).is_some()))
}

/// Who `contacts` are and where each can be reached (one person may count on several
/// channels).
pub fn reach(contacts: &[Contact]) -> Reach {
    let mut r = Reach::default();
    for c in contacts {
        r.contacts += 1;
        if c.opted_out() {
            r.opted_out += 1;
            continue;
        }
        let mut anywhere = false;
        for ch in BroadcastChannel::ALL {
            if c.reachable(ch).is_some() {
                *r.channels.on(ch) += 1;
                anywhere = true;
            }
        }
        r.unreachable += u32::from(!anywhere);
    }
    r
}

/// `due` (ms), or — when it falls inside the quiet hours `from`..`to` (minutes after local
/// midnight, across midnight when `from` > `to`) in `zone` — the moment they end there.
pub fn after_quiet(due: i64, (from, to): (u32, u32), zone: Option<&str>) -> i64 {
    let offset = zone
        .and_then(Zone::parse)
        .map_or(0, |z| z.offset_at(due.div_euclid(1000)));
    let minute = ((due.div_euclid(1000) + offset).rem_euclid(86_400) / 60) as u32;
    let quiet = if from < to {
        (from..to).contains(&minute)
    } else {
        minute >= from || minute < to
    };
    if quiet {
        local_due(due, to, zone)
    } else {
        due
    }
}

/// `HH:MM` → minutes after midnight.
pub fn parse_local_time(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

/// The first moment at or after `not_before` (ms) when it is `minute` past local midnight in
/// `zone` (UTC when unknown).
pub fn local_due(not_before: i64, minute: u32, zone: Option<&str>) -> i64 {
    let zone = zone.and_then(Zone::parse);
    let offset = |utc_secs: i64| zone.as_ref().map_or(0, |z| z.offset_at(utc_secs));
    let secs = not_before.div_euclid(1000);
    let local_day = (secs + offset(secs)).div_euclid(86_400);
    for day in local_day..local_day + 3 {
        let (y, m, d) = civil_from_days(day);
        let local = days_from_civil(y, m, d) * 86_400 + i64::from(minute) * 60;
        let utc = zone.as_ref().map_or(local, |z| z.utc_of_local(local));
        if utc * 1000 >= not_before {
            return utc * 1000;
        }
    }
    not_before
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::ChannelCounts;

    fn contact(id: &str) -> Contact {
        Contact {
            id: id.into(),
            fields: Fields {
                name: Some(format!("{id} Example")),
                ..Fields::default()
            },
            ..Contact::default()
        }
    }

    fn said(channel: BroadcastChannel, consent: bool) -> HashMap<BroadcastChannel, bool> {
        HashMap::from([(channel, consent)])
    }

    fn with_phone(mut c: Contact, phone: &str) -> Contact {
        c.fields.phone = Some(phone.into());
        c
    }

    const ALL: [BroadcastChannel; 3] = [
        BroadcastChannel::Whatsapp,
        BroadcastChannel::Telegram,
        BroadcastChannel::Web,
    ];

    #[test]
    fn first_reachable_channel_once_per_address_and_never_to_who_said_stop() {
        let text = Text::parse("Hi {{first_name}}").unwrap();
        let params = [Text::parse("{{first_name|friend}}").unwrap()];
        let plan = Plan {
            channels: &ALL,
            text: &text,
            parameters: &params,
            send_at: 1_000,
            local_minute: None,
            quiet: None,
        };
        let everywhere = Contact {
            consent: said(BroadcastChannel::Whatsapp, true),
            telegram_chat: Some("77".into()),
            web_conversation: Some("c1".into()),
            ..with_phone(contact("Ana"), "4915100000001")
        };
        let no_opt_in = Contact {
            telegram_chat: Some("78".into()),
            ..with_phone(contact("Bo"), "4915100000002")
        };
        let same_number = Contact {
            id: "Ana2".into(),
            ..everywhere.clone()
        };
        // (Someone else: a record sharing Bo's chat or number would be Bo, and stop him too.)
        let stopped = Contact {
            consent: said(BroadcastChannel::Telegram, false),
            telegram_chat: Some("79".into()),
            ..with_phone(contact("Ed"), "4915100000009")
        };
        let web_only = Contact {
            web_conversation: Some("c9".into()),
            ..contact("Cy")
        };
        let nowhere = contact("Di");
        let (list, count) = recipients(
            &plan,
            &[
                everywhere,
                no_opt_in,
                same_number,
                stopped,
                web_only,
                nowhere,
            ],
            &[],
        )
        .unwrap();
        let got: Vec<_> = list
            .iter()
            .map(|r| (r.contact_id.as_str(), r.channel, r.address.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Ana", BroadcastChannel::Whatsapp, "4915100000001"),
                ("Bo", BroadcastChannel::Telegram, "78"),
                ("Cy", BroadcastChannel::Web, "Cy"),
            ]
        );
        assert_eq!(list[0].body, "Hi Ana");
        assert_eq!(list[0].parameters, vec!["Ana".to_owned()]);
        assert!(
            list[1].parameters.is_empty(),
            "only WhatsApp has parameters"
        );
        assert_eq!(
            count,
            AudienceCount {
                channels: ChannelCounts {
                    web: 1,
                    telegram: 1,
                    whatsapp: 1,
                    ..ChannelCounts::default()
                },
                unreachable: 1,
                opted_out: 1
            }
        );
    }

    #[test]
    fn one_whatsapp_number_in_both_its_forms_is_one_recipient() {
        let text = Text::parse("Hi").unwrap();
        let plan = Plan {
            channels: &ALL,
            text: &text,
            parameters: &[],
            send_at: 1_000,
            local_minute: None,
            quiet: None,
        };
        let on_whatsapp = |id: &str, phone: &str| Contact {
            consent: said(BroadcastChannel::Whatsapp, true),
            telegram_chat: Some(format!("tg-{id}")),
            ..with_phone(contact(id), phone)
        };
        let (list, count) = recipients(
            &plan,
            &[
                // Brazil, with and without the ninth digit; Mexico, with and without the 1.
                on_whatsapp("br9", "5511987654321"),
                on_whatsapp("br8", "551187654321"),
                on_whatsapp("mx1", "5215512345678"),
                on_whatsapp("mx", "525512345678"),
                // Numbers with one form only stay apart.
                on_whatsapp("de1", "4915100000001"),
                on_whatsapp("de2", "4915100000002"),
            ],
            &[],
        )
        .unwrap();
        let got: Vec<_> = list
            .iter()
            .map(|r| (r.contact_id.as_str(), r.address.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("br9", "5511987654321"),
                ("mx1", "5215512345678"),
                ("de1", "4915100000001"),
                ("de2", "4915100000002"),
            ]
        );
        assert_eq!(count.channels.whatsapp, 4);
        assert_eq!(
            count.channels.telegram, 0,
            "not sent again on the next channel"
        );
    }

    #[test]
    fn one_person_on_two_records_gets_it_once_through_the_address_they_hold() {
        use BroadcastChannel::{Email, Telegram, Web, Whatsapp};
        let text = Text::parse("Hi {{first_name}}").unwrap();
        let channels = [Web, Whatsapp, Email, Telegram];
        let plan = Plan {
            channels: &channels,
            text: &text,
            parameters: &[],
            send_at: 1_000,
            local_minute: None,
            quiet: None,
        };
        let on_web = |id: &str| Contact {
            web_conversation: Some(format!("c-{id}")),
            ..contact(id)
        };
        let with_email = |mut c: Contact, m: &str, opted_in: bool| {
            c.fields.email = Some(m.into());
            if opted_in {
                c.consent.insert(Email, true);
            }
            c
        };
        let opted_in = |mut c: Contact, ch: BroadcastChannel| {
            c.consent.insert(ch, true);
            c
        };
        let claims_phone = |mut c: Contact, p: &str| {
            c.fields.phone = Some(p.into());
            c.fields.phone_claimed = true;
            c
        };
        let claims_email = |mut c: Contact, m: &str| {
            c.fields.email = Some(m.into());
            c.fields.email_claimed = true;
            c
        };
        let mut anon = on_web("Anon");
        anon.fields.name = None;
        let contacts = [
            // A visitor who typed their number into the widget, and the list's record of that
            // number (in its other Brazilian form) with the WhatsApp opt-in: WhatsApp only,
            // although the web comes first.
            claims_phone(on_web("Vi"), "5511987654321"),
            opted_in(with_phone(contact("Wa"), "551187654321"), Whatsapp),
            // Someone claiming a subscriber's email (in other case): the subscriber gets it
            // by email; the claim gets nothing, not even an error for its missing name.
            claims_email(anon, "Sue@Example.com"),
            with_email(contact("Sue"), "sue@example.com", true),
            // Two records of one person (an email both hold as their own): once, on the first
            // channel of the preference either reaches.
            with_email(
                opted_in(with_phone(contact("Xa"), "4915100000003"), Whatsapp),
                "xa@example.com",
                true,
            ),
            with_email(contact("Xb"), "xa@example.com", true),
            // Each claims the address the other holds: one of them, on the first channel.
            with_email(
                claims_phone(on_web("Ca"), "4915100000004"),
                "ca@example.com",
                false,
            ),
            claims_email(
                opted_in(with_phone(contact("Cb"), "4915100000004"), Whatsapp),
                "ca@example.com",
            ),
            // A claim nobody holds, and two records claiming one number: each is someone.
            claims_phone(on_web("Lo"), "4915100000005"),
            claims_phone(on_web("Tw1"), "4915100000006"),
            claims_phone(on_web("Tw2"), "4915100000006"),
        ];
        let (list, count) = recipients(&plan, &contacts, &[]).unwrap();
        let got: Vec<_> = list
            .iter()
            .map(|r| (r.contact_id.as_str(), r.channel))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Wa", Whatsapp),
                ("Sue", Email),
                ("Xa", Whatsapp),
                ("Ca", Web),
                ("Lo", Web),
                ("Tw1", Web),
                ("Tw2", Web),
            ]
        );
        assert_eq!(
            (
                count.channels.web,
                count.channels.whatsapp,
                count.channels.email
            ),
            (4, 2, 1)
        );
    }

    #[test]
    fn claims_in_a_chain_or_from_any_record_and_a_stop_on_any_record_hold_in_any_order() {
        use BroadcastChannel::{Email, Telegram, Web, Whatsapp};
        let text = Text::parse("Hi").unwrap();
        let sent = |channels: &[BroadcastChannel], contacts: &[Contact]| {
            let plan = Plan {
                channels,
                text: &text,
                parameters: &[],
                send_at: 1_000,
                local_minute: None,
                quiet: None,
            };
            let (list, count) = recipients(&plan, contacts, &[]).unwrap();
            let mut ids: Vec<String> = list.into_iter().map(|r| r.contact_id).collect();
            ids.sort();
            (ids, count.opted_out)
        };
        let own = |id: &str, phone: Option<&str>, email: Option<&str>| {
            let mut c = contact(id);
            c.fields.phone = phone.map(Into::into);
            c.fields.email = email.map(Into::into);
            if phone.is_some() {
                c.consent.insert(Whatsapp, true);
            }
            if email.is_some() {
                c.consent.insert(Email, true);
            }
            c
        };
        let claims = |mut c: Contact, phone: Option<&str>, email: Option<&str>| {
            if let Some(p) = phone {
                c.fields.phone = Some(p.into());
                c.fields.phone_claimed = true;
            }
            if let Some(m) = email {
                c.fields.email = Some(m.into());
                c.fields.email_claimed = true;
            }
            c.web_conversation = Some(format!("c-{}", c.id));
            c
        };
        // A chain: A claims B's email, B claims C's number. C gets it, once, in either order.
        let chain = [
            own("C", Some("4915100000011"), None),
            claims(
                own("B", None, Some("b@example.com")),
                Some("4915100000011"),
                None,
            ),
            claims(contact("A"), None, Some("b@example.com")),
        ];
        let mut reversed = chain.clone();
        reversed.reverse();
        for order in [&chain[..], &reversed[..]] {
            for channels in [&[Whatsapp, Web, Email][..], &[Web, Email, Whatsapp][..]] {
                assert_eq!(sent(channels, order), (vec!["C".into()], 0), "{channels:?}");
            }
        }
        // One person on two records (their own email), one of which claims Y's number: that
        // person is Y, whichever record is their best.
        let group = [
            own("X1", None, Some("x@example.com")),
            claims(
                own("X2", None, Some("x@example.com")),
                Some("4915100000012"),
                None,
            ),
            own("Y", Some("4915100000012"), None),
        ];
        for channels in [&[Email, Web, Whatsapp][..], &[Web, Email, Whatsapp][..]] {
            assert_eq!(
                sent(channels, &group),
                (vec!["Y".into()], 0),
                "{channels:?}"
            );
        }
        // A stop on one record of a person holds on their others; a claim of their number
        // gets nothing either.
        let mut stopped = own("S1", None, Some("s@example.com"));
        stopped.telegram_chat = Some("91".into());
        stopped.consent.insert(Telegram, false);
        let stop = [
            stopped,
            own("S2", Some("4915100000013"), Some("s@example.com")),
            claims(contact("S3"), Some("4915100000013"), None),
        ];
        assert_eq!(sent(&[Whatsapp, Web, Email], &stop), (vec![], 2));
        // The same stop from outside the audience (a record the filters left out): it still
        // holds, and is not counted.
        let plan = Plan {
            channels: &[Whatsapp, Web, Email],
            text: &text,
            parameters: &[],
            send_at: 1_000,
            local_minute: None,
            quiet: None,
        };
        let (list, count) = recipients(&plan, &stop[1..], &stop[..1]).unwrap();
        assert!(list.is_empty(), "{list:?}");
        assert_eq!(count.opted_out, 1, "S2 only");
        // A ring: R1 claims R2's number, R2 claims R1's email; alone, its first record gets
        // it (the channels tied). R3, R1's by their email, claims T's number: then it is T's.
        // An opted-out claimer is counted.
        let ring = [
            claims(
                own("R1", None, Some("r1@example.com")),
                Some("4915100000015"),
                None,
            ),
            claims(
                own("R2", Some("4915100000015"), None),
                None,
                Some("r1@example.com"),
            ),
            claims(
                own("R3", None, Some("r1@example.com")),
                Some("4915100000014"),
                None,
            ),
            own("T", Some("4915100000014"), None),
        ];
        assert_eq!(sent(&[Web, Whatsapp], &ring[..2]), (vec!["R1".into()], 0));
        assert_eq!(sent(&[Web, Whatsapp], &ring), (vec!["T".into()], 0));
        let mut quiet = claims(contact("Q"), Some("4915100000014"), None);
        quiet.consent.insert(Web, false);
        assert_eq!(
            sent(&[Web, Whatsapp], &[quiet, ring[3].clone()]),
            (vec!["T".into()], 1)
        );
    }

    #[test]
    fn email_needs_an_address_and_an_opt_in_and_an_opt_out_anywhere_stops_it() {
        let mut ana = contact("Ana");
        ana.fields.email = Some("ana@example.com".into());
        let mut asked = ana.clone();
        asked.consent = said(BroadcastChannel::Email, true);
        let mut stopped = asked.clone();
        stopped.consent.insert(BroadcastChannel::Telegram, false);
        assert_eq!(ana.reachable(BroadcastChannel::Email), None);
        assert_eq!(
            asked.reachable(BroadcastChannel::Email),
            Some("ana@example.com")
        );
        let r = reach(&[ana, asked, stopped]);
        assert_eq!((r.channels.email, r.unreachable, r.opted_out), (1, 1, 1));
    }

    #[test]
    fn messenger_and_instagram_only_while_the_window_is_open_when_it_is_sent() {
        let h = 3_600_000;
        let text = Text::parse("Sale!").unwrap();
        let channels = [
            BroadcastChannel::Messenger,
            BroadcastChannel::Instagram,
            BroadcastChannel::Web,
        ];
        let plan = |send_at| Plan {
            channels: &channels,
            text: &text,
            parameters: &[],
            send_at,
            local_minute: None,
            quiet: None,
        };
        // Wrote on Messenger (window closes at 20 h) and Instagram (closes at 30 h), and
        // chatted in the widget.
        let ana = Contact {
            messenger: Some(("psid-1".into(), 20 * h)),
            instagram: Some(("igsid-1".into(), 30 * h)),
            web_conversation: Some("c".into()),
            ..contact("Ana")
        };
        let only_messenger = Contact {
            messenger: Some(("psid-2".into(), 20 * h)),
            ..contact("Bo")
        };
        let at = |t: i64| -> Vec<(BroadcastChannel, String)> {
            recipients(&plan(t), &[ana.clone(), only_messenger.clone()], &[])
                .unwrap()
                .0
                .into_iter()
                .map(|r| (r.channel, r.address))
                .collect()
        };
        assert_eq!(
            at(10 * h),
            vec![
                (BroadcastChannel::Messenger, "psid-1".into()),
                (BroadcastChannel::Messenger, "psid-2".into())
            ]
        );
        // Scheduled after the Messenger window closes: Instagram's is still open for Ana; Bo
        // is reached nowhere.
        assert_eq!(
            at(25 * h),
            vec![(BroadcastChannel::Instagram, "igsid-1".into())]
        );
        assert_eq!(at(31 * h), vec![(BroadcastChannel::Web, "Ana".into())]);
        // Five minutes before Messenger's closes is too close to count on it.
        assert_eq!(
            at(20 * h - 5 * 60_000),
            vec![(BroadcastChannel::Instagram, "igsid-1".into())]
        );
        let (_, count) = recipients(&plan(31 * h), &[ana, only_messenger], &[]).unwrap();
        assert_eq!((count.channels.web, count.unreachable), (1, 1));
    }

    #[test]
    fn a_variable_without_value_or_fallback_stops_the_plan() {
        let text = Text::parse("Your code: {{code}}").unwrap();
        let plan = Plan {
            channels: &[BroadcastChannel::Web],
            text: &text,
            parameters: &[],
            send_at: 0,
            local_minute: None,
            quiet: None,
        };
        let mut with = Contact {
            web_conversation: Some("c".into()),
            ..contact("A")
        };
        with.fields.attributes.insert("code".into(), "X1".into());
        let without = |id: &str| Contact {
            web_conversation: Some("c".into()),
            ..contact(id)
        };
        assert_eq!(
            recipients(&plan, std::slice::from_ref(&with), &[])
                .unwrap()
                .0[0]
                .body,
            "Your code: X1"
        );
        assert_eq!(
            recipients(&plan, &[with, without("B"), without("C")], &[]).unwrap_err(),
            MissingValue {
                variable: "code".into(),
                contact_id: "B".into(),
                recipients: 2
            }
        );
    }

    #[test]
    fn local_time_per_zone() {
        // 2026-12-01 00:00 UTC.
        let start = days_from_civil(2026, 12, 1) * 86_400_000;
        let ten = parse_local_time("10:00").unwrap();
        assert_eq!(local_due(start, ten, None), start + 10 * 3_600_000);
        // Berlin is UTC+1 in December: 10:00 there is 09:00 UTC.
        assert_eq!(
            local_due(start, ten, Some("Europe/Berlin")),
            start + 9 * 3_600_000
        );
        // São Paulo is UTC-3: 13:00 UTC.
        assert_eq!(
            local_due(start, ten, Some("America/Sao_Paulo")),
            start + 13 * 3_600_000
        );
        // Already past 10:00 in Jakarta (UTC+7, 07:00 local at 00:00 UTC)? No: 03:00 UTC.
        assert_eq!(
            local_due(start, ten, Some("Asia/Jakarta")),
            start + 3 * 3_600_000
        );
        // Started at 12:00 UTC: Berlin's 10:00 is tomorrow.
        assert_eq!(
            local_due(start + 12 * 3_600_000, ten, Some("Europe/Berlin")),
            start + 33 * 3_600_000
        );
        assert_eq!(parse_local_time("24:00"), None);
        assert_eq!(parse_local_time("9:00"), None);
        assert_eq!(parse_local_time("09:30"), Some(570));
    }

    #[test]
    fn quiet_hours_wait_until_they_end_where_the_person_is() {
        let start = days_from_civil(2026, 12, 1) * 86_400_000;
        let h = 3_600_000;
        let night = (21 * 60, 8 * 60);
        // 06:00 UTC: 07:00 in Berlin (quiet until 08:00 there, 07:00 UTC), 15:00 in Tokyo.
        assert_eq!(
            after_quiet(start + 6 * h, night, Some("Europe/Berlin")),
            start + 7 * h
        );
        assert_eq!(
            after_quiet(start + 6 * h, night, Some("Asia/Tokyo")),
            start + 6 * h
        );
        assert_eq!(after_quiet(start + 6 * h, night, None), start + 8 * h);
        // 03:00 in São Paulo: 08:00 there is 11:00 UTC.
        assert_eq!(
            after_quiet(start + 6 * h, night, Some("America/Sao_Paulo")),
            start + 11 * h
        );
        // 22:00 UTC: tomorrow 08:00.
        assert_eq!(after_quiet(start + 22 * h, night, None), start + 32 * h);
        // Within a day (12:00–14:00): 13:00 waits until 14:00, 14:00 does not wait.
        let lunch = (12 * 60, 14 * 60);
        assert_eq!(after_quiet(start + 13 * h, lunch, None), start + 14 * h);
        assert_eq!(after_quiet(start + 14 * h, lunch, None), start + 14 * h);
    }

    #[test]
    fn audience_filters_on_fields_and_reach() {
        let mut vip = Contact {
            telegram_chat: Some("7".into()),
            ..contact("A")
        };
        vip.fields.attributes.insert("plan".into(), "pro".into());
        let plain = Contact {
            web_conversation: Some("c".into()),
            ..contact("B")
        };
        let stopped = Contact {
            consent: said(BroadcastChannel::Telegram, false),
            ..vip.clone()
        };
        let mut pro = Audience::default();
        pro.attributes.insert("plan".into(), "pro".into());
        assert!(matches(&pro, &vip) && !matches(&pro, &plain));
        let on_telegram = Audience {
            reachable_on: vec![BroadcastChannel::Telegram],
            ..Audience::default()
        };
        assert!(matches(&on_telegram, &vip));
        assert!(!matches(&on_telegram, &plain) && !matches(&on_telegram, &stopped));
        assert_eq!(
            reach(&[vip, plain, stopped, contact("C")]),
            Reach {
                contacts: 4,
                channels: ChannelCounts {
                    web: 1,
                    telegram: 1,
                    ..ChannelCounts::default()
                },
                unreachable: 1,
                opted_out: 1
            }
        );
    }
}
