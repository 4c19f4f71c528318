//! What an agent's email reply really says: the new text without the quoted history and the
//! signature their mail client added (Gmail, Outlook, Apple Mail and the phone apps, in the
//! languages Beckon's widget speaks), and whether a message is a person's at all (auto-replies,
//! bounces and list mail are not). Pure: the handler gives it headers and text.

/// How a mail client introduces the quoted message, one line (or two, when a long name
/// wraps): its beginning, a word it holds and its end, lowercase.
const ATTRIBUTIONS: &[(&str, &str, &str)] = &[
    ("on ", " wrote", "wrote:"), // Gmail, Apple Mail, Thunderbird (English)
    ("am ", " schrieb ", ":"),   // German: "Am 01.12.2026 um 10:00 schrieb Ana <…>:"
    ("el ", " escribió", "escribió:"), // Spanish
    ("em ", " escreveu", "escreveu:"), // Portuguese
    ("le ", " a écrit", "a écrit :"), // French (with the French space)
    ("le ", " a écrit", "a écrit:"), // French
    ("pada ", " menulis", "menulis:"), // Indonesian
    ("op ", " geschreven", "geschreven:"), // Dutch
    ("في ", "كتب", "كتب:"),      // Arabic
];

/// Lines that open a forwarded or quoted original (Outlook and others).
const SEPARATORS: &[&str] = &[
    "-----original message-----",
    "----- original message -----",
    "-----ursprüngliche nachricht-----",
    "-----mensaje original-----",
    "-----mensagem original-----",
    "-----message d'origine-----",
    "-----pesan asli-----",
];

/// The first line of an Outlook header block ("From: …" followed by "Sent: …").
const HEADER_FROM: &[&str] = &["from:", "von:", "de:", "de :", "dari:", "van:", "من:"];
const HEADER_NEXT: &[&str] = &[
    "sent:",
    "date:",
    "gesendet:",
    "datum:",
    "enviado:",
    "enviada:",
    "envoyé :",
    "envoyé:",
    "terkirim:",
    "verzonden:",
    "to:",
    "an:",
    "para:",
    "à :",
    "subject:",
    "betreff:",
    "asunto:",
    "objet :",
    "objet:",
];

/// Phone apps' signatures.
const DEVICE_SIGNATURES: &[&str] = &[
    "sent from my ",
    "get outlook for ",
    "gesendet von meinem ",
    "von meinem iphone gesendet",
    "enviado desde mi ",
    "enviado do meu ",
    "envoyé de mon ",
    "dikirim dari ",
    "verzonden met ",
    "أرسلت من ",
];

/// An email as the handler needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// Every header (name, value as sent, trimmed).
    pub headers: Vec<(String, String)>,
    /// The From address, lowercase, and its display name.
    pub from: String,
    pub from_name: Option<String>,
    pub message_id: Option<String>,
    /// The Message-IDs it answers (`In-Reply-To`, then `References`).
    pub answers: Vec<String>,
    /// The new text ([`new_text`] of the plain-text body).
    pub text: String,
    /// Attached files: (name, bytes).
    pub files: Vec<(Option<String>, Vec<u8>)>,
}

impl Reply {
    /// Reads a raw RFC 5322 message (MIME, any common charset and transfer encoding).
    pub fn parse(raw: &[u8]) -> Option<Reply> {
        use mail_parser::{MessageParser, MimeHeaders};
        let m = MessageParser::default().parse(raw)?;
        let headers = m
            .headers_raw()
            .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
            .collect();
        let from = m.from().and_then(|a| a.first());
        let mut answers = Vec::new();
        for value in [m.in_reply_to(), m.references()] {
            if let Some(list) = value.as_text_list() {
                answers.extend(list.iter().map(|s| s.to_string()));
            } else if let Some(one) = value.as_text() {
                answers.push(one.to_owned());
            }
        }
        Some(Reply {
            headers,
            from: from
                .and_then(|a| a.address())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default(),
            from_name: from.and_then(|a| a.name()).map(str::to_owned),
            message_id: m.message_id().map(str::to_owned),
            answers,
            text: new_text(&m.body_text(0).unwrap_or_default()),
            // Inline parts the HTML shows (signature logos) and Outlook's TNEF are not files.
            files: m
                .attachments()
                .filter(|a| {
                    let inline = a.content_id().is_some()
                        && a.content_disposition().is_none_or(|d| !d.is_attachment());
                    let tnef = a
                        .content_type()
                        .and_then(|t| t.subtype())
                        .is_some_and(|t| t.eq_ignore_ascii_case("ms-tnef"));
                    !inline && !tnef
                })
                .map(|a| {
                    (
                        a.attachment_name().map(str::to_owned),
                        a.contents().to_vec(),
                    )
                })
                .collect(),
        })
    }
}

/// Closings that start a signature block when only a name or two follow them.
const VALEDICTIONS: &[&str] = &[
    "best regards",
    "kind regards",
    "regards",
    "best",
    "thanks",
    "thank you",
    "cheers",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "viele grüße",
    "beste grüße",
    "liebe grüße",
    "grüße",
    "gruß",
    "saludos",
    "un saludo",
    "saludos cordiales",
    "atentamente",
    "cordialement",
    "bien à vous",
    "atenciosamente",
    "abraços",
    "obrigado",
    "obrigada",
    "terima kasih",
    "salam",
    "hormat saya",
    "met vriendelijke groet",
    "مع التحية",
    "تحياتي",
];

/// The new text of a reply: everything before the quoted original and the signature,
/// trimmed. Plain text in; lines quoted with `>` never survive.
pub fn new_text(body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let lower = line.trim().to_lowercase();
        let next = lines.get(i + 1).map(|l| l.trim().to_lowercase());
        let joined = match &next {
            Some(n) => format!("{lower} {n}"),
            None => lower.clone(),
        };
        let attribution = ATTRIBUTIONS.iter().any(|(start, word, tail)| {
            lower.starts_with(start)
                && ((lower.ends_with(tail) && lower.contains(word))
                    || (joined.ends_with(tail) && joined.contains(word)))
        }) && (lower.contains('@')
            || joined.contains('@')
            || lower.chars().any(|c| c.is_ascii_digit()));
        let separator = SEPARATORS.contains(&lower.as_str())
            || (lower.len() >= 10 && lower.chars().all(|c| c == '_'));
        let outlook_block = HEADER_FROM.iter().any(|f| lower.starts_with(f))
            && lines[i + 1..].iter().take(4).any(|l| {
                HEADER_NEXT
                    .iter()
                    .any(|h| l.trim().to_lowercase().starts_with(h))
            });
        let signature = *line == "-- "
            || *line == "--"
            || DEVICE_SIGNATURES.iter().any(|s| lower.starts_with(s));
        if attribution || separator || outlook_block || signature {
            end = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..end]
        .iter()
        .copied()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect();
    // A closing after the text, followed by at most three short lines (a name, a title).
    let closing = kept.iter().position(|l| {
        let l = l.trim().trim_end_matches([',', '!', '.']).to_lowercase();
        VALEDICTIONS.contains(&l.as_str())
    });
    if let Some(at) = closing {
        let before = kept[..at].iter().any(|l| !l.trim().is_empty());
        let after: Vec<&&str> = kept[at + 1..]
            .iter()
            .filter(|l| !l.trim().is_empty())
            .collect();
        // A name or a title: a few words, no digits, no sentence.
        let name_like = |l: &str| {
            l.split_whitespace().count() <= 4
                && !l
                    .chars()
                    .any(|c| c.is_ascii_digit() || matches!(c, '.' | '!' | '?' | ':'))
        };
        if before && after.len() <= 3 && after.iter().all(|l| name_like(l)) {
            kept.truncate(at);
        }
    }
    let printable = |t: &str| -> String {
        t.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect::<String>()
            .trim()
            .to_owned()
    };
    match printable(&kept.join("\n")) {
        // Nothing was left (a reply written below the quote): the whole body, unquoted.
        t if t.is_empty() => printable(
            &body
                .lines()
                .filter(|l| !l.trim_start().starts_with('>'))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        t => t,
    }
}

/// Why a message is not a person's reply (an auto-reply, a bounce, list or bulk mail), from
/// its headers (name, value) and envelope sender; `None` for a person's.
pub fn automatic(headers: &[(String, String)], envelope_from: &str) -> Option<&'static str> {
    let get = |name: &'static str| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if get("auto-submitted").any(|v| v != "no") {
        return Some("an automatic message (Auto-Submitted)");
    }
    if get("precedence").any(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply")) {
        return Some("bulk or list mail (Precedence)");
    }
    if get("x-autoreply").next().is_some()
        || get("x-autorespond").next().is_some()
        || get("x-auto-response-suppress").any(|v| v.contains("all") || v.contains("oof"))
    {
        return Some("an auto-reply");
    }
    if get("list-id").next().is_some() || get("list-unsubscribe").next().is_some() {
        return Some("list mail");
    }
    if get("content-type").any(|v| v.contains("multipart/report")) {
        return Some("a delivery report (bounce)");
    }
    let sender = envelope_from
        .trim()
        .trim_matches(['<', '>'])
        .to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or("");
    if sender.is_empty() || matches!(local, "mailer-daemon" | "postmaster") {
        return Some("a delivery report (bounce)");
    }
    None
}

/// Whether the receiving server's verdict — the topmost `ARC-Authentication-Results` or
/// `Authentication-Results`, the one it added last (anything further down the sender may have
/// written) — says the sender's domain failed DKIM, SPF or DMARC without passing DMARC.
pub fn spoofed(headers: &[(String, String)]) -> bool {
    let Some((_, verdict)) = headers.iter().find(|(n, _)| {
        n.eq_ignore_ascii_case("arc-authentication-results")
            || n.eq_ignore_ascii_case("authentication-results")
    }) else {
        return false;
    };
    let v = verdict.to_ascii_lowercase();
    !v.contains("dmarc=pass")
        && (v.contains("dkim=fail") || v.contains("spf=fail") || v.contains("dmarc=fail"))
}

/// Whether the receiving server's verdict (as for [`spoofed`]) positively authenticates mail
/// from `domain`: DMARC passed, or DKIM passed with a signature of that domain. A contact's
/// reply needs it (it speaks as the visitor); no verdict at all is not enough.
pub fn authenticated(headers: &[(String, String)], domain: &str) -> bool {
    let Some((_, verdict)) = headers.iter().find(|(n, _)| {
        n.eq_ignore_ascii_case("arc-authentication-results")
            || n.eq_ignore_ascii_case("authentication-results")
    }) else {
        return false;
    };
    let v = verdict.to_ascii_lowercase();
    let signed_by = format!("header.d={}", domain.to_ascii_lowercase());
    // Each `;`-separated clause is one method's result: the passing DKIM signature must be the
    // domain's own.
    v.split(';').any(|clause| {
        let words: Vec<&str> = clause.split_whitespace().collect();
        words.contains(&"dmarc=pass")
            || (words.contains(&"dkim=pass") && words.contains(&signed_by.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contacts_reply_needs_a_positive_verdict_for_its_domain() {
        let h = |v: &str| vec![("Authentication-Results".to_owned(), v.to_owned())];
        assert!(authenticated(
            &h("mx; dkim=pass header.d=example.net; spf=pass; dmarc=pass"),
            "example.net"
        ));
        assert!(authenticated(
            &h("mx; dkim=pass header.d=example.net; spf=none"),
            "example.net"
        ));
        assert!(!authenticated(
            &h("mx; dkim=pass header.d=evil.example; spf=none"),
            "example.net"
        ));
        assert!(!authenticated(
            &h("mx; dkim=pass header.d=example.network"),
            "example.net"
        ));
        assert!(!authenticated(
            &h("mx; dkim=fail; spf=fail; dmarc=fail"),
            "example.net"
        ));
        // A passing signature of another domain beside a failing one of this domain.
        assert!(!authenticated(
            &h("mx; dkim=fail header.d=example.net; dkim=pass header.d=evil.example"),
            "example.net"
        ));
        assert!(!authenticated(&[], "example.net"));
    }

    #[test]
    fn quoted_history_and_signatures_are_cut() {
        let gmail = "Yes, we ship to Lyon in 2 days.\n\nOn Mon, Dec 1, 2026 at 10:00 AM Beckon <chat@notify.example.com> wrote:\n> New chat on Shop\n> Do you ship to Lyon?\n";
        assert_eq!(new_text(gmail), "Yes, we ship to Lyon in 2 days.");
        let wrapped = "Sure!\r\n\r\nOn Mon, Dec 1, 2026 at 10:00 AM Beckon Chat Notifications <\r\nchat@notify.example.com> wrote:\r\n> hi\r\n";
        assert_eq!(new_text(wrapped), "Sure!");
        let german = "Ja, gerne.\n\nViele Grüße\nAna\n\nAm 01.12.2026 um 10:00 schrieb Beckon <chat@notify.example.com>:\n> Hallo\n";
        assert_eq!(new_text(german), "Ja, gerne.");
        // A closing that is the whole reply, or followed by more text, stays.
        assert_eq!(new_text("Thanks!"), "Thanks!");
        let more =
            "Sure.\nThanks\nfor asking, we will call you tomorrow morning at nine o'clock sharp.";
        assert_eq!(new_text(more), more);
        let shipping = "Got it.\nThanks!\nShips Monday.\nTracking 1Z9";
        assert_eq!(new_text(shipping), shipping);
        // A German line that only begins like an attribution is text.
        let closed = "Am 24.12. geschlossen.\nAb 27.12. gilt:\nwie immer.";
        assert_eq!(new_text(closed), closed);
        let french =
            "C'est fait.\n\nDe : Shop <chat@notify.shop.example>\nEnvoyé : lundi\nObjet : chat";
        assert_eq!(new_text(french), "C'est fait.");
        let outlook = "Thanks, done.\n\n________________________________\nFrom: Beckon <chat@notify.example.com>\nSent: Monday, December 1, 2026 10:00\nTo: support@shop.example\nSubject: [Chat c_1] New chat\n\nDo you ship?";
        assert_eq!(new_text(outlook), "Thanks, done.");
        let outlook_de = "Erledigt.\n\nVon: Beckon <chat@notify.example.com>\nGesendet: Montag, 1. Dezember 2026 10:00\nAn: support@shop.example\n";
        assert_eq!(new_text(outlook_de), "Erledigt.");
        let spanish = "Claro que sí.\n\nEnviado desde mi iPhone\n\nEl lun, 1 dic 2026 a las 10:00, Beckon (<chat@notify.example.com>) escribió:\n> Hola";
        assert_eq!(new_text(spanish), "Claro que sí.");
        let sig = "On my way.\n-- \nAna Lima\nShop Support\n";
        assert_eq!(new_text(sig), "On my way.");
        let inline = "> Do you ship?\nYes.";
        assert_eq!(new_text(inline), "Yes.");
        // A sentence that merely begins with "On" is kept.
        let plain = "On Monday we are closed.\nSee you Tuesday.";
        assert_eq!(new_text(plain), plain);
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// A fixture of `tests/fixtures/email/` as a mail client sent it.
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../tests/fixtures/email/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("{{FROM}}", "agent@shop.example")
            .replace("{{TO}}", "reply+c_1.0123456789abcdef@inbound.shop.example")
            .replace(
                "{{IN_REPLY_TO}}",
                "<c_1.0123456789abcdef@inbound.shop.example>",
            )
            .replace("{{SUBJECT}}", "[Chat 1] Shop")
            .replace('\n', "\r\n")
            .into_bytes()
    }

    #[test]
    fn three_clients_in_two_languages_give_just_the_new_text() {
        let gmail = Reply::parse(&fixture("gmail_en.eml")).unwrap();
        assert_eq!(gmail.text, "Yes, we ship to Lyon: it takes 2 days.");
        assert_eq!(
            (gmail.from.as_str(), gmail.from_name.as_deref()),
            ("agent@shop.example", Some("Ana Lima"))
        );
        assert_eq!(
            gmail.answers[0],
            "c_1.0123456789abcdef@inbound.shop.example"
        );
        assert!(gmail.files.is_empty());
        let outlook = Reply::parse(&fixture("outlook_de.eml")).unwrap();
        assert_eq!(
            outlook.text,
            "Grüß Gott! Die Lieferung nach München dauert 3 Tage."
        );
        assert_eq!(outlook.from_name.as_deref(), Some("Jürgen Müller"));
        let apple = Reply::parse(&fixture("apple_es.eml")).unwrap();
        assert_eq!(apple.text, "¡Claro! Aquí tienes la foto del modelo azul.");
        assert_eq!(apple.files.len(), 1);
        assert_eq!(apple.files[0].0.as_deref(), Some("azul.png"));
        assert!(apple.files[0].1.starts_with(b"\x89PNG"));
        for (name, from) in [
            ("autoreply.eml", "agent@shop.example"),
            ("bounce.eml", "MAILER-DAEMON@mx.shop.example"),
        ] {
            let r = Reply::parse(&fixture(name)).unwrap();
            assert!(automatic(&r.headers, from).is_some(), "{name}");
        }
        assert_eq!(automatic(&gmail.headers, "agent@shop.example"), None);
        assert!(!spoofed(&gmail.headers));
    }

    #[test]
    fn automatic_mail_is_recognised() {
        assert_eq!(
            automatic(&h(&[("Subject", "Re: hi")]), "ana@shop.example"),
            None
        );
        assert!(automatic(
            &h(&[("Auto-Submitted", "auto-replied")]),
            "ana@shop.example"
        )
        .is_some());
        assert_eq!(
            automatic(&h(&[("Auto-Submitted", "no")]), "ana@shop.example"),
            None
        );
        assert!(automatic(&h(&[("Precedence", "bulk")]), "ana@shop.example").is_some());
        assert!(automatic(&h(&[("X-Autoreply", "yes")]), "ana@shop.example").is_some());
        assert!(automatic(
            &h(&[(
                "Content-Type",
                "multipart/report; report-type=delivery-status; boundary=x"
            )]),
            "x@y"
        )
        .is_some());
        assert!(automatic(&h(&[]), "MAILER-DAEMON@mx.example").is_some());
        assert!(automatic(&h(&[]), "<>").is_some());
    }

    #[test]
    fn failed_authentication_is_spoofed_unless_dmarc_passed() {
        let fail = h(&[(
            "Authentication-Results",
            "mx.cloudflare.net; dkim=fail header.d=shop.example; spf=fail",
        )]);
        assert!(spoofed(&fail));
        let pass = h(&[(
            "Authentication-Results",
            "mx.cloudflare.net; dkim=pass; spf=pass; dmarc=pass",
        )]);
        assert!(!spoofed(&pass));
        assert!(!spoofed(&h(&[])));
        // A "pass" the sender wrote below the receiving server's "fail" changes nothing.
        let forged = h(&[
            (
                "ARC-Authentication-Results",
                "i=1; mx.cloudflare.net; dkim=fail; spf=fail",
            ),
            ("Authentication-Results", "forged.example; dmarc=pass"),
        ]);
        assert!(spoofed(&forged));
    }
}
