//! Contacts from a CSV file (pure): parsing and checking each row, then matching rows to the
//! site's contact records — by `contact_id`, else the phone number (a WhatsApp number in
//! either of its forms: the record keeps its own), else the email (never one a visitor only
//! claimed in the widget: the row makes a record of its own) — so that
//! importing the same file twice changes nothing the second time. Every row that cannot be
//! taken is reported with its line and why; the others are imported.
//!
//! Columns (header row required, any order, case ignored): `contact_id`, `name` (or
//! `first_name` + `last_name`), `email`, `phone`, `language`, `time_zone`, `tags` (separated
//! by `;` or `|`), `whatsapp_opt_in` and `email_opt_in` (`yes`/`no`: the person agreed to
//! broadcasts there); any other column is a custom attribute.

use crate::channels::whatsapp::numbers::person_key;
use beckon_shared::proto::v1::{BroadcastChannel, Identify, ImportReport, RejectedRow};
use std::collections::{BTreeMap, HashMap};

/// Most rows in one file.
pub const MAX_ROWS: usize = 10_000;
/// Largest file.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub use beckon_shared::limits::{MAX_TAGS, MAX_TAG_CHARS};
pub const MAX_ATTRIBUTES: usize = 20;
/// Custom attributes in one row: a contact's imported ones and its pre-chat answers.
const MAX_ROW_ATTRIBUTES: usize = MAX_ATTRIBUTES + beckon_shared::proto::v1::MAX_PRECHAT_FIELDS;
pub const MAX_ATTRIBUTE_CHARS: usize = 200;

/// A contact record's importable fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    /// Whether `phone` and `email` are only the visitor's claim (the widget's `identify`, the
    /// away form), which proves nothing: not reached by WhatsApp or email, never matched by
    /// an import. The business makes one its own by an import that opts it in or replaces it.
    pub phone_claimed: bool,
    pub email_claimed: bool,
}

/// A contact record as stored, with its WhatsApp consent (by its phone) and its email
/// consent (by its address).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub fields: Fields,
    pub whatsapp_opted_in: bool,
    pub email_opted_in: bool,
}

/// One checked row of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Row {
    line: u32,
    contact_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
    tags: Option<Vec<String>>,
    attributes: BTreeMap<String, String>,
    whatsapp_opt_in: bool,
    email_opt_in: bool,
}

/// What to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new contact record.
    Create { id: String, fields: Fields },
    /// New values for a record.
    Update { id: String, fields: Fields },
    /// An opt-in for a WhatsApp number or an email address (never over a recorded opt-out).
    OptIn {
        channel: BroadcastChannel,
        address: String,
    },
}

/// A file's rows that passed their checks, and the others with their reasons.
pub struct Parsed {
    rows: Vec<Row>,
    rejected: Vec<RejectedRow>,
}

impl Parsed {
    /// The contact ids the file names (their records must be read to match them).
    pub fn contact_ids(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter_map(|r| r.contact_id.as_deref())
            .collect()
    }
}

/// Records by phone: the record holding the number itself, else one holding its other form
/// (two records may hold the two forms: each keeps its own rows).
#[derive(Default)]
struct Phones {
    exact: HashMap<String, usize>,
    person: HashMap<String, usize>,
}

impl Phones {
    /// The first record given for a number (or its other form) keeps it.
    fn add(&mut self, phone: &str, record: usize) {
        self.exact.entry(phone.to_owned()).or_insert(record);
        self.person.entry(person_key(phone)).or_insert(record);
    }

    fn find(&self, phone: &str) -> Option<&usize> {
        self.exact
            .get(phone)
            .or_else(|| self.person.get(&person_key(phone)))
    }
}

/// Matches a file's rows to `existing` (every record with a phone or an email, and those the
/// file names by id); `new_id` names new records.
pub fn plan(
    parsed: Parsed,
    existing: &[Existing],
    mut new_id: impl FnMut() -> String,
) -> (Vec<Write>, ImportReport) {
    let Parsed { rows, mut rejected } = parsed;
    let mut report = ImportReport::default();
    let mut writes = Vec::new();
    let by_id: HashMap<&str, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let mut by_phone = Phones::default();
    let mut by_email: HashMap<String, usize> = HashMap::new();
    // The oldest record wins a shared phone or email (`existing` comes oldest first); a
    // visitor's claim is matched by nobody (the row makes a record of its own).
    for (i, e) in existing.iter().enumerate() {
        if let Some(p) = e.fields.phone.as_ref().filter(|_| !e.fields.phone_claimed) {
            by_phone.add(p, i);
        }
        if let Some(m) = e.fields.email.as_ref().filter(|_| !e.fields.email_claimed) {
            by_email.entry(m.clone()).or_insert(i);
        }
    }
    // Records as this import leaves them (a later row for the same contact is refused).
    let mut records: Vec<Existing> = existing.to_vec();
    let mut touched: HashMap<usize, u32> = HashMap::new();
    for row in rows {
        let found = match &row.contact_id {
            Some(id) => match by_id.get(id.as_str()) {
                Some(i) => Some(*i),
                None => {
                    rejected.push(RejectedRow {
                        line: row.line,
                        reason: format!("no contact with contact_id {id}"),
                    });
                    continue;
                }
            },
            None => row
                .phone
                .as_ref()
                .and_then(|p| by_phone.find(p))
                .or_else(|| row.email.as_ref().and_then(|m| by_email.get(m)))
                .copied(),
        };
        if let Some(first) = found.and_then(|i| touched.get(&i)) {
            rejected.push(RejectedRow {
                line: row.line,
                reason: format!("the same contact as line {first}"),
            });
            continue;
        }
        let index = match found {
            Some(i) => i,
            None => {
                records.push(Existing {
                    id: new_id(),
                    ..Existing::default()
                });
                records.len() - 1
            }
        };
        touched.insert(index, row.line);
        let record = &mut records[index];
        let before = record.clone();
        let f = &mut record.fields;
        let keep = |new: Option<String>, old: &mut Option<String>| {
            if new.is_some() {
                *old = new;
            }
        };
        keep(row.name, &mut f.name);
        keep(row.email, &mut f.email);
        // Their number in its other form (Brazil's ninth digit, Mexico's 1) is the one on
        // record, and keeps its consent.
        let phone = row.phone.filter(|p| {
            f.phone
                .as_deref()
                .is_none_or(|old| person_key(old) != person_key(p))
        });
        keep(phone, &mut f.phone);
        // A consent belongs to its address: a new one starts without (and is the business's).
        if f.phone != before.fields.phone {
            record.whatsapp_opted_in = false;
            f.phone_claimed = false;
        }
        if f.email != before.fields.email {
            record.email_opted_in = false;
            f.email_claimed = false;
        }
        keep(row.language, &mut f.language);
        keep(row.time_zone, &mut f.time_zone);
        if let Some(tags) = row.tags {
            f.tags = tags;
        }
        f.attributes.extend(row.attributes);
        // The limit is on what an import adds: a record may hold more (the pre-chat form's
        // answers join its attributes), and the same file again must still change nothing.
        let had = before.fields.attributes.len();
        if f.attributes.len() > MAX_ATTRIBUTES.max(had) {
            let line = row.line;
            *record = before;
            touched.remove(&index);
            let reason = if had > MAX_ATTRIBUTES {
                format!("the contact has {had} custom attributes (pre-chat answers among them): an import may change them, not add more (it takes a contact to at most {MAX_ATTRIBUTES})")
            } else {
                format!("a contact has at most {MAX_ATTRIBUTES} custom attributes")
            };
            rejected.push(RejectedRow { line, reason });
            continue;
        }
        // (An opt-in for a claimed address makes it the business's.)
        let opt_in = row.whatsapp_opt_in && !record.whatsapp_opted_in;
        if opt_in {
            record.whatsapp_opted_in = true;
            record.fields.phone_claimed = false;
        }
        let email_opt_in = row.email_opt_in && !record.email_opted_in;
        if email_opt_in {
            record.email_opted_in = true;
            record.fields.email_claimed = false;
        }
        if found.is_none() {
            report.created += 1;
            writes.push(Write::Create {
                id: record.id.clone(),
                fields: record.fields.clone(),
            });
        } else if record.fields != before.fields || opt_in || email_opt_in {
            report.updated += 1;
            if record.fields != before.fields {
                writes.push(Write::Update {
                    id: record.id.clone(),
                    fields: record.fields.clone(),
                });
            }
        } else {
            report.unchanged += 1;
        }
        if opt_in {
            if let Some(phone) = &record.fields.phone {
                writes.push(Write::OptIn {
                    channel: BroadcastChannel::Whatsapp,
                    address: phone.clone(),
                });
            }
        }
        if email_opt_in {
            if let Some(email) = &record.fields.email {
                writes.push(Write::OptIn {
                    channel: BroadcastChannel::Email,
                    address: email.clone(),
                });
            }
        }
        // Its own addresses now (a new record's, one replaced or opted in): a later row of the
        // file with one of them is this record.
        let f = &records[index].fields;
        if let Some(p) = f.phone.as_ref().filter(|_| !f.phone_claimed) {
            by_phone.add(p, index);
        }
        if let Some(m) = f.email.as_ref().filter(|_| !f.email_claimed) {
            by_email.entry(m.clone()).or_insert(index);
        }
    }
    rejected.sort_by_key(|r| r.line);
    report.rejected = rejected;
    (writes, report)
}

/// Reads and checks every row of `csv`. An unreadable file (no header, too many rows) is an
/// error.
pub fn parse(csv: &[u8]) -> Result<Parsed, String> {
    if csv.len() > MAX_BYTES {
        return Err(format!("the file is over {} MB", MAX_BYTES >> 20));
    }
    let csv = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err("the file is empty: it needs a header row (name,email,phone,…)".into());
    }
    let identifying = ["contact_id", "phone", "email"];
    if !header.iter().any(|h| identifying.contains(&h.as_str())) {
        return Err("the header needs a contact_id, phone or email column".into());
    }
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n as u32 + 2;
        if n >= MAX_ROWS {
            return Err(format!("the file has more than {MAX_ROWS} rows: split it"));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                rejected.push(RejectedRow {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() > header.len() {
            rejected.push(RejectedRow {
                line,
                reason: format!("{} values for {} columns", record.len(), header.len()),
            });
            continue;
        }
        match row(line, &header, &record) {
            Ok(r) => rows.push(r),
            Err(reason) => rejected.push(RejectedRow { line, reason }),
        }
    }
    Ok(Parsed { rows, rejected })
}

fn row(line: u32, header: &[String], record: &csv::StringRecord) -> Result<Row, String> {
    let mut get: HashMap<&str, &str> = HashMap::new();
    let mut attributes = BTreeMap::new();
    // (An export wrote `'` before what a spreadsheet would take for a formula.)
    for (h, v) in header
        .iter()
        .zip(record.iter().map(crate::spreadsheet::uncell))
    {
        match h.as_str() {
            "contact_id" | "name" | "first_name" | "last_name" | "email" | "phone" | "language"
            | "time_zone" | "tags" | "whatsapp_opt_in" | "email_opt_in" => {
                get.insert(h, v);
            }
            "" => {}
            other if !v.is_empty() => {
                let key: String = other
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                if v.chars().count() > MAX_ATTRIBUTE_CHARS || v.chars().any(char::is_control) {
                    return Err(format!(
                        "{other} must be one line of at most {MAX_ATTRIBUTE_CHARS} characters"
                    ));
                }
                attributes.insert(key, v.to_owned());
            }
            _ => {}
        }
    }
    // A row may carry a contact's pre-chat answers beside its imported attributes (an export
    // of one imports back unchanged); how many a contact may have is `plan`'s to say.
    if attributes.len() > MAX_ROW_ATTRIBUTES {
        return Err(format!("at most {MAX_ATTRIBUTES} custom attributes"));
    }
    let value = |k: &str| get.get(k).copied().filter(|v| !v.is_empty());
    let name = match (value("name"), value("first_name"), value("last_name")) {
        (Some(n), _, _) => Some(n.to_owned()),
        (None, Some(f), Some(l)) => Some(format!("{f} {l}")),
        (None, f, l) => f.or(l).map(str::to_owned),
    };
    let who = Identify {
        name,
        email: value("email").map(str::to_owned),
        phone: value("phone").map(str::to_owned),
        ..Identify::default()
    }
    .validated()
    .map_err(|(_, m)| m)?;
    let contact_id = value("contact_id").map(str::to_owned);
    if contact_id
        .as_deref()
        .is_some_and(|id| beckon_shared::VisitorId::parse(id).is_err())
    {
        return Err("contact_id is not a contact id of this site".into());
    }
    if contact_id.is_none() && who.phone.is_none() && who.email.is_none() {
        return Err("a row needs a phone, an email or a contact_id".into());
    }
    let language = value("language").map(str::to_owned);
    if let Some(l) = &language {
        let mut parts = l.split(['-', '_']);
        let primary = parts.next().unwrap_or("");
        let ok = (2..=3).contains(&primary.len())
            && primary.bytes().all(|b| b.is_ascii_alphabetic())
            && parts.all(|p| {
                (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !ok {
            return Err(format!("language {l:?} is not a language code like pt-BR"));
        }
    }
    let time_zone = value("time_zone").map(str::to_owned);
    if let Some(z) = &time_zone {
        if !beckon_shared::rules::tz::is_known(z) {
            return Err(format!(
                "time_zone {z:?} is not a time zone Beckon knows (e.g. Europe/Berlin)"
            ));
        }
    }
    let tags = get
        .get("tags")
        .map(|v| beckon_shared::text::normalize_tags(v.split([';', '|'])))
        .transpose()?;
    let yes = |column: &str| match value(column).map(str::to_ascii_lowercase).as_deref() {
        None | Some("no" | "n" | "false" | "0") => Ok(false),
        Some("yes" | "y" | "true" | "1") => Ok(true),
        Some(other) => Err(format!("{column} must be yes or no, not {other:?}")),
    };
    let whatsapp_opt_in = yes("whatsapp_opt_in")?;
    if whatsapp_opt_in && who.phone.is_none() {
        return Err("whatsapp_opt_in needs a phone number".into());
    }
    let email_opt_in = yes("email_opt_in")?;
    if email_opt_in && who.email.is_none() {
        return Err("email_opt_in needs an email address".into());
    }
    Ok(Row {
        line,
        contact_id,
        name: who.name,
        email: who.email,
        phone: who.phone,
        language,
        time_zone,
        tags,
        attributes,
        whatsapp_opt_in,
        email_opt_in,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_csv(csv: &[u8], existing: &[Existing]) -> Result<(Vec<Write>, ImportReport), String> {
        Ok(plan(parse(csv)?, existing, ids()))
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("v{n}")
        }
    }

    /// Applies a plan to records, as the database would.
    fn apply(existing: &mut Vec<Existing>, writes: &[Write]) {
        for w in writes {
            match w {
                Write::Create { id, fields } => existing.push(Existing {
                    id: id.clone(),
                    fields: fields.clone(),
                    whatsapp_opted_in: false,
                    email_opted_in: false,
                }),
                Write::Update { id, fields } => {
                    existing.iter_mut().find(|e| e.id == *id).unwrap().fields = fields.clone()
                }
                Write::OptIn { channel, address } => {
                    for e in existing.iter_mut() {
                        match channel {
                            BroadcastChannel::Whatsapp
                                if e.fields.phone.as_deref() == Some(address)
                                    && !e.fields.phone_claimed =>
                            {
                                e.whatsapp_opted_in = true
                            }
                            BroadcastChannel::Email
                                if e.fields.email.as_deref() == Some(address)
                                    && !e.fields.email_claimed =>
                            {
                                e.email_opted_in = true
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    const FILE: &str = "\u{feff}Name,Email,Phone,Language,Time_Zone,Tags,WhatsApp_Opt_In,Plan\n\
        Ana Souza,ana@example.com,+55 11 91234-5678,pt-BR,America/Sao_Paulo,vip; shoes,yes,gold\n\
        Bo,bo@example.com,,en,,shoes,,\n\
        Cy,not-an-email,,,,,,\n\
        Di,,+49 15,,,,,\n\
        Ed,ed@example.com,,en,Mars/Olympus,,,\n\
        Fa,fa@example.com,,,,,maybe,\n\
        Gu,,,,,,,\n\
        Ana again,,5511912345678,,,,,\n\
        Hu,hu@example.com,,,,,yes,\n\
        Iv,iv@example.com,,xx-,,,,\n";

    #[test]
    fn a_visitors_claimed_number_is_nobodys_match_until_the_business_opts_it_in() {
        let mut records = vec![Existing {
            id: "v_00000000000000000000000000000001".into(),
            fields: Fields {
                name: Some("Ana Web".into()),
                phone: Some("4915100000001".into()),
                phone_claimed: true,
                ..Fields::default()
            },
            ..Existing::default()
        }];
        // A row with the number the visitor typed: a record of its own, with the opt-in.
        let file = "name,phone,whatsapp_opt_in\nAna List,+4915100000001,yes\n";
        let (writes, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!((report.created, report.updated), (1, 0));
        apply(&mut records, &writes);
        assert!(records[1].whatsapp_opted_in && !records[1].fields.phone_claimed);
        assert!(
            !records[0].whatsapp_opted_in,
            "the claim does not take the opt-in"
        );
        assert_eq!(plan_csv(file.as_bytes(), &records).unwrap().0, vec![]);
        // The business opts the visitor's number in by their id: now it is theirs.
        let by_id = "contact_id,phone,whatsapp_opt_in\nv_00000000000000000000000000000001,+4915100000001,yes\n";
        let (writes, report) = plan_csv(by_id.as_bytes(), &records).unwrap();
        assert_eq!(report.updated, 1, "{report:?}");
        apply(&mut records, &writes);
        assert!(!records[0].fields.phone_claimed && records[0].whatsapp_opted_in);
        assert_eq!(plan_csv(by_id.as_bytes(), &records).unwrap().0, vec![]);
    }

    #[test]
    fn a_claimed_email_is_nobodys_match_and_a_replaced_address_is_the_businesss() {
        let vid = |n: u8| format!("v_{:032x}", n);
        let mut records = vec![Existing {
            id: vid(1),
            fields: Fields {
                email: Some("ana@example.com".into()),
                email_claimed: true,
                phone: Some("4915100000001".into()),
                phone_claimed: true,
                ..Fields::default()
            },
            ..Existing::default()
        }];
        let (writes, report) =
            plan_csv(b"name,email\nAna List,ana@example.com\n", &records).unwrap();
        assert_eq!((report.created, report.updated), (1, 0), "{report:?}");
        apply(&mut records, &writes);
        // By id, with another number and the same email (no opt-in): the new number is the
        // business's; the email stays a claim.
        let file = format!(
            "contact_id,phone,email\n{},+4915100000002,ana@example.com\n",
            vid(1)
        );
        let (writes, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!(report.updated, 1, "{report:?}");
        apply(&mut records, &writes);
        let f = &records[0].fields;
        assert_eq!(f.phone.as_deref(), Some("4915100000002"));
        assert!(!f.phone_claimed && f.email_claimed);
        assert_eq!(plan_csv(file.as_bytes(), &records).unwrap().0, vec![]);
        // A new email by id is theirs: a later row of the same file with it is them.
        let file = format!(
            "contact_id,email,name\n{},new@example.com,\n,new@example.com,Ana Again\n",
            vid(1)
        );
        let (_, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!((report.created, report.updated), (0, 1), "{report:?}");
        assert_eq!(report.rejected.len(), 1, "{report:?}");
        assert!(report.rejected[0]
            .reason
            .contains("the same contact as line 2"));
    }

    #[test]
    fn email_opt_ins_are_imported_once_and_need_an_address() {
        let file = "name,email,phone,email_opt_in\nAna,ana@example.com,,yes\nBo,,+4915100000002,yes\nCy,cy@example.com,,no\n";
        let mut records = Vec::new();
        let (writes, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!(report.created, 2);
        assert_eq!(report.rejected.len(), 1);
        assert!(report.rejected[0]
            .reason
            .contains("email_opt_in needs an email"));
        let opt_ins: Vec<&Write> = writes
            .iter()
            .filter(|w| matches!(w, Write::OptIn { .. }))
            .collect();
        assert_eq!(
            opt_ins,
            [&Write::OptIn {
                channel: BroadcastChannel::Email,
                address: "ana@example.com".into()
            }]
        );
        apply(&mut records, &writes);
        assert!(records[0].email_opted_in && !records[1].email_opted_in);
        let (again, _) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!(again, vec![], "the same file again writes nothing");
    }

    #[test]
    fn imports_good_rows_reports_bad_ones_and_a_second_import_changes_nothing() {
        let mut records = Vec::new();
        let (writes, report) = plan_csv(FILE.as_bytes(), &records).unwrap();
        let reasons: Vec<(u32, &str)> = report
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(report.created, 2, "{reasons:?}");
        assert_eq!(
            reasons.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![4, 5, 6, 7, 8, 9, 10, 11]
        );
        assert!(reasons[0].1.contains("email"));
        assert!(reasons[1].1.contains("phone"));
        assert!(reasons[2].1.contains("time_zone"));
        assert!(reasons[3].1.contains("whatsapp_opt_in"));
        assert!(reasons[4].1.contains("needs a phone, an email"));
        assert_eq!(reasons[5].1, "the same contact as line 2");
        assert!(reasons[6].1.contains("needs a phone number"));
        assert!(reasons[7].1.contains("language"));
        apply(&mut records, &writes);
        let ana = &records[0];
        assert_eq!(ana.fields.phone.as_deref(), Some("5511912345678"));
        assert_eq!(ana.fields.tags, vec!["shoes", "vip"]);
        assert_eq!(ana.fields.attributes["plan"], "gold");
        assert!(ana.whatsapp_opted_in);
        assert!(writes.contains(&Write::OptIn {
            channel: BroadcastChannel::Whatsapp,
            address: "5511912345678".into()
        }));

        let (again, report) = plan_csv(FILE.as_bytes(), &records).unwrap();
        assert_eq!(again, vec![], "the same file again writes nothing");
        assert_eq!(
            (report.created, report.updated, report.unchanged),
            (0, 0, 2)
        );
        assert_eq!(report.rejected.len(), 8);

        let change = "email,language\nbo@example.com,de\n";
        let (writes, report) = plan_csv(change.as_bytes(), &records).unwrap();
        assert_eq!((report.created, report.updated), (0, 1));
        assert!(
            matches!(&writes[0], Write::Update { fields, .. } if fields.language.as_deref() == Some("de") && fields.tags == vec!["shoes"])
        );
    }

    #[test]
    fn a_record_past_the_attribute_limit_by_its_form_answers_is_imported_again_unchanged() {
        let header: Vec<String> = (1..=MAX_ATTRIBUTES).map(|i| format!("a{i}")).collect();
        let file = format!(
            "email,{}\nana@example.com,{}\n",
            header.join(","),
            ["x"; MAX_ATTRIBUTES].join(",")
        );
        let mut records = Vec::new();
        let (writes, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!((report.created, report.rejected.len()), (1, 0));
        apply(&mut records, &writes);
        // Ana then answers the site's pre-chat form: two more attributes.
        let attributes = &mut records[0].fields.attributes;
        attributes.insert("topic".into(), "orders".into());
        attributes.insert("order".into(), "A-1".into());

        let (again, report) = plan_csv(file.as_bytes(), &records).unwrap();
        assert_eq!(again, vec![], "the same file again writes nothing");
        assert_eq!((report.unchanged, report.rejected.len()), (1, 0));
        let change = "email,a1\nana@example.com,y\n";
        let (writes, report) = plan_csv(change.as_bytes(), &records).unwrap();
        assert_eq!((report.updated, report.rejected.len()), (1, 0));
        assert!(matches!(&writes[0], Write::Update { fields, .. }
            if fields.attributes["a1"] == "y" && fields.attributes.len() == MAX_ATTRIBUTES + 2));
        // A new one is still refused: the import may not take her further past the limit.
        let more = "email,plan\nana@example.com,gold\n";
        let (writes, report) = plan_csv(more.as_bytes(), &records).unwrap();
        assert_eq!(writes, vec![]);
        assert!(report.rejected[0]
            .reason
            .contains("has 22 custom attributes (pre-chat answers among them)"));
        // Her export (all 22 in one row) imports back unchanged; for someone new it is too many.
        let (keys, values): (Vec<&str>, Vec<&str>) = records[0]
            .fields
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .unzip();
        let export =
            |email: &str| format!("email,{}\n{email},{}\n", keys.join(","), values.join(","));
        let (writes, report) = plan_csv(export("ana@example.com").as_bytes(), &records).unwrap();
        assert_eq!(
            (writes, report.unchanged, report.rejected.len()),
            (vec![], 1, 0)
        );
        let (writes, report) = plan_csv(export("bo@example.com").as_bytes(), &records).unwrap();
        assert_eq!(writes, vec![]);
        assert!(report.rejected[0]
            .reason
            .contains("a contact has at most 20 custom attributes"));
    }

    #[test]
    fn a_number_in_its_other_form_is_the_record_that_holds_it() {
        let record = |id: &str, name: &str, phone: &str, opted_in: bool| Existing {
            id: id.into(),
            fields: Fields {
                name: Some(name.into()),
                phone: Some(phone.into()),
                ..Fields::default()
            },
            whatsapp_opted_in: opted_in,
            email_opted_in: false,
        };
        let mut existing = vec![
            record("k1", "Ana", "5511987654321", true),
            // Two records of one person, one form each (as imports made them before).
            record("k2", "Bo", "5511976543210", false),
            record("k3", "Bo S", "551176543210", false),
            record("k4", "Cy", "5215599998888", false),
        ];
        let file = "name,phone,whatsapp_opt_in\n\
            Ana Souza,+55 11 8765-4321,yes\n\
            Luis,+52 1 55 1234 5678,yes\n\
            Luis M,+52 55 1234 5678,yes\n\
            Bo Silva,+55 11 7654-3210,\n\
            Cy Ruiz,+52 55 9999 8888,yes\n";
        let (writes, report) = plan_csv(file.as_bytes(), &existing).unwrap();
        assert_eq!((report.created, report.updated), (1, 3), "{report:?}");
        assert_eq!(report.rejected.len(), 1, "{report:?}");
        assert_eq!(report.rejected[0].line, 4);
        assert!(report.rejected[0]
            .reason
            .contains("the same contact as line 3"));
        // The opt-in is for the number on record, whose form is kept.
        let opt_ins: Vec<_> = writes
            .iter()
            .filter_map(|w| match w {
                Write::OptIn { address, .. } => Some(address.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(opt_ins, ["5215512345678", "5215599998888"]);
        apply(&mut existing, &writes);
        let name_phone = |i: usize| {
            let f = &existing[i].fields;
            (f.name.as_deref().unwrap(), f.phone.as_deref().unwrap())
        };
        assert_eq!(name_phone(0), ("Ana Souza", "5511987654321"));
        assert!(existing[0].whatsapp_opted_in, "Ana keeps her consent");
        // The exact number goes before its other form.
        assert_eq!(name_phone(1), ("Bo", "5511976543210"));
        assert_eq!(name_phone(2), ("Bo Silva", "551176543210"));
        assert_eq!(name_phone(3), ("Cy Ruiz", "5215599998888"));
        assert_eq!(existing.len(), 5);
        let (_, again) = plan_csv(file.as_bytes(), &existing).unwrap();
        assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    }

    #[test]
    fn unreadable_files_are_errors() {
        assert!(plan_csv(b"", &[]).is_err());
        assert!(plan_csv(b"name,plan\nAna,gold\n", &[])
            .unwrap_err()
            .contains("contact_id, phone or email"));
        let long = format!("email\n{}", "a@b.co\n".repeat(MAX_ROWS + 1));
        assert!(plan_csv(long.as_bytes(), &[]).unwrap_err().contains("rows"));
        let (_, report) = plan_csv(b"contact_id,name\nnot-an-id,X\n", &[]).unwrap();
        assert!(report.rejected[0].reason.contains("contact_id"));
    }
}
