//! The folder sink: `DIR/<bucket>/<key>` holds each object's gzip body. Written to a
//! temporary name and renamed, so a reader never sees a partial object. Not fsynced, as
//! cp, rsync and gzip do not by default: a sync per object puts the kernel's writeback on
//! the command's own time (`bench/run.sh`), and a folder is a staging place, not the stats
//! bucket.

use std::io::Write;
use std::path::PathBuf;

use super::{PlannedObject, Sink, SinkError};

pub struct FolderSink {
    root: PathBuf,
}

impl FolderSink {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Sink for FolderSink {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn put(&mut self, object: &PlannedObject) -> Result<(), SinkError> {
        let err = |e: std::io::Error| SinkError {
            key: object.location(),
            message: e.to_string(),
        };
        let dest = self.root.join(&object.bucket).join(&object.key);
        let dir = dest.parent().expect("bucket/key has a parent");
        std::fs::create_dir_all(dir).map_err(err)?;
        let name = dest
            .file_name()
            .expect("keys end in a name")
            .to_string_lossy();
        let tmp = dir.join(format!(".{name}.testscope-{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            for segment in object.body.segments() {
                f.write_all(segment)?;
            }
            std::fs::rename(&tmp, &dest)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e)
        })
    }
}
