//! Background work: loading the run, filtering big lists, re-reading a case, planning and
//! uploading. Each reports through `send` (the runtime's one channel); tests call these
//! directly and feed the messages back to the app.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::action::{Folded, Msg, Planned};
use super::app::Task;
use super::list::{self, Data};
use super::model::Model;
use crate::cli::Cli;
use crate::config;
use crate::load::{self, LoadOptions, Progress};
use crate::reread;
use crate::run::{LoadedRun, Problem, ProblemKind};
use crate::source::downloads::FetchProgress;
use crate::triage::summary::Triage;
use crate::upload::{self, UploadContext};

/// Counters the header shows while the run loads.
#[derive(Debug, Default)]
pub struct LoadCounters {
    pub load: Progress,
    pub fetch: Arc<FetchProgress>,
    /// The base run's load, when one is compared with.
    pub base: Progress,
}

/// List the source and load the run, reporting files as they are folded; then triage it
/// (against the base run, loaded beside it, when one is asked for).
pub fn load_run(cli: &Cli, counters: &LoadCounters, send: &(dyn Fn(Msg) + Sync)) {
    std::thread::scope(|s| {
        let base = config::base_cli(cli).map(|b| s.spawn(move || load_base(&b, &counters.base)));
        load_head(cli, counters, send, base);
    });
}

type BaseLoad<'s> = std::thread::ScopedJoinHandle<'s, Result<LoadedRun, String>>;

fn load_head(
    cli: &Cli,
    counters: &LoadCounters,
    send: &(dyn Fn(Msg) + Sync),
    base: Option<BaseLoad<'_>>,
) {
    let listing = match config::listing(cli, &counters.fetch) {
        Ok(l) => l,
        Err(e) => return send(Msg::LoadFailed(format!("{e:#}"))),
    };
    // The upload lines are read again only if the user commits.
    let opts = match config::load_options(cli, &listing, false) {
        Ok(o) => crate::triage::load_options(LoadOptions {
            keep_failed: false,
            ..o
        }),
        Err(e) => return send(Msg::LoadFailed(format!("{e:#}"))),
    };
    let problems = listing
        .problems
        .iter()
        .map(|(file, message)| Problem {
            file: file.clone(),
            kind: ProblemKind::Unreadable,
            message: message.clone(),
        })
        .collect();
    send(Msg::Listed {
        description: listing.description.clone(),
        workflow_id: opts.workflow_id.clone(),
        run_id_known: cli.workflow_run_id.is_some() || listing.run_id.is_some(),
        attempt: opts.attempt,
        reports: listing.reports.clone(),
        problems,
    });
    // Files go to the UI in batches: of 256, or whatever folded in the last 100 ms (also
    // while the load waits for a download, when nothing folds).
    let fed = listing.feed.is_some();
    let batch = Mutex::new(Folded::default());
    let flush = |batch: &mut Folded| {
        if !batch.files.is_empty() {
            send(Msg::Folded(std::mem::take(batch)));
        }
    };
    let loading = AtomicBool::new(true);
    let mut run = std::thread::scope(|s| {
        let ticker = s.spawn(|| {
            while loading.load(Ordering::Acquire) {
                std::thread::park_timeout(Duration::from_millis(100));
                flush(&mut batch.lock().expect("no panics while held"));
            }
        });
        let run = load::load_observed(listing, &opts, &counters.load, &mut |f| {
            let mut batch = batch.lock().expect("no panics while held");
            batch.add(&f, fed);
            if batch.files.len() >= 256 {
                flush(&mut batch);
            }
        });
        loading.store(false, Ordering::Release);
        ticker.thread().unpark();
        run
    });
    flush(&mut batch.lock().expect("no panics while held"));
    if config::wants_job_names(cli)
        && let Ok((names, _)) = config::job_names(cli, &run)
    {
        run.job_names = names;
    }
    let run = Arc::new(run);
    send(Msg::Loaded(run.clone()));
    // Triage on this thread, off the UI's: the base run (loading beside the head since the
    // start), then clusters, attempts and the comparison.
    let base = match base.map(|b| b.join().expect("the base loader does not panic")) {
        Some(Ok(b)) => Some(Arc::new(b)),
        Some(Err(e)) => {
            send(Msg::LoadFailed(format!("the base run: {e}")));
            None
        }
        None => None,
    };
    let disabled = match config::disabled_tests(cli) {
        Ok(d) => d,
        Err(e) => {
            send(Msg::LoadFailed(format!("{e:#}")));
            None
        }
    };
    let triage = Triage::new(&run, base.as_deref(), disabled.as_ref());
    send(Msg::Triaged {
        triage: Arc::new(triage),
        base,
    });
}

/// Load the base run (`--base`, `--base-attempt`) with its job names; an error says why.
fn load_base(base: &Cli, progress: &Progress) -> Result<LoadedRun, String> {
    let base = &config::resolve_run_url(base).map_err(|e| format!("{e:#}"))?;
    let listing = config::listing(base, &Arc::default()).map_err(|e| format!("{e:#}"))?;
    let opts = config::load_options(base, &listing, false).map_err(|e| format!("{e:#}"))?;
    // The base's failures are compared, not clustered: no signatures to make there.
    let opts = LoadOptions {
        keep_failed: false,
        brief_hook: None,
        ..opts
    };
    let mut run = load::load(listing, &opts, progress);
    if config::wants_job_names(base)
        && let Ok((names, _)) = config::job_names(base, &run)
    {
        run.job_names = names;
    }
    Ok(run)
}

/// Carry out one task of the app (Copy is the runtime's: it writes to the terminal).
pub fn execute(task: Task, cli: &Cli, model: &Arc<Model>, send: &(dyn Fn(Msg) + Sync)) {
    match task {
        Task::Compute {
            view,
            depth,
            generation,
            kind,
            base,
            query,
            status,
            sort,
            latest,
        } => {
            let data = Data { model, plan: &[] };
            let stale = || latest.load(Ordering::Relaxed) != generation;
            if let Some(shown) = list::compute(data, kind, &base, &query, status, sort, &stale) {
                send(Msg::Computed {
                    view,
                    depth,
                    generation,
                    shown,
                });
            }
        }
        Task::Reread(key) => {
            let reports = model.run.as_ref().map_or(&*model.reports, |r| &r.reports);
            let found = reread::reread_from(reports, model.attempt, &[key], &model.workflow_id);
            let result = found
                .into_iter()
                .next()
                .flatten()
                .ok_or_else(|| "the report file could not be read again".to_string());
            send(Msg::Case { key, result });
        }
        Task::Plan { branch, repo } => send(Msg::Planned(plan(cli, model, branch, repo))),
        Task::Upload(objects) => {
            let outcome = config::sink_for(cli).map(|mut sink| {
                upload::execute(objects.iter(), sink.as_mut(), |i, _| {
                    send(Msg::Uploading(i))
                })
            });
            send(match outcome {
                Ok(o) => Msg::Uploaded {
                    written: o.written,
                    failed: o.failed.map(|e| e.to_string()),
                },
                Err(e) => Msg::Uploaded {
                    written: Vec::new(),
                    failed: Some(format!("{e:#}")),
                },
            });
        }
        Task::Copy(_) => {}
        Task::WriteRepro(script) => send(Msg::ReproWritten(write_repro(&script))),
    }
}

/// The same plan as `--upload`: job names asked for the same way, test_run read again
/// when the gate lets it through.
fn plan(cli: &Cli, model: &Model, branch: Option<String>, repo: String) -> Result<Planned, String> {
    let run = model.run.as_ref().ok_or("the run is still loading")?;
    if !model.run_id_known {
        return Err(
            "the workflow run id is unknown: start testscope with --workflow-run-id \
                    and --workflow-run-attempt to commit"
                .into(),
        );
    }
    let (job_names, warnings) = if run.job_names.is_empty() {
        config::job_names(cli, run).map_err(|e| format!("{e:#}"))?
    } else {
        (run.job_names.clone(), Vec::new())
    };
    let ctx = UploadContext {
        workflow_run_id: model.workflow_id.clone(),
        attempt: model.attempt,
        head_branch: branch,
        head_repository: repo,
        stats_bucket: cli.stats_bucket.clone(),
        gzip_level: cli.gzip_level,
        job_names,
    };
    let test_run = ctx.uploads_test_run();
    let opts = config::options_for(cli, model.workflow_id.clone(), model.attempt, test_run);
    let (failed, lines) = reread::lines_again(run, &opts)?;
    let mut objects = Vec::new();
    upload::plan::plan_with(run, &failed, lines.as_ref(), &ctx, &mut |o| objects.push(o));
    Ok(Planned {
        objects,
        warnings,
        test_run,
    })
}

/// Write `repro.sh` in the current folder (whole or not at all), executable.
fn write_repro(script: &str) -> Result<String, String> {
    let path = std::path::Path::new("repro.sh");
    let tmp = std::path::Path::new(".repro.sh.tmp");
    let done = (|| {
        std::fs::write(tmp, script)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::rename(tmp, path)
    })();
    match done {
        Ok(()) => Ok(std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()),
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            Err(e.to_string())
        }
    }
}
