//! The fold: parsed files join the run strictly in listing order, whichever worker parsed
//! them, so documents, float sums and the case table come out the same on any machine.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex, TryLockError};

use crate::report::meta;
use crate::run::{FileInfo, FileLines, Lines, LoadedRun, Problem, ProblemKind};
use crate::source::ReportFile;
use crate::stats::{CaseKey, CaseStatus, Summary};

use super::{Done, FileFolded, LoadOptions, Progress};

/// Smallest part of a chunk that is compressed on its own (see [`part_cuts`]).
pub(super) const MIN_PART: usize = 64 << 10;

/// Where to cut a batch's lines (`ends`: each file's end) into separately compressed parts:
/// at file boundaries, each part at least `min` bytes (the last excepted), since every part
/// starts with no history to match: a part per file would make `test_run` noticeably
/// larger, one part per batch would make re-reading a file inflate its neighbours too. Returns the cuts and, per file, (part, start in the
/// part, length).
pub(super) fn part_cuts(ends: &[usize], min: usize) -> (Vec<usize>, Vec<(usize, usize, usize)>) {
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
pub(super) struct Queue {
    pub(super) pending: BTreeMap<usize, Done>,
    /// The next file to fold.
    pub(super) expected: usize,
    /// Workers waiting for the fold to come within a window of their file.
    pub(super) waiting: usize,
}

/// What the fold builds, behind one lock.
pub(super) struct FoldState<'o> {
    pub(super) run: LoadedRun,
    /// Room for the case table (cases, name bytes), made by the first fold.
    pub(super) reserve: Option<(usize, usize)>,
    pub(super) summary: Summary,
    pub(super) all: Option<Lines>,
    pub(super) observer: &'o mut (dyn FnMut(FileFolded<'_>) + Send),
}

/// Fold every parsed file whose turn has come. The worker that finds the fold idle does it
/// (no thread of its own to wake per file); one that finds it busy leaves its file to it.
pub(super) fn fold_ready<'f>(
    (queue, cv): &(Mutex<Queue>, Condvar),
    folder: &Mutex<FoldState<'_>>,
    file: &dyn Fn(usize) -> Cow<'f, ReportFile>,
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
            let FoldState {
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
            let report = file(index);
            fold(run, &report, done, summary, all.as_mut(), progress);
            observer(FileFolded {
                index,
                file: &report,
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
pub(super) fn read_td_exclusions(run: &mut LoadedRun, opts: &LoadOptions) {
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
