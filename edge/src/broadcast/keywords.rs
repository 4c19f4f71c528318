//! Opt-out and opt-in keywords a contact may send on WhatsApp or Telegram: a message that is
//! only "STOP" (or a common translation) stops broadcasts to them from that moment; "START"
//! takes it back. Matching is on the whole message, ignoring case, accents, spaces and
//! punctuation, so "Stop!" counts and "don't stop the music" does not.

/// What a contact's message asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Start,
}

const STOP: &[&str] = &[
    // English
    "stop",
    "stopall",
    "unsubscribe",
    "optout",
    "cancel",
    "end",
    "quit",
    // Spanish, Portuguese
    "baja",
    "darmedebaja",
    "detener",
    "parar",
    "pare",
    "sair",
    "cancelar",
    "descadastrar",
    // French, German
    "arret",
    "desabonner",
    "desinscrire",
    "stopp",
    "abmelden",
    "abbestellen",
    // Indonesian
    "berhenti",
    "hentikan",
    // Arabic
    "توقف",
    "ايقاف",
    "الغاء",
];

const START: &[&str] = &[
    "start",
    "unstop",
    "subscribe",
    "/start",
    "iniciar",
    "inscrever",
    "mulai",
];

/// The keyword `text` is, if it is one.
pub fn keyword(text: &str) -> Option<Keyword> {
    if text.chars().count() > 40 {
        return None;
    }
    let folded: String = text
        .chars()
        .filter_map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => Some('e'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Î' => Some('i'),
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'Ó' | 'Ô' | 'Ö' => Some('o'),
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Û' | 'Ü' => Some('u'),
            // Arabic alef forms, for "إيقاف" / "إلغاء".
            'إ' | 'أ' | 'آ' => Some('ا'),
            '/' => Some('/'),
            c if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap_or(c)),
            _ => None,
        })
        .collect();
    if STOP.contains(&folded.as_str()) {
        Some(Keyword::Stop)
    } else if START.contains(&folded.as_str()) {
        Some(Keyword::Start)
    } else {
        None
    }
}

/// The confirmation sent to a contact who opted out.
pub fn stop_confirmation(site_name: &str) -> String {
    format!(
        "You will not get more messages like this from {site_name}. Reply START to get them again."
    )
}

/// The confirmation sent to a contact who opted in again.
pub fn start_confirmation(site_name: &str) -> String {
    format!("You will get messages from {site_name} again. Reply STOP to stop them.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_keywords_in_several_languages() {
        for stop in [
            "STOP",
            "Stop!",
            " stop ",
            "Unsubscribe",
            "opt out",
            "PARAR",
            "Arrêt",
            "Abmelden",
            "Berhenti",
            "إيقاف",
            "إلغاء",
        ] {
            assert_eq!(keyword(stop), Some(Keyword::Stop), "{stop}");
        }
        for start in ["START", "/start", "Start."] {
            assert_eq!(keyword(start), Some(Keyword::Start), "{start}");
        }
        for not in [
            "don't stop the music",
            "stop it please, I want the price",
            "",
            "hello",
        ] {
            assert_eq!(keyword(not), None, "{not}");
        }
    }
}
