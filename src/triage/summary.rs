//! A run's triage, ready for both front-ends: the comparison with a base run (when one was
//! loaded), the failure clusters, each failing case's attempts and repro, and the lookups a
//! view needs (a case-table row's brief, a brief's cluster). Built once, on a worker.

use super::attempts::{self, DialectCounts, Repeats};
use super::clusters::{self, Clusters};
use super::compare::{self, Comparison};
use super::disabled::DisabledTests;
use super::repro;
use super::verdict::Verdict;
use crate::report::meta;
use crate::run::{CaseBrief, LoadedRun};

/// Everything triage knows of a run.
#[derive(Debug, Default)]
pub struct Triage {
    pub comparison: Option<Comparison>,
    pub clusters: Clusters,
    pub repeats: Repeats,
    pub dialects: DialectCounts,
    /// Tests the run skipped with PyTorch's "Test is disabled because an issue exists"
    /// message (indices into the run's notable cases).
    pub disabled_skips: Vec<u32>,
}

impl Triage {
    /// Triage `head`, against `base` when given.
    pub fn new(
        head: &LoadedRun,
        base: Option<&LoadedRun>,
        disabled: Option<&DisabledTests>,
    ) -> Self {
        let (h, b, clusters) = std::thread::scope(|s| {
            let b = s.spawn(|| base.map(compare::keyed));
            let c = s.spawn(|| clusters::clusters(head));
            let h = compare::keyed(head);
            (
                h,
                b.join().expect("keying does not panic"),
                c.join().expect("clustering does not panic"),
            )
        });
        let comparison = base
            .zip(b.as_ref())
            .map(|(base, b)| compare::compare_keyed(head, &h, base, b, disabled));
        let repeats = attempts::repeats_in(head, &h);
        let dialects = attempts::dialect_counts(head, &repeats);
        let disabled_skips = head
            .notable
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                b.status == crate::stats::CaseStatus::Skipped
                    && super::disabled::is_disabled_skip(&b.message)
            })
            .map(|(i, _)| i as u32)
            .collect();
        Self {
            comparison,
            clusters,
            repeats,
            dialects,
            disabled_skips,
        }
    }

    /// The new failures (not disabled) that `--fail-on new` counts.
    pub fn new_failures(&self) -> usize {
        self.comparison.as_ref().map_or(0, |c| {
            c.tests
                .iter()
                .filter(|t| is_new(t.verdict) && t.disabled.is_none())
                .count()
        })
    }
}

/// A failure the change caused: `new_failure` or `new_test_failing`.
pub fn is_new(v: Verdict) -> bool {
    matches!(v, Verdict::NewFailure | Verdict::NewTestFailing)
}

/// The index in `run.notable` of the brief of case-table row `row`, if it has one (briefs
/// are in run order, so by file and ordinal).
pub fn brief_of_row(run: &LoadedRun, row: u32) -> Option<usize> {
    let row = row as usize;
    let key = (
        run.cases.file_index[row] as usize,
        run.cases.ordinal(row) as usize,
    );
    run.notable
        .binary_search_by(|b| (b.file_index, b.ordinal).cmp(&key))
        .ok()
}

/// The repro command of a failing brief: from its report or built from its names.
pub fn repro_of(run: &LoadedRun, b: &CaseBrief) -> (String, bool) {
    if let Some(t) = &b.triage {
        return (t.repro.clone(), t.repro_in_report);
    }
    let invoking = run
        .reports
        .get(b.file_index)
        .map(|r| meta::invoking_file(r.rel.components()).to_string())
        .filter(|s| !s.is_empty());
    let r = repro::repro_for(
        &[&b.message],
        (!b.file.is_empty()).then_some(b.file.as_str()),
        &b.classname,
        &b.name,
        invoking.as_deref(),
    );
    (r.command, r.source == repro::ReproSource::Report)
}

/// The attempts of a failing case, all dialects counted: its own retries, plus the other
/// reports of the same test in its job.
pub fn attempts_of(run: &LoadedRun, t: &Triage, brief: usize) -> usize {
    let b = &run.notable[brief];
    let row = run.cases_row(b.file_index, b.ordinal);
    let others = row.map_or(0, |r| t.repeats.rows_of(r as u32).len().saturating_sub(1));
    b.retried() + 1 + others
}
