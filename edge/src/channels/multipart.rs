//! `multipart/form-data` bodies (RFC 7578) for channel uploads, sans-IO: text fields, then
//! one file whose bytes the transport streams from R2 between the head and the tail.

use super::api::{ApiRequest, FileSplice};

/// Fixed and long enough never to occur in a part by chance.
const BOUNDARY: &str = "beckon-7MA4YWxkTrZu0gW5r4qx9Qe";

/// A form being built.
#[derive(Default)]
pub struct Form {
    head: String,
}

/// A `"`, CR or LF in a field's name or filename, percent-encoded as browsers do.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    pub fn field(mut self, name: &str, value: &str) -> Form {
        self.head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
            quoted(name)
        ));
        self
    }

    /// The request: these fields, then the file (stored under `key`, `size` bytes) as field
    /// `name` with `filename` and `mime`.
    pub fn with_file(
        mut self,
        url: String,
        headers: Vec<(&'static str, String)>,
        (name, filename, mime): (&str, &str, &str),
        (key, size): (&str, u64),
    ) -> ApiRequest {
        self.head.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {mime}\r\n\r\n",
            quoted(name),
            quoted(filename)
        ));
        let mut headers = headers;
        headers.push((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ));
        ApiRequest {
            method: "POST",
            url,
            headers,
            body: self.head,
            file: Some(FileSplice {
                key: key.to_owned(),
                size,
                tail: format!("\r\n--{BOUNDARY}--\r\n"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_fields_then_the_file() {
        let r = Form::new()
            .field("chat_id", "-100")
            .field("caption", "a \"quote\"")
            .with_file(
                "https://x/sendDocument".into(),
                vec![],
                ("document", "in\"voice\r\n.pdf", "application/pdf"),
                ("c/k/a", 42),
            );
        assert_eq!(
            r.body,
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n-100\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\na \"quote\"\r\n\
                 --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"in%22voice%0D%0A.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
        );
        let f = r.file.unwrap();
        assert_eq!((f.key.as_str(), f.size), ("c/k/a", 42));
        assert_eq!(f.tail, format!("\r\n--{BOUNDARY}--\r\n"));
        assert_eq!(
            r.headers,
            vec![(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}")
            )]
        );
    }
}
