//! Zip artifacts read in memory, never extracted to disk. Entry names get the same treatment
//! as Python's `ZipFile.extractall` (name cut at NUL, empty/`.`/`..` components dropped, so
//! `../x` and `/x` stay inside the folder), and reading is bounded against zip bombs: per
//! entry (size and expansion ratio) and per archive (total uncompressed bytes).

use std::io::{Cursor, Read};

use bytes::Bytes;

use zip::ZipArchive;

use super::SourceError;

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
    /// Where a plain deflated entry's compressed bytes lie in the archive, and their CRC-32:
    /// such entries are inflated straight from the archive's bytes (see [`inflate_into`]).
    raw: Option<(std::ops::Range<usize>, u32)>,
}

/// An archive held in memory.
#[derive(Debug)]
pub struct ZipSource {
    name: String,
    bytes: Bytes,
    archive: ZipArchive<Cursor<Bytes>>,
    entries: Vec<ZipEntry>,
    limits: ZipLimits,
}

impl ZipSource {
    /// Open an archive from its bytes; `name` is its file name (for messages and the
    /// `unzipped-<stem>` folder).
    pub fn open(name: &str, bytes: Bytes, limits: ZipLimits) -> Result<Self, SourceError> {
        let err = |e: zip::result::ZipError| SourceError::Zip {
            what: name.to_string(),
            message: e.to_string(),
        };
        let mut archive = ZipArchive::new(Cursor::new(bytes.clone())).map_err(err)?;
        let mut entries = Vec::with_capacity(archive.len());
        let mut total = 0u64;
        for i in 0..archive.len() {
            let f = archive.by_index_raw(i).map_err(err)?;
            let raw_name = f.name().map_err(err)?.into_owned();
            let raw = match (f.compression(), f.encrypted(), f.data_start()) {
                (zip::CompressionMethod::Deflated, false, Some(start)) => {
                    let end = start.checked_add(f.compressed_size());
                    end.filter(|&e| e <= bytes.len() as u64)
                        .map(|end| (start as usize..end as usize, f.crc32()))
                }
                _ => None,
            };
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
            bytes,
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
        if let Some((range, crc)) = &entry.raw {
            return inflate_into(&self.bytes[range.clone()], entry.size, *crc, out)
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
}

/// Inflate a raw deflate stream into `out`, never past one byte more than `size` (enough to
/// tell a lying header), and check its CRC-32. The same checks as reading through the zip
/// crate. libdeflate inflates whole buffers about 1.7x faster than zlib-rs; a stream it
/// rejects goes to [`inflate_checked`] (zlib-rs), whose errors say what is wrong, and which
/// has the last word (the two agree on valid streams: see the tests).
fn inflate_into(raw: &[u8], size: u64, crc: u32, out: &mut Vec<u8>) -> Result<(), String> {
    thread_local! {
        static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
            std::cell::RefCell::new(libdeflater::Decompressor::new());
    }
    let too_large = || "larger than its declared uncompressed size".to_string();
    let cap = usize::try_from(size)
        .map_err(|_| too_large())?
        .saturating_add(1);
    // libdeflate writes into initialised memory: the previous content is kept as it is
    // (overwritten, then cut at the new length), so only growth is zero-filled.
    if cap > out.len() {
        out.try_reserve_exact(cap - out.len())
            .map_err(|_| too_large())?;
    }
    out.resize(cap, 0);
    let inflated = INFLATER.with_borrow_mut(|d| d.deflate_decompress(raw, out));
    match inflated {
        Ok(n) if n as u64 > size => return Err(too_large()),
        Ok(n) => out.truncate(n),
        Err(libdeflater::DecompressionError::InsufficientSpace) => return Err(too_large()),
        Err(_) => {
            out.clear();
            return inflate_checked(raw, size, crc, out);
        }
    }
    if crc32fast::hash(out) != crc {
        return Err("Invalid checksum".into());
    }
    Ok(())
}

/// [`inflate_into`] by zlib-rs, streaming into spare capacity.
fn inflate_checked(raw: &[u8], size: u64, crc: u32, out: &mut Vec<u8>) -> Result<(), String> {
    use flate2::{Decompress, FlushDecompress, Status};
    let too_large = || "larger than its declared uncompressed size".to_string();
    let cap = usize::try_from(size)
        .map_err(|_| too_large())?
        .saturating_add(1);
    out.reserve_exact(cap);
    let mut d = Decompress::new(false);
    // decompress_vec writes only into spare capacity, never growing `out`; the capacity is
    // at least `size + 1`, so a full buffer means a lying header.
    loop {
        let (consumed, before) = (d.total_in(), out.len());
        let status = d
            .decompress_vec(&raw[consumed as usize..], out, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt deflate stream: {e}"))?;
        if out.len() as u64 > size {
            return Err(too_large());
        }
        if status == Status::StreamEnd {
            break;
        }
        if d.total_in() == consumed && out.len() == before {
            return Err("unexpected end of deflate stream".into());
        }
    }
    if crc32fast::hash(out) != crc {
        return Err("Invalid checksum".into());
    }
    Ok(())
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

    /// libdeflate (the fast path) and zlib-rs read the same streams the same way: valid,
    /// truncated and corrupted ones, and a size header that lies either way.
    #[test]
    fn both_inflaters_agree() {
        use std::io::Write;
        let mut rng = crate::sample::rng::Rng::new(0x1234_5678_9abc_def1u64);
        let mut next = || rng.next_u64();
        let text: Vec<u8> = (0..20_000)
            .map(|i| b"<testcase name=\"t\" time=\"0.1\"/>\n"[i % 32] ^ ((next() % 7 == 0) as u8))
            .collect();
        let mut checked = 0;
        for level in [0, 1, 6, 9] {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
            enc.write_all(&text).unwrap();
            let raw = enc.finish().unwrap();
            let crc = crc32fast::hash(&text);
            for n in 0..400 {
                let mut bad = raw.clone();
                match n % 4 {
                    0 if n > 0 => bad.truncate((next() as usize) % raw.len()),
                    1 => {
                        let at = (next() as usize) % bad.len();
                        bad[at] ^= 1 << (next() % 8);
                    }
                    2 => {
                        let at = (next() as usize) % bad.len();
                        bad[at] = next() as u8;
                    }
                    _ => {}
                }
                for size in [
                    text.len() as u64,
                    text.len() as u64 - 1,
                    text.len() as u64 + 5,
                ] {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    let fast = inflate_into(&bad, size, crc, &mut a);
                    let slow = inflate_checked(&bad, size, crc, &mut b);
                    assert_eq!(fast, slow, "level {level}, case {n}, size {size}");
                    if fast.is_ok() {
                        assert_eq!(a, b);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100);
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
