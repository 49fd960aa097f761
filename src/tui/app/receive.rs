//! Background reports coming back: load progress, computed lists, re-read cases, plans and
//! upload progress.

use super::*;

impl App {
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
            Msg::Triaged { triage, base } => {
                let model = Arc::make_mut(&mut self.model);
                model.triage = Some(triage);
                model.base = base;
                self.rebuild_roots()
            }
            Msg::ReproWritten(result) => {
                self.notice = Some(match result {
                    Ok(path) => format!("wrote {path}"),
                    Err(e) => format!("could not write repro.sh: {e}"),
                });
                Vec::new()
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
                                    let mut all =
                                        crate::tui::explain::attempt_lines(&self.model, case, key);
                                    all.extend(lines);
                                    d.lines = all;
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
}
