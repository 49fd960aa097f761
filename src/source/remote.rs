//! Archives listed before they are here. An archive is opened from its tail first: a ranged
//! read of its last bytes, extended backwards for as long as the zip reader asks for earlier
//! ones, gives the central directory, so the run's listing (and with it the report order) is
//! exactly the one the whole archive gives, before the rest of it arrives. The listing's
//! [`Downloads`] then fetch the rest of every such archive, in listing order, while the load
//! parses the archives already here; a read of bytes not downloaded yet waits for them.
//! (For sources whose archives' folders are not known from their names: GitHub artifacts
//! may hold zips.)
//!
//! Written here rather than taken from a crate: the zip crate reads from any `Read + Seek`,
//! and what is needed is a reader over bytes that are partly fetched and partly promised,
//! shared by the load's workers; no remote-zip crate offers that over both S3 and plain
//! HTTP.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;

use super::downloads::{Downloads, FetchProgress, in_order};
use super::zipped::{ZipLimits, ZipSource};

/// Bytes of an archive's tail read first: the central directory of a report zip of a few
/// hundred files fits (about 130 bytes a file). Archives up to twice this are fetched whole.
pub const DEFAULT_TAIL: u64 = 64 << 10;

/// How often the tail is extended backwards before the archive is fetched whole instead.
const EXTENSIONS: usize = 3;

/// What a ranged read gave: the bytes asked for, or, from a server that ignores ranges, the
/// whole object.
#[derive(Debug)]
pub enum Ranged {
    Part(Bytes),
    Whole(Bytes),
}

/// An archive's bytes: a tail fetched, then the whole, or why the rest never came.
#[derive(Debug)]
pub struct Remote {
    len: u64,
    state: Mutex<State>,
    changed: Condvar,
    /// While the archive is opened a read before the tail fails instead of waiting (nothing
    /// is downloading yet), and the lowest offset asked for is kept in `wanted`.
    opening: AtomicBool,
    wanted: AtomicU64,
}

#[derive(Debug)]
enum State {
    Tail { at: u64, bytes: Bytes },
    Whole(Bytes),
    Failed(String),
}

impl Remote {
    fn new(len: u64, at: u64, bytes: Bytes) -> Arc<Self> {
        Arc::new(Self {
            len,
            state: Mutex::new(State::Tail { at, bytes }),
            changed: Condvar::new(),
            opening: AtomicBool::new(true),
            wanted: AtomicU64::new(u64::MAX),
        })
    }

    /// The archive's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the archive has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the fetched tail starts while the rest is still to come: the download fetches
    /// bytes `0..at`.
    pub fn missing(&self) -> Option<u64> {
        match &*self.lock() {
            State::Tail { at, .. } => Some(*at),
            _ => None,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("no panics while held")
    }

    /// Put `part` (bytes `at..` up to the tail) before the tail.
    fn extend(&self, at: u64, part: &[u8]) {
        let mut state = self.lock();
        if let State::Tail { at: old, bytes } = &mut *state {
            let mut joined = Vec::with_capacity(part.len() + bytes.len());
            joined.extend_from_slice(part);
            joined.extend_from_slice(bytes);
            *old = at;
            *bytes = Bytes::from(joined);
        }
        self.wanted.store(u64::MAX, Ordering::Relaxed);
    }

    /// The rest has come: `head` is bytes `0..at`. Readers waiting for it go on; the whole
    /// archive is returned (for the download cache).
    pub fn complete(&self, head: &[u8]) -> Result<Bytes, String> {
        let mut state = self.lock();
        let State::Tail { at, bytes } = &*state else {
            return match &*state {
                State::Whole(b) => Ok(b.clone()),
                State::Failed(why) => Err(why.clone()),
                State::Tail { .. } => unreachable!(),
            };
        };
        if head.len() as u64 != *at {
            let at = *at;
            drop(state);
            let why = format!(
                "the download gave {} bytes before the tail where {at} were listed (the \
                 object changed while it was read?)",
                head.len()
            );
            self.fail(why.clone());
            return Err(why);
        }
        let mut whole = Vec::with_capacity(head.len() + bytes.len());
        whole.extend_from_slice(head);
        whole.extend_from_slice(bytes);
        let whole = Bytes::from(whole);
        *state = State::Whole(whole.clone());
        self.changed.notify_all();
        Ok(whole)
    }

    /// The rest will not come: readers waiting for it get `why`. (Nothing changes once the
    /// whole archive is here.)
    pub fn fail(&self, why: String) {
        let mut state = self.lock();
        if let State::Tail { .. } = &*state {
            *state = State::Failed(why);
            self.changed.notify_all();
        }
    }

    /// The whole archive, once downloaded (waits for it).
    pub fn whole(&self) -> Result<Bytes, String> {
        let mut state = self.lock();
        loop {
            match &*state {
                State::Whole(b) => return Ok(b.clone()),
                State::Failed(why) => return Err(format!("archive not downloaded: {why}")),
                State::Tail { .. } => {
                    state = self.changed.wait(state).expect("no panics while held");
                }
            }
        }
    }

    /// Fill as much of `out` as one read gives from `pos` (see [`Self::opening`]).
    fn read_at(&self, pos: u64, out: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let bytes = {
            let state = self.lock();
            match &*state {
                State::Whole(b) => Some((0, b.clone())),
                State::Tail { at, bytes } if pos >= *at => Some((*at, bytes.clone())),
                State::Failed(why) => return Err(io::Error::other(why.clone())),
                State::Tail { .. } => None,
            }
        };
        let (from, bytes) = match bytes {
            Some(b) => b,
            None if self.opening.load(Ordering::Relaxed) => {
                self.wanted.fetch_min(pos, Ordering::Relaxed);
                return Err(io::Error::other("not downloaded yet"));
            }
            None => (0, self.whole().map_err(io::Error::other)?),
        };
        let start = usize::try_from(pos - from).unwrap_or(usize::MAX);
        let n = out.len().min(bytes.len().saturating_sub(start));
        out[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }
}

/// The zip crate's reader over a [`Remote`]: cloned per read of an entry it decodes.
#[derive(Debug, Clone)]
pub(super) struct RemoteCursor {
    pub(super) remote: Arc<Remote>,
    pub(super) pos: u64,
}

impl Read for RemoteCursor {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.remote.read_at(self.pos, out)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteCursor {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = super::zipped::sought(self.pos, self.remote.len, to)?;
        Ok(self.pos)
    }
}

/// Open the archive `name` of `len` bytes through `fetch(start, end)` (bytes `start..end`):
/// its last `tail` bytes first, more before them while the zip reader asks for them, the
/// whole archive when it is small or asks for too much. The archive's other bytes come
/// later through [`ZipSource::remote`] and a [`Download`].
pub fn open_ranged(
    name: &str,
    len: u64,
    tail: u64,
    limits: ZipLimits,
    fetch: &mut dyn FnMut(u64, u64) -> Result<Ranged, String>,
) -> Result<ZipSource, String> {
    let whole = |fetch: &mut dyn FnMut(u64, u64) -> Result<Ranged, String>| {
        let bytes = match fetch(0, len)? {
            Ranged::Part(b) | Ranged::Whole(b) => b,
        };
        ZipSource::open(name, bytes, limits).map_err(|e| e.to_string())
    };
    if len <= tail.saturating_mul(2) {
        return whole(fetch);
    }
    let mut at = len - tail;
    let remote = match fetch(at, len)? {
        Ranged::Whole(b) => return ZipSource::open(name, b, limits).map_err(|e| e.to_string()),
        Ranged::Part(b) if b.len() as u64 == tail => Remote::new(len, at, b),
        Ranged::Part(_) => return whole(fetch),
    };
    for _ in 0..=EXTENSIONS {
        match ZipSource::open_remote(name, remote.clone(), limits) {
            Ok(zip) => {
                remote.opening.store(false, Ordering::Relaxed);
                return Ok(zip);
            }
            Err(e) => {
                let wanted = remote.wanted.load(Ordering::Relaxed);
                if wanted >= at {
                    // The answer of the bytes at hand: the whole archive would give it too.
                    return Err(e.to_string());
                }
                // A little more than asked: the zip reader reads headers in small steps.
                let from = wanted.saturating_sub(tail);
                match fetch(from, at)? {
                    Ranged::Whole(b) => {
                        return ZipSource::open(name, b, limits).map_err(|e| e.to_string());
                    }
                    Ranged::Part(b) if b.len() as u64 == at - from => remote.extend(from, &b),
                    Ranged::Part(_) => return whole(fetch),
                }
                at = from;
            }
        }
    }
    whole(fetch)
}

/// The rest of one archive: `fetch(at)` gives its bytes `0..at`; `done` is handed the whole
/// archive once it is here (to keep it in the download cache).
pub struct Download {
    pub remote: Arc<Remote>,
    pub fetch: Box<dyn FnOnce(u64) -> Result<Bytes, String> + Send>,
    pub done: Box<dyn FnOnce(&Bytes) + Send>,
}

impl Downloads {
    /// Fetch the rest of archives opened from their tails, in order, `concurrency` at a
    /// time; `None` when there are none.
    pub fn of_rests(
        tasks: Vec<Download>,
        concurrency: usize,
        progress: Arc<FetchProgress>,
    ) -> Option<Self> {
        if tasks.is_empty() {
            return None;
        }
        let remotes: Vec<Arc<Remote>> = tasks.iter().map(|t| t.remote.clone()).collect();
        let counters = progress.clone();
        let job = move || {
            in_order(tasks, concurrency, |task| {
                let Download {
                    remote,
                    fetch,
                    done,
                } = task;
                let result = match remote.missing() {
                    Some(_) if counters.cancelled.load(Ordering::Relaxed) => {
                        Err("cancelled".to_string())
                    }
                    Some(at) => fetch(at).and_then(|head| remote.complete(&head)),
                    None => remote.whole(),
                };
                match result {
                    Ok(whole) => {
                        done(&whole);
                        counters.objects_done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(why) => {
                        remote.fail(why);
                        counters.objects_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        };
        let abandon = move || {
            for remote in remotes {
                remote.fail("not downloaded: the load stopped first".into());
            }
        };
        Some(Self::new(Box::new(job), Box::new(abandon), progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `files` XML entries, each `size` bytes of varied text, deflated.
    fn archive(files: usize, size: usize) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut state = 7u64;
        for i in 0..files {
            zip.start_file(format!("test-reports/python-pytest/t{i:04}.xml"), opts)
                .unwrap();
            let mut body = Vec::with_capacity(size);
            while body.len() < size {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                write!(body, "<x a=\"{}\"/>", state >> 40).unwrap();
            }
            zip.write_all(&body).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// Serves ranges of `bytes`, counting what it sent.
    fn server(bytes: &[u8], sent: &AtomicU64) -> impl FnMut(u64, u64) -> Result<Ranged, String> {
        move |start, end| {
            sent.fetch_add(end - start, Ordering::Relaxed);
            Ok(Ranged::Part(Bytes::copy_from_slice(
                &bytes[start as usize..end as usize],
            )))
        }
    }

    /// `bytes` opened through [`server`] with a tail of `tail` bytes.
    fn opened(bytes: &[u8], tail: u64, sent: &AtomicU64) -> ZipSource {
        let limits = ZipLimits::default();
        open_ranged(
            "a.zip",
            bytes.len() as u64,
            tail,
            limits,
            &mut server(bytes, sent),
        )
        .unwrap()
    }

    fn names(zip: &ZipSource) -> Vec<String> {
        zip.entries().iter().map(|e| e.raw_name.clone()).collect()
    }

    #[test]
    fn a_tail_lists_the_archive_and_the_rest_reads_after_it_comes() {
        let bytes = archive(300, 3000);
        let sent = AtomicU64::new(0);
        let limits = ZipLimits::default();
        let zip = opened(&bytes, 4096, &sent);
        let whole = ZipSource::open("a.zip", Bytes::from(bytes.clone()), limits).unwrap();
        assert_eq!(names(&zip), names(&whole));
        // The directory (300 entries of about 90 bytes) took a few extensions, not the archive.
        let listed = sent.load(Ordering::Relaxed);
        assert!(
            listed < bytes.len() as u64 / 4,
            "{listed} of {}",
            bytes.len()
        );
        let remote = zip.remote().expect("read in part");
        let at = remote.missing().unwrap();
        assert_eq!(listed, bytes.len() as u64 - at);
        // A reader started now waits for the download.
        std::thread::scope(|s| {
            let reader = s.spawn(|| zip.read_entry(5, 1 << 20));
            remote.complete(&bytes[..at as usize]).unwrap();
            assert_eq!(
                reader.join().unwrap().unwrap(),
                whole.read_entry(5, 1 << 20).unwrap()
            );
        });
        assert_eq!(
            zip.read_entry(299, 1 << 20).unwrap(),
            whole.read_entry(299, 1 << 20).unwrap()
        );
    }

    #[test]
    fn small_archives_and_servers_without_ranges_give_the_whole() {
        let bytes = archive(3, 100);
        let sent = AtomicU64::new(0);
        let limits = ZipLimits::default();
        let zip = opened(&bytes, 4096, &sent);
        assert!(zip.remote().is_none());
        assert_eq!(sent.load(Ordering::Relaxed), bytes.len() as u64);
        let big = archive(50, 3000);
        let mut whole = |_, _| Ok(Ranged::Whole(Bytes::from(big.clone())));
        let zip = open_ranged("b.zip", big.len() as u64, 1024, limits, &mut whole).unwrap();
        assert!(zip.remote().is_none());
        assert_eq!(zip.entries().len(), 50);
    }

    #[test]
    fn a_failed_download_is_each_reader_s_error_and_not_a_zip_error() {
        let bytes = archive(40, 3000);
        let sent = AtomicU64::new(0);
        let zip = opened(&bytes, 2048, &sent);
        let remote = zip.remote().unwrap();
        remote.fail("HTTP 500".into());
        let e = zip.read_entry(0, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("archive not downloaded: HTTP 500"), "{e}");
        // Dropped downloads fail their archives rather than leave readers waiting.
        let bytes2 = archive(40, 3000);
        let zip2 = opened(&bytes2, 2048, &sent);
        let task = Download {
            remote: zip2.remote().unwrap(),
            fetch: Box::new(|_| unreachable!("never run")),
            done: Box::new(|_| {}),
        };
        drop(Downloads::of_rests(vec![task], 2, Arc::default()));
        assert!(zip2.read_entry(0, 1 << 20).is_err());
    }

    #[test]
    fn downloads_complete_archives_and_count_them() {
        let bytes = archive(60, 3000);
        let sent = AtomicU64::new(0);
        let zip = opened(&bytes, 2048, &sent);
        let kept = Arc::new(Mutex::new(None));
        let (body, keep) = (bytes.clone(), kept.clone());
        let task = Download {
            remote: zip.remote().unwrap(),
            fetch: Box::new(move |at| Ok(Bytes::copy_from_slice(&body[..at as usize]))),
            done: Box::new(move |whole| *keep.lock().unwrap() = Some(whole.clone())),
        };
        let progress = Arc::new(FetchProgress::default());
        Downloads::of_rests(vec![task], 4, progress.clone())
            .unwrap()
            .run();
        assert_eq!(progress.objects_done.load(Ordering::Relaxed), 1);
        assert_eq!(kept.lock().unwrap().as_deref(), Some(&bytes[..]));
        assert_eq!(zip.entries().len(), 60);
        assert!(zip.read_entry(59, 1 << 20).is_ok());
    }
}
