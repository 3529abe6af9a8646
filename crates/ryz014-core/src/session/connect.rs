//! Getting in step with a modem that was just opened or rebooted ([`prepare`]).

use futures::io::{AsyncRead, AsyncWrite};

use super::{SessionError, RESYNC_ATTEMPTS, RESYNC_EACH};
use crate::client::Client;
use crate::command::{CmeeMode, Command};

/// Gets in step with the modem (`AT` until `OK`) and asks for numeric `+CME ERROR: <n>` codes
/// (`AT+CMEE=1`), so that a refusal says why. [`provision`] and [`upgrade`] start with it; call it
/// after opening a port.
pub async fn prepare<R, W>(c: &mut Client<R, W>) -> Result<(), SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    c.sync(RESYNC_ATTEMPTS, RESYNC_EACH)
        .await
        .map_err(|e| SessionError::client("sync", "get in step with the modem (AT)", e))?;
    c.execute(&Command::Cmee(CmeeMode::Numeric))
        .await
        .map_err(|e| SessionError::client("cmee", "ask for numeric error codes (AT+CMEE=1)", e))?;
    Ok(())
}
