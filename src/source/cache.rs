//! The download cache: a run's archives kept on disk after a download, so opening the same
//! run again downloads nothing and reads them in place, as local zips are read.
//!
//! One folder per run: `<root>/<source>/<owner>/<repo>/<run>/<attempt>/`, one file per
//! archive, written to a temporary name and renamed (a reader never sees half a file), with
//! its ETag beside it when the source gives one. A cached archive is used only while its
//! size (and ETag) match what the source lists now; otherwise it is fetched again. Only
//! archives are cached, never the listing, so a run still in progress is listed afresh each
//! time and never taken as complete. Past the size cap, the runs used longest ago go first.

use std::path::{Path, PathBuf};

/// Where the cache lives and how big it may grow.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    cap_bytes: u64,
}

/// The cache folder when none is given: `$XDG_CACHE_HOME/testscope`, else the platform's
/// (`~/Library/Caches/testscope` on macOS, `~/.cache/testscope` elsewhere).
pub fn default_root() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("testscope"));
    }
    let home = PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?);
    Some(if cfg!(target_os = "macos") {
        home.join("Library/Caches/testscope")
    } else {
        home.join(".cache/testscope")
    })
}

/// Marks when a run folder was last used (its modification time).
const USED: &str = ".used";

impl Cache {
    pub fn new(root: PathBuf, cap_bytes: u64) -> Self {
        Self { root, cap_bytes }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one run's archives.
    pub fn run_dir(&self, source: &str, repo: &str, run: &str, attempt: i64) -> PathBuf {
        let safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        let mut dir = self.root.join(safe(source));
        for part in repo.split('/').filter(|p| !p.is_empty()) {
            dir.push(safe(part));
        }
        dir.join(safe(run)).join(attempt.to_string())
    }

    fn file(dir: &Path, name: &str) -> PathBuf {
        let name: String = name
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c == '\0' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        dir.join(name)
    }

    /// The cached archive `name` of `dir`, if it is still the one the source lists.
    pub fn get(&self, dir: &Path, name: &str, size: u64, etag: Option<&str>) -> Option<PathBuf> {
        let path = Self::file(dir, name);
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() != size {
            return None;
        }
        if let Some(etag) = etag {
            let kept = std::fs::read_to_string(path.with_extension("etag")).ok()?;
            if kept != etag {
                return None;
            }
        }
        let _ = std::fs::write(dir.join(USED), b"");
        Some(path)
    }

    /// Keep `bytes` as archive `name` of `dir` (whole or not at all), then make room.
    pub fn put(
        &self,
        dir: &Path,
        name: &str,
        bytes: &[u8],
        etag: Option<&str>,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = Self::file(dir, name);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::write(&tmp, bytes).and_then(|()| {
            if let Some(etag) = etag {
                std::fs::write(path.with_extension("etag"), etag)?;
            }
            std::fs::rename(&tmp, &path)
        });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        let _ = std::fs::write(dir.join(USED), b"");
        self.evict(dir);
        Ok(())
    }

    /// Remove the runs used longest ago until the cache fits its cap (never `keep`).
    fn evict(&self, keep: &Path) {
        let mut runs = Vec::new();
        collect_runs(&self.root, &mut runs);
        let mut total: u64 = runs.iter().map(|r| r.2).sum();
        runs.sort_by_key(|r| r.1);
        for (dir, _, size) in runs {
            if total <= self.cap_bytes {
                break;
            }
            if dir == keep {
                continue;
            }
            if std::fs::remove_dir_all(&dir).is_ok() {
                total = total.saturating_sub(size);
            }
        }
    }
}

/// Every run folder below `dir` (one holding a `.used` mark): its path, last use, size.
fn collect_runs(dir: &Path, out: &mut Vec<(PathBuf, std::time::SystemTime, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let used = std::fs::metadata(dir.join(USED)).and_then(|m| m.modified());
    if let Ok(when) = used {
        let size = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        out.push((dir.to_path_buf(), when, size));
        return;
    }
    for e in entries.filter_map(Result::ok) {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_runs(&e.path(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_archives_match_size_and_etag_and_old_runs_go_first() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("c"), 25);
        let a = cache.run_dir("s3", "pytorch/pytorch", "1", 1);
        assert!(a.ends_with("s3/pytorch/pytorch/1/1"));
        cache
            .put(&a, "x.zip", b"0123456789", Some("\"e1\""))
            .unwrap();
        assert!(cache.get(&a, "x.zip", 10, Some("\"e1\"")).is_some());
        assert!(
            cache.get(&a, "x.zip", 10, Some("\"e2\"")).is_none(),
            "another ETag"
        );
        assert!(cache.get(&a, "x.zip", 11, None).is_none(), "another size");
        // A truncated file is not the archive.
        std::fs::write(a.join("x.zip"), b"01234").unwrap();
        assert!(cache.get(&a, "x.zip", 10, Some("\"e1\"")).is_none());
        cache
            .put(&a, "x.zip", b"0123456789", Some("\"e1\""))
            .unwrap();
        // Two more runs: past the cap (25 bytes), the run used longest ago goes.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = cache.run_dir("s3", "pytorch/pytorch", "2", 1);
        cache.put(&b, "y.zip", b"0123456789", None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let c = cache.run_dir("github", "o/r", "3", 2);
        cache.put(&c, "z.zip", b"0123456789", None).unwrap();
        assert!(!a.exists(), "the oldest run is evicted");
        assert!(b.exists() && c.exists());
    }
}
