//! The errors of the command types: [`ParamError`] for a value outside what the modem accepts and
//! [`CommandParseError`] for a text that is not a supported, valid command. Neither ever shows a
//! PSK secret beyond its first 4 characters.

use crate::psk::PskError;

/// A parameter value outside what the modem accepts.
///
/// Displays as `<param>: <value> <problem> (allowed <allowed>[; <note>])`, e.g.
/// `certificate_id: 60 is out of range (allowed 11..19; the note's example 60 is outside its own range)`.
/// A PSK secret's value is shown redacted (first 4 characters and `…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {value} {problem} (allowed {allowed}{})", note_suffix(*.note))]
pub struct ParamError {
    /// The parameter's name, e.g. `server_id`.
    pub param: &'static str,
    /// The value given, as text (quoted for strings, cut when long, redacted for a secret).
    pub value: String,
    /// What is wrong, e.g. `is out of range`.
    pub problem: String,
    /// The allowed values, e.g. `1..65535`.
    pub allowed: String,
    /// A remark on the note, when it matters.
    pub note: Option<&'static str>,
}

fn note_suffix(note: Option<&'static str>) -> String {
    note.map(|n| format!("; {n}")).unwrap_or_default()
}

impl ParamError {
    pub(super) fn out_of_range(
        param: &'static str,
        value: u64,
        allowed: String,
        note: Option<&'static str>,
    ) -> Self {
        ParamError {
            param,
            value: value.to_string(),
            problem: "is out of range".into(),
            allowed,
            note,
        }
    }

    /// The error for a PSK secret, showing at most the first 4 characters of the text.
    pub fn psk_secret(text: &str, error: &PskError) -> Self {
        let shown: String = text.chars().take(4).collect();
        let problem = match error {
            PskError::Empty => "is empty".to_string(),
            PskError::OddLength { digits } => format!("has an odd number of hex digits ({digits})"),
            PskError::NotHex { position } => {
                format!("has a character that is not a hex digit at position {position}")
            }
            PskError::TooLong { bytes } => format!("is {bytes} bytes long"),
            PskError::Random(e) => format!("could not be generated: {e}"),
        };
        ParamError {
            param: "psk_secret",
            value: format!("\"{shown}…\""),
            problem,
            allowed: "even-length hex, 1..32 bytes".into(),
            note: None,
        }
    }
}

/// Why a text is not a supported, valid AT command.
///
/// The messages never repeat argument text that could be a PSK secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandParseError {
    /// The text does not start with `AT` (case-insensitive).
    #[error("not an AT command: it must start with \"AT\"")]
    NotAt,
    /// A command (or form of it) this crate does not model. Holds the command name and form
    /// only, e.g. `AT+XYZ=…`.
    #[error("unsupported command {0}")]
    Unsupported(String),
    /// The arguments do not have the command's shape.
    #[error("{command}: {detail}")]
    Syntax {
        /// The command name and form, e.g. `AT+SQNDMCFG=`.
        command: String,
        /// What is wrong.
        detail: String,
    },
    /// An argument is out of its range.
    #[error("{command}: {error}")]
    Param {
        /// The command name and form.
        command: String,
        /// The parameter error (boxed to keep the error small).
        error: Box<ParamError>,
    },
}
