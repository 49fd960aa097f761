//! From a loaded run and the context (run id, attempt, branch, repository) to the ordered
//! list of objects the batch path uploads (spec section 4).

use crate::run::{Lines, LoadedRun};
use crate::stats::should_upload_full_test_run;

use super::gzip::{Body, GzipBuilder};

/// The reference's stats bucket.
pub const DEFAULT_STATS_BUCKET: &str = "ossci-raw-job-status";

/// The flags of the seed that decide what is uploaded where.
#[derive(Debug, Clone)]
pub struct UploadContext {
    pub workflow_run_id: String,
    pub attempt: i64,
    pub head_branch: Option<String>,
    pub head_repository: String,
    pub stats_bucket: String,
    pub gzip_level: u32,
}

impl UploadContext {
    pub fn uploads_test_run(&self) -> bool {
        should_upload_full_test_run(self.head_branch.as_deref(), &self.head_repository)
    }

    fn key(&self, collection: &str) -> String {
        format!("{collection}/{}/{}", self.workflow_run_id, self.attempt)
    }
}

/// One object to write: gzip body of JSON lines.
#[derive(Debug, Clone)]
pub struct PlannedObject {
    pub bucket: String,
    pub key: String,
    pub collection: &'static str,
    pub documents: u64,
    /// Decompressed size.
    pub raw_bytes: u64,
    pub body: Body,
}

impl PlannedObject {
    pub fn location(&self) -> String {
        format!("{}/{}", self.bucket, self.key)
    }
}

/// The objects, in upload order. `test_run` is present only when the gate allows it and the
/// run was loaded with its cases kept.
pub fn plan(run: &LoadedRun, ctx: &UploadContext) -> Vec<PlannedObject> {
    let mut objects = Vec::new();
    let mut object = |collection: &'static str, documents: u64, body: GzipBuilder| {
        objects.push(PlannedObject {
            bucket: ctx.stats_bucket.clone(),
            key: ctx.key(collection),
            collection,
            documents,
            raw_bytes: body.raw_len(),
            body: body.finish(),
        });
    };

    let mut summary = Vec::new();
    for row in &run.summary {
        row.write_line(&mut summary);
    }
    let mut b = GzipBuilder::new();
    b.push_raw(&summary, ctx.gzip_level);
    object("test_run_summary", run.summary.len() as u64, b);

    object("failed_test_runs", run.failed.docs, lines_body(&run.failed));

    if ctx.uploads_test_run()
        && let Some(all) = &run.test_run
    {
        object("test_run", all.docs, lines_body(all));
    }
    objects
}

fn lines_body(lines: &Lines) -> GzipBuilder {
    let mut b = GzipBuilder::new();
    for chunk in &lines.chunks {
        b.push_chunk(chunk);
    }
    b
}
