//! Files as the widget and the inbox send them: sample files of each kind (real headers,
//! deterministic filler), and the upload protocol (create, parts, complete) over HTTP.

use crate::api::{Api, Reply};
use beckon_shared::proto::v1::{paths, StartedConversation, Upload};
use beckon_shared::{AttachmentId, ConversationId};
use serde_json::json;

/// Deterministic filler bytes (a simple LCG), so a file's hash is reproducible.
pub fn filler(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// A PNG of `w` × `h` pixels: a real signature and IHDR, then filler to `len` bytes.
pub fn png(w: u32, h: u32, len: usize) -> Vec<u8> {
    let mut v = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ];
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let rest = len.saturating_sub(v.len());
    v.extend(filler(rest, w ^ h));
    v
}

/// A JPEG header with filler.
pub fn jpeg(len: usize) -> Vec<u8> {
    let mut v = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    let rest = len.saturating_sub(v.len());
    v.extend(filler(rest, 7));
    v
}

/// An MP4 (`ftyp isom`) with filler.
pub fn mp4(len: usize) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0x18];
    v.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    let rest = len.saturating_sub(v.len());
    v.extend(filler(rest, 11));
    v
}

/// A PDF header with filler.
pub fn pdf(len: usize) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let rest = len.saturating_sub(v.len());
    v.extend(filler(rest, 13));
    v
}

/// Lowercase hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The upload protocol for one sender (`bearer`: a visitor token or an admin key).
pub struct Uploader<'a> {
    pub api: &'a Api,
    pub conversation: ConversationId,
    pub bearer: String,
}

impl<'a> Uploader<'a> {
    /// The visitor of `started` uploading into their conversation.
    pub fn visitor(api: &'a Api, started: &StartedConversation) -> Self {
        Uploader {
            api,
            conversation: started.conversation_id.clone(),
            bearer: started.visitor_token.clone(),
        }
    }

    fn path(&self, pattern: &str, extra: &[&str]) -> String {
        let mut values = vec![self.conversation.as_str()];
        values.extend_from_slice(extra);
        paths::fill(pattern, &values)
    }

    /// `POST …/uploads`.
    pub async fn create(&self, key: &str, name: &str, size: usize, mime: Option<&str>) -> Reply {
        let mut body = json!({"upload_key": key, "name": name, "size": size});
        if let Some(m) = mime {
            body["mime"] = json!(m);
        }
        self.api
            .send(
                self.api
                    .post(&self.path(paths::UPLOADS, &[]))
                    .bearer_auth(&self.bearer)
                    .json(&body),
            )
            .await
    }

    /// `PUT …/parts/{n}` with `bytes`.
    pub async fn put_part(&self, id: &AttachmentId, n: u32, bytes: Vec<u8>) -> Reply {
        let path = self.path(paths::UPLOAD_PART, &[id.as_str(), &n.to_string()]);
        self.api
            .send(
                self.api
                    .http
                    .put(format!("{}{path}", self.api.base))
                    .bearer_auth(&self.bearer)
                    .body(bytes),
            )
            .await
    }

    /// `GET …/uploads/{id}`.
    pub async fn state(&self, id: &AttachmentId) -> Reply {
        self.api
            .send(
                self.api
                    .get(&self.path(paths::UPLOAD, &[id.as_str()]))
                    .bearer_auth(&self.bearer),
            )
            .await
    }

    /// `DELETE …/uploads/{id}`: cancels it.
    pub async fn cancel(&self, id: &AttachmentId) -> Reply {
        self.api
            .send(
                self.api
                    .http
                    .delete(format!(
                        "{}{}",
                        self.api.base,
                        self.path(paths::UPLOAD, &[id.as_str()])
                    ))
                    .bearer_auth(&self.bearer),
            )
            .await
    }

    /// `POST …/complete`.
    pub async fn complete(&self, id: &AttachmentId) -> Reply {
        self.api
            .send(
                self.api
                    .post(&self.path(paths::UPLOAD_COMPLETE, &[id.as_str()]))
                    .bearer_auth(&self.bearer),
            )
            .await
    }

    /// The whole protocol: create, every part in order, complete. Returns the completed upload
    /// or the first refusal.
    pub async fn upload(
        &self,
        key: &str,
        name: &str,
        bytes: &[u8],
        mime: Option<&str>,
    ) -> Result<Upload, Reply> {
        let r = self.create(key, name, bytes.len(), mime).await;
        if r.status != 200 {
            return Err(r);
        }
        let up: Upload = serde_json::from_value(r.body).unwrap();
        for (i, chunk) in bytes.chunks(up.part_bytes as usize).enumerate() {
            let r = self.put_part(&up.id, i as u32 + 1, chunk.to_vec()).await;
            if r.status != 200 {
                return Err(r);
            }
        }
        let r = self.complete(&up.id).await;
        if r.status != 200 {
            return Err(r);
        }
        Ok(serde_json::from_value(r.body).unwrap())
    }

    /// Downloads a signed URL (relative to the API's origin), with an optional `Range`.
    pub async fn download(&self, url: &str, range: Option<&str>) -> reqwest::Response {
        let mut req = self.api.http.get(format!("{}{url}", self.api.base));
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send().await.expect("download reaches the edge")
    }
}

/// A real, decodable PNG of `w` × `h` pixels in one colour (browsers draw it).
pub fn solid_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    use std::io::Write;
    // Each row: filter type 0, then the pixels.
    let row: Vec<u8> = std::iter::once(0).chain((0..w).flat_map(|_| rgb)).collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&row.repeat(h as usize)).unwrap();
    png_from_idat(w, h, &z.finish().unwrap())
}

/// A real PNG of `w` × `h` pixels of noise: it barely compresses, so its size is about
/// `w * h * 3` bytes (a stand-in for a photo of that weight).
pub fn noise_png(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    let mut raw = Vec::with_capacity((w as usize * 3 + 1) * h as usize);
    for y in 0..h {
        raw.push(0);
        raw.extend(filler(w as usize * 3, y));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&raw).unwrap();
    png_from_idat(w, h, &z.finish().unwrap())
}

fn png_from_idat(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", idat);
    chunk(&mut out, b"IEND", &[]);
    out
}
