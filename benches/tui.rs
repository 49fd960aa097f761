//! The terminal UI at PyTorch scale: the generated `pytorch` profile (1.2 M cases) loaded
//! once into an [`App`] as the runtime loads it, then the cost of one update plus a full
//! frame (`draw::render` into a 200x50 buffer) for scrolling, a filter keystroke, a sort and
//! a drill-down. The target is 16 ms for each.
//!
//! Lists over `SYNC_LIMIT` items (the Cases view: every case) are filtered and sorted by a
//! background task: for those the UI thread's part (the action and a frame) and the task
//! (until its `Msg::Computed`) are measured apart, and so is the frame when results arrive.
//!
//!     cargo bench --bench tui                         (pytorch profile)
//!     TUI_BENCH_PROFILE=medium cargo bench --bench tui -- --quick   (a smoke run)
//!
//! The run is generated once into bench/out/<profile>, shared with bench/run.sh and
//! bench/tui.sh. `bench/tui.sh` measures the load itself (time and peak RSS).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use testscope::cli::Cli;
use testscope::tui::action::{Action, Msg, View};
use testscope::tui::app::{App, SYNC_FILTER_LIMIT, SYNC_LIMIT, Screen, Task};
use testscope::tui::draw;
use testscope::tui::list::{self, StatusFilter};
use testscope::tui::tasks::{self, LoadCounters};

// The same allocator as the testscope binary.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZE: (u16, u16) = (200, 50);

/// The generated run, made on first use (as bench/run.sh makes it, with the same generator).
fn run_dir(profile: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/out");
    let dir = out.join(profile);
    if !dir.join("gha-artifacts").is_dir() {
        let opts = match profile {
            // `cargo test --all-targets` runs each benchmark once: a run just big enough
            // for the Cases view to be filtered on a worker (24,000 cases), quick to make.
            "smoke" => testscope_gen::GenOptions {
                cases_per_file: 600,
                ..testscope_gen::GenOptions::profile("small").expect("a known profile")
            },
            // A profile's base run: the same tests with known differences.
            p if p.ends_with("-base") => testscope_gen::GenOptions {
                run_id: testscope_gen::DEFAULT_RUN_ID - 1,
                base_of: Some(testscope_gen::DEFAULT_RUN_ID),
                ..load_profile(p.trim_end_matches("-base"))
            },
            p => load_profile(p),
        };
        let tmp = out.join(format!(".{profile}.tmp{}", std::process::id()));
        eprintln!("generating the {profile} profile into {}", dir.display());
        testscope_gen::generate(&opts, &tmp).expect("generate the run");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove a partial run");
        }
        std::fs::rename(&tmp, &dir).expect("move the run in place");
    }
    dir
}

fn load_profile(p: &str) -> testscope_gen::GenOptions {
    match p {
        "smoke" => testscope_gen::GenOptions {
            cases_per_file: 600,
            ..testscope_gen::GenOptions::profile("small").expect("a known profile")
        },
        p => testscope_gen::GenOptions::profile(p).expect("a known profile"),
    }
}

/// Carry out tasks as the runtime does (here in turn), feeding their reports back.
fn settle(app: &mut App, cli: &Cli, tasks: Vec<Task>) {
    let mut queue = tasks;
    while let Some(task) = queue.pop() {
        for m in execute(app, cli, task) {
            queue.extend(app.receive(m));
        }
    }
}

/// One task's reports.
fn execute(app: &App, cli: &Cli, task: Task) -> Vec<Msg> {
    let msgs = Mutex::new(Vec::new());
    tasks::execute(task, cli, &app.model, &|m| msgs.lock().unwrap().push(m));
    msgs.into_inner().unwrap()
}

fn act(app: &mut App, cli: &Cli, actions: &[Action]) {
    for a in actions {
        let t = app.act(*a);
        settle(app, cli, t);
    }
}

fn load(profile: &str, with_base: bool) -> (App, Cli) {
    let dir = run_dir(profile);
    let names = dir.join("job-names.json");
    let mut args = vec![
        "testscope".into(),
        dir.clone().into_os_string(),
        "--job-names".into(),
        names.into_os_string(),
    ];
    if with_base {
        args.push("--base".into());
        args.push(run_dir(&format!("{profile}-base")).into_os_string());
    }
    let cli = Cli::parse_from(args);
    let mut app = testscope::tui::initial_app(&cli, SIZE);
    let msgs = Mutex::new(Vec::new());
    let t = Instant::now();
    tasks::load_run(&cli, &LoadCounters::default(), &|m| {
        msgs.lock().unwrap().push(m)
    });
    for m in msgs.into_inner().unwrap() {
        let tasks = app.receive(m);
        settle(&mut app, &cli, tasks);
    }
    assert!(!app.loading && app.model.loaded(), "the run loaded");
    let run = app.model.run.as_ref().expect("loaded");
    assert!(
        run.cases.len() > SYNC_LIMIT && run.summary.len() <= SYNC_LIMIT,
        "a profile with more than {SYNC_LIMIT} cases (filtered by a task) and at most \
         {SYNC_LIMIT} summary rows (filtered in place), as pytorch and medium are"
    );
    eprintln!(
        "loaded {} cases, {} summary rows, {} failed/rerun briefs in {:.2}s",
        run.cases.len(),
        run.summary.len(),
        run.notable.len(),
        t.elapsed().as_secs_f64()
    );
    (app, cli)
}

fn list(app: &App) -> &testscope::tui::app::ListScreen {
    match app.top() {
        Screen::List(l) => l,
        Screen::Detail(_) => panic!("expected a list"),
    }
}

/// The app and the buffer it is drawn into.
struct Ui {
    app: App,
    buf: Buffer,
}

impl Ui {
    /// A full frame, as the runtime draws one (into a cleared buffer).
    fn frame(&mut self) {
        let area = self.buf.area;
        self.buf.reset();
        draw::render(&mut self.buf, area, &self.app, None);
        black_box(&self.buf);
    }

    fn list(&self) -> &testscope::tui::app::ListScreen {
        list(&self.app)
    }
}

/// Time `timed` only: `before` (whose result `timed` takes) and `after` run untimed around
/// each iteration.
fn timed_only<S>(
    iters: u64,
    ui: &mut Ui,
    mut before: impl FnMut(&mut Ui) -> S,
    mut timed: impl FnMut(&mut Ui, S),
    mut after: impl FnMut(&mut Ui),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let s = before(ui);
        let t = Instant::now();
        timed(ui, s);
        total += t.elapsed();
        after(ui);
    }
    total
}

/// One action and a frame, timed; `after` undoes what it changed, untimed.
fn action_frame(
    iters: u64,
    ui: &mut Ui,
    action: Action,
    check: impl Fn(&[Task]),
    after: impl FnMut(&mut Ui),
) -> Duration {
    timed_only(
        iters,
        ui,
        |_| {},
        |ui, ()| {
            let tasks = ui.app.act(action);
            ui.frame();
            check(&tasks);
        },
        after,
    )
}

fn none(tasks: &[Task]) {
    assert!(tasks.is_empty(), "done on the UI thread");
}

fn one_compute(tasks: &[Task]) {
    assert!(
        matches!(tasks, [Task::Compute { .. }]),
        "a background compute"
    );
}

fn top_at_end(ui: &mut Ui) {
    if ui.list().selected + 1 >= ui.list().shown.len() {
        ui.app.act(Action::Top);
    }
}

fn back(ui: &mut Ui) {
    assert_eq!(ui.app.stack().len(), 2, "opened");
    let _ = ui.app.act(Action::Back);
}

fn benches(c: &mut Criterion) {
    // Without --bench, cargo test is running the benchmarks once as a check.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let default = if benchmarking { "pytorch" } else { "smoke" };
    let profile = std::env::var("TUI_BENCH_PROFILE").unwrap_or_else(|_| default.into());
    let (app, cli) = load(&profile, false);
    let cli = &cli;
    let ui = &mut Ui {
        app,
        buf: Buffer::empty(Rect::new(0, 0, SIZE.0, SIZE.1)),
    };

    // ---- Quick: the UI thread (one action + one frame). ----
    let mut g = c.benchmark_group(format!("tui {profile}"));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    // Scrolling the Cases view (every case).
    act(&mut ui.app, cli, &[Action::GoView(View::Cases)]);
    assert!(ui.list().shown.len() > 1, "the Cases view lists the run");
    g.bench_function("frame only: Cases view", |b| b.iter(|| ui.frame()));
    g.bench_function("scroll: Cases Down + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Down, none, top_at_end))
    });
    g.bench_function("scroll: Cases PageDown + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::PageDown, none, top_at_end))
    });
    act(&mut ui.app, cli, &[Action::Top]);

    // A filter keystroke on the Cases view: the UI thread's part (its task runs elsewhere).
    act(&mut ui.app, cli, &[Action::StartFilter]);
    g.bench_function("filter keystroke: Cases 'x' act + frame (UI thread)", |b| {
        b.iter_custom(|iters| {
            action_frame(iters, ui, Action::InputChar('x'), one_compute, |ui| {
                let _ = ui.app.act(Action::InputBackspace);
            })
        })
    });
    // What the results cost the UI thread when they arrive.
    let task = ui.app.act(Action::InputChar('x')).pop().expect("a task");
    let Some(Msg::Computed {
        view,
        depth,
        generation,
        shown,
    }) = execute(&ui.app, cli, task).pop()
    else {
        panic!("the filter computes")
    };
    eprintln!(
        "filter 'x' on Cases: {} of {} cases match",
        shown.len(),
        ui.list().base.len()
    );
    g.bench_function(
        "filter keystroke: Cases results arrive: receive + frame",
        |b| {
            b.iter_custom(|iters| {
                timed_only(
                    iters,
                    ui,
                    |_| shown.clone(),
                    |ui, shown| {
                        let tasks = ui.app.receive(Msg::Computed {
                            view,
                            depth,
                            generation,
                            shown,
                        });
                        ui.frame();
                        none(&tasks);
                    },
                    |_| {},
                )
            })
        },
    );
    act(&mut ui.app, cli, &[Action::InputCancel]);

    // A filter keystroke on the Summary view (17 k rows: over SYNC_FILTER_LIMIT, so the
    // filter itself runs on a worker; its cost is "list::compute alone" below).
    act(
        &mut ui.app,
        cli,
        &[Action::GoView(View::Summary), Action::StartFilter],
    );
    g.bench_function(
        "filter keystroke: Summary 'x' act + frame (UI thread)",
        |b| {
            b.iter_custom(|iters| {
                // On the pytorch profile a worker filters; on the smoke run the UI thread does.
                action_frame(
                    iters,
                    ui,
                    Action::InputChar('x'),
                    |_| {},
                    |ui| {
                        let _ = ui.app.act(Action::InputBackspace);
                    },
                )
            })
        },
    );
    act(&mut ui.app, cli, &[Action::InputCancel]);
    // Where that goes: the filter alone, and the text it matches against alone.
    {
        let (data, l) = (ui.app.data(), ui.list());
        let (kind, base) = (l.kind, l.base.clone());
        g.bench_function("filter keystroke: Summary 'x' list::compute alone", |b| {
            b.iter(|| {
                let all = StatusFilter::All;
                list::compute(data, kind, &base, "x", all, None, &|| false)
            })
        });
        g.bench_function("filter keystroke: Summary haystacks alone", |b| {
            let mut hay = String::new();
            b.iter(|| {
                let mut n = 0;
                for &i in base.iter() {
                    data.haystack(kind, i, &mut hay);
                    n += hay.len();
                }
                n
            })
        });
    }

    // Drill-down: the largest Summary row's cases (scans the case table), then back.
    let target = {
        let run = ui.app.model.run.as_ref().expect("loaded");
        let (i, r) = run
            .summary
            .iter()
            .enumerate()
            .max_by_key(|(_, r)| r.tests)
            .expect("summary rows");
        eprintln!("drill-down: the largest Summary row has {} tests", r.tests);
        i as u32
    };
    let at = ui.list().shown.iter().position(|&i| i == target);
    if let Some(Screen::List(l)) = ui.app.stacks[View::Summary.index()].last_mut() {
        l.selected = at.expect("shown");
        l.offset = l.selected;
    }
    g.bench_function("drill-down: Summary Open + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Open, none, back))
    });

    // Sort the Summary view (small: sorted on the UI thread), through its columns in turn.
    g.bench_function(
        "sort: Summary SortNext + frame (sync, each column in turn)",
        |b| b.iter_custom(|iters| action_frame(iters, ui, Action::SortNext, none, |_| {})),
    );
    // One column at a time (the same column again reverses it): text, then a number.
    for (column, name) in [(0, "File"), (9, "Time")] {
        g.bench_function(format!("sort: Summary by {name} + frame (sync)"), |b| {
            b.iter_custom(|iters| action_frame(iters, ui, Action::SortBy(column), none, |_| {}))
        });
    }
    while ui.list().sort.is_some() {
        act(&mut ui.app, cli, &[Action::SortNext]);
    }

    // Drill-down into a failed case: the detail opens at once, the case is re-read by a task.
    act(&mut ui.app, cli, &[Action::GoView(View::Failures)]);
    assert!(!ui.list().shown.is_empty(), "the run has failures");
    let reread = ui.app.act(Action::Open).pop().expect("a re-read task");
    let Some(Msg::Case { key, result }) = execute(&ui.app, cli, reread.clone()).pop() else {
        panic!("a case")
    };
    assert!(result.is_ok(), "the case was read again");
    let _ = ui.app.act(Action::Back);
    g.bench_function("drill-down: Failures Open + frame", |b| {
        b.iter_custom(|iters| {
            let reread = |t: &[Task]| assert!(matches!(t, [Task::Reread(_)]), "a re-read");
            action_frame(iters, ui, Action::Open, reread, back)
        })
    });
    g.bench_function("drill-down: Failures case arrives: receive + frame", |b| {
        b.iter_custom(|iters| {
            timed_only(
                iters,
                ui,
                |ui| {
                    let _ = ui.app.act(Action::Open);
                    result.clone()
                },
                |ui, result| {
                    let tasks = ui.app.receive(Msg::Case { key, result });
                    ui.frame();
                    none(&tasks);
                },
                back,
            )
        })
    });

    // Drill-down: the first job's cases (scans the case table; big lists are then a task).
    act(&mut ui.app, cli, &[Action::GoView(View::Jobs)]);
    g.bench_function("drill-down: Jobs Open + frame (UI thread)", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Open, |_| {}, back))
    });

    // Sort the Cases view: the UI thread's part (its task runs elsewhere).
    act(&mut ui.app, cli, &[Action::GoView(View::Cases)]);
    g.bench_function("sort: Cases SortNext act + frame (UI thread)", |b| {
        b.iter_custom(|iters| {
            let maybe = |t: &[Task]| assert!(t.len() <= 1);
            action_frame(iters, ui, Action::SortNext, maybe, |_| {})
        })
    });
    g.finish();

    // ---- Slow: background tasks (until their message). ----
    let mut g = c.benchmark_group(format!("tui {profile} task"));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("drill-down: Failures re-read of the case", |b| {
        b.iter(|| execute(&ui.app, cli, reread.clone()))
    });
    let current = |m: Vec<Msg>| {
        assert!(matches!(m[..], [Msg::Computed { .. }]), "not stale");
        m
    };
    // Unsorted, as a filter keystroke on a fresh Cases view.
    if let Some(Screen::List(l)) = ui.app.stacks[View::Cases.index()].last_mut() {
        l.sort = None;
    }
    act(&mut ui.app, cli, &[Action::StartFilter]);
    let filter = ui.app.act(Action::InputChar('x')).pop().expect("a task");
    g.bench_function("filter keystroke: Cases 'x' background filter", |b| {
        b.iter(|| current(execute(&ui.app, cli, filter.clone())))
    });
    act(&mut ui.app, cli, &[Action::InputCancel]);
    for (column, name) in [(0, "Status"), (3, "Name"), (5, "Time")] {
        let sort = ui.app.act(Action::SortBy(column)).pop().expect("a task");
        g.bench_function(format!("sort: Cases by {name} background sort"), |b| {
            b.iter(|| current(execute(&ui.app, cli, sort.clone())))
        });
    }
    g.finish();
}

/// The Compare and Clusters views of a run loaded with its base: keys and a frame on the
/// UI thread, as for the other views.
fn triage_benches(c: &mut Criterion) {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let default = if benchmarking { "pytorch" } else { "smoke" };
    let profile = std::env::var("TUI_BENCH_PROFILE").unwrap_or_else(|_| default.into());
    let (app, cli) = load(&profile, true);
    let cli = &cli;
    let ui = &mut Ui {
        app,
        buf: Buffer::empty(Rect::new(0, 0, SIZE.0, SIZE.1)),
    };
    let mut g = c.benchmark_group(format!("tui {profile} triage"));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));

    assert_eq!(ui.app.view, View::Compare, "a base opens the Compare view");
    eprintln!("Compare view: {} tests", ui.list().shown.len());
    g.bench_function("compare: Down + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Down, none, top_at_end))
    });
    g.bench_function("compare: open the explain pane + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Open, none, back))
    });
    act(&mut ui.app, cli, &[Action::StartFilter]);
    let check = if ui.list().base.len() > SYNC_FILTER_LIMIT {
        one_compute
    } else {
        none
    };
    g.bench_function(
        "compare: filter keystroke 'n' act + frame (UI thread)",
        |b| {
            b.iter_custom(|iters| {
                action_frame(iters, ui, Action::InputChar('n'), check, |ui| {
                    let _ = ui.app.act(Action::InputBackspace);
                })
            })
        },
    );
    act(&mut ui.app, cli, &[Action::InputCancel]);
    g.bench_function("clusters: open the view + frame", |b| {
        b.iter_custom(|iters| {
            action_frame(iters, ui, Action::GoView(View::Clusters), none, |ui| {
                let _ = ui.app.act(Action::GoView(View::Compare));
            })
        })
    });
    act(&mut ui.app, cli, &[Action::GoView(View::Clusters)]);
    g.bench_function("clusters: open the largest cluster + frame", |b| {
        b.iter_custom(|iters| action_frame(iters, ui, Action::Open, |_| {}, back))
    });
    g.finish();
}

criterion_group!(tui, benches, triage_benches);
criterion_main!(tui);
