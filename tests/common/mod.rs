//! Shared helpers for integration tests: run the pipeline, compare with the oracle's objects.
#![allow(dead_code)]

pub mod http;
pub mod proxy;
pub mod s3;

use std::io::Read;
use std::path::{Path, PathBuf};

use testscope::load::{LoadOptions, Progress, load};
use testscope::run::LoadedRun;
use testscope::source::{Listing, LocalSpec, ZipLimits, discover};
use testscope::upload::{PlannedObject, UploadContext, plan};

/// The testscope binary with the caller's GitHub and AWS variables removed: each test
/// decides what GitHub, Actions and S3 look like, never the environment it runs in.
pub fn testscope_cmd() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_testscope"));
    // A download cache of its own per command: tests never share (or leave) downloads.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    c.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join(format!("testscope-test-cache-{}-{n}", std::process::id())),
    );
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("AWS_") {
            c.env_remove(&var);
        }
    }
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_API_URL",
    ] {
        c.env_remove(var);
    }
    c
}

/// A generated run (in a bucket folder) whose three report zips are larger than two tails
/// (about 230 KB each), so that a remote source opens them from their tails and the rest
/// downloads during the load.
pub fn larger_run() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = testscope_gen::GenOptions {
        jobs: 3,
        files_per_job: 20,
        cases_per_file: 600,
        ..testscope_gen::GenOptions::profile("sample").unwrap()
    };
    testscope_gen::generate(&opts, dir.path()).unwrap();
    dir
}

/// The same objects, in the same order, decompressing to the same bytes.
pub fn assert_same_objects(got: &[PlannedObject], want: &[PlannedObject]) {
    assert_eq!(got.len(), want.len());
    for (got, want) in got.iter().zip(want) {
        assert_eq!(got.key, want.key);
        assert!(
            gunzip(&got.body.to_vec()) == gunzip(&want.body.to_vec()),
            "{}",
            got.key
        );
    }
}

/// The last test-reports zip among a bucket's keys (the last the load reads).
pub fn last_report_zip(keys: &[String]) -> String {
    keys.iter()
        .filter(|k| k.contains("test-reports-"))
        .max()
        .expect("a test-reports zip")
        .clone()
}

/// A door a test server waits at until the test opens it. A minute at most, so that a
/// test whose door never opens fails instead of hanging; `wait` says which it was.
#[derive(Clone, Default)]
pub struct Gate(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    pub fn open(&self) {
        *self.0.0.lock().unwrap() = true;
        self.0.1.notify_all();
    }

    /// Wait until opened: true if it was, false if the minute passed first.
    pub fn wait(&self) -> bool {
        let (lock, cv) = &*self.0;
        let guard = lock.lock().unwrap();
        let (guard, _) = cv
            .wait_timeout_while(guard, std::time::Duration::from_secs(60), |open| !*open)
            .unwrap();
        *guard
    }
}

pub fn project(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

pub struct Run {
    pub run: LoadedRun,
    pub objects: Vec<PlannedObject>,
}

pub fn run_pipeline(path: &Path, run_id: &str, attempt: &str, branch: &str, repo: &str) -> Run {
    run_pipeline_named(path, run_id, attempt, branch, repo, Default::default())
}

/// A job-name map from a JSON file of id -> name (as `--job-names` takes).
pub fn job_names(file: &Path) -> std::collections::HashMap<i64, String> {
    let map: std::collections::HashMap<String, String> =
        serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    map.into_iter()
        .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v)))
        .collect()
}

pub fn run_pipeline_named(
    path: &Path,
    run_id: &str,
    attempt: &str,
    branch: &str,
    repo: &str,
    job_names: std::collections::HashMap<i64, String>,
) -> Run {
    run_pipeline_keeping(path, run_id, attempt, branch, repo, job_names, true)
}

/// [`run_pipeline_named`], keeping every case's JSON line during the load or not (without
/// them there is no test_run object, and the reruns document reads its cases again from
/// the reports).
pub fn run_pipeline_keeping(
    path: &Path,
    run_id: &str,
    attempt: &str,
    branch: &str,
    repo: &str,
    job_names: std::collections::HashMap<i64, String>,
    keep_test_run: bool,
) -> Run {
    let spec = LocalSpec {
        path: path.to_path_buf(),
        circleci: false,
        artifacts_repo: "pytorch/pytorch".into(),
        run_id: Some(run_id.into()),
        attempt: Some(attempt.into()),
        zip_limits: ZipLimits::default(),
    };
    let listing = discover(&spec).expect("discover");
    let opts = LoadOptions {
        workflow_id: run_id.into(),
        attempt: attempt.parse().unwrap(),
        keep_test_run,
        ..LoadOptions::default()
    };
    let run = load(listing, &opts, &Progress::default());
    plan_run(run, run_id, branch, repo, job_names)
}

/// Load `listing` (from any source) as run `run_id` attempt 1 and plan its uploads, calling
/// `folded` with each file's index as it joins the run.
pub fn plan_listing(listing: Listing, run_id: &str, folded: &mut (dyn FnMut(usize) + Send)) -> Run {
    let opts = LoadOptions {
        workflow_id: run_id.into(),
        attempt: 1,
        ..LoadOptions::default()
    };
    let run = testscope::load::load_observed(listing, &opts, &Progress::default(), &mut |f| {
        folded(f.index)
    });
    plan_run(run, run_id, "main", "pytorch/pytorch", Default::default())
}

fn plan_run(
    run: LoadedRun,
    run_id: &str,
    branch: &str,
    repo: &str,
    job_names: std::collections::HashMap<i64, String>,
) -> Run {
    let ctx = UploadContext {
        workflow_run_id: run_id.into(),
        attempt: run.attempt,
        head_branch: Some(branch.into()),
        head_repository: repo.into(),
        stats_bucket: "ossci-raw-job-status".into(),
        gzip_level: 1,
        job_names,
    };
    let objects = plan(&run, &ctx);
    Run { run, objects }
}

/// Every planned object decompresses to the expected object's bytes, and the plan has
/// exactly the expected collections among `collections`.
pub fn assert_matches_expected(objects: &[PlannedObject], expected: &Path, collections: &[&str]) {
    let planned: Vec<&str> = objects.iter().map(|o| o.collection).collect();
    let present: Vec<&str> = collections
        .iter()
        .copied()
        .filter(|c| {
            objects.first().is_some_and(|o| {
                let key = o.key.replacen(o.collection, c, 1);
                expected.join(&o.bucket).join(key).is_file()
            })
        })
        .collect();
    assert_eq!(planned, present, "collections planned vs expected");
    for o in objects {
        let want = std::fs::read(expected.join(&o.bucket).join(&o.key))
            .unwrap_or_else(|e| panic!("{}: {e}", o.location()));
        let want = gunzip(&want);
        let got = gunzip(&o.body.to_vec());
        if got != want {
            let (g, w) = (
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
            );
            let (n, (gl, wl)) = g
                .lines()
                .zip(w.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("<length differs>", "")));
            panic!(
                "{}: differs at line {}\n got: {gl}\nwant: {wl}\n(lines: got {}, want {})",
                o.location(),
                n + 1,
                g.lines().count(),
                w.lines().count()
            );
        }
        assert_eq!(o.raw_bytes as usize, want.len());
    }
}

/// The core collections: summaries, failed cases and every case.
pub const CORE: &[&str] = &["test_run_summary", "failed_test_runs", "test_run"];

/// Every collection the batch path uploads, in order.
pub const ALL: &[&str] = &[
    "test_run_summary",
    "failed_test_runs",
    "test_run",
    "additional_info/reruns",
    "additional_info/td_exclusions",
    "additional_info/invoking_file_summary",
    "additional_info/test_status",
];
