//! The DTLS pre-shared key ([`PskSecret`]) written to the modem with `AT+SQNDMCFG=…,"psk",…`.
//!
//! The note (§4.3.1) asks for a random 32-byte secret in hex. A secret never shows in full in
//! `Debug`, `Display`, errors or logs: only its first 4 hex digits followed by `…` (as the modem's own
//! read form does, §6.2.3). The single way to get the whole secret is [`PskSecret::expose_hex`].

use std::fmt;

/// The most bytes a secret may have (§6.2.3.1: "Max length 32 bytes = 256-bit key").
pub const MAX_SECRET_BYTES: usize = 32;

/// Secrets shorter than this many bytes are accepted, but callers should warn (§4.3.1 asks for 32).
pub const WEAK_SECRET_BYTES: usize = 16;

/// How many bytes [`PskSecret::generate`] draws (§4.3.1: 32 bytes, 256 bits).
pub const GENERATED_SECRET_BYTES: usize = 32;

/// What the allowed form of a secret is, for error messages.
const ALLOWED: &str = "even-length hex, 1..32 bytes";

/// Why a PSK secret was refused. The messages never contain the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PskError {
    /// The text was empty.
    #[error("the PSK secret is empty (allowed: {ALLOWED})")]
    Empty,
    /// An odd number of hex digits.
    #[error("the PSK secret has an odd number of hex digits ({digits}) (allowed: {ALLOWED})")]
    OddLength {
        /// How many digits were given.
        digits: usize,
    },
    /// A character that is not a hex digit.
    #[error("the PSK secret has a character that is not a hex digit at position {position} (allowed: {ALLOWED})")]
    NotHex {
        /// Its 0-based position, in characters.
        position: usize,
    },
    /// More than 32 bytes.
    #[error("the PSK secret is {bytes} bytes long (allowed: {ALLOWED})")]
    TooLong {
        /// How many bytes the secret has.
        bytes: usize,
    },
    /// The random source failed.
    #[error("no random source for the PSK secret: {0}")]
    Random(String),
}

/// A PSK secret of 1..32 bytes, shown as lowercase hex.
///
/// `Debug` and `Display` print the first 4 hex digits and `…` (e.g. `8749…`); equality runs in
/// constant time for secrets of equal length. It deliberately has no `Serialize`: writing a secret out
/// goes through [`PskSecret::expose_hex`] or [`serde_expose`], so that it never happens by accident.
#[derive(Clone)]
pub struct PskSecret {
    bytes: Vec<u8>,
}

impl PskSecret {
    /// Draws a fresh random secret of [`GENERATED_SECRET_BYTES`] (32) bytes from the operating
    /// system's (or the browser's) random source.
    pub fn generate() -> Result<PskSecret, PskError> {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        getrandom::getrandom(&mut bytes).map_err(|e| PskError::Random(e.to_string()))?;
        Ok(PskSecret { bytes })
    }

    /// Validates a hex secret: even length, hex digits only (either case), 1..32 bytes.
    /// Surrounding whitespace is not allowed. The errors never echo the text.
    pub fn from_hex(text: &str) -> Result<PskSecret, PskError> {
        if text.is_empty() {
            return Err(PskError::Empty);
        }
        if let Some(position) = text.chars().position(|c| !c.is_ascii_hexdigit()) {
            return Err(PskError::NotHex { position });
        }
        // All characters are ASCII from here on, so bytes == characters.
        if !text.len().is_multiple_of(2) {
            return Err(PskError::OddLength { digits: text.len() });
        }
        let bytes_len = text.len() / 2;
        if bytes_len > MAX_SECRET_BYTES {
            return Err(PskError::TooLong { bytes: bytes_len });
        }
        let bytes = hex::decode(text).map_err(|_| PskError::NotHex { position: 0 })?;
        Ok(PskSecret { bytes })
    }

    /// Builds a secret from raw bytes (1..32 of them).
    pub fn from_bytes(bytes: &[u8]) -> Result<PskSecret, PskError> {
        match bytes.len() {
            0 => Err(PskError::Empty),
            n if n > MAX_SECRET_BYTES => Err(PskError::TooLong { bytes: n }),
            _ => Ok(PskSecret {
                bytes: bytes.to_vec(),
            }),
        }
    }

    /// The first 4 hex digits (2 for a 1-byte secret): all the modem's read form shows, and all that
    /// logs and screens may show.
    pub fn prefix(&self) -> String {
        let n = self.bytes.len().min(2);
        hex::encode(&self.bytes[..n])
    }

    /// The redacted form: [`PskSecret::prefix`] followed by `…`, e.g. `8749…`.
    pub fn redacted(&self) -> String {
        format!("{}…", self.prefix())
    }

    /// The whole secret in lowercase hex.
    ///
    /// This is the **only** way to get the secret out: call it only to write the secret to the modem
    /// or into a credentials export the user asked for, never for logs or screens.
    pub fn expose_hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// The secret's length in bytes.
    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret is shorter than [`WEAK_SECRET_BYTES`] (16) bytes; callers should warn.
    pub fn is_weak(&self) -> bool {
        self.bytes.len() < WEAK_SECRET_BYTES
    }

    /// Whether a prefix shown by the modem (`+SQNDMCFG: …,"psk",…,"8749"`) equals this secret's
    /// [`PskSecret::prefix`] (case-insensitive, surrounding spaces ignored).
    pub fn matches_prefix(&self, shown: &str) -> bool {
        self.prefix().eq_ignore_ascii_case(shown.trim())
    }
}

impl PartialEq for PskSecret {
    /// Constant-time comparison for secrets of equal length (the length itself is not hidden).
    fn eq(&self, other: &Self) -> bool {
        if self.bytes.len() != other.bytes.len() {
            return false;
        }
        self.bytes
            .iter()
            .zip(other.bytes.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl Eq for PskSecret {}

impl fmt::Debug for PskSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PskSecret({})", self.redacted())
    }
}

impl fmt::Display for PskSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::str::FromStr for PskSecret {
    type Err = PskError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PskSecret::from_hex(s)
    }
}

impl<'de> serde::Deserialize<'de> for PskSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl serde::de::Visitor<'_> for HexVisitor {
            type Value = PskSecret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a hex string ({ALLOWED})")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PskSecret, E> {
                PskSecret::from_hex(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

/// Explicit serialisation of a secret in full hex, for `#[serde(serialize_with = …)]` on the few
/// fields that must write it (a profile with a fixed secret, a credentials export). Its name makes
/// every such use visible in review.
pub mod serde_expose {
    use super::PskSecret;

    /// Serialises the whole secret as a lowercase hex string.
    pub fn serialize<S: serde::Serializer>(
        secret: &PskSecret,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&secret.expose_hex())
    }

    /// The same for an optional secret (`None` serialises as none/null).
    pub fn serialize_option<S: serde::Serializer>(
        secret: &Option<PskSecret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(s) => serializer.serialize_some(&s.expose_hex()),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const NOTE_SECRET: &str = "87493467538357";

    #[test]
    fn parses_the_notes_secret_and_redacts_it() {
        let s = PskSecret::from_hex(NOTE_SECRET).unwrap();
        assert_eq!(s.len_bytes(), 7);
        assert!(s.is_weak());
        assert_eq!(s.prefix(), "8749");
        assert_eq!(s.to_string(), "8749…");
        assert_eq!(format!("{s:?}"), "PskSecret(8749…)");
        assert_eq!(s.expose_hex(), NOTE_SECRET);
    }

    #[test]
    fn uppercase_is_normalised() {
        let s = PskSecret::from_hex("ABCDEF").unwrap();
        assert_eq!(s.expose_hex(), "abcdef");
        assert_eq!(s, PskSecret::from_hex("abcdef").unwrap());
    }

    #[test]
    fn rejects_bad_secrets_without_echoing_them() {
        let cases = [
            ("", PskError::Empty),
            ("8749346", PskError::OddLength { digits: 7 }),
            ("8749z3", PskError::NotHex { position: 4 }),
            (" 874934", PskError::NotHex { position: 0 }),
        ];
        for (text, want) in cases {
            let err = PskSecret::from_hex(text).unwrap_err();
            assert_eq!(err, want, "{text:?}");
            let msg = err.to_string();
            assert!(msg.contains("1..32 bytes"), "{msg}");
            if text.len() > 4 {
                assert!(!msg.contains(&text[..5]), "{msg}");
            }
        }
        let long = "ab".repeat(33);
        let err = PskSecret::from_hex(&long).unwrap_err();
        assert_eq!(err, PskError::TooLong { bytes: 33 });
        assert!(!err.to_string().contains("abab"));
        assert!(PskSecret::from_hex(&"ab".repeat(32)).is_ok());
        assert!(PskSecret::from_hex("00").is_ok());
    }

    #[test]
    fn generated_secrets_are_32_random_bytes() {
        let a = PskSecret::generate().unwrap();
        let b = PskSecret::generate().unwrap();
        assert_eq!(a.len_bytes(), 32);
        assert_eq!(a.expose_hex().len(), 64);
        assert!(!a.is_weak());
        assert_ne!(a, b, "two draws of 256 bits should differ");
        assert!(a
            .expose_hex()
            .chars()
            .all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    }

    #[test]
    fn weakness_threshold_is_16_bytes() {
        assert!(PskSecret::from_hex(&"11".repeat(15)).unwrap().is_weak());
        assert!(!PskSecret::from_hex(&"11".repeat(16)).unwrap().is_weak());
    }

    #[test]
    fn equality_needs_equal_length_and_bytes() {
        let a = PskSecret::from_hex("0102").unwrap();
        assert_eq!(a, PskSecret::from_bytes(&[1, 2]).unwrap());
        assert_ne!(a, PskSecret::from_hex("0103").unwrap());
        assert_ne!(a, PskSecret::from_hex("010200").unwrap());
    }

    #[test]
    fn prefix_matching() {
        let s = PskSecret::from_hex(NOTE_SECRET).unwrap();
        assert!(s.matches_prefix("8749"));
        assert!(!s.matches_prefix("874"));
        assert!(!s.matches_prefix("8748"));
        assert!(!s.matches_prefix(""));
        assert!(!s.matches_prefix("87493"));
        let upper = PskSecret::from_hex("abcdef").unwrap();
        assert!(upper.matches_prefix("ABCD"));
        let short = PskSecret::from_hex("ab").unwrap();
        assert_eq!(short.prefix(), "ab");
        assert!(short.matches_prefix("ab"));
    }

    #[test]
    fn deserialises_from_a_validated_string() {
        let s: PskSecret = serde_json::from_str("\"87493467538357\"").unwrap();
        assert_eq!(s.prefix(), "8749");
        let err = serde_json::from_str::<PskSecret>("\"874934675383571\"").unwrap_err();
        assert!(!err.to_string().contains("87493"), "{err}");
        assert!(serde_json::from_str::<PskSecret>("12").is_err());
    }
}
