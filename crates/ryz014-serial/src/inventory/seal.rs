//! Secrets sealed to the operator with `age` (X25519 recipients): a station given the operator's
//! public recipient (`provision --seal-to age1…`) stores each PSK only sealed (an armored age
//! file in the `psk_sealed` column) with its first 4 hex digits in clear (`psk_hex`: what lists
//! show and what the held-key check compares with the modem). Only the operator's private key
//! (`inventory export --identity FILE`, as written by `age-keygen`) opens them again.
//!
//! A sealed record is sealed from the moment it is recorded (pending): the clear secret lives
//! only in the memory of the run that writes it to the modem. A pending or failed sealed record
//! cannot be unsealed at a station, so a re-run resumes it with a fresh key (the old one never
//! reached the server: only verified records are exported).

use std::fs;
use std::path::{Path, PathBuf};

use age::x25519::{Identity, Recipient};
use ryz014_core::psk::PskSecret;

use super::{InventoryError, Record, State};

/// Parses an operator's public recipient (`age1…`, X25519).
pub fn parse_recipient(text: &str) -> Result<Recipient, InventoryError> {
    text.trim()
        .parse::<Recipient>()
        .map_err(|e| InventoryError::Seal {
            problem: format!(
                "--seal-to {:?} is not an age X25519 recipient (age1…): {e}",
                text.trim()
            ),
        })
}

/// The operator's private key(s), read from an identity file (`AGE-SECRET-KEY-1…` lines; `#`
/// comments and blank lines ignored). Its `Debug` output shows only the file name.
pub struct OperatorIdentity {
    identities: Vec<Identity>,
    path: PathBuf,
}

impl std::fmt::Debug for OperatorIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorIdentity")
            .field("path", &self.path)
            .field("keys", &self.identities.len())
            .finish()
    }
}

impl OperatorIdentity {
    /// Reads an identity file. The errors name the file and the line, never its content.
    pub fn read(path: &Path) -> Result<Self, InventoryError> {
        let bad = |problem: String| InventoryError::Identity {
            path: path.to_path_buf(),
            problem,
        };
        let text = fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let mut identities = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id = line.parse::<Identity>().map_err(|_| {
                bad(format!(
                    "line {} is not an age X25519 identity (AGE-SECRET-KEY-1…)",
                    n + 1
                ))
            })?;
            identities.push(id);
        }
        if identities.is_empty() {
            return Err(bad(
                "it holds no age identity (AGE-SECRET-KEY-1… line, as age-keygen writes)".into(),
            ));
        }
        Ok(OperatorIdentity {
            identities,
            path: path.to_path_buf(),
        })
    }

    /// The file the identities were read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a sealed record's secret, and checks it against the prefix kept in clear.
    pub fn unseal(&self, rec: &Record) -> Result<PskSecret, InventoryError> {
        let Some(sealed) = rec.sealed.as_deref() else {
            return Ok(rec.secret.clone());
        };
        let bad = |problem: String| InventoryError::Unseal {
            id: rec.id,
            path: self.path.clone(),
            problem,
        };
        let mut last = None;
        for id in &self.identities {
            match age::decrypt(id, sealed.as_bytes()) {
                Ok(clear) => {
                    let text = String::from_utf8(clear)
                        .map_err(|_| bad("the sealed text is not a PSK".into()))?;
                    let secret = PskSecret::from_hex(text.trim())
                        .map_err(|e| bad(format!("the sealed text is not a PSK: {e}")))?;
                    if !secret.matches_prefix(&rec.secret.prefix()) {
                        return Err(bad(
                            "the sealed secret does not match the record's key prefix".into(),
                        ));
                    }
                    return Ok(secret);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(age::DecryptError::NoMatchingKeys) | None => bad(
                "it is sealed to another recipient (this identity file does not open it)".into(),
            ),
            Some(e) => bad(e.to_string()),
        })
    }
}

/// Seals a secret to `recipient`: the armored age text.
pub(crate) fn seal(recipient: &Recipient, secret: &PskSecret) -> Result<String, InventoryError> {
    age::encrypt_and_armor(recipient, secret.expose_hex().as_bytes()).map_err(|e| {
        InventoryError::Seal {
            problem: format!("sealing the secret failed: {e}"),
        }
    })
}

/// What the `psk_hex` and `psk_sealed` columns hold for `secret`: the clear hex and nothing, or,
/// sealing to `recipient`, the first 4 hex digits and the sealed text.
pub(crate) fn columns(
    recipient: Option<&Recipient>,
    secret: &PskSecret,
) -> Result<(String, Option<String>), InventoryError> {
    match recipient {
        None => Ok((secret.expose_hex(), None)),
        Some(r) => Ok((secret.prefix(), Some(seal(r, secret)?))),
    }
}

/// The verified records with their secrets in clear, for an export: sealed ones are opened with
/// `identity`; without it, sealed records refuse the export (nothing is written).
pub(crate) fn unsealed(
    records: Vec<Record>,
    identity: Option<&OperatorIdentity>,
) -> Result<Vec<Record>, InventoryError> {
    let sealed = records.iter().filter(|r| r.sealed.is_some()).count();
    match identity {
        None if sealed > 0 => Err(InventoryError::SealedExport { count: sealed }),
        None => Ok(records),
        Some(identity) => records
            .into_iter()
            .map(|mut r| {
                if r.state == State::Verified && r.sealed.is_some() {
                    r.secret = identity.unseal(&r)?;
                    r.sealed = None;
                }
                Ok(r)
            })
            .collect(),
    }
}
