//! The headless front-end: `--upload` (the batch path as a drop-in for PyTorch's `upload_test_stats.py`) and
//! the plain-text inspection printed when no terminal UI is wanted. Progress and warnings go
//! to stderr (a bar on a terminal, plain lines otherwise); results to stdout.

mod markdown;
mod progress;
mod report;
mod triage_json;

use std::time::Instant;

use std::io::Write;

use anyhow::{Context, Result, bail};

use crate::cli::Cli;
use crate::cli::FailOn;
use crate::config::{self, Exit, exit, job_names, sink_for, usage, wants_job_names};
use crate::human::human_bytes;
use crate::run::LoadedRun;
use crate::sanitize::line;
use crate::upload::{PlannedObject, Sink, UploadContext, execute, plan, plan_each};

use crate::triage::clusters::is_failing;
use crate::triage::summary::{Triage, brief_of_row, is_new, repro_of};
pub use markdown::comment as markdown_comment;
use progress::in_github_actions;
pub use progress::{
    Fetching, listing_shown, load_from_cli, load_with_base, warn_line, warn_problem,
};
use report::{print_json, print_plan};
pub use report::{write_comparison, write_inspection};

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
        return Err(usage(format!("--upload needs {}", missing.join(", "))));
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
    // The sink first: an upload to S3 without credentials fails before anything is read.
    let mut sink = if cli.dry_run {
        None
    } else {
        Some(sink_for(cli)?)
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
            print_json(cli, &run, &[], None, started, false, None)?;
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
            print_json(cli, &run, &objects, None, started, true, None)?;
        } else {
            print_plan(&objects);
        }
        return Ok(exit::OK);
    }
    // --out-dir writes to a folder; otherwise the objects go where PyTorch's script puts them: S3.
    let mut sink = match sink.take() {
        Some(s) => s,
        None => sink_for(cli)?,
    };
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
        print_json(cli, &run, &objects, Some(&outcome), started, false, None)?;
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
    // hold up the exit (noticeably, on a PyTorch-sized run); the OS takes the memory back.
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

/// Without `--upload` and without a terminal UI: a plain triage report on stdout, or the
/// JSON summary, the Markdown comment or the repro script; with a base run, the comparison.
pub fn inspect(cli: &Cli) -> Result<i32> {
    let started = Instant::now();
    config::check_triage_flags(cli)?;
    let disabled = config::disabled_tests(cli)?;
    let base_cli = config::base_cli(cli)
        .map(|b| config::resolve_run_url(&b))
        .transpose()?;
    let (mut run, mut base) = match &base_cli {
        Some(b) => {
            let (run, base) = load_with_base(cli, b)?;
            (run, Some(base))
        }
        None => (load_from_cli(cli, false, false)?, None),
    };
    // Without names, artifact names label jobs (and configs).
    if wants_job_names(cli) {
        run.job_names = job_names_for(cli, &run)?;
        if let (Some(b), Some(base_cli)) = (base.as_mut(), &base_cli) {
            b.job_names = job_names_for(base_cli, b)?;
        }
    }
    let triage = Triage::new(&run, base.as_ref(), disabled.as_ref());
    if let Some(c) = &triage.comparison {
        for w in &c.warnings {
            warn_line("compare", w);
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if cli.json {
        print_json(
            cli,
            &run,
            &[],
            None,
            started,
            false,
            Some((&triage, base.as_ref())),
        )?;
    } else if cli.markdown {
        let text = markdown::comment(&run, &triage, markdown::GITHUB_COMMENT_LIMIT);
        out.write_all(text.as_bytes())?;
        if in_github_actions() {
            markdown::to_step_summary(&text).context("$GITHUB_STEP_SUMMARY")?;
        }
    } else if cli.repro {
        out.write_all(repro_script(&run, &triage).as_bytes())?;
    } else {
        write_inspection(&mut out, &run)?;
        if !triage.disabled_skips.is_empty() {
            writeln!(
                out,
                "\nskipped as disabled (PyTorch's disabled tests): {}",
                triage.disabled_skips.len()
            )?;
            for &i in &triage.disabled_skips {
                let b = &run.notable[i as usize];
                writeln!(out, "  {}::{}", line(&b.classname), line(&b.name))?;
                writeln!(out, "      {}", line(&b.message))?;
            }
        }
        if triage.comparison.is_some() {
            write_comparison(&mut out, &run, &triage)?;
        }
    }
    out.flush()?;
    let new = triage.new_failures();
    // As for --upload: the process ends here, and freeing two runs' worth of small pieces
    // one by one would only hold up its exit; the OS takes the memory back.
    std::mem::forget((run, base, triage));
    if cli.fail_on == Some(FailOn::New) && new > 0 {
        eprintln!("--fail-on new: {new} new failure(s) that are not disabled");
        return Ok(exit::NEW_FAILURES);
    }
    Ok(exit::OK)
}

/// The repro script of the run's failures (with a base: only the new ones), one line per
/// test, in run order.
pub fn repro_script(run: &LoadedRun, triage: &Triage) -> String {
    let commands: Vec<String> = match &triage.comparison {
        Some(c) => c
            .tests
            .iter()
            .filter(|t| is_new(t.verdict))
            .filter_map(|t| brief_of_row(run, t.head.row?))
            .map(|i| repro_of(run, &run.notable[i]).0)
            .collect(),
        None => run
            .notable
            .iter()
            .filter(|b| is_failing(b))
            .map(|b| repro_of(run, b).0)
            .collect(),
    };
    crate::triage::repro::script(commands)
}
