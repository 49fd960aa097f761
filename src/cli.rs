//! Command-line flags: the seed's names (`--workflow-run-id`, `--workflow-run-attempt`,
//! `--head-branch`, `--head-repository`, `--circleci`) so CI can swap the script for the
//! binary, plus testscope's own. Completions and the man page are generated from this.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, ValueEnum};

use crate::upload::plan::DEFAULT_STATS_BUCKET;

#[derive(Debug, Parser)]
#[command(
    name = "testscope",
    version,
    about = "Inspect the JUnit test reports of one CI workflow run, and upload their statistics \
             exactly as PyTorch's upload_test_stats.py does",
    after_help = "Examples:\n  testscope assets/sample-run --workflow-run-id 1000000001 --workflow-run-attempt 1\n  \
                  testscope --upload --workflow-run-id 123 --workflow-run-attempt 1 \\\n      \
                  --head-branch main --head-repository pytorch/pytorch --reports ./artifacts --out-dir ./up"
)]
pub struct Cli {
    /// Reports to read: a folder of artifact zips, a folder of XML reports (searched
    /// recursively), one zip or XML file, or a bucket folder holding gha-artifacts/.
    #[arg(value_name = "PATH", conflicts_with = "reports")]
    pub path: Option<PathBuf>,

    /// Same as PATH.
    #[arg(long, value_name = "PATH")]
    pub reports: Option<PathBuf>,

    /// Headless: compute the batch path's objects and write them (to --out-dir).
    #[arg(long)]
    pub upload: bool,

    /// Id of the workflow run (becomes workflow_id, a JSON string, exactly as given).
    #[arg(long, value_name = "ID")]
    pub workflow_run_id: Option<String>,

    /// Which attempt of the workflow run this is.
    #[arg(long, value_name = "N")]
    pub workflow_run_attempt: Option<String>,

    /// Head branch of the workflow (test_run is uploaded for main and trunk/<sha>).
    #[arg(long, value_name = "BRANCH")]
    pub head_branch: Option<String>,

    /// Head repository of the workflow (test_run is uploaded only for pytorch/pytorch).
    #[arg(long, value_name = "OWNER/REPO")]
    pub head_repository: Option<String>,

    /// The older seed's mode: read **/test/test-reports/**/*.xml below PATH (default: the
    /// current folder).
    #[arg(long)]
    pub circleci: bool,

    /// Write each object to DIR/<bucket>/<key> (gzip bodies).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Print the plan (bucket, key, documents, bytes) and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub json: bool,

    /// Any problem with the input (unreadable file, case without time) is an error:
    /// nothing is uploaded and the exit code is 3.
    #[arg(long)]
    pub strict: bool,

    /// JSON file mapping job id to GitHub job name (as reference.py's --job-names); used
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

    /// Worker threads for parsing (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Largest report file read, in MiB (uncompressed); bigger ones are skipped as problems.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub max_file_mib: u64,

    /// Gzip level of the uploaded bodies, 1 (fastest) to 9 (smallest).
    #[arg(long, value_name = "LEVEL", default_value_t = crate::upload::gzip::DEFAULT_LEVEL,
          value_parser = clap::value_parser!(u32).range(1..=9))]
    pub gzip_level: u32,

    /// Print shell completions for SHELL and exit.
    #[arg(long, value_name = "SHELL", exclusive = true)]
    pub completions: Option<Shell>,

    /// Print the man page (roff) and exit.
    #[arg(long, exclusive = true)]
    pub man: bool,
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

    pub fn report_path(&self) -> Option<&PathBuf> {
        self.path.as_ref().or(self.reports.as_ref())
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
