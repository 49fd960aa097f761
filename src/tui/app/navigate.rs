//! Moving around: the root lists of each view, recomputing a list after a filter or sort,
//! opening an item, scrolling, search matches, copying and mouse clicks.

use super::*;

impl App {
    /// Rebuild every view's root items from the model (keeping filters, sorts, selection).
    pub(super) fn rebuild_roots(&mut self) -> Vec<Task> {
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

    pub(super) fn root_items(&self, view: View) -> Vec<u32> {
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
            View::Reruns => briefs(&|b| b.retried() > 0),
            View::Cases => all(m.run.as_ref().map_or(0, |r| r.cases.len())),
            View::Jobs => all(m.jobs.len()),
            View::Files => all(m.invoking.len()),
            View::Problems => all(m.problems().len()),
            View::Upload => all(self.plan.len()),
            View::Clusters => all(m.clusters().len()),
            View::Compare => all(m.compared().len()),
        }
    }

    /// Re-filter and re-sort a list: here when small, else as a task.
    pub(super) fn recompute(&mut self, view: View, depth: usize) -> Option<Task> {
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

    pub(super) fn recompute_top(&mut self) -> Vec<Task> {
        let depth = self.stack().len() - 1;
        self.recompute(self.view, depth).into_iter().collect()
    }

    pub(super) fn go(&mut self, view: View) {
        self.view = view;
    }

    pub(super) fn go_view(&mut self, view: View) -> Vec<Task> {
        self.go(view);
        if view == View::Upload && self.plan.is_empty() && self.model.loaded() {
            return self.plan_preview();
        }
        Vec::new()
    }

    /// Plan with what the flags say, to show in the Upload view.
    pub(super) fn plan_preview(&mut self) -> Vec<Task> {
        if self.commit.is_some() {
            return Vec::new();
        }
        self.notice = Some("computing the upload plan…".into());
        vec![Task::Plan {
            branch: self.settings.head_branch.clone(),
            repo: self.settings.head_repository.clone().unwrap_or_default(),
        }]
    }

    pub(super) fn move_by(&mut self, delta: isize) {
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

    pub(super) fn clamp_all(&mut self) {
        let page = self.page();
        for stack in &mut self.stacks {
            for s in stack {
                if let Screen::List(l) = s {
                    keep_visible(l, page);
                }
            }
        }
    }

    pub(super) fn open(&mut self) -> Vec<Task> {
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
            ListKind::Clusters => {
                let c = &m.clusters()[item as usize];
                let title = format!("Clusters › {} ({} cases)", c.id, c.cases());
                (
                    Screen::List(ListScreen::new(ListKind::Briefs, title, c.members.clone())),
                    Vec::new(),
                )
            }
            ListKind::Compare => {
                let t = &m.compared()[item as usize];
                let id = t.test_id();
                let lines = super::super::explain::verdict_lines(&m, t);
                (
                    Screen::Detail(detail_screen(
                        format!("{} [{}]", id, t.verdict.name()),
                        None,
                        id,
                        lines,
                        width,
                    )),
                    Vec::new(),
                )
            }
        };
        self.stacks[self.view.index()].push(screen);
        let mut tasks = tasks;
        tasks.extend(self.recompute_top());
        tasks
    }

    pub(super) fn sort(&mut self, action: Action) -> Vec<Task> {
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

    pub(super) fn next_match(&mut self, forward: bool) {
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

    pub(super) fn copy(&mut self, traceback: bool) -> Vec<Task> {
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

    /// The brief of the selected case (a list of cases, or a case's detail).
    fn selected_brief(&self) -> Option<u32> {
        let m = &self.model;
        match self.top() {
            Screen::List(l) if l.kind == ListKind::Briefs => l.current(),
            Screen::List(l) if l.kind == ListKind::Cases => m.brief_of_row(l.current()?),
            Screen::List(l) if l.kind == ListKind::Compare => {
                m.brief_of_row(m.compared().get(l.current()? as usize)?.head.row?)
            }
            Screen::Detail(d) => {
                let (file, ordinal) = d.key?;
                let run = m.run.as_ref()?;
                m.brief_of_row(run.cases_row(file as usize, ordinal as usize)? as u32)
            }
            Screen::List(_) => None,
        }
    }

    pub(super) fn copy_repro(&mut self) -> Vec<Task> {
        let Some((repro, in_report)) = self
            .selected_brief()
            .and_then(|b| self.model.repro_of_brief(b))
        else {
            self.notice = Some("no failing case here: nothing to rerun".into());
            return Vec::new();
        };
        self.notice = Some(format!(
            "copied the repro command ({}) to the clipboard (OSC 52)",
            if in_report {
                "as the report wrote it"
            } else {
                "built from the report's names"
            }
        ));
        vec![Task::Copy(repro)]
    }

    /// `repro.sh` for the selected cluster's cases, or the Compare view's new failures.
    pub(super) fn write_repro(&mut self) -> Vec<Task> {
        let m = self.model.clone();
        let briefs: Vec<u32> = match self.top() {
            Screen::List(l) if l.kind == ListKind::Clusters => l
                .current()
                .and_then(|c| m.clusters().get(c as usize))
                .map(|c| c.members.clone())
                .unwrap_or_default(),
            Screen::List(l) if l.kind == ListKind::Compare => m
                .compared()
                .iter()
                .filter(|t| crate::triage::summary::is_new(t.verdict))
                .filter_map(|t| m.brief_of_row(t.head.row?))
                .collect(),
            _ => {
                self.notice =
                    Some("R writes repro.sh from the Clusters or the Compare view".into());
                return Vec::new();
            }
        };
        let commands: Vec<String> = briefs
            .into_iter()
            .filter_map(|b| m.repro_of_brief(b).map(|(c, _)| c))
            .collect();
        if commands.is_empty() {
            self.notice = Some("no failing case here: nothing to rerun".into());
            return Vec::new();
        }
        vec![Task::WriteRepro(crate::triage::repro::script(commands))]
    }

    pub(super) fn click(&mut self, x: u16, y: u16) -> Vec<Task> {
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
}

pub(super) fn step(action: Action) -> usize {
    match action {
        Action::ScrollUp | Action::ScrollDown => 3,
        _ => 1,
    }
}

pub(super) fn root_kind(view: View) -> ListKind {
    match view {
        View::Summary => ListKind::Summary,
        View::Failures | View::Reruns => ListKind::Briefs,
        View::Cases => ListKind::Cases,
        View::Jobs => ListKind::Jobs,
        View::Files => ListKind::Files,
        View::Problems => ListKind::Problems,
        View::Upload => ListKind::Upload,
        View::Clusters => ListKind::Clusters,
        View::Compare => ListKind::Compare,
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
pub(super) fn set_shown(l: &mut ListScreen, shown: Vec<u32>, keep: Option<u32>) {
    l.selected = keep
        .and_then(|k| shown.iter().position(|&i| i == k))
        .unwrap_or_else(|| l.selected.min(shown.len().saturating_sub(1)));
    l.shown = shown;
}

pub(super) fn keep_visible(l: &mut ListScreen, page: usize) {
    let n = l.shown.len();
    l.selected = l.selected.min(n.saturating_sub(1));
    if l.selected < l.offset {
        l.offset = l.selected;
    } else if l.selected >= l.offset + page {
        l.offset = l.selected + 1 - page;
    }
    l.offset = l.offset.min(n.saturating_sub(page.min(n)));
}

pub(super) fn scroll_to_match(d: &mut DetailScreen, page: usize) {
    if let Some(&row) = d.matches.get(d.current)
        && (row < d.scroll || row >= d.scroll + page)
    {
        d.scroll = row.saturating_sub(page / 3);
    }
}
