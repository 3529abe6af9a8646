//! `ryz014 status`: `AT+SQNDMST`, decoded in words.

use serde_json::json;

use ryz014_core::client::ClientError;
use ryz014_core::session::{self, FailureKind};

use crate::cli::{CliError, Exit, Out, PortArgs};
use crate::cmd::connect::{open_client, sync};
use crate::cmd::provision::{log_wire, session_error};

/// Runs `status`.
pub fn run(args: &PortArgs, out: &Out) -> Result<(), CliError> {
    let (mut client, path) = open_client(args, out)?;
    log_wire(&mut client, out, &path);
    let status = futures::executor::block_on(async {
        sync(&mut client).await?;
        session::dm_status(&mut client).await.map_err(|e| {
            if matches!(e.kind, FailureKind::Client(ClientError::Refused { .. })) {
                CliError::new(
                    Exit::Failed,
                    format!(
                        "the modem answered {} to AT+SQNDMST: it gives no LwM2M status while it is \
                         not attached to the network or its LwM2M client is not enabled \
                         (provision it, or wait for +CEREG: 1 after boot)",
                        refused_answer(&e.kind)
                    ),
                )
            } else {
                session_error(&e)
            }
        })
    })?;
    out.event(&json!({
        "event": "dm_status",
        "port": path,
        "registered": status.is_registered(),
        "bootstrap_done": status.bootstrap_done(),
        "summary": status.summary(),
        "servers": status.servers().iter().map(|s| json!({
            "role": match s.role { ryz014_core::command::ServerRole::Bs => "bs", ryz014_core::command::ServerRole::Dm => "dm" },
            "server_id": s.server_id,
            "status": s.state.as_str(),
            "timer": s.timer,
            "update_in": s.update_in,
            "meaning": s.state.meaning(),
            "explanation": s.explain(),
        })).collect::<Vec<_>>(),
    }))?;
    out.say(&status.summary())?;
    for s in status.servers() {
        let role = match s.role {
            ryz014_core::command::ServerRole::Bs => "bootstrap",
            ryz014_core::command::ServerRole::Dm => "DM",
        };
        out.say(&format!(
            "  {role:<9} server {:<5} {:<18} {}",
            s.server_id,
            s.state.as_str(),
            s.explain()
        ))?;
    }
    Ok(())
}

fn refused_answer(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Client(ClientError::Refused { result, .. }) => match result {
            ryz014_core::message::FinalResult::CmeError(c) => format!("+CME ERROR: {}", code(c)),
            ryz014_core::message::FinalResult::CmsError(c) => format!("+CMS ERROR: {}", code(c)),
            _ => "ERROR".into(),
        },
        _ => "ERROR".into(),
    }
}

fn code(c: &ryz014_core::message::ErrorCode) -> String {
    match c {
        ryz014_core::message::ErrorCode::Number(n) => n.to_string(),
        ryz014_core::message::ErrorCode::Text(t) => t.clone(),
    }
}
