//! Local sources: an on-disk bucket (`gha-artifacts/<owner>/<repo>/<run>/<attempt>/artifact`),
//! a folder of artifact zips, a single zip, a folder of (extracted) XML reports, and the older
//! older script's `--circleci` layout (`**/test/test-reports/**/*.xml`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::zipped::{ZipLimits, ZipSource};
use super::{AuxFile, Listing, Origin, RelPath, ReportFile, SourceError};

/// What the user pointed at.
#[derive(Debug, Clone)]
pub struct LocalSpec {
    pub path: PathBuf,
    /// The older script's mode: only `**/test/test-reports/**/*.xml` below `path`.
    pub circleci: bool,
    /// For the bucket layout: `<owner>/<repo>`, run id and attempt.
    pub artifacts_repo: String,
    pub run_id: Option<String>,
    pub attempt: Option<String>,
    pub zip_limits: ZipLimits,
}

/// The artifact-name prefixes the reference downloads (docs/compatibility.md section 1).
pub const REPORT_PREFIX: &str = "test-report";
pub const JSONS_PREFIX: &str = "test-jsons";

pub fn discover(spec: &LocalSpec) -> Result<Listing, SourceError> {
    let path = &spec.path;
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path.display(), e))?;
    let mut listing = Listing::default();
    if spec.circleci {
        listing.description = format!("{} (circleci layout)", path.display());
        walk_xml(path, &mut Vec::new(), &mut listing, true)?;
    } else if meta.is_file() {
        let name = file_name(path);
        if name.ends_with(".zip") {
            listing.description = path.display().to_string();
            add_zip(path, &name, true, spec.zip_limits, &mut listing);
        } else {
            listing.description = path.display().to_string();
            listing.reports.push(ReportFile {
                rel: RelPath(vec![name.into()]),
                origin: Origin::Disk(path.clone()),
                size: meta.len(),
            });
        }
    } else if path.join("gha-artifacts").is_dir() {
        let repo_dir = path.join("gha-artifacts").join(&spec.artifacts_repo);
        let run = match &spec.run_id {
            Some(r) => r.clone(),
            None => only_child(&repo_dir, "--workflow-run-id")?,
        };
        let attempt = match &spec.attempt {
            Some(a) => a.clone(),
            None => only_child(&repo_dir.join(&run), "--workflow-run-attempt")?,
        };
        listing.run_id = Some(run.clone());
        listing.attempt = Some(attempt.clone());
        let dir = path
            .join("gha-artifacts")
            .join(&spec.artifacts_repo)
            .join(&run)
            .join(&attempt)
            .join("artifact");
        if !dir.is_dir() {
            return Err(SourceError::Other(format!(
                "no artifacts for run {run} attempt {attempt}: {} does not exist",
                dir.display()
            )));
        }
        listing.description = dir.display().to_string();
        add_zip_folder(&dir, spec.zip_limits, &mut listing)?;
    } else if has_artifact_zips(path)? {
        listing.description = path.display().to_string();
        add_zip_folder(path, spec.zip_limits, &mut listing)?;
    } else {
        listing.description = path.display().to_string();
        walk_xml(path, &mut Vec::new(), &mut listing, false)?;
    }
    listing.finish();
    Ok(listing)
}

/// The one run (or attempt) folder of a bucket layout, when the flag that picks it is absent.
fn only_child(dir: &Path, flag: &str) -> Result<String, SourceError> {
    let names: Vec<String> = sorted_dir(dir)?
        .into_iter()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    match names.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(SourceError::Other(format!("{} is empty", dir.display()))),
        many => Err(SourceError::Other(format!(
            "{} holds several runs or attempts ({}); pick one with {flag}",
            dir.display(),
            many.join(", ")
        ))),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sorted_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, SourceError> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| SourceError::io(dir.display(), e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SourceError::io(dir.display(), e))?;
    // S3 lists keys in UTF-8 byte order; so do we.
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

fn has_artifact_zips(dir: &Path) -> Result<bool, SourceError> {
    Ok(sorted_dir(dir)?.iter().any(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        (n.starts_with(REPORT_PREFIX) || n.starts_with(JSONS_PREFIX)) && n.ends_with(".zip")
    }))
}

fn add_zip_folder(dir: &Path, limits: ZipLimits, listing: &mut Listing) -> Result<(), SourceError> {
    let mut zips = Vec::new();
    for entry in sorted_dir(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_reports = name.starts_with(REPORT_PREFIX);
        if (is_reports || name.starts_with(JSONS_PREFIX)) && entry.path().is_file() {
            zips.push((entry.path(), name, is_reports));
        }
    }
    // Opening a run's hundred-odd archives (reading their central directories) is the one
    // step before the load can start: on every core, then added in folder order.
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut opened: Vec<(usize, Result<ZipSource, SourceError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(zips.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, name, _)) = zips.get(i) else {
                            return done;
                        };
                        done.push((i, ZipSource::open_file(name, path, limits)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("opening a zip does not panic"))
            .collect()
    });
    opened.sort_by_key(|(i, _)| *i);
    for (i, zip) in opened {
        let (path, _, is_reports) = &zips[i];
        add_opened(path, zip, *is_reports, listing);
    }
    Ok(())
}

/// Add an opened archive; one that could not be opened becomes a problem, not an error.
fn add_opened(
    path: &Path,
    opened: Result<ZipSource, SourceError>,
    is_reports: bool,
    listing: &mut Listing,
) {
    match opened {
        Ok(zip) => add_archive(Arc::new(zip), is_reports, listing),
        Err(e) => listing
            .problems
            .push((path.display().to_string(), e.to_string())),
    }
}

/// Open one artifact; a zip that cannot be opened becomes a problem, not an error.
pub fn add_zip(
    path: &Path,
    name: &str,
    is_reports: bool,
    limits: ZipLimits,
    listing: &mut Listing,
) {
    add_opened(
        path,
        ZipSource::open_file(name, path, limits),
        is_reports,
        listing,
    );
}

/// List an opened archive's reports (or td_exclusions files) under `unzipped-<stem>/`.
pub fn add_archive(zip: Arc<ZipSource>, is_reports: bool, listing: &mut Listing) {
    let root: Box<str> = zip.extract_folder().into();
    for (index, e) in zip.entries().iter().enumerate() {
        let Some(last) = e.components.last() else {
            continue;
        };
        if e.is_dir {
            continue;
        }
        let mut comps = Vec::with_capacity(e.components.len() + 1);
        comps.push(root.clone());
        comps.extend(e.components.iter().cloned());
        let origin = Origin::Zip {
            archive: zip.clone(),
            index,
        };
        if is_reports && last.ends_with(".xml") {
            listing.reports.push(ReportFile {
                rel: RelPath(comps),
                origin,
                size: e.size,
            });
        } else if !is_reports && last.starts_with("td_exclusions") && last.ends_with(".json") {
            listing.td_exclusions.push(AuxFile {
                rel: RelPath(comps),
                origin,
            });
        }
    }
}

/// Every `*.xml` file below `dir` (not following symlinked folders, like pathlib's `**`).
fn walk_xml(
    dir: &Path,
    prefix: &mut Vec<Box<str>>,
    listing: &mut Listing,
    circleci: bool,
) -> Result<(), SourceError> {
    for entry in sorted_dir(dir)? {
        let name: Box<str> = entry.file_name().to_string_lossy().into();
        let ft = entry
            .file_type()
            .map_err(|e| SourceError::io(entry.path().display(), e))?;
        if ft.is_dir() {
            prefix.push(name);
            walk_xml(&entry.path(), prefix, listing, circleci)?;
            prefix.pop();
        } else if name.ends_with(".xml") && !entry.path().is_dir() {
            if circleci && !under_test_reports(prefix) {
                continue;
            }
            let mut comps = prefix.clone();
            comps.push(name);
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            listing.reports.push(ReportFile {
                rel: RelPath(comps),
                origin: Origin::Disk(entry.path()),
                size,
            });
        }
    }
    Ok(())
}

/// `**/test/test-reports/**`: the folders contain `test` directly followed by `test-reports`.
fn under_test_reports(folders: &[Box<str>]) -> bool {
    folders
        .windows(2)
        .any(|w| &*w[0] == "test" && &*w[1] == "test-reports")
}
