//! How the reference classifies one case, and which runs get the full `test_run` upload.

use crate::report::{Fields, Known, Object};

/// The one summary column a case counts in (priority failure > error > skipped > success).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseStatus {
    Failure,
    Error,
    Skipped,
    Success,
}

impl CaseStatus {
    pub fn of(case: &Object) -> Self {
        CaseFlags::of(case).status()
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::Success => "success",
        }
    }
}

/// Which of the keys the batch path looks at a case has, found in one pass over its keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseFlags {
    pub failure: bool,
    pub error: bool,
    pub skipped: bool,
    pub rerun: bool,
    /// Surefire/Gradle retry children (`flakyFailure`, `rerunFailure`, ...): triage only,
    /// never part of what is uploaded.
    pub flaky_attempt: bool,
    pub rerun_attempt: bool,
}

impl CaseFlags {
    pub fn of(case: &impl Fields) -> Self {
        Self::from_known(&case.known())
    }

    pub fn from_known(known: &Known<'_>) -> Self {
        Self {
            failure: known.failure,
            error: known.error,
            skipped: known.skipped,
            rerun: known.rerun,
            flaky_attempt: known.flaky_attempt,
            rerun_attempt: known.rerun_attempt,
        }
    }

    pub fn status(self) -> CaseStatus {
        if self.failure {
            CaseStatus::Failure
        } else if self.error {
            CaseStatus::Error
        } else if self.skipped {
            CaseStatus::Skipped
        } else {
            CaseStatus::Success
        }
    }

    /// Retried in a dialect other than PyTorch's `rerun`.
    pub fn retried(self) -> bool {
        self.flaky_attempt || self.rerun_attempt
    }

    /// `failed_test_runs` membership.
    pub fn failed(self) -> bool {
        self.rerun || self.failure || self.error
    }
}

/// `failed_test_runs` takes every case with a `rerun`, `failure` or `error` key.
pub fn is_failed_case(case: &Object) -> bool {
    CaseFlags::of(case).failed()
}

/// `test_run` is uploaded only for pytorch/pytorch on `main` or a `trunk/<40 hex>` tag.
pub fn should_upload_full_test_run(head_branch: Option<&str>, head_repository: &str) -> bool {
    let branch = head_branch.unwrap_or("");
    let trunk_tag = branch
        .strip_prefix("trunk/")
        .is_some_and(|sha| sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()));
    head_repository == "pytorch/pytorch" && (branch == "main" || trunk_tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Value;

    #[test]
    fn gate() {
        let sha = "0123456789abcdefABCDEF0123456789abcdef01";
        assert!(should_upload_full_test_run(Some("main"), "pytorch/pytorch"));
        assert!(should_upload_full_test_run(
            Some(&format!("trunk/{sha}")),
            "pytorch/pytorch"
        ));
        assert!(!should_upload_full_test_run(
            Some(&format!("trunk/{sha}0")),
            "pytorch/pytorch"
        ));
        assert!(!should_upload_full_test_run(
            Some("trunk/xyz"),
            "pytorch/pytorch"
        ));
        assert!(!should_upload_full_test_run(Some("main"), "fork/pytorch"));
        assert!(!should_upload_full_test_run(
            Some("Main"),
            "pytorch/pytorch"
        ));
        assert!(!should_upload_full_test_run(None, "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(
            Some("main\n"),
            "pytorch/pytorch"
        ));
    }

    #[test]
    fn status_priority() {
        let mut o = Object::new();
        assert_eq!(CaseStatus::of(&o), CaseStatus::Success);
        o.insert("rerun", Value::Null);
        assert_eq!(CaseStatus::of(&o), CaseStatus::Success);
        assert!(is_failed_case(&o));
        o.insert("skipped", Value::Null);
        assert_eq!(CaseStatus::of(&o), CaseStatus::Skipped);
        o.insert("error", Value::Null);
        assert_eq!(CaseStatus::of(&o), CaseStatus::Error);
        o.insert("failure", Value::Null);
        assert_eq!(CaseStatus::of(&o), CaseStatus::Failure);
        let flags = CaseFlags::of(&o);
        assert_eq!(flags.status(), CaseStatus::Failure);
        assert!(flags.failed() && flags.rerun && flags.skipped && flags.error);
    }
}
