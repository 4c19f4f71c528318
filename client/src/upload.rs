//! Sending a file: checks what the browser says about it (type, size) before any byte goes,
//! then the upload protocol — create (or resume) by the file's upload key, each missing part
//! with progress (XMLHttpRequest: `fetch` reports no upload progress), complete. A part that
//! fails is retried with backoff from where the upload stands, so a dropped connection costs at
//! most one part; cancelling aborts the request in flight and the upload.

use crate::api::{self, CallError};
use beckon_shared::i18n::{Locale, Text};
use beckon_shared::media::{self, PART_BYTES};
use beckon_shared::proto::v1::{paths, Attachment, CreateUpload, Upload};
use beckon_shared::{backoff, ClientMsgId, ConversationId};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{File, ProgressEvent, XmlHttpRequest};

/// Tries per part before the upload is reported as failed (it can be retried by the user).
const PART_TRIES: u32 = 6;

/// Why a file was not sent: a sentence for the user.
pub type Refusal = String;

/// Checks a file as the browser describes it (its type and size); the edge checks the bytes.
pub fn check(file: &File) -> Result<(), Refusal> {
    let name = file.name();
    let tx = crate::i18n::current();
    // In English the exact reason; in another language, what to do about it.
    media::check_name(&name).map_err(|e| match tx.locale {
        Locale::En => format!("{name}: {}", e.describe()),
        _ => tx.f(Text::FileName, &[("name", &name)]),
    })?;
    let size = file.size() as u64;
    if size == 0 {
        return Err(tx.f(Text::FileEmpty, &[("name", &name)]));
    }
    let Some(max) = media::claimed_limit(&file.type_()) else {
        return Err(tx.f(Text::FileKind, &[("name", &name)]));
    };
    if size > max {
        let (size, max) = (size.div_ceil(1 << 20).to_string(), (max >> 20).to_string());
        return Err(tx.f(
            Text::FileTooBig,
            &[("name", &name), ("size", &size), ("max", &max)],
        ));
    }
    Ok(())
}

/// One upload's controls, shared with its UI row.
#[derive(Default)]
pub struct Control {
    cancelled: Cell<bool>,
    xhr: RefCell<Option<XmlHttpRequest>>,
}

impl Control {
    pub fn cancel(&self) {
        self.cancelled.set(true);
        if let Some(x) = self.xhr.borrow_mut().take() {
            let _ = x.abort();
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// Where to upload and as whom.
pub struct Target {
    pub conversation: ConversationId,
    /// A visitor token or an admin key.
    pub bearer: String,
}

/// Uploads `file` under `key`; `progress(bytes sent)` as it goes. Returns the attachment.
pub async fn upload(
    target: &Target,
    file: &File,
    key: &ClientMsgId,
    control: Rc<Control>,
    progress: impl Fn(u64) + 'static,
) -> Result<Attachment, CallError> {
    let conv = target.conversation.as_str();
    let create = CreateUpload {
        upload_key: key.clone(),
        name: file.name(),
        size: file.size() as u64,
        mime: Some(file.type_()).filter(|t| !t.is_empty()),
    };
    let body = serde_json::to_string(&create).map_err(|_| CallError::Network)?;
    let create_url = paths::fill(paths::UPLOADS, &[conv]);
    let mut up: Upload = with_retries(&control, || {
        api::call_json(
            "POST",
            &create_url,
            Some(&target.bearer),
            Some(body.clone()),
        )
    })
    .await?;
    let progress = Rc::new(progress);
    let result = send_parts(target, file, &mut up, &control, progress.clone()).await;
    if result.is_err() && control.cancelled() {
        let url = paths::fill(paths::UPLOAD, &[conv, up.id.as_str()]);
        let _ = api::call("DELETE", &url, Some(&target.bearer), None).await;
    }
    result?;
    progress(create.size);
    let url = paths::fill(paths::UPLOAD_COMPLETE, &[conv, up.id.as_str()]);
    let done: Upload = with_retries(&control, || {
        api::call_json("POST", &url, Some(&target.bearer), None)
    })
    .await?;
    done.attachment.ok_or(CallError::Network)
}

/// Sends the parts `up` has not received yet.
async fn send_parts(
    target: &Target,
    file: &File,
    up: &mut Upload,
    control: &Rc<Control>,
    progress: Rc<dyn Fn(u64)>,
) -> Result<(), CallError> {
    let conv = target.conversation.as_str();
    for n in 1..=up.parts {
        if up.received.contains(&n) {
            continue;
        }
        let start = (n as u64 - 1) * PART_BYTES;
        let end = (start + PART_BYTES).min(up.size);
        let blob = file
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|_| CallError::Network)?;
        let url = paths::fill(paths::UPLOAD_PART, &[conv, up.id.as_str(), &n.to_string()]);
        let p = progress.clone();
        *up = with_retries(control, || {
            let p = p.clone();
            put(&url, &target.bearer, &blob, control.clone(), move |sent| {
                p(start + sent)
            })
        })
        .await?;
    }
    Ok(())
}

/// Runs `f` until it succeeds, is refused, is cancelled, or has failed [`PART_TRIES`] times.
async fn with_retries<T, F, Fut>(control: &Control, mut f: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let mut attempt = 0;
    loop {
        if control.cancelled() {
            return Err(cancelled());
        }
        match f().await {
            Err(CallError::Network) if attempt + 1 < PART_TRIES && !control.cancelled() => {
                let wait = backoff::delay_ms(attempt, 500, 8_000, js_sys::Math::random());
                gloo_timers::future::TimeoutFuture::new(wait as u32).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn cancelled() -> CallError {
    CallError::Refused {
        status: 0,
        code: beckon_shared::proto::v1::ErrorCode::Unknown,
        message: crate::i18n::current().t(Text::Cancelled).into(),
    }
}

/// `PUT`s one part with upload progress; resolves to the upload's new state.
async fn put(
    url: &str,
    bearer: &str,
    blob: &web_sys::Blob,
    control: Rc<Control>,
    on_progress: impl Fn(u64) + 'static,
) -> Result<Upload, CallError> {
    let xhr = XmlHttpRequest::new().map_err(|_| CallError::Network)?;
    xhr.open("PUT", url).map_err(|_| CallError::Network)?;
    let (name, value) = crate::api::credential_header(bearer);
    let _ = xhr.set_request_header(name, &value);
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        on_progress(e.loaded() as u64)
    });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, _reject| {
        let r = resolve.clone();
        let finish = Closure::once_into_js(move || {
            let _ = r.call0(&wasm_bindgen::JsValue::NULL);
        });
        xhr.set_onloadend(Some(finish.unchecked_ref()));
    });
    *control.xhr.borrow_mut() = Some(xhr.clone());
    xhr.send_with_opt_blob(Some(blob))
        .map_err(|_| CallError::Network)?;
    let _ = wasm_bindgen_futures::JsFuture::from(done).await;
    control.xhr.borrow_mut().take();
    drop(progress);
    if control.cancelled() {
        return Err(cancelled());
    }
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        0 | 500.. => Err(CallError::Network),
        400.. => Err(api::refused(status, &text)),
        _ => beckon_shared::json::decode(&text).map_err(|_| CallError::Network),
    }
}
