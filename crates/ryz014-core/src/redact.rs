//! The one redaction rule for PSK secrets in lines that cross the wire, applied by the client to
//! every [`crate::client::WireEvent`] (sent and received, every line kind) and by the front ends
//! (`term` history, screen and JSON; the web log).
//!
//! The rule ([`redact_line`], and [`Redactor`] for what follows a PSK write):
//! - in a `…SQNDMC…=`/`:` line whose second field is `psk`, the secret (the 5th field and any
//!   after it; the 4th when the identity is missing and it is all hex) keeps its first 4
//!   characters followed by `…`, even when the name is mistyped (`AT+SQNDMCF=`) or a quote is missing;
//! - on a line that mentions `psk` or `SQNDMC` (any case), and on every line received after a
//!   PSK write was sent, any run of 16 or more hex digits keeps its first 4 digits followed by `…`.
//!
//! Redacting twice gives the same text as redacting once.

/// How many leading characters of a PSK secret may be shown (the modem shows 4 hex digits).
pub(crate) const SECRET_SHOWN: usize = 4;

/// Runs of at least this many hex digits are treated as secrets on the lines the rule covers.
pub const MIN_SECRET_RUN: usize = 16;

/// A secret field with fewer fields than the identity needs (`"psk",<id>,<secret>`) is hidden when it is
/// all hex and at least this long.
const MIN_BARE_SECRET: usize = 8;

/// Redacts PSK secrets in one line (stateless part of the rule, see the module documentation).
/// Never panics; text that carries no secret is returned unchanged.
pub fn redact_line(text: &str) -> String {
    let structural = redact_fields(text);
    if mentions_psk(&structural) {
        redact_hex_runs(&structural)
    } else {
        structural
    }
}

/// Whether a line mentions `psk` or `SQNDMC` (any case): the lines where long hex runs are hidden.
pub fn mentions_psk(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    upper.contains("PSK") || upper.contains("SQNDMC")
}

/// Replaces every run of [`MIN_SECRET_RUN`] or more ASCII hex digits with its first 4 digits and `…`.
pub fn redact_hex_runs(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start >= MIN_SECRET_RUN {
            // Hex digits are ASCII: these are character boundaries.
            out.push_str(&text[copied..start + SECRET_SHOWN]);
            out.push('…');
            copied = i;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// The stateful part of the rule: after a PSK write is sent, every received line has its long
/// hex runs hidden (an echo after a noise byte, an error answer quoting the command...) until a
/// command without `psk` is sent.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    after_psk_write: bool,
}

impl Redactor {
    /// A redactor that has seen no PSK write yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Redacts a line about to be written, and remembers whether it is a PSK write.
    pub fn sent(&mut self, line: &str) -> String {
        self.after_psk_write = line.to_ascii_uppercase().contains("PSK");
        redact_line(line)
    }

    /// Redacts a received line.
    pub fn received(&self, line: &str) -> String {
        let r = redact_line(line);
        if self.after_psk_write {
            redact_hex_runs(&r)
        } else {
            r
        }
    }

    /// Whether received lines are treated as following a PSK write.
    pub fn after_psk_write(&self) -> bool {
        self.after_psk_write
    }
}

/// The first 4 characters of a secret, for display.
pub(crate) fn secret_head(secret: &str) -> String {
    secret.chars().take(SECRET_SHOWN).collect()
}

pub(crate) fn unquote(field: &str) -> &str {
    let t = field.trim();
    let t = t.strip_prefix('"').unwrap_or(t);
    t.strip_suffix('"').unwrap_or(t).trim()
}

/// Splits the parameters of a command starting at byte `from` into field byte ranges. Commas
/// inside double quotes do not split; `;`, CR and LF end the parameters (CR and LF even inside an
/// unclosed quote). Returns the ranges; the end of the last one is where the parameters end.
pub(crate) fn split_fields(text: &str, from: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let mut start = from;
    let mut in_quote = false;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_quote = !in_quote,
            b'\r' | b'\n' => break,
            b';' if !in_quote => break,
            b',' if !in_quote => {
                fields.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    fields.push((start, i.min(bytes.len())));
    fields
}

/// Shows only the first 4 characters of one secret field, keeping its quotes and spacing.
fn redact_field(field: &str) -> String {
    let lead = &field[..field.len() - field.trim_start().len()];
    let trail = &field[field.trim_end().len()..];
    let core = field.trim();
    if core.is_empty() {
        return field.to_string();
    }
    let (open, inner, close) = match core.strip_prefix('"') {
        Some(rest) => match rest.strip_suffix('"') {
            Some(inner) => ("\"", inner, "\""),
            None => ("\"", rest, ""),
        },
        None => ("", core, ""),
    };
    let shown = secret_head(inner);
    let cut = if inner.chars().count() > SECRET_SHOWN {
        "…"
    } else {
        ""
    };
    format!("{lead}{open}{shown}{cut}{close}{trail}")
}

/// Hides the secret fields of every `…SQNDMC<letters>=` / `:` PSK command or read line in `text`
/// (see the module documentation); anything else is returned unchanged.
fn redact_fields(text: &str) -> String {
    const KEY: &str = "SQNDMC";
    let upper = text.to_ascii_uppercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = upper[search..].find(KEY) {
        let mut after_key = search + found + KEY.len();
        // `SQNDMCFG`, or a typo of it (`SQNDMCF`, `SQNDMCGF`...).
        while upper
            .as_bytes()
            .get(after_key)
            .is_some_and(u8::is_ascii_alphabetic)
        {
            after_key += 1;
        }
        search = after_key;
        let rest = &text[after_key..];
        let params = after_key + (rest.len() - rest.trim_start().len());
        if !matches!(text.as_bytes().get(params), Some(b'=') | Some(b':')) {
            continue;
        }
        let fields = split_fields(text, params + 1);
        if let Some(&(_, end)) = fields.last() {
            search = end.max(search);
        }
        let is_psk = fields
            .get(1)
            .is_some_and(|&(s, e)| unquote(&text[s..e]).eq_ignore_ascii_case("psk"));
        if !is_psk {
            continue;
        }
        let secret_fields: &[(usize, usize)] = match fields.len() {
            n if n >= 5 => &fields[4..],
            // The identity is missing: a long all-hex 4th field is the secret.
            4 => {
                let f = unquote(&text[fields[3].0..fields[3].1]);
                if f.len() >= MIN_BARE_SECRET && f.bytes().all(|b| b.is_ascii_hexdigit()) {
                    &fields[3..]
                } else {
                    &[]
                }
            }
            _ => &[],
        };
        for &(s, e) in secret_fields {
            out.push_str(&text[copied..s]);
            out.push_str(&redact_field(&text[s..e]));
            copied = e;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const SECRET: &str = "e9891e446e07ba10c1a5d2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";

    fn assert_hidden(r: &str) {
        assert!(!r.contains(&SECRET[..12]), "{r}");
        assert!(!r.contains(&SECRET[20..40]), "{r}");
    }

    #[test]
    fn hex_runs_of_16_or_more_keep_4_digits() {
        assert_eq!(redact_hex_runs("x 0123456789abcdef y"), "x 0123… y");
        assert_eq!(redact_hex_runs("0123456789abcde"), "0123456789abcde");
        assert_eq!(
            redact_hex_runs(&format!("{SECRET},{SECRET}")),
            "e989…,e989…"
        );
        assert_eq!(redact_hex_runs("é0123456789ABCDEFü"), "é0123…ü");
        assert_eq!(redact_hex_runs(""), "");
    }

    #[test]
    fn malformed_psk_commands_are_redacted() {
        for line in [
            // missing closing quote
            format!(r#"AT+SQNDMCFG="standard","psk",100,"urn:imei:015770000031766","{SECRET}"#),
            // typo in the command name
            format!(r#"AT+SQNDMCF="standard","psk",100,"urn:imei:015770000031766","{SECRET}""#),
            // missing identity
            format!(r#"AT+SQNDMCFG="standard","psk",100,"{SECRET}""#),
            // a noise byte before the echo
            format!("\u{fffd}~AT+SQNDMCFG=\"standard\",\"psk\",100,\"id\",\"{SECRET}\""),
            // the modem echoing the secret in its read line
            format!(r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","{SECRET}""#),
            // secret not in a field at all
            format!("psk {SECRET}"),
        ] {
            let r = redact_line(&line);
            assert_hidden(&r);
            assert!(r.contains("e989…"), "{r}");
            assert_eq!(redact_line(&r), r, "idempotent");
        }
        // Short secrets too, where the shape tells where they are.
        assert_eq!(
            redact_line(r#"AT+SQNDMCF="s","psk",1,"id","87493467538357""#),
            r#"AT+SQNDMCF="s","psk",1,"id","8749…""#
        );
        assert_eq!(
            redact_line(r#"AT+SQNDMCFG="s","psk",1,"87493467538357""#),
            r#"AT+SQNDMCFG="s","psk",1,"8749…""#
        );
    }

    #[test]
    fn other_lines_are_left_alone() {
        for s in [
            "+CEREG: 1,\"0002\",\"01A2D002\",7",
            "015770000031766",
            r#"+SQNDMCFG: "standard","psk",100,"urn:imei:015770000031766","8749""#,
            r#"AT+SQNDMCFG="standard","psk",100,"my-identity""#,
            // A long hex run on a line without psk is not a secret by this rule.
            "+CCID: 0123456789abcdef0123",
        ] {
            assert_eq!(redact_line(s), s);
        }
    }

    #[test]
    fn lines_after_a_psk_write_are_redacted_until_another_command() {
        let mut r = Redactor::new();
        let sent = r.sent(&format!(
            r#"AT+SQNDMCFG="standard","psk",100,"id","{SECRET}""#
        ));
        assert_hidden(&sent);
        assert!(r.after_psk_write());
        // An error answer that quotes the secret, without saying psk.
        let got = r.received(&format!("+CME ERROR: bad value {SECRET}"));
        assert_eq!(got, "+CME ERROR: bad value e989…");
        assert_eq!(r.received("OK"), "OK");
        assert_eq!(r.sent("AT+CGSN"), "AT+CGSN");
        assert!(!r.after_psk_write());
        let ccid = "+CCID: 0123456789abcdef0123";
        assert_eq!(r.received(ccid), ccid);
    }
}
