//! The modem's IMEI ([`Imei`]): 15 digits whose last one is a Luhn check digit
//! (3GPP TS 23.003 Annex B.2). `AT+CGSN` prints it; the endpoint name and the PSK identity of
//! the "standard" operator mode are `urn:imei:<IMEI>` (note §4.3.1).

use std::fmt;

/// Why a text is not a valid IMEI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImeiError {
    /// Not 15 characters.
    #[error("IMEI {value:?} has {len} characters (allowed: exactly 15 digits)")]
    Length {
        /// The text given (cut to 40 characters).
        value: String,
        /// Its length in characters.
        len: usize,
    },
    /// A character that is not an ASCII digit.
    #[error("IMEI {value:?} has a non-digit {found:?} at position {position} (allowed: digits 0-9 only)")]
    NonDigit {
        /// The text given.
        value: String,
        /// 0-based position of the first non-digit.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The 15th digit is not the Luhn check digit of the first 14.
    #[error("IMEI {value} has a wrong check digit: expected {expected}, got {found} (3GPP TS 23.003 B.2)")]
    CheckDigit {
        /// The text given.
        value: String,
        /// The check digit the first 14 digits call for.
        expected: u8,
        /// The last digit given.
        found: u8,
    },
}

/// A valid 15-digit IMEI (TAC 8 + serial number 6 + check digit 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Imei(String);

/// The Luhn check digit of an IMEI's first 14 digits (3GPP TS 23.003 B.2): double every second
/// digit starting from the right-most of the 14, add up all digits of the results, and take what is
/// missing to the next multiple of 10. `None` when `body` is not exactly 14 ASCII digits.
pub fn luhn_check_digit(body: &str) -> Option<u8> {
    if body.len() != 14 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                dd / 10 + dd % 10
            } else {
                d
            }
        })
        .sum();
    // sum % 10 < 10, so the result fits in u8.
    Some(((10 - sum % 10) % 10) as u8)
}

impl Imei {
    /// Validates an IMEI: exactly 15 ASCII digits with a correct check digit.
    pub fn parse(text: &str) -> Result<Imei, ImeiError> {
        let len = text.chars().count();
        if len != 15 {
            return Err(ImeiError::Length {
                value: text.chars().take(40).collect(),
                len,
            });
        }
        if let Some((position, found)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(ImeiError::NonDigit {
                value: text.to_string(),
                position,
                found,
            });
        }
        let expected = luhn_check_digit(&text[..14]).ok_or_else(|| ImeiError::Length {
            value: text.to_string(),
            len,
        })?;
        let found = text.as_bytes()[14] - b'0';
        if expected != found {
            return Err(ImeiError::CheckDigit {
                value: text.to_string(),
                expected,
                found,
            });
        }
        Ok(Imei(text.to_string()))
    }

    /// Completes 14 digits (TAC + serial number) with their check digit.
    pub fn from_body(body: &str) -> Result<Imei, ImeiError> {
        match luhn_check_digit(body) {
            Some(cd) => Ok(Imei(format!("{body}{cd}"))),
            None => {
                // Report the same rule violations `parse` would, for 14 digits.
                let len = body.chars().count();
                if let Some((position, found)) =
                    body.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
                {
                    Err(ImeiError::NonDigit {
                        value: body.chars().take(40).collect(),
                        position,
                        found,
                    })
                } else {
                    Err(ImeiError::Length {
                        value: body.chars().take(40).collect(),
                        len: len + 1,
                    })
                }
            }
        }
    }

    /// The 15 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Type Allocation Code: the first 8 digits.
    pub fn tac(&self) -> &str {
        &self.0[..8]
    }

    /// The serial number: digits 9 to 14.
    pub fn serial_number(&self) -> &str {
        &self.0[8..14]
    }

    /// The check digit.
    pub fn check_digit(&self) -> u8 {
        self.0.as_bytes()[14] - b'0'
    }

    /// `urn:imei:<IMEI>`, the endpoint name (and usual PSK identity) in "standard" mode (§4.3.1).
    pub fn urn(&self) -> String {
        format!("urn:imei:{}", self.0)
    }
}

impl fmt::Display for Imei {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Imei {
    type Err = ImeiError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Imei::parse(s)
    }
}

impl AsRef<str> for Imei {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Imei {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Imei {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Imei;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 15-digit IMEI string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Imei, E> {
                Imei::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_notes_imei_is_valid() {
        let imei = Imei::parse("015770000031766").unwrap();
        assert_eq!(imei.as_str(), "015770000031766");
        assert_eq!(imei.tac(), "01577000");
        assert_eq!(imei.serial_number(), "003176");
        assert_eq!(imei.check_digit(), 6);
        assert_eq!(imei.urn(), "urn:imei:015770000031766");
        assert_eq!(imei.to_string(), "015770000031766");
    }

    #[test]
    fn ts_23_003_test_vector() {
        assert_eq!(luhn_check_digit("26053179311383"), Some(7));
        assert_eq!(
            Imei::from_body("26053179311383").unwrap().as_str(),
            "260531793113837"
        );
        assert!(Imei::parse("260531793113837").is_ok());
    }

    #[test]
    fn each_rule_has_its_own_error() {
        assert!(matches!(
            Imei::parse("01577000003176"),
            Err(ImeiError::Length { len: 14, .. })
        ));
        assert!(matches!(
            Imei::parse("0157700000317660"),
            Err(ImeiError::Length { len: 16, .. })
        ));
        assert_eq!(
            Imei::parse("01577000003x766"),
            Err(ImeiError::NonDigit {
                value: "01577000003x766".into(),
                position: 11,
                found: 'x'
            })
        );
        let err = Imei::parse("015770000031767").unwrap_err();
        assert_eq!(
            err,
            ImeiError::CheckDigit {
                value: "015770000031767".into(),
                expected: 6,
                found: 7
            }
        );
        assert!(err.to_string().contains("expected 6, got 7"), "{err}");
        // Multi-byte characters are counted as characters, never sliced.
        assert!(matches!(
            Imei::parse("01577000003176é"),
            Err(ImeiError::NonDigit { found: 'é', .. })
        ));
    }

    #[test]
    fn every_single_digit_change_is_detected() {
        let good = "015770000031766";
        for pos in 0..15 {
            for d in b'0'..=b'9' {
                let mut b = good.as_bytes().to_vec();
                if b[pos] == d {
                    continue;
                }
                b[pos] = d;
                let changed = String::from_utf8(b).unwrap();
                assert!(
                    matches!(Imei::parse(&changed), Err(ImeiError::CheckDigit { .. })),
                    "{changed}"
                );
            }
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_body_with_its_check_digit_parses(body in "[0-9]{14}") {
            let cd = luhn_check_digit(&body).unwrap();
            let text = format!("{body}{cd}");
            let imei = Imei::parse(&text).unwrap();
            proptest::prop_assert_eq!(imei.as_str(), text.as_str());
            proptest::prop_assert_eq!(Imei::from_body(&body).unwrap(), imei);
            let wrong = format!("{body}{}", (cd + 1) % 10);
            let is_check_digit_error = matches!(Imei::parse(&wrong), Err(ImeiError::CheckDigit { .. }));
            proptest::prop_assert!(is_check_digit_error);
        }

        #[test]
        fn parse_never_panics(s in ".{0,20}") {
            let _ = Imei::parse(&s);
            let _ = Imei::from_body(&s);
        }
    }

    #[test]
    fn serde_as_a_string() {
        let imei: Imei = serde_json::from_str("\"015770000031766\"").unwrap();
        assert_eq!(serde_json::to_string(&imei).unwrap(), "\"015770000031766\"");
        assert!(serde_json::from_str::<Imei>("\"015770000031765\"").is_err());
    }
}
