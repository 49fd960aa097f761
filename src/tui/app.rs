//! The app's state and the one place it changes: [`App::act`] for user intents and
//! [`App::receive`] for background reports. Neither does I/O; work they need comes back as
//! [`Task`]s for the runtime (or a test) to carry out.

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

/// Lists up to this size are sorted on the UI thread, and filtered there when no query
/// is typed; bigger ones go to a worker.
pub const SYNC_LIMIT: usize = 20_000;
/// Fuzzy filtering is costlier per row: lists above this size are filtered on a worker
/// (measured: ~1 µs a row, so the UI thread stays under a few ms a keystroke).
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
            view: View::Summary,
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

    /// Rebuild every view's root items from the model (keeping filters, sorts, selection).
    fn rebuild_roots(&mut self) -> Vec<Task> {
        let mut tasks = Vec::new();
        for view in View::ALL {
            let base = self.root_items(view);
            let stack = &mut self.stacks[view.index()];
            if let Some(Screen::List(l)) = stack.first_mut() {
                l.base = Arc::new(base);
            }
            tasks.extend(self.recompute(view, 0));
        }
        tasks
    }

    fn root_items(&self, view: View) -> Vec<u32> {
        let m = &self.model;
        let all = |n: usize| (0..n as u32).collect::<Vec<_>>();
        let briefs = |keep: &dyn Fn(&crate::run::CaseBrief) -> bool| {
            m.notable()
                .iter()
                .enumerate()
                .filter(|(_, b)| keep(b))
                .map(|(i, _)| i as u32)
                .collect::<Vec<_>>()
        };
        match view {
            View::Summary => all(m.run.as_ref().map_or(0, |r| r.summary.len())),
            View::Failures => {
                briefs(&|b| matches!(b.status, CaseStatus::Failure | CaseStatus::Error))
            }
            View::Reruns => briefs(&|b| b.reruns > 0),
            View::Cases => all(m.run.as_ref().map_or(0, |r| r.cases.len())),
            View::Jobs => all(m.jobs.len()),
            View::Files => all(m.invoking.len()),
            View::Problems => all(m.problems().len()),
            View::Upload => all(self.plan.len()),
        }
    }

    /// Re-filter and re-sort a list: here when small, else as a task.
    fn recompute(&mut self, view: View, depth: usize) -> Option<Task> {
        let data = Data {
            model: &self.model,
            plan: &self.plan,
        };
        let Some(Screen::List(l)) = self.stacks[view.index()].get_mut(depth) else {
            return None;
        };
        l.generation += 1;
        l.latest.store(l.generation, Ordering::Relaxed);
        let keep = l.current();
        let limit = if l.query.trim().is_empty() {
            SYNC_LIMIT
        } else {
            SYNC_FILTER_LIMIT
        };
        if l.base.len() <= limit {
            let shown = list::compute(data, l.kind, &l.base, &l.query, l.status, l.sort, &|| false)
                .expect("never stale here");
            l.pending = false;
            set_shown(l, shown, keep);
            None
        } else {
            l.pending = true;
            Some(Task::Compute {
                view,
                depth,
                generation: l.generation,
                kind: l.kind,
                base: l.base.clone(),
                query: l.query.clone(),
                status: l.status,
                sort: l.sort,
                latest: l.latest.clone(),
            })
        }
    }

    fn recompute_top(&mut self) -> Vec<Task> {
        let depth = self.stack().len() - 1;
        self.recompute(self.view, depth).into_iter().collect()
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
            Action::Commit => return self.start_commit(),
            Action::Click(x, y) => return self.click(x, y),
            _ => {}
        }
        Vec::new()
    }

    fn go(&mut self, view: View) {
        self.view = view;
    }

    fn go_view(&mut self, view: View) -> Vec<Task> {
        self.go(view);
        if view == View::Upload && self.plan.is_empty() && self.model.loaded() {
            return self.plan_preview();
        }
        Vec::new()
    }

    /// Plan with what the flags say, to show in the Upload view.
    fn plan_preview(&mut self) -> Vec<Task> {
        if self.commit.is_some() {
            return Vec::new();
        }
        self.notice = Some("computing the upload plan…".into());
        vec![Task::Plan {
            branch: self.settings.head_branch.clone(),
            repo: self.settings.head_repository.clone().unwrap_or_default(),
        }]
    }

    fn move_by(&mut self, delta: isize) {
        let page = self.page();
        let detail_page = usize::from(self.areas().body.height).max(1);
        match self.top_mut() {
            Screen::List(l) => {
                let n = l.shown.len();
                if n == 0 {
                    return;
                }
                l.selected = (l.selected as isize + delta).clamp(0, n as isize - 1) as usize;
                keep_visible(l, page);
            }
            Screen::Detail(d) => {
                let max = d.wrapped.len().saturating_sub(detail_page);
                d.scroll = (d.scroll as isize + delta).clamp(0, max as isize) as usize;
            }
        }
    }

    fn clamp_all(&mut self) {
        let page = self.page();
        for stack in &mut self.stacks {
            for s in stack {
                if let Screen::List(l) = s {
                    keep_visible(l, page);
                }
            }
        }
    }

    fn open(&mut self) -> Vec<Task> {
        let Screen::List(l) = self.top() else {
            return Vec::new();
        };
        let Some(item) = l.current() else {
            return Vec::new();
        };
        let kind = l.kind;
        let m = self.model.clone();
        let width = self.areas().body.width;
        let (screen, tasks) = match kind {
            ListKind::Briefs | ListKind::Cases => {
                let c = self.data().case(kind, item);
                let key = (c.file_index, c.ordinal);
                let mut d = detail_screen(
                    format!("{} [{}]", c.id(), c.outcome()),
                    Some(key),
                    c.id(),
                    vec![DetailLine {
                        kind: LineKind::Text,
                        text: "reading the case…".into(),
                    }],
                    width,
                );
                d.loading = true;
                (Screen::Detail(d), vec![Task::Reread(key)])
            }
            ListKind::Problems => {
                let p = &m.problems()[item as usize];
                let lines = [
                    ("kind", p.kind.label().to_string()),
                    ("file", p.file.clone()),
                    ("message", p.message.clone()),
                ]
                .into_iter()
                .map(|(k, v)| DetailLine {
                    kind: LineKind::Field,
                    text: format!("{k}: {}", crate::sanitize::line(&v)),
                })
                .collect();
                (
                    Screen::Detail(detail_screen(
                        "Problem".into(),
                        None,
                        p.file.clone(),
                        lines,
                        width,
                    )),
                    Vec::new(),
                )
            }
            ListKind::Summary => {
                let cells = self.data().cells(kind, item);
                let title = format!("Summary › {} {}", cells[0], cells[1]);
                let base = m.cases_of_summary(item as usize);
                (
                    Screen::List(ListScreen::new(ListKind::Cases, title, base)),
                    Vec::new(),
                )
            }
            ListKind::Jobs => {
                let title = format!("Jobs › {}", m.jobs[item as usize].name);
                let base = m.cases_of_group(&m.job_of_file, item);
                (
                    Screen::List(ListScreen::new(ListKind::Cases, title, base)),
                    Vec::new(),
                )
            }
            ListKind::Files => {
                let title = format!("Files › {}", m.invoking[item as usize].name);
                let base = m.cases_of_group(&m.invoking_of_file, item);
                (
                    Screen::List(ListScreen::new(ListKind::Cases, title, base)),
                    Vec::new(),
                )
            }
            ListKind::Upload => return self.start_commit(),
        };
        self.stacks[self.view.index()].push(screen);
        let mut tasks = tasks;
        tasks.extend(self.recompute_top());
        tasks
    }

    fn sort(&mut self, action: Action) -> Vec<Task> {
        let Screen::List(l) = self.top_mut() else {
            return Vec::new();
        };
        let columns = l.kind.columns().len();
        l.sort = match (action, l.sort) {
            (Action::SortNext, None) => Some(Sort {
                column: 0,
                descending: false,
            }),
            (Action::SortNext, Some(s)) if s.column + 1 == columns => None,
            (Action::SortNext, Some(s)) => Some(Sort {
                column: s.column + 1,
                descending: l.kind.columns()[s.column + 1].numeric,
            }),
            (Action::SortReverse, Some(s)) => Some(Sort {
                descending: !s.descending,
                ..s
            }),
            (Action::SortReverse, None) => None,
            (Action::SortBy(c), Some(s)) if s.column == c => Some(Sort {
                descending: !s.descending,
                ..s
            }),
            (Action::SortBy(c), _) if c < columns => Some(Sort {
                column: c,
                descending: l.kind.columns()[c].numeric,
            }),
            (_, s) => s,
        };
        self.recompute_top()
    }

    fn next_match(&mut self, forward: bool) {
        let page = usize::from(self.areas().body.height).max(1);
        if let Screen::Detail(d) = self.top_mut() {
            if d.matches.is_empty() {
                return;
            }
            let n = d.matches.len();
            d.current = if forward {
                (d.current + 1) % n
            } else {
                (d.current + n - 1) % n
            };
            scroll_to_match(d, page);
        }
    }

    fn copy(&mut self, traceback: bool) -> Vec<Task> {
        let text = match self.top() {
            Screen::Detail(d) if traceback => d.traceback.clone(),
            Screen::Detail(d) => d.id.clone(),
            Screen::List(l) if l.kind.is_cases() && !traceback => match l.current() {
                Some(item) => self.data().case(l.kind, item).id(),
                None => String::new(),
            },
            Screen::List(_) => String::new(),
        };
        if text.is_empty() {
            self.notice = Some("nothing to copy here".into());
            return Vec::new();
        }
        self.notice = Some(format!(
            "copied {} ({} bytes) to the clipboard (OSC 52)",
            if traceback {
                "the traceback"
            } else {
                "the case id"
            },
            text.len()
        ));
        vec![Task::Copy(text)]
    }

    fn click(&mut self, x: u16, y: u16) -> Vec<Task> {
        let a = self.areas();
        if y == a.tabs.y {
            if let Some(v) = layout::tab_at(x) {
                return self.go_view(v);
            }
            return Vec::new();
        }
        let Screen::List(l) = self.top() else {
            return Vec::new();
        };
        if y == a.table_header.y {
            if let Some(col) = layout::column_at(l.kind, a.table_header, x) {
                return self.sort(Action::SortBy(col));
            }
            return Vec::new();
        }
        if y >= a.rows.y && y < a.rows.y + a.rows.height {
            let row = l.offset + usize::from(y - a.rows.y);
            if row < l.shown.len() {
                if row == l.selected {
                    return self.open();
                }
                if let Screen::List(l) = self.top_mut() {
                    l.selected = row;
                }
            }
        }
        Vec::new()
    }

    fn act_typing(&mut self, action: Action) -> Vec<Task> {
        let page = usize::from(self.areas().body.height).max(1);
        let top = self.top_mut();
        let query = match top {
            Screen::List(l) => &mut l.query,
            Screen::Detail(d) => &mut d.query,
        };
        match action {
            Action::InputChar(c) => query.push(c),
            Action::InputBackspace => {
                query.pop();
            }
            Action::InputClear => query.clear(),
            Action::InputAccept => {
                self.typing = false;
                return Vec::new();
            }
            Action::InputCancel => {
                query.clear();
                self.typing = false;
            }
            Action::Up | Action::Down => {
                self.typing = true;
                let page_rows = self.page();
                if let Screen::List(l) = self.top_mut() {
                    let n = l.shown.len();
                    if n > 0 {
                        l.selected = if action == Action::Up {
                            l.selected.saturating_sub(1)
                        } else {
                            (l.selected + 1).min(n - 1)
                        };
                        keep_visible(l, page_rows);
                    }
                }
                return Vec::new();
            }
            _ => return Vec::new(),
        }
        match self.top_mut() {
            Screen::List(l) => {
                l.selected = 0;
                l.offset = 0;
                self.recompute_top()
            }
            Screen::Detail(d) => {
                d.matches = detail::find(&d.wrapped, &d.query);
                d.current = 0;
                scroll_to_match(d, page);
                Vec::new()
            }
        }
    }

    fn start_commit(&mut self) -> Vec<Task> {
        if !self.model.loaded() {
            self.notice = Some("the run is still loading; commit when it is in".into());
            return Vec::new();
        }
        let s = &self.settings;
        let mut c = Commit {
            stage: CommitStage::Form,
            branch: s.head_branch.clone().unwrap_or_default(),
            repo: s.head_repository.clone().unwrap_or_default(),
            field: 0,
            warnings: Vec::new(),
            test_run: false,
            objects: None,
            committing: true,
        };
        if s.head_branch.is_some() && s.head_repository.is_some() {
            c.stage = CommitStage::Planning;
            let task = Task::Plan {
                branch: s.head_branch.clone(),
                repo: c.repo.clone(),
            };
            self.commit = Some(c);
            return vec![task];
        }
        if c.branch.is_empty() {
            c.field = 0;
        } else {
            c.field = 1;
        }
        self.commit = Some(c);
        Vec::new()
    }

    fn act_commit(&mut self, action: Action) -> Vec<Task> {
        let c = self.commit.as_mut().expect("checked");
        match (&c.stage, action) {
            (_, Action::Help) => self.help = Some(0),
            (CommitStage::Form, Action::InputChar(ch)) => field(c).push(ch),
            (CommitStage::Form, Action::InputBackspace) => {
                field(c).pop();
            }
            (CommitStage::Form, Action::InputClear) => field(c).clear(),
            (CommitStage::Form, Action::InputNextField | Action::Down | Action::Up) => {
                c.field = 1 - c.field;
            }
            (CommitStage::Form, Action::InputAccept) => {
                if c.repo.trim().is_empty() {
                    c.field = 1;
                    self.notice = Some("the head repository is needed (owner/repo)".into());
                    return Vec::new();
                }
                c.stage = CommitStage::Planning;
                let branch = (!c.branch.is_empty()).then(|| c.branch.clone());
                self.settings.head_branch = branch.clone();
                self.settings.head_repository = Some(c.repo.clone());
                return vec![Task::Plan {
                    branch,
                    repo: c.repo.clone(),
                }];
            }
            (CommitStage::Form, Action::InputCancel) | (_, Action::Back)
                if !matches!(c.stage, CommitStage::Uploading(_) | CommitStage::Planning) =>
            {
                self.commit = None;
            }
            (CommitStage::Confirm, Action::Confirm) => {
                if let Some(objects) = c.objects.clone() {
                    c.stage = CommitStage::Uploading(0);
                    for row in &mut self.plan {
                        row.result = "pending".into();
                    }
                    return vec![Task::Upload(objects)];
                }
            }
            (CommitStage::Done | CommitStage::Failed(_), Action::Confirm) => self.commit = None,
            (_, Action::Quit) if !matches!(c.stage, CommitStage::Uploading(_)) => {
                self.quit = true;
            }
            _ => {}
        }
        Vec::new()
    }

    /// Apply a background report.
    pub fn receive(&mut self, msg: Msg) -> Vec<Task> {
        match msg {
            Msg::Listed {
                description,
                workflow_id,
                run_id_known,
                attempt,
                reports,
                problems,
            } => {
                let mut model = Model::new(description, workflow_id, attempt, reports);
                model.run_id_known = run_id_known;
                model.add_problems(problems);
                self.model = Arc::new(model);
                self.rebuild_roots()
            }
            Msg::Folded(f) => {
                Arc::make_mut(&mut self.model).add_folded(f);
                self.rebuild_roots()
            }
            Msg::Loaded(run) => {
                Arc::make_mut(&mut self.model).finish(run);
                self.loading = false;
                let mut tasks = self.rebuild_roots();
                if self.view == View::Upload {
                    tasks.extend(self.plan_preview());
                }
                tasks
            }
            Msg::LoadFailed(e) => {
                self.loading = false;
                self.load_error = Some(e);
                Vec::new()
            }
            Msg::Computed {
                view,
                depth,
                generation,
                shown,
            } => {
                let page = self.page();
                if let Some(Screen::List(l)) = self.stacks[view.index()].get_mut(depth)
                    && l.generation == generation
                {
                    let keep = l.current();
                    l.pending = false;
                    set_shown(l, shown, keep);
                    keep_visible(l, page);
                }
                Vec::new()
            }
            Msg::Case { key, result } => {
                let width = self.areas().body.width;
                for stack in &mut self.stacks {
                    for s in stack.iter_mut() {
                        if let Screen::Detail(d) = s
                            && d.key == Some(key)
                            && d.loading
                        {
                            d.loading = false;
                            match &result {
                                Ok(case) => {
                                    let (lines, traceback) = detail::render_case(case);
                                    d.lines = lines;
                                    d.traceback = traceback;
                                }
                                Err(e) => {
                                    d.lines = vec![DetailLine {
                                        kind: LineKind::Text,
                                        text: format!(
                                            "could not read the case again: {}",
                                            crate::sanitize::line(e)
                                        ),
                                    }];
                                }
                            }
                            d.rewrap(width);
                        }
                    }
                }
                Vec::new()
            }
            Msg::Planned(result) => self.planned(result),
            Msg::Uploading(i) => {
                if let Some(c) = &mut self.commit {
                    c.stage = CommitStage::Uploading(i);
                }
                if let Some(row) = self.plan.get_mut(i) {
                    row.result = "writing…".into();
                }
                Vec::new()
            }
            Msg::Uploaded { written, failed } => {
                for row in &mut self.plan {
                    row.result = if written.contains(&row.location) {
                        "written".into()
                    } else if failed.is_some() {
                        "not written".into()
                    } else {
                        row.result.clone()
                    };
                }
                if let Some(e) = &failed
                    && let Some(row) = self.plan.iter_mut().find(|r| e.starts_with(&r.location))
                {
                    row.result = "FAILED".into();
                }
                if let Some(c) = &mut self.commit {
                    c.stage = match failed {
                        Some(e) => CommitStage::Failed(e),
                        None => CommitStage::Done,
                    };
                }
                self.recompute(View::Upload, 0).into_iter().collect()
            }
        }
    }

    fn planned(&mut self, result: Result<super::action::Planned, String>) -> Vec<Task> {
        match result {
            Ok(p) => {
                self.plan = p
                    .objects
                    .iter()
                    .map(|o| PlanRow {
                        collection: o.collection.to_string(),
                        location: o.location(),
                        documents: o.documents,
                        raw_bytes: o.raw_bytes,
                        gzip_bytes: o.body.len() as u64,
                        result: "planned".into(),
                    })
                    .collect();
                if let Some(c) = &mut self.commit {
                    c.warnings = p.warnings;
                    c.test_run = p.test_run;
                    c.objects = Some(Arc::new(p.objects));
                    c.stage = CommitStage::Confirm;
                } else {
                    self.notice = Some(if p.test_run {
                        "plan ready: test_run included".into()
                    } else {
                        "plan ready: test_run not uploaded (only pytorch/pytorch on main or \
                         trunk/<sha>)"
                            .into()
                    });
                }
                let base = self.root_items(View::Upload);
                if let Some(Screen::List(l)) = self.stacks[View::Upload.index()].first_mut() {
                    l.base = Arc::new(base);
                }
                self.recompute(View::Upload, 0).into_iter().collect()
            }
            Err(e) => {
                match &mut self.commit {
                    Some(c) => c.stage = CommitStage::Failed(e),
                    None => self.notice = Some(format!("plan failed: {e}")),
                }
                Vec::new()
            }
        }
    }
}

fn field(c: &mut Commit) -> &mut String {
    if c.field == 0 {
        &mut c.branch
    } else {
        &mut c.repo
    }
}

fn step(action: Action) -> usize {
    match action {
        Action::ScrollUp | Action::ScrollDown => 3,
        _ => 1,
    }
}

fn root_kind(view: View) -> ListKind {
    match view {
        View::Summary => ListKind::Summary,
        View::Failures | View::Reruns => ListKind::Briefs,
        View::Cases => ListKind::Cases,
        View::Jobs => ListKind::Jobs,
        View::Files => ListKind::Files,
        View::Problems => ListKind::Problems,
        View::Upload => ListKind::Upload,
    }
}

fn detail_screen(
    title: String,
    key: Option<(u32, u32)>,
    id: String,
    lines: Vec<DetailLine>,
    width: u16,
) -> DetailScreen {
    let mut d = DetailScreen {
        title,
        key,
        id,
        lines,
        wrapped: Vec::new(),
        width,
        scroll: 0,
        query: String::new(),
        matches: Vec::new(),
        current: 0,
        traceback: String::new(),
        loading: false,
    };
    d.rewrap(width);
    d
}

/// Show `shown`, keeping the selected item when it is still there.
fn set_shown(l: &mut ListScreen, shown: Vec<u32>, keep: Option<u32>) {
    l.selected = keep
        .and_then(|k| shown.iter().position(|&i| i == k))
        .unwrap_or_else(|| l.selected.min(shown.len().saturating_sub(1)));
    l.shown = shown;
}

fn keep_visible(l: &mut ListScreen, page: usize) {
    let n = l.shown.len();
    l.selected = l.selected.min(n.saturating_sub(1));
    if l.selected < l.offset {
        l.offset = l.selected;
    } else if l.selected >= l.offset + page {
        l.offset = l.selected + 1 - page;
    }
    l.offset = l.offset.min(n.saturating_sub(page.min(n)));
}

fn scroll_to_match(d: &mut DetailScreen, page: usize) {
    if let Some(&row) = d.matches.get(d.current)
        && (row < d.scroll || row >= d.scroll + page)
    {
        d.scroll = row.saturating_sub(page / 3);
    }
}
