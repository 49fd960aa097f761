//! Listing -> loaded run. Files are read and parsed on every core; results are folded in
//! the listing's order (spec section 7) so documents and float sums are deterministic.
//! Workers never run more than a window of files ahead of the fold, which bounds memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, TryLockError};

use crate::report::{
    Case, Enrichment, Fields, Object, Value, ValueRef, meta, parse_cases_each, parse_only, pyjson,
    pynum,
};
use crate::run::{CaseBrief, FileInfo, FileLines, Lines, LoadedRun, Problem, ProblemKind};
use crate::source::{Listing, ReportFile};
use crate::stats::cases::FileRows;
use crate::stats::{CaseFlags, CaseKey, CaseStatus, Summary};
use crate::upload::gzip::{Compressor, DeflateChunk};

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The run id as given (it becomes `workflow_id`, a JSON string).
    pub workflow_id: String,
    pub attempt: i64,
    /// Keep (compressed) JSON lines of every case, for the `test_run` collection.
    pub keep_test_run: bool,
    /// Keep (compressed) JSON lines of the failed cases, for `failed_test_runs`. A front-end
    /// that may never upload reads them again when it does ([`failed_lines`]).
    pub keep_failed: bool,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Largest report file read, uncompressed.
    pub max_file_bytes: u64,
    /// Gzip level of the kept JSON lines (see [`crate::upload::gzip::DEFAULT_LEVEL`]).
    pub gzip_level: u32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            workflow_id: String::new(),
            attempt: 1,
            keep_test_run: true,
            keep_failed: true,
            threads: 0,
            max_file_bytes: 1 << 30,
            gzip_level: crate::upload::gzip::DEFAULT_LEVEL,
        }
    }
}

/// Counters a front-end polls while a load runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub bytes_done: AtomicU64,
    pub cases: AtomicU64,
    pub bad_files: AtomicU64,
    pub cancelled: AtomicBool,
}

/// What the parse of one file produced, ready to fold.
struct Parsed {
    enrichment: Enrichment,
    rows: FileRows,
    failed_docs: u64,
    reruns: u64,
    notable: Vec<CaseBrief>,
    missing_time: Vec<String>,
}

struct Done {
    index: usize,
    bytes: u64,
    result: Result<Parsed, String>,
    /// The compressed JSON lines of every case (`all`) and of the failed ones, of this
    /// file and the files of its batch before it (see [`BATCH`]).
    all: Option<DeflateChunk>,
    failed: Option<DeflateChunk>,
    /// Where each file of the batch has its lines in `all`, in file order.
    parts: Vec<FileLines>,
}

/// Files a worker takes at once when it compresses lines: one compressed chunk per batch,
/// since starting a chunk clears the compressor's tables (about 50 us, as long as
/// compressing 20 KB of lines).
const BATCH: usize = 8;

/// What one folded file added to the run, in run order: a front-end shows these while the
/// rest loads.
pub struct FileFolded<'a> {
    pub index: usize,
    pub info: &'a FileInfo,
    pub notable: &'a [CaseBrief],
    pub problems: &'a [Problem],
}

/// Load every report of `listing`.
pub fn load(listing: Listing, opts: &LoadOptions, progress: &Progress) -> LoadedRun {
    load_observed(listing, opts, progress, &mut |_| {})
}

/// [`load`], telling `observer` about each file as it is folded, in run order (on whichever
/// worker folds it).
pub fn load_observed(
    listing: Listing,
    opts: &LoadOptions,
    progress: &Progress,
    observer: &mut (dyn FnMut(FileFolded<'_>) + Send),
) -> LoadedRun {
    let Listing {
        reports,
        td_exclusions,
        problems,
        description,
        ..
    } = listing;
    let mut run = LoadedRun {
        description,
        workflow_id: opts.workflow_id.clone(),
        attempt: opts.attempt,
        td_exclusions,
        failed: opts.keep_failed.then(Lines::default),
        ..LoadedRun::default()
    };
    run.problems
        .extend(problems.into_iter().map(|(file, message)| Problem {
            file,
            kind: ProblemKind::Unreadable,
            message,
        }));
    read_td_exclusions(&mut run, opts);
    // A testcase takes well over 64 bytes of XML and its name less than its XML: bounds
    // from the sizes known up front (see CaseTable::reserve). Made by the first fold, beside
    // the parsing: each column's first (huge) page is faulted in then, ~15 ms on the
    // pytorch profile that would otherwise hold up the workers' start.
    let xml_bytes: u64 = reports.iter().map(|r| r.size).sum();
    let xml_bytes = usize::try_from(xml_bytes).unwrap_or(usize::MAX);
    let reserve = Some((xml_bytes / 64, xml_bytes / 4));
    progress
        .files_total
        .store(reports.len() as u64, Ordering::Relaxed);

    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    // Wide enough that one slow file does not idle the other workers.
    let window = threads * 32;
    let next = AtomicUsize::new(0);
    let queue = (Mutex::new(Queue::default()), Condvar::new());
    let folder = Mutex::new(Folder {
        run,
        reserve,
        summary: Summary::new(),
        all: opts.keep_test_run.then(Lines::default),
        observer,
    });

    std::thread::scope(|s| {
        for _ in 0..threads {
            let (next, queue, folder, reports) = (&next, &queue, &folder, &reports);
            s.spawn(move || {
                let mut scratch = Scratch {
                    xml: Vec::new(),
                    lines: Vec::new(),
                    failed: Vec::new(),
                    ends: Vec::new(),
                    compressor: Compressor::new(opts.gzip_level),
                };
                let batch = if opts.keep_test_run || opts.keep_failed {
                    BATCH
                } else {
                    1
                };
                // Near the end, single files: a last batch on one worker would idle the rest.
                let size = |at: usize| {
                    if reports.len().saturating_sub(at) > threads * batch * 4 {
                        batch
                    } else {
                        1
                    }
                };
                loop {
                    let first = next
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| {
                            Some(at + size(at))
                        })
                        .unwrap_or_else(|at| at); // (never Err: the update always gives a value)
                    let take = size(first);
                    if first >= reports.len() || progress.cancelled.load(Ordering::Relaxed) {
                        break;
                    }
                    // Wait until the fold is within a window of these files.
                    let (lock, cv) = queue;
                    let mut q = lock.lock().expect("no panics while held");
                    while first >= q.expected + window {
                        q.waiting += 1;
                        q = cv.wait(q).expect("no panics while held");
                        q.waiting -= 1;
                    }
                    drop(q);
                    let end = reports.len().min(first + take);
                    scratch.lines.clear();
                    scratch.failed.clear();
                    scratch.ends.clear();
                    for (index, file) in reports.iter().enumerate().take(end).skip(first) {
                        let result = parse_file(file, opts, index, &mut scratch);
                        scratch.ends.push(scratch.lines.len());
                        let mut done = Done {
                            index,
                            bytes: file.size,
                            result,
                            all: None,
                            failed: None,
                            parts: Vec::new(),
                        };
                        if index + 1 == end {
                            let Scratch {
                                lines,
                                failed,
                                ends,
                                compressor,
                                ..
                            } = &mut scratch;
                            // (`lines` only holds anything when test_run is kept.) Each
                            // file's lines are compressed apart: the reruns document reads
                            // a few cases of many files again.
                            if !lines.is_empty() {
                                let (cuts, files) = part_cuts(ends, MIN_PART);
                                let (chunk, parts) =
                                    DeflateChunk::compress_parts(compressor, lines, &cuts);
                                done.all = Some(chunk);
                                done.parts = files
                                    .into_iter()
                                    .map(|(part, start, len)| FileLines {
                                        chunk: 0, // (known when folded)
                                        part: parts[part].clone(),
                                        start,
                                        len,
                                    })
                                    .collect();
                            }
                            // Compressed here too: raw, tracebacks add up to tens of MB.
                            done.failed = (!failed.is_empty())
                                .then(|| DeflateChunk::compress_with(compressor, failed));
                        }
                        lock.lock()
                            .expect("no panics while held")
                            .pending
                            .insert(index, done);
                        fold_ready(queue, folder, reports, progress);
                    }
                }
            });
        }
    });

    let Folder {
        mut run,
        summary,
        all,
        ..
    } = folder.into_inner().expect("no panics while held");
    run.summary = summary.into_rows();
    run.reports = reports;
    run.test_run = all;
    run
}

/// Smallest part of a chunk that is compressed on its own (see [`part_cuts`]).
const MIN_PART: usize = 64 << 10;

/// Where to cut a batch's lines (`ends`: each file's end) into separately compressed parts:
/// at file boundaries, each part at least `min` bytes (the last excepted), since every part
/// starts with no history to match. On the pytorch profile a part per file made test_run
/// 8% larger than one part per batch; 64 KiB parts, 3% (and re-reading costs a quarter
/// more than with a part per file). Returns the cuts and, per file, (part, start in the
/// part, length).
fn part_cuts(ends: &[usize], min: usize) -> (Vec<usize>, Vec<(usize, usize, usize)>) {
    let mut cuts = Vec::new();
    let mut files = Vec::with_capacity(ends.len());
    let (mut part_start, mut file_start) = (0, 0);
    for (i, &end) in ends.iter().enumerate() {
        files.push((cuts.len(), file_start - part_start, end - file_start));
        file_start = end;
        if end - part_start >= min || i + 1 == ends.len() {
            cuts.push(end);
            part_start = end;
        }
    }
    (cuts, files)
}

/// Parsed files waiting for their turn, and whose turn it is.
#[derive(Default)]
struct Queue {
    pending: BTreeMap<usize, Done>,
    /// The next file to fold.
    expected: usize,
    /// Workers waiting for the fold to come within a window of their file.
    waiting: usize,
}

/// What the fold builds, behind one lock.
struct Folder<'o> {
    run: LoadedRun,
    /// Room for the case table (cases, name bytes), made by the first fold.
    reserve: Option<(usize, usize)>,
    summary: Summary,
    all: Option<Lines>,
    observer: &'o mut (dyn FnMut(FileFolded<'_>) + Send),
}

/// Fold every parsed file whose turn has come. The worker that finds the fold idle does it
/// (no thread of its own to wake per file); one that finds it busy leaves its file to it.
fn fold_ready(
    (queue, cv): &(Mutex<Queue>, Condvar),
    folder: &Mutex<Folder<'_>>,
    reports: &[ReportFile],
    progress: &Progress,
) {
    loop {
        let mut f = match folder.try_lock() {
            Ok(f) => f,
            Err(TryLockError::WouldBlock) => return,
            Err(TryLockError::Poisoned(_)) => panic!("a fold panicked"),
        };
        loop {
            let done = {
                let mut q = queue.lock().expect("no panics while held");
                let expected = q.expected;
                match q.pending.remove(&expected) {
                    Some(done) => done,
                    None => break,
                }
            };
            let index = done.index;
            let Folder {
                run,
                reserve,
                summary,
                all,
                observer,
            } = &mut *f;
            if let Some((cases, name_bytes)) = reserve.take() {
                run.cases.reserve(cases, name_bytes);
            }
            let (notable_before, problems_before) = (run.notable.len(), run.problems.len());
            fold(run, &reports[index], done, summary, all.as_mut(), progress);
            observer(FileFolded {
                index,
                info: run.files.last().expect("fold pushes the file"),
                notable: &run.notable[notable_before..],
                problems: &run.problems[problems_before..],
            });
            let mut q = queue.lock().expect("no panics while held");
            q.expected += 1;
            if q.waiting > 0 {
                cv.notify_all();
            }
        }
        drop(f);
        // A file may have come in after the last look, from a worker that found the fold
        // busy: look again now that it is free.
        let q = queue.lock().expect("no panics while held");
        if !q.pending.contains_key(&q.expected) {
            return;
        }
    }
}

fn enrichment_for(file: &ReportFile, opts: &LoadOptions) -> Enrichment {
    let comps = file.rel.components();
    Enrichment {
        workflow_id: opts.workflow_id.as_str().into(),
        attempt: Value::Int(opts.attempt),
        job_id: meta::job_id(file.rel.first()),
        invoking_file: meta::invoking_file(comps).into(),
    }
}

/// Buffers a worker reuses from file to file (fresh big allocations cost page faults).
struct Scratch {
    xml: Vec<u8>,
    /// JSON lines of every case of the batch (when `test_run` is kept).
    lines: Vec<u8>,
    /// JSON lines of the batch's failed cases (when kept).
    failed: Vec<u8>,
    /// The end of each file's lines in `lines`, in batch order.
    ends: Vec<usize>,
    compressor: Compressor,
}

/// Read, parse and serialise one file (runs on a worker), appending its JSON lines to the
/// scratch buffers; on an error nothing of the file stays there.
fn parse_file(
    file: &ReportFile,
    opts: &LoadOptions,
    index: usize,
    scratch: &mut Scratch,
) -> Result<Parsed, String> {
    let (lines_before, failed_before) = (scratch.lines.len(), scratch.failed.len());
    let result = parse_file_into(file, opts, index, scratch);
    if result.is_err() {
        scratch.lines.truncate(lines_before);
        scratch.failed.truncate(failed_before);
    }
    result
}

fn parse_file_into(
    file: &ReportFile,
    opts: &LoadOptions,
    index: usize,
    scratch: &mut Scratch,
) -> Result<Parsed, String> {
    // The problem already names the file; the message is just why.
    file.read_into(opts.max_file_bytes, &mut scratch.xml)
        .map_err(|e| e.reason())?;
    let enrichment = enrichment_for(file, opts);
    let mut taker = Taker {
        keep_test_run: opts.keep_test_run,
        keep_failed: opts.keep_failed,
        tail: enrichment.tail(),
        enrichment: &enrichment,
        lines: &mut scratch.lines,
        failed: &mut scratch.failed,
        failed_docs: 0,
        rows: FileRows::with_capacity(scratch.xml.len()),
        reruns: 0,
        missing_time: Vec::new(),
        notable: Vec::new(),
        unique_base: (index as u64) << 32,
    };
    // Cases stay unenriched: only their JSON lines need the four keys.
    parse_cases_each(&scratch.xml, &mut |case| match case {
        Case::Built(case) => taker.take(&case),
        Case::Flat(case) => taker.take(&case),
    })
    .map_err(|e| e.to_string())?;
    let Taker {
        failed_docs,
        rows,
        reruns,
        missing_time,
        notable,
        ..
    } = taker;
    Ok(Parsed {
        enrichment,
        rows,
        failed_docs,
        reruns,
        notable,
        missing_time,
    })
}

/// What one file's cases make, case by case, on the worker that parses it.
struct Taker<'a> {
    keep_test_run: bool,
    keep_failed: bool,
    enrichment: &'a Enrichment,
    tail: Vec<u8>,
    lines: &'a mut Vec<u8>,
    failed: &'a mut Vec<u8>,
    failed_docs: u64,
    rows: FileRows,
    reruns: u64,
    missing_time: Vec<String>,
    notable: Vec<CaseBrief>,
    unique_base: u64,
}

impl Taker<'_> {
    fn take(&mut self, case: &impl Fields) {
        let n = self.rows.len();
        let known = case.known();
        let flags = CaseFlags::from_known(&known);
        // Every case's JSON line only when test_run is kept; else just the failed ones'.
        let keep_failed = self.keep_failed && flags.failed();
        if self.keep_test_run || keep_failed {
            let out = if self.keep_test_run {
                &mut *self.lines
            } else {
                &mut *self.failed
            };
            let start = out.len();
            self.enrichment
                .write_enriched_known(out, case, &known, &self.tail);
            out.push(b'\n');
            if self.keep_test_run && keep_failed {
                self.failed.extend_from_slice(&self.lines[start..]);
            }
        }
        if flags.failed() {
            self.failed_docs += 1;
            self.notable.push(CaseBrief::of(&case.to_object(), 0, n));
        }
        if flags.rerun {
            self.reruns += 1;
        }
        let time = known.time.and_then(ValueRef::as_number);
        if time.is_none() {
            self.missing_time.push(case_label(case));
        }
        self.rows
            .push(&known, flags, time, self.unique_base + n as u64);
    }
}

/// `classname.name` for messages.
pub fn case_label(case: &impl Fields) -> String {
    let part = |k| match case.field(k) {
        Some(ValueRef::Str(s)) => s.to_string(),
        Some(ValueRef::Other(v)) => {
            let mut out = Vec::new();
            pyjson::write_value(&mut out, v);
            String::from_utf8_lossy(&out).into_owned()
        }
        None => "?".to_string(),
    };
    format!("{}.{}", part("classname"), part("name"))
}

/// Fold one file's results into the run, in order (runs on the calling thread).
fn fold(
    run: &mut LoadedRun,
    file: &ReportFile,
    done: Done,
    summary: &mut Summary,
    all: Option<&mut Lines>,
    progress: &Progress,
) {
    let mut info = FileInfo {
        rel: file.rel.to_string(),
        origin: file.describe(),
        bytes: done.bytes,
        cases: 0,
        failures: 0,
        errors: 0,
        skipped: 0,
        reruns: 0,
        time: 0.0,
        failed_docs: 0,
        error: None,
        job_id: meta::job_id(file.rel.first()),
    };
    run.totals.files += 1;
    run.totals.bytes += done.bytes;
    progress.files_done.fetch_add(1, Ordering::Relaxed);
    progress.bytes_done.fetch_add(done.bytes, Ordering::Relaxed);
    // A batch's chunks come with its last file, whatever became of that file.
    if let (Some(lines), Some(chunk)) = (&mut run.failed, done.failed) {
        lines.chunks.push(chunk);
    }
    let mut all = all;
    if let (Some(lines), Some(chunk)) = (all.as_deref_mut(), done.all) {
        let first = done.index + 1 - done.parts.len();
        if lines.files.len() <= done.index {
            lines.files.resize(done.index + 1, FileLines::default());
        }
        for (file, at) in lines.files[first..].iter_mut().zip(done.parts) {
            *file = FileLines {
                chunk: lines.chunks.len(),
                ..at
            };
        }
        lines.chunks.push(chunk);
    }
    match done.result {
        Err(message) => {
            run.totals.bad_files += 1;
            progress.bad_files.fetch_add(1, Ordering::Relaxed);
            run.problems.push(Problem {
                file: info.origin.clone(),
                kind: ProblemKind::Unreadable,
                message: message.clone(),
            });
            info.error = Some(message);
        }
        Ok(p) => {
            info.cases = p.rows.len() as u64;
            info.failed_docs = p.failed_docs;
            let file_index = run.files.len();
            let t = &mut run.totals;
            t.cases += info.cases;
            t.reruns += p.reruns;
            info.reruns = p.reruns;
            let file_key = summary.file_key(&p.enrichment);
            // A run of cases shares its key; the last key and its row spare hashing it again.
            let mut last: Option<(&CaseKey, usize)> = None;
            let mut i = 0;
            for r in &p.rows.runs {
                let mut row_index = match last {
                    Some((k, row)) if *k == r.key => Some(row),
                    _ => None,
                };
                for _ in 0..r.len {
                    let (status, time) = (p.rows.status(i), p.rows.numeric_time(i));
                    i += 1;
                    match status {
                        CaseStatus::Failure => info.failures += 1,
                        CaseStatus::Error => info.errors += 1,
                        CaseStatus::Skipped => info.skipped += 1,
                        CaseStatus::Success => {}
                    }
                    // A display total: NaN or infinite times (legal in reports) are left out.
                    let finite = time.filter(|x| x.is_finite()).unwrap_or(0.0);
                    t.time += finite;
                    info.time += finite;
                    match row_index {
                        Some(row) => summary.add_again(row, status, time),
                        None => {
                            let values = (r.file.as_ref(), r.classname.as_ref());
                            row_index =
                                Some(summary.add(&file_key, r.key.clone(), values, status, time));
                        }
                    }
                }
                if let Some(row) = row_index {
                    last = Some((&r.key, row));
                }
            }
            t.failures += info.failures;
            t.errors += info.errors;
            t.skipped += info.skipped;
            t.successes += info.cases - info.failures - info.errors - info.skipped;
            run.cases.push_file(file_index, p.rows);
            run.notable.extend(p.notable.into_iter().map(|mut b| {
                b.file_index = file_index;
                b
            }));
            if let Some(failed) = &mut run.failed {
                failed.docs += p.failed_docs;
            }
            if let Some(all) = all.as_mut() {
                all.docs += info.cases;
            }
            if !p.missing_time.is_empty() {
                let n = p.missing_time.len();
                let first = p.missing_time.iter().take(3).cloned().collect::<Vec<_>>();
                run.problems.push(Problem {
                    file: info.origin.clone(),
                    kind: ProblemKind::MissingTime,
                    message: format!(
                        "{n} case(s) without a numeric time, counted as 0.0: {}{}",
                        first.join(", "),
                        if n > 3 { ", ..." } else { "" }
                    ),
                });
            }
            progress.cases.fetch_add(info.cases, Ordering::Relaxed);
        }
    }
    run.files.push(info);
}

/// Parse the run's td_exclusions JSON files (small); a bad one is a problem, not a crash.
fn read_td_exclusions(run: &mut LoadedRun, opts: &LoadOptions) {
    for aux in &run.td_exclusions {
        let file = ReportFile {
            rel: aux.rel.clone(),
            origin: aux.origin.clone(),
            size: 0,
        };
        let parsed = file
            .read(opts.max_file_bytes)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(doc) => run.td_docs.push((meta::job_id(aux.rel.first()), doc)),
            Err(message) => run.problems.push(Problem {
                file: file.describe(),
                kind: ProblemKind::Unreadable,
                message,
            }),
        }
    }
}

/// The upload lines of a run loaded without them, read again: `failed_test_runs` (from the
/// reports with failed cases only, unless kept) and, when `opts.keep_test_run`, `test_run`
/// (from every report). An error when a report no longer reads as it did: an upload must
/// not go out with documents missing.
pub fn lines_again(run: &LoadedRun, opts: &LoadOptions) -> Result<(Lines, Option<Lines>), String> {
    if let (Some(failed), false) = (&run.failed, opts.keep_test_run) {
        return Ok((failed.clone(), None));
    }
    let (indices, reports): (Vec<usize>, Vec<ReportFile>) = run
        .files
        .iter()
        .zip(&run.reports)
        .enumerate()
        .filter(|(_, (info, _))| opts.keep_test_run || info.failed_docs > 0)
        .map(|(i, (_, report))| (i, report.clone()))
        .unzip();
    let listing = Listing {
        reports,
        description: run.description.clone(),
        ..Listing::default()
    };
    let opts = LoadOptions {
        keep_failed: true,
        ..opts.clone()
    };
    let again = load(listing, &opts, &Progress::default());
    for (info, &i) in again.files.iter().zip(&indices) {
        let before = &run.files[i];
        if let (Some(e), None) = (&info.error, &before.error) {
            return Err(format!("{} cannot be read again: {e}", info.origin));
        }
        if (info.cases, info.failed_docs) != (before.cases, before.failed_docs) {
            return Err(format!("{} changed since it was loaded", info.origin));
        }
    }
    Ok((again.failed.unwrap_or_default(), again.test_run))
}

/// Re-read whole case documents by (file index, ordinal), in the order asked; each file is
/// parsed once, files in parallel. A file that cannot be read again gives no documents.
pub fn reread_cases(
    run: &LoadedRun,
    wanted: &[(u32, u32)],
    workflow_id: &str,
) -> Vec<Option<Object>> {
    reread_from(&run.reports, run.attempt, wanted, workflow_id)
}

/// [`reread_cases`] from the report list itself (a front-end has it before the load ends).
pub fn reread_from(
    reports: &[ReportFile],
    attempt: i64,
    wanted: &[(u32, u32)],
    workflow_id: &str,
) -> Vec<Option<Object>> {
    let opts = LoadOptions {
        workflow_id: workflow_id.to_string(),
        attempt,
        ..LoadOptions::default()
    };
    let mut by_file: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, (file, _)) in wanted.iter().enumerate() {
        by_file.entry(*file).or_default().push(i);
    }
    let jobs: Vec<(u32, Vec<usize>)> = by_file.into_iter().collect();
    gather(
        &jobs,
        wanted.len(),
        |(file, positions), buf: &mut Vec<u8>, got| {
            let Some(report) = reports.get(*file as usize) else {
                return;
            };
            if report.read_into(opts.max_file_bytes, buf).is_err() {
                return;
            }
            // Only the cases asked for are built (a file may hold thousands).
            let mut only: Vec<u32> = positions.iter().map(|&i| wanted[i].1).collect();
            only.sort_unstable();
            only.dedup();
            let enrichment = enrichment_for(report, &opts);
            let Ok(mut cases) = parse_only(buf, &only, &enrichment) else {
                return;
            };
            for &i in positions {
                if let Some(case) = cases.get_mut(wanted[i].1 as usize).and_then(Option::take) {
                    got.push((i, case));
                }
            }
        },
    )
}

/// Run `work` on every job, on every core (each job once, in no set order), with a scratch
/// value per thread; each job pushes (position, value) pairs, gathered into `n` positions.
fn gather<J: Sync, S: Default, T: Send>(
    jobs: &[J],
    n: usize,
    work: impl Fn(&J, &mut S, &mut Vec<(usize, T)>) + Sync,
) -> Vec<Option<T>> {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let found: Vec<Vec<(usize, T)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(jobs.len()))
            .map(|_| {
                s.spawn(|| {
                    let (mut scratch, mut got) = (S::default(), Vec::new());
                    while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        work(job, &mut scratch, &mut got);
                    }
                    got
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("workers do not panic"))
            .collect()
    });
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, value) in found.into_iter().flatten() {
        out[i] = Some(value);
    }
    out
}

/// Case documents as JSON lines (without the newline) by (file index, ordinal), in the
/// order asked, from lines kept per file ([`Lines::files`]): each file's lines are inflated
/// once, files in parallel. Much cheaper than [`reread_cases`] (no XML to inflate and
/// parse). `None` where a file's lines were not kept apart or lack the case.
pub fn kept_lines(lines: &Lines, wanted: &[(u32, u32)]) -> Vec<Option<Vec<u8>>> {
    // By part (small reports share one): each part is inflated once.
    let mut by_part: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, (file, _)) in wanted.iter().enumerate() {
        if let Some(at) = lines.of_file(*file as usize).filter(|at| at.len > 0) {
            by_part
                .entry((at.chunk, at.part.data.start))
                .or_default()
                .push(i);
        }
    }
    // Each part's cases by file and position, so a file's lines are indexed once.
    let jobs: Vec<Vec<usize>> = by_part
        .into_values()
        .map(|mut asked| {
            asked.sort_unstable_by_key(|&i| wanted[i]);
            asked
        })
        .collect();
    let file_of = |i: usize| wanted[i].0;
    gather(
        &jobs,
        wanted.len(),
        |asked, starts: &mut Vec<usize>, got| {
            let first = lines.of_file(file_of(asked[0]) as usize);
            let Some(raw) = first.and_then(|at| lines.inflate_part(at)) else {
                return;
            };
            for same_file in asked.chunk_by(|&a, &b| file_of(a) == file_of(b)) {
                let at = lines.of_file(file_of(same_file[0]) as usize);
                let Some(text) = at.and_then(|at| raw.get(at.start..at.start + at.len)) else {
                    continue;
                };
                starts.clear();
                starts.push(0);
                starts.extend(memchr::memchr_iter(b'\n', text).map(|at| at + 1));
                for &i in same_file {
                    let n = wanted[i].1 as usize;
                    if let (Some(&a), Some(&b)) = (starts.get(n), starts.get(n + 1)) {
                        got.push((i, text[a..b - 1].to_vec()));
                    }
                }
            }
        },
    )
}

/// Parse an attempt the way argparse's `type=int` does.
pub fn parse_attempt(s: &str) -> Option<i64> {
    match pynum::py_int(s)? {
        Value::Int(i) => Some(i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_cut_at_file_ends_once_big_enough() {
        // Files of 30, 0, 50, 10, 100 and 5 bytes; parts of at least 60.
        let (cuts, files) = part_cuts(&[30, 30, 80, 90, 190, 195], 60);
        assert_eq!(cuts, [80, 190, 195]);
        assert_eq!(
            files,
            [
                (0, 0, 30),
                (0, 30, 0),
                (0, 30, 50),
                (1, 0, 10),
                (1, 10, 100),
                (2, 0, 5)
            ]
        );
        assert_eq!(part_cuts(&[], 60), (vec![], vec![]));
        assert_eq!(
            part_cuts(&[0, 0], 60),
            (vec![0], vec![(0, 0, 0), (0, 0, 0)])
        );
    }
}
