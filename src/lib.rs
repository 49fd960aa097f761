//! testscope: inspect the JUnit reports of one CI workflow run and produce exactly the
//! uploads of PyTorch's `tools/stats/upload_test_stats.py`.
//!
//! The library is the whole pipeline; the binaries are thin front-ends:
//! [`source`] lists report files, [`report`] turns XML into Python-exact JSON values,
//! [`load`] runs that in parallel into a [`run::LoadedRun`], [`stats`] summarises, and
//! [`upload`] plans the objects and writes them to a sink. [`s3`] is the connection the S3
//! source and the S3 sink share. The front-ends are [`headless`] (plain, JSON, `--upload`)
//! and [`tui`], both reading the one [`run::LoadedRun`].

#[cfg(feature = "net")]
pub mod cli;
#[cfg(feature = "net")]
pub mod github;
#[cfg(feature = "net")]
pub mod headless;
pub mod jobs;
pub mod load;
pub mod report;
pub mod run;
#[cfg(feature = "net")]
pub mod s3;
pub mod sample;
pub mod sanitize;
pub mod source;
pub mod stats;
#[cfg(feature = "net")]
pub mod tui;
pub mod upload;
