//! A fresh PostgreSQL database for one test, on the throw-away server that `scripts/test-all.sh`
//! starts (`RYZ014_TEST_POSTGRES`, its URL). Without it the PostgreSQL tests are skipped with a
//! loud message, unless `RYZ014_REQUIRE_POSTGRES` is set (test-all sets it): then they fail.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// A new, empty database on the test server; `None` (the test is skipped) without a server.
pub fn fresh_database(test: &str) -> Option<String> {
    let Ok(admin) = std::env::var("RYZ014_TEST_POSTGRES") else {
        if std::env::var_os("RYZ014_REQUIRE_POSTGRES").is_some() {
            panic!(
                "RYZ014_REQUIRE_POSTGRES is set but RYZ014_TEST_POSTGRES (the server URL) is not"
            );
        }
        eprintln!(
            "\n!!!!! SKIPPED {test} on PostgreSQL: RYZ014_TEST_POSTGRES is not set \
             (scripts/test-all.sh starts a throw-away server and sets it) !!!!!\n"
        );
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin}: {e}"));
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    Some(format!("{base}/{name}"))
}

/// A direct connection to a test database (to look at it, or break the rules on purpose).
pub fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}
