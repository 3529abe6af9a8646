//! Portable page logic (no browser APIs): what the views show, computed from the core's types.

/// The page's title.
pub const TITLE: &str = "RYZ014 provisioning and FOTA monitor";
