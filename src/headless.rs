//! The headless front-end: `--upload` (the batch path as a drop-in for the seed script) and
//! the plain-text inspection printed when no terminal UI is wanted. Progress and warnings go
//! to stderr (a bar on a terminal, plain lines otherwise); results to stdout.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cli::Cli;
use crate::load::{LoadOptions, Progress, load, parse_attempt};
use crate::run::{LoadedRun, Problem};
use crate::s3::S3;
use crate::sanitize::line;
use crate::source::s3::{self as s3_source, FetchProgress, S3Spec};
use crate::source::{Listing, LocalSpec, discover};
use crate::stats::CaseStatus;
use crate::upload::{
    FolderSink, PlannedObject, S3Sink, Sink, UploadContext, execute, plan, plan_each,
};

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const STRICT: i32 = 3;
}

/// A run that ended with a specific exit code and message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    Exit {
        code: exit::USAGE,
        message: message.into(),
    }
    .into()
}

/// Whether warnings should be GitHub Actions annotations.
fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// `::warning` annotation escaping (GitHub's workflow-command rules).
fn gha_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// A warning that is not about an input file.
pub fn warn_line(title: &str, message: &str) {
    if in_github_actions() {
        eprintln!(
            "::warning title={}::{}",
            gha_escape(&format!("testscope: {title}"), true),
            gha_escape(&line(message), false)
        );
    } else {
        eprintln!("warning: {title}: {}", line(message));
    }
}

pub fn warn_problem(p: &Problem) {
    let mut err = std::io::stderr().lock();
    if in_github_actions() {
        let _ = writeln!(
            err,
            "::warning title={}::{}: {}",
            gha_escape(&format!("testscope: {}", p.kind.label()), true),
            gha_escape(&line(&p.file), false),
            gha_escape(&line(&p.message), false)
        );
    } else {
        let _ = writeln!(
            err,
            "warning: {}: {}: {}",
            p.kind.label(),
            line(&p.file),
            line(&p.message)
        );
    }
}

/// Load the run the flags point at, showing progress on stderr. Without `uploads`, the
/// failed cases' upload lines are not kept.
pub fn load_from_cli(cli: &Cli, uploads: bool, keep_test_run: bool) -> Result<LoadedRun> {
    let listing = listing_from_cli(cli, &FetchProgress::default(), true)?;
    let mut opts = load_options(cli, &listing, keep_test_run)?;
    opts.keep_failed = uploads;
    if listing.reports.is_empty() {
        eprintln!(
            "warning: no test reports found in {}",
            line(&listing.description)
        );
    }
    let progress = Progress::default();
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let run = std::thread::scope(|s| {
        let worker = s.spawn(waking(&done, || load(listing, &opts, &progress)));
        show_progress(&progress, || done.load(Ordering::Acquire));
        worker.join().expect("the loader does not panic")
    });
    eprintln!(
        "loaded {} report files ({} unreadable), {} cases, {} in {:.2}s",
        run.totals.files,
        run.totals.bad_files,
        run.totals.cases,
        human_bytes(run.totals.bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(run)
}

/// The report files the flags point at: a local path, or the run's artifacts on S3
/// (progress on stderr when `show` is set, else only in `fetch`).
pub fn listing_from_cli(cli: &Cli, fetch: &FetchProgress, show: bool) -> Result<Listing> {
    let path = match (cli.report_path(), cli.circleci) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(std::env::current_dir().context("the current folder")?),
        (None, false) => None,
    };
    Ok(match path {
        Some(path) => discover(&LocalSpec {
            path,
            circleci: cli.circleci,
            artifacts_repo: cli.artifacts_repo.clone(),
            run_id: cli.workflow_run_id.clone(),
            attempt: cli.workflow_run_attempt.clone(),
            zip_limits: cli.zip_limits(),
        })?,
        None => match (&cli.workflow_run_id, &cli.workflow_run_attempt) {
            (Some(run_id), Some(attempt)) => fetch_from_s3(cli, run_id, attempt, fetch, show)?,
            _ => return Err(usage(NO_SOURCE)),
        },
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
    let attempt = parse_attempt(&attempt_text).ok_or_else(|| {
        usage(format!(
            "--workflow-run-attempt: invalid int value: {attempt_text:?}"
        ))
    })?;
    Ok(LoadOptions {
        workflow_id,
        attempt,
        keep_test_run,
        keep_failed: true,
        threads: cli.threads,
        max_file_bytes: cli.max_file_mib.saturating_mul(1 << 20),
        gzip_level: cli.gzip_level,
    })
}

/// Read the run's artifacts from the artifacts bucket, showing progress on stderr.
fn fetch_from_s3(
    cli: &Cli,
    run_id: &str,
    attempt_text: &str,
    progress: &FetchProgress,
    show: bool,
) -> Result<Listing> {
    // The reference formats the int argparse parsed into the prefix ("01" reads ".../1/").
    let attempt = parse_attempt(attempt_text).ok_or_else(|| {
        usage(format!(
            "--workflow-run-attempt: invalid int value: {attempt_text:?}"
        ))
    })?;
    let s3 = S3::connect(&cli.s3_settings()).map_err(|e| anyhow::anyhow!("S3: {e}"))?;
    let spec = S3Spec {
        bucket: cli.artifacts_bucket.clone(),
        artifacts_repo: cli.artifacts_repo.clone(),
        run_id: run_id.to_string(),
        attempt,
        zip_limits: cli.zip_limits(),
        concurrency: s3_source::DEFAULT_CONCURRENCY,
    };
    if !show {
        return Ok(s3_source::discover(&s3, &spec, progress)?);
    }
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let listing = std::thread::scope(|s| {
        let worker = s.spawn(waking(&done, || s3_source::discover(&s3, &spec, progress)));
        poll_progress(
            || done.load(Ordering::Acquire),
            "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})",
            || {
                let objects = progress.objects_done.load(Ordering::Relaxed)
                    + progress.objects_failed.load(Ordering::Relaxed);
                let total = progress.objects_total.load(Ordering::Relaxed);
                let listed = progress.listed.load(Ordering::Relaxed);
                let keys = progress.keys_listed.load(Ordering::Relaxed);
                let message = if listed {
                    format!("{objects}/{total} artifacts")
                } else {
                    format!("listing ({keys} keys)")
                };
                (
                    progress.bytes_done.load(Ordering::Relaxed),
                    progress.bytes_total.load(Ordering::Relaxed),
                    message,
                )
            },
            |(done, total, message)| {
                format!(
                    "fetching: {message}, {} of {}",
                    human_bytes(done),
                    human_bytes(total)
                )
            },
        );
        worker.join().expect("the S3 source does not panic")
    })?;
    eprintln!(
        "fetched {} artifacts ({} failed), {} from {} ({}) in {:.2}s",
        progress.objects_done.load(Ordering::Relaxed),
        progress.objects_failed.load(Ordering::Relaxed),
        human_bytes(progress.bytes_done.load(Ordering::Relaxed)),
        line(&listing.description),
        line(s3.endpoint()),
        started.elapsed().as_secs_f64()
    );
    Ok(listing)
}

fn show_progress(progress: &Progress, finished: impl Fn() -> bool) {
    poll_progress(
        finished,
        "{spinner} [{bar:30}] {pos}/{len} files {msg} ({elapsed})",
        || {
            let cases = progress.cases.load(Ordering::Relaxed);
            (
                progress.files_done.load(Ordering::Relaxed),
                progress.files_total.load(Ordering::Relaxed),
                format!("{cases} cases"),
            )
        },
        |(done, total, message)| format!("loading: {done}/{total} files, {message}"),
    );
}

/// `work` for a thread whose end the calling thread waits for in [`poll_progress`]: it sets
/// `done` and wakes the caller, instead of leaving it asleep until its next poll.
fn waking<'a, T>(done: &'a AtomicBool, work: impl FnOnce() -> T + 'a) -> impl FnOnce() -> T + 'a {
    let caller = std::thread::current();
    move || {
        let result = work();
        done.store(true, Ordering::Release);
        caller.unpark();
        result
    }
}

/// Poll `read` (position, length, message) until `finished`: a bar on a terminal, else a
/// plain line every few seconds. Sleeps between polls unless woken (see [`waking`]).
fn poll_progress(
    finished: impl Fn() -> bool,
    template: &str,
    read: impl Fn() -> (u64, u64, String),
    plain: impl Fn((u64, u64, String)) -> String,
) {
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .expect("static template")
                .progress_chars("=> "),
        );
        bar
    });
    let mut last_plain = Instant::now();
    while !finished() {
        std::thread::park_timeout(Duration::from_millis(80));
        let (done, total, message) = read();
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(message);
        } else if last_plain.elapsed() >= Duration::from_secs(5) {
            eprintln!("{}", plain((done, total, message)));
            last_plain = Instant::now();
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `--upload`: the batch path. Meant to end the process: on success the loaded run is not
/// freed (see the end).
pub fn upload(cli: &Cli) -> Result<i32> {
    let started = Instant::now();
    let missing: Vec<&str> = [
        ("--workflow-run-id", cli.workflow_run_id.is_none()),
        ("--workflow-run-attempt", cli.workflow_run_attempt.is_none()),
        ("--head-branch", cli.head_branch.is_none()),
        ("--head-repository", cli.head_repository.is_none()),
    ]
    .into_iter()
    .filter_map(|(flag, absent)| absent.then_some(flag))
    .collect();
    if !missing.is_empty() {
        return Err(usage(format!(
            "--upload needs {} (the seed's required flags)",
            missing.join(", ")
        )));
    }
    let ctx = UploadContext {
        workflow_run_id: cli.workflow_run_id.clone().expect("checked"),
        attempt: 0,
        head_branch: cli.head_branch.clone(),
        head_repository: cli.head_repository.clone().expect("checked"),
        stats_bucket: cli.stats_bucket.clone(),
        gzip_level: cli.gzip_level,
        job_names: Default::default(),
    };
    let run = load_from_cli(cli, true, ctx.uploads_test_run())?;
    let ctx = UploadContext {
        attempt: run.attempt,
        job_names: job_names_for(cli, &run)?,
        ..ctx
    };
    for p in &run.problems {
        warn_problem(p);
    }
    if cli.strict && !run.problems.is_empty() {
        let message = format!(
            "--strict: {} problem(s) with the input; nothing uploaded",
            run.problems.len()
        );
        if cli.json {
            print_json(cli, &run, &[], None, started, false)?;
        }
        return Err(Exit {
            code: exit::STRICT,
            message,
        }
        .into());
    }
    if !ctx.uploads_test_run() {
        eprintln!(
            "test_run not uploaded: only for pytorch/pytorch on main or trunk/<sha> \
             (head {} on {})",
            line(&ctx.head_repository),
            line(ctx.head_branch.as_deref().unwrap_or(""))
        );
    }
    if cli.dry_run {
        let objects = plan(&run, &ctx);
        if cli.json {
            print_json(cli, &run, &objects, None, started, true)?;
        } else {
            print_plan(&objects);
        }
        return Ok(exit::OK);
    }
    // --out-dir writes to a folder; otherwise the objects go where the seed puts them: S3.
    let mut sink = sink_for(cli)?;
    // The first objects are written (or uploaded) while additional_info is computed; a
    // failed write stops the writing, not the planning, whose objects are then not written.
    let (objects, outcome) = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<PlannedObject>();
        let sink = sink.as_mut();
        let writer = s.spawn(move || run_sink(rx, sink));
        let mut objects = Vec::new();
        plan_each(&run, &ctx, &mut |o| {
            // Bodies are shared buffers: the copy sent is cheap.
            let _ = tx.send(o.clone());
            objects.push(o);
        });
        drop(tx);
        (objects, writer.join().expect("the writer does not panic"))
    });
    if cli.json {
        print_json(cli, &run, &objects, Some(&outcome), started, false)?;
    }
    if let Some(e) = outcome.failed {
        if !outcome.written.is_empty() {
            eprintln!("already written: {}", outcome.written.join(", "));
        }
        bail!(Exit {
            code: exit::FAILED,
            message: format!("upload failed: {e}"),
        });
    }
    let docs: u64 = objects.iter().map(|o| o.documents).sum();
    let bytes: usize = objects.iter().map(|o| o.body.len()).sum();
    eprintln!(
        "done: {} objects, {docs} documents, {} gzip to {} in {:.2}s",
        objects.len(),
        human_bytes(bytes as u64),
        sink.describe(),
        started.elapsed().as_secs_f64()
    );
    // The command ends here: freeing a million cases' worth of pieces one by one would only
    // hold up the exit (about 60 ms on the pytorch profile); the OS takes the memory back.
    std::mem::forget(objects);
    std::mem::forget(run);
    Ok(exit::OK)
}

/// Job names for additional_info (warnings on stderr); see [`job_names`].
fn job_names_for(cli: &Cli, run: &LoadedRun) -> Result<std::collections::HashMap<i64, String>> {
    let (names, warnings) = job_names(cli, run)?;
    for w in &warnings {
        warn_line("job names", w);
    }
    Ok(names)
}

/// Job names and what went wrong asking for them.
pub type JobNames = (std::collections::HashMap<i64, String>, Vec<String>);

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
        let cfg =
            crate::github::GithubConfig::from_env(cli.github_api_url.clone(), &cli.artifacts_repo);
        let found = crate::github::job_names(&cfg, &ids);
        return Ok((found.names, found.warnings));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--job-names {}", path.display()))?;
    let map: std::collections::HashMap<String, String> =
        serde_json::from_str(&text).with_context(|| {
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

fn run_sink(
    objects: impl IntoIterator<Item = PlannedObject>,
    sink: &mut dyn Sink,
) -> crate::upload::UploadOutcome {
    execute(objects, sink, |_, o| {
        eprintln!(
            "writing {} documents ({}, {} gzip) to {}",
            o.documents,
            human_bytes(o.raw_bytes),
            human_bytes(o.body.len() as u64),
            o.location()
        );
    })
}

fn print_plan(objects: &[PlannedObject]) {
    println!(
        "{:<62} {:>10} {:>12} {:>12}",
        "object", "documents", "bytes", "gzip"
    );
    for o in objects {
        println!(
            "{:<62} {:>10} {:>12} {:>12}",
            o.location(),
            o.documents,
            o.raw_bytes,
            o.body.len()
        );
    }
}

fn print_json(
    cli: &Cli,
    run: &LoadedRun,
    objects: &[PlannedObject],
    outcome: Option<&crate::upload::UploadOutcome>,
    started: Instant,
    dry_run: bool,
) -> Result<()> {
    use serde_json::json;
    let t = &run.totals;
    let doc = json!({
        "workflow_run_id": cli.workflow_run_id,
        "workflow_run_attempt": run.attempt,
        "source": run.description,
        "dry_run": dry_run,
        "files": t.files,
        "unreadable_files": t.bad_files,
        "cases": t.cases,
        "failures": t.failures,
        "errors": t.errors,
        "skipped": t.skipped,
        "successes": t.successes,
        "reruns": t.reruns,
        "objects": objects.iter().map(|o| json!({
            "bucket": o.bucket,
            "key": o.key,
            "documents": o.documents,
            "bytes": o.raw_bytes,
            "gzip_bytes": o.body.len(),
            "written": outcome.is_some_and(|x| x.written.contains(&o.location())),
        })).collect::<Vec<_>>(),
        "error": outcome.and_then(|o| o.failed.as_ref()).map(|e| e.to_string()),
        "problems": run.problems.iter().map(|p| json!({
            "file": p.file, "kind": p.kind.label(), "message": p.message,
        })).collect::<Vec<_>>(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// Without `--upload` and without a terminal UI: a plain triage report on stdout.
pub fn inspect(cli: &Cli) -> Result<i32> {
    let mut run = load_from_cli(cli, false, false)?;
    // Without names, artifact names label jobs.
    if wants_job_names(cli) {
        run.job_names = job_names_for(cli, &run)?;
    }
    if cli.json {
        let started = Instant::now();
        print_json(cli, &run, &[], None, started, false)?;
        return Ok(exit::OK);
    }
    let mut out = std::io::stdout().lock();
    write_inspection(&mut out, &run)?;
    Ok(exit::OK)
}

/// The plain report: totals, failing classes, failed and flaky cases, problems.
pub fn write_inspection(out: &mut dyn Write, run: &LoadedRun) -> std::io::Result<()> {
    let t = &run.totals;
    writeln!(
        out,
        "run {} attempt {} — {}",
        line(&run.workflow_id),
        run.attempt,
        line(&run.description)
    )?;
    writeln!(
        out,
        "{} files, {} cases: {} passed, {} failed, {} errors, {} skipped; {} with reruns; {:.1}s of test time",
        t.files, t.cases, t.successes, t.failures, t.errors, t.skipped, t.reruns, t.time
    )?;
    let failing: Vec<_> = run
        .summary
        .iter()
        .filter(|r| r.failures + r.errors > 0)
        .collect();
    if !failing.is_empty() {
        writeln!(out, "\nclasses with failures or errors:")?;
        // Collection errors have no file and an empty classname: say so.
        let jobs = crate::jobs::labels(
            run.files
                .iter()
                .map(|f| (&f.job_id, f.rel.split('/').next().unwrap_or(""))),
            &run.job_names,
        );
        let shown = |v: &crate::report::Value, absent: &str| {
            let text = crate::run::display_value(v);
            if text.is_empty() {
                absent.to_string()
            } else {
                line(&text).into_owned()
            }
        };
        for r in failing {
            writeln!(
                out,
                "  {} {} ({}, {}): {} failed, {} errors of {}",
                shown(&r.file, "(no file)"),
                shown(&r.classname, "(no class)"),
                jobs.get(&crate::run::display_value(&r.job_id))
                    .map_or_else(|| "?".into(), |j| line(j).into_owned()),
                shown(&r.invoking_file, "(top level)"),
                r.failures,
                r.errors,
                r.tests
            )?;
        }
    }
    for (title, pick) in [
        (
            "failed",
            (|c: &crate::run::CaseBrief| {
                matches!(c.status, CaseStatus::Failure | CaseStatus::Error)
            }) as fn(&_) -> bool,
        ),
        ("flaky (passed after reruns)", |c| c.is_flaky()),
    ] {
        let cases: Vec<_> = run.notable.iter().filter(|c| pick(c)).collect();
        if cases.is_empty() {
            continue;
        }
        writeln!(out, "\n{title}: {}", cases.len())?;
        for c in cases {
            let class = if c.classname.is_empty() {
                String::new()
            } else {
                format!("{}::", line(&c.classname))
            };
            writeln!(
                out,
                "  [{}] {class}{}{}",
                c.status.label(),
                line(&c.name),
                if c.reruns > 0 {
                    format!(" ({} reruns)", c.reruns)
                } else {
                    String::new()
                }
            )?;
            if !c.message.is_empty() {
                writeln!(out, "      {}", line(&c.message))?;
            }
        }
    }
    if !run.problems.is_empty() {
        writeln!(out, "\nproblems: {}", run.problems.len())?;
        for p in &run.problems {
            writeln!(
                out,
                "  {}: {}: {}",
                p.kind.label(),
                line(&p.file),
                line(&p.message)
            )?;
        }
    }
    Ok(())
}
