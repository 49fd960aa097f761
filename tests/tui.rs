//! The TUI without a terminal: the app loaded from the bundled sample through the same
//! background tasks the runtime uses, driven by actions; screens are snapshots of a
//! TestBackend (tests/snapshots/), state is asserted directly.
#![cfg(feature = "net")]

mod common;

use std::sync::{Arc, Mutex};

use clap::Parser;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use testscope::cli::Cli;
use testscope::tui::action::{Action, Msg, View};
use testscope::tui::app::{App, CommitStage, Screen, Task};
use testscope::tui::list::{ListKind, StatusFilter};
use testscope::tui::model::Model;
use testscope::tui::tasks::{self, LoadCounters};
use testscope::tui::{draw, settings};

const SIZE: (u16, u16) = (140, 40);

fn cli(args: &[&str]) -> Cli {
    let mut all = vec!["testscope"];
    all.extend_from_slice(args);
    Cli::parse_from(all)
}

/// Run tasks the way the runtime does, synchronously, feeding their reports back.
fn run_tasks(app: &mut App, cli: &Cli, tasks: Vec<Task>) -> Vec<Task> {
    let mut copies = Vec::new();
    let mut queue = tasks;
    while let Some(task) = queue.pop() {
        if matches!(task, Task::Copy(_)) {
            copies.push(task);
            continue;
        }
        let msgs = Mutex::new(Vec::new());
        let model = app.model.clone();
        tasks::execute(task, cli, &model, &|m| msgs.lock().unwrap().push(m));
        for m in msgs.into_inner().unwrap() {
            queue.extend(app.receive(m));
        }
    }
    copies
}

fn load(cli: &Cli) -> App {
    let mut s = settings(cli);
    s.color = true;
    let mut app = App::new(Model::default(), s, SIZE);
    let msgs = Mutex::new(Vec::new());
    tasks::load_run(cli, &LoadCounters::default(), &|m| {
        msgs.lock().unwrap().push(m)
    });
    for m in msgs.into_inner().unwrap() {
        let t = app.receive(m);
        run_tasks(&mut app, cli, t);
    }
    assert!(!app.loading && app.model.loaded());
    app
}

fn sample() -> (App, Cli) {
    let cli = cli(&[
        "assets/sample-run",
        "--job-names",
        "assets/sample-run/job-names.json",
    ]);
    (load(&cli), cli)
}

fn act(app: &mut App, cli: &Cli, actions: &[Action]) -> Vec<Task> {
    let mut copies = Vec::new();
    for a in actions {
        let t = app.act(*a);
        copies.extend(run_tasks(app, cli, t));
    }
    copies
}

fn typed(text: &str) -> Vec<Action> {
    text.chars().map(Action::InputChar).collect()
}

fn screen(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    term.draw(|f| draw::draw(f, app, None)).unwrap();
    term.backend().to_string()
}

fn list(app: &App) -> &testscope::tui::app::ListScreen {
    match app.top() {
        Screen::List(l) => l,
        Screen::Detail(_) => panic!("expected a list"),
    }
}

#[test]
fn every_view_snapshot() {
    let (mut app, cli) = sample();
    for view in View::ALL {
        act(&mut app, &cli, &[Action::GoView(view)]);
        insta::assert_snapshot!(
            format!("view_{}", view.title().to_lowercase()),
            screen(&app)
        );
    }
}

#[test]
fn detail_pane_snapshots_and_search() {
    let (mut app, cli) = sample();
    act(
        &mut app,
        &cli,
        &[Action::GoView(View::Reruns), Action::Open],
    );
    let Screen::Detail(d) = app.top() else {
        panic!("Enter on a case opens its detail")
    };
    assert!(!d.loading);
    let text: Vec<&str> = d.lines.iter().map(|l| l.text.as_str()).collect();
    assert!(text.iter().any(|t| t.starts_with("rerun 1/")));
    insta::assert_snapshot!("detail_rerun_case", screen(&app));

    let mut search = vec![Action::StartFilter];
    search.extend(typed("traceback"));
    search.push(Action::InputAccept);
    act(&mut app, &cli, &search);
    let Screen::Detail(d) = app.top() else {
        panic!()
    };
    let found = d.matches.len();
    assert!(found >= 2, "every rerun has a traceback");
    act(&mut app, &cli, &[Action::NextMatch]);
    let Screen::Detail(d) = app.top() else {
        panic!()
    };
    assert_eq!(d.current, 1);
    act(&mut app, &cli, &[Action::PrevMatch, Action::PrevMatch]);
    let Screen::Detail(d) = app.top() else {
        panic!()
    };
    assert_eq!(d.current, found - 1, "N wraps around");
    insta::assert_snapshot!("detail_search", screen(&app));

    // Copy actions hand the text to the terminal (OSC 52).
    let copies = act(&mut app, &cli, &[Action::CopyId, Action::CopyText]);
    let texts: Vec<String> = copies
        .into_iter()
        .map(|t| match t {
            Task::Copy(s) => s,
            _ => unreachable!(),
        })
        .collect();
    assert!(texts[0].contains("::test_showcase"), "{texts:?}");
    assert!(texts[1].contains("Traceback"), "{texts:?}");
    assert!(testscope::tui::osc52("hi").starts_with("\x1b]52;c;aGk="));

    act(&mut app, &cli, &[Action::Back]);
    assert!(matches!(app.top(), Screen::List(_)));
}

#[test]
fn navigation_moves_and_scrolls() {
    let (mut app, cli) = sample();
    act(&mut app, &cli, &[Action::GoView(View::Cases)]);
    let page = app.page();
    assert_eq!(list(&app).shown.len(), 300);
    act(&mut app, &cli, &[Action::Down, Action::Down, Action::Up]);
    assert_eq!(list(&app).selected, 1);
    act(&mut app, &cli, &[Action::PageDown]);
    assert_eq!(list(&app).selected, 1 + page);
    assert!(list(&app).offset > 0, "the selection stays on screen");
    act(&mut app, &cli, &[Action::Bottom]);
    assert_eq!(list(&app).selected, 299);
    assert_eq!(list(&app).offset, 300 - page);
    act(&mut app, &cli, &[Action::Top]);
    assert_eq!((list(&app).selected, list(&app).offset), (0, 0));
    act(&mut app, &cli, &[Action::NextView]);
    assert_eq!(app.view, View::Jobs);
    act(&mut app, &cli, &[Action::PrevView, Action::PrevView]);
    assert_eq!(app.view, View::Reruns);
    // Mouse: a tab, a row, a header.
    let a = app.areas();
    act(&mut app, &cli, &[Action::Click(1, a.tabs.y)]);
    assert_eq!(app.view, View::Summary);
    act(&mut app, &cli, &[Action::Click(5, a.rows.y + 3)]);
    assert_eq!(list(&app).selected, 3);
    act(&mut app, &cli, &[Action::ScrollDown]);
    assert_eq!(list(&app).selected, 6);
    let cols = testscope::tui::layout::columns(ListKind::Summary, a.table_header);
    act(
        &mut app,
        &cli,
        &[Action::Click(cols[4].x, a.table_header.y)],
    );
    let sort = list(&app).sort.expect("a header click sorts");
    assert_eq!((sort.column, sort.descending), (4, true));
}

#[test]
fn filter_status_and_sort() {
    let (mut app, cli) = sample();
    act(&mut app, &cli, &[Action::GoView(View::Failures)]);
    assert_eq!(list(&app).shown.len(), 27);
    let mut keys = vec![Action::StartFilter];
    keys.extend(typed("longtrace"));
    act(&mut app, &cli, &keys);
    let names: Vec<String> = list(&app)
        .shown
        .iter()
        .map(|&i| app.data().case(ListKind::Briefs, i).name.to_string())
        .collect();
    assert!(names.len() < 27, "{names:?}");
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "test_showcase_long_traceback")
            .count(),
        3,
        "fuzzy: letters in order ({names:?})"
    );
    insta::assert_snapshot!("failures_filtered", screen(&app));
    act(&mut app, &cli, &[Action::InputAccept]);
    assert!(!app.typing);
    assert_eq!(list(&app).query, "longtrace");
    act(&mut app, &cli, &[Action::StartFilter, Action::InputCancel]);
    assert_eq!(list(&app).shown.len(), 27);

    // Quick status filters on every case.
    act(&mut app, &cli, &[Action::GoView(View::Cases)]);
    let counts: Vec<(StatusFilter, usize)> = (0..5)
        .map(|_| {
            act(&mut app, &cli, &[Action::CycleStatus]);
            (list(&app).status, list(&app).shown.len())
        })
        .collect();
    let t = app.model.totals();
    assert_eq!(
        counts,
        vec![
            (StatusFilter::Failing, (t.failures + t.errors) as usize),
            (StatusFilter::Flaky, 4),
            (StatusFilter::Skipped, t.skipped as usize),
            (StatusFilter::Passed, t.successes as usize),
            (StatusFilter::All, t.cases as usize),
        ]
    );

    // Sort the summary by tests, descending, then reverse.
    act(
        &mut app,
        &cli,
        &[Action::GoView(View::Summary), Action::SortBy(4)],
    );
    let run = app.model.run.clone().unwrap();
    let tests: Vec<u64> = list(&app)
        .shown
        .iter()
        .map(|&i| run.summary[i as usize].tests)
        .collect();
    assert!(tests.windows(2).all(|w| w[0] >= w[1]), "{tests:?}");
    act(&mut app, &cli, &[Action::SortReverse]);
    let first = run.summary[list(&app).shown[0] as usize].tests;
    assert_eq!(first, *tests.iter().min().unwrap());
    insta::assert_snapshot!("summary_sorted", screen(&app));
}

#[test]
fn drill_down_lists_a_class_then_a_case() {
    let (mut app, cli) = sample();
    let run = app.model.run.clone().unwrap();
    let row = run
        .summary
        .iter()
        .position(|r| r.failures > 0)
        .expect("the sample has a failing class");
    act(&mut app, &cli, &[Action::GoView(View::Summary)]);
    for _ in 0..row {
        act(&mut app, &cli, &[Action::Down]);
    }
    act(&mut app, &cli, &[Action::Open]);
    let l = list(&app);
    assert_eq!(l.kind, ListKind::Cases);
    assert_eq!(l.shown.len() as u64, run.summary[row].tests);
    insta::assert_snapshot!("summary_drill_down", screen(&app));
    act(&mut app, &cli, &[Action::Open]);
    assert!(matches!(app.top(), Screen::Detail(_)));
    act(&mut app, &cli, &[Action::Back, Action::Back]);
    assert_eq!(app.stack().len(), 1);

    // Jobs and invoking files drill down too; their counts add up.
    act(&mut app, &cli, &[Action::GoView(View::Jobs), Action::Open]);
    assert_eq!(
        list(&app).shown.len() as u64,
        app.model.jobs[0].counts.tests
    );
    let jobs: u64 = app.model.jobs.iter().map(|j| j.counts.tests).sum();
    let files: u64 = app.model.invoking.iter().map(|f| f.counts.tests).sum();
    assert_eq!((jobs, files), (300, 300));
}

#[test]
fn commit_writes_the_batch_path_objects() {
    let out = tempfile::tempdir().unwrap();
    let cli = cli(&[
        "assets/sample-run",
        "--job-names",
        "assets/sample-run/job-names.json",
        "--out-dir",
        out.path().to_str().unwrap(),
    ]);
    let mut app = load(&cli);
    // No branch or repository flags: the dialog asks.
    act(&mut app, &cli, &[Action::Commit]);
    assert_eq!(app.commit.as_ref().unwrap().stage, CommitStage::Form);
    let mut keys = typed("main");
    keys.push(Action::InputNextField);
    keys.extend(typed("pytorch/pytorch"));
    act(&mut app, &cli, &keys);
    insta::assert_snapshot!("commit_form", screen(&app));
    act(&mut app, &cli, &[Action::InputAccept]);
    let c = app.commit.as_ref().unwrap();
    assert_eq!(c.stage, CommitStage::Confirm);
    assert!(c.test_run, "pytorch/pytorch on main uploads test_run");
    assert_eq!(app.plan.len(), 7);
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing is written before confirmation"
    );
    insta::assert_snapshot!(
        "commit_confirm",
        screen(&app).replace(out.path().to_str().unwrap(), "<out>")
    );
    act(&mut app, &cli, &[Action::Confirm]);
    assert_eq!(app.commit.as_ref().unwrap().stage, CommitStage::Done);
    assert!(app.plan.iter().all(|r| r.result == "written"));
    for row in &app.plan {
        let key = row.location.replacen("ossci-raw-job-status/", "", 1);
        let read = |p: std::path::PathBuf| common::gunzip(&std::fs::read(p).unwrap());
        let ours = read(out.path().join("ossci-raw-job-status").join(&key));
        let golden = read(
            common::project("tests/golden/sample/expected-named/ossci-raw-job-status").join(&key),
        );
        assert!(ours == golden, "{key} differs from the reference");
    }
    act(&mut app, &cli, &[Action::Confirm]);
    assert!(app.commit.is_none());

    // Cancelling the form writes nothing and keeps the app running.
    act(
        &mut app,
        &cli,
        &[Action::Commit, Action::InputAccept, Action::Back],
    );
    assert!(app.commit.is_none() && !app.quit);
}

#[test]
fn a_failed_upload_is_shown_and_the_app_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let cli = cli(&[
        "assets/sample-run",
        "--job-names",
        "assets/sample-run/job-names.json",
        "--out-dir",
        blocker.to_str().unwrap(),
        "--head-branch",
        "pull/1",
        "--head-repository",
        "pytorch/pytorch",
    ]);
    let mut app = load(&cli);
    act(&mut app, &cli, &[Action::Commit]);
    let c = app.commit.as_ref().unwrap();
    assert_eq!(
        c.stage,
        CommitStage::Confirm,
        "flags give branch and repository"
    );
    assert!(
        !c.test_run,
        "a pull request branch does not upload test_run"
    );
    assert_eq!(app.plan.len(), 6);
    act(&mut app, &cli, &[Action::Confirm]);
    assert!(matches!(
        app.commit.as_ref().unwrap().stage,
        CommitStage::Failed(_)
    ));
    assert_eq!(app.plan[0].result, "FAILED");
    act(
        &mut app,
        &cli,
        &[
            Action::Confirm,
            Action::GoView(View::Failures),
            Action::Down,
        ],
    );
    assert!(!app.quit && app.commit.is_none());
}

#[test]
fn help_small_terminal_and_no_color() {
    let (mut app, cli) = sample();
    act(&mut app, &cli, &[Action::Help]);
    let help = screen(&app);
    // Help is printed from the keymap, so every command's text is in it.
    for cmd in testscope::tui::keymap::COMMANDS.iter().take(12) {
        assert!(help.contains(cmd.help), "help lacks {:?}", cmd.help);
    }
    insta::assert_snapshot!("help", help);
    act(&mut app, &cli, &[Action::Back, Action::Resize(50, 10)]);
    assert!(app.help.is_none());
    insta::assert_snapshot!("too_small", screen(&app));

    act(
        &mut app,
        &cli,
        &[
            Action::Resize(SIZE.0, SIZE.1),
            Action::GoView(View::Failures),
        ],
    );
    let colored = buffer(&app);
    app.settings.color = false;
    let plain = buffer(&app);
    let has_color = |b: &ratatui::buffer::Buffer| {
        b.content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
    };
    assert!(has_color(&colored));
    assert!(!has_color(&plain), "NO_COLOR: no colour at all");
}

fn buffer(app: &App) -> ratatui::buffer::Buffer {
    let area = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    draw::render(&mut buf, area, app, None);
    buf
}

#[test]
fn report_text_is_inert_on_screen() {
    // XML cannot carry ESC or other C0 controls, but it can carry C1 controls (U+009B is
    // CSI on many terminals), DEL and bidi overrides; file and folder names carry anything.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir
        .path()
        .join("unzipped-test-reports-x_1")
        .join("test_\x1b]0;pwned\x07evil");
    std::fs::create_dir_all(&folder).unwrap();
    let xml = "<?xml version=\"1.0\"?>\n<testsuite><testcase classname=\"Evil&#x9b;6n\" \
               name=\"test_&#x7f;del&#x202e;rtl\" time=\"1\"><failure message=\"boom&#x9b;31mred\">\
               trace&#x9b;1;1Hline\n</failure></testcase></testsuite>\n";
    std::fs::write(folder.join("ok.xml"), xml).unwrap();
    std::fs::write(folder.join("raw\x1b[2J.xml"), "<testsuite>\x1b</testsuite>").unwrap();
    let cli = cli(&[dir.path().to_str().unwrap()]);
    let mut app = load(&cli);
    act(&mut app, &cli, &[Action::GoView(View::Failures)]);
    let list_screen = screen(&app);
    act(&mut app, &cli, &[Action::Open]);
    let detail = screen(&app);
    // The file column is cut; the problem's detail shows the whole path.
    act(
        &mut app,
        &cli,
        &[Action::Back, Action::GoView(View::Problems), Action::Open],
    );
    let problems = screen(&app);
    act(&mut app, &cli, &[Action::GoView(View::Files)]);
    let files = screen(&app);
    for s in [&list_screen, &detail, &problems, &files] {
        assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s}");
        assert!(!s.contains('\u{202e}'));
    }
    assert!(list_screen.contains("Evil\\x9b6n"), "{list_screen}");
    assert!(
        list_screen.contains("test_\\x7fdel\\u{202e}rtl"),
        "{list_screen}"
    );
    assert!(detail.contains("trace\\x9b1;1Hline"), "{detail}");
    assert!(problems.contains("raw\\x1b[2J.xml"), "{problems}");
    assert!(files.contains("test_\\x1b]0;pwned\\x07evil"), "{files}");
    let tmp = dir.path().to_str().unwrap();
    insta::assert_snapshot!("inert_failures", list_screen.replace(tmp, "<tmp>"));
    insta::assert_snapshot!("inert_detail", detail.replace(tmp, "<tmp>"));
}

#[test]
fn loading_shows_what_is_in_so_far() {
    let cli = cli(&["assets/sample-run"]);
    let mut s = settings(&cli);
    s.color = true;
    let mut app = App::new(Model::default(), s, SIZE);
    let msgs = Mutex::new(Vec::new());
    tasks::load_run(&cli, &LoadCounters::default(), &|m| {
        msgs.lock().unwrap().push(m)
    });
    let msgs = msgs.into_inner().unwrap();
    // The run, then its triage (clusters, attempts), computed on the loading thread.
    assert!(matches!(msgs.last(), Some(Msg::Triaged { base: None, .. })));
    assert!(matches!(msgs[msgs.len() - 2], Msg::Loaded(_)));
    for m in msgs {
        if let Msg::Loaded(_) = m {
            break;
        }
        app.receive(m);
    }
    assert!(app.loading);
    act(&mut app, &cli, &[Action::GoView(View::Failures)]);
    assert_eq!(
        list(&app).shown.len(),
        27,
        "failures are browsable before the end"
    );
    act(&mut app, &cli, &[Action::Open]);
    let Screen::Detail(d) = app.top() else {
        panic!()
    };
    assert!(!d.loading, "a case opens while loading");
    act(
        &mut app,
        &cli,
        &[Action::Back, Action::GoView(View::Summary)],
    );
    assert!(screen(&app).contains("available when every file is loaded"));
    act(&mut app, &cli, &[Action::Commit]);
    assert!(app.commit.is_none(), "no commit before the run is in");
    let _ = Arc::clone(&app.model);
}

#[test]
fn a_commit_without_test_run_reads_the_failed_cases_again() {
    // The TUI loads without the upload lines; the commit reads the reports with failed cases
    // again, and writes what the batch path writes.
    let out = tempfile::tempdir().unwrap();
    let cli = cli(&[
        "assets/sample-run",
        "--job-names",
        "assets/sample-run/job-names.json",
        "--out-dir",
        out.path().to_str().unwrap(),
        "--head-branch",
        "pull/1",
        "--head-repository",
        "pytorch/pytorch",
    ]);
    let mut app = load(&cli);
    assert!(app.model.run.as_ref().unwrap().failed.is_none());
    act(&mut app, &cli, &[Action::Commit, Action::Confirm]);
    assert_eq!(app.commit.as_ref().unwrap().stage, CommitStage::Done);
    assert_eq!(app.plan.len(), 6);
    for row in &app.plan {
        let key = row.location.replacen("ossci-raw-job-status/", "", 1);
        let read = |p: std::path::PathBuf| common::gunzip(&std::fs::read(p).unwrap());
        let ours = read(out.path().join("ossci-raw-job-status").join(&key));
        let golden = read(
            common::project("tests/golden/sample/expected-named/ossci-raw-job-status").join(&key),
        );
        assert!(ours == golden, "{key} differs from the reference");
    }
}

#[test]
fn a_commit_refuses_reports_that_changed_since_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let failing = r#"<testsuite><testcase classname="A" name="ok" time="1"/><testcase classname="A" name="bad" time="2"><failure message="boom">trace</failure></testcase></testsuite>"#;
    std::fs::write(&report, failing).unwrap();
    let out = dir.path().join("out");
    let cli = cli(&[
        dir.path().to_str().unwrap(),
        "--workflow-run-id",
        "5",
        "--workflow-run-attempt",
        "1",
        "--out-dir",
        out.to_str().unwrap(),
        "--head-branch",
        "pull/1",
        "--head-repository",
        "pytorch/pytorch",
    ]);
    for (change, message) in [
        (
            Some(failing.replace("<failure message=\"boom\">trace</failure>", "")),
            "changed since it was loaded",
        ),
        (None, "cannot be read again"),
    ] {
        std::fs::write(&report, failing).unwrap();
        let mut app = load(&cli);
        match &change {
            Some(text) => std::fs::write(&report, text).unwrap(),
            None => std::fs::write(&report, "<testsuite><testcase").unwrap(),
        }
        act(&mut app, &cli, &[Action::Commit]);
        match &app.commit.as_ref().unwrap().stage {
            CommitStage::Failed(e) => assert!(e.contains(message), "{e:?}"),
            other => panic!("{other:?}"),
        }
        act(&mut app, &cli, &[Action::Confirm]);
        assert!(app.commit.is_none() && !app.quit);
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn summary_sorts_follow_the_shown_cells() {
    // Sort keys are read from the rows, not the cells: the order must be the cells' order.
    let (mut app, cli) = sample();
    act(&mut app, &cli, &[Action::GoView(View::Summary)]);
    let columns = ListKind::Summary.columns();
    for (c, column) in columns.iter().enumerate() {
        act(&mut app, &cli, &[Action::SortBy(c)]);
        let l = list(&app);
        let sort = l.sort.expect("sorted");
        assert_eq!(sort.column, c);
        let data = testscope::tui::list::Data {
            model: &app.model,
            plan: &[],
        };
        let cells: Vec<String> = l
            .shown
            .iter()
            .map(|&i| data.cells(ListKind::Summary, i)[c].to_string())
            .collect();
        for w in cells.windows(2) {
            let order = if column.numeric {
                let n = |s: &str| s.parse::<f64>().unwrap_or(f64::NEG_INFINITY);
                n(&w[0]).total_cmp(&n(&w[1]))
            } else {
                w[0].cmp(&w[1])
            };
            let order = if sort.descending {
                order.reverse()
            } else {
                order
            };
            assert_ne!(order, std::cmp::Ordering::Greater, "column {c}: {w:?}");
        }
    }
}

/// With a base run: the app opens on the Compare view; Enter explains a verdict; the case
/// lists show each case's verdict and cluster; the Clusters view lists root causes and
/// opens one's cases; `r` copies a repro command and `R` writes the view's repro script.
#[test]
fn compare_view_explain_pane_and_clusters() {
    let cli = cli(&[
        "assets/sample-run",
        "--base",
        "assets/sample-base",
        "--job-names",
        "assets/sample-run/job-names.json",
    ]);
    let mut app = load(&cli);
    assert_eq!(app.view, View::Compare);
    insta::assert_snapshot!("compare_view", screen(&app));
    assert_eq!(list(&app).shown.len(), 12 + 7 + 12 + 3 + 3);

    act(&mut app, &cli, &[Action::Open]);
    let Screen::Detail(d) = app.top() else {
        panic!("the explain pane opens")
    };
    assert!(d.lines[0].text.starts_with("Verdict: new_failure"));
    insta::assert_snapshot!("compare_explain", screen(&app));

    // The verdict's repro script: the new failures, each once.
    act(&mut app, &cli, &[Action::Back]);
    let tasks = app.act(Action::WriteRepro);
    let [Task::WriteRepro(script)] = tasks.as_slice() else {
        panic!("{tasks:?}")
    };
    assert!(script.starts_with("#!/usr/bin/env bash"));
    assert!(
        script
            .lines()
            .filter(|l| l.contains("python test/"))
            .count()
            >= 1
    );

    act(&mut app, &cli, &[Action::GoView(View::Failures)]);
    insta::assert_snapshot!("failures_with_verdicts", screen(&app));
    let copies = act(&mut app, &cli, &[Action::CopyRepro]);
    assert!(
        matches!(copies.as_slice(), [Task::Copy(c)] if c.contains("python test/")),
        "{copies:?}"
    );

    act(&mut app, &cli, &[Action::GoView(View::Clusters)]);
    insta::assert_snapshot!("clusters_view", screen(&app));
    let first = app.model.clusters()[0].clone();
    act(&mut app, &cli, &[Action::Open]);
    assert_eq!(*list(&app).base, first.members);
    insta::assert_snapshot!("cluster_cases", screen(&app));
}
