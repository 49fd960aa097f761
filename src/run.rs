//! A loaded run: the one data model both front-ends read. It holds what the uploads need
//! (summary rows, failed lines, compressed test_run chunks) and what a person triages with
//! (per-file outcomes, problems, totals), not a million case trees.

use crate::codec::gzip::{DeflateChunk, PartAt};
use crate::report::{Object, Value};
use crate::source::{AuxFile, ReportFile};
use crate::stats::cases::CaseTable;
use crate::stats::{CaseStatus, SummaryRow};

/// Something that went wrong with the input; docs/compatibility.md section 8 says how each is handled.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file (or zip) concerned, as the user can find it.
    pub file: String,
    pub kind: ProblemKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A zip or report that could not be read or parsed: skipped whole.
    Unreadable,
    /// Cases whose `time` is missing or not a number: counted as 0.0 in sums.
    MissingTime,
}

impl ProblemKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::MissingTime => "missing time",
        }
    }
}

/// One report file's outcome.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Path relative to the download folder (docs/compatibility.md section 7 order key).
    pub rel: String,
    /// Where it was read from (zip!entry or disk path).
    pub origin: String,
    pub bytes: u64,
    pub cases: u64,
    /// Its cases by status (a case with both a failure and an error counts as a failure),
    /// those rerun, and the sum of its finite times: counted as the file is folded in, so
    /// views that total files (jobs, invoking files) need not walk every case.
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    pub reruns: u64,
    pub time: f64,
    /// Its `failed_test_runs` documents (cases with a failure, error or rerun).
    pub failed_docs: u64,
    pub error: Option<String>,
    /// From the path's first component (docs/compatibility.md section 2): Null, Int or BigInt.
    pub job_id: Value,
}

/// Case counts over the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub files: u64,
    pub bad_files: u64,
    pub bytes: u64,
    pub cases: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    pub successes: u64,
    /// Cases with at least one `rerun` child.
    pub reruns: u64,
    /// Sum of finite case times (display only; the uploads keep the reference's sums).
    pub time: f64,
}

/// The body of one collection before compression decisions: JSON lines.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    pub docs: u64,
    pub chunks: Vec<DeflateChunk>,
    /// Where each report's lines lie, by file index (when the load kept them per file):
    /// a report's lines are compressed apart from its neighbours', so they can be read
    /// again without the rest of their chunk.
    pub files: Vec<FileLines>,
}

/// A report's JSON lines in [`Lines::chunks`]: `len` bytes from `start` in the raw bytes of
/// a part of one chunk (small reports share a part).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileLines {
    pub chunk: usize,
    pub part: PartAt,
    pub start: usize,
    pub len: usize,
}

impl Lines {
    /// Where file `file`'s lines are, when they were kept apart.
    pub fn of_file(&self, file: usize) -> Option<&FileLines> {
        self.files.get(file)
    }

    /// The raw bytes of the part that holds `at` (its lines are `at.start..at.start +
    /// at.len` of them); `None` when the part does not inflate to its length.
    pub fn inflate_part(&self, at: &FileLines) -> Option<Vec<u8>> {
        self.chunks.get(at.chunk)?.inflate_part(&at.part)
    }
}

/// The triage facts of a case that failed or was rerun (the `failed_test_runs` cases).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseBrief {
    /// Index into [`LoadedRun::files`].
    pub file_index: usize,
    /// Position among the file's cases (with `file_index`, what re-reads the document).
    pub ordinal: usize,
    pub classname: String,
    pub name: String,
    pub file: String,
    pub status: CaseStatus,
    /// Number of `rerun` children (PyTorch's attempts before the final outcome).
    pub reruns: usize,
    /// Number of Surefire/Gradle retry children (`flakyFailure`, `flakyError`,
    /// `rerunFailure`, `rerunError`).
    pub retries: usize,
    /// First line of the failure/error message (or of the last rerun's, for flaky passes).
    pub message: String,
    pub time: Option<f64>,
    /// Signature and repro, when the load was asked for them (the load's brief hook).
    pub triage: Option<Box<BriefTriage>>,
}

/// What triage adds to a failing case's brief while it is parsed (the case's whole document
/// is at hand only then).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BriefTriage {
    /// The failure's normalised signature: equal for instances of one cause.
    pub signature: String,
    /// The command that reruns the test.
    pub repro: String,
    /// Whether `repro` was written in the report (else built from its names).
    pub repro_in_report: bool,
}

/// How many values a key holds: a list's items, else one.
fn count_of(v: Option<&Value>) -> usize {
    match v {
        Some(Value::List(items)) => items.len(),
        Some(_) => 1,
        None => 0,
    }
}

impl CaseBrief {
    pub fn of(case: &Object, file_index: usize, ordinal: usize) -> Self {
        let text = |k: &str| case.get(k).map(display_value).unwrap_or_default();
        let reruns = count_of(case.get("rerun"));
        let retries = ["flakyFailure", "flakyError", "rerunFailure", "rerunError"]
            .iter()
            .map(|k| count_of(case.get(k)))
            .sum();
        let message = [
            "failure",
            "error",
            "rerun",
            "rerunFailure",
            "rerunError",
            "flakyFailure",
            "flakyError",
            "skipped",
        ]
        .iter()
        .find_map(|k| case.get(k).and_then(first_message))
        .unwrap_or_default();
        Self {
            file_index,
            ordinal,
            classname: text("classname"),
            name: text("name"),
            file: text("file"),
            status: CaseStatus::of(case),
            reruns,
            retries,
            message,
            time: case.get("time").and_then(Value::as_number),
            triage: None,
        }
    }

    /// Attempts before the final outcome, in any dialect.
    pub fn retried(&self) -> usize {
        self.reruns + self.retries
    }

    /// Passed after failed attempts.
    pub fn is_flaky(&self) -> bool {
        self.retried() > 0 && self.status == CaseStatus::Success
    }
}

/// A value as a person reads it: strings bare, numbers in Python form.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Null => String::new(),
        other => {
            let mut out = Vec::new();
            crate::py::json::write_value(&mut out, other);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// The `message` attribute, else the text, of a failure-like child (the last, for lists).
fn first_message(v: &Value) -> Option<String> {
    let obj = match v {
        Value::List(items) => items.iter().rev().find_map(Value::as_object)?,
        Value::Object(o) => o,
        _ => return None,
    };
    let msg = obj
        .get("message")
        .map(display_value)
        .filter(|m| !m.trim().is_empty())
        .or_else(|| obj.get("text").map(display_value))?;
    Some(msg.trim().lines().next().unwrap_or("").to_string())
}

impl LoadedRun {
    /// The case-table row of case `ordinal` of file `file`.
    pub fn cases_row(&self, file: usize, ordinal: usize) -> Option<usize> {
        let rows = self.cases.file_rows(file);
        (ordinal < rows.len()).then(|| rows.start + ordinal)
    }
}

#[derive(Debug, Default)]
pub struct LoadedRun {
    /// Where it came from, for headers and messages.
    pub description: String,
    pub workflow_id: String,
    pub attempt: i64,
    pub files: Vec<FileInfo>,
    pub summary: Vec<SummaryRow>,
    /// The `failed_test_runs` lines, unless the load was asked not to keep them
    /// (`LoadOptions::keep_failed`; `reread::lines_again` reads them again).
    pub failed: Option<Lines>,
    /// Every case, when the load was asked to keep them (`LoadOptions::keep_test_run`).
    pub test_run: Option<Lines>,
    pub problems: Vec<Problem>,
    /// Failed and retried cases (in any dialect), in run order.
    pub notable: Vec<CaseBrief>,
    /// Every case, compactly, in run order.
    pub cases: CaseTable,
    /// The report files, by file index (to re-read a case's whole document).
    pub reports: Vec<ReportFile>,
    pub totals: Totals,
    pub td_exclusions: Vec<AuxFile>,
    /// GitHub job names by job id, where known (filled by the front-end).
    pub job_names: std::collections::HashMap<i64, String>,
    /// The td_exclusions files that parsed: (job id from the path, JSON), in path order.
    pub td_docs: Vec<(Value, serde_json::Value)>,
}
