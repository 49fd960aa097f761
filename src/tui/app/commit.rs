//! The commit dialog: from the form (branch and repository) through the plan to the upload
//! and its outcome.

use super::*;

impl App {
    pub(super) fn start_commit(&mut self) -> Vec<Task> {
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

    pub(super) fn act_commit(&mut self, action: Action) -> Vec<Task> {
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

    pub(super) fn planned(
        &mut self,
        result: Result<crate::tui::action::Planned, String>,
    ) -> Vec<Task> {
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
