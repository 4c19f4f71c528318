//! One person, two numbers: WhatsApp names some people by a `wa_id` that is not the number
//! the business has for them. A Brazilian mobile registered before the ninth digit was added
//! is `55 DD NNNNNNNN` to WhatsApp and `55 DD 9NNNNNNNN` in the business's records (or the
//! other way round); a Mexican mobile is `52 1 …` to WhatsApp and `52 …` on paper. A
//! contact's messages and statuses come with the `wa_id`: [`known_form`] finds which form the
//! site knows them by, so their answer, their STOP and their statuses reach the right
//! conversation and consent.

use crate::channels::Hook;
use crate::error::Result;
use crate::storage::contacts;

/// `wa_id` and the other form of the same number, if it has one (exact first).
pub fn forms(wa_id: &str) -> Vec<String> {
    let mut forms = vec![wa_id.to_owned()];
    if !wa_id.bytes().all(|b| b.is_ascii_digit()) {
        return forms;
    }
    let mobile = |first: u8| (b'6'..=b'9').contains(&first);
    let b = wa_id.as_bytes();
    let other = match (b.len(), wa_id.get(..2)) {
        // Brazil: country, two-digit area, then the mobile's eight digits with or without 9.
        (12, Some("55")) if mobile(b[4]) => Some(format!("{}9{}", &wa_id[..4], &wa_id[4..])),
        (13, Some("55")) if b[4] == b'9' && mobile(b[5]) => {
            Some(format!("{}{}", &wa_id[..4], &wa_id[5..]))
        }
        // Mexico: ten digits after the country code, with or without the mobile 1.
        (13, Some("52")) if b[2] == b'1' => Some(format!("52{}", &wa_id[3..])),
        (12, Some("52")) if b[2] != b'1' => Some(format!("521{}", &wa_id[2..])),
        _ => None,
    };
    forms.extend(other);
    forms
}

/// One key for both forms of a number (the smaller of them): two records holding one form
/// each are one person's.
pub fn person_key(number: &str) -> String {
    forms(number)
        .into_iter()
        .min()
        .unwrap_or_else(|| number.to_owned())
}

/// The form of `wa_id` the site knows this person by: the one its conversation is held on,
/// else a contact's phone, else a consent (a STOP is recorded under both forms, so it says
/// the least); `wa_id` itself when it knows neither, or both as well.
pub async fn known_form(hook: &Hook<'_>, wa_id: String) -> Result<String> {
    let forms = forms(&wa_id);
    if forms.len() == 1 {
        return Ok(wa_id);
    }
    let known = contacts::known_whatsapp_numbers(&hook.db()?, hook.site, &forms).await?;
    Ok(best_known(wa_id, &known))
}

/// Of the `known` forms (with how they are known, lower first), the best; `wa_id` among
/// equals.
fn best_known(wa_id: String, known: &[(String, i64)]) -> String {
    let Some(best) = known.iter().map(|(_, rank)| *rank).min() else {
        return wa_id;
    };
    let top = || known.iter().filter(|(_, rank)| *rank == best);
    match top().any(|(n, _)| *n == wa_id) {
        true => wa_id,
        false => top().next().map_or(wa_id, |(n, _)| n.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::forms;

    #[test]
    fn brazilian_and_mexican_mobiles_have_two_forms() {
        assert_eq!(forms("551187654321"), ["551187654321", "5511987654321"]);
        assert_eq!(forms("5511987654321"), ["5511987654321", "551187654321"]);
        assert_eq!(forms("5215512345678"), ["5215512345678", "525512345678"]);
        assert_eq!(forms("525512345678"), ["525512345678", "5215512345678"]);
        assert_eq!(forms("4915100000001"), ["4915100000001"]);
        use super::person_key;
        assert_eq!(person_key("5511987654321"), person_key("551187654321"));
        assert_eq!(person_key("5215512345678"), person_key("525512345678"));
        assert_ne!(person_key("5511987654321"), person_key("5511987654322"));
    }

    #[test]
    fn the_form_a_conversation_is_held_on_wins_over_a_record_and_a_consent() {
        use super::best_known;
        let (on_record, wa_id) = ("5511987654321", "551187654321");
        let known = |k: &[(&str, i64)]| -> Vec<(String, i64)> {
            k.iter().map(|(n, r)| (n.to_string(), *r)).collect()
        };
        let pick = |k: &[(&str, i64)]| best_known(wa_id.into(), &known(k));
        assert_eq!(pick(&[]), wa_id);
        assert_eq!(pick(&[(on_record, 1)]), on_record);
        // After a STOP both forms have a consent: the record still decides.
        assert_eq!(
            pick(&[(on_record, 1), (on_record, 2), (wa_id, 2)]),
            on_record
        );
        assert_eq!(pick(&[(on_record, 0), (wa_id, 1)]), on_record);
        assert_eq!(pick(&[(on_record, 1), (wa_id, 1)]), wa_id);
    }

    #[test]
    fn other_numbers_have_one() {
        for n in [
            "16505551234",   // United States
            "4915112345678", // Germany
            "551132345678",  // a landline in São Paulo: no ninth digit
            "5511912345678x",
            "55119876",
            "",
        ] {
            assert_eq!(forms(n), [n], "{n}");
        }
    }
}
