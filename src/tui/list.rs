//! The lists every view is made of: their columns, the text of a cell, and the one function
//! that turns a list's items into what is shown (quick status filter, fuzzy filter, sort).
//! It is pure, so it runs on the UI thread for small lists and on a worker for big ones.

use std::borrow::Cow;
use std::cmp::Ordering;

use fuzzy_matcher::skim::SkimMatcherV2;

use super::model::{CaseLine, Counts, Model};
use crate::report::Value;
use crate::run::display_value;
use crate::stats::CaseStatus;

/// What a list's items index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `test_run_summary` rows.
    Summary,
    /// Failed and rerun cases (briefs: known while loading).
    Briefs,
    /// Rows of the case table (every case; drill-downs).
    Cases,
    Jobs,
    Files,
    Problems,
    /// Objects of the upload plan.
    Upload,
    /// Failure clusters.
    Clusters,
    /// Tests against the base run.
    Compare,
}

/// How wide a column is: fixed cells, or a share of what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Fixed(u16),
    Fill(u16),
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub width: Width,
    pub numeric: bool,
}

const fn text(title: &'static str, width: Width) -> Column {
    Column {
        title,
        width,
        numeric: false,
    }
}

const fn num(title: &'static str, width: u16) -> Column {
    Column {
        title,
        width: Width::Fixed(width),
        numeric: true,
    }
}

use Width::{Fill, Fixed};

const SUMMARY: &[Column] = &[
    text("File", Fill(2)),
    text("Class", Fill(3)),
    text("Job", Fill(2)),
    text("Invoking file", Fill(2)),
    num("Tests", 7),
    num("Fail", 6),
    num("Err", 5),
    num("Skip", 6),
    num("Pass", 7),
    num("Time", 9),
];
const CASES: &[Column] = &[
    text("Status", Fixed(7)),
    num("Reruns", 6),
    text("Class", Fill(2)),
    text("Name", Fill(3)),
    text("Job", Fill(2)),
    num("Time", 8),
    text("Message", Fill(3)),
    text("Triage", Fill(1)),
];
const JOBS: &[Column] = &[
    text("Job id", Fixed(12)),
    text("Name", Fill(3)),
    text("Config", Fill(1)),
    text("Shard", Fixed(6)),
    text("Runner", Fill(1)),
    num("Files", 6),
    num("Tests", 7),
    num("Fail", 6),
    num("Err", 5),
    num("Skip", 6),
    num("Reruns", 6),
    num("Time", 9),
];
const FILES: &[Column] = &[
    text("Invoking file", Fill(3)),
    num("Files", 6),
    num("Tests", 7),
    num("Fail", 6),
    num("Err", 5),
    num("Skip", 6),
    num("Reruns", 6),
    num("Time", 9),
];
const PROBLEMS: &[Column] = &[
    text("Kind", Fixed(12)),
    text("File", Fill(2)),
    text("Message", Fill(3)),
];
const CLUSTERS: &[Column] = &[
    num("Cases", 7),
    num("Tests", 6),
    num("Jobs", 5),
    num("Configs", 8),
    num("New", 5),
    text("First seen", Fill(1)),
    text("Signature", Fill(4)),
];
const COMPARE: &[Column] = &[
    text("Verdict", Fixed(16)),
    text("Config", Fill(2)),
    text("Class", Fill(2)),
    text("Name", Fill(3)),
    text("Jobs", Fill(2)),
    text("Base jobs", Fill(2)),
    text("Message", Fill(3)),
];
const UPLOAD: &[Column] = &[
    text("Collection", Fixed(26)),
    text("Bucket / key", Fill(3)),
    num("Documents", 10),
    num("Bytes", 10),
    num("Gzip", 10),
    text("Result", Fill(1)),
];

impl ListKind {
    pub fn columns(self) -> &'static [Column] {
        match self {
            Self::Summary => SUMMARY,
            Self::Briefs | Self::Cases => CASES,
            Self::Jobs => JOBS,
            Self::Files => FILES,
            Self::Problems => PROBLEMS,
            Self::Upload => UPLOAD,
            Self::Clusters => CLUSTERS,
            Self::Compare => COMPARE,
        }
    }

    pub fn is_cases(self) -> bool {
        matches!(self, Self::Briefs | Self::Cases)
    }
}

/// One object of the upload plan as the Upload view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub collection: String,
    pub location: String,
    pub documents: u64,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
    pub result: String,
}

/// What lists read: the run model, and the upload plan once computed.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub model: &'a Model,
    pub plan: &'a [PlanRow],
}

/// Quick status filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    /// Cases that failed or errored; groups with any.
    Failing,
    /// Cases that passed after reruns.
    Flaky,
    Skipped,
    Passed,
}

impl StatusFilter {
    pub fn label(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Failing => "failing",
            Self::Flaky => "flaky",
            Self::Skipped => "skipped",
            Self::Passed => "passed",
        }
    }

    /// The next filter a list of `kind` offers.
    pub fn next(self, kind: ListKind) -> Self {
        if kind.is_cases() {
            match self {
                Self::All => Self::Failing,
                Self::Failing => Self::Flaky,
                Self::Flaky => Self::Skipped,
                Self::Skipped => Self::Passed,
                Self::Passed => Self::All,
            }
        } else if matches!(kind, ListKind::Summary | ListKind::Jobs | ListKind::Files) {
            match self {
                Self::All => Self::Failing,
                _ => Self::All,
            }
        } else {
            Self::All
        }
    }

    fn keeps_case(self, c: &CaseLine<'_>) -> bool {
        match self {
            Self::All => true,
            Self::Failing => matches!(c.status, CaseStatus::Failure | CaseStatus::Error),
            Self::Flaky => c.reruns > 0 && c.status == CaseStatus::Success,
            Self::Skipped => c.status == CaseStatus::Skipped,
            Self::Passed => c.status == CaseStatus::Success,
        }
    }

    fn keeps_counts(self, failures: u64, errors: u64) -> bool {
        match self {
            Self::Failing => failures + errors > 0,
            _ => true,
        }
    }
}

/// Sort by a column, ascending or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

impl<'a> Data<'a> {
    pub fn case(&self, kind: ListKind, item: u32) -> CaseLine<'a> {
        match kind {
            ListKind::Briefs => self.model.brief_line(item),
            _ => self.model.table_line(item),
        }
    }

    /// A case's triage cell: its verdict against the base run (when one is loaded) and its
    /// failure cluster.
    fn triage_text(&self, kind: ListKind, item: u32, c: &CaseLine<'_>) -> String {
        let m = self.model;
        let brief = match kind {
            ListKind::Briefs => Some(item),
            _ => m.brief_of_row(item),
        };
        let verdict = m.verdict_of(c.file_index, c.ordinal).map(|v| v.name());
        let cluster = brief
            .and_then(|b| m.cluster_of_brief(b))
            .map(|c| c.id.as_str());
        match (verdict, cluster) {
            (Some(v), Some(c)) => format!("{v} {c}"),
            (Some(v), None) => v.to_string(),
            (None, Some(c)) => c.to_string(),
            (None, None) => String::new(),
        }
    }

    /// How many of a cluster's cases are new failures against the base run.
    pub fn cluster_new(&self, c: &crate::triage::clusters::Cluster) -> Option<usize> {
        let m = self.model;
        m.comparison()?;
        Some(
            c.members
                .iter()
                .filter(|&&b| {
                    let l = m.brief_line(b);
                    m.verdict_of(l.file_index, l.ordinal)
                        .is_some_and(crate::triage::summary::is_new)
                })
                .count(),
        )
    }

    /// The text of every cell of a row, as shown (not yet made inert).
    pub fn cells(&self, kind: ListKind, item: u32) -> Vec<Cow<'a, str>> {
        let m = self.model;
        let i = item as usize;
        let n = |v: u64| Cow::Owned(v.to_string());
        let secs = |t: f64| Cow::Owned(format!("{t:.2}"));
        let counts = |c: &Counts| {
            [
                n(c.files),
                n(c.tests),
                n(c.failures),
                n(c.errors),
                n(c.skipped),
                n(c.reruns),
                secs(c.time),
            ]
        };
        match kind {
            ListKind::Summary => {
                let run = m.run.as_ref().expect("summary rows exist once loaded");
                let r = &run.summary[i];
                let job = display_value(&r.job_id);
                vec![
                    Cow::Owned(display_value(&r.file)),
                    Cow::Owned(display_value(&r.classname)),
                    Cow::Owned(m.job_labels.get(&job).cloned().unwrap_or(job)),
                    Cow::Owned(display_value(&r.invoking_file)),
                    n(r.tests),
                    n(r.failures),
                    n(r.errors),
                    n(r.skipped),
                    n(r.successes),
                    secs(r.time),
                ]
            }
            ListKind::Briefs | ListKind::Cases => {
                let c = self.case(kind, item);
                let triage = self.triage_text(kind, item, &c);
                vec![
                    Cow::Borrowed(c.outcome()),
                    if c.reruns > 0 {
                        n(c.reruns as u64)
                    } else {
                        Cow::Borrowed("")
                    },
                    c.classname,
                    c.name,
                    Cow::Borrowed(c.job),
                    c.time.map_or(Cow::Borrowed("-"), secs),
                    Cow::Borrowed(c.message),
                    Cow::Owned(triage),
                ]
            }
            ListKind::Clusters => {
                let c = &m.clusters()[i];
                vec![
                    n(c.cases() as u64),
                    n(c.tests as u64),
                    n(c.jobs as u64),
                    n(c.configs as u64),
                    Cow::Owned(self.cluster_new(c).map_or(String::new(), |n| n.to_string())),
                    Cow::Borrowed(c.members.first().map_or("", |&b| m.brief_line(b).job)),
                    Cow::Borrowed(if c.signature.is_empty() {
                        "(no type, message or text)"
                    } else {
                        c.signature.as_str()
                    }),
                ]
            }
            ListKind::Compare => {
                let t = &m.compared()[i];
                let message = t
                    .head
                    .row
                    .and_then(|r| m.brief_of_row(r))
                    .map_or("", |b| m.notable()[b as usize].message.as_str());
                vec![
                    Cow::Borrowed(t.verdict.name()),
                    Cow::Borrowed(t.key.config.as_str()),
                    Cow::Borrowed(t.key.classname.as_str()),
                    Cow::Borrowed(t.key.name.as_str()),
                    Cow::Owned(t.head.jobs.join(", ")),
                    Cow::Owned(t.base.jobs.join(", ")),
                    Cow::Borrowed(message),
                ]
            }
            ListKind::Jobs => {
                let j = &m.jobs[i];
                let mut v = vec![
                    Cow::Borrowed(j.id.as_str()),
                    Cow::Borrowed(j.name.as_str()),
                    Cow::Borrowed(j.config.as_str()),
                    Cow::Borrowed(j.shard.as_str()),
                    Cow::Borrowed(j.runner.as_str()),
                ];
                v.extend(counts(&j.counts));
                v
            }
            ListKind::Files => {
                let f = &m.invoking[i];
                let name = if f.name.is_empty() {
                    Cow::Borrowed("(top level)")
                } else {
                    Cow::Borrowed(f.name.as_str())
                };
                let mut v = vec![name];
                v.extend(counts(&f.counts));
                v
            }
            ListKind::Problems => {
                let p = &m.problems()[i];
                vec![
                    Cow::Borrowed(p.kind.label()),
                    Cow::Borrowed(p.file.as_str()),
                    Cow::Borrowed(p.message.as_str()),
                ]
            }
            ListKind::Upload => {
                let p = &self.plan[i];
                vec![
                    Cow::Borrowed(p.collection.as_str()),
                    Cow::Borrowed(p.location.as_str()),
                    n(p.documents),
                    n(p.raw_bytes),
                    n(p.gzip_bytes),
                    Cow::Borrowed(p.result.as_str()),
                ]
            }
        }
    }

    /// The text the fuzzy filter matches a row against.
    pub fn haystack(&self, kind: ListKind, item: u32, out: &mut String) {
        out.clear();
        match kind {
            ListKind::Briefs | ListKind::Cases => {
                let c = self.case(kind, item);
                if !c.classname.is_empty() {
                    out.push_str(&c.classname);
                    out.push_str("::");
                }
                out.push_str(&c.name);
                if !c.message.is_empty() {
                    out.push(' ');
                    out.push_str(c.message);
                }
            }
            ListKind::Summary => {
                // The text columns, as `cells` shows them, without formatting the numbers.
                let m = self.model;
                let r = &m
                    .run
                    .as_ref()
                    .expect("summary rows exist once loaded")
                    .summary[item as usize];
                let job = display_value(&r.job_id);
                let job = m.job_labels.get(&job).unwrap_or(&job);
                for text in [
                    &display_value(&r.file),
                    &display_value(&r.classname),
                    job,
                    &display_value(&r.invoking_file),
                ] {
                    out.push_str(text);
                    out.push(' ');
                }
            }
            _ => {
                for (cell, col) in self.cells(kind, item).iter().zip(kind.columns()) {
                    if !col.numeric {
                        out.push_str(cell);
                        out.push(' ');
                    }
                }
            }
        }
    }

    fn keeps(&self, kind: ListKind, item: u32, status: StatusFilter) -> bool {
        if status == StatusFilter::All {
            return true;
        }
        let m = self.model;
        let i = item as usize;
        match kind {
            ListKind::Briefs | ListKind::Cases => status.keeps_case(&self.case(kind, item)),
            ListKind::Summary => {
                let r = &m.run.as_ref().expect("loaded").summary[i];
                status.keeps_counts(r.failures, r.errors)
            }
            ListKind::Jobs => {
                let c = &m.jobs[i].counts;
                status.keeps_counts(c.failures, c.errors)
            }
            ListKind::Files => {
                let c = &m.invoking[i].counts;
                status.keeps_counts(c.failures, c.errors)
            }
            ListKind::Problems | ListKind::Upload | ListKind::Clusters | ListKind::Compare => true,
        }
    }

    fn sort_key(&self, kind: ListKind, item: u32, column: usize) -> Key<'a> {
        let col = kind.columns()[column];
        if kind.is_cases() {
            let c = self.case(kind, item);
            return match column {
                0 => Key::Num(c.status as u8 as f64),
                1 => Key::Num(c.reruns as f64),
                2 => Key::Text(c.classname),
                3 => Key::Text(c.name),
                4 => Key::Text(Cow::Borrowed(c.job)),
                5 => Key::Num(c.time.unwrap_or(f64::NEG_INFINITY)),
                6 => Key::Text(Cow::Borrowed(c.message)),
                _ => Key::Text(Cow::Owned(self.triage_text(kind, item, &c))),
            };
        }
        // Summary rows are sorted on the UI thread (16 ms budget): their strings are borrowed
        // and their counts read rather than formatted, in the order the cells would give.
        if matches!(kind, ListKind::Summary)
            && let Some(run) = self.model.run.as_ref()
        {
            let r = &run.summary[item as usize];
            let text = |v: &'a Value| match v {
                Value::Str(s) => Key::Text(Cow::Borrowed(s.as_str())),
                other => Key::Text(Cow::Owned(display_value(other))),
            };
            match column {
                0 => return text(&r.file),
                1 => return text(&r.classname),
                3 => return text(&r.invoking_file),
                4 => return Key::Num(r.tests as f64),
                5 => return Key::Num(r.failures as f64),
                6 => return Key::Num(r.errors as f64),
                7 => return Key::Num(r.skipped as f64),
                8 => return Key::Num(r.successes as f64),
                // As shown: rounded to hundredths.
                9 => {
                    let shown = format!("{:.2}", r.time);
                    return Key::Num(shown.parse().unwrap_or(f64::NEG_INFINITY));
                }
                _ => {}
            }
        }
        let cell = self.cells(kind, item).swap_remove(column);
        if col.numeric {
            Key::Num(cell.parse().unwrap_or(f64::NEG_INFINITY))
        } else {
            Key::Text(cell)
        }
    }
}

enum Key<'a> {
    Num(f64),
    Text(Cow<'a, str>),
}

impl Key<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Num(a), Self::Num(b)) => a.total_cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            (Self::Num(_), Self::Text(_)) => Ordering::Less,
            (Self::Text(_), Self::Num(_)) => Ordering::Greater,
        }
    }
}

/// A fresh matcher as every list uses it (smart case: lower-case queries ignore case).
pub fn matcher() -> SkimMatcherV2 {
    SkimMatcherV2::default().smart_case()
}

/// Whether skim's smart-case fuzzy match accepts `hay`: the query's characters appear in
/// order (ignoring case unless the query has an upper-case letter). The filter only needs
/// yes or no, and this skips the scoring table the matcher builds (most of the filter's time
/// in `cargo bench --bench tui`); the matched characters are still highlighted by the matcher.
pub fn matches(hay: &str, query: &str) -> bool {
    let sensitive = query.chars().any(char::is_uppercase);
    if query.is_ascii() {
        // Bytes: a multi-byte character never equals an ASCII byte.
        let mut want = query.bytes().peekable();
        for h in hay.bytes() {
            let Some(&q) = want.peek() else { break };
            if h == q || !sensitive && h.to_ascii_lowercase() == q {
                want.next();
            }
        }
        return want.peek().is_none();
    }
    let mut want = query.chars().peekable();
    for h in hay.chars() {
        let Some(&q) = want.peek() else { break };
        let same = if sensitive {
            h == q
        } else {
            h == q || h.to_lowercase().eq(q.to_lowercase())
        };
        if same {
            want.next();
        }
    }
    want.peek().is_none()
}

/// Items shown for `base` under the given filters and sort, in order; None when `stale`
/// said a newer request replaced this one. Large lists are filtered on every core.
pub fn compute(
    data: Data<'_>,
    kind: ListKind,
    base: &[u32],
    query: &str,
    status: StatusFilter,
    sort: Option<Sort>,
    stale: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u32>> {
    let query = query.trim();
    let keep = |chunk: &[u32]| -> Option<Vec<u32>> {
        let mut hay = String::new();
        let mut out = Vec::new();
        for (n, &item) in chunk.iter().enumerate() {
            if n % 4096 == 0 && stale() {
                return None;
            }
            if !data.keeps(kind, item, status) {
                continue;
            }
            if !query.is_empty() {
                data.haystack(kind, item, &mut hay);
                if !matches(&hay, query) {
                    continue;
                }
            }
            out.push(item);
        }
        Some(out)
    };
    let mut shown = if query.is_empty() && status == StatusFilter::All {
        // Everything is kept: a copy (a million items in a millisecond).
        if stale() {
            return None;
        }
        base.to_vec()
    } else if base.len() < 50_000 {
        keep(base)?
    } else {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let size = base.len().div_ceil(threads);
        let parts: Vec<Option<Vec<u32>>> = std::thread::scope(|s| {
            let keep = &keep;
            let handles: Vec<_> = base
                .chunks(size)
                .map(|chunk| s.spawn(move || keep(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("filtering does not panic"))
                .collect()
        });
        let mut all = Vec::with_capacity(base.len());
        for part in parts {
            all.extend(part?);
        }
        all
    };
    if let Some(sort) = sort {
        if stale() {
            return None;
        }
        let mut keyed: Vec<(Key<'_>, u32)> = shown
            .iter()
            .map(|&i| (data.sort_key(kind, i, sort.column), i))
            .collect();
        keyed.sort_by(|a, b| {
            let o = a.0.cmp(&b.0);
            if sort.descending { o.reverse() } else { o }
        });
        shown = keyed.into_iter().map(|(_, i)| i).collect();
    }
    Some(shown)
}

#[cfg(test)]
mod tests {
    use fuzzy_matcher::FuzzyMatcher;

    use super::*;

    #[test]
    fn matches_agrees_with_the_matcher() {
        let m = matcher();
        let hays = [
            "TestSerializeCPU::test_showcase_long_traceback",
            "torch._dynamo.exc.Unsupported",
            "test_中文_テスト_名前 résumé",
            "",
        ];
        let queries = [
            "longtrace",
            "LongTrace",
            "tsct",
            "Tsct",
            "中テ",
            "RÉSUMÉ",
            "xyz",
            "ll",
            "é",
        ];
        for h in hays {
            for q in queries {
                assert_eq!(
                    matches(h, q),
                    m.fuzzy_match(h, q).is_some(),
                    "{h:?} / {q:?}"
                );
            }
        }
    }
}
