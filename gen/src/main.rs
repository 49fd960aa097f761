//! `testscope-gen`: writes a deterministic, realistic PyTorch CI workflow run
//! (zipped JUnit reports in the S3 bucket layout, plus the GitHub API's
//! jobs.json and a job-names.json) for demos, tests and benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use testscope_gen::{GenOptions, generate};

/// Generate a deterministic PyTorch-like CI run's test artifacts.
#[derive(Debug, Parser)]
#[command(name = "testscope-gen", version)]
struct Cli {
    /// Size preset: sample (300 cases), small (5k), medium (200k), pytorch (1.2M).
    #[arg(long, default_value = "sample", value_parser = GenOptions::PROFILES)]
    profile: String,
    /// Root of the on-disk bucket layout (gha-artifacts/, github-api/, job-names.json).
    #[arg(long)]
    out: PathBuf,
    /// Random seed; the same options always give the same bytes.
    #[arg(long)]
    seed: Option<u64>,
    /// Workflow run id [default: 1000000001].
    #[arg(long)]
    run_id: Option<u64>,
    /// Workflow run attempt [default: 1].
    #[arg(long)]
    attempt: Option<u32>,
    /// Number of test jobs (overrides the profile).
    #[arg(long)]
    jobs: Option<usize>,
    /// Report files per job (overrides the profile).
    #[arg(long)]
    files_per_job: Option<usize>,
    /// Test cases per report file on average (overrides the profile).
    #[arg(long)]
    cases_per_file: Option<usize>,
    /// Write the base run of head run N (same tests, known differences: new failures,
    /// fixed, renamed and flaky tests in the head), for comparisons.
    #[arg(long, value_name = "N")]
    base_of: Option<u64>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut opts = GenOptions::profile(&cli.profile)
        .ok_or_else(|| anyhow::anyhow!("unknown profile {:?}", cli.profile))?;
    if let Some(v) = cli.seed {
        opts.seed = v;
    }
    if let Some(v) = cli.run_id {
        opts.run_id = v;
    }
    if let Some(v) = cli.attempt {
        opts.attempt = v;
    }
    if let Some(v) = cli.jobs {
        opts.jobs = v;
    }
    if let Some(v) = cli.files_per_job {
        opts.files_per_job = v;
    }
    if let Some(v) = cli.cases_per_file {
        opts.cases_per_file = v;
    }
    opts.base_of = cli.base_of;
    let t0 = Instant::now();
    let s = generate(&opts, &cli.out)?;
    println!(
        "{} run {} attempt {} seed {}: {s} in {:.2}s -> {}",
        cli.profile,
        opts.run_id,
        opts.attempt,
        opts.seed,
        t0.elapsed().as_secs_f64(),
        cli.out.display()
    );
    Ok(())
}
