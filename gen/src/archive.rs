//! Writing reproducible zip archives: deflate, a fixed modification time
//! (2025-01-15 12:00:00) and fixed permissions on every entry, entries in the
//! order they are added.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// A zip file being written.
pub struct Archive {
    zip: ZipWriter<BufWriter<File>>,
    options: SimpleFileOptions,
}

impl Archive {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Archive> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let when = DateTime::from_date_and_time(2025, 1, 15, 12, 0, 0)
            .map_err(|e| anyhow::anyhow!("zip timestamp: {e:?}"))?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(when)
            .unix_permissions(0o644);
        Ok(Archive {
            zip: ZipWriter::new(BufWriter::with_capacity(1 << 20, file)),
            options,
        })
    }

    /// Adds one entry.
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.zip
            .start_file(name, self.options)
            .with_context(|| format!("adding {name}"))?;
        self.zip.write_all(data)?;
        Ok(())
    }

    /// Writes the central directory; returns the archive's size in bytes.
    pub fn finish(self) -> Result<u64> {
        let mut w = self.zip.finish()?;
        w.flush()?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        Ok(file.metadata()?.len())
    }
}
