//! A run against a base run, per test: every test's state in each run (from all its
//! occurrences, whichever job or report file they come from) and the verdict that says
//! whether this run's change caused it ([`super::verdict`]).
//!
//! Tests are matched by [`TestKey`] (config, invoking file, classname, name), so a test that
//! moved shard between the runs is still the same test. Keys are hashed to 64 bits per case
//! (two of a million distinct tests share a hash about once in thirty million runs) and both
//! runs' (key, case) pairs sorted, then walked together: no map of a million strings is
//! built, which keeps two PyTorch-sized runs well within memory.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::disabled::{Disabled, DisabledTests};
use super::identity::{TestKey, config_of_job_name, config_of_label, parse_artifact_name};
use super::verdict::{Occurrence, Outcome, State, StateAcc, Verdict};
use crate::report::{Value, meta};
use crate::run::{LoadedRun, display_value};
use crate::stats::cases::flag;

/// What one run says about a test.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub state: State,
    /// Its occurrences (testcase elements) in the run.
    pub occurrences: u32,
    /// The case that stands for it: the first failing occurrence, else the first one
    /// (a row of the run's case table).
    pub row: Option<u32>,
    /// Labels of the jobs it ran in, in run order.
    pub jobs: Vec<String>,
    /// Occurrences with retries (`rerun`, `flakyFailure`, `rerunFailure`, ...).
    pub retried: u32,
}

impl Side {
    fn absent() -> Self {
        Self {
            state: State::Absent,
            occurrences: 0,
            row: None,
            jobs: Vec::new(),
            retried: 0,
        }
    }
}

/// One test whose verdict is worth a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub key: TestKey,
    pub verdict: Verdict,
    pub head: Side,
    pub base: Side,
    /// Listed in PyTorch's disabled tests for one of its jobs.
    pub disabled: Option<Disabled>,
    /// A report of the same config and invoking file could not be read in the other run,
    /// so this verdict may be wrong.
    pub maybe_affected: bool,
}

impl Compared {
    /// `classname::name` (the name alone when there is no class).
    pub fn test_id(&self) -> String {
        if self.key.classname.is_empty() {
            self.key.name.clone()
        } else {
            format!("{}::{}", self.key.classname, self.key.name)
        }
    }

    /// The jobs it ran in: this run's, else the base's (a missing test).
    pub fn jobs(&self) -> &[String] {
        if self.head.jobs.is_empty() {
            &self.base.jobs
        } else {
            &self.head.jobs
        }
    }

    /// This run's failed or retried case that stands for the test, if it has one.
    pub fn head_brief<'r>(&self, run: &'r LoadedRun) -> Option<&'r crate::run::CaseBrief> {
        let i = super::summary::brief_of_row(run, self.head.row?)?;
        run.notable.get(i)
    }

    /// What qualifies the verdict, for a reader: a disabled issue, an unreadable report.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(d) = &self.disabled {
            notes.push(format!("disabled: {}", d.url));
        }
        if self.maybe_affected {
            notes.push("maybe affected: a report was unreadable in the other run".into());
        }
        notes
    }
}

/// The comparison of two runs.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Tests per verdict, in [`Verdict::ALL`] order.
    pub counts: [u64; 8],
    /// Every test whose verdict is neither `unchanged` nor `new_test`, in verdict order.
    pub tests: Vec<Compared>,
    /// Verdict of each case of the head run, by case-table row (index into [`Verdict::ALL`]).
    pub row_verdicts: Vec<u8>,
    /// Configs seen in each run, and in both.
    pub head_configs: usize,
    pub base_configs: usize,
    pub shared_configs: usize,
    /// What the reader must know before trusting the verdicts.
    pub warnings: Vec<String>,
    /// Where the base came from.
    pub base_description: String,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> u64 {
        self.counts[v as usize]
    }

    /// The verdict of head case `row`.
    pub fn verdict_of_row(&self, row: usize) -> Option<Verdict> {
        self.row_verdicts
            .get(row)
            .map(|&v| Verdict::ALL[v as usize])
    }
}

/// Per report file: its config label and invoking file, and the seed its cases' keys start
/// from.
struct FileKey {
    config: String,
    invoking: String,
    job: String,
    seed: u64,
}

/// The config a report's cases belong to: its job's GitHub name without the shard part, else
/// a label from its artifact's name, else the artifact name itself.
pub fn config_of_file(run: &LoadedRun, file: usize) -> String {
    if let Value::Int(id) = run.files[file].job_id
        && let Some(name) = run.job_names.get(&id)
    {
        return config_of_job_name(name);
    }
    let first = run.files[file].rel.split('/').next().unwrap_or("");
    match parse_artifact_name(first) {
        Some(label) => config_of_label(&label),
        None => first.strip_prefix("unzipped-").unwrap_or(first).to_string(),
    }
}

fn file_keys(run: &LoadedRun) -> Vec<FileKey> {
    let labels = crate::jobs::labels(
        run.files
            .iter()
            .map(|f| (&f.job_id, f.rel.split('/').next().unwrap_or(""))),
        &run.job_names,
    );
    (0..run.files.len())
        .map(|i| {
            let config = config_of_file(run, i);
            let invoking = run
                .reports
                .get(i)
                .map(|r| meta::invoking_file(r.rel.components()).to_string())
                .unwrap_or_default();
            let job_text = display_value(&run.files[i].job_id);
            let job = labels.get(&job_text).cloned().unwrap_or(job_text);
            let mut buf = Vec::with_capacity(config.len() + invoking.len() + 1);
            buf.extend_from_slice(config.as_bytes());
            buf.push(0);
            buf.extend_from_slice(invoking.as_bytes());
            FileKey {
                seed: xxh3_64(&buf),
                config,
                invoking,
                job,
            }
        })
        .collect()
}

/// A run's cases as (key hash, row), sorted by key, and what is needed to name them.
pub struct Keyed {
    files: Vec<FileKey>,
    /// (key, row) by key, then row.
    pairs: Vec<(u64, u32)>,
}

impl Keyed {
    /// The rows of each test reported more than once, in run order: all of a key's rows
    /// (a test's occurrences in its config).
    pub fn groups(&self) -> impl Iterator<Item = &[(u64, u32)]> {
        self.pairs
            .chunk_by(|a, b| a.0 == b.0)
            .filter(|g| g.len() > 1)
    }
}

/// Key every case of `run` ([`TestKey`] hashed), sorted by key.
pub fn keyed(run: &LoadedRun) -> Keyed {
    let files = file_keys(run);
    let cases = &run.cases;
    // Hashed and sorted in slices on every core, then merged: this is most of triage's time
    // on a big run (`bench/tui.sh`, `bench/compare.sh`).
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let step = cases.len().div_ceil(threads.max(1)).max(1 << 14);
    let slices: Vec<Vec<(u64, u32)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cases.len())
            .step_by(step)
            .map(|start| {
                let files = &files;
                s.spawn(move || {
                    let end = (start + step).min(cases.len());
                    let mut pairs = Vec::with_capacity(end - start);
                    // Classnames repeat: each interned value is hashed once.
                    let mut class_hash: FxHashMap<u32, u64> = FxHashMap::default();
                    for row in start..end {
                        let file = &files[cases.file_index[row] as usize];
                        let class_id = cases.classname[row];
                        let class = *class_hash.entry(class_id).or_insert_with(|| {
                            let text = cases
                                .values
                                .get(class_id)
                                .map(display_value)
                                .unwrap_or_default();
                            xxh3_64_with_seed(text.as_bytes(), 0x9e37_79b9)
                        });
                        let seed = file.seed.rotate_left(23) ^ class;
                        let key = match cases.name_str(row) {
                            Some(name) => xxh3_64_with_seed(name.as_bytes(), seed),
                            None => xxh3_64_with_seed(name_text(run, row).as_bytes(), seed),
                        };
                        pairs.push((key, row as u32));
                    }
                    pairs.sort_unstable();
                    pairs
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("keying does not panic"))
            .collect()
    });
    Keyed {
        files,
        pairs: merge(slices),
    }
}

/// Sorted slices merged into one sorted vector.
fn merge(mut slices: Vec<Vec<(u64, u32)>>) -> Vec<(u64, u32)> {
    while slices.len() > 1 {
        let mut next = Vec::with_capacity(slices.len().div_ceil(2));
        let mut it = slices.into_iter();
        while let Some(a) = it.next() {
            let Some(b) = it.next() else {
                next.push(a);
                break;
            };
            let mut out = Vec::with_capacity(a.len() + b.len());
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                if a[i] <= b[j] {
                    out.push(a[i]);
                    i += 1;
                } else {
                    out.push(b[j]);
                    j += 1;
                }
            }
            out.extend_from_slice(&a[i..]);
            out.extend_from_slice(&b[j..]);
            next.push(out);
        }
        slices = next;
    }
    slices.pop().unwrap_or_default()
}

fn name_text(run: &LoadedRun, row: usize) -> String {
    match run.cases.name_str(row) {
        Some(name) => name.to_string(),
        None => display_value(&run.cases.name_or(row, "")),
    }
}

fn classname_text(run: &LoadedRun, row: usize) -> String {
    run.cases
        .values
        .get(run.cases.classname[row])
        .map(display_value)
        .unwrap_or_default()
}

fn occurrence(run: &LoadedRun, row: usize) -> Occurrence {
    let f = run.cases.flags[row];
    Occurrence {
        outcome: Outcome::of(
            f & (flag::FAILURE | flag::ERROR) != 0,
            f & flag::SKIPPED != 0,
        ),
        has_retries: f & (flag::RERUN | flag::RETRIED) != 0,
    }
}

/// One key's occurrences in one run: `pairs[start..end]`.
fn side(run: &LoadedRun, keyed: &Keyed, rows: &[(u64, u32)]) -> Side {
    let mut acc = StateAcc::default();
    let (mut first, mut failing, mut retried) = (None, None, 0);
    let mut jobs = BTreeSet::new();
    for &(_, row) in rows {
        let o = occurrence(run, row as usize);
        acc.add(o);
        first.get_or_insert(row);
        if o.outcome == Outcome::Failed {
            failing.get_or_insert(row);
        }
        retried += u32::from(o.has_retries);
        let file = run.cases.file_index[row as usize];
        jobs.insert((file, keyed.files[file as usize].job.as_str()));
    }
    // Jobs in run order, each once.
    let mut seen = BTreeSet::new();
    let jobs = jobs
        .into_iter()
        .filter(|(_, j)| seen.insert(*j))
        .map(|(_, j)| j.to_string())
        .collect();
    Side {
        state: acc.state(),
        occurrences: rows.len() as u32,
        row: failing.or(first),
        jobs,
        retried,
    }
}

fn test_key(run: &LoadedRun, keyed: &Keyed, row: u32) -> TestKey {
    let file = &keyed.files[run.cases.file_index[row as usize] as usize];
    TestKey {
        config: file.config.clone(),
        invoking_file: file.invoking.clone(),
        classname: classname_text(run, row as usize),
        name: name_text(run, row as usize),
    }
}

/// Each run's (config, invoking file) pairs with an unreadable report.
fn unreadable(run: &LoadedRun) -> std::collections::HashSet<(String, String)> {
    run.files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.error.is_some())
        .map(|(i, _)| {
            let invoking = run
                .reports
                .get(i)
                .map(|r| meta::invoking_file(r.rel.components()).to_string())
                .unwrap_or_default();
            (config_of_file(run, i), invoking)
        })
        .collect()
}

/// The state of a key from its rows, without the evidence (most keys need no more).
fn state_of(run: &LoadedRun, rows: &[(u64, u32)]) -> State {
    let mut acc = StateAcc::default();
    for &(_, row) in rows {
        acc.add(occurrence(run, row as usize));
    }
    acc.state()
}

/// What the walk over both runs' keys needs.
struct Walk<'a> {
    head: &'a LoadedRun,
    h: &'a Keyed,
    base: &'a LoadedRun,
    b: &'a Keyed,
    disabled: Option<&'a DisabledTests>,
    head_bad: &'a std::collections::HashSet<(String, String)>,
    base_bad: &'a std::collections::HashSet<(String, String)>,
}

/// What one stretch of the key space gave.
#[derive(Default)]
struct Part {
    counts: [u64; 8],
    /// Head rows whose verdict is not `unchanged`.
    rows: Vec<(u32, u8)>,
    tests: Vec<Compared>,
}

impl Walk<'_> {
    /// Walk `hp` and `bp` (both runs' keyed cases in one stretch of the key space) together.
    fn walk(&self, hp: &[(u64, u32)], bp: &[(u64, u32)]) -> Part {
        let (head, h, base, b) = (self.head, self.h, self.base, self.b);
        let mut out = Part::default();
        let (mut i, mut j) = (0, 0);
        let run_end = |pairs: &[(u64, u32)], at: usize| {
            let key = pairs[at].0;
            at + pairs[at..].iter().take_while(|p| p.0 == key).count()
        };
        while i < hp.len() || j < bp.len() {
            let hk = hp.get(i).map(|p| p.0);
            let bk = bp.get(j).map(|p| p.0);
            let (h_rows, b_rows) = match (hk, bk) {
                (Some(x), Some(y)) if x == y => {
                    let (ie, je) = (run_end(hp, i), run_end(bp, j));
                    let r = (&hp[i..ie], &bp[j..je]);
                    (i, j) = (ie, je);
                    r
                }
                (Some(x), by) if by.is_none_or(|y| x < y) => {
                    let ie = run_end(hp, i);
                    let r = (&hp[i..ie], &bp[0..0]);
                    i = ie;
                    r
                }
                _ => {
                    let je = run_end(bp, j);
                    let r = (&hp[0..0], &bp[j..je]);
                    j = je;
                    r
                }
            };
            let state = |run, rows: &[(u64, u32)]| {
                if rows.is_empty() {
                    State::Absent
                } else {
                    state_of(run, rows)
                }
            };
            let verdict = Verdict::of(state(head, h_rows), state(base, b_rows));
            out.counts[verdict as usize] += 1;
            if verdict != Verdict::Unchanged {
                out.rows
                    .extend(h_rows.iter().map(|&(_, row)| (row, verdict as u8)));
            }
            if matches!(verdict, Verdict::Unchanged | Verdict::NewTest) {
                continue;
            }
            let side_of = |run, keyed, rows: &[(u64, u32)]| {
                if rows.is_empty() {
                    Side::absent()
                } else {
                    side(run, keyed, rows)
                }
            };
            let (hs, bs) = (side_of(head, h, h_rows), side_of(base, b, b_rows));
            let key = match h_rows.first() {
                Some(&(_, row)) => test_key(head, h, row),
                None => test_key(base, b, b_rows[0].1),
            };
            let place = (key.config.clone(), key.invoking_file.clone());
            let maybe_affected = if h_rows.is_empty() {
                self.head_bad.contains(&place)
            } else {
                self.base_bad.contains(&place)
            };
            let disabled = self.disabled.and_then(|d| {
                let jobs = if hs.jobs.is_empty() {
                    &bs.jobs
                } else {
                    &hs.jobs
                };
                let mut found = None;
                for job in jobs
                    .iter()
                    .map(String::as_str)
                    .chain(jobs.is_empty().then_some(""))
                {
                    if let Some(hit) = d.lookup(&key.classname, &key.name, job) {
                        found = Some(hit.clone());
                        break;
                    }
                }
                found
            });
            out.tests.push(Compared {
                key,
                verdict,
                head: hs,
                base: bs,
                disabled,
                maybe_affected,
            });
        }
        out
    }
}

/// Compare `head` with `base`. `disabled` marks tests PyTorch has disabled.
pub fn compare(head: &LoadedRun, base: &LoadedRun, disabled: Option<&DisabledTests>) -> Comparison {
    let (h, b) = std::thread::scope(|s| {
        let b = s.spawn(|| keyed(base));
        (keyed(head), b.join().expect("keying does not panic"))
    });
    compare_keyed(head, &h, base, &b, disabled)
}

/// [`compare`] of runs already keyed.
pub fn compare_keyed(
    head: &LoadedRun,
    h: &Keyed,
    base: &LoadedRun,
    b: &Keyed,
    disabled: Option<&DisabledTests>,
) -> Comparison {
    let configs = |k: &Keyed| -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for f in &k.files {
            if !seen.contains(&f.config) {
                seen.insert(f.config.clone());
            }
        }
        seen
    };
    let (hc, bc) = (configs(h), configs(b));
    let shared = hc.intersection(&bc).count();
    let (head_bad, base_bad) = (unreadable(head), unreadable(base));

    let mut out = Comparison {
        row_verdicts: vec![Verdict::Unchanged as u8; head.cases.len()],
        head_configs: hc.len(),
        base_configs: bc.len(),
        shared_configs: shared,
        base_description: base.description.clone(),
        ..Comparison::default()
    };
    // The walk in two halves of the key space, side by side.
    let ctx = Walk {
        head,
        h,
        base,
        b,
        disabled,
        head_bad: &head_bad,
        base_bad: &base_bad,
    };
    let pivot = h.pairs.get(h.pairs.len() / 2).map_or(u64::MAX, |p| p.0);
    let (hi, bi) = (
        h.pairs.partition_point(|p| p.0 < pivot),
        b.pairs.partition_point(|p| p.0 < pivot),
    );
    let parts: Vec<Part> = std::thread::scope(|s| {
        let ctx = &ctx;
        let upper = s.spawn(move || ctx.walk(&h.pairs[hi..], &b.pairs[bi..]));
        let lower = ctx.walk(&h.pairs[..hi], &b.pairs[..bi]);
        vec![lower, upper.join().expect("comparing does not panic")]
    });
    for part in parts {
        for (c, n) in out.counts.iter_mut().zip(part.counts) {
            *c += n;
        }
        for (row, v) in part.rows {
            out.row_verdicts[row as usize] = v;
        }
        out.tests.extend(part.tests);
    }
    out.tests
        .sort_by(|a, b| (a.verdict, &a.key).cmp(&(b.verdict, &b.key)));
    if shared == 0 && !hc.is_empty() && !bc.is_empty() {
        out.warnings.push(format!(
            "the base run shares no config with this run ({} configs here, {} there): \
             verdicts compare nothing; check that both runs have job names, or neither",
            hc.len(),
            bc.len()
        ));
    }
    let total: u64 = out.counts.iter().sum();
    let apart = out.count(Verdict::Missing) + out.count(Verdict::NewTest);
    if shared > 0 && total > 0 && apart * 2 > total {
        out.warnings.push(format!(
            "{apart} of {total} tests ran in only one of the two runs: are they runs of the same \
             test suite? (test names must match to compare)"
        ));
    }
    let bad = |run: &LoadedRun| run.files.iter().filter(|f| f.error.is_some()).count();
    if bad(base) > 0 {
        out.warnings.push(format!(
            "{} report(s) of the base run could not be read: tests marked \"maybe affected\" \
             may have other verdicts",
            bad(base)
        ));
    }
    out
}
