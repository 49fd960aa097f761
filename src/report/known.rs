//! The keys of a case the loader reads from every case (the summary's columns, the status
//! keys, the enrichment's), classified once instead of compared by every reader.

use crate::py::value::ValueRef;

/// What a key means to the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    File,
    Classname,
    Name,
    Time,
    Failure,
    Error,
    Skipped,
    Rerun,
    /// Surefire's and Gradle's `flakyFailure`/`flakyError`: failed attempts of a test that
    /// passed in the end. Not part of the batch path (PyTorch's script ignores them).
    FlakyAttempt,
    /// Surefire's `rerunFailure`/`rerunError`: failed re-runs of a test that failed.
    RerunAttempt,
    /// One of the four keys the enrichment sets ([`super::Enrichment::KEYS`]).
    Enrichment,
    Other,
}

impl KeyKind {
    pub fn of(key: &str) -> Self {
        match key {
            "file" => Self::File,
            "classname" => Self::Classname,
            "name" => Self::Name,
            "time" => Self::Time,
            "failure" => Self::Failure,
            "error" => Self::Error,
            "skipped" => Self::Skipped,
            "rerun" => Self::Rerun,
            "flakyFailure" | "flakyError" => Self::FlakyAttempt,
            "rerunFailure" | "rerunError" => Self::RerunAttempt,
            "workflow_id" | "workflow_run_attempt" | "job_id" | "invoking_file" => Self::Enrichment,
            _ => Self::Other,
        }
    }
}

/// Those keys of one case and their values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    pub file: Option<ValueRef<'a>>,
    pub classname: Option<ValueRef<'a>>,
    pub name: Option<ValueRef<'a>>,
    pub time: Option<ValueRef<'a>>,
    pub failure: bool,
    pub error: bool,
    pub skipped: bool,
    pub rerun: bool,
    pub flaky_attempt: bool,
    pub rerun_attempt: bool,
    pub enrichment_key: bool,
}

impl<'a> Known<'a> {
    /// Take in one key of the case.
    pub fn see(&mut self, kind: KeyKind, value: ValueRef<'a>) {
        match kind {
            KeyKind::File => self.file = Some(value),
            KeyKind::Classname => self.classname = Some(value),
            KeyKind::Name => self.name = Some(value),
            KeyKind::Time => self.time = Some(value),
            KeyKind::Failure => self.failure = true,
            KeyKind::Error => self.error = true,
            KeyKind::Skipped => self.skipped = true,
            KeyKind::Rerun => self.rerun = true,
            KeyKind::FlakyAttempt => self.flaky_attempt = true,
            KeyKind::RerunAttempt => self.rerun_attempt = true,
            KeyKind::Enrichment => self.enrichment_key = true,
            KeyKind::Other => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Enrichment;

    #[test]
    fn enrichment_keys_are_known() {
        for k in Enrichment::KEYS {
            assert_eq!(KeyKind::of(k), KeyKind::Enrichment);
        }
        assert_eq!(KeyKind::of("Time"), KeyKind::Other);
        assert_eq!(KeyKind::of("{u}time"), KeyKind::Other);
    }
}
