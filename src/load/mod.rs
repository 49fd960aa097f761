//! Listing -> loaded run. Files are read and parsed on every core; results are folded in
//! the listing's order (docs/compatibility.md section 7) so documents and float sums are deterministic.
//! Workers never run more than a window of files ahead of the fold, which bounds memory.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::codec::gzip::Compressor;
use crate::codec::gzip::DeflateChunk;
use crate::py::num as pynum;
use crate::report::{Enrichment, Object, Value};
use crate::run::{CaseBrief, FileInfo, FileLines, Lines, LoadedRun, Problem, ProblemKind};
use crate::source::Listing;
use crate::stats::Summary;

pub(crate) mod file;
mod fold;

use file::{Parsed, Scratch, parse_file};
use fold::{FoldState, MIN_PART, Queue, fold_ready, part_cuts, read_td_exclusions};

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The run id as given (it becomes `workflow_id`, a JSON string).
    pub workflow_id: String,
    pub attempt: i64,
    /// Keep (compressed) JSON lines of every case, for the `test_run` collection.
    pub keep_test_run: bool,
    /// Keep (compressed) JSON lines of the failed cases, for `failed_test_runs`. A front-end
    /// that may never upload reads them again when it does (with `reread::lines_again`).
    pub keep_failed: bool,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Largest report file read, uncompressed.
    pub max_file_bytes: u64,
    /// Gzip level of the kept JSON lines (see [`crate::codec::gzip::DEFAULT_LEVEL`]).
    pub gzip_level: u32,
    /// Called on a worker with each failed or retried case's whole document as its brief is
    /// made: what a higher layer adds to briefs (triage's signature and repro) without the
    /// load knowing it. `None` for the batch path, which needs nothing more.
    pub brief_hook: Option<BriefHook>,
    /// Skipped cases whose skip message this accepts get a brief too (triage lists tests
    /// skipped as disabled); `None` for the batch path.
    pub keep_skipped: Option<fn(message: &str) -> bool>,
}

/// See [`LoadOptions::brief_hook`].
pub type BriefHook = fn(case: &Object, enrichment: &Enrichment, brief: &mut CaseBrief);

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            workflow_id: String::new(),
            attempt: 1,
            keep_test_run: true,
            keep_failed: true,
            threads: 0,
            max_file_bytes: 1 << 30,
            gzip_level: crate::codec::gzip::DEFAULT_LEVEL,
            brief_hook: None,
            keep_skipped: None,
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

pub(crate) struct Done {
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
/// since starting a chunk clears the compressor's tables, which costs as much as compressing
/// a small file's lines.
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
/// worker folds it). Archives still downloading are fetched beside the parsing: a worker
/// that comes to one waits for it.
pub fn load_observed(
    mut listing: Listing,
    opts: &LoadOptions,
    progress: &Progress,
    observer: &mut (dyn FnMut(FileFolded<'_>) + Send),
) -> LoadedRun {
    let downloads = listing.downloads.take();
    std::thread::scope(|s| {
        if let Some(downloads) = downloads {
            s.spawn(move || downloads.run());
        }
        load_listed(listing, opts, progress, observer)
    })
}

fn load_listed(
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
    // the parsing: each column's first (huge) page is faulted in then, instead of holding up
    // the workers' start (`bench/tui.sh`).
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
    let folder = Mutex::new(FoldState {
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

    let FoldState {
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

/// Parse an attempt the way argparse's `type=int` does.
pub fn parse_attempt(s: &str) -> Option<i64> {
    match pynum::py_int(s)? {
        Value::Int(i) => Some(i),
        _ => None,
    }
}
