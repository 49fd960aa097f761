//! Reading cases again after the load: the upload lines of a run loaded without them, whole
//! documents by (file, ordinal), and JSON lines from the kept compressed `test_run` parts.
//! The upload plan and the terminal UI both use these; the load itself never does.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::load::file::enrichment_for;
use crate::load::{LoadOptions, Progress, load};
use crate::report::{Object, parse_only};
use crate::run::{Lines, LoadedRun};
use crate::source::{Listing, ReportFile};

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
