//! Provisioning: runs a [`Plan`] step by step, waits through the modem's reboots, then reads
//! everything back ([`provision`]).

use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use serde::Serialize;

use super::{connect, prepare, ErrorMode, FailureKind, SessionError, SyncBudget};
use crate::client::{Client, ClientError, Response};
use crate::command::{CfunLevel, CmeeMode, Command};
use crate::message::Message;
use crate::provision::{firmware_version, Expect, Plan, ReadBackCheck, Step};

/// How many times a read-back is read before a mismatch counts (a byte lost on the wire reads as
/// one).
const READ_BACK_ATTEMPTS: u32 = 2;

/// Progress of [`provision`].
#[derive(Debug)]
pub enum ProvisionEvent<'a> {
    /// A step's command is about to be sent.
    StepStarted {
        /// 0-based index of the step.
        index: usize,
        /// Number of steps.
        total: usize,
        /// The step.
        step: &'a Step,
    },
    /// The step's answer was `OK` and what the plan expects.
    StepDone {
        /// 0-based index of the step.
        index: usize,
        /// Number of steps.
        total: usize,
        /// The step.
        step: &'a Step,
    },
    /// The step reboots the modem: waiting for `+SYSSTART`.
    Rebooting {
        /// The step.
        step: &'a Step,
    },
    /// `+SYSSTART` arrived and the modem answers `AT` again.
    Booted {
        /// The step.
        step: &'a Step,
    },
    /// The modem registered on the network (`+CEREG: 1` or `5`) after the reboot.
    Attached {
        /// The step.
        step: &'a Step,
    },
    /// No network registration within the step's attach timeout. Not fatal: the read-back does
    /// not depend on it, but the FOTA client only starts once attached (§4.3.3).
    AttachMissing {
        /// The step.
        step: &'a Step,
        /// How long it waited.
        waited: Duration,
    },
    /// A read-back command is about to be sent.
    CheckStarted {
        /// 0-based index of the check.
        index: usize,
        /// Number of checks.
        total: usize,
        /// The check.
        check: &'a ReadBackCheck,
    },
    /// The read-back shows what was written.
    CheckDone {
        /// 0-based index of the check.
        index: usize,
        /// Number of checks.
        total: usize,
        /// The check.
        check: &'a ReadBackCheck,
    },
    /// A notification the modem sent meanwhile (`+CEREG`, `+SQNFOTA`, `+SHUTDOWN`, ...).
    Notification(&'a Message),
}

/// What a successful [`provision`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionReport {
    /// The firmware version `ATI1` showed, if the plan reads it.
    pub firmware: Option<String>,
    /// Steps run.
    pub steps: usize,
    /// Read-back checks passed.
    pub checks: usize,
    /// Reboots waited through whose network attach did not come in time.
    pub attach_missing: usize,
}

/// Runs the plan: gets in step with `AT`, sends every step (checking its answer), waits through
/// each reboot for `+SYSSTART` (then `AT` again, then the network attach when the step asks for
/// it), then runs every read-back check. Stops at the first failure, naming the step.
///
/// The modem is left as the operator had it where the plan did not mean to change it:
/// - `AT+CMEE` (numeric errors, so that a refusal names its cause) is read first and put back at
///   the end, whether the plan succeeded or not (best effort: a modem that does not answer the
///   read keeps numeric errors).
/// - A failure after the plan entered manufacturing mode (`AT+CFUN=5`) reads `AT+CFUN?` and, when
///   the modem is not at full function, sends `AT+CFUN=1`. The error's
///   [`recovery`](SessionError::recovery) says what was done and the state the modem is in.
pub async fn provision<R, W>(
    c: &mut Client<R, W>,
    plan: &Plan,
    mut on: impl FnMut(ProvisionEvent<'_>),
) -> Result<ProvisionReport, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    connect(c, SyncBudget::after_reboot(), ErrorMode::Keep).await?;
    let previous_cmee = match read_cmee(c).await {
        Ok(mode) => mode,
        Err(e) if e.is_fatal() => {
            return Err(SessionError::client(
                "cmee",
                "read how the modem reports errors (AT+CMEE?)",
                e,
            ))
        }
        Err(_) => None,
    };
    let mut manufacturing = false;
    let result = run_plan(c, plan, &mut on, &mut manufacturing).await;
    let result = match result {
        Ok(report) => Ok(report),
        Err(mut e) if manufacturing => {
            e.recovery = Some(leave_manufacturing_mode(c, e.is_fatal()).await);
            Err(e)
        }
        Err(e) => Err(e),
    };
    let restored = match previous_cmee {
        Some(mode)
            if mode != CmeeMode::Numeric && !result.as_ref().is_err_and(|e| e.is_fatal()) =>
        {
            c.execute(&Command::Cmee(mode)).await.map(|_| ())
        }
        _ => Ok(()),
    };
    match (result, restored) {
        (Ok(_), Err(e)) => Err(SessionError::client(
            "restore-cmee",
            "put back the modem's error reporting mode (AT+CMEE)",
            e,
        )),
        (result, _) => result,
    }
}

/// Reads `AT+CMEE?`: the modem's error reporting mode, `None` when the answer does not say.
pub async fn read_cmee<R, W>(c: &mut Client<R, W>) -> Result<Option<CmeeMode>, ClientError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let r = c.execute(&Command::CmeeRead).await?;
    Ok(r.lines.iter().find_map(|m| match m {
        Message::Cmee { mode } => CmeeMode::from_number((*mode).into()).ok(),
        _ => None,
    }))
}

/// After a failure in manufacturing mode: back to full function when the modem can be reached.
/// Returns what was done and the state the modem is in, for the operator.
async fn leave_manufacturing_mode<R, W>(c: &mut Client<R, W>, port_gone: bool) -> String
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    const STUCK: &str = "the modem may still be in manufacturing mode (AT+CFUN=5, radio off): \
                         send AT+CFUN=1 or power-cycle it before using it";
    if port_gone {
        return STUCK.into();
    }
    // A modem that does not answer the read would not answer AT+CFUN=1 either: do not wait for
    // that one too.
    let level = match c.execute(&Command::CfunRead).await {
        Ok(r) => r.lines.iter().find_map(|m| match m {
            Message::Cfun { level } => Some(*level),
            _ => None,
        }),
        Err(e) => return format!("{STUCK} (AT+CFUN?: {e})"),
    };
    if level == Some(1) {
        return "the modem is at full function (+CFUN: 1)".into();
    }
    let was = level.map_or_else(
        || "an unknown functional level".to_string(),
        |l| format!("functional level {l}"),
    );
    match c.execute(&Command::Cfun(CfunLevel::Full)).await {
        Ok(_) => format!("the modem was left in {was} and is back at full function (AT+CFUN=1)"),
        Err(e) => format!("{STUCK} (AT+CFUN=1: {e})"),
    }
}

/// The steps and checks of [`provision`], between its set-up and its clean-up. Sets
/// `manufacturing` once a step that enters manufacturing mode was sent.
async fn run_plan<R, W>(
    c: &mut Client<R, W>,
    plan: &Plan,
    on: &mut impl FnMut(ProvisionEvent<'_>),
    manufacturing: &mut bool,
) -> Result<ProvisionReport, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.execute(&Command::Cmee(CmeeMode::Numeric))
        .await
        .map_err(|e| SessionError::client("cmee", "ask for numeric error codes (AT+CMEE=1)", e))?;
    let mut report = ProvisionReport {
        firmware: None,
        steps: 0,
        checks: 0,
        attach_missing: 0,
    };
    let total = plan.steps().len();
    for (index, step) in plan.steps().iter().enumerate() {
        let fail =
            |e: ClientError| SessionError::client(step.id.as_str(), step.description.clone(), e);
        on(ProvisionEvent::StepStarted { index, total, step });
        if step.reboots() {
            // A +SYSSTART still queued from an earlier boot must not end this wait.
            for m in c.drain_notifications() {
                on(ProvisionEvent::Notification(&m));
            }
        }
        if matches!(step.command, Command::Cfun(CfunLevel::Manufacturing)) {
            *manufacturing = true;
        }
        let r = match c.execute_with_timeout(&step.command, step.timeout).await {
            Ok(r) => r,
            Err(ClientError::Refused { lines, result, .. })
                if step.expect == Expect::OkOrRefusal =>
            {
                Response { lines, result }
            }
            Err(e) => return Err(fail(e)),
        };
        step.check(&r.lines).map_err(|m| SessionError {
            step: step.id.as_str().into(),
            description: step.description.clone(),
            kind: FailureKind::Mismatch(m),
            recovery: None,
        })?;
        if matches!(step.command, Command::Ati1) {
            report.firmware = firmware_version(&r.lines).map(str::to_string);
        }
        on(ProvisionEvent::StepDone { index, total, step });
        if let Some(after) = step.after_reboot {
            on(ProvisionEvent::Rebooting { step });
            c.wait_for_sysstart(after.sysstart_timeout)
                .await
                .map_err(fail)?;
            prepare(c).await.map_err(|e| SessionError {
                step: step.id.as_str().into(),
                description: step.description.clone(),
                kind: e.kind,
                recovery: None,
            })?;
            on(ProvisionEvent::Booted { step });
            if let Some(attach) = after.attach_timeout {
                // A registration the modem sent before this +SYSSTART is not this boot's attach.
                let registered = c
                    .wait_for_since_boot(
                        "network registration (+CEREG: 1 or 5)",
                        attach,
                        |m| matches!(m, Message::Registration(r) if r.stat == 1 || r.stat == 5),
                    )
                    .await;
                match registered {
                    Ok(_) => on(ProvisionEvent::Attached { step }),
                    Err(e) if e.is_fatal() => return Err(fail(e)),
                    Err(_) => {
                        report.attach_missing += 1;
                        on(ProvisionEvent::AttachMissing {
                            step,
                            waited: attach,
                        });
                    }
                }
            }
        }
        for m in c.drain_notifications() {
            on(ProvisionEvent::Notification(&m));
        }
        report.steps += 1;
    }
    let total = plan.checks().len();
    for (index, check) in plan.checks().iter().enumerate() {
        let step = check.id.as_str().to_string();
        on(ProvisionEvent::CheckStarted {
            index,
            total,
            check,
        });
        // A line damaged on the wire reads as a mismatch: read once more before failing.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = c
                .execute(&check.command)
                .await
                .map_err(|e| SessionError::client(step.clone(), check.description.clone(), e))?;
            match check.verify(&r.lines) {
                Ok(()) => break,
                Err(_) if attempt < READ_BACK_ATTEMPTS => continue,
                Err(m) => {
                    return Err(SessionError {
                        step,
                        description: check.description.clone(),
                        kind: FailureKind::Mismatch(m),
                        recovery: None,
                    })
                }
            }
        }
        on(ProvisionEvent::CheckDone {
            index,
            total,
            check,
        });
        report.checks += 1;
    }
    for m in c.drain_notifications() {
        on(ProvisionEvent::Notification(&m));
    }
    Ok(report)
}
