//! What a user can ask for ([`Action`]), which screen they are on ([`View`]), and what
//! background work reports back ([`Msg`], the one channel into the app).

use std::sync::Arc;

use crate::load::FileFolded;
use crate::report::Object;
use crate::run::{CaseBrief, FileInfo, LoadedRun, Problem};
use crate::source::ReportFile;
use crate::triage::summary::Triage;
use crate::upload::PlannedObject;

/// The top-level screens, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Summary,
    Failures,
    Reruns,
    Cases,
    Jobs,
    Files,
    Problems,
    Upload,
    /// Failing cases grouped by root cause.
    Clusters,
    /// Every test against the base run (`--base`, `--base-attempt`).
    Compare,
}

impl View {
    pub const ALL: [View; 10] = [
        View::Summary,
        View::Failures,
        View::Reruns,
        View::Cases,
        View::Jobs,
        View::Files,
        View::Problems,
        View::Upload,
        View::Clusters,
        View::Compare,
    ];

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|v| *v == self).expect("listed")
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Summary => "Summary",
            View::Failures => "Failures",
            View::Reruns => "Reruns",
            View::Cases => "Cases",
            View::Jobs => "Jobs",
            View::Files => "Files",
            View::Problems => "Problems",
            View::Upload => "Upload",
            View::Clusters => "Clusters",
            View::Compare => "Compare",
        }
    }
}

/// A user intent, from a key, the mouse or a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextView,
    PrevView,
    GoView(View),
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    StartFilter,
    CycleStatus,
    SortNext,
    SortReverse,
    SortBy(usize),
    NextMatch,
    PrevMatch,
    CopyId,
    CopyText,
    /// Copy the selected case's repro command (OSC 52).
    CopyRepro,
    /// Write `repro.sh` for the selected cluster, or the Compare view's new failures.
    WriteRepro,
    Commit,
    Confirm,
    InputChar(char),
    InputBackspace,
    InputClear,
    InputAccept,
    InputCancel,
    InputNextField,
    /// Mouse: a click at (column, row), wheel steps.
    Click(u16, u16),
    ScrollUp,
    ScrollDown,
    Resize(u16, u16),
}

/// Files folded since the last report while loading.
#[derive(Debug, Default)]
pub struct Folded {
    pub files: Vec<FileInfo>,
    pub notable: Vec<CaseBrief>,
    pub problems: Vec<Problem>,
    /// The report files, when they were not listed before the load (a run that is still
    /// downloading): a case of them can be read again while the rest loads.
    pub reports: Vec<ReportFile>,
}

impl Folded {
    /// Add a folded file; `report` too when the listing did not hold it.
    pub fn add(&mut self, f: &FileFolded<'_>, report: bool) {
        if report {
            self.reports.push(f.file.clone());
        }
        self.files.push(f.info.clone());
        self.notable.extend_from_slice(f.notable);
        self.problems.extend_from_slice(f.problems);
    }
}

/// The plan the commit dialog offers.
#[derive(Debug)]
pub struct Planned {
    pub objects: Vec<PlannedObject>,
    pub warnings: Vec<String>,
    pub test_run: bool,
}

/// What background work reports.
#[derive(Debug)]
pub enum Msg {
    /// The source is listed: the reports are known, parsing starts.
    Listed {
        description: String,
        workflow_id: String,
        /// The run id came from the flags or the bucket layout (else it is a placeholder).
        run_id_known: bool,
        attempt: i64,
        reports: Vec<ReportFile>,
        problems: Vec<Problem>,
    },
    Folded(Folded),
    Loaded(Arc<LoadedRun>),
    /// Triage is ready: clusters and attempts, and the comparison with the base run when
    /// one was asked for (the base run comes along, for its side of each verdict).
    Triaged {
        triage: Arc<Triage>,
        base: Option<Arc<LoadedRun>>,
    },
    /// `repro.sh` was written (the path), or could not be.
    ReproWritten(Result<String, String>),
    LoadFailed(String),
    /// A list's filtered and sorted items (dropped when `generation` is stale).
    Computed {
        view: View,
        depth: usize,
        generation: u64,
        shown: Vec<u32>,
    },
    /// A case's whole document, re-read for the detail.
    Case {
        key: (u32, u32),
        result: Result<Object, String>,
    },
    Planned(Result<Planned, String>),
    /// The upload started writing object `i`.
    Uploading(usize),
    Uploaded {
        written: Vec<String>,
        failed: Option<String>,
    },
}
