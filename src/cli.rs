//! Command-line flags: PyTorch's script's names (`--workflow-run-id`, `--workflow-run-attempt`,
//! `--head-branch`, `--head-repository`, `--circleci`) so CI can swap the script for the
//! binary, plus testscope's own. Completions and the man page are generated from this.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, ValueEnum};

use crate::source::bucket::DEFAULT_ARTIFACTS_BUCKET;
use crate::upload::plan::DEFAULT_STATS_BUCKET;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "testscope",
    version,
    about = "Inspect the JUnit test reports of one CI workflow run, and upload their statistics \
             exactly as PyTorch's upload_test_stats.py does",
    after_help = "Examples:\n  testscope assets/sample-run --workflow-run-id 1000000001 --workflow-run-attempt 1\n  \
                  testscope --upload --workflow-run-id 123 --workflow-run-attempt 1 \\\n      \
                  --head-branch main --head-repository pytorch/pytorch --reports ./artifacts --out-dir ./up\n  \
                  testscope --upload --workflow-run-id 123 --workflow-run-attempt 1 \\\n      \
                  --head-branch main --head-repository pytorch/pytorch   # S3 to S3"
)]
pub struct Cli {
    /// Reports to read: a folder of artifact zips, a folder of XML reports (searched
    /// recursively), one zip or XML file, or a bucket folder holding gha-artifacts/.
    /// Without PATH, --workflow-run-id and --workflow-run-attempt read the run from S3
    /// (--artifacts-bucket).
    #[arg(value_name = "PATH", conflicts_with = "reports")]
    pub path: Option<PathBuf>,

    /// Same as PATH.
    #[arg(long, value_name = "PATH")]
    pub reports: Option<PathBuf>,

    /// Headless: compute the batch path's objects and write them (to S3, or --out-dir).
    #[arg(long)]
    pub upload: bool,

    /// Id of the workflow run (becomes workflow_id, a JSON string, exactly as given).
    #[arg(long, value_name = "ID")]
    pub workflow_run_id: Option<String>,

    /// Which attempt of the workflow run this is.
    #[arg(long, value_name = "N")]
    pub workflow_run_attempt: Option<String>,

    /// Head branch of the workflow (test_run is uploaded for main and trunk/SHA).
    #[arg(long, value_name = "BRANCH")]
    pub head_branch: Option<String>,

    /// Head repository of the workflow (test_run is uploaded only for pytorch/pytorch).
    #[arg(long, value_name = "OWNER/REPO")]
    pub head_repository: Option<String>,

    /// The older script's mode: read **/test/test-reports/**/*.xml below PATH (default: the
    /// current folder).
    #[arg(long)]
    pub circleci: bool,

    /// Write each object to DIR/BUCKET/KEY (gzip bodies).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Print the plan (bucket, key, documents, bytes) and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the plain triage report instead of opening the terminal UI (the default when
    /// stdout is not a terminal).
    #[arg(long, conflicts_with = "upload")]
    pub plain: bool,

    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,

    /// Compare with a base run read from SOURCE (anything PATH takes: a folder, a zip, a
    /// bucket folder): per test, whether a failure is new, flaky, already failing in the
    /// base, fixed or missing. Opens the Compare view; with --json, adds "compare".
    #[arg(long, value_name = "SOURCE", conflicts_with = "upload")]
    pub base: Option<PathBuf>,

    /// Compare with attempt N of the same run (or of --base's run), e.g. a re-run's attempt
    /// 1 against its attempt 2.
    #[arg(long, value_name = "N", conflicts_with = "upload")]
    pub base_attempt: Option<String>,

    /// PyTorch's disabled-tests-condensed.json: tests listed there (for a job's platform)
    /// are marked disabled, and `--fail-on new` ignores them.
    #[arg(long, value_name = "FILE")]
    pub disabled_tests: Option<PathBuf>,

    /// Print a pull-request comment in Markdown (with a base: the new failures first, with
    /// their repro commands). Under GitHub Actions it is also added to $GITHUB_STEP_SUMMARY.
    #[arg(long, conflicts_with_all = ["upload", "json"])]
    pub markdown: bool,

    /// Print a shell script of repro commands for the run's failures (with a base: only the
    /// new ones), one per test.
    #[arg(long, conflicts_with_all = ["upload", "json", "markdown"])]
    pub repro: bool,

    /// Exit with code 4 when the comparison with the base finds a new failure that is not
    /// disabled (flaky tests and failures already in the base do not count).
    #[arg(long, value_name = "WHAT", conflicts_with = "upload")]
    pub fail_on: Option<FailOn>,

    /// Any problem with the input (unreadable file, case without time) is an error:
    /// nothing is uploaded and the exit code is 3.
    #[arg(long)]
    pub strict: bool,

    /// JSON file mapping job id to GitHub job name (as PyTorch's tooling writes it); used
    /// instead of asking GitHub.
    #[arg(long, value_name = "FILE")]
    pub job_names: Option<PathBuf>,

    /// GitHub API base URL for job names (GitHub Enterprise: https://HOST/api/v3). The
    /// token comes from GITHUB_TOKEN or GH_TOKEN; without one, job names are NoJobName.
    #[arg(long, value_name = "URL", env = "GITHUB_API_URL")]
    pub github_api_url: Option<String>,

    /// owner/repo of the artifacts in the bucket layout (and of the GitHub jobs).
    #[arg(long, value_name = "OWNER/REPO", default_value = "pytorch/pytorch")]
    pub artifacts_repo: String,

    /// Bucket the statistics are uploaded to.
    #[arg(long, value_name = "BUCKET", default_value = DEFAULT_STATS_BUCKET)]
    pub stats_bucket: String,

    /// Bucket the run's artifacts are read from when no PATH is given (S3 source:
    /// s3://BUCKET/OWNER/REPO/RUN_ID/ATTEMPT/artifact/).
    #[arg(long, value_name = "BUCKET", default_value = DEFAULT_ARTIFACTS_BUCKET)]
    pub artifacts_bucket: String,

    /// S3-compatible endpoint URL (wins over AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL", value_parser = http_url)]
    pub s3_endpoint: Option<String>,

    /// Address buckets as URL paths (http://host/bucket/key), as most self-hosted
    /// S3-compatible stores need.
    #[arg(long)]
    pub s3_path_style: bool,

    /// Where a run named by its ids (or URL) is read from: the artifacts bucket (s3), or
    /// GitHub Actions artifacts through the REST API (github; needs GITHUB_TOKEN or GH_TOKEN).
    #[arg(long, value_name = "WHERE", default_value = "s3")]
    pub from: From,

    /// With --from github: the name prefix of report artifacts (test-jsons* are read for
    /// td_exclusions).
    #[arg(long, value_name = "PREFIX", default_value = "test-report")]
    pub artifact_prefix: String,

    /// Where downloaded archives are kept, so a run opened again downloads nothing (default:
    /// $XDG_CACHE_HOME/testscope, else ~/.cache/testscope).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Keep no downloaded archive.
    #[arg(long)]
    pub no_cache: bool,

    /// Largest size of the download cache, in GiB; the runs used longest ago go first.
    #[arg(long, value_name = "GIB", default_value_t = 20)]
    pub cache_max_gib: u64,

    /// Read the run from S3 without signing requests (a public bucket), as `aws s3
    /// --no-sign-request`; reads go unsigned anyway when no credentials are found. Uploads
    /// are never unsigned.
    #[arg(long)]
    pub no_sign_request: bool,

    /// Seconds one S3 request may take (sending the body included) before it is retried.
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub s3_timeout: u64,

    /// Worker threads for parsing (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Largest report file read, in MiB (uncompressed); bigger ones are skipped as problems.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_file_mib: u64,

    /// Zip-bomb guard: largest expansion ratio of an entry over 16 MiB (deflate tops out near
    /// 1032:1; real reports compress 10-200:1).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_zip_ratio: u64,

    /// Zip-bomb guard: largest total of uncompressed bytes in one archive, in MiB; a larger
    /// archive is skipped as a problem.
    #[arg(long, value_name = "MIB", default_value_t = 8192)]
    pub max_zip_total_mib: u64,

    /// Gzip level of the uploaded bodies, 1 (fastest) to 9 (smallest).
    #[arg(long, value_name = "LEVEL", default_value_t = crate::codec::gzip::DEFAULT_LEVEL,
          value_parser = clap::value_parser!(u32).range(1..=9))]
    pub gzip_level: u32,

    /// Print shell completions for SHELL and exit.
    #[arg(long, value_name = "SHELL", exclusive = true)]
    pub completions: Option<Shell>,

    /// Print the man page (roff) and exit.
    #[arg(long, exclusive = true)]
    pub man: bool,
}

/// An endpoint URL: http:// or https:// (the SDK would fail later, and less clearly).
fn http_url(s: &str) -> Result<String, String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(s.to_string())
    } else {
        Err("expected an http:// or https:// URL".to_string())
    }
}

/// Where `--from` reads a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum From {
    /// The artifacts bucket (`--artifacts-bucket`), as PyTorch's script reads it.
    S3,
    /// GitHub Actions artifacts of the run (`--artifacts-repo`, `--github-api-url`).
    Github,
}

/// What `--fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A new failure (`new_failure` or `new_test_failing`) that is not disabled.
    New,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

impl Cli {
    pub fn command() -> clap::Command {
        <Self as CommandFactory>::command()
    }

    /// The zip limits the flags ask for (entries are bounded by --max-file-mib too).
    pub fn zip_limits(&self) -> crate::source::ZipLimits {
        crate::source::ZipLimits {
            max_entry_bytes: self.max_file_mib.saturating_mul(1 << 20),
            max_ratio: self.max_zip_ratio,
            max_total_bytes: self.max_zip_total_mib.saturating_mul(1 << 20),
            ..crate::source::ZipLimits::default()
        }
    }

    /// Whether a base run is to be compared with.
    pub fn has_base(&self) -> bool {
        self.base.is_some() || self.base_attempt.is_some()
    }

    pub fn report_path(&self) -> Option<&PathBuf> {
        self.path.as_ref().or(self.reports.as_ref())
    }

    /// How to reach S3 to upload; credentials and region come from the AWS chain, and
    /// without credentials there is no upload.
    pub fn s3_settings(&self) -> crate::s3_client::S3Settings {
        crate::s3_client::S3Settings {
            endpoint: self.s3_endpoint.clone(),
            path_style: self.s3_path_style,
            timeout: std::time::Duration::from_secs(self.s3_timeout),
            ..crate::s3_client::S3Settings::default()
        }
    }

    /// How to reach S3 to read a run: unsigned with `--no-sign-request`, or when the AWS
    /// chain finds no credentials (public buckets).
    pub fn s3_read_settings(&self) -> crate::s3_client::S3Settings {
        use crate::s3_client::Unsigned;
        crate::s3_client::S3Settings {
            unsigned: if self.no_sign_request {
                Unsigned::Always
            } else {
                Unsigned::WithoutCredentials
            },
            ..self.s3_settings()
        }
    }

    /// Write completions for `shell` to `out`.
    pub fn write_completions(shell: Shell, out: &mut dyn std::io::Write) {
        use clap_complete::Shell as S;
        let shell = match shell {
            Shell::Bash => S::Bash,
            Shell::Zsh => S::Zsh,
            Shell::Fish => S::Fish,
            Shell::Elvish => S::Elvish,
            Shell::Powershell => S::PowerShell,
        };
        clap_complete::generate(shell, &mut Self::command(), "testscope", out);
    }

    pub fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
        clap_mangen::Man::new(Self::command()).render(out)
    }
}
