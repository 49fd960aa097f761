//! Parsed flags -> what the front-ends run on: where the reports are, how to load them, job
//! names, and where uploads go. Both front-ends (headless and the terminal UI) stand on this
//! layer, as ripgrep's high-level arguments stand on its parsed flags; neither reaches into
//! the other. Exit codes and usage errors live here too, since both front-ends end with them.

pub mod run_url;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::Cli;
use crate::github;
use crate::load::{LoadOptions, parse_attempt};
use crate::run::LoadedRun;
use crate::s3_client::S3;
use crate::source::bucket::{self, S3Spec};
use crate::source::downloads::FetchProgress;
use crate::source::{Listing, LocalSpec, discover};
use crate::upload::{FolderSink, S3Sink, Sink};

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const STRICT: i32 = 3;
    /// `--fail-on new` found a new failure that is not disabled.
    pub const NEW_FAILURES: i32 = 4;
}

/// A run that ended with a specific exit code and message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Exit {
        code: exit::USAGE,
        message: message.into(),
    }
    .into()
}

/// Where the flags say the reports are: a local path, or the run's artifacts in the bucket.
pub enum ReportSource {
    Local(LocalSpec),
    Bucket { s3: Arc<S3>, spec: S3Spec },
    Actions(crate::source::actions::ActionsSpec),
}

/// Resolve the flags to a [`ReportSource`] (connecting to S3 when the run is read there).
pub fn report_source(cli: &Cli) -> Result<ReportSource> {
    let path = match (cli.report_path(), cli.circleci) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(std::env::current_dir().context("the current folder")?),
        (None, false) => None,
    };
    if let Some(path) = path {
        return Ok(ReportSource::Local(LocalSpec {
            path,
            circleci: cli.circleci,
            artifacts_repo: cli.artifacts_repo.clone(),
            run_id: cli.workflow_run_id.clone(),
            attempt: cli.workflow_run_attempt.clone(),
            zip_limits: cli.zip_limits(),
        }));
    }
    let (Some(run_id), Some(attempt_text)) = (&cli.workflow_run_id, &cli.workflow_run_attempt)
    else {
        return Err(usage(NO_SOURCE));
    };
    // The reference formats the int argparse parsed into the prefix ("01" reads ".../1/").
    let attempt = attempt_flag(attempt_text)?;
    if cli.from == crate::cli::From::Github {
        let gh = github::GithubConfig::from_env(cli.github_api_url.clone(), &cli.artifacts_repo);
        return Ok(ReportSource::Actions(crate::source::actions::ActionsSpec {
            api_url: gh.api_url,
            repo: cli.artifacts_repo.clone(),
            run_id: run_id.to_string(),
            attempt,
            token: gh.token,
            report_prefix: cli.artifact_prefix.clone(),
            zip_limits: cli.zip_limits(),
            concurrency: 8,
            timeout: std::time::Duration::from_secs(cli.s3_timeout),
            cache: cache(cli),
            tail_bytes: crate::source::remote::DEFAULT_TAIL,
        }));
    }
    let s3 = S3::connect(&cli.s3_read_settings()).map_err(|e| anyhow::anyhow!("S3: {e}"))?;
    let s3 = Arc::new(s3);
    let spec = S3Spec {
        bucket: cli.artifacts_bucket.clone(),
        artifacts_repo: cli.artifacts_repo.clone(),
        run_id: run_id.to_string(),
        attempt,
        zip_limits: cli.zip_limits(),
        concurrency: bucket::DEFAULT_CONCURRENCY,
        cache: cache(cli),
    };
    Ok(ReportSource::Bucket { s3, spec })
}

/// The report files the flags point at, with download progress (if any) in `fetch`. Archives
/// still downloading are fetched by the load (see [`Listing::downloads`]).
pub fn listing(cli: &Cli, fetch: &Arc<FetchProgress>) -> Result<Listing> {
    Ok(match report_source(cli)? {
        ReportSource::Local(spec) => discover(&spec)?,
        ReportSource::Bucket { s3, spec } => bucket::discover(&s3, &spec, fetch)?,
        ReportSource::Actions(spec) => crate::source::actions::discover(&spec, fetch)?,
    })
}

/// `--workflow-run-attempt` as argparse's `type=int` reads it.
fn attempt_flag(text: &str) -> Result<i64> {
    parse_attempt(text).ok_or_else(|| {
        usage(format!(
            "--workflow-run-attempt: invalid int value: {text:?}"
        ))
    })
}

/// Said when neither a path nor S3 ids are given.
pub const NO_SOURCE: &str = "give the reports to read: PATH (or --reports PATH): a folder of \
    artifact zips, a folder of XML reports, a zip, or a bucket folder with gha-artifacts/; or \
    --workflow-run-id and --workflow-run-attempt to read the run from S3";

/// Check the flags name a source before any work starts.
pub fn check_source(cli: &Cli) -> Result<()> {
    let s3 = cli.workflow_run_id.is_some() && cli.workflow_run_attempt.is_some();
    if cli.report_path().is_none() && !cli.circleci && !s3 {
        return Err(usage(NO_SOURCE));
    }
    Ok(())
}

/// How to load `listing`: ids from the flags, else what a bucket layout names, else
/// placeholders for inspection.
pub fn load_options(cli: &Cli, listing: &Listing, keep_test_run: bool) -> Result<LoadOptions> {
    let workflow_id = cli
        .workflow_run_id
        .clone()
        .or_else(|| listing.run_id.clone())
        .unwrap_or_else(|| "0".into());
    let attempt_text = cli
        .workflow_run_attempt
        .clone()
        .or_else(|| listing.attempt.clone())
        .unwrap_or_else(|| "1".into());
    let attempt = attempt_flag(&attempt_text)?;
    Ok(options_for(cli, workflow_id, attempt, keep_test_run))
}

/// Load options from the flags for run `workflow_id` attempt `attempt` (the batch path's:
/// failed lines kept, no triage hooks).
pub fn options_for(
    cli: &Cli,
    workflow_id: String,
    attempt: i64,
    keep_test_run: bool,
) -> LoadOptions {
    LoadOptions {
        workflow_id,
        attempt,
        keep_test_run,
        keep_failed: true,
        threads: cli.threads,
        max_file_bytes: cli.max_file_mib.saturating_mul(1 << 20),
        gzip_level: cli.gzip_level,
        brief_hook: None,
        keep_skipped: None,
    }
}

/// Job names and what went wrong asking for them.
pub type JobNames = (HashMap<i64, String>, Vec<String>);

/// Job names for additional_info: from `--job-names FILE`, else from GitHub's API (with
/// GITHUB_TOKEN/GH_TOKEN); whatever is not found is `NoJobName`, with one warning.
pub fn job_names(cli: &Cli, run: &LoadedRun) -> Result<JobNames> {
    let Some(path) = &cli.job_names else {
        let mut ids: Vec<i64> = run
            .files
            .iter()
            .filter_map(|f| match f.job_id {
                crate::report::Value::Int(id) => Some(id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let cfg = github::GithubConfig::from_env(cli.github_api_url.clone(), &cli.artifacts_repo);
        let found = github::job_names(&cfg, &ids);
        return Ok((found.names, found.warnings));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--job-names {}", path.display()))?;
    let map: HashMap<String, String> = serde_json::from_str(&text).with_context(|| {
        format!(
            "--job-names {}: expected a JSON object of job id to name",
            path.display()
        )
    })?;
    let names = map
        .into_iter()
        .filter_map(|(k, v)| k.trim().parse::<i64>().ok().map(|id| (id, v)))
        .collect();
    Ok((names, Vec::new()))
}

/// Whether browsing should ask for job names: a file was given or a token is at hand.
/// Inspecting offline is normal, so no warning about a missing token then.
pub fn wants_job_names(cli: &Cli) -> bool {
    let has_token = ["GITHUB_TOKEN", "GH_TOKEN"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|t| !t.trim().is_empty()));
    cli.job_names.is_some() || has_token
}

/// Where `--upload` (and the TUI's commit) writes: `--out-dir`, else S3.
pub fn sink_for(cli: &Cli) -> Result<Box<dyn Sink + Send>> {
    Ok(match &cli.out_dir {
        Some(dir) => Box::new(FolderSink::new(dir)),
        None => Box::new(S3Sink::new(
            S3::connect(&cli.s3_settings()).map_err(|e| anyhow::anyhow!("S3: {e}"))?,
        )),
    })
}

/// The flags for reading the base run, when one is asked for: `--base SOURCE` in place of
/// PATH (its run and attempt from its own layout), `--base-attempt N` for another attempt
/// of the same run (or of `--base`'s). Everything else (limits, S3, job names) as given.
pub fn base_cli(cli: &Cli) -> Option<Cli> {
    if !cli.has_base() {
        return None;
    }
    let mut base = cli.clone();
    if let Some(source) = &cli.base
        && run_url::is_url(&source.to_string_lossy())
    {
        // A run URL: its own run and attempt, read from the artifacts bucket.
        base.path = Some(source.clone());
        base.reports = None;
        base.workflow_run_id = None;
        base.workflow_run_attempt = cli.base_attempt.clone();
        base.base = None;
        base.base_attempt = None;
        return Some(base);
    }
    if let Some(source) = &cli.base {
        base.path = Some(source.clone());
        base.reports = None;
        base.workflow_run_id = None;
        base.workflow_run_attempt = None;
    }
    if let Some(attempt) = &cli.base_attempt {
        base.workflow_run_attempt = Some(attempt.clone());
    }
    base.base = None;
    base.base_attempt = None;
    Some(base)
}

/// Check the triage flags agree before any work starts.
pub fn check_triage_flags(cli: &Cli) -> Result<()> {
    if cli.fail_on.is_some() && !cli.has_base() {
        return Err(usage(
            "--fail-on new needs a base run to compare with: --base SOURCE or --base-attempt N",
        ));
    }
    if let Some(n) = &cli.base_attempt {
        attempt_flag(n).map_err(|_| usage(format!("--base-attempt: invalid int value: {n:?}")))?;
    }
    Ok(())
}

/// `--disabled-tests FILE`, read and parsed (an error names the file).
pub fn disabled_tests(cli: &Cli) -> Result<Option<crate::triage::disabled::DisabledTests>> {
    let Some(path) = &cli.disabled_tests else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--disabled-tests {}", path.display()))?;
    let parsed = crate::triage::disabled::DisabledTests::parse(&text)
        .map_err(|e| anyhow::anyhow!("--disabled-tests {}: {e}", path.display()))?;
    Ok(Some(parsed))
}

/// The flags with a run URL in place of PATH (and of `--base`, through [`base_cli`]) turned
/// into the run it names: run id, attempt and repository, read from the artifacts bucket.
/// Ids given beside the URL must agree with it. Without `/attempts/N` the latest attempt is
/// asked from GitHub when a token is at hand, else attempt 1, said on stderr.
pub fn resolve_run_url(cli: &Cli) -> Result<Cli> {
    let Some(path) = cli.report_path() else {
        return Ok(cli.clone());
    };
    let text = path.to_string_lossy();
    if !run_url::is_url(&text) {
        return Ok(cli.clone());
    }
    let url = run_url::parse(&text).map_err(usage)?;
    let mut out = cli.clone();
    out.path = None;
    out.reports = None;
    if let Some(id) = &cli.workflow_run_id
        && *id != url.run_id
    {
        return Err(usage(format!(
            "--workflow-run-id {id} and the URL's run {} disagree",
            url.run_id
        )));
    }
    let attempt = match (&url.attempt, &cli.workflow_run_attempt) {
        (Some(a), Some(given)) if attempt_flag(a)? != attempt_flag(given)? => {
            return Err(usage(format!(
                "--workflow-run-attempt {given} and the URL's attempt {a} disagree"
            )));
        }
        (Some(a), _) => a.clone(),
        (None, Some(given)) => given.clone(),
        (None, None) => {
            let cfg = github::GithubConfig::from_env(cli.github_api_url.clone(), &url.repo);
            match github::latest_attempt(&cfg, &url.run_id) {
                Ok(n) => {
                    eprintln!("run {}: its latest attempt is {n}", url.run_id);
                    n.to_string()
                }
                Err(why) => {
                    eprintln!(
                        "run {}: reading attempt 1 (the latest attempt is unknown: {why}; \
                         add /attempts/N to the URL to choose)",
                        url.run_id
                    );
                    "1".to_string()
                }
            }
        }
    };
    out.workflow_run_id = Some(url.run_id);
    out.workflow_run_attempt = Some(attempt);
    out.artifacts_repo = url.repo;
    Ok(out)
}

/// The download cache the flags ask for (`--cache-dir`, `--no-cache`, `--cache-max-gib`).
pub fn cache(cli: &Cli) -> Option<crate::source::cache::Cache> {
    if cli.no_cache {
        return None;
    }
    let root = cli
        .cache_dir
        .clone()
        .or_else(crate::source::cache::default_root)?;
    Some(crate::source::cache::Cache::new(
        root,
        cli.cache_max_gib.saturating_mul(1 << 30),
    ))
}
