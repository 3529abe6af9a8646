//! The inventory's files: concurrent first use of a new inventory, read-only opening for the
//! reading commands (a foreign database keeps its mode and journal mode), clear errors for a path
//! that is not an inventory, and exports that write only to a regular file or a new path.
#![cfg(unix)]

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use ryz014_core::imei::Imei;
use ryz014_core::psk::PskSecret;
use ryz014_serial::inventory::{ExportFormat, Inventory, InventoryError, NewRecord, State};

const SECRET: &str = "8749a3f2c1d0e5b6a7980123456789abcdef0123456789abcdef0123456789ab";

/// A Luhn-valid IMEI from a number (the 14-digit body is `35000000000000 + n`).
fn imei_n(n: u64) -> Imei {
    let body = format!("{:014}", 35_000_000_000_000u64 + n);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    Imei::parse(&format!("{body}{}", (10 - sum % 10) % 10)).unwrap()
}

fn add_verified(inv: &Inventory, n: u64) {
    let imei = imei_n(n);
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
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The journal mode written in an SQLite file's header: 1 rollback journal, 2 WAL.
fn header_journal_mode(path: &Path) -> (u8, u8) {
    let bytes = std::fs::read(path).unwrap();
    (bytes[18], bytes[19])
}

/// An inventory made by another copy of the tool and handed over as one file: rollback journal
/// (`journal_mode=DELETE`), mode 0644, in a directory of mode 0755, with one verified record.
fn foreign_inventory(dir: &Path) -> PathBuf {
    let path = dir.join("foreign.sqlite");
    {
        let inv = Inventory::open(&path).unwrap();
        add_verified(&inv, 1);
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    drop(conn);
    assert_eq!(header_journal_mode(&path), (1, 1));
    chmod(&path, 0o644);
    chmod(dir, 0o755);
    path
}

#[test]
fn many_first_opens_of_a_new_inventory_all_succeed() {
    // Each round: 32 connections open the same new file at once, then each records a modem.
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("new.sqlite"));
        let n = 32;
        let barrier = Arc::new(Barrier::new(n));
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
                std::thread::spawn(move || -> Result<(), String> {
                    barrier.wait();
                    let inv = Inventory::open(&*path).map_err(|e| format!("open: {e}"))?;
                    let imei = imei_n(i as u64);
                    let endpoint = imei.urn();
                    let secret = PskSecret::from_hex(SECRET).unwrap();
                    inv.begin_pending(
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
                    .map_err(|e| format!("begin_pending: {e}"))?;
                    Ok(())
                })
            })
            .collect();
        let errors: Vec<String> = handles
            .into_iter()
            .filter_map(|h| h.join().unwrap().err())
            .collect();
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        let inv = Inventory::open_read_only(&*path).unwrap();
        let records = inv.list().unwrap();
        assert_eq!(records.len(), n, "round {round}");
        assert!(records.iter().all(|r| r.state == State::Pending));
        assert_eq!(mode(&path), 0o600);
    }
}

#[test]
fn readers_of_an_inventory_being_created_succeed() {
    // Readers open the file while creators are still setting it up: an inventory without its
    // tables yet reads as empty, never as "locked" or "no such table".
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("new.sqlite"));
        // The file exists (as `Inventory::open` leaves it before the schema is written).
        drop(ryz014_serial::inventory::create_private_new(&path).unwrap());
        let (creators, readers) = (8, 24);
        let barrier = Arc::new(Barrier::new(creators + readers));
        let handles: Vec<_> = (0..creators + readers)
            .map(|i| {
                let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
                std::thread::spawn(move || -> Result<(), String> {
                    barrier.wait();
                    if i < creators {
                        let inv = Inventory::open(&*path).map_err(|e| format!("open: {e}"))?;
                        add_verified(&inv, i as u64);
                    } else {
                        let inv = Inventory::open_read_only(&*path)
                            .map_err(|e| format!("open_read_only: {e}"))?;
                        let n = inv.list().map_err(|e| format!("list: {e}"))?.len();
                        let mut out = Vec::new();
                        let m = inv
                            .export(ExportFormat::CoioteCsv, &mut out)
                            .map_err(|e| format!("export: {e}"))?;
                        // Creators go on meanwhile: each read sees some of them, never more.
                        if n > creators || m > creators {
                            return Err(format!("{m} exported, {n} listed, of {creators}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        let errors: Vec<String> = handles
            .into_iter()
            .filter_map(|h| h.join().unwrap().err())
            .collect();
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        assert_eq!(
            Inventory::open_read_only(&*path)
                .unwrap()
                .list()
                .unwrap()
                .len(),
            creators
        );
    }
}

#[test]
fn reading_a_foreign_inventory_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = foreign_inventory(dir.path());
    let before = std::fs::read(&path).unwrap();
    {
        let inv = Inventory::open_read_only(&path).unwrap();
        assert_eq!(inv.list().unwrap().len(), 1);
        let mut out = Vec::new();
        assert_eq!(inv.export(ExportFormat::Json, &mut out).unwrap(), 1);
        assert!(String::from_utf8(out).unwrap().contains(SECRET));
    }
    assert_eq!(mode(&path), 0o644);
    assert_eq!(mode(dir.path()), 0o755);
    assert_eq!(
        header_journal_mode(&path),
        (1, 1),
        "still a rollback journal"
    );
    assert!(
        std::fs::read(&path).unwrap() == before,
        "the bytes are unchanged"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["foreign.sqlite"], "no file left beside it");
    // A read-only inventory refuses writes.
    let inv = Inventory::open_read_only(&path).unwrap();
    let imei = imei_n(7);
    let endpoint = imei.urn();
    let secret = PskSecret::from_hex(SECRET).unwrap();
    let err = inv
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
        .unwrap_err();
    assert!(err.to_string().contains("readonly"), "{err}");
    drop(inv);
    assert!(std::fs::read(&path).unwrap() == before);
}

#[test]
fn opening_for_writing_still_narrows_a_readable_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let path = foreign_inventory(dir.path());
    let inv = Inventory::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    // Its WAL companions, made while it was still 0644, are narrowed too: secrets go there first.
    for suffix in ["-wal", "-shm"] {
        let companion = PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&companion), 0o600, "{suffix}");
    }
    add_verified(&inv, 2);
    drop(inv);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(dir.path()), 0o755, "the directory is never touched");
}

#[test]
fn paths_that_are_not_inventories_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    // A directory.
    for err in [
        Inventory::open_read_only(dir.path()).unwrap_err(),
        Inventory::open(dir.path()).unwrap_err(),
    ] {
        assert!(matches!(err, InventoryError::NotAFile { .. }), "{err:?}");
        assert!(err.to_string().contains("a directory"), "{err}");
    }
    // A path through a regular file: it is not "missing", it cannot be reached.
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let through = file.join("inv.sqlite");
    for err in [
        Inventory::open_read_only(&through).unwrap_err(),
        Inventory::open(&through).unwrap_err(),
    ] {
        assert!(
            matches!(err, InventoryError::Inaccessible { .. }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("does not exist"), "{err}");
        assert!(err.to_string().contains("Not a directory"), "{err}");
    }
    // A SQLite database that is not an inventory.
    let other = dir.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let err = Inventory::open_read_only(&other).unwrap_err();
    assert!(matches!(err, InventoryError::NotAnInventory(_)), "{err:?}");
    let err = Inventory::open(&other).unwrap_err();
    assert!(matches!(err, InventoryError::NotAnInventory(_)), "{err:?}");
    assert_eq!(header_journal_mode(&other), (1, 1), "not switched to WAL");
    // Files that are not databases at all, short (SQLite alone would read it as an empty
    // database) or long, are neither read nor written.
    for (name, text) in [
        ("short.txt", "x".to_string()),
        ("notes.txt", "not a database; ".repeat(100)),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, &text).unwrap();
        chmod(&file, 0o644);
        for err in [
            Inventory::open_read_only(&file).unwrap_err(),
            Inventory::open(&file).unwrap_err(),
        ] {
            assert!(matches!(err, InventoryError::NotAnInventory(_)), "{err:?}");
            assert!(err.to_string().contains(name), "{err}");
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        assert_eq!(mode(&file), 0o644, "a foreign file keeps its mode");
    }
    // An empty file (as a creating process leaves it for a moment) reads as an empty inventory.
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, "").unwrap();
    assert!(Inventory::open_read_only(&empty)
        .unwrap()
        .list()
        .unwrap()
        .is_empty());
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "and stays empty"
    );
}

#[test]
fn an_unreadable_inventory_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.sqlite");
    {
        let inv = Inventory::open(&path).unwrap();
        add_verified(&inv, 1);
    }
    chmod(&path, 0o000);
    if std::fs::File::open(&path).is_ok() {
        // Root (or CAP_DAC_OVERRIDE) reads a mode-000 file: no permission error to report.
        eprintln!("skipped: this process reads mode-000 files (running as root), so permissions are not checked");
        return;
    }
    let err = Inventory::open_read_only(&path).unwrap_err();
    assert!(
        matches!(err, InventoryError::Inaccessible { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ermission denied"), "{err}");
    assert!(!err.to_string().contains("does not exist"), "{err}");
}

// ------------------------------------------------------------------------------------------------
// Export destinations

fn exporting_inventory(dir: &Path) -> Inventory {
    let inv = Inventory::open(dir.join("inv.sqlite")).unwrap();
    add_verified(&inv, 1);
    inv
}

#[test]
fn export_refuses_a_fifo_and_leaves_it_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let inv = exporting_inventory(dir.path());
    let fifo = dir.path().join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let err = inv
        .export_to_file(ExportFormat::CoioteCsv, &fifo)
        .unwrap_err();
    assert!(matches!(err, InventoryError::BadOutput { .. }), "{err:?}");
    assert!(err.to_string().contains("FIFO"), "{err}");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn export_refuses_a_symlink_and_leaves_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let inv = exporting_inventory(dir.path());
    let target = dir.path().join("target.txt");
    std::fs::write(&target, "keep me").unwrap();
    chmod(&target, 0o644);
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = inv
        .export_to_file(ExportFormat::CoioteCsv, &link)
        .unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    assert_eq!(mode(&target), 0o644);
    // A dangling link is refused too, and nothing is created where it points.
    let nowhere = dir.path().join("nowhere.csv");
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    assert!(inv
        .export_to_file(ExportFormat::CoioteCsv, &dangling)
        .is_err());
    assert!(!nowhere.exists());
}

#[test]
fn export_refuses_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let inv = exporting_inventory(dir.path());
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let err = inv.export_to_file(ExportFormat::Json, &sub).unwrap_err();
    assert!(err.to_string().contains("a directory"), "{err}");
    assert!(sub.is_dir());
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 0);
}

#[test]
fn export_refuses_a_character_device() {
    let dir = tempfile::tempdir().unwrap();
    let inv = exporting_inventory(dir.path());
    let dev = dir.path().join("null");
    // The same device numbers as /dev/null (1, 3), made in the temporary directory.
    let made = nix::sys::stat::mknod(
        &dev,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    );
    if let Err(e) = made {
        eprintln!("skipped: cannot make a character device here ({e}; needs root)");
        return;
    }
    let err = inv
        .export_to_file(ExportFormat::CoioteCsv, &dev)
        .unwrap_err();
    assert!(err.to_string().contains("character device"), "{err}");
    let meta = std::fs::symlink_metadata(&dev).unwrap();
    assert!(meta.file_type().is_char_device());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.rdev(), nix::sys::stat::makedev(1, 3));
}

#[test]
fn export_writes_a_new_path_or_replaces_a_regular_file_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let inv = exporting_inventory(dir.path());
    let new = dir.path().join("new.csv");
    assert_eq!(
        inv.export_to_file(ExportFormat::CoioteCsv, &new).unwrap(),
        1
    );
    assert_eq!(mode(&new), 0o600);
    assert!(std::fs::read_to_string(&new).unwrap().contains(SECRET));
    let old = dir.path().join("old.csv");
    std::fs::write(&old, "old").unwrap();
    chmod(&old, 0o644);
    assert_eq!(
        inv.export_to_file(ExportFormat::CoioteCsv, &old).unwrap(),
        1
    );
    assert_eq!(mode(&old), 0o600);
    assert!(std::fs::read_to_string(&old).unwrap().contains(SECRET));
    // A missing directory is a wrong path.
    let err = inv
        .export_to_file(ExportFormat::CoioteCsv, dir.path().join("no/such/dir.csv"))
        .unwrap_err();
    assert!(matches!(err, InventoryError::BadOutput { .. }), "{err:?}");
    // Nothing but the exports and the inventory is left.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("inv.sqlite"))
        .collect();
    names.sort();
    assert_eq!(names, ["new.csv", "old.csv"]);
}

#[test]
fn export_never_replaces_the_inventory_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.sqlite");
    let inv = exporting_inventory(dir.path());
    let link = dir.path().join("hard-link.csv");
    std::fs::hard_link(&db, &link).unwrap();
    let wal = dir.path().join("inv.sqlite-wal");
    assert!(wal.exists(), "the open inventory has its WAL");
    for target in [&db, &link, &wal] {
        let err = inv
            .export_to_file(ExportFormat::CoioteCsv, target)
            .unwrap_err();
        assert!(matches!(err, InventoryError::BadOutput { .. }), "{err:?}");
        assert!(err.to_string().contains("own database"), "{err}");
    }
    drop(inv);
    let inv = Inventory::open_read_only(&db).unwrap();
    assert_eq!(inv.list().unwrap().len(), 1, "the inventory is intact");
}
