//! The FOTA client (note §4.3.3, §4.5.2, §4.7.1, §6.1) and the device-initiated upgrade
//! `AT+SQNSUPGRADE` (note §5; `docs/at-interface-decisions.md`, "Device-initiated upgrade").
//!
//! FOTA: after attach the client reports `+SQNFOTA: 1` (onboarding); once a DM server
//! registration succeeds, `2` then `3` (idle) and the FOTA timer starts (the configured timer,
//! else the DM server's lifetime). Each check reports `4`, `3`; with an image scheduled on the
//! server it goes on: `"available"`, `4`, `3`, `5`, `5,3,<pct>`..., `"downloaded"`, `6`, `7`,
//! `"install"`, then the modem is down while installing and comes back with `+SYSSTART`, then
//! `+CEREG: 2`, `8`, `"installed","<version>"` (a wrong image: `3`, `3,8` right after
//! `+SYSSTART`, old firmware kept). A download timeout pauses the download (`3`); the next check
//! resumes it where it stopped. A power loss loses the download (it restarts from 0).
//! `<report_state>` 0 silences `+SQNFOTA`; 1 and 2 report the same lines (no format of the
//! "intermediate errors" of level 2 is public); `<report_download>` 0 silences `5,3,<pct>`, else
//! the percentages are the multiples of the step, and 100. The server-side change of the FOTA
//! timer (§6.1.2, its URC format unknown) is not modelled.
//!
//! `AT+SQNSUPGRADE` emits no unsolicited `+SQNSUPGRADE:` lines (their values are not public);
//! `AT+SQNSUPGRADE?` answers one of `+SQNSUPGRADE: "idle"`, `"downloading",<pct>`,
//! `"success","<version>"`, `"failed",<cme code>`, `"cancelled"` (the simulator's own wording).

use std::time::Duration;

use crate::fault::Fault;
use crate::modem::{cme, After, Event, Fin, Modem, Net, Reply};
use crate::nv::{FotaConfig, InstallJob, InstallSource};
use crate::server::{FirmwareImage, UpgradeStatus};

/// FOTA client state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FotaState {
    #[default]
    Off,
    Onboarding,
    Stopped,
    Idle,
    Checking,
    Downloading,
    Downloaded,
    Installing,
}

#[derive(Debug, Clone)]
pub(crate) struct Download {
    image: FirmwareImage,
    from: u64,
    started: Duration,
    last_pct: Option<u8>,
}

/// The FOTA client's volatile state.
#[derive(Debug, Clone, Default)]
pub(crate) struct FotaRt {
    pub state: FotaState,
    candidate: Option<FirmwareImage>,
    download: Option<Download>,
    resume: Option<(FirmwareImage, u64)>,
}

/// Steps of the FOTA client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FotaEvent {
    /// `+SQNFOTA: 3` after onboarding; the timer starts.
    Idle,
    /// The FOTA timer fires.
    Timer,
    /// `+SQNFOTA: 4` (checking).
    Check4,
    /// `+SQNFOTA: 3` and the server's answer.
    Check3,
    /// `+SQNFOTA: "available"`.
    Available,
    /// `+SQNFOTA: 4` before the download.
    Prep4,
    /// `+SQNFOTA: 3` before the download.
    Prep3,
    /// `+SQNFOTA: 5`, the download starts.
    DownloadStart,
    /// `+SQNFOTA: 5,3,<pct>`.
    Progress(u8),
    /// The image is complete: `"downloaded"`.
    DownloadDone,
    /// The download timeout expires.
    DownloadTimeout,
    /// `+SQNFOTA: 6`.
    Six,
    /// `+SQNFOTA: 7`.
    Seven,
    /// `+SQNFOTA: "install"`, then down for the installation.
    InstallWord,
    /// Fault `power-loss-download`.
    PowerLoss(usize),
}

/// `AT+SQNSUPGRADE` state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum UpState {
    #[default]
    Idle,
    Downloading {
        image: FirmwareImage,
        blocking: bool,
        started: Duration,
    },
    Installing(String),
    Succeeded(String),
    Failed(u16),
    Cancelled,
}

/// The `AT+SQNSUPGRADE` runtime (the last result survives reboots).
#[derive(Debug, Clone, Default)]
pub(crate) struct UpgradeRt {
    pub state: UpState,
}

/// Events of `AT+SQNSUPGRADE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpEvent {
    /// The download completes.
    Done,
    /// Fault `power-loss-download`.
    PowerLoss(usize),
}

fn bytes_for_pct(size: u64, pct: u8) -> u64 {
    let v = (u128::from(size) * u128::from(pct)).div_ceil(100);
    u64::try_from(v).unwrap_or(u64::MAX)
}

fn pct_of(bytes: u64, size: u64) -> u8 {
    if size == 0 {
        return 100;
    }
    let p = u128::from(bytes) * 100 / u128::from(size);
    u8::try_from(p.min(100)).unwrap_or(100)
}

impl Modem {
    fn transfer_time(&self, bytes: u64) -> Duration {
        let nanos =
            u128::from(bytes) * 8 * 1_000_000_000 / u128::from(self.cfg.download_bps.max(1));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn bytes_done(&self, from: u64, started: Duration, size: u64) -> u64 {
        let elapsed = self.now.saturating_sub(started).as_nanos();
        let b = elapsed * u128::from(self.cfg.download_bps) / 8 / 1_000_000_000;
        from.saturating_add(u64::try_from(b).unwrap_or(u64::MAX))
            .min(size)
    }

    /// The FOTA configuration in force, if the client runs its profile.
    pub(crate) fn fota_cfg(&self) -> Option<FotaConfig> {
        let f = self.active.settings.fota.clone()?;
        let enabled = self
            .active
            .dm
            .get(&f.profile)
            .is_some_and(|p| p.autostart == 1);
        enabled.then_some(f)
    }

    /// `+SQNFOTA: <body>` if the active configuration reports states.
    pub(crate) fn fota_urc(&mut self, body: &str) {
        let report = self
            .active
            .settings
            .fota
            .as_ref()
            .is_some_and(|f| f.report_state >= 1);
        if report {
            self.push_line(&format!("+SQNFOTA: {body}"));
        }
    }

    fn report_download(&self) -> u8 {
        self.active
            .settings
            .fota
            .as_ref()
            .filter(|f| f.report_state >= 1)
            .map_or(0, |f| f.report_download)
    }

    /// The LwM2M client started (attached).
    pub(crate) fn fota_started(&mut self) {
        let runs = self.fota_cfg().is_some_and(|f| {
            self.lwm2m
                .as_ref()
                .is_some_and(|l| l.profile() == f.profile)
        });
        if runs {
            self.fota.state = FotaState::Onboarding;
            self.fota_urc("1");
        }
    }

    /// A DM server registration succeeded.
    pub(crate) fn fota_registered(&mut self) {
        if self.fota.state == FotaState::Onboarding {
            self.fota_urc("2");
            self.fota.state = FotaState::Stopped;
            let gap = self.cfg.timings.urc_gap;
            self.schedule(gap, Event::Fota(FotaEvent::Idle));
        }
    }

    /// The bootstrap failed for good: the service stays stopped.
    pub(crate) fn fota_onboarding_failed(&mut self) {
        if self.fota.state == FotaState::Onboarding {
            self.fota_urc("2");
            self.fota.state = FotaState::Stopped;
        }
    }

    fn fota_period(&self) -> Duration {
        let secs = self
            .fota_cfg()
            .and_then(|f| f.timer)
            .or_else(|| self.lwm2m.as_ref().and_then(|l| l.first_lifetime()))
            .unwrap_or(86_400)
            .max(1);
        Duration::from_secs(u64::from(secs))
    }

    /// The FOTA timer in use (the read form's `<timer_actual>`), if the client runs.
    pub(crate) fn fota_timer_actual(&self) -> Option<u32> {
        if self.fota.state == FotaState::Off {
            return None;
        }
        u32::try_from(self.fota_period().as_secs()).ok()
    }

    fn arm_fota_timer(&mut self) {
        self.cancel(|e| matches!(e, Event::Fota(FotaEvent::Timer)));
        let p = self.fota_period();
        self.schedule(p, Event::Fota(FotaEvent::Timer));
    }

    /// A network-initiated query: check now if idle.
    pub(crate) fn fota_network_query(&mut self) -> Result<(), ()> {
        if self.fota.state != FotaState::Idle {
            return Err(());
        }
        self.cancel(|e| matches!(e, Event::Fota(FotaEvent::Timer)));
        self.fota.state = FotaState::Checking;
        let gap = self.cfg.timings.urc_gap;
        self.schedule(gap, Event::Fota(FotaEvent::Check4));
        Ok(())
    }

    /// Whether a FOTA download or installation is under way.
    pub(crate) fn fota_busy(&self) -> bool {
        matches!(
            self.fota.state,
            FotaState::Downloading | FotaState::Downloaded | FotaState::Installing
        )
    }

    /// The client stops (reboot, power loss, detach): a download in progress is lost.
    pub(crate) fn fota_lost(&mut self) {
        if let Some(dl) = self.fota.download.take() {
            if matches!(
                self.fota.state,
                FotaState::Downloading | FotaState::Downloaded
            ) {
                let ep = self.endpoint();
                self.server.set_upgrade(
                    &ep,
                    UpgradeStatus::Scheduled {
                        version: dl.image.version,
                    },
                );
            }
        }
        self.fota = FotaRt::default();
    }

    pub(crate) fn fota_event(&mut self, e: FotaEvent) {
        let gap = self.cfg.timings.urc_gap;
        let ep = self.endpoint();
        match e {
            FotaEvent::Idle => {
                if self.fota.state == FotaState::Stopped {
                    self.fota_urc("3");
                    self.fota.state = FotaState::Idle;
                    self.arm_fota_timer();
                }
            }
            FotaEvent::Timer => {
                if self.fota.state != FotaState::Idle {
                    return;
                }
                if self.lwm2m.as_ref().is_some_and(|l| l.registered()) {
                    self.fota.state = FotaState::Checking;
                    self.fota_event(FotaEvent::Check4);
                } else {
                    self.arm_fota_timer();
                }
            }
            FotaEvent::Check4 => {
                self.fota_urc("4");
                self.schedule(gap, Event::Fota(FotaEvent::Check3));
            }
            FotaEvent::Check3 => {
                self.fota_urc("3");
                match self.server.check(&ep) {
                    Some(image) => {
                        self.fota.candidate = Some(image);
                        self.schedule(gap, Event::Fota(FotaEvent::Available));
                    }
                    None => {
                        self.fota.state = FotaState::Idle;
                        self.arm_fota_timer();
                    }
                }
            }
            FotaEvent::Available => {
                self.fota_urc("\"available\"");
                self.schedule(gap, Event::Fota(FotaEvent::Prep4));
            }
            FotaEvent::Prep4 => {
                self.fota_urc("4");
                self.schedule(gap, Event::Fota(FotaEvent::Prep3));
            }
            FotaEvent::Prep3 => {
                self.fota_urc("3");
                self.schedule(gap, Event::Fota(FotaEvent::DownloadStart));
            }
            FotaEvent::DownloadStart => self.fota_download_start(),
            FotaEvent::Progress(p) => {
                self.push_progress(p);
                if let Some(dl) = &self.fota.download {
                    let version = dl.image.version.clone();
                    self.server.set_upgrade(
                        &ep,
                        UpgradeStatus::Downloading {
                            version,
                            percent: p,
                        },
                    );
                }
            }
            FotaEvent::DownloadDone => {
                let Some(dl) = self.fota.download.clone() else {
                    return;
                };
                if self.report_download() > 0 && dl.last_pct != Some(100) {
                    self.push_progress(100);
                }
                self.cancel(|e| matches!(e, Event::Fota(FotaEvent::DownloadTimeout)));
                self.fota_urc("\"downloaded\"");
                self.fota.state = FotaState::Downloaded;
                self.server.set_upgrade(
                    &ep,
                    UpgradeStatus::Downloaded {
                        version: dl.image.version,
                    },
                );
                self.schedule(gap, Event::Fota(FotaEvent::Six));
            }
            FotaEvent::DownloadTimeout => {
                if self.fota.state != FotaState::Downloading {
                    return;
                }
                let Some(dl) = self.fota.download.take() else {
                    return;
                };
                let done = self.bytes_done(dl.from, dl.started, dl.image.size);
                self.cancel(|e| {
                    matches!(
                        e,
                        Event::Fota(
                            FotaEvent::Progress(_)
                                | FotaEvent::DownloadDone
                                | FotaEvent::PowerLoss(_)
                        )
                    )
                });
                self.server.set_upgrade(
                    &ep,
                    UpgradeStatus::Scheduled {
                        version: dl.image.version.clone(),
                    },
                );
                self.fota.resume = Some((dl.image, done));
                self.fota.state = FotaState::Idle;
                self.fota_urc("3");
                self.arm_fota_timer();
            }
            FotaEvent::Six => {
                self.fota_urc("6");
                self.schedule(gap, Event::Fota(FotaEvent::Seven));
            }
            FotaEvent::Seven => {
                self.fota_urc("7");
                self.schedule(gap, Event::Fota(FotaEvent::InstallWord));
            }
            FotaEvent::InstallWord => {
                let Some(dl) = self.fota.download.take() else {
                    return;
                };
                self.fota_urc("\"install\"");
                self.fota.state = FotaState::Installing;
                self.server.set_upgrade(
                    &ep,
                    UpgradeStatus::Installing {
                        version: dl.image.version.clone(),
                    },
                );
                let job = InstallJob {
                    image: dl.image,
                    source: InstallSource::Fota,
                    remaining: self.cfg.timings.install,
                    level_after: self.cfun,
                };
                self.go_down_for_install(job);
            }
            FotaEvent::PowerLoss(i) => self.fire_power_loss(i),
        }
    }

    fn push_progress(&mut self, p: u8) {
        if self.report_download() > 0 {
            self.fota_urc(&format!("5,3,{p}"));
        }
        if let Some(dl) = self.fota.download.as_mut() {
            dl.last_pct = Some(p);
        }
    }

    fn fire_power_loss(&mut self, i: usize) {
        if let Some(f) = self.fired.get_mut(i) {
            if !*f {
                *f = true;
                let off = self.cfg.timings.power_off;
                self.power_loss_for(off);
            }
        }
    }

    /// The fault `power-loss-download` as (index, percent), if not yet fired.
    fn download_power_loss(&self) -> Option<(usize, u8)> {
        self.cfg
            .faults
            .iter()
            .enumerate()
            .find_map(|(i, f)| match f {
                Fault::PowerLossDuringDownload { percent } if !self.fired[i] => Some((i, *percent)),
                _ => None,
            })
    }

    fn fota_download_start(&mut self) {
        let Some(image) = self.fota.candidate.take() else {
            self.fota.state = FotaState::Idle;
            self.arm_fota_timer();
            return;
        };
        self.fota_urc("5");
        let from = match self.fota.resume.take() {
            Some((img, bytes)) if img == image => bytes,
            _ => 0,
        };
        let now = self.now;
        let size = image.size;
        let step = self.report_download();
        self.fota.state = FotaState::Downloading;
        let ep = self.endpoint();
        self.server.set_upgrade(
            &ep,
            UpgradeStatus::Downloading {
                version: image.version.clone(),
                percent: pct_of(from, size),
            },
        );
        self.fota.download = Some(Download {
            image,
            from,
            started: now,
            last_pct: None,
        });
        let at =
            |m: &Modem, bytes: u64| now.saturating_add(m.transfer_time(bytes.saturating_sub(from)));
        if let Some(p0) = pct_of(from, size).checked_div(step) {
            let p0 = p0 * step;
            self.push_progress(p0);
            let mut p = u16::from(p0) + u16::from(step);
            while p < 100 {
                let pct = u8::try_from(p).unwrap_or(100);
                let t = at(self, bytes_for_pct(size, pct));
                self.schedule_at(t, Event::Fota(FotaEvent::Progress(pct)));
                p += u16::from(step);
            }
        }
        let t = at(self, size);
        self.schedule_at(t, Event::Fota(FotaEvent::DownloadDone));
        if let Some(to) = self.fota_cfg().and_then(|f| f.download_timeout) {
            self.schedule(
                Duration::from_secs(u64::from(to)),
                Event::Fota(FotaEvent::DownloadTimeout),
            );
        }
        if let Some((i, pct)) = self.download_power_loss() {
            let b = bytes_for_pct(size, pct);
            if b >= from {
                let t = at(self, b);
                self.schedule_at(t, Event::Fota(FotaEvent::PowerLoss(i)));
            }
        }
    }

    /// An installation ended (the image is installed or rejected); tell who started it.
    pub(crate) fn install_finished(&mut self, job: &InstallJob) {
        match job.source {
            InstallSource::Fota => {
                let ep = self.endpoint();
                let status = if job.image.good {
                    UpgradeStatus::Succeeded {
                        version: job.image.version.clone(),
                    }
                } else {
                    UpgradeStatus::Failed {
                        version: job.image.version.clone(),
                        reason: "installation failure (wrong image)".into(),
                    }
                };
                self.server.set_upgrade(&ep, status);
            }
            InstallSource::Upgrade => {
                self.upgrade.state = if job.image.good {
                    UpState::Succeeded(job.image.version.clone())
                } else {
                    UpState::Failed(cme::UPGRADE_CORRUPTED)
                };
            }
        }
    }

    /// Reports the result of the last installation, once, after the boot that followed it.
    pub(crate) fn report_outcome(&mut self) {
        let Some(o) = self.outcome.take() else {
            return;
        };
        if o.reported || o.job.source != InstallSource::Fota {
            return;
        }
        if o.job.image.good {
            self.fota_urc("8");
            self.fota_urc(&format!("\"installed\",\"{}\"", o.job.image.version));
        } else {
            let cause = self
                .cfg
                .faults
                .iter()
                .find_map(|f| match f {
                    crate::fault::Fault::FotaCause { cause } => Some(*cause),
                    _ => None,
                })
                .unwrap_or(8);
            self.fota_urc("3");
            self.fota_urc(&format!("3,{cause}"));
        }
    }

    // ------------------------------------------------------------------ AT+SQNSUPGRADE

    /// Starts a device-initiated upgrade from `url`.
    pub(crate) fn start_upgrade(&mut self, url: &str, blocking: bool) -> Reply {
        if self.fota_busy()
            || matches!(
                self.upgrade.state,
                UpState::Downloading { .. } | UpState::Installing(_)
            )
        {
            return Reply::cme(cme::UPGRADE_IN_PROGRESS);
        }
        if self.net != Net::Attached {
            return Reply::cme(cme::UPGRADE_NETWORK);
        }
        let Some(image) = self.server.image_at(url) else {
            return Reply::cme(cme::UPGRADE_NETWORK);
        };
        let t = self.transfer_time(image.size);
        let size = image.size;
        self.upgrade.state = UpState::Downloading {
            image,
            blocking,
            started: self.now,
        };
        self.schedule(t, Event::Upgrade(UpEvent::Done));
        if let Some((i, pct)) = self.download_power_loss() {
            let d = self.transfer_time(bytes_for_pct(size, pct));
            self.schedule(d, Event::Upgrade(UpEvent::PowerLoss(i)));
        }
        if blocking {
            Reply {
                lines: Vec::new(),
                fin: Fin::Pending,
                after: After::Nothing,
            }
        } else {
            Reply::ok()
        }
    }

    /// `AT+SQNSUPGRADE=...,2`: cancel.
    pub(crate) fn cancel_upgrade(&mut self) -> Reply {
        if matches!(self.upgrade.state, UpState::Downloading { .. }) {
            self.cancel(|e| matches!(e, Event::Upgrade(_)));
            self.upgrade.state = UpState::Cancelled;
            Reply::ok()
        } else {
            Reply::cme(cme::UPGRADE_NOTHING_TO_CANCEL)
        }
    }

    /// `AT+SQNSUPGRADE?`.
    pub(crate) fn upgrade_line(&self) -> String {
        let body = match &self.upgrade.state {
            UpState::Idle => "\"idle\"".to_string(),
            UpState::Downloading { image, started, .. } => format!(
                "\"downloading\",{}",
                pct_of(self.bytes_done(0, *started, image.size), image.size)
            ),
            UpState::Installing(v) => format!("\"installing\",\"{v}\""),
            UpState::Succeeded(v) => format!("\"success\",\"{v}\""),
            UpState::Failed(code) => format!("\"failed\",{code}"),
            UpState::Cancelled => "\"cancelled\"".to_string(),
        };
        format!("+SQNSUPGRADE: {body}")
    }

    pub(crate) fn upgrade_event(&mut self, e: UpEvent) {
        match e {
            UpEvent::PowerLoss(i) => self.fire_power_loss(i),
            UpEvent::Done => {
                let UpState::Downloading {
                    image, blocking, ..
                } = self.upgrade.state.clone()
                else {
                    return;
                };
                self.cancel(|e| matches!(e, Event::Upgrade(_)));
                if !image.good {
                    self.upgrade.state = UpState::Failed(cme::UPGRADE_CORRUPTED);
                    if blocking {
                        self.finish(Fin::Cme(cme::UPGRADE_CORRUPTED), After::Nothing);
                    }
                    return;
                }
                self.upgrade.state = UpState::Installing(image.version.clone());
                let job = InstallJob {
                    image,
                    source: InstallSource::Upgrade,
                    remaining: self.cfg.timings.install,
                    level_after: self.cfun,
                };
                if blocking {
                    self.finish(Fin::Ok, After::Install(job));
                } else {
                    self.go_down_for_install(job);
                }
            }
        }
    }

    /// A reboot or power loss interrupts a download: it fails (the host must start again).
    pub(crate) fn upgrade_lost(&mut self) {
        if matches!(self.upgrade.state, UpState::Downloading { .. }) {
            self.upgrade.state = UpState::Failed(cme::UPGRADE_NETWORK);
        }
    }

    /// A detach interrupts a download; a blocking command gets its error.
    pub(crate) fn upgrade_detached(&mut self) -> Option<Reply> {
        if let UpState::Downloading { blocking, .. } = self.upgrade.state {
            self.upgrade.state = UpState::Failed(cme::UPGRADE_NETWORK);
            if blocking {
                return Some(Reply::cme(cme::UPGRADE_NETWORK));
            }
        }
        None
    }
}
