//! What the terminal UI does on start, without a terminal: list and load the run on a
//! background thread (`tasks::load_run`, which does not keep `test_run`), feed every message
//! to the app on this thread as it arrives (so `Model::finish` runs when the run is in), run
//! the tasks the app asks for (the Cases list of every case), draw a 200x50 frame after each
//! batch of messages as the runtime does, and exit as soon as every view is browsable (the
//! Clusters and, with `--base`, the Compare view included: triage is in).
//! `bench/tui.sh` times it beside the floor (examples/floor.rs).
//!
//!     cargo run --release --example tui_load -- PATH [testscope flags, e.g. --job-names FILE]
//!
//! Prints one JSON line: cases, summary rows, when the run was in (`loaded`), how long the
//! app took to digest it (`finish`), when triage was in (`triaged`), and the total
//! (`seconds`), all in seconds.

// The same allocator as the testscope binary, so time and memory are what the TUI has.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(feature = "net"))]
fn main() {
    eprintln!("tui_load needs the `net` feature (the terminal UI)");
    std::process::exit(2);
}

#[cfg(feature = "net")]
fn main() {
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::Instant;

    use clap::Parser;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use testscope::cli::Cli;
    use testscope::tui::action::Msg;
    use testscope::tui::app::{App, Screen, Task};
    use testscope::tui::draw;
    use testscope::tui::tasks::{self, LoadCounters};

    const SIZE: (u16, u16) = (200, 50);

    let started = Instant::now();
    let cli = Cli::parse_from(std::iter::once("testscope".into()).chain(std::env::args().skip(1)));
    if let Err(e) = testscope::config::check_source(&cli) {
        eprintln!("tui_load: {e:#}");
        std::process::exit(1);
    }
    // As tui::run builds it.
    let mut app = testscope::tui::initial_app(&cli, SIZE);
    let area = Rect::new(0, 0, SIZE.0, SIZE.1);
    let mut buf = Buffer::empty(area);

    let counters = std::sync::Arc::new(LoadCounters::default());
    let (tx, rx) = mpsc::channel::<Msg>();
    {
        let (cli, counters) = (cli.clone(), counters.clone());
        std::thread::spawn(move || {
            tasks::load_run(&cli, &counters, &|m| {
                let _ = tx.send(m);
            });
        });
    }

    // The runtime runs tasks on threads and feeds their messages back; here they run in
    // turn on this thread (the only one at start is the Cases list: every case, unsorted).
    let run_tasks = |app: &mut App, tasks: Vec<Task>| {
        let mut queue = tasks;
        while let Some(task) = queue.pop() {
            let msgs = Mutex::new(Vec::new());
            let model = app.model.clone();
            tasks::execute(task, &cli, &model, &|m| msgs.lock().unwrap().push(m));
            for m in msgs.into_inner().unwrap() {
                queue.extend(app.receive(m));
            }
        }
    };

    let (mut loaded_at, mut finish, mut triaged_at) = (None, 0.0, None);
    while let Ok(first) = rx.recv() {
        // Apply everything already queued, then draw once (as the runtime does).
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            let is_loaded = matches!(msg, Msg::Loaded(_));
            let is_triaged = matches!(msg, Msg::Triaged { .. });
            let failed = match &msg {
                Msg::LoadFailed(e) => Some(e.clone()),
                _ => None,
            };
            let (arrived, t) = (started.elapsed().as_secs_f64(), Instant::now());
            let tasks = app.receive(msg);
            run_tasks(&mut app, tasks);
            if is_loaded {
                loaded_at = Some(arrived);
                finish = t.elapsed().as_secs_f64();
            }
            if is_triaged {
                triaged_at = Some(arrived);
            }
            if let Some(e) = failed {
                eprintln!("tui_load: {e}");
                std::process::exit(1);
            }
            next = rx.try_recv().ok();
        }
        buf.reset();
        draw::render(&mut buf, area, &app, Some(&counters));
        if loaded_at.is_some() && triaged_at.is_some() {
            break;
        }
    }
    let Some(loaded_at) = loaded_at else {
        eprintln!("tui_load: the load ended without a run");
        std::process::exit(1);
    };
    let pending = app.stacks.iter().any(|stack| {
        stack
            .iter()
            .any(|s| matches!(s, Screen::List(l) if l.pending))
    });
    assert!(!app.loading && !pending, "every view is browsable");
    let seconds = started.elapsed().as_secs_f64();
    let run = app.model.run.as_ref().expect("loaded");
    println!(
        "{{\"cases\": {}, \"summary_rows\": {}, \"loaded\": {loaded_at:.3}, \"finish\": {finish:.3}, \"triaged\": {:.3}, \"seconds\": {seconds:.3}}}",
        run.cases.len(),
        run.summary.len(),
        triaged_at.unwrap_or(0.0),
    );
    // Quit as the TUI would be left running: without freeing the run piece by piece.
    std::process::exit(0);
}
