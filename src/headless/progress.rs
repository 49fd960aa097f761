//! What the headless front-end shows on stderr while it works: progress (a bar on a
//! terminal, a plain line every few seconds otherwise) and warnings (GitHub Actions
//! annotations under Actions).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::cli::Cli;
use crate::config::{self, ReportSource};
use crate::human::human_bytes;
use crate::load::{LoadOptions, Progress, load};
use crate::run::{LoadedRun, Problem};
use crate::sanitize::line;
use crate::source::bucket;
use crate::source::downloads::FetchProgress;
use crate::source::{Listing, discover};

/// Whether warnings should be GitHub Actions annotations.
pub(super) fn in_github_actions() -> bool {
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
/// failed cases' upload lines are not kept, and failing cases get triage's signature and
/// repro as they are parsed.
pub fn load_from_cli(cli: &Cli, uploads: bool, keep_test_run: bool) -> Result<LoadedRun> {
    let (listing, fetch) = listing_shown(cli)?;
    let opts = run_options(cli, &listing, uploads, keep_test_run)?;
    let mut runs = load_shown(vec![(listing, opts, fetch)]);
    Ok(runs.pop().expect("one run in, one out"))
}

/// Load a run and its base at once (each on half the cores unless `--threads` says), with
/// one progress display. An unreadable base is an error naming it.
pub fn load_with_base(cli: &Cli, base: &Cli) -> Result<(LoadedRun, LoadedRun)> {
    let (listing, fetch) = listing_shown(cli)?;
    let (base_listing, base_fetch) =
        listing_shown(base).context("the base run (--base, --base-attempt)")?;
    let opts = run_options(cli, &listing, false, false)?;
    // The base's failures are compared, not clustered: no signatures to make there.
    let base_opts = LoadOptions {
        brief_hook: None,
        keep_skipped: None,
        ..run_options(base, &base_listing, false, false)?
    };
    let mut runs = load_shown(vec![
        (listing, opts, fetch),
        (base_listing, base_opts, base_fetch),
    ]);
    let base_run = runs.pop().expect("two runs");
    Ok((runs.pop().expect("two runs"), base_run))
}

fn run_options(
    cli: &Cli,
    listing: &Listing,
    uploads: bool,
    keep_test_run: bool,
) -> Result<LoadOptions> {
    let mut opts = config::load_options(cli, listing, keep_test_run)?;
    opts.keep_failed = uploads;
    if !uploads {
        opts = crate::triage::load_options(opts);
    }
    // (A run still downloading is told after its load.)
    if listing.reports.is_empty() && listing.feed.is_none() {
        warn_no_reports(&listing.description);
    }
    Ok(opts)
}

fn warn_no_reports(description: &str) {
    eprintln!("warning: no test reports found in {}", line(description));
}

/// Load each listing (all at once), one progress display for all, with the downloads that
/// go on beside the loads.
fn load_shown(work: Vec<(Listing, LoadOptions, Option<Fetching>)>) -> Vec<LoadedRun> {
    let progress: Vec<Progress> = work.iter().map(|_| Progress::default()).collect();
    let fed: Vec<bool> = work.iter().map(|(l, ..)| l.feed.is_some()).collect();
    let (work, fetching): (Vec<_>, Vec<_>) = work
        .into_iter()
        .map(|(listing, opts, fetch)| ((listing, opts), fetch))
        .unzip();
    let fetching: Vec<Fetching> = fetching.into_iter().flatten().collect();
    let started = Instant::now();
    let done = AtomicUsize::new(0);
    let n = work.len();
    let runs: Vec<LoadedRun> = std::thread::scope(|s| {
        let caller = std::thread::current();
        // Side by side, each on every core: on two cores as fast as one after the other at
        // best, and faster when one run's files stall on I/O or the fold.
        let workers: Vec<_> = work
            .into_iter()
            .zip(&progress)
            .map(|((listing, opts), p)| {
                let (done, caller) = (&done, caller.clone());
                s.spawn(move || {
                    let run = load(listing, &opts, p);
                    done.fetch_add(1, Ordering::AcqRel);
                    caller.unpark();
                    run
                })
            })
            .collect();
        show_progress(&progress, &fetching, || done.load(Ordering::Acquire) == n);
        workers
            .into_iter()
            .map(|w| w.join().expect("the loader does not panic"))
            .collect()
    });
    for fetch in &fetching {
        fetch.report();
    }
    for (run, fed) in runs.iter().zip(fed) {
        if fed && run.reports.is_empty() {
            warn_no_reports(&run.description);
        }
    }
    for run in &runs {
        eprintln!(
            "loaded {} report files ({} unreadable), {} cases, {} in {:.2}s{}",
            run.totals.files,
            run.totals.bad_files,
            run.totals.cases,
            human_bytes(run.totals.bytes),
            started.elapsed().as_secs_f64(),
            if n > 1 {
                format!(" from {}", line(&run.description))
            } else {
                String::new()
            }
        );
    }
    runs
}

/// An S3 or GitHub listing whose archives are still downloading (the load fetches them):
/// shown beside the load's progress, reported once done.
pub struct Fetching {
    progress: Arc<FetchProgress>,
    from: String,
    endpoint: String,
    started: Instant,
}

impl Fetching {
    /// One line: what was fetched from where, and how long it took.
    fn report(&self) {
        let progress = &self.progress;
        let cached = progress.objects_cached.load(Ordering::Relaxed);
        eprintln!(
            "fetched {} artifacts ({} failed{}), {} from {} ({}) in {:.2}s",
            progress.objects_done.load(Ordering::Relaxed),
            progress.objects_failed.load(Ordering::Relaxed),
            if cached > 0 {
                format!(", {cached} from the download cache")
            } else {
                String::new()
            },
            human_bytes(progress.bytes_done.load(Ordering::Relaxed)),
            line(&self.from),
            line(&self.endpoint),
            progress
                .finished
                .get()
                .map_or_else(|| self.started.elapsed(), |at| *at - self.started)
                .as_secs_f64()
        );
    }
}

/// The report files the flags point at, with download progress on stderr; archives still
/// downloading come with their [`Fetching`].
pub fn listing_shown(cli: &Cli) -> Result<(Listing, Option<Fetching>)> {
    match config::report_source(cli)? {
        ReportSource::Local(spec) => Ok((discover(&spec)?, None)),
        ReportSource::Bucket { s3, spec } => {
            if s3.is_anonymous() {
                eprintln!(
                    "{}: reading s3://{} unsigned, as `aws s3 --no-sign-request`",
                    if cli.no_sign_request {
                        "--no-sign-request"
                    } else {
                        "no AWS credentials found"
                    },
                    spec.bucket
                );
            }
            fetch_shown_from(s3.endpoint(), |progress| {
                bucket::discover(&s3, &spec, progress)
            })
        }
        ReportSource::Actions(spec) => fetch_shown_from(&spec.api_url.clone(), |progress| {
            crate::source::actions::discover(&spec, progress)
        }),
    }
}

/// List a run's artifacts with `discover` (which opens each from its tail), showing progress
/// on stderr. The rest of the archives downloads during the load.
fn fetch_shown_from(
    endpoint: &str,
    discover: impl FnOnce(&Arc<FetchProgress>) -> Result<Listing, crate::source::SourceError> + Send,
) -> Result<(Listing, Option<Fetching>)> {
    let progress = &Arc::new(FetchProgress::default());
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let listing = std::thread::scope(|s| {
        let worker = s.spawn(waking(&done, || discover(progress)));
        poll_progress(
            || done.load(Ordering::Acquire),
            "{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed})",
            || {
                let listed = progress.listed.load(Ordering::Relaxed);
                let keys = progress.keys_listed.load(Ordering::Relaxed);
                let message = if listed {
                    format!(
                        "{}/{} artifacts",
                        progress.objects_opened.load(Ordering::Relaxed),
                        progress.objects_total.load(Ordering::Relaxed)
                    )
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
        worker.join().expect("the artifact sources do not panic")
    })?;
    let fetching = Fetching {
        progress: progress.clone(),
        from: listing.description.clone(),
        endpoint: endpoint.to_string(),
        started,
    };
    if listing.downloads.is_some() {
        return Ok((listing, Some(fetching)));
    }
    fetching.report();
    Ok((listing, None))
}

/// Progress of one or more loads, summed, and of the downloads beside them.
fn show_progress(progress: &[Progress], fetching: &[Fetching], finished: impl Fn() -> bool) {
    let sum = |f: fn(&Progress) -> &std::sync::atomic::AtomicU64| -> u64 {
        progress.iter().map(|p| f(p).load(Ordering::Relaxed)).sum()
    };
    poll_progress(
        finished,
        "{spinner} [{bar:30}] {pos}/{len} files {msg} ({elapsed})",
        || {
            let cases = sum(|p| &p.cases);
            let left: u64 = fetching.iter().map(|f| f.progress.objects_left()).sum();
            let downloading = if left > 0 {
                let bytes: u64 = fetching
                    .iter()
                    .map(|f| f.progress.bytes_done.load(Ordering::Relaxed))
                    .sum();
                let s = if left == 1 { "" } else { "s" };
                format!(
                    ", {left} artifact{s} downloading ({} in)",
                    human_bytes(bytes)
                )
            } else {
                String::new()
            };
            (
                sum(|p| &p.files_done),
                sum(|p| &p.files_total),
                format!("{cases} cases{downloading}"),
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
