//! Triage as detail lines: why a test got its verdict against the base run (the rule that
//! fired, the evidence from both runs side by side), a failure cluster's signature, and a
//! case's attempts as a timeline, whatever retry dialect its tool wrote.

use super::detail::{DetailLine, LineKind, pair};
use super::model::Model;
use crate::report::Object;
use crate::run::LoadedRun;
use crate::sanitize::line as inert;
use crate::stats::cases::{flag, status_of};
use crate::triage::attempts::{self, Attempt};
use crate::triage::compare::{Compared, Side};

fn l(kind: LineKind, text: impl Into<String>) -> DetailLine {
    DetailLine {
        kind,
        text: text.into(),
    }
}

fn field(key: &str, value: &str) -> DetailLine {
    l(LineKind::Field, format!("{key}: {}", inert(value)))
}

/// What one run's side says, as rows of text: state, occurrences, retries, jobs, report,
/// message and signature.
fn side_rows(run: Option<&LoadedRun>, s: &Side) -> Vec<String> {
    let mut rows = vec![
        format!("state: {}", s.state.name()),
        format!("occurrences: {}", s.occurrences),
        format!("with retries: {}", s.retried),
        format!(
            "jobs: {}",
            if s.jobs.is_empty() {
                "-".into()
            } else {
                s.jobs.join(", ")
            }
        ),
    ];
    let Some(run) = run else {
        return rows;
    };
    if let Some(row) = s.row {
        let r = row as usize;
        let file = run.cases.file_index[r] as usize;
        if let Some(report) = run.reports.get(file) {
            rows.push(format!("report: {}", report.describe()));
        }
        let f = run.cases.flags[r];
        rows.push(format!("outcome: {}", status_of(f).label()));
        if let Some(b) = crate::triage::summary::brief_of_row(run, row).map(|i| &run.notable[i]) {
            if !b.message.is_empty() {
                rows.push(format!("message: {}", b.message));
            }
            if let Some(t) = &b.triage {
                rows.push(format!("signature: {}", t.signature));
            }
        }
    }
    rows
}

/// The explain pane of a test of the Compare view.
pub fn verdict_lines(m: &Model, t: &Compared) -> Vec<DetailLine> {
    let mut out = vec![
        l(LineKind::Heading, format!("Verdict: {}", t.verdict.name())),
        l(LineKind::Text, t.verdict.rule(t.head.state, t.base.state)),
    ];
    if let Some(d) = &t.disabled {
        out.push(field("disabled", &format!("issue {} ({})", d.issue, d.url)));
    }
    if t.maybe_affected {
        out.push(l(
            LineKind::Text,
            "maybe affected: a report of the same config and file was unreadable in the other run",
        ));
    }
    out.push(l(LineKind::Blank, ""));
    out.push(l(LineKind::Heading, "Test"));
    out.push(field("config", &t.key.config));
    out.push(field("invoking file", &t.key.invoking_file));
    out.push(field("class", &t.key.classname));
    out.push(field("name", &t.key.name));
    out.push(l(LineKind::Blank, ""));
    out.push(l(LineKind::Heading, "Evidence"));
    let base_name = m.comparison().map_or_else(
        || "base run".to_string(),
        |c| format!("base: {}", c.base_description),
    );
    out.push(pair("this run", &base_name));
    let (head, base) = (
        side_rows(m.run.as_deref(), &t.head),
        side_rows(m.base.as_deref(), &t.base),
    );
    for i in 0..head.len().max(base.len()) {
        out.push(pair(
            head.get(i).map_or("", String::as_str),
            base.get(i).map_or("", String::as_str),
        ));
    }
    if let Some((repro, in_report)) = t
        .head
        .row
        .and_then(|r| m.brief_of_row(r))
        .and_then(|b| m.repro_of_brief(b))
    {
        out.push(l(LineKind::Blank, ""));
        out.push(l(LineKind::Heading, "Repro"));
        out.push(l(LineKind::Text, inert(&repro).into_owned()));
        out.push(l(
            LineKind::Text,
            if in_report {
                "(as the report wrote it)"
            } else {
                "(built from the report's names)"
            },
        ));
    }
    out
}

fn attempt_row(n: usize, a: &Attempt) -> DetailLine {
    l(
        LineKind::Text,
        format!(
            "{n:>3}  {:<8} {:>9}  {:<17} {}",
            a.outcome.label(),
            a.time.map_or("-".to_string(), |t| format!("{t:.2}s")),
            a.dialect.label(),
            inert(&a.message)
        ),
    )
}

/// A case's attempts: those its own element records, then the other reports of the same
/// test in its job (from the case table: outcome and time, and the message of a failure).
/// Empty when the case ran once.
pub fn attempt_lines(m: &Model, case: &Object, key: (u32, u32)) -> Vec<DetailLine> {
    let mut timeline = attempts::of_document(case);
    if let (Some(run), Some(triage)) = (m.run.as_deref(), m.triage.as_deref())
        && let Some(row) = run.cases_row(key.0 as usize, key.1 as usize)
    {
        let rows = triage.repeats.rows_of(row as u32);
        if rows.len() > 1 {
            let own = timeline;
            timeline = Vec::new();
            for r in rows {
                if r as usize == row {
                    timeline.extend(own.iter().cloned());
                    continue;
                }
                let f = run.cases.flags[r as usize];
                let status = status_of(f);
                let message = m
                    .brief_of_row(r)
                    .map(|b| m.notable()[b as usize].message.clone())
                    .unwrap_or_default();
                let same_file = run.cases.file_index[r as usize] == key.0;
                timeline.push(Attempt {
                    outcome: match status {
                        crate::stats::CaseStatus::Failure => attempts::AttemptOutcome::Failed,
                        crate::stats::CaseStatus::Error => attempts::AttemptOutcome::Errored,
                        crate::stats::CaseStatus::Skipped => attempts::AttemptOutcome::Skipped,
                        crate::stats::CaseStatus::Success => attempts::AttemptOutcome::Passed,
                    },
                    dialect: if same_file {
                        attempts::Dialect::Repeated
                    } else {
                        attempts::Dialect::AnotherReport
                    },
                    time: (f & flag::NO_TIME == 0).then_some(run.cases.time[r as usize]),
                    message,
                });
            }
        }
    }
    if timeline.len() < 2 {
        return Vec::new();
    }
    let mut out = vec![
        l(LineKind::Heading, format!("Attempts ({})", timeline.len())),
        l(
            LineKind::Text,
            format!(
                "  #  {:<8} {:>9}  {:<17} message",
                "outcome", "time", "written as"
            ),
        ),
    ];
    out.extend(
        timeline
            .iter()
            .enumerate()
            .map(|(i, a)| attempt_row(i + 1, a)),
    );
    out.push(l(LineKind::Blank, ""));
    out
}
