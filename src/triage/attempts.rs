//! One attempt model over every retry dialect. A test's attempts, in order, whether its
//! tool wrote them as PyTorch's `<rerun>` children (attempts before the final outcome),
//! Surefire's and Gradle's `flakyFailure`/`flakyError` (failed attempts of a test that
//! passed) or `rerunFailure`/`rerunError` (failed re-runs of a test that failed),
//! pytest-rerunfailures' repeated testcases in one report, or the same test in several
//! reports of one job (PyTorch re-runs a file in a new process).
//!
//! Only what triage shows is built here; the uploaded documents never change.

use rustc_hash::FxHashMap;

use crate::py::Value;
use crate::report::Object;
use crate::run::{LoadedRun, display_value};
use crate::stats::cases::flag;

/// How an attempt was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// The case's own outcome (its last attempt, unless `rerunFailure`s follow it).
    Final,
    /// PyTorch's `<rerun>` (pytest-rerunfailures through PyTorch's report plugin).
    Rerun,
    /// Surefire/Gradle `flakyFailure`/`flakyError`.
    FlakyAttempt,
    /// Surefire `rerunFailure`/`rerunError`.
    RerunAttempt,
    /// The same test again in the same report (pytest-rerunfailures without PyTorch's
    /// plugin writes each attempt as a testcase).
    Repeated,
    /// The same test in another report of the same job.
    AnotherReport,
}

impl Dialect {
    pub fn label(self) -> &'static str {
        match self {
            Self::Final => "final",
            Self::Rerun => "rerun",
            Self::FlakyAttempt => "flakyFailure",
            Self::RerunAttempt => "rerunFailure",
            Self::Repeated => "repeated testcase",
            Self::AnotherReport => "another report",
        }
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Failed,
    Errored,
    Skipped,
    Passed,
}

impl AttemptOutcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Errored => "error",
            Self::Skipped => "skipped",
            Self::Passed => "passed",
        }
    }
}

/// One attempt of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub outcome: AttemptOutcome,
    pub dialect: Dialect,
    pub time: Option<f64>,
    /// The first line of its message (empty for a pass).
    pub message: String,
}

/// Each value of `key` in `case` (a list's items, or the one value), as objects.
fn children<'a>(case: &'a Object, key: &str) -> Vec<&'a Object> {
    match case.get(key) {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(o)) => vec![o],
        _ => Vec::new(),
    }
}

fn first_line(child: &Object) -> String {
    let text = |k| child.get(k).map(display_value).unwrap_or_default();
    let message = text("message");
    let message = if message.trim().is_empty() {
        text("text")
    } else {
        message
    };
    message.trim().lines().next().unwrap_or("").to_string()
}

fn time_of(o: &Object) -> Option<f64> {
    o.get("time").and_then(Value::as_number)
}

fn retry(child: &Object, outcome: AttemptOutcome, dialect: Dialect) -> Attempt {
    Attempt {
        outcome,
        dialect,
        time: time_of(child),
        message: first_line(child),
    }
}

/// The attempts one testcase element records, in the order they ran.
pub fn of_document(case: &Object) -> Vec<Attempt> {
    let failure = children(case, "failure");
    let error = children(case, "error");
    let outcome = if !failure.is_empty() {
        AttemptOutcome::Failed
    } else if !error.is_empty() {
        AttemptOutcome::Errored
    } else if case.contains_key("skipped") {
        AttemptOutcome::Skipped
    } else {
        AttemptOutcome::Passed
    };
    let own = Attempt {
        outcome,
        dialect: Dialect::Final,
        time: time_of(case),
        message: failure
            .last()
            .or(error.last())
            .or(children(case, "skipped").last())
            .map(|c| first_line(c))
            .unwrap_or_default(),
    };
    let mut out = Vec::new();
    // Attempts before the final outcome.
    for (key, outcome, dialect) in [
        ("rerun", AttemptOutcome::Failed, Dialect::Rerun),
        (
            "flakyFailure",
            AttemptOutcome::Failed,
            Dialect::FlakyAttempt,
        ),
        ("flakyError", AttemptOutcome::Errored, Dialect::FlakyAttempt),
    ] {
        out.extend(
            children(case, key)
                .into_iter()
                .map(|c| retry(c, outcome, dialect)),
        );
    }
    out.push(own);
    // Re-runs after a first failure: the case's own outcome was the first attempt.
    for (key, outcome) in [
        ("rerunFailure", AttemptOutcome::Failed),
        ("rerunError", AttemptOutcome::Errored),
    ] {
        out.extend(
            children(case, key)
                .into_iter()
                .map(|c| retry(c, outcome, Dialect::RerunAttempt)),
        );
    }
    out
}

/// The attempts of a test reported several times in one job: each occurrence's own
/// attempts, in run order; an occurrence after the first is marked by how it was
/// reported again (`file_index` tells a repeat in the same report from another report).
pub fn timeline(occurrences: &[(usize, &Object)]) -> Vec<Attempt> {
    let mut out = Vec::new();
    let mut previous_file = None;
    for &(file, case) in occurrences {
        let mut attempts = of_document(case);
        if let Some(prev) = previous_file {
            let again = if prev == file {
                Dialect::Repeated
            } else {
                Dialect::AnotherReport
            };
            for a in attempts.iter_mut().filter(|a| a.dialect == Dialect::Final) {
                a.dialect = again;
            }
        }
        previous_file = Some(file);
        out.extend(attempts);
    }
    out
}

/// Tests reported more than once in one job: groups of case-table rows, in run order.
#[derive(Debug, Clone, Default)]
pub struct Repeats {
    pub groups: Vec<Vec<u32>>,
    /// The group of each row that is in one.
    pub group_of_row: FxHashMap<u32, u32>,
}

impl Repeats {
    /// The rows of `row`'s test in its job (just `row` when it ran once).
    pub fn rows_of(&self, row: u32) -> Vec<u32> {
        match self.group_of_row.get(&row) {
            Some(&g) => self.groups[g as usize].clone(),
            None => vec![row],
        }
    }
}

/// Find the tests of `run` reported more than once in one job.
pub fn repeats(run: &LoadedRun) -> Repeats {
    repeats_in(run, &super::compare::keyed(run))
}

/// [`repeats`] from the run's keyed cases: a test's occurrences are one key's rows; those of
/// one job are its repeats.
pub fn repeats_in(run: &LoadedRun, keyed: &super::compare::Keyed) -> Repeats {
    let mut out = Repeats::default();
    for same_test in keyed.groups() {
        let mut rows: Vec<u32> = same_test.iter().map(|&(_, r)| r).collect();
        let job = |r: u32| &run.files[run.cases.file_index[r as usize] as usize].job_id;
        // Rows are in run order; a job's files usually come together, but not always.
        while let Some(&first) = rows.first() {
            let (mine, rest): (Vec<u32>, Vec<u32>) =
                rows.iter().partition(|&&r| job(r) == job(first));
            if mine.len() > 1 {
                let g = out.groups.len() as u32;
                for &r in &mine {
                    out.group_of_row.insert(r, g);
                }
                out.groups.push(mine);
            }
            rows = rest;
        }
    }
    out
}

/// Cases per retry dialect, for the Reruns view's header and the JSON report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DialectCounts {
    /// Cases with PyTorch `<rerun>` children.
    pub rerun: u64,
    /// Cases with `flakyFailure`/`flakyError` children.
    pub flaky_attempt: u64,
    /// Cases with `rerunFailure`/`rerunError` children.
    pub rerun_attempt: u64,
    /// Tests reported more than once in one report.
    pub repeated: u64,
    /// Tests reported in more than one report of a job.
    pub another_report: u64,
}

/// Count each dialect in `run` (`repeats` from [`repeats`]).
pub fn dialect_counts(run: &LoadedRun, repeats: &Repeats) -> DialectCounts {
    let mut c = DialectCounts::default();
    for &f in &run.cases.flags {
        c.rerun += u64::from(f & flag::RERUN != 0);
        c.flaky_attempt += u64::from(f & flag::FLAKY_ATTEMPT != 0);
        c.rerun_attempt += u64::from(f & flag::RERUN_ATTEMPT != 0);
    }
    for g in &repeats.groups {
        let first = run.cases.file_index[g[0] as usize];
        if g.iter().all(|&r| run.cases.file_index[r as usize] == first) {
            c.repeated += 1;
        } else {
            c.another_report += 1;
        }
    }
    c
}
