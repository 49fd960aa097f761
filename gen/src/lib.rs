//! Deterministic generator of realistic PyTorch CI workflow-run test
//! artifacts, laid out on disk exactly as the S3 bucket and the GitHub API
//! present them:
//!
//! ```text
//! OUT/gha-artifacts/<owner>/<repo>/<run_id>/<attempt>/artifact/test-reports-<suffix>.zip
//! OUT/gha-artifacts/<owner>/<repo>/<run_id>/<attempt>/artifact/test-jsons-<suffix>.zip
//! OUT/github-api/<owner>/<repo>/actions/runs/<run_id>/attempts/<attempt>/jobs.json
//! OUT/job-names.json      {"<job id>": "<job name>", ...}
//! ```
//!
//! with `<suffix>` = `test-<config>-<shard>-<num_shards>-<runner>_<job_id>`.
//! This module owns the options, the named profiles, the summary and the
//! run-level orchestration (jobs in parallel, then the two JSON files); the
//! submodules own the pieces: [`rng`] the random streams, [`vocab`] the word
//! lists, [`plan`] jobs and test names, [`text`] escaping and prose,
//! [`cases`] outcomes, [`pytest`]/[`xmlrunner`]/[`gtest`] the report
//! formats, [`showcase`] the rare constructs, [`job`] one job's zips and
//! [`archive`] reproducible zip writing.
//!
//! The same options always give byte-identical files, whatever the number of
//! threads: each job draws from its own stream seeded by
//! `(seed, run_id, attempt, job index)`.

pub mod archive;
pub mod cases;
pub mod gtest;
pub mod job;
pub mod plan;
pub mod pytest;
pub mod rng;
pub mod showcase;
pub mod text;
pub mod vocab;
pub mod xmlrunner;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value, json};

use self::job::JobResult;
use self::plan::Job;

/// The default workflow run id of every profile.
pub const DEFAULT_RUN_ID: u64 = 1_000_000_001;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    pub run_id: u64,
    pub attempt: u32,
    pub seed: u64,
    /// Number of test jobs (shards), each with its own pair of zips.
    pub jobs: usize,
    /// Report slots per job (xmlrunner slots write one XML per test class).
    pub files_per_job: usize,
    /// Average test cases per report slot; a job has
    /// `files_per_job * cases_per_file` cases.
    pub cases_per_file: usize,
    /// `owner/repo`, normally `pytorch/pytorch`.
    pub owner_repo: String,
    /// Write the base run of head run N instead: the same jobs and tests, drawn from the
    /// same streams, with known differences ([`cases::as_base`]): some of the head's
    /// failures pass here (new failures there), some of its passes fail here (fixed
    /// there), some tests have their old names (new tests and missing ones there), and no
    /// test is retried (flaky there).
    pub base_of: Option<u64>,
}

impl GenOptions {
    /// The names [`GenOptions::profile`] knows.
    pub const PROFILES: [&'static str; 4] = ["sample", "small", "medium", "pytorch"];

    /// A named profile, with run id [`DEFAULT_RUN_ID`], attempt 1, seed 0:
    /// `sample` (3 jobs x 5 x 20 = 300 cases, the terminal UI's demo run),
    /// `small` (4 x 10 x 125 = 5,000), `medium` (20 x 50 x 200 = 200,000)
    /// and `pytorch` (60 x 100 x 200 = 1.2 million, a real trunk run).
    pub fn profile(name: &str) -> Option<GenOptions> {
        let (jobs, files_per_job, cases_per_file) = match name {
            "sample" => (3, 5, 20),
            "small" => (4, 10, 125),
            "medium" => (20, 50, 200),
            "pytorch" => (60, 100, 200),
            _ => return None,
        };
        Some(GenOptions {
            run_id: DEFAULT_RUN_ID,
            attempt: 1,
            seed: 0,
            jobs,
            files_per_job,
            cases_per_file,
            owner_repo: "pytorch/pytorch".to_string(),
            base_of: None,
        })
    }

    /// The run id the random streams are drawn for: the head's, for a base run.
    pub fn stream_run_id(&self) -> u64 {
        self.base_of.unwrap_or(self.run_id)
    }

    fn owner_and_repo(&self) -> Result<(&str, &str)> {
        match self.owner_repo.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => Ok((o, r)),
            _ => bail!(
                "owner_repo must look like \"owner/repo\", got {:?}",
                self.owner_repo
            ),
        }
    }

    /// `OUT/gha-artifacts/<owner>/<repo>/<run_id>/<attempt>/artifact`.
    pub fn artifact_dir(&self, out: &Path) -> Result<PathBuf> {
        let (o, r) = self.owner_and_repo()?;
        Ok(out
            .join("gha-artifacts")
            .join(o)
            .join(r)
            .join(self.run_id.to_string())
            .join(self.attempt.to_string())
            .join("artifact"))
    }

    /// `OUT/github-api/<owner>/<repo>/actions/runs/<run_id>/attempts/<attempt>/jobs.json`.
    pub fn jobs_json_path(&self, out: &Path) -> Result<PathBuf> {
        let (o, r) = self.owner_and_repo()?;
        Ok(out
            .join("github-api")
            .join(o)
            .join(r)
            .join("actions/runs")
            .join(self.run_id.to_string())
            .join("attempts")
            .join(self.attempt.to_string())
            .join("jobs.json"))
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GenSummary {
    pub jobs: u64,
    /// Test cases over all reports (every `<testcase>` element).
    pub cases: u64,
    /// XML report files inside the zips.
    pub files: u64,
    /// Zip archives written (two per job).
    pub zips: u64,
    /// Uncompressed bytes of XML.
    pub xml_bytes: u64,
    /// Bytes of the zip archives on disk.
    pub zip_bytes: u64,
    pub passed: u64,
    pub skipped: u64,
    pub failures: u64,
    pub errors: u64,
    /// Cases with at least one `<rerun>`.
    pub flaky: u64,
}

impl fmt::Display for GenSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} jobs, {} zips ({} bytes), {} XML files ({} bytes), {} cases: {} passed, {} skipped, \
             {} failures, {} errors, {} flaky",
            self.jobs,
            self.zips,
            self.zip_bytes,
            self.files,
            self.xml_bytes,
            self.cases,
            self.passed,
            self.skipped,
            self.failures,
            self.errors,
            self.flaky
        )
    }
}

/// Generates the run described by `opts` under `out`, on as many threads as
/// the machine has. An existing `<run_id>/<attempt>` artifact folder is
/// replaced; `jobs.json` and `job-names.json` are overwritten.
pub fn generate(opts: &GenOptions, out: &Path) -> Result<GenSummary> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    generate_with_threads(opts, out, threads)
}

/// [`generate`] on exactly `threads` worker threads (the output does not
/// depend on it).
pub fn generate_with_threads(opts: &GenOptions, out: &Path, threads: usize) -> Result<GenSummary> {
    ensure!(opts.jobs >= 1, "jobs must be at least 1");
    ensure!(opts.files_per_job >= 1, "files_per_job must be at least 1");
    ensure!(
        opts.cases_per_file >= 1,
        "cases_per_file must be at least 1"
    );
    let art_dir = opts.artifact_dir(out)?;
    let run_dir = art_dir.parent().unwrap_or(&art_dir).to_path_buf();
    if run_dir.exists() {
        fs::remove_dir_all(&run_dir).with_context(|| format!("removing {}", run_dir.display()))?;
    }
    fs::create_dir_all(&art_dir).with_context(|| format!("creating {}", art_dir.display()))?;

    let jobs = plan::plan_jobs(opts.jobs, opts.seed, opts.stream_run_id());
    let results = run_jobs(opts, &jobs, &art_dir, threads.clamp(1, jobs.len()))?;

    let mut summary = GenSummary {
        jobs: jobs.len() as u64,
        ..GenSummary::default()
    };
    for r in &results {
        summary.cases += r.tally.cases;
        summary.passed += r.tally.passed;
        summary.skipped += r.tally.skipped;
        summary.failures += r.tally.failures;
        summary.errors += r.tally.errors;
        summary.flaky += r.tally.flaky;
        summary.files += r.xml_files;
        summary.xml_bytes += r.xml_bytes;
        summary.zips += r.zips;
        summary.zip_bytes += r.zip_bytes;
    }
    write_jobs_json(opts, out, &jobs, &results)?;
    Ok(summary)
}

fn run_jobs(
    opts: &GenOptions,
    jobs: &[Job],
    art_dir: &Path,
    threads: usize,
) -> Result<Vec<JobResult>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let slots: Mutex<Vec<Option<Result<JobResult>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(j) = jobs.get(i) else { break };
                    let r = job::generate(opts, j, art_dir);
                    if r.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(jobs.len());
    for (r, j) in slots.into_iter().zip(jobs) {
        match r {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => return Err(e.context(format!("job {}", j.name()))),
            None => bail!("job {} was not generated", j.name()),
        }
    }
    Ok(out)
}

fn api_time(minutes_after_nine: u64) -> String {
    let m = minutes_after_nine.min(14 * 60);
    format!(
        "2025-01-15T{:02}:{:02}:{:02}Z",
        9 + m / 60,
        m % 60,
        (m * 7) % 60
    )
}

fn write_jobs_json(
    opts: &GenOptions,
    out: &Path,
    jobs: &[Job],
    results: &[JobResult],
) -> Result<()> {
    let (o, r) = opts.owner_and_repo()?;
    let mut rng = rng::Rng::derive(
        "api",
        &[opts.seed, opts.stream_run_id(), u64::from(opts.attempt)],
    );
    let head_sha = format!("{}{}{}", rng.hex(16), rng.hex(16), rng.hex(8));
    let run = opts.run_id;
    let mut list = Vec::with_capacity(jobs.len());
    let mut names = Map::new();
    for (j, res) in jobs.iter().zip(results) {
        let id = j.job_id;
        let created = rng.range(0, 20);
        let started = created + rng.range(1, 30);
        let done = started + rng.range(30, 240);
        list.push(json!({
            "id": id,
            "run_id": run,
            "workflow_name": "pull",
            "head_branch": "main",
            "run_url": format!("https://api.github.com/repos/{o}/{r}/actions/runs/{run}"),
            "run_attempt": opts.attempt,
            "node_id": format!("CR_kwDOA{}", rng.hex(12)),
            "head_sha": head_sha,
            "url": format!("https://api.github.com/repos/{o}/{r}/actions/jobs/{id}"),
            "html_url": format!("https://github.com/{o}/{r}/actions/runs/{run}/job/{id}"),
            "status": "completed",
            "conclusion": if res.failed { "failure" } else { "success" },
            "created_at": api_time(created),
            "started_at": api_time(started),
            "completed_at": api_time(done),
            "name": j.name(),
            "check_run_url": format!("https://api.github.com/repos/{o}/{r}/check-runs/{id}"),
            "labels": [j.tpl.runner],
            "runner_id": rng.range(100_000, 9_999_999),
            "runner_name": format!("{}-{}", j.tpl.runner, rng.hex(8)),
            "runner_group_id": 1,
            "runner_group_name": "Default",
        }));
        names.insert(id.to_string(), Value::String(j.name()));
    }
    let doc = json!({ "total_count": jobs.len(), "jobs": list });
    let path = opts.jobs_json_path(out)?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    let names_path = out.join("job-names.json");
    fs::write(
        &names_path,
        serde_json::to_string_pretty(&Value::Object(names))? + "\n",
    )
    .with_context(|| format!("writing {}", names_path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::Read;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("testscope-gen-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(
                        p.strip_prefix(root).unwrap().to_path_buf(),
                        fs::read(&p).unwrap(),
                    );
                }
            }
        }
        out
    }

    #[test]
    fn profiles_have_the_documented_sizes() {
        let size = |n: &str| {
            let o = GenOptions::profile(n).unwrap();
            assert_eq!((o.run_id, o.attempt, o.seed), (DEFAULT_RUN_ID, 1, 0));
            o.jobs * o.files_per_job * o.cases_per_file
        };
        assert_eq!(size("sample"), 300);
        assert_eq!(size("small"), 5_000);
        assert_eq!(size("medium"), 200_000);
        assert_eq!(size("pytorch"), 1_200_000);
        assert!(GenOptions::profile("huge").is_none());
    }

    #[test]
    fn output_does_not_depend_on_threads_or_repetition() {
        let opts = GenOptions::profile("small").unwrap();
        let (a, b) = (scratch("t1"), scratch("t3"));
        let sa = generate_with_threads(&opts, &a, 1).unwrap();
        let sb = generate_with_threads(&opts, &b, 3).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.cases, 5_000);
        let ta = read_tree(&a);
        assert_eq!(ta, read_tree(&b));
        // generating again into the same folder replaces the run
        generate_with_threads(&opts, &a, 2).unwrap();
        assert_eq!(ta, read_tree(&a));
        let mut other = opts.clone();
        other.seed = 1;
        let c = scratch("seed1");
        generate_with_threads(&other, &c, 2).unwrap();
        assert_ne!(ta, read_tree(&c));
        for d in [a, b, c] {
            fs::remove_dir_all(d).unwrap();
        }
    }

    #[test]
    fn sample_is_small_complete_and_clean() {
        let opts = GenOptions::profile("sample").unwrap();
        let out = scratch("sample");
        let s = generate(&opts, &out).unwrap();
        assert_eq!((s.jobs, s.cases, s.zips), (3, 300, 6));
        assert!(s.zip_bytes < 200_000, "{s}");
        assert!(s.failures > 0 && s.errors > 0 && s.skipped > 0 && s.flaky > 0);

        let names: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("job-names.json")).unwrap()).unwrap();
        let jobs: serde_json::Value =
            serde_json::from_slice(&fs::read(opts.jobs_json_path(&out).unwrap()).unwrap()).unwrap();
        assert_eq!(jobs["total_count"], 3);
        for j in jobs["jobs"].as_array().unwrap() {
            assert_eq!(names[j["id"].to_string()], j["name"]);
        }

        let mut all = String::new();
        let mut entries = Vec::new();
        for e in fs::read_dir(opts.artifact_dir(&out).unwrap()).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let id = name
                .trim_end_matches(".zip")
                .rsplit('_')
                .next()
                .unwrap()
                .to_string();
            assert!(names.get(&id).is_some(), "{name}");
            let mut z = zip::ZipArchive::new(fs::File::open(&p).unwrap()).unwrap();
            for i in 0..z.len() {
                let mut f = z.by_index(i).unwrap();
                let entry = f.name().unwrap().to_string();
                let m = f.last_modified().unwrap();
                assert_eq!((m.year(), m.month(), m.day(), m.hour()), (2025, 1, 15, 12));
                entries.push(entry.clone());
                let mut text = String::new();
                f.read_to_string(&mut text).unwrap();
                if entry.ends_with(".xml") {
                    assert!(
                        !text
                            .chars()
                            .any(|c| (c < ' ' && !"\t\n\r".contains(c)) || c == '\u{7f}'),
                        "{entry}"
                    );
                    assert!(!text.contains("&#27;") && !text.contains("&#x1B;"));
                    for tc in text.split("<testcase").skip(1) {
                        let head = &tc[..tc.find('>').unwrap()];
                        assert!(head.contains(" time=\""), "{head}");
                    }
                    all.push_str(&text);
                }
            }
        }
        for needle in [
            "<rerun",
            "<failure",
            "<error",
            "type=\"pytest.skip\"",
            "type=\"pytest.xfail\"",
            "<system-out>",
            "<system-err>",
            "<properties>",
            "<![CDATA[",
            "<!--",
            "\u{9b}[31m",
            "time=\"nan\"",
            "time=\"inf\"",
            "é",
            "中文",
            "🔥",
            "classname=\"\"",
            "\r\n",
        ] {
            assert!(all.contains(needle), "sample lacks {needle:?}");
        }
        let has = |p: &str| entries.iter().any(|e| e.starts_with(p));
        assert!(has(
            "test/test-reports/python-pytest/distributed/test_c10d_nccl/test_c10d_nccl-"
        ));
        assert!(has("test/test-reports/python-unittest/"));
        assert!(has("test/test-reports/cpp-unittest/"));
        assert!(entries.iter().any(|e| e.ends_with(".csv")));
        assert!(entries.iter().any(|e| e.starts_with("td_exclusions-")));
        fs::remove_dir_all(out).unwrap();
    }
}
