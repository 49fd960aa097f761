//! Fetching that a listing leaves to the load: [`Downloads`] runs beside the load's workers
//! (`load::load_observed`), and [`FetchProgress`] is what front-ends show of it.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::zipped::ZipSource;

/// Counters a front-end polls while the run is fetched. Totals are known once `listed` is
/// set; `bytes_done` grows as bodies stream in (and shrinks back if a download restarts).
#[derive(Debug, Default)]
pub struct FetchProgress {
    /// Keys seen while listing (all pages so far, matching or not).
    pub keys_listed: AtomicU64,
    pub listed: AtomicBool,
    pub objects_total: AtomicU64,
    /// Archives opened (listed from their tails, or whole), or failed to open.
    pub objects_opened: AtomicU64,
    pub objects_done: AtomicU64,
    pub objects_failed: AtomicU64,
    pub bytes_total: AtomicU64,
    pub bytes_done: AtomicU64,
    /// Archives read from the download cache instead of fetched (counted in `objects_done`).
    pub objects_cached: AtomicU64,
    /// Set by the front-end to stop starting new downloads.
    pub cancelled: AtomicBool,
    /// When the last archive was whole (or failed), once it is.
    pub finished: std::sync::OnceLock<std::time::Instant>,
}

impl FetchProgress {
    /// Count an archive opened (or not): done once whole, failed when its download failed;
    /// one that came but cannot be read counts as fetched.
    pub fn count_opened(&self, opened: &Result<ZipSource, String>, fetch_failed: bool) {
        self.objects_opened.fetch_add(1, Ordering::Relaxed);
        match opened {
            // Counted when the rest of it is here.
            Ok(zip) if zip.remote().is_some() => {}
            Err(_) if fetch_failed => {
                self.objects_failed.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                self.objects_done.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Archives neither fetched nor failed yet.
    pub fn objects_left(&self) -> u64 {
        let settled =
            self.objects_done.load(Ordering::Relaxed) + self.objects_failed.load(Ordering::Relaxed);
        self.objects_total
            .load(Ordering::Relaxed)
            .saturating_sub(settled)
    }
}

/// The downloads a listing still waits for, run by the load beside its workers (see
/// [`crate::source::Listing::downloads`]). Dropped without running, it gives up on what it
/// would have fetched, so that no reader waits for ever.
pub struct Downloads {
    job: Option<Box<dyn FnOnce() + Send>>,
    abandon: Option<Box<dyn FnOnce() + Send>>,
    progress: Arc<FetchProgress>,
}

impl std::fmt::Debug for Downloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloads").finish_non_exhaustive()
    }
}

impl Downloads {
    /// `job` fetches; `abandon` tells readers that nothing will come, if it never runs.
    pub fn new(
        job: Box<dyn FnOnce() + Send>,
        abandon: Box<dyn FnOnce() + Send>,
        progress: Arc<FetchProgress>,
    ) -> Self {
        Self {
            job: Some(job),
            abandon: Some(abandon),
            progress,
        }
    }

    /// The counters the downloads update.
    pub fn progress(&self) -> &Arc<FetchProgress> {
        &self.progress
    }

    /// Fetch everything (returns when all is here or failed).
    pub fn run(mut self) {
        self.abandon = None;
        if let Some(job) = self.job.take() {
            job();
        }
        let _ = self.progress.finished.set(std::time::Instant::now());
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        if let Some(abandon) = self.abandon.take() {
            abandon();
        }
    }
}

/// Run `work` on each of `items`, in order, `concurrency` at a time.
pub(super) fn in_order<T: Send>(items: Vec<T>, concurrency: usize, work: impl Fn(T) + Sync) {
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, slots.len().max(1)) {
            s.spawn(|| {
                while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Some(item) = slot.lock().expect("no panics while held").take() {
                        work(item);
                    }
                }
            });
        }
    });
}
