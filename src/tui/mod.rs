//! The terminal UI: `testscope [PATH]` on a terminal. It opens at once and loads in the
//! background; the app ([`app`]) changes only through actions and background messages, the
//! screen ([`draw`]) is a pure function of it, and this module is the runtime in between:
//! the terminal, one channel, and the threads that do the work.

pub mod action;
pub mod app;
pub mod detail;
pub mod draw;
pub mod explain;
pub mod keymap;
pub mod layout;
pub mod list;
pub mod model;
pub mod tasks;
mod terminal;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};

use crate::cli::Cli;
use crate::config;
use action::{Action, Msg};
use app::{App, Settings, Task};
use keymap::Scope;
use model::Model;
use tasks::LoadCounters;

/// Whether the terminal asks for no colour (<https://no-color.org>).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// What the flags say about committing, for the app.
pub fn settings(cli: &Cli) -> Settings {
    Settings {
        head_branch: cli.head_branch.clone(),
        head_repository: cli.head_repository.clone(),
        stats_bucket: cli.stats_bucket.clone(),
        destination: match &cli.out_dir {
            Some(dir) => format!("folder {}", dir.display()),
            None => match &cli.s3_endpoint {
                Some(url) => format!("S3 at {url}"),
                None => "S3 (endpoint from the AWS configuration)".into(),
            },
        },
        color: !no_color(),
        compare: cli.has_base(),
    }
}

/// The action a terminal event means in the app's current scope.
pub fn action_for(app: &App, e: &Event) -> Option<Action> {
    match e {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            let scope = app.scope();
            let found = keymap::lookup(scope, k);
            if found.is_none()
                && scope == Scope::Input
                && let event::KeyCode::Char(c) = k.code
                && !k.modifiers.contains(event::KeyModifiers::CONTROL)
            {
                return Some(Action::InputChar(c));
            }
            found
        }
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click(m.column, m.row)),
            MouseEventKind::ScrollUp => Some(Action::ScrollUp),
            MouseEventKind::ScrollDown => Some(Action::ScrollDown),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        _ => None,
    }
}

/// The app as it opens, before anything is listed: the source as the flags name it.
pub fn initial_app(cli: &Cli, size: (u16, u16)) -> App {
    let description = cli
        .report_path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "S3".into());
    let model = Model::new(
        description,
        cli.workflow_run_id.clone().unwrap_or_default(),
        1,
        Vec::new(),
    );
    App::new(model, settings(cli), size)
}

enum Input {
    Term(Event),
    Msg(Msg),
}

/// Run the TUI until the user quits.
pub fn run(cli: &Cli) -> Result<i32> {
    config::check_source(cli)?;
    config::check_triage_flags(cli)?;
    // A path that is not there is said on the normal screen, before the UI takes it over.
    if let Some(path) = cli.report_path() {
        std::fs::metadata(path).with_context(|| path.display().to_string())?;
    }
    let mut term = terminal::Terminal::enter()?;
    let mut app = initial_app(cli, term.size()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let result = runtime.block_on(event_loop(cli, &mut term, &mut app));
    drop(term);
    result.map(|()| config::exit::OK)
}

async fn event_loop(cli: &Cli, term: &mut terminal::Terminal, app: &mut App) -> Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Input>();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (tx, stop) = (tx.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match event::poll(Duration::from_millis(100)) {
                    Ok(true) => match event::read() {
                        Ok(e) => {
                            if tx.send(Input::Term(e)).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        });
    }
    let counters = Arc::new(LoadCounters::default());
    {
        let (tx, cli, counters) = (tx.clone(), cli.clone(), counters.clone());
        std::thread::spawn(move || {
            tasks::load_run(&cli, &counters, &|m| {
                let _ = tx.send(Input::Msg(m));
            });
        });
    }
    let panic_for_test = std::env::var_os("TESTSCOPE_TEST_PANIC").is_some();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    term.draw(app, Some(&counters))?;
    loop {
        let input = tokio::select! {
            input = rx.recv() => input,
            _ = tick.tick() => {
                if app.loading {
                    term.draw(app, Some(&counters))?;
                }
                continue;
            }
        };
        let Some(first) = input else { break };
        // Apply everything already queued, then draw once.
        let mut next = Some(first);
        let mut keyed = false;
        while let Some(input) = next.take() {
            let tasks = match input {
                Input::Term(e) => match action_for(app, &e) {
                    _ if panic_for_test && matches!(e, Event::Key(_)) => {
                        keyed = true;
                        Vec::new()
                    }
                    Some(a) => app.act(a),
                    None => Vec::new(),
                },
                Input::Msg(m) => app.receive(m),
            };
            for task in tasks {
                spawn(task, cli, app, term, &tx)?;
            }
            next = rx.try_recv().ok();
        }
        if app.quit {
            break;
        }
        term.draw(app, Some(&counters))?;
        // A test hook (tests/tui_pty.rs): prove the terminal is restored when the app
        // panics while running, here on the first key.
        if keyed {
            panic!("TESTSCOPE_TEST_PANIC: deliberate panic on the first key");
        }
    }
    stop.store(true, Ordering::Relaxed);
    Ok(())
}

fn spawn(
    task: Task,
    cli: &Cli,
    app: &App,
    term: &mut terminal::Terminal,
    tx: &tokio::sync::mpsc::UnboundedSender<Input>,
) -> Result<()> {
    if let Task::Copy(text) = &task {
        term.copy(text)?;
        return Ok(());
    }
    let (cli, model, tx) = (cli.clone(), app.model.clone(), tx.clone());
    std::thread::spawn(move || {
        tasks::execute(task, &cli, &model, &|m| {
            let _ = tx.send(Input::Msg(m));
        });
    });
    Ok(())
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

/// Write raw bytes to the terminal (the clipboard sequence).
fn write_raw(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(bytes)?;
    out.flush()
}
