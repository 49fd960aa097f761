//! What the views show, read from the one data model ([`LoadedRun`]): grown file by file
//! while the run loads (failed and rerun cases, files, problems), then completed with the
//! per-class, per-job and per-invoking-file rows once every file is in.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use super::action::Folded;
use crate::jobs;
use crate::report::{Value, meta};
use crate::run::{CaseBrief, FileInfo, LoadedRun, Problem, Totals, display_value};
use crate::source::ReportFile;
use crate::stats::CaseStatus;
use crate::stats::cases::{flag, status_of};
use crate::triage::clusters::{Cluster, is_failing};
use crate::triage::compare::{Compared, Comparison};
use crate::triage::summary::{Triage, repro_of};
use crate::triage::verdict::Verdict;

/// One job: the files whose artifact carries its id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobRow {
    /// The job id as text ("" when the artifact has none).
    pub id: String,
    /// GitHub's job name, else the artifact's label.
    pub name: String,
    pub config: String,
    pub shard: String,
    pub runner: String,
    pub counts: Counts,
}

/// One invoking file (the folder a report sits in: the test file that ran it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvokingRow {
    pub name: String,
    pub counts: Counts,
}

/// Case counts of a group of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub files: u64,
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    pub reruns: u64,
    pub time: f64,
}

impl Counts {
    /// A file's cases, as the load counted them.
    fn add_file(&mut self, f: &FileInfo) {
        self.files += 1;
        self.tests += f.cases;
        self.failures += f.failures;
        self.errors += f.errors;
        self.skipped += f.skipped;
        self.reruns += f.reruns;
        self.time += f.time;
    }

    pub fn successes(&self) -> u64 {
        self.tests - self.failures - self.errors - self.skipped
    }
}

/// A case as a list shows it, from either the failed/rerun briefs or the case table.
#[derive(Debug, Clone)]
pub struct CaseLine<'a> {
    pub file_index: u32,
    pub ordinal: u32,
    pub status: CaseStatus,
    /// Rerun count when known (briefs), else 1 for "has reruns" (table rows).
    pub reruns: usize,
    pub classname: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub time: Option<f64>,
    pub message: &'a str,
    pub job: &'a str,
}

impl CaseLine<'_> {
    /// How a rerun case ended: flaky when it passed in the end.
    pub fn outcome(&self) -> &'static str {
        match (self.reruns > 0, self.status) {
            (true, CaseStatus::Success) => "flaky",
            (_, CaseStatus::Failure) => "failed",
            (_, CaseStatus::Error) => "error",
            (_, CaseStatus::Skipped) => "skipped",
            (false, CaseStatus::Success) => "passed",
        }
    }

    /// `classname::name`, the id people paste into `pytest -k` and issues.
    pub fn id(&self) -> String {
        if self.classname.is_empty() {
            self.name.to_string()
        } else {
            format!("{}::{}", self.classname, self.name)
        }
    }
}

/// Cloned only when a worker still holds the old one as the model changes.
#[derive(Debug, Default, Clone)]
pub struct Model {
    pub description: String,
    pub workflow_id: String,
    pub attempt: i64,
    /// The run id came from the flags or the source (commit refuses a placeholder).
    pub run_id_known: bool,
    /// Every report file (for re-reading a case while the run loads): listed before the
    /// load starts, or added as folded when the run is still downloading.
    pub reports: Arc<Vec<ReportFile>>,
    /// Files folded so far; the run's own once loaded.
    files: Vec<FileInfo>,
    notable: Vec<CaseBrief>,
    problems: Vec<Problem>,
    partial_totals: Totals,
    pub run: Option<Arc<LoadedRun>>,
    pub jobs: Vec<JobRow>,
    pub invoking: Vec<InvokingRow>,
    /// Job label by job id text.
    pub job_labels: HashMap<String, String>,
    /// Display text of each interned value of the case table (class and file names).
    value_text: Vec<String>,
    /// Brief index by (file index, ordinal): the message of a failed table row.
    brief_of: HashMap<(u32, u32), u32>,
    /// Files by job id text, and by invoking file, in first-seen order (drill-downs).
    pub job_of_file: Vec<u32>,
    pub invoking_of_file: Vec<u32>,
    /// Clusters, attempts and the comparison with the base run, once computed.
    pub triage: Option<Arc<Triage>>,
    /// The base run, when one was asked for and has loaded.
    pub base: Option<Arc<LoadedRun>>,
}

impl Model {
    pub fn new(
        description: String,
        workflow_id: String,
        attempt: i64,
        reports: Vec<ReportFile>,
    ) -> Self {
        Self {
            description,
            workflow_id,
            attempt,
            reports: Arc::new(reports),
            ..Self::default()
        }
    }

    pub fn loaded(&self) -> bool {
        self.run.is_some()
    }

    pub fn files(&self) -> &[FileInfo] {
        self.run.as_ref().map_or(&self.files, |r| &r.files)
    }

    pub fn notable(&self) -> &[CaseBrief] {
        self.run.as_ref().map_or(&self.notable, |r| &r.notable)
    }

    pub fn problems(&self) -> &[Problem] {
        self.run.as_ref().map_or(&self.problems, |r| &r.problems)
    }

    pub fn totals(&self) -> Totals {
        self.run.as_ref().map_or(self.partial_totals, |r| r.totals)
    }

    /// Listing problems known before any file is parsed.
    pub fn add_problems(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.problems.extend(problems);
    }

    /// Files folded while loading.
    pub fn add_folded(&mut self, f: Folded) {
        let t = &mut self.partial_totals;
        for info in &f.files {
            t.files += 1;
            t.bytes += info.bytes;
            t.cases += info.cases;
            if info.error.is_some() {
                t.bad_files += 1;
            }
        }
        for b in &f.notable {
            match b.status {
                CaseStatus::Failure => t.failures += 1,
                CaseStatus::Error => t.errors += 1,
                _ => {}
            }
            if b.reruns > 0 {
                t.reruns += 1;
            }
        }
        self.files.extend(f.files);
        self.notable.extend(f.notable);
        self.problems.extend(f.problems);
        if !f.reports.is_empty() {
            Arc::make_mut(&mut self.reports).extend(f.reports);
        }
    }

    /// The whole run is in: derive the grouped rows.
    pub fn finish(&mut self, run: Arc<LoadedRun>) {
        // What the load showed so far is in `run` too. Freeing tens of thousands of small
        // strings takes milliseconds: another thread does it, off the key handler's.
        let partial = (
            std::mem::take(&mut self.files),
            std::mem::take(&mut self.notable),
            std::mem::take(&mut self.problems),
        );
        // (Should no thread start, the closure and what it holds are dropped right here.)
        let _ = std::thread::Builder::new().spawn(move || drop(partial));
        self.workflow_id.clone_from(&run.workflow_id);
        self.attempt = run.attempt;
        self.job_labels = jobs::labels(
            run.files
                .iter()
                .map(|f| (&f.job_id, f.rel.split('/').next().unwrap_or(""))),
            &run.job_names,
        );
        let cases = &run.cases;
        self.value_text = (0..)
            .map_while(|id| cases.values.get(id))
            .map(display_value)
            .collect();
        self.brief_of = run
            .notable
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.file_index as u32, b.ordinal as u32), i as u32))
            .collect();

        // Jobs and invoking files in first-seen order.
        let mut job_index: HashMap<String, u32> = HashMap::new();
        let mut inv_index: HashMap<String, u32> = HashMap::new();
        self.jobs.clear();
        self.invoking.clear();
        self.job_of_file = Vec::with_capacity(run.files.len());
        self.invoking_of_file = Vec::with_capacity(run.files.len());
        // Files of a job come together: the last job is checked before any lookup.
        let mut last_job: Option<(&Value, u32)> = None;
        for f in &run.files {
            let j = match last_job {
                Some((id, j)) if *id == f.job_id => j,
                _ => {
                    let first = f.rel.split_once('/').map_or(f.rel.as_str(), |(a, _)| a);
                    let id = display_value(&f.job_id);
                    match job_index.get(&id) {
                        Some(&j) => j,
                        None => {
                            let parts = jobs::artifact_parts(first);
                            self.jobs.push(JobRow {
                                name: self.job_labels.get(&id).cloned().unwrap_or_default(),
                                config: parts
                                    .as_ref()
                                    .map(|p| p.config.clone())
                                    .unwrap_or_default(),
                                shard: parts
                                    .as_ref()
                                    .map(|p| format!("{}/{}", p.shard, p.num_shards))
                                    .unwrap_or_default(),
                                runner: parts.map(|p| p.runner).unwrap_or_default(),
                                id: id.clone(),
                                counts: Counts::default(),
                            });
                            let j = (self.jobs.len() - 1) as u32;
                            job_index.insert(id, j);
                            j
                        }
                    }
                }
            };
            last_job = Some((&f.job_id, j));
            // The folder holding the report (meta::invoking_file of its path's components).
            let mut parts = f.rel.rsplitn(3, '/');
            let inv = parts.nth(1).unwrap_or("");
            let i = match inv_index.get(inv) {
                Some(&i) => i,
                None => {
                    self.invoking.push(InvokingRow {
                        name: inv.to_string(),
                        counts: Counts::default(),
                    });
                    let i = (self.invoking.len() - 1) as u32;
                    inv_index.insert(inv.to_string(), i);
                    i
                }
            };
            self.job_of_file.push(j);
            self.invoking_of_file.push(i);
            self.jobs[j as usize].counts.add_file(f);
            self.invoking[i as usize].counts.add_file(f);
        }
        self.run = Some(run);
    }

    /// The job label of a report file.
    pub fn job_of(&self, file_index: usize) -> &str {
        self.files()
            .get(file_index)
            .and_then(|f| self.job_labels.get(&display_value(&f.job_id)))
            .map_or("", String::as_str)
    }

    /// A failed or rerun case from the briefs.
    pub fn brief_line(&self, i: u32) -> CaseLine<'_> {
        let b = &self.notable()[i as usize];
        CaseLine {
            file_index: b.file_index as u32,
            ordinal: b.ordinal as u32,
            status: b.status,
            reruns: b.retried(),
            classname: Cow::Borrowed(&b.classname),
            name: Cow::Borrowed(&b.name),
            time: b.time,
            message: &b.message,
            job: self.job_label_fast(b.file_index),
        }
    }

    /// Any case of the loaded run, by case-table row.
    pub fn table_line(&self, row: u32) -> CaseLine<'_> {
        let run = self.run.as_ref().expect("table rows exist once loaded");
        let cases = &run.cases;
        let r = row as usize;
        let (file_index, ordinal) = (cases.file_index[r], cases.ordinal(r));
        let flags = cases.flags[r];
        let brief = self
            .brief_of
            .get(&(file_index, ordinal))
            .map(|&i| &run.notable[i as usize]);
        CaseLine {
            file_index,
            ordinal,
            status: status_of(flags),
            reruns: brief.map_or(
                usize::from(flags & (flag::RERUN | flag::RETRIED) != 0),
                CaseBrief::retried,
            ),
            classname: self.value_str(cases.classname[r]),
            name: match cases.name_str(r) {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(display_value(&cases.name_or(r, ""))),
            },
            time: (flags & flag::NO_TIME == 0).then_some(cases.time[r]),
            message: brief.map_or("", |b| b.message.as_str()),
            job: self.job_label_fast(file_index as usize),
        }
    }

    /// The comparison with the base run, once computed.
    pub fn comparison(&self) -> Option<&Comparison> {
        self.triage.as_ref()?.comparison.as_ref()
    }

    /// The tests the Compare view lists.
    pub fn compared(&self) -> &[Compared] {
        self.comparison().map_or(&[], |c| c.tests.as_slice())
    }

    /// The failure clusters, once computed.
    pub fn clusters(&self) -> &[Cluster] {
        self.triage
            .as_ref()
            .map_or(&[], |t| t.clusters.clusters.as_slice())
    }

    /// The brief (index into the notable cases) of a case-table row, if it has one.
    pub fn brief_of_row(&self, row: u32) -> Option<u32> {
        let cases = &self.run.as_ref()?.cases;
        let r = row as usize;
        self.brief_of
            .get(&(cases.file_index[r], cases.ordinal(r)))
            .copied()
    }

    /// The cluster of brief `i`.
    pub fn cluster_of_brief(&self, i: u32) -> Option<&Cluster> {
        self.triage.as_ref()?.clusters.of(i as usize)
    }

    /// The verdict of the case at (file index, ordinal) against the base run.
    pub fn verdict_of(&self, file_index: u32, ordinal: u32) -> Option<Verdict> {
        let run = self.run.as_ref()?;
        let row = run.cases_row(file_index as usize, ordinal as usize)?;
        self.comparison()?.verdict_of_row(row)
    }

    /// The repro command of failing brief `i`, and whether the report wrote it.
    pub fn repro_of_brief(&self, i: u32) -> Option<(String, bool)> {
        let run = self.run.as_ref()?;
        let b = run.notable.get(i as usize)?;
        is_failing(b).then(|| repro_of(run, b))
    }

    fn job_label_fast(&self, file_index: usize) -> &str {
        match self.job_of_file.get(file_index) {
            Some(&j) => &self.jobs[j as usize].name,
            None => self.job_of(file_index),
        }
    }

    /// Display text of an interned value ("" when absent).
    pub fn value_str(&self, id: u32) -> Cow<'_, str> {
        Cow::Borrowed(self.value_text.get(id as usize).map_or("", String::as_str))
    }

    /// Case-table rows matching a summary row: same file and class values (by display text)
    /// in files of the same job and invoking file.
    pub fn cases_of_summary(&self, i: usize) -> Vec<u32> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let row = &run.summary[i];
        let text = |v: &Value| display_value(v);
        let (job, inv) = (text(&row.job_id), text(&row.invoking_file));
        let file_ok: Vec<bool> = run
            .files
            .iter()
            .map(|f| {
                let comps: Vec<&str> = f.rel.split('/').collect();
                display_value(&f.job_id) == job && meta::invoking_file(&comps) == inv
            })
            .collect();
        let want = |v: &Value| text(v);
        let (file, class) = (want(&row.file), want(&row.classname));
        let value_ok =
            |target: &str| -> Vec<bool> { self.value_text.iter().map(|t| t == target).collect() };
        let (file_vals, class_vals) = (value_ok(&file), value_ok(&class));
        let absent_ok = |target: &str, v: &Value| target.is_empty() && matches!(v, Value::Null);
        let cases = &run.cases;
        (0..cases.len() as u32)
            .filter(|&r| {
                let r = r as usize;
                let fid = cases.file[r];
                let cid = cases.classname[r];
                file_ok[cases.file_index[r] as usize]
                    && file_vals
                        .get(fid as usize)
                        .copied()
                        .unwrap_or_else(|| absent_ok(&file, &row.file))
                    && class_vals
                        .get(cid as usize)
                        .copied()
                        .unwrap_or_else(|| absent_ok(&class, &row.classname))
            })
            .collect()
    }

    /// Case-table rows of the files whose group (by `group_of_file`) is `group`.
    pub fn cases_of_group(&self, group_of_file: &[u32], group: u32) -> Vec<u32> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let cases = &run.cases;
        (0..cases.len() as u32)
            .filter(|&r| group_of_file.get(cases.file_index[r as usize] as usize) == Some(&group))
            .collect()
    }
}
