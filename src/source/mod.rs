//! Where reports come from. A source lists report files, each addressed by the path it would
//! have after the reference's download-and-extract step (`unzipped-<zip stem>/...`), sorted
//! the way docs/compatibility.md section 7 orders them. Local folders and zips live here; S3
//! and GitHub Actions plug in as other producers of the same [`ReportFile`]s, whose archives
//! may still be downloading when the listing is made ([`remote`]).

#[cfg(feature = "net")]
pub mod actions;
#[cfg(feature = "net")]
pub mod bucket;
pub mod cache;
pub mod downloads;
pub mod feed;
pub mod local;
pub mod remote;
pub mod zipped;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use local::{LocalSpec, discover};
pub use zipped::{ZipLimits, ZipSource};

/// A report file's path relative to the download folder, as components.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(pub Vec<Box<str>>);

impl RelPath {
    pub fn components(&self) -> &[Box<str>] {
        &self.0
    }

    pub fn first(&self) -> &str {
        self.0.first().map_or("", |c| c)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            f.write_str(c)?;
        }
        Ok(())
    }
}

/// Where a report file's bytes are.
#[derive(Debug, Clone)]
pub enum Origin {
    Disk(PathBuf),
    Zip {
        archive: Arc<ZipSource>,
        index: usize,
    },
}

/// One report file of the run.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub rel: RelPath,
    pub origin: Origin,
    /// Size before decompression is known up front for disk files and zip entries.
    pub size: u64,
}

impl ReportFile {
    /// Where the file is, for messages: the zip and entry, or the disk path.
    pub fn describe(&self) -> String {
        match &self.origin {
            Origin::Disk(p) => p.display().to_string(),
            Origin::Zip { archive, index } => {
                format!("{}!{}", archive.name(), archive.entry_name(*index))
            }
        }
    }

    /// Read the whole file, within the limits of its archive.
    pub fn read(&self, max_bytes: u64) -> Result<Vec<u8>, SourceError> {
        let mut out = Vec::new();
        self.read_into(max_bytes, &mut out)?;
        Ok(out)
    }

    /// Read the whole file into `out` (its old content replaced), reusing its allocation.
    pub fn read_into(&self, max_bytes: u64, out: &mut Vec<u8>) -> Result<(), SourceError> {
        match &self.origin {
            Origin::Disk(p) => {
                out.clear();
                let meta = std::fs::metadata(p).map_err(|e| SourceError::io(p.display(), e))?;
                // A report symlinked to a device or a FIFO would be read forever (or block):
                // only regular files are read, checked before opening.
                if !meta.is_file() {
                    let e = std::io::Error::other("not a regular file");
                    return Err(SourceError::io(p.display(), e));
                }
                let len = meta.len();
                if len > max_bytes {
                    return Err(SourceError::TooLarge {
                        what: p.display().to_string(),
                        limit: max_bytes,
                    });
                }
                use std::io::Read;
                std::fs::File::open(p)
                    .and_then(|f| f.take(max_bytes).read_to_end(out))
                    .map_err(|e| SourceError::io(p.display(), e))?;
                Ok(())
            }
            Origin::Zip { archive, index } => archive.read_entry_into(*index, max_bytes, out),
        }
    }
}

/// A test-jsons artifact file (td_exclusions), kept for additional_info.
#[derive(Debug, Clone)]
pub struct AuxFile {
    pub rel: RelPath,
    pub origin: Origin,
}

/// Everything a source found: reports in spec order, plus what could not be opened.
#[derive(Debug, Default)]
pub struct Listing {
    pub reports: Vec<ReportFile>,
    pub td_exclusions: Vec<AuxFile>,
    pub problems: Vec<(String, String)>,
    /// Human description of where the run came from.
    pub description: String,
    /// Run id and attempt, when the source itself names them (a bucket layout).
    pub run_id: Option<String>,
    pub attempt: Option<String>,
    /// Downloads the load runs beside its parsing ([`downloads`]): the rest of archives
    /// listed from their tails ([`remote`]), or the archives whose reports `feed` publishes.
    /// None for local sources.
    pub downloads: Option<downloads::Downloads>,
    /// Reports published while the run downloads, after `reports` (empty then): see
    /// [`feed`].
    pub feed: Option<Arc<feed::Feed>>,
}

impl Listing {
    /// The whole listing, for a caller that does not load it: runs the downloads here and
    /// takes in what the feed published.
    pub fn fetched(mut self) -> Listing {
        if let Some(downloads) = self.downloads.take() {
            downloads.run();
        }
        if let Some(feed) = self.feed.take() {
            let (reports, td_exclusions, problems) = feed.take_parts();
            self.reports.extend(reports);
            self.td_exclusions.extend(td_exclusions);
            self.problems.extend(problems);
        }
        self
    }

    /// docs/compatibility.md section 7: sort by path components; a later duplicate path replaces an earlier one
    /// (extracting both would overwrite the first).
    pub fn finish(&mut self) {
        sort_dedup(&mut self.reports, |r| &r.rel);
        sort_dedup(&mut self.td_exclusions, |r| &r.rel);
    }
}

fn sort_dedup<T>(items: &mut Vec<T>, key: impl Fn(&T) -> &RelPath) {
    // Stable sort keeps discovery order among equal paths; keep the last of each run.
    items.sort_by(|a, b| key(a).cmp(key(b)));
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if out.last().is_some_and(|last| key(last) == key(&item)) {
            out.pop();
        }
        out.push(item);
    }
    *items = out;
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {message}")]
    Zip { what: String, message: String },
    #[error("{what}: larger than the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{0}")]
    Other(String),
}

impl SourceError {
    pub fn io(what: impl fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            what: what.to_string(),
            source,
        }
    }

    /// The reason alone, without the file it concerns (for messages that name it already).
    pub fn reason(&self) -> String {
        match self {
            Self::Io { source, .. } => source.to_string(),
            Self::Zip { message, .. } => message.clone(),
            Self::TooLarge { limit, .. } => format!("larger than the limit of {limit} bytes"),
            Self::Other(message) => message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath(s.split('/').map(Into::into).collect())
    }

    #[test]
    fn reason_leaves_out_the_file() {
        let e = SourceError::Zip {
            what: "a.zip!x.xml".into(),
            message: "Invalid checksum".into(),
        };
        assert_eq!(e.to_string(), "a.zip!x.xml: Invalid checksum");
        assert_eq!(e.reason(), "Invalid checksum");
        let e = SourceError::TooLarge {
            what: "a.zip!x.xml".into(),
            limit: 7,
        };
        assert_eq!(e.reason(), "larger than the limit of 7 bytes");
    }

    #[test]
    fn python_path_order() {
        let mut v = [
            rel("unzipped-a-b/x.xml"),
            rel("unzipped-a/x.xml"),
            rel("unzipped-a/B.xml"),
        ];
        v.sort();
        let s: Vec<_> = v.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            s,
            ["unzipped-a/B.xml", "unzipped-a/x.xml", "unzipped-a-b/x.xml"]
        );
    }
}
