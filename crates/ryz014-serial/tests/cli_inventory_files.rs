//! `ryz014 inventory` and `provision` end to end on the inventory's files: `export --out` writes
//! only to a regular file or a new path (`-` is standard output), `list`/`export` change nothing
//! in a foreign inventory, a path that cannot be read says so (exit 2), and many processes using
//! a new inventory at once all succeed.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Child;

use common::{both, default_profile, json_lines, ryz014_command, stderr, stdout, wait_limited};
use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::{Inventory, NewRecord};

const SECRET: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";

/// An inventory with one verified modem (closed again).
fn sample_inventory(dir: &Path) -> PathBuf {
    let path = dir.join("inv.sqlite");
    let inv = Inventory::open(&path).unwrap();
    let imei = Imei::parse(common::SIM_IMEI).unwrap();
    let endpoint = imei.urn();
    let secret = PskSecret::from_hex(SECRET).unwrap();
    let id = inv
        .begin_pending(
            &NewRecord {
                imei: &imei,
                endpoint: &endpoint,
                psk_identity: &endpoint,
                secret: &secret,
                profile: "standard",
                port: None,
                firmware: None,
                server: None,
            },
            false,
        )
        .unwrap();
    inv.mark_verified(id, None).unwrap();
    path
}

fn export_to(db: &Path, out: &Path) -> std::process::Output {
    common::run(&[
        "inventory",
        "export",
        "--inventory",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Asserts a refused export: exit 2, a message naming the path and what it is, no secret.
fn assert_refused(o: &std::process::Output, path: &Path, kind: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", both(o));
    let err = stderr(o);
    assert!(err.contains(path.to_str().unwrap()), "{err}");
    assert!(err.contains(kind), "{err}");
    assert!(err.contains("regular file or a new path"), "{err}");
    assert!(!stdout(o).contains(SECRET) && !err.contains(&SECRET[..8]));
}

#[test]
fn export_to_a_fifo_is_refused_and_the_fifo_stays() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let fifo = dir.path().join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let o = export_to(&db, &fifo);
    assert_refused(&o, &fifo, "FIFO");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn export_to_a_symlink_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "keep me\n").unwrap();
    chmod(&target, 0o644);
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = export_to(&db, &link);
    assert_refused(&o, &link, "symbolic link");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
    assert_eq!(mode(&target), 0o644);
}

#[test]
fn export_to_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let sub = dir.path().join("exports");
    std::fs::create_dir(&sub).unwrap();
    let o = export_to(&db, &sub);
    assert_refused(&o, &sub, "a directory");
    assert!(sub.is_dir());
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
}

#[test]
fn export_to_a_character_device_is_refused_and_the_node_stays() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    // A node with /dev/null's numbers (1, 3), made in the temporary directory.
    let dev = dir.path().join("null");
    let made = nix::sys::stat::mknod(
        &dev,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    );
    if let Err(e) = made {
        eprintln!(
            "skipped: cannot make a character device in a temporary directory ({e}; needs root)"
        );
        return;
    }
    let dev_mode = mode(&dev);
    let o = export_to(&db, &dev);
    assert_refused(&o, &dev, "character device");
    let meta = std::fs::symlink_metadata(&dev).unwrap();
    assert!(meta.file_type().is_char_device());
    assert_eq!(meta.rdev(), nix::sys::stat::makedev(1, 3));
    assert_eq!(mode(&dev), dev_mode);
}

#[test]
fn export_to_dash_is_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for json in [false, true] {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend([
            "inventory",
            "export",
            "--inventory",
            db.to_str().unwrap(),
            "--out",
            "-",
        ]);
        let mut cmd = ryz014_command(&args);
        cmd.current_dir(&work);
        let o = wait_limited(cmd.spawn().unwrap(), common::RUN_LIMIT, "export --out -");
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        let expected = format!(
            "endpointName,dtlsIdentity,dtlsPskHex\r\nurn:imei:{0},urn:imei:{0},{SECRET}\r\n",
            common::SIM_IMEI
        );
        if json {
            let lines = json_lines(&o);
            assert_eq!(lines.len(), 1, "{}", both(&o));
            assert_eq!(lines[0]["event"], "export");
            assert_eq!(lines[0]["content"], expected.as_str());
        } else {
            assert_eq!(stdout(&o), expected);
        }
        assert_eq!(
            std::fs::read_dir(&work).unwrap().count(),
            0,
            "no file named `-`"
        );
    }
}

#[test]
fn export_to_a_new_path_or_a_regular_file_is_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let new = dir.path().join("new.csv");
    let o = export_to(&db, &new);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(mode(&new), 0o600);
    assert!(std::fs::read_to_string(&new).unwrap().contains(SECRET));
    let old = dir.path().join("old.csv");
    std::fs::write(&old, "old\n").unwrap();
    chmod(&old, 0o644);
    let o = export_to(&db, &old);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(mode(&old), 0o600);
    assert!(std::fs::read_to_string(&old).unwrap().contains(SECRET));
    // A destination in a directory that does not exist is a wrong path.
    let o = export_to(&db, &dir.path().join("missing/out.csv"));
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("missing/out.csv"), "{}", both(&o));
}

#[test]
fn export_over_the_inventory_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let before = std::fs::read(&db).unwrap();
    let o = export_to(&db, &db);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("own database"), "{}", both(&o));
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the inventory is intact"
    );
}

/// The journal mode in an SQLite file's header: (1, 1) rollback journal, (2, 2) WAL.
fn header_journal_mode(path: &Path) -> (u8, u8) {
    let bytes = std::fs::read(path).unwrap();
    (bytes[18], bytes[19])
}

#[test]
fn list_and_export_change_nothing_in_a_foreign_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    // Handed over as one file: rollback journal, mode 0644, in a directory of mode 0755.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let jm: String = conn
        .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
        .unwrap();
    assert_eq!(jm, "delete");
    drop(conn);
    chmod(&db, 0o644);
    chmod(dir.path(), 0o755);
    let before = std::fs::read(&db).unwrap();
    assert_eq!(header_journal_mode(&db), (1, 1));
    let inv = db.to_str().unwrap();
    let out = dir.path().join("devices.csv");
    for args in [
        vec!["inventory", "list", "--inventory", inv],
        vec!["--json", "inventory", "list", "--inventory", inv],
        vec!["inventory", "export", "--inventory", inv],
        vec!["--json", "inventory", "export", "--inventory", inv],
        vec![
            "inventory",
            "export",
            "--inventory",
            inv,
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let o = common::run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", both(&o));
        assert_eq!(mode(&db), 0o644, "{args:?}");
        assert_eq!(mode(dir.path()), 0o755, "{args:?}");
        assert_eq!(header_journal_mode(&db), (1, 1), "{args:?}");
        assert!(
            std::fs::read(&db).unwrap() == before,
            "{args:?}: bytes changed"
        );
        let extra: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "inv.sqlite" && n != "devices.csv")
            .collect();
        assert!(extra.is_empty(), "{args:?}: left {extra:?}");
        // It says that the file is readable by others instead of changing it.
        let said = if args[0] == "--json" {
            stdout(&o)
        } else {
            stderr(&o)
        };
        assert!(said.contains("mode 0644"), "{args:?}: {}", both(&o));
    }
    assert_eq!(mode(&out), 0o600);
}

#[test]
fn an_inventory_that_cannot_be_reached_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // A path through a regular file: it is not "missing".
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let through = plain.join("inv.sqlite");
    for cmd in ["list", "export"] {
        let o = common::run(&["inventory", cmd, "--inventory", through.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", both(&o));
        let err = stderr(&o);
        assert!(!err.contains("does not exist"), "{err}");
        assert!(err.contains("Not a directory"), "{err}");
    }
    // A directory given as the inventory.
    let o = common::run(&[
        "inventory",
        "list",
        "--inventory",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("is a directory"), "{}", both(&o));
    // A file that is not an inventory.
    let o = common::run(&["inventory", "list", "--inventory", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        stderr(&o).contains("not a ryz014 inventory"),
        "{}",
        both(&o)
    );
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "x");
    // Provisioning into a path that cannot be reached is bad usage too, before any port.
    let o = common::run(&[
        "provision",
        "-p",
        dir.path().join("ttyNOPE").to_str().unwrap(),
        "--profile",
        default_profile().to_str().unwrap(),
        "--inventory",
        through.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(!stderr(&o).contains("ttyNOPE"), "{}", both(&o));

    // Mode 000: meaningful only where permissions are enforced (not for root).
    let db = sample_inventory(dir.path());
    chmod(&db, 0o000);
    if std::fs::File::open(&db).is_ok() {
        eprintln!("skipped the mode-000 case: this process reads mode-000 files (root)");
        return;
    }
    let o = common::run(&["inventory", "list", "--inventory", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(stderr(&o).contains("ermission denied"), "{}", both(&o));
    assert!(!stderr(&o).contains("does not exist"), "{}", both(&o));
}

#[test]
fn an_inventory_from_a_newer_version_is_a_wrong_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = sample_inventory(dir.path());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let inv = db.to_str().unwrap();
    let port = dir.path().join("ttyNOPE");
    let profile = default_profile();
    for args in [
        vec!["inventory", "list", "--inventory", inv],
        vec!["inventory", "export", "--inventory", inv],
        vec![
            "provision",
            "-p",
            port.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--inventory",
            inv,
        ],
    ] {
        let o = common::run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", both(&o));
        assert!(stderr(&o).contains("schema version 99"), "{}", both(&o));
        assert!(!stderr(&o).contains("ttyNOPE"), "{}", both(&o));
    }
}

/// Spawns `ryz014` with these arguments (output piped), for running many at once.
fn spawn(args: &[&str]) -> Child {
    ryz014_command(args).spawn().expect("start ryz014")
}

#[test]
fn many_processes_using_a_new_inventory_at_once_all_succeed() {
    let profile = default_profile();
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.sqlite");
        let inv = db.to_str().unwrap();
        // Provisioning creates the inventory before it opens the port, which does not exist:
        // each run must end with exit 4 about the port, never with an inventory error.
        let port = dir.path().join("ttyNOPE");
        let creators: Vec<Child> = (0..8)
            .map(|_| {
                spawn(&[
                    "provision",
                    "-p",
                    port.to_str().unwrap(),
                    "--profile",
                    profile.to_str().unwrap(),
                    "--inventory",
                    inv,
                ])
            })
            .collect();
        // Readers start the moment the file appears, while it is being set up.
        let t0 = std::time::Instant::now();
        while !db.exists() {
            assert!(
                t0.elapsed() < common::RUN_LIMIT,
                "no provisioning created the inventory"
            );
            std::thread::yield_now();
        }
        let readers: Vec<Child> = (0..24)
            .map(|i| {
                if i % 2 == 0 {
                    spawn(&["--json", "inventory", "list", "--inventory", inv])
                } else {
                    spawn(&["inventory", "export", "--inventory", inv])
                }
            })
            .collect();
        for c in creators {
            let o = wait_limited(c, common::RUN_LIMIT, "ryz014 provision");
            assert_eq!(o.status.code(), Some(4), "round {round}: {}", both(&o));
            assert!(
                stderr(&o).contains("ttyNOPE"),
                "round {round}: {}",
                both(&o)
            );
            assert!(
                !stderr(&o).contains("locked"),
                "round {round}: {}",
                both(&o)
            );
        }
        for c in readers {
            let o = wait_limited(c, common::RUN_LIMIT, "ryz014 inventory");
            assert_eq!(o.status.code(), Some(0), "round {round}: {}", both(&o));
        }
        assert_eq!(mode(&db), 0o600);
    }
}
