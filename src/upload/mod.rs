//! The upload plan (one ordered list of objects, shared by headless mode and the TUI commit)
//! and the sinks that write it: a folder here, S3 alongside.

#[cfg(feature = "net")]
pub mod bucket_sink;
pub mod folder_sink;
pub mod plan;

#[cfg(feature = "net")]
pub use bucket_sink::S3Sink;
pub use folder_sink::FolderSink;
pub use plan::{PlannedObject, UploadContext, plan, plan_each};

/// Where planned objects go. Each object is written whole or not at all.
pub trait Sink {
    /// Human description of the destination, e.g. `folder ./up` or `s3://bucket`.
    fn describe(&self) -> String;
    fn put(&mut self, object: &PlannedObject) -> Result<(), SinkError>;
}

#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SinkError {
    pub key: String,
    pub message: String,
}

/// How an upload went: what was written before any failure, and the failure.
#[derive(Debug, Default)]
pub struct UploadOutcome {
    pub written: Vec<String>,
    pub failed: Option<SinkError>,
}

/// Write the plan in order, stopping at the first failure (objects already written stay,
/// each complete). `on_object` is told each object before it is written.
pub fn execute<O: std::borrow::Borrow<PlannedObject>>(
    plan: impl IntoIterator<Item = O>,
    sink: &mut dyn Sink,
    mut on_object: impl FnMut(usize, &PlannedObject),
) -> UploadOutcome {
    let mut outcome = UploadOutcome::default();
    for (i, object) in plan.into_iter().enumerate() {
        let object = object.borrow();
        on_object(i, object);
        match sink.put(object) {
            Ok(()) => outcome.written.push(object.location()),
            Err(e) => {
                outcome.failed = Some(e);
                break;
            }
        }
    }
    outcome
}
