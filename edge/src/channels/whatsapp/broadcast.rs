//! What WhatsApp asks of a broadcast: an approved template of the business account whose
//! header takes the broadcast's file (an image, a video or a document within WhatsApp's
//! limits) and whose body takes as many parameters as given — checked before anything is
//! sent — and the header's media uploaded to the business number once, its id reused for
//! every recipient.

use super::api::TemplateButton;
use super::{api, media, Whatsapp};
use crate::channels::{Failure, RelayFile};
use beckon_shared::media::FileType;
use beckon_shared::proto::v1::{Attachment, TemplateChoice};
use beckon_shared::rules::{CtaAction, CtaButton};
use worker::Env;

/// The template header format a file needs, and the media kind it is sent as.
fn header_for(a: &Attachment) -> Result<(&'static str, &'static str), String> {
    const MB: u64 = 1024 * 1024;
    let (format, kind, max) = match a.kind {
        FileType::Jpeg | FileType::Png => ("IMAGE", "image", 5 * MB),
        FileType::Mp4 => ("VIDEO", "video", 16 * MB),
        FileType::Pdf => ("DOCUMENT", "document", 100 * MB),
        _ => {
            return Err(format!(
                "WhatsApp template headers take a JPEG or PNG photo, an MP4 video or a PDF, not {}",
                a.kind.label()
            ))
        }
    };
    if a.size > max {
        return Err(format!(
            "{} is {} MB: too large for WhatsApp (a {} header takes at most {} MB)",
            a.name,
            a.size.div_ceil(MB),
            kind,
            max / MB
        ));
    }
    Ok((format, kind))
}

/// What a media header format takes, for messages.
fn header_noun(format: &str) -> &'static str {
    match format {
        "IMAGE" => "a photo",
        "VIDEO" => "a video",
        _ => "a document",
    }
}

/// A template's buttons are fixed at approval: a broadcast's must be the same, in order (a
/// reply button a `QUICK_REPLY` with its text, a link a `URL` button with its text and URL).
fn check_buttons(
    name: &str,
    approved: &[TemplateButton],
    wanted: &[CtaButton],
) -> Result<(), String> {
    if wanted.is_empty() {
        return Ok(());
    }
    let describe = |b: &TemplateButton| match b.kind.as_str() {
        "URL" => format!("link {:?} → {}", b.text, b.url.as_deref().unwrap_or("?")),
        "QUICK_REPLY" => format!("reply {:?}", b.text),
        other => format!("{} {:?}", other.to_lowercase(), b.text),
    };
    let same = approved.len() == wanted.len()
        && approved.iter().zip(wanted).all(|(a, w)| {
            a.text == w.label
                && match &w.action {
                    CtaAction::Reply => a.kind == "QUICK_REPLY",
                    CtaAction::Link { url } => a.kind == "URL" && a.url.as_deref() == Some(url),
                    CtaAction::Open => false,
                }
        });
    if same {
        return Ok(());
    }
    let has = if approved.is_empty() {
        "no buttons".to_owned()
    } else {
        approved.iter().map(describe).collect::<Vec<_>>().join(", ")
    };
    Err(format!(
        "WhatsApp template {name:?} has {has}: its buttons are fixed at approval, so the broadcast's buttons must be the same, in order"
    ))
}

impl Whatsapp {
    /// Checks `choice` against the account's templates: `Err` says what is wrong, for the
    /// admin to fix before sending.
    pub async fn check_broadcast(
        &self,
        env: &Env,
        choice: &TemplateChoice,
        file: Option<&Attachment>,
        buttons: &[CtaButton],
    ) -> Result<(), String> {
        let Some(account) = &self.settings.business_account_id else {
            return Err("set business_account_id in the WhatsApp channel's settings, so broadcast templates can be checked".into());
        };
        let request = api::list_templates(
            self.settings.api_base(),
            &self.settings.graph_version,
            account,
            &self.secrets.access_token,
            &choice.name,
        );
        let timeout = crate::transport::timeout_ms(env);
        let answer = crate::transport::send(&request, timeout, None)
            .await
            .and_then(|r| api::parse_templates(&r))
            .map_err(|f| format!("WhatsApp's template list could not be read: {}", f.reason()))?;
        let Some(t) = answer
            .iter()
            .find(|t| t.name == choice.name && t.language == choice.language)
        else {
            return Err(format!(
                "WhatsApp has no template {:?} in {}",
                choice.name, choice.language
            ));
        };
        if t.status != "APPROVED" {
            return Err(format!(
                "WhatsApp template {:?} is {}, not approved",
                t.name,
                t.status.to_lowercase()
            ));
        }
        let media_header = t
            .header
            .as_deref()
            .filter(|h| matches!(*h, "IMAGE" | "VIDEO" | "DOCUMENT"));
        match (media_header, file) {
            (Some(h), None) => {
                return Err(format!(
                    "template {:?} needs {} in its header: attach one",
                    t.name,
                    header_noun(h)
                ))
            }
            (None, Some(_)) => {
                return Err(format!(
                    "template {:?} has no media header to carry the file: choose a template with an image, video or document header",
                    t.name
                ))
            }
            (Some(h), Some(a)) => {
                let (needed, _) = header_for(a)?;
                if needed != h {
                    return Err(format!(
                        "template {:?} needs {} in its header, but the file is {}",
                        t.name,
                        header_noun(h),
                        a.kind.label()
                    ));
                }
            }
            (None, None) => {}
        }
        check_buttons(&t.name, &t.buttons, buttons)?;
        if t.body_parameters != choice.parameters.len() {
            return Err(format!(
                "template {:?} takes {} body parameters; {} given",
                t.name,
                t.body_parameters,
                choice.parameters.len()
            ));
        }
        Ok(())
    }

    /// Uploads the broadcast's file to the business number: the header's `(kind, media id)`.
    pub async fn upload_header(
        &self,
        env: &Env,
        file: &Attachment,
        key: String,
    ) -> Result<(String, String), Failure> {
        let (_, kind) = header_for(file).map_err(|reason| Failure::Rejected { reason })?;
        let relay = RelayFile {
            attachment: file,
            key,
            link: None,
        };
        let request = media::upload(&self.to(""), &relay);
        let bucket = env
            .bucket(crate::media::BUCKET)
            .map_err(Failure::internal)?;
        let answer =
            crate::transport::send(&request, crate::transport::timeout_ms(env), Some(&bucket))
                .await?;
        Ok((kind.to_owned(), media::parse_upload(&answer)?))
    }
}
