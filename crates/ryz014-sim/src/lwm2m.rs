//! The modem's LwM2M client as `AT+SQNDMST` shows it (note §6.3): the bootstrap server's
//! hold-off countdown after attach, the bootstrap exchange (which succeeds only if the server
//! knows the device's PSK identity and secret), the DM servers the bootstrap creates, their
//! registration and registration updates.
//!
//! Accounts created by a bootstrap are kept in NV, so after the next attach they show as
//! `DEREGISTERED` with a countdown while the bootstrap server is held off, as in the note's
//! first example.

use std::time::Duration;

use crate::modem::{Event, Modem, Net};
use crate::nv::{Account, Secret};
use ryz014_core::message::ServerRole;

/// Bootstrap status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BsStatus {
    HoldOff,
    Initiated,
    Failing,
    Failed,
    Finished,
}

impl BsStatus {
    fn as_str(self) -> &'static str {
        match self {
            BsStatus::HoldOff => "BS_HOLD_OFF",
            BsStatus::Initiated => "BS_INITIATED",
            BsStatus::Failing => "BS_FAILING",
            BsStatus::Failed => "BS_FAILED",
            BsStatus::Finished => "BS_FINISHED",
        }
    }
}

/// DM server registration status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DmStatus {
    Deregistered,
    RegPending,
    Registered,
    RegFailed,
    RegUpdatePending,
}

impl DmStatus {
    fn as_str(self) -> &'static str {
        match self {
            DmStatus::Deregistered => "DEREGISTERED",
            DmStatus::RegPending => "REG_PENDING",
            DmStatus::Registered => "REGISTERED",
            DmStatus::RegFailed => "REG_FAILED",
            DmStatus::RegUpdatePending => "REG_UPDATE_PENDING",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BsRt {
    id: u16,
    hold_off: u32,
    url: String,
    status: BsStatus,
    deadline: Option<Duration>,
    attempts: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct AccountRt {
    id: u16,
    lifetime: u32,
    status: DmStatus,
    deadline: Option<Duration>,
    /// Configured directly with `AT+SQNDMCFG` (not from a bootstrap): needs its own PSK.
    direct: bool,
}

/// The running LwM2M client (exists while attached with the service enabled).
#[derive(Debug, Clone)]
pub struct Lwm2m {
    profile: String,
    bs: Option<BsRt>,
    accounts: Vec<AccountRt>,
}

impl Lwm2m {
    /// Whether some DM server account is registered.
    pub fn registered(&self) -> bool {
        self.accounts
            .iter()
            .any(|a| matches!(a.status, DmStatus::Registered | DmStatus::RegUpdatePending))
    }

    /// The lifetime of the first account (the default FOTA check period).
    pub(crate) fn first_lifetime(&self) -> Option<u32> {
        self.accounts.first().map(|a| a.lifetime)
    }

    /// The profile the client runs.
    pub(crate) fn profile(&self) -> &str {
        &self.profile
    }
}

/// Events of the LwM2M client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LwEvent {
    /// The hold-off is over: send the bootstrap request.
    BsStart,
    /// The bootstrap server answers.
    BsResult,
    /// Start registering with a server.
    Register(u16),
    /// The registration completes.
    Registered(u16),
    /// Time for a registration update.
    Update(u16),
    /// The update completes.
    Updated(u16),
}

/// A lifetime of 0 means the default, 86400 s (as in wakaama): a zero period would spin.
fn effective_lifetime(l: u32) -> u32 {
    if l == 0 {
        86_400
    } else {
        l
    }
}

fn secs_left(deadline: Option<Duration>, now: Duration) -> i64 {
    match deadline {
        None => -1,
        Some(d) => {
            let left = d.saturating_sub(now);
            let whole = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            i64::try_from(whole).unwrap_or(i64::MAX)
        }
    }
}

impl Modem {
    /// The DM profile the LwM2M client runs: the FOTA profile if enabled, else the first enabled.
    pub(crate) fn lwm2m_profile(&self) -> Option<String> {
        let enabled = |name: &str| self.active.dm.get(name).is_some_and(|p| p.autostart == 1);
        if let Some(f) = &self.active.settings.fota {
            if enabled(&f.profile) {
                return Some(f.profile.clone());
            }
        }
        self.active
            .dm
            .iter()
            .find(|(_, p)| p.autostart == 1)
            .map(|(n, _)| n.clone())
    }

    /// Called once attached: the client starts if the service is enabled.
    pub(crate) fn start_lwm2m(&mut self) {
        let Some(name) = self.lwm2m_profile() else {
            return;
        };
        let Some(profile) = self.active.dm.get(&name).cloned() else {
            return;
        };
        let now = self.now;
        let bs = profile
            .servers
            .iter()
            .find(|s| s.role == ServerRole::Bs)
            .map(|s| BsRt {
                id: s.server_id,
                hold_off: s.lifetime.unwrap_or(0),
                url: s.url.clone(),
                status: BsStatus::HoldOff,
                deadline: Some(now + Duration::from_secs(u64::from(s.lifetime.unwrap_or(0)))),
                attempts: 0,
            });
        let mut accounts: Vec<AccountRt> = profile
            .accounts
            .iter()
            .map(|a| AccountRt {
                id: a.server_id,
                lifetime: effective_lifetime(a.lifetime),
                status: DmStatus::Deregistered,
                deadline: Some(
                    now + Duration::from_secs(u64::from(effective_lifetime(a.lifetime))),
                ),
                direct: false,
            })
            .collect();
        for s in profile.servers.iter().filter(|s| s.role == ServerRole::Dm) {
            if !accounts.iter().any(|a| a.id == s.server_id) {
                accounts.push(AccountRt {
                    id: s.server_id,
                    lifetime: effective_lifetime(s.lifetime.unwrap_or(0)),
                    status: DmStatus::Deregistered,
                    deadline: Some(now),
                    direct: true,
                });
            }
        }
        if let Some(b) = &bs {
            if let Some(d) = b.deadline {
                self.schedule_at(d, Event::Lw(LwEvent::BsStart));
            }
        }
        for a in &accounts {
            if let Some(d) = a.deadline {
                self.schedule_at(d, Event::Lw(LwEvent::Register(a.id)));
            }
        }
        self.lwm2m = Some(Lwm2m {
            profile: name,
            bs,
            accounts,
        });
        self.fota_started();
    }

    /// `AT+SQNDMST`: `None` (→ `ERROR`) when not attached or the client is not running.
    pub(crate) fn dmst_lines(&self) -> Option<Vec<String>> {
        if self.net != Net::Attached {
            return None;
        }
        let lw = self.lwm2m.as_ref()?;
        let now = self.now;
        let mut out = Vec::new();
        if let Some(b) = &lw.bs {
            out.push(format!(
                "+SQNDMST: \"bs\",{},\"{}\",{},{}",
                b.id,
                b.status.as_str(),
                b.hold_off,
                secs_left(b.deadline, now)
            ));
        }
        for a in &lw.accounts {
            out.push(format!(
                "+SQNDMST: \"dm\",{},\"{}\",{},{}",
                a.id,
                a.status.as_str(),
                a.lifetime,
                secs_left(a.deadline, now)
            ));
        }
        Some(out)
    }

    fn psk_for(&self, profile: &str, server_id: u16) -> Option<(String, Secret)> {
        self.active
            .dm
            .get(profile)?
            .psks
            .iter()
            .find(|k| k.server_id == server_id)
            .map(|k| (k.identity.clone(), k.secret.clone()))
    }

    pub(crate) fn lw_event(&mut self, e: LwEvent) {
        let Some(lw) = self.lwm2m.as_ref() else {
            return;
        };
        let profile = lw.profile.clone();
        let now = self.now;
        let t = self.cfg.timings.clone();
        match e {
            LwEvent::BsStart => {
                if let Some(b) = self.lwm2m.as_mut().and_then(|l| l.bs.as_mut()) {
                    b.status = BsStatus::Initiated;
                    b.deadline = None;
                    b.attempts += 1;
                    self.schedule(t.bootstrap, Event::Lw(LwEvent::BsResult));
                }
            }
            LwEvent::BsResult => {
                let Some(b) = self.lwm2m.as_ref().and_then(|l| l.bs.clone()) else {
                    return;
                };
                let ep = self.endpoint();
                let creds = self.psk_for(&profile, b.id);
                let answer = self.server.bootstrap(
                    &ep,
                    &b.url,
                    creds.as_ref().map(|(i, s)| (i.as_str(), s)),
                );
                match answer {
                    Some(specs) => {
                        self.cancel(|e| {
                            matches!(
                                e,
                                Event::Lw(
                                    LwEvent::Register(_)
                                        | LwEvent::Registered(_)
                                        | LwEvent::Update(_)
                                        | LwEvent::Updated(_)
                                )
                            )
                        });
                        let accounts: Vec<AccountRt> = specs
                            .iter()
                            .map(|s| AccountRt {
                                id: s.server_id,
                                lifetime: effective_lifetime(s.lifetime),
                                status: DmStatus::Deregistered,
                                deadline: Some(now.saturating_add(s.register_delay)),
                                direct: false,
                            })
                            .collect();
                        for s in &specs {
                            self.schedule(
                                s.register_delay,
                                Event::Lw(LwEvent::Register(s.server_id)),
                            );
                        }
                        let stored: Vec<Account> = specs
                            .iter()
                            .map(|s| Account {
                                server_id: s.server_id,
                                lifetime: s.lifetime,
                            })
                            .collect();
                        for dm in [&mut self.nv.dm, &mut self.active.dm] {
                            if let Some(p) = dm.get_mut(&profile) {
                                p.accounts = stored.clone();
                            }
                        }
                        if let Some(l) = self.lwm2m.as_mut() {
                            if let Some(b) = l.bs.as_mut() {
                                b.status = BsStatus::Finished;
                                b.deadline = None;
                            }
                            l.accounts = accounts;
                        }
                    }
                    None => {
                        let give_up = b.attempts >= t.bootstrap_attempts.max(1);
                        if let Some(bm) = self.lwm2m.as_mut().and_then(|l| l.bs.as_mut()) {
                            if give_up {
                                bm.status = BsStatus::Failed;
                                bm.deadline = None;
                            } else {
                                bm.status = BsStatus::Failing;
                                bm.deadline = Some(now.saturating_add(t.bootstrap_retry));
                            }
                        }
                        if give_up {
                            self.fota_onboarding_failed();
                        } else {
                            self.schedule(t.bootstrap_retry, Event::Lw(LwEvent::BsStart));
                        }
                    }
                }
            }
            LwEvent::Register(id) => {
                if self.set_account(id, DmStatus::RegPending, None) {
                    self.schedule(t.register, Event::Lw(LwEvent::Registered(id)));
                }
            }
            LwEvent::Registered(id) => {
                let Some(acc) = self.account(id) else {
                    return;
                };
                let ep = self.endpoint();
                let accepted = !acc.direct || {
                    let creds = self.psk_for(&profile, id);
                    self.server
                        .accepts_registration(&ep, creds.as_ref().map(|(i, s)| (i.as_str(), s)))
                };
                if !accepted {
                    self.set_account(id, DmStatus::RegFailed, None);
                    return;
                }
                let lifetime = Duration::from_secs(u64::from(acc.lifetime));
                self.set_account(id, DmStatus::Registered, Some(now + lifetime));
                self.schedule(lifetime, Event::Lw(LwEvent::Update(id)));
                let fw = self.nv.firmware.clone();
                self.server.set_registered(&ep, true, &fw);
                self.fota_registered();
            }
            LwEvent::Update(id) => {
                if self.set_account(id, DmStatus::RegUpdatePending, None) {
                    self.schedule(t.register, Event::Lw(LwEvent::Updated(id)));
                }
            }
            LwEvent::Updated(id) => {
                let Some(acc) = self.account(id) else {
                    return;
                };
                let lifetime = Duration::from_secs(u64::from(acc.lifetime));
                self.set_account(id, DmStatus::Registered, Some(now + lifetime));
                self.schedule(lifetime, Event::Lw(LwEvent::Update(id)));
                let ep = self.endpoint();
                let fw = self.nv.firmware.clone();
                self.server.set_registered(&ep, true, &fw);
            }
        }
    }

    fn account(&self, id: u16) -> Option<AccountRt> {
        self.lwm2m
            .as_ref()?
            .accounts
            .iter()
            .find(|a| a.id == id)
            .cloned()
    }

    fn set_account(&mut self, id: u16, status: DmStatus, deadline: Option<Duration>) -> bool {
        let Some(a) = self
            .lwm2m
            .as_mut()
            .and_then(|l| l.accounts.iter_mut().find(|a| a.id == id))
        else {
            return false;
        };
        a.status = status;
        a.deadline = deadline;
        true
    }
}
