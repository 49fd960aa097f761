//! The app's state and the one place it changes: [`App::act`] for user intents and
//! [`App::receive`] for background reports. Neither does I/O; work they need comes back as
//! [`Task`]s for the runtime (or a test) to carry out.

mod commit;
mod input;
mod navigate;
mod receive;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::action::{Action, Msg, View};
use super::detail::{self, DetailLine, LineKind};
use super::keymap::Scope;
use super::layout::{self, Areas};
use super::list::{self, Data, ListKind, PlanRow, Sort, StatusFilter};
use super::model::Model;
use crate::stats::CaseStatus;
use crate::upload::PlannedObject;
use navigate::{keep_visible, root_kind, scroll_to_match, set_shown, step};

/// Lists up to this size are sorted on the UI thread, and filtered there when no query
/// is typed; bigger ones go to a worker.
pub const SYNC_LIMIT: usize = 20_000;
/// Fuzzy filtering is costlier per row: lists above this size are filtered on a worker
/// (so a keystroke stays within a frame on the UI thread: `cargo bench --bench tui`).
pub const SYNC_FILTER_LIMIT: usize = 5_000;

pub struct ListScreen {
    pub kind: ListKind,
    pub title: String,
    pub base: Arc<Vec<u32>>,
    pub shown: Vec<u32>,
    pub selected: usize,
    pub offset: usize,
    pub sort: Option<Sort>,
    pub query: String,
    pub status: StatusFilter,
    pub generation: u64,
    pub pending: bool,
    latest: Arc<AtomicU64>,
}

impl ListScreen {
    pub fn new(kind: ListKind, title: impl Into<String>, base: Vec<u32>) -> Self {
        Self {
            kind,
            title: title.into(),
            shown: base.clone(),
            base: Arc::new(base),
            selected: 0,
            offset: 0,
            sort: None,
            query: String::new(),
            status: StatusFilter::All,
            generation: 0,
            pending: false,
            latest: Arc::default(),
        }
    }

    pub fn current(&self) -> Option<u32> {
        self.shown.get(self.selected).copied()
    }
}

pub struct DetailScreen {
    pub title: String,
    /// (file index, ordinal) of a case; None for a problem's text.
    pub key: Option<(u32, u32)>,
    pub id: String,
    pub lines: Vec<DetailLine>,
    pub wrapped: Vec<DetailLine>,
    pub width: u16,
    pub scroll: usize,
    pub query: String,
    pub matches: Vec<usize>,
    pub current: usize,
    pub traceback: String,
    pub loading: bool,
}

impl DetailScreen {
    fn rewrap(&mut self, width: u16) {
        self.width = width;
        self.wrapped = detail::wrap(&self.lines, width);
        self.matches = detail::find(&self.wrapped, &self.query);
        self.current = self.current.min(self.matches.len().saturating_sub(1));
    }
}

pub enum Screen {
    List(ListScreen),
    Detail(DetailScreen),
}

/// The commit dialog's steps.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitStage {
    /// Asking for the head branch and repository the flags did not give.
    Form,
    Planning,
    Confirm,
    Uploading(usize),
    Done,
    Failed(String),
}

pub struct Commit {
    pub stage: CommitStage,
    pub branch: String,
    pub repo: String,
    /// 0: branch, 1: repository.
    pub field: usize,
    pub warnings: Vec<String>,
    pub test_run: bool,
    pub objects: Option<Arc<Vec<PlannedObject>>>,
    /// Set when the upload was asked for, so the plan goes straight to confirmation.
    pub committing: bool,
}

/// What the flags say about committing.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub head_branch: Option<String>,
    pub head_repository: Option<String>,
    /// A base run is loaded beside this one: the app opens on the Compare view.
    pub compare: bool,
    pub stats_bucket: String,
    /// Where objects go, e.g. `folder ./up` or `S3 (default endpoint)`.
    pub destination: String,
    pub color: bool,
}

/// Work for the runtime.
#[derive(Debug, Clone)]
pub enum Task {
    Compute {
        view: View,
        depth: usize,
        generation: u64,
        kind: ListKind,
        base: Arc<Vec<u32>>,
        query: String,
        status: StatusFilter,
        sort: Option<Sort>,
        latest: Arc<AtomicU64>,
    },
    Reread((u32, u32)),
    Plan {
        branch: Option<String>,
        repo: String,
    },
    Upload(Arc<Vec<PlannedObject>>),
    Copy(String),
    /// Write this script to `repro.sh` in the current folder.
    WriteRepro(String),
}

pub struct App {
    pub model: Arc<Model>,
    pub plan: Vec<PlanRow>,
    pub view: View,
    pub stacks: Vec<Vec<Screen>>,
    pub settings: Settings,
    pub size: (u16, u16),
    pub loading: bool,
    pub load_error: Option<String>,
    /// Typing into the top screen's filter or search.
    pub typing: bool,
    pub help: Option<usize>,
    pub commit: Option<Commit>,
    pub notice: Option<String>,
    pub quit: bool,
}

fn root_title(view: View) -> &'static str {
    view.title()
}

impl App {
    pub fn new(model: Model, settings: Settings, size: (u16, u16)) -> Self {
        let stacks = View::ALL
            .iter()
            .map(|v| {
                let mut l = ListScreen::new(root_kind(*v), root_title(*v), Vec::new());
                // Reruns: the flaky ones (passed in the end) apart from those that still
                // failed, by sorting on the outcome.
                if *v == View::Reruns {
                    l.sort = Some(Sort {
                        column: 0,
                        descending: true,
                    });
                }
                vec![Screen::List(l)]
            })
            .collect();
        let mut app = Self {
            model: Arc::new(model),
            plan: Vec::new(),
            view: if settings.compare {
                View::Compare
            } else {
                View::Summary
            },
            stacks,
            settings,
            size,
            loading: true,
            load_error: None,
            typing: false,
            help: None,
            commit: None,
            notice: None,
            quit: false,
        };
        app.rebuild_roots();
        app
    }

    pub fn data(&self) -> Data<'_> {
        Data {
            model: &self.model,
            plan: &self.plan,
        }
    }

    pub fn areas(&self) -> Areas {
        layout::areas(self.size)
    }

    pub fn stack(&self) -> &Vec<Screen> {
        &self.stacks[self.view.index()]
    }

    pub fn top(&self) -> &Screen {
        self.stack()
            .last()
            .expect("a view always has its root list")
    }

    fn top_mut(&mut self) -> &mut Screen {
        self.stacks[self.view.index()]
            .last_mut()
            .expect("a view always has its root list")
    }

    /// The key scope the app is in.
    pub fn scope(&self) -> Scope {
        if self.typing
            || self
                .commit
                .as_ref()
                .is_some_and(|c| c.stage == CommitStage::Form)
        {
            Scope::Input
        } else if self.commit.is_some() {
            Scope::Commit
        } else {
            match self.top() {
                Screen::List(_) => Scope::List,
                Screen::Detail(_) => Scope::Detail,
            }
        }
    }

    /// Rows of list body on screen.
    pub fn page(&self) -> usize {
        usize::from(self.areas().rows.height).max(1)
    }

    /// Apply a user intent.
    pub fn act(&mut self, action: Action) -> Vec<Task> {
        if !matches!(action, Action::Resize(..)) {
            self.notice = None;
        }
        if let Action::Resize(w, h) = action {
            self.size = (w, h);
            let width = self.areas().body.width;
            for stack in &mut self.stacks {
                for s in stack {
                    if let Screen::Detail(d) = s {
                        d.rewrap(width);
                    }
                }
            }
            self.clamp_all();
            return Vec::new();
        }
        if let Some(scroll) = self.help {
            match action {
                Action::Down | Action::ScrollDown => self.help = Some(scroll + 1),
                Action::Up | Action::ScrollUp => self.help = Some(scroll.saturating_sub(1)),
                Action::Quit if matches!(self.scope(), Scope::Input) => {}
                _ => self.help = None,
            }
            return Vec::new();
        }
        if self.commit.is_some() {
            return self.act_commit(action);
        }
        if self.typing {
            return self.act_typing(action);
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = Some(0),
            Action::NextView => self.go(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            Action::PrevView => {
                self.go(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()]);
            }
            Action::GoView(v) => return self.go_view(v),
            Action::Back => {
                let stack = &mut self.stacks[self.view.index()];
                if stack.len() > 1 {
                    stack.pop();
                }
            }
            Action::Up | Action::ScrollUp => self.move_by(-(step(action) as isize)),
            Action::Down | Action::ScrollDown => self.move_by(step(action) as isize),
            Action::PageUp => self.move_by(-(self.page() as isize)),
            Action::PageDown => self.move_by(self.page() as isize),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Open => return self.open(),
            Action::StartFilter => {
                self.typing = true;
                match self.top_mut() {
                    Screen::List(l) => {
                        l.query.clear();
                        return self.recompute_top();
                    }
                    Screen::Detail(d) => {
                        d.query.clear();
                        d.matches.clear();
                        d.current = 0;
                    }
                }
            }
            Action::CycleStatus => {
                if let Screen::List(l) = self.top_mut() {
                    l.status = l.status.next(l.kind);
                    return self.recompute_top();
                }
            }
            Action::SortNext | Action::SortReverse | Action::SortBy(_) => {
                return self.sort(action);
            }
            Action::NextMatch | Action::PrevMatch => self.next_match(action == Action::NextMatch),
            Action::CopyId | Action::CopyText => return self.copy(action == Action::CopyText),
            Action::CopyRepro => return self.copy_repro(),
            Action::WriteRepro => return self.write_repro(),
            Action::Commit => return self.start_commit(),
            Action::Click(x, y) => return self.click(x, y),
            _ => {}
        }
        Vec::new()
    }
}
