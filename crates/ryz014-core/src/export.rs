//! The exports of provisioned modems, for the device management server: the Coiote
//! device-import CSV ([`coiote_csv`]) and the Coiote REST API's device objects as JSON
//! ([`coiote_json`]). The CLI's inventory export and the web page's download both write these.
//!
//! An export is the one place a PSK secret is written out in full: nothing here logs or shows
//! it ([`ExportRecord`]'s `Debug` shows the secret redacted).

use serde::Serialize;

use crate::psk::PskSecret;

/// The header line of the Coiote device-import CSV (mirrors the names of Coiote's REST API until
/// the CSV import's own headers are confirmed).
pub const COIOTE_CSV_HEADER: &str = "endpointName,dtlsIdentity,dtlsPskHex";

/// One provisioned modem, as exported. Its `Debug` output shows the secret redacted.
#[derive(Debug, Clone, Copy)]
pub struct ExportRecord<'a> {
    /// The LwM2M endpoint name (e.g. `urn:imei:<IMEI>`).
    pub endpoint: &'a str,
    /// The PSK identity.
    pub psk_identity: &'a str,
    /// The PSK secret.
    pub secret: &'a PskSecret,
}

/// How the lines of a CSV export end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n`, as RFC 4180 says (the CLI's inventory export).
    Crlf,
    /// `\n` (the web page's download).
    Lf,
}

impl LineEnding {
    /// The line end itself.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Crlf => "\r\n",
            LineEnding::Lf => "\n",
        }
    }
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The Coiote device-import CSV: the [`COIOTE_CSV_HEADER`], then one row per record with the
/// endpoint name, the PSK identity and the key in hex, each line ended with `eol`.
pub fn coiote_csv(records: &[ExportRecord<'_>], eol: LineEnding) -> String {
    let eol = eol.as_str();
    let mut text = String::from(COIOTE_CSV_HEADER);
    text.push_str(eol);
    for r in records {
        text.push_str(&csv_field(r.endpoint));
        text.push(',');
        text.push_str(&csv_field(r.psk_identity));
        text.push(',');
        text.push_str(&csv_field(&r.secret.expose_hex()));
        text.push_str(eol);
    }
    text
}

/// One device in Coiote's REST API shape (`POST /api/coiotedm/v3/devices`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoioteDevice<'a> {
    /// Always `bootstrap`: the modem is given the bootstrap server.
    pub connector_type: &'static str,
    /// The endpoint name.
    pub properties: CoioteProperties<'a>,
    /// Always `psk`.
    pub security_mode: &'static str,
    /// The PSK identity.
    pub dtls_identity: &'a str,
    /// The PSK secret.
    pub dtls_psk: CoiotePsk,
}

/// The `properties` of a [`CoioteDevice`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoioteProperties<'a> {
    /// The LwM2M endpoint name.
    pub endpoint_name: &'a str,
}

/// The `dtlsPsk` of a [`CoioteDevice`]. Its `Debug` output shows the secret redacted.
#[derive(Clone, Serialize)]
pub struct CoiotePsk {
    /// The whole secret in hex: an export is the one place it is written out.
    #[serde(rename = "HexadecimalPsk")]
    pub hexadecimal_psk: String,
}

impl std::fmt::Debug for CoiotePsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.hexadecimal_psk.chars().take(4).collect();
        write!(f, "CoiotePsk({shown}…)")
    }
}

impl<'a> From<&ExportRecord<'a>> for CoioteDevice<'a> {
    fn from(r: &ExportRecord<'a>) -> Self {
        CoioteDevice {
            connector_type: "bootstrap",
            properties: CoioteProperties {
                endpoint_name: r.endpoint,
            },
            security_mode: "psk",
            dtls_identity: r.psk_identity,
            dtls_psk: CoiotePsk {
                hexadecimal_psk: r.secret.expose_hex(),
            },
        }
    }
}

/// The records as a pretty-printed JSON array of [`CoioteDevice`]s, ended with a line break.
pub fn coiote_json(records: &[ExportRecord<'_>]) -> Result<String, serde_json::Error> {
    let devices: Vec<CoioteDevice<'_>> = records.iter().map(CoioteDevice::from).collect();
    let mut text = serde_json::to_string_pretty(&devices)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("urn:imei:1"), "urn:imei:1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
        assert_eq!(csv_field("a\rb"), "\"a\rb\"");
    }

    #[test]
    fn the_csv_has_the_header_one_row_per_record_and_the_line_end_asked_for() {
        let s = PskSecret::from_hex("00112233").unwrap();
        let r = ExportRecord {
            endpoint: "urn:imei:353760102345672",
            psk_identity: "id,1",
            secret: &s,
        };
        assert_eq!(
            coiote_csv(&[r], LineEnding::Lf),
            "endpointName,dtlsIdentity,dtlsPskHex\nurn:imei:353760102345672,\"id,1\",00112233\n"
        );
        assert_eq!(
            coiote_csv(&[r, r], LineEnding::Crlf),
            "endpointName,dtlsIdentity,dtlsPskHex\r\nurn:imei:353760102345672,\"id,1\",00112233\r\n\
             urn:imei:353760102345672,\"id,1\",00112233\r\n"
        );
        assert_eq!(
            coiote_csv(&[], LineEnding::Crlf),
            "endpointName,dtlsIdentity,dtlsPskHex\r\n"
        );
    }

    #[test]
    fn the_json_is_coiotes_device_shape() {
        let s = PskSecret::from_hex("00112233").unwrap();
        let r = ExportRecord {
            endpoint: "urn:imei:1",
            psk_identity: "id",
            secret: &s,
        };
        let text = coiote_json(&[r]).unwrap();
        assert!(text.ends_with("]\n"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{
                "connectorType": "bootstrap",
                "properties": {"endpointName": "urn:imei:1"},
                "securityMode": "psk",
                "dtlsIdentity": "id",
                "dtlsPsk": {"HexadecimalPsk": "00112233"}
            }])
        );
        assert_eq!(coiote_json(&[]).unwrap(), "[]\n");
        assert!(!format!("{r:?}").contains("00112233"));
        let d = CoioteDevice::from(&r);
        assert!(!format!("{d:?}").contains("00112233"));
    }
}
