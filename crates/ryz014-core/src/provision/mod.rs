//! Provisioning: the [`ProvisioningProfile`] (TOML or JSON, validated key by key) and the
//! per-modem [`Plan`] of the note's §4.3 (device configuration, restoration point, FOTA
//! registration), with its read-back checks and the modem's [`Credentials`].
//!
//! The plan is data only: a runner sends each [`Step`]'s command with the async client, checks
//! its lines with [`Step::check`], waits as [`AfterReboot`] says, and finally runs each
//! [`ReadBackCheck`] and [`ReadBackCheck::verify`]s the answer.

mod plan;
mod profile;
mod shipped;

pub use plan::{
    firmware_version, AfterReboot, CheckId, Credentials, Expect, Mismatch, Plan, ReadBack,
    ReadBackCheck, Step, StepId, ATTACH_TIMEOUT, RESTORATION_TAG, SYSSTART_TIMEOUT,
};
pub use profile::{
    allowed_for, expand_template, BootstrapSection, FactorySection, FotaSection, ModemSection,
    ProfileError, ProfileWarning, ProvisioningProfile, PskSection, TemplateError,
    DEFAULT_ENDPOINT_NAME, MAX_ENDPOINT_NAME, PLACEHOLDERS,
};
pub use shipped::COIOTE_STANDARD_TOML;
