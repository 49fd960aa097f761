//! How the reference classifies one case, and which runs get the full `test_run` upload.

use crate::report::Object;

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
        if case.contains_key("failure") {
            Self::Failure
        } else if case.contains_key("error") {
            Self::Error
        } else if case.contains_key("skipped") {
            Self::Skipped
        } else {
            Self::Success
        }
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

/// `failed_test_runs` takes every case with a `rerun`, `failure` or `error` key.
pub fn is_failed_case(case: &Object) -> bool {
    case.contains_key("rerun") || case.contains_key("failure") || case.contains_key("error")
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
        assert!(should_upload_full_test_run(Some(&format!("trunk/{sha}")), "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(Some(&format!("trunk/{sha}0")), "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(Some("trunk/xyz"), "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(Some("main"), "fork/pytorch"));
        assert!(!should_upload_full_test_run(Some("Main"), "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(None, "pytorch/pytorch"));
        assert!(!should_upload_full_test_run(Some("main\n"), "pytorch/pytorch"));
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
    }
}
