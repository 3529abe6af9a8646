//! `ryz014 status`: `AT+SQNDMST`, decoded in words.

use clap::Args;
use futures::io::{AsyncRead, AsyncWrite};
use serde_json::json;

use ryz014_core::client::{describe_final, Client, ClientError};
use ryz014_core::command::ServerRole;
use ryz014_core::registration::RegistrationStatus;
use ryz014_core::session::{self, FailureKind};

use crate::context::{connect, session_error, CliError, Exit, Handshake, Out, PortArgs};

/// `status`'s options.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Examples:
  ryz014 status -p /dev/ttyUSB0
  ryz014 status --json")]
pub struct StatusArgs {
    /// The port.
    #[command(flatten)]
    pub port: PortArgs,
}

/// Runs `status`.
pub fn run(args: &StatusArgs, out: &Out) -> Result<(), CliError> {
    let (mut client, path) = connect(&args.port, out, true, Handshake::Sync)?;
    let status = futures::executor::block_on(read(&mut client))?;
    render(&status, &path, out)
}

/// Reads the registration status (`AT+SQNDMST`); a refusal is explained in words.
pub async fn read<R, W>(client: &mut Client<R, W>) -> Result<RegistrationStatus, CliError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    session::dm_status(client).await.map_err(|e| {
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
}

/// Shows the status of the modem on `path`: a `dm_status` event, or the summary and one line per
/// server.
pub fn render(status: &RegistrationStatus, path: &str, out: &Out) -> Result<(), CliError> {
    out.event(&json!({
        "event": "dm_status",
        "port": path,
        "registered": status.is_registered(),
        "bootstrap_done": status.bootstrap_done(),
        "summary": status.summary(),
        "servers": status.servers().iter().map(|s| json!({
            "role": match s.role { ServerRole::Bs => "bs", ServerRole::Dm => "dm" },
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
            ServerRole::Bs => "bootstrap",
            ServerRole::Dm => "DM",
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

/// The modem's answer to a refused command, as it wrote it (the core's [`describe_final`]).
fn refused_answer(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Client(ClientError::Refused { result, .. }) => describe_final(result),
        _ => "ERROR".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{assert_no_secret, provisioned_sim, registered_sim, Captured};
    use ryz014_core::session::ErrorMode;

    /// The status of the provisioned simulator once it has registered.
    fn registered() -> RegistrationStatus {
        let (mut client, _handle) = registered_sim();
        futures::executor::block_on(read(&mut client)).expect("status read")
    }

    #[test]
    fn status_in_words() {
        let (out, stdout, stderr) = Captured::out(false, 0);
        render(&registered(), "sim", &out).expect("rendered");
        assert_no_secret(&stdout.text());
        insta::assert_snapshot!(stdout.text());
        assert_eq!(stderr.text(), "");
    }

    #[test]
    fn status_in_json() {
        let (out, stdout, _) = Captured::out(true, 0);
        render(&registered(), "sim", &out).expect("rendered");
        assert_no_secret(&stdout.text());
        insta::assert_snapshot!(stdout.text());
    }

    #[test]
    fn a_refused_status_names_the_answer() {
        let (mut client, _handle) = provisioned_sim();
        let e = futures::executor::block_on(async {
            crate::context::greet(&mut client, "waking the modem with AT", ErrorMode::Keep)
                .await
                .expect("the simulator answers AT");
            read(&mut client).await
        })
        .expect_err("not attached yet: AT+SQNDMST answers ERROR");
        assert_eq!(e.exit, Exit::Failed);
        insta::assert_snapshot!(e.message);
    }
}
