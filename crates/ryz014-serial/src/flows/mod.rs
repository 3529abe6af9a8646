//! Procedures and displays that more than one command runs: the provisioning of one modem with
//! its progress display (`provision`, `demo`) and the live FOTA view (`monitor`, `demo`; its
//! download bar also in `upgrade`).
//! They build on [`crate::context`] only, never on a command.

pub mod fota_view;
pub mod provisioning;
