//! Per-run statistics the batch path uploads: the per-class summary (`test_run_summary`),
//! the failed-case selection, the `test_run` gate. additional_info lives here too once built.

pub mod additional_info;
pub mod cases;
pub mod status;
pub mod summary;

pub use status::{CaseFlags, CaseStatus, is_failed_case, should_upload_full_test_run};
pub use summary::{CaseKey, FileKey, Summary, SummaryKeyPart, SummaryRow, case_key};
