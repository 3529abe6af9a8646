//! The simulated DM server's transitions of the page's state: schedule an image once the
//! modem's current upgrade is over, then hand the query to the server handle (which asks again
//! while the device is busy).

use ryz014_sim::{FirmwareImage, PacedHandle, ServerError};

use super::PageState;

/// Which image the simulated server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// An image that installs.
    Good,
    /// An image the modem rejects (`+SQNFOTA: 3,8`).
    Wrong,
}

/// The server's answer to a refused query, as the server panel says it.
pub fn query_refused_note(e: &ServerError) -> String {
    match e {
        ServerError::NotRegistered(_) => {
            "Waiting for the modem to register with the DM server (after its bootstrap hold-off)…"
                .into()
        }
        ServerError::Busy(_) => {
            "The modem's FOTA client is busy; the server will ask again…".into()
        }
        e => format!("server: {e}"),
    }
}

impl PageState {
    /// "Schedule upgrade": `true` when the server tick should start.
    pub fn schedule_upgrade(&mut self, sim: Option<&PacedHandle>) -> bool {
        if !self.connected() {
            self.server_note = Some("Use the simulated modem first.".into());
            return false;
        }
        let Some(sim) = sim else {
            self.server_note = Some(
                "The server panel drives the simulated modem only; for a real modem schedule the upgrade in your DM server (e.g. Coiote)."
                    .into(),
            );
            return false;
        };
        if sim.device_status(&sim.endpoint()).is_none() {
            self.server_note = Some(
                "The simulated server does not know this modem yet: provision it first (that registers it on the server, as importing the CSV into Coiote does)."
                    .into(),
            );
            return false;
        }
        self.pending_image = Some(self.image);
        if self.ticking {
            return false;
        }
        self.ticking = true;
        true
    }

    /// Puts the chosen image on the server once the modem's current upgrade (if any) is over:
    /// the endpoint to ask, or `None` to try again later.
    fn place_image(
        &mut self,
        sim: &PacedHandle,
        kind: ImageKind,
    ) -> Result<Option<String>, String> {
        if self.fota.is_in_progress() {
            self.server_note = Some(
                "An upgrade is still running on the modem; the new image goes on the server once it ends…"
                    .into(),
            );
            return Ok(None);
        }
        let endpoint = sim.endpoint();
        self.images_served += 1;
        let version = format!("5.4.1.1-{}", 57_900 + self.images_served);
        let (image, word) = match kind {
            ImageKind::Good => (FirmwareImage::good(version.clone()), "good"),
            ImageKind::Wrong => (FirmwareImage::wrong(version.clone()), "wrong"),
        };
        sim.schedule_firmware(&endpoint, image)
            .map_err(|e| format!("server: {e}"))?;
        self.server_note = Some(format!(
            "Image {version} ({word}) scheduled for {endpoint}; asking the modem to check for it…"
        ));
        self.note(format!(
            "server: image {version} ({word}) scheduled for {endpoint}"
        ));
        Ok(Some(endpoint))
    }

    /// One tick of the server: places a pending image when it can. Returns the endpoint to ask
    /// now (if the image was placed) and whether to tick again.
    pub fn server_tick(&mut self, sim: Option<&PacedHandle>) -> (Option<String>, bool) {
        let Some(sim) = sim else {
            self.pending_image = None;
            self.ticking = false;
            return (None, false);
        };
        let mut query = None;
        if let Some(kind) = self.pending_image {
            match self.place_image(sim, kind) {
                Ok(Some(endpoint)) => {
                    self.pending_image = None;
                    query = Some(endpoint);
                }
                Ok(None) => {}
                Err(e) => {
                    self.server_note = Some(e);
                    self.pending_image = None;
                }
            }
        }
        let again = self.pending_image.is_some();
        self.ticking = again;
        (query, again)
    }

    /// The server's query ended (accepted, or refused for good).
    pub fn query_done(&mut self, r: Result<(), ServerError>) {
        self.server_note = Some(match r {
            Ok(()) => "The server asked the modem's FOTA client to check for the image now (note §4.5.1.2).".into(),
            Err(e) => format!("server: {e}"),
        });
    }
}
