//! Faults the simulator can inject, chosen per run and parsed from `name[=arg]` (the binary's
//! `--fault` flag).
//!
//! | spelling | effect |
//! |---|---|
//! | `garbage[=<n>]` | before every `<n>`th framed line (default 1), a few noise bytes (`0x00`, `0xFF`, `~`...) |
//! | `drop=<rate>` | each output byte is lost with probability `<rate>` (0..1, seeded, deterministic) |
//! | `lone-cr` | lines are framed `\r<line>\r` instead of `\r\n<line>\r\n` |
//! | `reset-at=<seconds>` | an unexpected reset (no `+SHUTDOWN`) at that virtual time |
//! | `reset-after=<n>` | the `<n>`th command gets no answer: the modem resets instead |
//! | `power-loss-download[=<pct>]` | power is lost once when a download reaches `<pct>` % (default 50) |
//! | `power-loss-install` | power is lost once halfway through an installation |
//! | `no-answer=<command>` | that command (e.g. `+SQNDMST`) is echoed but never answered |
//! | `cme=<command>:<n>` | that command is answered `+CME ERROR: <n>` (rendered per `AT+CMEE`) |
//! | `slow-output=<baud>` | output bytes trickle at that rate (10 bits a byte) |
//! | `urc-between-lines[=<ms>]` | a command's final result comes `<ms>` (default 50) after its information lines, with a `+CEREG` URC in between |
//! | `crash=<command>` | the first time that command comes, the module crashes: `^EXIT: <file>@<line>` instead of an answer, then `+SYSSTART` after the boot delay |
//! | `crash-at=<seconds>` | the module crashes at that virtual time: `^EXIT: exception: …`, then `+SYSSTART` after the boot delay |
//! | `stale-cereg` | just before each `+SHUTDOWN`, a `+CEREG: 1` left over from before the reset |
//! | `echo-noise` | a noise byte (`0xFF`) before the echo of every command line |
//! | `fota-cause=<n>` | a failed FOTA installation is reported `+SQNFOTA: 3,<n>` instead of the note's `3,8` |
//! | `psk-read-full` | the PSK read line (`+SQNDMCFG: …,"psk",…`) shows the whole secret instead of its first 4 digits |

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One injected fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Noise bytes before every `every`th framed line.
    Garbage {
        /// 1 = before every line.
        every: u32,
    },
    /// Output bytes lost at random (seeded).
    DropBytes {
        /// Probability 0..=1 that a byte is lost.
        rate: f64,
    },
    /// `\r` alone frames lines.
    LoneCr,
    /// An unexpected reset at a virtual time.
    ResetAt {
        /// Virtual time since the start of the run.
        at: Duration,
    },
    /// The `count`th command is not answered: the modem resets instead.
    ResetAfterCommands {
        /// 1 = the first command.
        count: u32,
    },
    /// Power lost once when a download reaches `percent`.
    PowerLossDuringDownload {
        /// 0..=99.
        percent: u8,
    },
    /// Power lost once halfway through an installation.
    PowerLossDuringInstall,
    /// A command (by name) that never gets an answer.
    NoAnswer {
        /// The command name, e.g. `+SQNDMST` (with or without `AT`).
        command: String,
    },
    /// A command (by name) answered with `+CME ERROR: <code>`.
    CmeError {
        /// The command name.
        command: String,
        /// The error code.
        code: u16,
    },
    /// Output paced at a baud rate.
    SlowOutput {
        /// Bits per second (10 bits per byte).
        baud: u32,
    },
    /// Final results delayed after information lines, with a `+CEREG` URC in between.
    UrcBetweenLines {
        /// How long after the information lines the final result comes.
        delay: Duration,
    },
    /// The module crashes (`^EXIT: <file>@<line>`, then a boot) the first time a command comes.
    Crash {
        /// The command name, e.g. `+SQNDMCFG`.
        command: String,
    },
    /// The module crashes (`^EXIT: exception: …`, then a boot) at a virtual time.
    CrashAt {
        /// Virtual time since the start of the run.
        at: Duration,
    },
    /// A stale `+CEREG: 1` just before each `+SHUTDOWN`.
    StaleCereg,
    /// A noise byte before the echo of every command line.
    EchoNoise,
    /// The PSK read line shows the whole secret.
    PskReadFull,
    /// A failed FOTA installation reports this cause instead of 8.
    FotaCause {
        /// The cause sent in `+SQNFOTA: 3,<cause>`.
        cause: u32,
    },
}

/// Why a fault spelling was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// The name is not one of the faults.
    #[error("unknown fault `{0}` (known: garbage, drop, lone-cr, reset-at, reset-after, power-loss-download, power-loss-install, no-answer, cme, slow-output, urc-between-lines, crash, crash-at, stale-cereg, echo-noise, psk-read-full, fota-cause)")]
    Unknown(String),
    /// The fault needs an argument.
    #[error("fault `{0}` needs an argument (`{0}=<{1}>`)")]
    MissingArg(&'static str, &'static str),
    /// The argument is malformed or out of range.
    #[error("fault `{fault}`: argument `{value}` is invalid, expected {expected}")]
    BadArg {
        /// The fault name.
        fault: &'static str,
        /// The argument given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
}

fn bad(fault: &'static str, value: &str, expected: &'static str) -> FaultParseError {
    FaultParseError::BadArg {
        fault,
        value: value.to_string(),
        expected,
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match s.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (s.trim(), None),
        };
        let need = |fault: &'static str, what: &'static str| {
            arg.filter(|a| !a.is_empty())
                .ok_or(FaultParseError::MissingArg(fault, what))
        };
        Ok(match name {
            "garbage" => {
                let every = match arg {
                    None => 1,
                    Some(a) => a
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad("garbage", a, "a line count >= 1"))?,
                };
                Fault::Garbage { every }
            }
            "drop" => {
                let a = need("drop", "rate 0..1")?;
                let rate = a
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| bad("drop", a, "a probability 0..1"))?;
                Fault::DropBytes { rate }
            }
            "lone-cr" => Fault::LoneCr,
            "reset-at" => {
                let a = need("reset-at", "seconds")?;
                let secs = a
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
                    .ok_or_else(|| bad("reset-at", a, "seconds >= 0"))?;
                Fault::ResetAt {
                    at: Duration::from_secs_f64(secs),
                }
            }
            "reset-after" => {
                let a = need("reset-after", "commands")?;
                let count = a
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad("reset-after", a, "a command count >= 1"))?;
                Fault::ResetAfterCommands { count }
            }
            "power-loss-download" => {
                let percent = match arg {
                    None => 50,
                    Some(a) => a
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p < 100)
                        .ok_or_else(|| bad("power-loss-download", a, "a percentage 0..99"))?,
                };
                Fault::PowerLossDuringDownload { percent }
            }
            "power-loss-install" => Fault::PowerLossDuringInstall,
            "no-answer" => Fault::NoAnswer {
                command: need("no-answer", "command")?.to_string(),
            },
            "cme" => {
                let a = need("cme", "command>:<code")?;
                let (cmd, code) = a
                    .rsplit_once(':')
                    .ok_or_else(|| bad("cme", a, "<command>:<code>"))?;
                let code = code
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| bad("cme", a, "<command>:<code> with a code 0..65535"))?;
                if cmd.trim().is_empty() {
                    return Err(bad("cme", a, "<command>:<code>"));
                }
                Fault::CmeError {
                    command: cmd.trim().to_string(),
                    code,
                }
            }
            "slow-output" => {
                let a = need("slow-output", "baud")?;
                let baud = a
                    .parse::<u32>()
                    .ok()
                    .filter(|b| *b >= 10)
                    .ok_or_else(|| bad("slow-output", a, "a baud rate >= 10"))?;
                Fault::SlowOutput { baud }
            }
            "urc-between-lines" => {
                let ms = match arg {
                    None => 50,
                    Some(a) => a
                        .parse::<u64>()
                        .ok()
                        .filter(|ms| *ms <= 60_000)
                        .ok_or_else(|| bad("urc-between-lines", a, "milliseconds 0..60000"))?,
                };
                Fault::UrcBetweenLines {
                    delay: Duration::from_millis(ms),
                }
            }
            "crash" => Fault::Crash {
                command: need("crash", "command")?.to_string(),
            },
            "crash-at" => {
                let a = need("crash-at", "seconds")?;
                let secs = a
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
                    .ok_or_else(|| bad("crash-at", a, "seconds >= 0"))?;
                Fault::CrashAt {
                    at: Duration::from_secs_f64(secs),
                }
            }
            "stale-cereg" => Fault::StaleCereg,
            "echo-noise" => Fault::EchoNoise,
            "psk-read-full" => Fault::PskReadFull,
            "fota-cause" => {
                let a = need("fota-cause", "cause")?;
                let cause = a
                    .parse::<u32>()
                    .map_err(|_| bad("fota-cause", a, "a cause number 0..4294967295"))?;
                Fault::FotaCause { cause }
            }
            other => return Err(FaultParseError::Unknown(other.to_string())),
        })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Garbage { every } => write!(f, "garbage={every}"),
            Fault::DropBytes { rate } => write!(f, "drop={rate}"),
            Fault::LoneCr => f.write_str("lone-cr"),
            Fault::ResetAt { at } => write!(f, "reset-at={}", at.as_secs_f64()),
            Fault::ResetAfterCommands { count } => write!(f, "reset-after={count}"),
            Fault::PowerLossDuringDownload { percent } => {
                write!(f, "power-loss-download={percent}")
            }
            Fault::PowerLossDuringInstall => f.write_str("power-loss-install"),
            Fault::NoAnswer { command } => write!(f, "no-answer={command}"),
            Fault::CmeError { command, code } => write!(f, "cme={command}:{code}"),
            Fault::SlowOutput { baud } => write!(f, "slow-output={baud}"),
            Fault::UrcBetweenLines { delay } => {
                write!(f, "urc-between-lines={}", delay.as_millis())
            }
            Fault::Crash { command } => write!(f, "crash={command}"),
            Fault::CrashAt { at } => write!(f, "crash-at={}", at.as_secs_f64()),
            Fault::StaleCereg => f.write_str("stale-cereg"),
            Fault::EchoNoise => f.write_str("echo-noise"),
            Fault::PskReadFull => f.write_str("psk-read-full"),
            Fault::FotaCause { cause } => write!(f, "fota-cause={cause}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_and_prints_it_back() {
        for s in [
            "garbage=3",
            "drop=0.25",
            "lone-cr",
            "reset-at=12.5",
            "reset-after=4",
            "power-loss-download=30",
            "power-loss-install",
            "no-answer=+SQNDMST",
            "cme=AT+CGSN:10",
            "slow-output=9600",
            "urc-between-lines=20",
            "crash=+SQNDMST",
            "crash-at=7.5",
            "stale-cereg",
            "echo-noise",
            "psk-read-full",
            "fota-cause=5",
        ] {
            let f: Fault = s.parse().unwrap();
            assert_eq!(f.to_string(), s);
        }
        assert_eq!("garbage".parse(), Ok(Fault::Garbage { every: 1 }));
        assert_eq!(
            "power-loss-download".parse(),
            Ok(Fault::PowerLossDuringDownload { percent: 50 })
        );
    }

    #[test]
    fn rejects_bad_spellings_naming_the_value() {
        let e = "drop=2".parse::<Fault>().unwrap_err();
        assert!(e.to_string().contains("`2`"), "{e}");
        assert!(e.to_string().contains("0..1"), "{e}");
        assert_eq!(
            "cme=AT+CGSN".parse::<Fault>().unwrap_err(),
            bad("cme", "AT+CGSN", "<command>:<code>")
        );
        assert!(matches!(
            "nope".parse::<Fault>(),
            Err(FaultParseError::Unknown(_))
        ));
        assert_eq!(
            "reset-after".parse::<Fault>(),
            Err(FaultParseError::MissingArg("reset-after", "commands"))
        );
    }
}
