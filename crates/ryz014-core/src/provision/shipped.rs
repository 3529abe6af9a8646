//! Profile I/O shared by every front end: reading a profile whatever its format
//! ([`ProvisioningProfile::from_text`]), and the Coiote profile the repository ships
//! (`profiles/coiote-standard.toml`), embedded once ([`COIOTE_STANDARD_TOML`],
//! [`ProvisioningProfile::coiote_standard`]).

use super::{ProfileError, ProvisioningProfile};

/// The repository's `profiles/coiote-standard.toml`: the note's §4.3 values for AVSystem Coiote
/// IoT DM in the "standard" operator mode.
///
/// (Embedded from outside the crate's folder: `cargo package` of this crate alone cannot find it.)
pub const COIOTE_STANDARD_TOML: &str = include_str!("../../../../profiles/coiote-standard.toml");

impl ProvisioningProfile {
    /// Reads and validates a profile named `name` (a file name, or anything that ends like one):
    /// JSON when the name ends with `.json` (any case) or the text starts with `{`, else TOML.
    pub fn from_text(name: &str, text: &str) -> Result<Self, ProfileError> {
        if is_json(name, text) {
            ProvisioningProfile::from_json_str(text)
        } else {
            ProvisioningProfile::from_toml_str(text)
        }
    }

    /// The shipped Coiote profile ([`COIOTE_STANDARD_TOML`]).
    pub fn coiote_standard() -> Self {
        ProvisioningProfile::from_toml_str(COIOTE_STANDARD_TOML)
            .expect("profiles/coiote-standard.toml is a valid profile (tested)")
    }
}

/// Whether [`ProvisioningProfile::from_text`] reads `text` as JSON.
fn is_json(name: &str, text: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn the_shipped_profile_is_the_notes_standard_coiote_profile() {
        let p = ProvisioningProfile::coiote_standard();
        assert_eq!(p.modem.profile, "standard");
        assert!(p.modem.autoconnect);
        assert_eq!(p.modem.endpoint_name, None);
        assert_eq!(p.bootstrap.server_id, 100);
        assert_eq!(p.bootstrap.uri, "coaps://eu.iot.avsystem.cloud:5694");
        assert_eq!(p.bootstrap.hold_off_s, 60);
        assert_eq!(p.bootstrap.cid, Some(1));
        assert_eq!(p.psk.identity, "urn:imei:{imei}");
        assert!(p.psk.secret.is_none());
        assert_eq!(
            (p.fota.mode, p.fota.report_state, p.fota.report_download),
            (0, 2, 10)
        );
        assert_eq!(p.fota.timer_s, Some(86_400));
        assert_eq!(p.fota.download_timeout_s, Some(600));
        assert_eq!(p.fota.certificate_id, Some(11));
        assert!(p.factory.save_restoration_point);
    }

    #[test]
    fn the_format_follows_the_name_or_an_opening_brace() {
        let p = ProvisioningProfile::coiote_standard();
        let json = p.to_json_string().unwrap();
        let toml = p.to_toml_string().unwrap();
        for (name, text) in [
            ("profile.json", json.as_str()),
            ("PROFILE.JSON", json.as_str()),
            ("pasted", json.as_str()),
            ("profile.toml", toml.as_str()),
            ("profile", toml.as_str()),
            ("coiote-standard.toml", COIOTE_STANDARD_TOML),
        ] {
            assert_eq!(
                ProvisioningProfile::from_text(name, text).unwrap(),
                p,
                "{name}"
            );
        }
        let e = ProvisioningProfile::from_text("x.json", "[modem]").unwrap_err();
        assert!(e.to_string().contains("JSON"), "{e}");
        let e = ProvisioningProfile::from_text("x.toml", "modem = ").unwrap_err();
        assert!(e.to_string().contains("TOML"), "{e}");
    }
}
