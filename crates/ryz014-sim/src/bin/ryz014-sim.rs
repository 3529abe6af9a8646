//! `ryz014-sim`: serves a simulated RYZ014 on a pseudo-terminal.
//!
//! Prints `PTY <path>` as its first line on stdout, then serves until SIGTERM or SIGINT, when it
//! writes the state (`--state-out`) and exits 0. Any serial client (the `serialport` crate,
//! `picocom`) can open the path; the baud rate is ignored.
//!
//! Without `--server-device`, the simulated DM server bootstraps any device whatever its PSK
//! (the PSK is usually generated during the run); with it, only the devices listed.
//!
//! Example: a provisioned modem that upgrades itself a minute in, sixty times faster than real
//! time: `ryz014-sim --provisioned --fota-timer 60 --schedule-fota good:5.4.1.1-57830@30
//! --time-scale 60`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    match native::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ryz014-sim: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::fs::File;
    use std::io::{ErrorKind, Read, Write};
    use std::os::fd::AsFd;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use clap::Parser;
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
    use ryz014_sim::realtime::RealTimeModem;
    use ryz014_sim::{Fault, FirmwareImage, Modem, Provisioning, SimConfig};

    /// A simulated Renesas RYZ014 modem on a pseudo-terminal.
    #[derive(Debug, Parser)]
    #[command(name = "ryz014-sim", version, about)]
    struct Args {
        /// IMEI (15 digits).
        #[arg(long, default_value = "015770000031766")]
        imei: String,
        /// Firmware version (the `LR` line of ATI1 without `LR`).
        #[arg(long, default_value = "5.4.1.1-57857")]
        firmware: String,
        /// Boot time in virtual milliseconds (reset to `+SYSSTART`).
        #[arg(long, default_value_t = 3000)]
        boot_ms: u64,
        /// Attach time in virtual milliseconds (`+CEREG: 2` to `+CEREG: 1`).
        #[arg(long, default_value_t = 2000)]
        attach_ms: u64,
        /// Installation time in virtual milliseconds.
        #[arg(long, default_value_t = 10_000)]
        install_ms: u64,
        /// Virtual seconds per real second (60: a minute passes in a second).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Echo at power-up (0 or 1).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
        echo: u8,
        /// `AT+CMEE` at power-up (0..2).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=2))]
        cmee: u8,
        /// `AT+SQNAUTOCONNECT` factory default (0 or 1).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        autoconnect: u8,
        /// Start with a boot (`+SYSSTART` after --boot-ms) instead of an already running modem.
        #[arg(long)]
        boot_at_start: bool,
        /// Validate the FOTA certificate id against 11..19.
        #[arg(long)]
        strict_cert: bool,
        /// Download rate in bits per second.
        #[arg(long, default_value_t = 100_000)]
        bitrate: u64,
        /// Seed of the fault injector's random source.
        #[arg(long, default_value_t = 0x5EED_0214)]
        seed: u64,
        /// A fault, `name[=arg]` (repeatable): garbage[=n], drop=<rate>, lone-cr,
        /// reset-at=<s>, reset-after=<n>, power-loss-download[=<pct>], power-loss-install,
        /// no-answer=<cmd>, cme=<cmd>:<code>, slow-output=<baud>, urc-between-lines[=<ms>],
        /// crash=<cmd>, crash-at=<s>, stale-cereg, echo-noise, psk-read-full, fota-cause=<n>.
        #[arg(long = "fault", value_name = "NAME[=ARG]")]
        faults: Vec<Fault>,
        /// Schedule a firmware image on the server at a virtual time:
        /// `<good|wrong>:<version>@<seconds>` (repeatable).
        #[arg(long = "schedule-fota", value_name = "KIND:VERSION@SECONDS", value_parser = parse_schedule)]
        schedule: Vec<(FirmwareImage, f64)>,
        /// Serve an image for AT+SQNSUPGRADE: `<url>=<good|wrong>:<version>[:<bytes>]` (repeatable).
        #[arg(long = "serve-url", value_name = "URL=KIND:VERSION[:BYTES]", value_parser = parse_url)]
        urls: Vec<(String, FirmwareImage)>,
        /// A device the server knows: `<endpoint>,<psk identity>,<psk secret hex>` (repeatable).
        /// Without any, the server bootstraps every device.
        #[arg(long = "server-device", value_name = "ENDPOINT,IDENTITY,SECRET", value_parser = parse_device)]
        devices: Vec<(String, String, String)>,
        /// Start already provisioned as in the note (profile `standard`, bootstrap server 100,
        /// PSK identity `urn:imei:<IMEI>`, autoconnect, FOTA reporting every 10 %).
        #[arg(long)]
        provisioned: bool,
        /// PSK secret (hex) for --provisioned.
        #[arg(long, default_value = "87493467538357")]
        psk_secret: String,
        /// Bootstrap hold-off (seconds) for --provisioned.
        #[arg(long, default_value_t = 60)]
        hold_off: u32,
        /// FOTA timer (seconds) for --provisioned; default: the server's lifetime.
        #[arg(long)]
        fota_timer: Option<u32>,
        /// Write the NV state and the commands received (JSON) here on exit.
        #[arg(long)]
        state_out: Option<PathBuf>,
    }

    fn parse_image(kind: &str, version: &str, size: Option<&str>) -> Result<FirmwareImage, String> {
        let good = match kind {
            "good" => true,
            "wrong" => false,
            other => return Err(format!("image kind `{other}` must be `good` or `wrong`")),
        };
        if !ryz014_sim::commands::valid_firmware(version) {
            return Err(format!(
                "version `{version}` must be 1..32 characters of [A-Za-z0-9.-]"
            ));
        }
        let size = match size {
            None => 35_346,
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| format!("image size `{s}` must be a number of bytes"))?,
        };
        Ok(FirmwareImage {
            version: version.to_string(),
            size,
            good,
        })
    }

    fn parse_schedule(s: &str) -> Result<(FirmwareImage, f64), String> {
        let (spec, at) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("`{s}`: expected <good|wrong>:<version>@<seconds>"))?;
        let (kind, version) = spec
            .split_once(':')
            .ok_or_else(|| format!("`{s}`: expected <good|wrong>:<version>@<seconds>"))?;
        let at: f64 = at
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0 && *v < 1e9)
            .ok_or_else(|| format!("`{at}`: seconds must be a number >= 0"))?;
        Ok((parse_image(kind, version, None)?, at))
    }

    fn parse_url(s: &str) -> Result<(String, FirmwareImage), String> {
        let (url, spec) = s
            .rsplit_once('=')
            .ok_or_else(|| format!("`{s}`: expected <url>=<good|wrong>:<version>[:<bytes>]"))?;
        let mut parts = spec.splitn(3, ':');
        let kind = parts.next().unwrap_or("");
        let version = parts
            .next()
            .ok_or_else(|| format!("`{s}`: expected <url>=<good|wrong>:<version>[:<bytes>]"))?;
        Ok((url.to_string(), parse_image(kind, version, parts.next())?))
    }

    fn parse_device(s: &str) -> Result<(String, String, String), String> {
        let mut p = s.splitn(3, ',');
        match (p.next(), p.next(), p.next()) {
            (Some(e), Some(i), Some(k)) if !e.is_empty() && !i.is_empty() && !k.is_empty() => {
                Ok((e.to_string(), i.to_string(), k.to_string()))
            }
            _ => Err("expected <endpoint>,<psk identity>,<psk secret hex>".into()),
        }
    }

    pub fn run() -> Result<(), String> {
        let args = Args::parse();
        let mut cfg = SimConfig {
            imei: args.imei.clone(),
            firmware: args.firmware.clone(),
            echo: args.echo == 1,
            cmee: args.cmee,
            autoconnect: args.autoconnect == 1,
            boot_at_start: args.boot_at_start,
            strict_certificate: args.strict_cert,
            download_bps: args.bitrate,
            faults: args.faults.clone(),
            seed: args.seed,
            ..SimConfig::default()
        };
        cfg.timings.boot = Duration::from_millis(args.boot_ms);
        cfg.timings.attach = Duration::from_millis(args.attach_ms);
        cfg.timings.install = Duration::from_millis(args.install_ms);
        cfg.server.trust_any = args.devices.is_empty();
        if args.provisioned {
            let mut p = Provisioning::note_example(&args.imei, &args.psk_secret, args.fota_timer);
            p.hold_off = args.hold_off;
            cfg.provisioned = Some(p);
        }
        let endpoint = cfg.endpoint();
        let mut modem = Modem::new(cfg).map_err(|e| e.to_string())?;
        for (ep, id, secret) in &args.devices {
            modem
                .server_mut()
                .register_device(ep, id, secret)
                .map_err(|e| e.to_string())?;
        }
        for (url, image) in &args.urls {
            modem.server_mut().serve_url(url, image.clone());
        }
        for (image, at) in &args.schedule {
            modem.schedule_firmware_at(Duration::from_secs_f64(*at), &endpoint, image.clone());
        }

        let pty = nix::pty::openpty(None, None).map_err(|e| format!("openpty: {e}"))?;
        let mut t = tcgetattr(&pty.slave).map_err(|e| format!("tcgetattr: {e}"))?;
        cfmakeraw(&mut t);
        tcsetattr(&pty.slave, SetArg::TCSANOW, &t).map_err(|e| format!("tcsetattr: {e}"))?;
        let path = nix::unistd::ttyname(&pty.slave).map_err(|e| format!("ttyname: {e}"))?;
        fcntl(&pty.master, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
            .map_err(|e| format!("fcntl: {e}"))?;
        // Keep the slave open ourselves, so the master never sees a hang-up between clients.
        let _slave = pty.slave;
        let mut master = File::from(pty.master);

        let term = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            signal_hook::flag::register(sig, Arc::clone(&term))
                .map_err(|e| format!("signal handler: {e}"))?;
        }
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "PTY {}", path.display()).map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }

        let mut rt = RealTimeModem::new(modem, args.time_scale);
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        while !term.load(Ordering::Relaxed) {
            pending.extend(rt.poll_output());
            while !pending.is_empty() {
                match master.write(&pending) {
                    Ok(0) => break,
                    Ok(n) => {
                        pending.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(format!("write to the pty: {e}")),
                }
            }
            let cap = if pending.is_empty() {
                Duration::from_millis(50)
            } else {
                Duration::from_millis(5)
            };
            let wait = rt.real_time_until_next().map_or(cap, |d| d.min(cap));
            let ms = u16::try_from(wait.as_millis()).unwrap_or(50);
            let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(n) if n > 0 => {}
                Ok(_) => continue,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            match master.read(&mut buf) {
                Ok(0) => std::thread::sleep(Duration::from_millis(5)),
                Ok(n) => rt.receive(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                // EIO while no client has the slave open on some kernels: wait for one.
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        if let Some(path) = &args.state_out {
            let snap = rt.modem().snapshot();
            let json = serde_json::to_string_pretty(&snap).map_err(|e| e.to_string())?;
            std::fs::write(path, json + "\n")
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        Ok(())
    }
}
