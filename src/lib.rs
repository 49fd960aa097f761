//! testscope: inspect the JUnit reports of one CI workflow run and produce exactly the
//! uploads of PyTorch's `tools/stats/upload_test_stats.py`.
//!
//! The library is the whole pipeline; the binary is a thin front-end. Data flows one way:
//! [`source`] lists report files, [`report`] turns XML into Python-exact documents ([`py`]),
//! [`load`] runs that on every core into a [`run::LoadedRun`], [`stats`] summarises, and
//! [`upload`] plans the objects and writes them to a sink. [`codec`] is the compression
//! everything shares. The front-ends, [`headless`] (plain, JSON, `--upload`) and [`tui`],
//! both stand on [`config`] and read the one [`run::LoadedRun`]. ARCHITECTURE.md has the
//! code map and the layering, which `tests/layers.rs` checks.

#[cfg(feature = "net")]
pub mod cli;
pub mod codec;
#[cfg(feature = "net")]
pub mod config;
#[cfg(feature = "net")]
pub mod github;
#[cfg(feature = "net")]
pub mod headless;
pub mod human;
pub mod jobs;
pub mod load;
pub mod py;
pub mod report;
pub mod reread;
pub mod run;
#[cfg(feature = "net")]
pub mod s3_client;
pub mod sanitize;
pub mod source;
pub mod stats;
#[cfg(feature = "net")]
pub mod triage;
#[cfg(feature = "net")]
pub mod tui;
pub mod upload;
