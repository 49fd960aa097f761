//! What the headless front-end prints on stdout: the plain triage report, the upload plan
//! of `--dry-run`, and the `--json` summary.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;

use crate::cli::Cli;
use crate::run::LoadedRun;
use crate::sanitize::line;
use crate::stats::CaseStatus;
use crate::triage::summary::Triage;
use crate::upload::PlannedObject;

pub(super) fn print_plan(objects: &[PlannedObject]) {
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

pub(super) fn print_json(
    cli: &Cli,
    run: &LoadedRun,
    objects: &[PlannedObject],
    outcome: Option<&crate::upload::UploadOutcome>,
    started: Instant,
    dry_run: bool,
    triage: Option<(&Triage, Option<&LoadedRun>)>,
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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Some((triage, base)) = triage {
        // The summary pretty-printed, then triage's long lists streamed into the same object.
        let text = serde_json::to_string_pretty(&doc)?;
        out.write_all(text.trim_end().trim_end_matches('}').trim_end().as_bytes())?;
        super::triage_json::write_parts(&mut out, run, base, triage)?;
        out.write_all(b"\n}\n")?;
        out.flush()?;
        return Ok(());
    }
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    Ok(())
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

/// The plain report's comparison with the base run: counts per verdict, then each test
/// worth a look, grouped by verdict (new failures first), with its first message line and,
/// for new failures, its repro command.
pub fn write_comparison(
    out: &mut dyn Write,
    run: &LoadedRun,
    triage: &Triage,
) -> std::io::Result<()> {
    use crate::triage::summary::repro_of;
    use crate::triage::verdict::Verdict;
    let Some(c) = &triage.comparison else {
        return Ok(());
    };
    writeln!(out, "\ncompared with {}:", line(&c.base_description))?;
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", c.count(*v), v.name()))
        .collect();
    writeln!(out, "  {}", counts.join(", "))?;
    for w in &c.warnings {
        writeln!(out, "  warning: {}", line(w))?;
    }
    for v in Verdict::ALL {
        let tests: Vec<_> = c.tests.iter().filter(|t| t.verdict == v).collect();
        if tests.is_empty() {
            continue;
        }
        writeln!(out, "\n{}: {}", v.name(), tests.len())?;
        for t in tests {
            let notes: String = t
                .notes()
                .iter()
                .map(|n| format!(" ({})", line(n)))
                .collect();
            writeln!(
                out,
                "  [{}] {} ({}){notes}",
                line(&t.key.config),
                line(&t.test_id()),
                line(&t.jobs().join(", ")),
            )?;
            if let Some(b) = t.head_brief(run) {
                if !b.message.is_empty() {
                    writeln!(out, "      {}", line(&b.message))?;
                }
                if crate::triage::summary::is_new(v) {
                    writeln!(out, "      repro: {}", line(&repro_of(run, b).0))?;
                }
            }
        }
    }
    Ok(())
}
