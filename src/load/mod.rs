//! Listing -> loaded run. Files are read and parsed on every core; results are folded in
//! the listing's order (docs/compatibility.md section 7) so documents and float sums are deterministic.
//! Workers never run more than a window of files ahead of the fold, which bounds memory.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::codec::gzip::Compressor;
use crate::codec::gzip::DeflateChunk;
use crate::py::num as pynum;
use crate::report::{Enrichment, Object, Value};
use crate::run::{CaseBrief, FileInfo, FileLines, Lines, LoadedRun, Problem, ProblemKind};
use crate::source::feed::Feed;
use crate::source::{Listing, ReportFile};
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
    pub file: &'a ReportFile,
    pub info: &'a FileInfo,
    pub notable: &'a [CaseBrief],
    pub problems: &'a [Problem],
}

/// Load every report of `listing`.
pub fn load(listing: Listing, opts: &LoadOptions, progress: &Progress) -> LoadedRun {
    load_observed(listing, opts, progress, &mut |_| {})
}

/// [`load`], telling `observer` about each file as it is folded, in run order (on whichever
/// worker folds it). A listing's downloads run beside the parsing: a worker that comes to
/// a file not downloaded yet waits for it.
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

/// The report files a load reads: all listed up front, or published as the run downloads.
enum Files<'a> {
    Listed(&'a [ReportFile]),
    Fed(&'a Feed),
}

impl Files<'_> {
    /// Wait for files `first..first + n`: how many of them there are (0: no more files).
    fn wait(&self, first: usize, n: usize, progress: &Progress) -> usize {
        match self {
            Self::Listed(reports) => reports.len().saturating_sub(first).min(n),
            Self::Fed(feed) => {
                let have = feed.wait_for(first + n);
                progress
                    .files_total
                    .fetch_max(feed.published().0 as u64, Ordering::Relaxed);
                have.saturating_sub(first)
            }
        }
    }

    /// File `index` (waited for already).
    fn get(&self, index: usize) -> Cow<'_, ReportFile> {
        match self {
            Self::Listed(reports) => Cow::Borrowed(&reports[index]),
            Self::Fed(feed) => Cow::Owned(feed.get(index).expect("published before it is read")),
        }
    }

    /// Files from `at` on, when that is known to be all of them.
    fn left(&self, at: usize) -> Option<usize> {
        match self {
            Self::Listed(reports) => Some(reports.len().saturating_sub(at)),
            Self::Fed(feed) => match feed.published() {
                (n, true) => Some(n.saturating_sub(at)),
                _ => None,
            },
        }
    }
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
        feed,
        ..
    } = listing;
    let run = LoadedRun {
        description,
        workflow_id: opts.workflow_id.clone(),
        attempt: opts.attempt,
        failed: opts.keep_failed.then(Lines::default),
        ..LoadedRun::default()
    };
    // (A fed listing has all its reports in the feed.)
    debug_assert!(feed.is_none() || reports.is_empty());
    let files = match &feed {
        Some(feed) => Files::Fed(feed),
        None => Files::Listed(&reports),
    };
    // A testcase takes well over 64 bytes of XML and its name less than its XML: bounds
    // from the sizes known up front (see CaseTable::reserve). Made by the first fold, beside
    // the parsing: each column's first (huge) page is faulted in then, instead of holding up
    // the workers' start (`bench/tui.sh`). A run still downloading is estimated from its
    // first files (which the workers would wait for anyway).
    let xml_bytes = match &feed {
        Some(feed) => {
            feed.wait_for(1);
            feed.estimated_xml_bytes().unwrap_or(0)
        }
        None => reports.iter().map(|r| r.size).sum(),
    };
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
            let (next, queue, folder, files) = (&next, &queue, &folder, &files);
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
                let size = |at: usize| match files.left(at) {
                    Some(left) if left <= threads * batch * 4 => 1,
                    _ => batch,
                };
                loop {
                    // (The size is taken from the update that succeeded: more files may be
                    // published between two calls.)
                    let mut take = 0;
                    let first = next
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |at| {
                            take = size(at);
                            Some(at + take)
                        })
                        .unwrap_or_else(|at| at); // (never Err: the update always gives a value)
                    if progress.cancelled.load(Ordering::Relaxed) {
                        break;
                    }
                    let have = files.wait(first, take, progress);
                    if have == 0 {
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
                    let end = first + have;
                    scratch.lines.clear();
                    scratch.failed.clear();
                    scratch.ends.clear();
                    for index in first..end {
                        let file = files.get(index);
                        let result = parse_file(&file, opts, index, &mut scratch);
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
                        fold_ready(queue, folder, &|i| files.get(i), progress);
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
    run.test_run = all;
    // A fed listing's files and problems come after those it was listed with.
    let (mut reports, mut td_exclusions, mut problems) = (reports, td_exclusions, problems);
    if let Some(feed) = &feed {
        let (fed_reports, fed_td, fed_problems) = feed.take_parts();
        reports.extend(fed_reports);
        td_exclusions.extend(fed_td);
        problems.extend(fed_problems);
    }
    run.reports = reports;
    run.td_exclusions = td_exclusions;
    // The source's problems first, then the td_exclusions files', then the reports' own.
    let of_files = std::mem::take(&mut run.problems);
    run.problems
        .extend(problems.into_iter().map(|(file, message)| Problem {
            file,
            kind: ProblemKind::Unreadable,
            message,
        }));
    read_td_exclusions(&mut run, opts);
    run.problems.extend(of_files);
    run
}

/// Parse an attempt the way argparse's `type=int` does.
pub fn parse_attempt(s: &str) -> Option<i64> {
    match pynum::py_int(s)? {
        Value::Int(i) => Some(i),
        _ => None,
    }
}
