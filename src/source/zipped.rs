//! Zip artifacts, never extracted to disk: a downloaded one is read in memory, a local one
//! piecewise from its file. Entry names get the same treatment as Python's
//! `ZipFile.extractall` (name cut at NUL, empty/`.`/`..` components dropped, so `../x` and
//! `/x` stay inside the folder), and reading is bounded against zip bombs: per entry (size
//! and expansion ratio) and per archive (total uncompressed bytes).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use zip::ZipArchive;

use super::SourceError;
use super::remote::{Remote, RemoteCursor};
use crate::codec::inflate::inflate_into;

/// Bounds on what one archive may expand to.
///
/// Sizes are checked against the central directory before anything is decompressed, and an
/// entry is never allowed to yield more than its header declares, so the declared sizes bound
/// the work: an archive whose entries declare more than `max_total_bytes` in all is refused
/// whole when opened (overlapping-entry bombs declare petabytes from kilobytes), and one
/// pass over its entries can never decompress more than that.
#[derive(Debug, Clone, Copy)]
pub struct ZipLimits {
    /// Largest single entry, uncompressed.
    pub max_entry_bytes: u64,
    /// Largest expansion ratio for entries over `ratio_floor_bytes` (deflate tops out near
    /// 1032:1; real reports compress 10-200:1).
    pub max_ratio: u64,
    pub ratio_floor_bytes: u64,
    /// Largest total of uncompressed bytes in one archive (the sum over its file entries).
    pub max_total_bytes: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            max_entry_bytes: 1 << 30,
            max_ratio: 1000,
            ratio_floor_bytes: 16 << 20,
            // The largest real test-reports artifacts hold a few hundred MB of XML.
            max_total_bytes: 8 << 30,
        }
    }
}

/// One entry of the archive.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub raw_name: String,
    /// Path components after extractall's sanitising; empty for entries that extract nowhere.
    pub components: Vec<Box<str>>,
    pub is_dir: bool,
    pub size: u64,
    pub compressed_size: u64,
    /// A plain deflated entry: inflated straight from its compressed bytes (see
    /// [`inflate_into`]) instead of through the zip crate's reader.
    raw: Option<RawEntry>,
}

/// Where a plain deflated entry is: its local header, and its compressed size and CRC-32
/// from the central directory.
#[derive(Debug, Clone, Copy)]
struct RawEntry {
    header_start: u64,
    compressed_size: u64,
    crc: u32,
}

/// Where an archive's bytes are.
#[derive(Debug)]
enum Backing {
    /// Downloaded, or handed over whole.
    Memory(Bytes),
    /// A local artifact, read piecewise: its central directory when it is opened, an entry's
    /// local header and compressed bytes when the entry is read. A run's zips then take no
    /// memory while it loads, and the load starts once the directories are read.
    File(LocalFile),
    /// Downloading: its tail is here, the rest comes later (see [`super::remote`]).
    Remote(Arc<Remote>),
}

/// An opened archive.
#[derive(Debug)]
pub struct ZipSource {
    name: String,
    backing: Backing,
    /// For the entries [`RawEntry`] does not cover (stored, other methods, encrypted).
    archive: ZipArchive<ArchiveReader>,
    entries: Vec<ZipEntry>,
    limits: ZipLimits,
}

impl ZipSource {
    /// Open an archive from its bytes; `name` is its file name (for messages and the
    /// `unzipped-<stem>` folder).
    pub fn open(name: &str, bytes: Bytes, limits: ZipLimits) -> Result<Self, SourceError> {
        let reader = ArchiveReader::Memory(Cursor::new(bytes.clone()));
        Self::build(name, Backing::Memory(bytes), reader, limits)
    }

    /// Open the archive at `path` (read piecewise from the file); `name` as for [`Self::open`].
    pub fn open_file(name: &str, path: &Path, limits: ZipLimits) -> Result<Self, SourceError> {
        let io_err = |e| SourceError::io(path.display(), e);
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.is_file() {
            return Err(io_err(io::Error::other("not a regular file")));
        }
        let local = LocalFile::opened(path, file, meta.len());
        let reader = ArchiveReader::File(FileCursor {
            file: local.clone(),
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
        });
        Self::build(name, Backing::File(local), reader, limits)
    }

    /// Open an archive of which only the tail is here yet (see [`super::remote::open_ranged`]).
    pub(super) fn open_remote(
        name: &str,
        remote: Arc<Remote>,
        limits: ZipLimits,
    ) -> Result<Self, SourceError> {
        let reader = ArchiveReader::Remote(RemoteCursor {
            remote: remote.clone(),
            pos: 0,
        });
        Self::build(name, Backing::Remote(remote), reader, limits)
    }

    /// The download this archive still waits for, if it does.
    pub fn remote(&self) -> Option<Arc<Remote>> {
        match &self.backing {
            Backing::Remote(r) => r.missing().is_some().then(|| r.clone()),
            _ => None,
        }
    }

    fn build(
        name: &str,
        backing: Backing,
        reader: ArchiveReader,
        limits: ZipLimits,
    ) -> Result<Self, SourceError> {
        let err = |e: zip::result::ZipError| SourceError::Zip {
            what: name.to_string(),
            message: e.to_string(),
        };
        let archive = ZipArchive::new(reader).map_err(err)?;
        let mut entries = Vec::with_capacity(archive.len());
        let mut total = 0u64;
        for i in 0..archive.len() {
            // The central directory's record: no local header is read here.
            let f = archive.by_index_data(i).map_err(err)?;
            let raw_name = f.name().map_err(err)?.into_owned();
            let raw = (f.compression() == zip::CompressionMethod::Deflated && !f.encrypted()).then(
                || RawEntry {
                    header_start: f.header_start(),
                    compressed_size: f.compressed_size(),
                    crc: f.crc32(),
                },
            );
            let entry = ZipEntry {
                raw,
                components: extract_components(&raw_name),
                is_dir: f.is_dir(),
                size: f.size(),
                compressed_size: f.compressed_size(),
                raw_name,
            };
            if !entry.is_dir {
                total = total.saturating_add(entry.size);
                if total > limits.max_total_bytes {
                    return Err(SourceError::Zip {
                        what: name.to_string(),
                        message: format!(
                            "its entries expand to more than the limit of {} bytes in all \
                             (a zip bomb?)",
                            limits.max_total_bytes
                        ),
                    });
                }
            }
            entries.push(entry);
        }
        Ok(Self {
            name: name.to_string(),
            backing,
            archive,
            entries,
            limits,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `unzipped-<name without its last suffix>`, as the reference's `unzip` names it.
    pub fn extract_folder(&self) -> String {
        format!("unzipped-{}", path_stem(&self.name))
    }

    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    pub fn entry_name(&self, index: usize) -> &str {
        self.entries.get(index).map_or("?", |e| &e.raw_name)
    }

    /// Decompress one entry, refusing more than the limits allow (whatever the header claims).
    pub fn read_entry(&self, index: usize, max_bytes: u64) -> Result<Vec<u8>, SourceError> {
        let mut out = Vec::new();
        self.read_entry_into(index, max_bytes, &mut out)?;
        Ok(out)
    }

    /// As [`Self::read_entry`], into a reused buffer (its old content is replaced; on an
    /// error it is left empty).
    pub fn read_entry_into(
        &self,
        index: usize,
        max_bytes: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SourceError> {
        let result = self.fill_entry(index, max_bytes, out);
        if result.is_err() {
            out.clear();
        }
        result
    }

    /// [`Self::read_entry_into`]'s work: a deflated entry inflates over the old content
    /// (only growth is zero-filled), anything else is read after clearing it.
    fn fill_entry(
        &self,
        index: usize,
        max_bytes: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), SourceError> {
        let entry = self.entries.get(index).ok_or_else(|| SourceError::Zip {
            what: self.name.clone(),
            message: format!("no entry {index}"),
        })?;
        let what = format!("{}!{}", self.name, entry.raw_name);
        let limit = max_bytes.min(self.limits.max_entry_bytes);
        if entry.size > limit {
            return Err(SourceError::TooLarge { what, limit });
        }
        // Judged on the declared sizes, before decompressing anything: the read below never
        // yields more than the declared size.
        let ratio_cap = entry
            .compressed_size
            .max(1)
            .saturating_mul(self.limits.max_ratio);
        if entry.size > self.limits.ratio_floor_bytes && entry.size > ratio_cap {
            return Err(SourceError::Zip {
                what,
                message: format!(
                    "expands more than {}:1 (a zip bomb?)",
                    self.limits.max_ratio
                ),
            });
        }
        if let Some(raw) = entry.raw {
            return self
                .with_compressed(raw, |data| inflate_into(data, entry.size, raw.crc, out))
                .and_then(|inflated| inflated)
                .map_err(|message| SourceError::Zip { what, message });
        }
        out.clear();
        // ZipArchive clones share the parsed directory; the cursor is per clone.
        let mut archive = self.archive.clone();
        let zip_err = |e: zip::result::ZipError| SourceError::Zip {
            what: what.clone(),
            message: e.to_string(),
        };
        let file = archive.by_index(index).map_err(zip_err)?;
        out.reserve(entry.size as usize);
        // One byte past the declared size is enough to tell a lying header.
        let n = file
            .take(entry.size.saturating_add(1))
            .read_to_end(out)
            .map_err(|e| SourceError::Zip {
                what: what.clone(),
                message: e.to_string(),
            })?;
        if n as u64 > entry.size {
            return Err(SourceError::Zip {
                what,
                message: "larger than its declared uncompressed size".into(),
            });
        }
        Ok(())
    }

    /// Hand `f` the compressed bytes of a deflated entry: they follow its local header,
    /// whose name and extra field may differ in length from the central directory's.
    fn with_compressed<T>(&self, raw: RawEntry, f: impl FnOnce(&[u8]) -> T) -> Result<T, String> {
        const LOCAL_HEADER: u64 = 30;
        let past_end = || "entry data past the end of the archive".to_string();
        // A downloading archive's entries are read once the whole of it is here (waiting for
        // it if need be).
        let in_memory = match &self.backing {
            Backing::Memory(bytes) => Some(bytes.clone()),
            Backing::Remote(remote) => Some(remote.whole()?),
            Backing::File(_) => None,
        };
        let mut head = [0u8; LOCAL_HEADER as usize];
        self.read_at(raw.header_start, &mut head)
            .map_err(|_| past_end())?;
        if head[..4] != *b"PK\x03\x04" {
            return Err("invalid local file header".into());
        }
        let field = |at: usize| u64::from(u16::from_le_bytes([head[at], head[at + 1]]));
        let start = raw.header_start + LOCAL_HEADER + field(26) + field(28);
        let end = start
            .checked_add(raw.compressed_size)
            .filter(|&end| end <= self.len())
            .ok_or_else(past_end)?;
        if let Some(bytes) = in_memory {
            // (Within the length, so within the address space.)
            return Ok(f(&bytes[start as usize..end as usize]));
        }
        thread_local! {
            /// The compressed bytes of the entry being read, reused from entry to entry.
            static COMPRESSED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        COMPRESSED.with_borrow_mut(|buf| {
            buf.resize((end - start) as usize, 0);
            self.read_at(start, buf).map_err(|e| e.to_string())?;
            Ok(f(buf))
        })
    }

    fn len(&self) -> u64 {
        match &self.backing {
            Backing::Memory(bytes) => bytes.len() as u64,
            Backing::File(f) => f.len,
            Backing::Remote(r) => r.len(),
        }
    }

    /// Fill `buf` from `offset`.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.len());
        let Some(end) = end else {
            return Err(io::ErrorKind::UnexpectedEof.into());
        };
        match &self.backing {
            Backing::Memory(bytes) => {
                buf.copy_from_slice(&bytes[offset as usize..end as usize]);
                Ok(())
            }
            Backing::File(f) => f.read_exact_at(buf, offset),
            Backing::Remote(r) => {
                let bytes = r.whole().map_err(io::Error::other)?;
                buf.copy_from_slice(&bytes[offset as usize..end as usize]);
                Ok(())
            }
        }
    }
}

/// What the zip crate reads an archive through: cloned per read of an entry it decodes.
#[derive(Debug, Clone)]
enum ArchiveReader {
    Memory(Cursor<Bytes>),
    File(FileCursor),
    Remote(RemoteCursor),
}

impl Read for ArchiveReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Memory(c) => c.read(out),
            Self::File(c) => c.read(out),
            Self::Remote(c) => c.read(out),
        }
    }
}

impl Seek for ArchiveReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Self::Memory(c) => c.seek(to),
            Self::File(c) => c.seek(to),
            Self::Remote(c) => c.seek(to),
        }
    }
}

/// A file read at a position of its own (positioned reads: clones share the file), with a
/// read-ahead that grows while reads follow on from each other (the central directory is
/// read in many small pieces) and starts small again after a seek (a local header).
#[derive(Debug, Clone)]
struct FileCursor {
    file: LocalFile,
    pos: u64,
    buf: Vec<u8>,
    /// Where `buf` was read from.
    buf_at: u64,
}

impl FileCursor {
    const MIN_AHEAD: usize = 4 << 10;
    const MAX_AHEAD: usize = 1 << 20;
}

impl Read for FileCursor {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.file.len {
            return Ok(0);
        }
        let buf_end = self.buf_at + self.buf.len() as u64;
        if !(self.buf_at..buf_end).contains(&self.pos) {
            let left = usize::try_from(self.file.len - self.pos).unwrap_or(usize::MAX);
            if out.len() >= Self::MAX_AHEAD {
                let want = out.len().min(left);
                let n = self.file.read_at(&mut out[..want], self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            let ahead = if self.pos == buf_end && !self.buf.is_empty() {
                (self.buf.len() * 2).min(Self::MAX_AHEAD)
            } else {
                Self::MIN_AHEAD
            };
            self.buf.resize(ahead.max(out.len()).min(left), 0);
            let n = self.file.read_at(&mut self.buf, self.pos)?;
            self.buf.truncate(n);
            self.buf_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - from);
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for FileCursor {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = sought(self.pos, self.file.len, to)?;
        Ok(self.pos)
    }
}

/// Where a seek `to` from `pos` in `len` bytes lands (past the end is allowed, as for files).
pub(super) fn sought(pos: u64, len: u64, to: SeekFrom) -> io::Result<u64> {
    let (base, delta) = match to {
        SeekFrom::Start(at) => (at, 0),
        SeekFrom::End(d) => (len, d),
        SeekFrom::Current(d) => (pos, d),
    };
    base.checked_add_signed(delta)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))
}

/// A local archive file, opened where it is read: each thread keeps the last one it read
/// open, so reading a zip's entries in turn opens it once, and a run of thousands of zips
/// holds no more descriptors than there are threads.
#[derive(Debug, Clone)]
struct LocalFile {
    path: Arc<Path>,
    /// The length when opened.
    len: u64,
    /// Which archive this is to the threads' open files (a path can be opened again after
    /// it changed on disk).
    id: u64,
}

thread_local! {
    /// The file this thread read last, by [`LocalFile::id`].
    static OPEN: RefCell<Option<(u64, File)>> = const { RefCell::new(None) };
}

impl LocalFile {
    /// A new archive from the file just opened at `path` (kept as this thread's open one).
    fn opened(path: &Path, file: File, len: u64) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        OPEN.set(Some((id, file)));
        Self {
            path: path.into(),
            len,
            id,
        }
    }

    /// One positioned read (a short count at the end of the file).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        OPEN.with_borrow_mut(|open| {
            let file = match open {
                Some((id, file)) if *id == self.id => file,
                _ => {
                    *open = None; // closed before the next one opens
                    &mut open.insert((self.id, File::open(&self.path)?)).1
                }
            };
            #[cfg(unix)]
            return std::os::unix::fs::FileExt::read_at(file, buf, offset);
            #[cfg(windows)]
            return std::os::windows::fs::FileExt::seek_read(file, buf, offset);
        })
    }

    /// Fill `buf` by positioned reads.
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// `Path(name).stem`: the last component without its last suffix.
pub fn path_stem(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rfind('.') {
        Some(0) | None => base,
        Some(i) => &base[..i],
    }
}

/// What `extractall` makes of a member name on a POSIX system.
pub fn extract_components(name: &str) -> Vec<Box<str>> {
    let name = name.split('\0').next().unwrap_or("");
    name.split('/')
        .filter(|c| !matches!(*c, "" | "." | ".."))
        .map(Into::into)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary file holding `bytes`.
    fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    /// Positioned reads with read-ahead give what a cursor over the same bytes gives, for
    /// any mix of seeks and read sizes.
    #[test]
    fn file_cursor_reads_like_a_cursor() {
        let mut rng = testscope_gen::rng::Rng::new(0x5eed_f11e);
        let data: Vec<u8> = (0..300_000).map(|_| rng.next_u64() as u8).collect();
        let file = temp_file(&data);
        let opened = File::open(file.path()).unwrap();
        let mut ours = FileCursor {
            file: LocalFile::opened(file.path(), opened, data.len() as u64),
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
        };
        let mut theirs = Cursor::new(&data[..]);
        for step in 0..3000 {
            let r = rng.next_u64();
            if r.is_multiple_of(3) {
                let d = (rng.next_u64() % 400_000) as i64 - 200_000;
                let to = match r % 9 {
                    0 => SeekFrom::Start(d.unsigned_abs()),
                    3 => SeekFrom::End(d / 100),
                    _ => SeekFrom::Current(d / 10),
                };
                let (a, b) = (ours.seek(to), theirs.seek(to));
                assert_eq!(a.ok(), b.ok(), "step {step}: seek {to:?}");
            }
            let size = match rng.next_u64() % 4 {
                0 => 1 + (rng.next_u64() % 8) as usize,
                1 => (rng.next_u64() % 3000) as usize,
                2 => (rng.next_u64() % 100_000) as usize,
                _ => (rng.next_u64() % 1_500_000) as usize,
            };
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let na = (&mut ours).take(size as u64).read_to_end(&mut a).unwrap();
            let nb = (&mut theirs).take(size as u64).read_to_end(&mut b).unwrap();
            assert_eq!((na, &a), (nb, &b), "step {step}: read {size}");
        }
    }

    /// An archive read from its file and the same archive in memory list the same entries
    /// and read to the same bytes, and the same errors.
    #[test]
    fn file_and_memory_archives_agree() {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let mut rng = testscope_gen::rng::Rng::new(42);
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = SimpleFileOptions::default();
        let stored = deflated.compression_method(zip::CompressionMethod::Stored);
        let mut contents = Vec::new();
        for i in 0..40 {
            let len = [0, 10, 5000, 400_000][i % 4];
            let text: Vec<u8> = (0..len)
                .map(|_| b"<testcase name=\"x\"/>\n"[(rng.next_u64() % 21) as usize])
                .collect();
            let options = if i.is_multiple_of(5) {
                stored
            } else {
                deflated
            };
            z.start_file(format!("test/test-reports/r{i}.xml"), options)
                .unwrap();
            z.write_all(&text).unwrap();
            contents.push(text);
        }
        z.add_directory("test/empty/", deflated).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        let file = temp_file(&bytes);
        let limits = ZipLimits::default();
        let from_file = ZipSource::open_file("a.zip", file.path(), limits).unwrap();
        let in_memory = ZipSource::open("a.zip", Bytes::from(bytes), limits).unwrap();
        assert_eq!(from_file.entries().len(), 41);
        for (i, (a, b)) in from_file
            .entries()
            .iter()
            .zip(in_memory.entries())
            .enumerate()
        {
            assert_eq!(
                (&a.raw_name, &a.components, a.size),
                (&b.raw_name, &b.components, b.size)
            );
            let (x, y) = (
                from_file.read_entry(i, 1 << 20),
                in_memory.read_entry(i, 1 << 20),
            );
            match contents.get(i) {
                Some(want) => {
                    assert_eq!(x.as_ref().unwrap(), want, "entry {i}");
                    assert_eq!(y.as_ref().unwrap(), want, "entry {i}");
                }
                None => assert_eq!(x.map_err(|e| e.to_string()), y.map_err(|e| e.to_string())),
            }
        }
        // Over the caller's limit: refused alike, before reading anything.
        let (x, y) = (from_file.read_entry(3, 1000), in_memory.read_entry(3, 1000));
        assert_eq!(x.unwrap_err().to_string(), y.unwrap_err().to_string());
    }

    /// A run of many zips holds no descriptor per archive: each thread keeps only the file
    /// it read last open (a desktop's default limit is 1024 descriptors).
    #[cfg(target_os = "linux")]
    #[test]
    fn archives_hold_no_open_files() {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file("r.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"<testsuite/>").unwrap();
        let file = temp_file(&z.finish().unwrap().into_inner());
        let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
        let before = fds();
        let zips: Vec<_> = (0..300)
            .map(|_| ZipSource::open_file("a.zip", file.path(), ZipLimits::default()).unwrap())
            .collect();
        for zip in &zips {
            assert_eq!(zip.read_entry(0, 1 << 20).unwrap(), b"<testsuite/>");
        }
        // (Other tests run alongside and open files too, but nowhere near 300.)
        let after = fds();
        assert!(
            after < before + 100,
            "{before} descriptors before, {after} after"
        );
    }

    /// A deflated entry's data starts after its local header, whose extra field need not be
    /// the central directory's; a broken local header spoils that entry only.
    #[test]
    fn local_headers_are_read_per_entry() {
        let doc = b"<testsuite><testcase name=\"x\"/></testsuite>";
        let packed = {
            use std::io::Write;
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(doc).unwrap();
            e.finish().unwrap()
        };
        let (mut out, mut central) = (Vec::new(), Vec::new());
        let u16s = |v: &mut Vec<u8>, xs: &[u16]| xs.iter().for_each(|x| v.extend(x.to_le_bytes()));
        let u32s = |v: &mut Vec<u8>, xs: &[u32]| xs.iter().for_each(|x| v.extend(x.to_le_bytes()));
        let crc = crc32fast::hash(doc);
        for (name, extra, magic) in [
            ("a.xml", &b"\x99\x99\x02\x00ab"[..], 0x0403_4b50u32),
            ("b.xml", &b""[..], 0x0403_4b51),
            ("c.xml", &b""[..], 0x0403_4b50),
        ] {
            let offset = out.len() as u32;
            u32s(&mut out, &[magic]);
            u16s(&mut out, &[20, 0, 8, 0, 0]);
            u32s(&mut out, &[crc, packed.len() as u32, doc.len() as u32]);
            u16s(&mut out, &[name.len() as u16, extra.len() as u16]);
            out.extend(name.as_bytes());
            out.extend(extra);
            out.extend(&packed);
            u32s(&mut central, &[0x0201_4b50]);
            u16s(&mut central, &[20, 20, 0, 8, 0, 0]);
            u32s(&mut central, &[crc, packed.len() as u32, doc.len() as u32]);
            u16s(&mut central, &[name.len() as u16, 0, 0, 0, 0]);
            u32s(&mut central, &[0, offset]);
            central.extend(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend(&central);
        u32s(&mut out, &[0x0605_4b50]);
        u16s(&mut out, &[0, 0, 3, 3]);
        u32s(&mut out, &[central.len() as u32, cd_offset]);
        u16s(&mut out, &[0]);
        let file = temp_file(&out);
        let limits = ZipLimits::default();
        for zip in [
            ZipSource::open_file("x.zip", file.path(), limits).unwrap(),
            ZipSource::open("x.zip", Bytes::from(out.clone()), limits).unwrap(),
        ] {
            assert_eq!(zip.read_entry(0, 1 << 20).unwrap(), doc);
            let err = zip.read_entry(1, 1 << 20).unwrap_err().to_string();
            assert!(
                err.contains("x.zip!b.xml") && err.contains("local file header"),
                "{err}"
            );
            assert_eq!(zip.read_entry(2, 1 << 20).unwrap(), doc);
        }
        // The last entry claims more compressed bytes than the archive holds: it is past
        // the end, the others still read.
        let mut long = out.clone();
        let at = cd_offset as usize + 2 * (46 + 5) + 20;
        long[at..at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
        let long_file = temp_file(&long);
        for zip in [
            ZipSource::open_file("x.zip", long_file.path(), limits).unwrap(),
            ZipSource::open("x.zip", Bytes::from(long), limits).unwrap(),
        ] {
            assert_eq!(zip.read_entry(0, 1 << 20).unwrap(), doc);
            let err = zip.read_entry(2, 1 << 20).unwrap_err().to_string();
            assert!(err.contains("past the end"), "{err}");
        }
    }

    #[test]
    fn extractall_names() {
        let c = |s| {
            extract_components(s)
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            c("test/test-reports/a.xml"),
            ["test", "test-reports", "a.xml"]
        );
        assert_eq!(c("../../etc/x.xml"), ["etc", "x.xml"]);
        assert_eq!(c("/abs/./x.xml"), ["abs", "x.xml"]);
        assert_eq!(c("a/b.xml\0junk"), ["a", "b.xml"]);
        assert!(c("../").is_empty());
    }

    #[test]
    fn stems() {
        assert_eq!(path_stem("test-reports-x_1.zip"), "test-reports-x_1");
        assert_eq!(path_stem("a.report.zip"), "a.report");
        assert_eq!(path_stem(".zip"), ".zip");
        assert_eq!(path_stem("noext"), "noext");
    }
}
