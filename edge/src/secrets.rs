//! Encryption at rest for channel secrets (bot tokens, signing secrets) and a site's identity
//! and Turnstile secrets: AES-256-GCM with a key derived from the `SECRETS_KEY` Worker secret,
//! a fresh random nonce per value, and the site and what the secret is for as associated data
//! (a ciphertext copied to another row will not decrypt).
//! D1 exports and backups therefore never contain usable tokens.

use crate::error::{Error, Result};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

fn cipher(key_material: &[u8]) -> Aes256Gcm {
    let mut h = Sha256::new();
    h.update(b"beckon/channel-secrets/v1\n");
    h.update(key_material);
    Aes256Gcm::new_from_slice(&h.finalize()).expect("32-byte key")
}

/// Encrypts `plaintext`; `aad` binds it to its row.
pub fn seal(key_material: &[u8], aad: &str, plaintext: &[u8], nonce: [u8; 12]) -> String {
    let ct = cipher(key_material)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of a small value");
    format!(
        "v1.{}.{}",
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(ct)
    )
}

/// [`seal`] under the Worker's `SECRETS_KEY`, with a fresh random nonce.
pub fn seal_at_rest(env: &worker::Env, aad: &str, plaintext: &[u8]) -> Result<String> {
    let key = crate::http::secret(env, "SECRETS_KEY")?;
    Ok(seal(&key, aad, plaintext, crate::random::bytes()))
}

/// [`open`] under the Worker's `SECRETS_KEY`.
pub fn open_at_rest(env: &worker::Env, aad: &str, sealed: &str) -> Result<Vec<u8>> {
    open(&crate::http::secret(env, "SECRETS_KEY")?, aad, sealed)
}

/// Decrypts what [`seal`] produced for the same `aad`.
pub fn open(key_material: &[u8], aad: &str, sealed: &str) -> Result<Vec<u8>> {
    let mut parts = sealed.split('.');
    let (Some("v1"), Some(nonce), Some(ct), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::internal("stored secret has an unknown format"));
    };
    let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(Error::internal)?;
    let ct = URL_SAFE_NO_PAD.decode(ct).map_err(Error::internal)?;
    if nonce.len() != 12 {
        return Err(Error::internal("stored secret has a bad nonce"));
    }
    cipher(key_material)
        .decrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| Error::internal("stored secret does not decrypt (was SECRETS_KEY changed?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_to_its_row() {
        let sealed = seal(
            b"key-material-0123456789",
            "demo/slack",
            b"xoxb-123",
            [7; 12],
        );
        assert!(sealed.starts_with("v1.") && !sealed.contains("xoxb"));
        assert_eq!(
            open(b"key-material-0123456789", "demo/slack", &sealed).unwrap(),
            b"xoxb-123"
        );
        assert!(open(b"other-key-material-000", "demo/slack", &sealed).is_err());
        assert!(open(b"key-material-0123456789", "shop/slack", &sealed).is_err());
        assert!(open(b"key-material-0123456789", "demo/slack", "v1.x.y").is_err());
        assert_ne!(
            sealed,
            seal(
                b"key-material-0123456789",
                "demo/slack",
                b"xoxb-123",
                [8; 12]
            )
        );
    }
}
