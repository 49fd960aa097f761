//! Screenshots of the terminal UI for the docs: runs the real `testscope` binary on the
//! bundled sample in a 140x40 pseudo-terminal, drives it with keys, reads the screen back
//! through a vt100 parser and writes each screen, cell by cell (character, colours, bold,
//! inverse...), as an SVG in a terminal-window frame:
//!
//! - `docs/screenshot.svg`: the Failures view (`2`), second row selected;
//! - `docs/screenshot-detail.svg`: the detail of a case that failed after its reruns
//!   (`3`, filter `/rerun_still_failing`, Enter): its attempt timeline, then its document;
//! - `docs/screenshot-compare.svg`: the Compare view against the bundled base run (`0`);
//! - `docs/screenshot-explain.svg`: a verdict explained (Enter on the Compare view);
//! - `docs/screenshot-clusters.svg`: the Clusters view (`9`).
//!
//! Regenerate (the binary must be built first; the example does not build it):
//!
//! ```sh
//! cargo build && cargo run --example screenshot
//! ```
//!
//! The binary is taken from the first argument, else `$TESTSCOPE_BIN`, else `testscope`
//! beside the example's own folder (`target/debug/examples/..`). The output folder is
//! `docs/` of the crate, or `$SCREENSHOT_DIR`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 140;
const DEADLINE: Duration = Duration::from_secs(60);

type Screen = Arc<Mutex<vt100::Parser>>;

fn main() {
    let bin = binary();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::var_os("SCREENSHOT_DIR").map_or_else(|| root.join("docs"), PathBuf::from);
    std::fs::create_dir_all(&out).expect("output folder");

    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(&bin);
    cmd.args([
        "assets/sample-run",
        "--base",
        "assets/sample-base",
        "--job-names",
        "assets/sample-run/job-names.json",
    ]);
    cmd.cwd(&root);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("NO_COLOR");
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("AWS_") || k == "GITHUB_TOKEN" || k == "GH_TOKEN" {
            cmd.env_remove(&key);
        }
    }
    let mut child = pair.slave.spawn_command(cmd).expect("spawn testscope");
    drop(pair.slave);
    let screen: Screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    {
        let screen = screen.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().process(&buf[..n]);
            }
        });
    }
    let mut writer = pair.master.take_writer().expect("pty writer");
    let mut send = |keys: &str| {
        writer.write_all(keys.as_bytes()).expect("write keys");
        writer.flush().expect("flush keys");
    };

    // Loaded: the summary lists classes only once every file is in.
    wait_for(&screen, None, "TestSerializeCPU");
    send("2");
    wait_for(&screen, Some(3), "1/27 of 27");
    send("j");
    wait_for(&screen, Some(3), "2/27 of 27");
    settle(&screen);
    save(&screen, &out.join("screenshot.svg"), "testscope — Failures");

    // A case that still failed after its reruns: its reruns are on the first page.
    send("3");
    wait_for(&screen, Some(3), " Reruns");
    send("/rerun_still_failing\r");
    wait_for(&screen, Some(3), "1/3 of 13");
    send("\r");
    wait_for(&screen, None, "Attempts (3)");
    wait_for(&screen, None, "Attributes");
    settle(&screen);
    save(
        &screen,
        &out.join("screenshot-detail.svg"),
        "testscope — case detail",
    );

    // Against the base run: the Compare view, a verdict explained, the clusters.
    send("\x1b");
    thread::sleep(Duration::from_millis(150));
    send("0");
    wait_for(&screen, Some(3), " Compare");
    wait_for(&screen, None, "new_failure");
    settle(&screen);
    save(
        &screen,
        &out.join("screenshot-compare.svg"),
        "testscope — Compare",
    );
    send("\r");
    wait_for(&screen, None, "Verdict: new_failure");
    settle(&screen);
    save(
        &screen,
        &out.join("screenshot-explain.svg"),
        "testscope — a verdict explained",
    );
    send("\x1b");
    thread::sleep(Duration::from_millis(150));
    send("9");
    wait_for(&screen, Some(3), " Clusters");
    settle(&screen);
    save(
        &screen,
        &out.join("screenshot-clusters.svg"),
        "testscope — Clusters",
    );

    send("q");
    let start = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("testscope did not quit");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The binary to drive: argument, `$TESTSCOPE_BIN`, or beside `target/<profile>/examples`.
fn binary() -> PathBuf {
    let path = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("TESTSCOPE_BIN"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("the example's own path");
            let profile = exe
                .parent()
                .and_then(|examples| examples.parent())
                .expect("target/<profile>/examples/<name>");
            profile.join(format!("testscope{}", std::env::consts::EXE_SUFFIX))
        });
    if !path.is_file() {
        eprintln!(
            "screenshot: no binary at {}; run `cargo build` first (or pass its path)",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

fn contents(screen: &Screen) -> String {
    screen.lock().unwrap().screen().contents()
}

/// Wait until `needle` is on the screen: on row `y`, or anywhere for `None`.
fn wait_for(screen: &Screen, y: Option<u16>, needle: &str) {
    let start = Instant::now();
    loop {
        let found = match y {
            None => contents(screen).contains(needle),
            Some(y) => {
                let p = screen.lock().unwrap();
                p.screen()
                    .rows(0, COLS)
                    .nth(usize::from(y))
                    .is_some_and(|row| row.contains(needle))
            }
        };
        if found {
            return;
        }
        if start.elapsed() > DEADLINE {
            panic!(
                "waited {DEADLINE:?} for {needle:?}; the screen:\n{}",
                contents(screen)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Wait until the screen has not changed for a moment (the last frame is fully drawn).
fn settle(screen: &Screen) {
    let mut last = screen.lock().unwrap().screen().contents_formatted();
    let mut quiet = Instant::now();
    let start = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) && start.elapsed() < DEADLINE {
        thread::sleep(Duration::from_millis(50));
        let now = screen.lock().unwrap().screen().contents_formatted();
        if now != last {
            last = now;
            quiet = Instant::now();
        }
    }
}

fn save(screen: &Screen, path: &std::path::Path, title: &str) {
    let svg = render(screen.lock().unwrap().screen(), title);
    std::fs::write(path, svg).expect("write the SVG");
    println!("wrote {}", path.display());
}

// ---- SVG ----------------------------------------------------------------------------------

/// Cell size in px for a 14 px monospace font (DejaVu Sans Mono advances 0.602 em).
const CELL_W: f64 = 8.43;
const CELL_H: f64 = 18.0;
const FONT_SIZE: f64 = 14.0;
/// Text baseline below a row's top.
const BASELINE: f64 = 13.5;
const PAD: f64 = 14.0;
const TITLE_BAR: f64 = 34.0;

const DEFAULT_FG: Rgb = Rgb(0xe5, 0xe5, 0xe5);
const DEFAULT_BG: Rgb = Rgb(0x1e, 0x1e, 0x1e);

/// The 16 ANSI colours (VS Code's dark terminal palette).
const ANSI: [Rgb; 16] = [
    Rgb(0x00, 0x00, 0x00),
    Rgb(0xcd, 0x31, 0x31),
    Rgb(0x0d, 0xbc, 0x79),
    Rgb(0xe5, 0xe5, 0x10),
    Rgb(0x24, 0x72, 0xc8),
    Rgb(0xbc, 0x3f, 0xbc),
    Rgb(0x11, 0xa8, 0xcd),
    Rgb(0xe5, 0xe5, 0xe5),
    Rgb(0x66, 0x66, 0x66),
    Rgb(0xf1, 0x4c, 0x4c),
    Rgb(0x23, 0xd1, 0x8b),
    Rgb(0xf5, 0xf5, 0x43),
    Rgb(0x3b, 0x8e, 0xea),
    Rgb(0xd6, 0x70, 0xd6),
    Rgb(0x29, 0xb8, 0xdb),
    Rgb(0xff, 0xff, 0xff),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

impl std::fmt::Display for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// xterm's 256 colours: the 16 ANSI ones, a 6x6x6 cube, a 24-step grey ramp.
fn indexed(i: u8) -> Rgb {
    match i {
        0..=15 => ANSI[usize::from(i)],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Rgb(level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            Rgb(v, v, v)
        }
    }
}

fn color(c: vt100::Color, default: Rgb) -> Rgb {
    match c {
        vt100::Color::Default => default,
        vt100::Color::Idx(i) => indexed(i),
        vt100::Color::Rgb(r, g, b) => Rgb(r, g, b),
    }
}

/// What a run of text is drawn with.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    fg: Rgb,
    bold: bool,
    italic: bool,
    underline: bool,
    dim: bool,
}

/// One cell, resolved: text, width in columns, colours after inverse.
struct Cell {
    text: String,
    width: u16,
    bg: Rgb,
    style: Style,
}

fn resolve(cell: &vt100::Cell) -> Cell {
    let (mut fg, mut bg) = (
        color(cell.fgcolor(), DEFAULT_FG),
        color(cell.bgcolor(), DEFAULT_BG),
    );
    if cell.inverse() {
        std::mem::swap(&mut fg, &mut bg);
    }
    Cell {
        text: cell.contents().to_string(),
        width: if cell.is_wide() { 2 } else { 1 },
        bg,
        style: Style {
            fg,
            bold: cell.bold(),
            italic: cell.italic(),
            underline: cell.underline(),
            dim: cell.dim(),
        },
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn x_of(col: u16) -> f64 {
    PAD + f64::from(col) * CELL_W
}

fn y_of(row: u16) -> f64 {
    TITLE_BAR + PAD + f64::from(row) * CELL_H
}

/// The screen as an SVG: a window frame, then per row the background runs and the text
/// runs. ASCII runs of one style are one `<text>`; any other character is drawn alone at
/// its cell, and every piece is stretched to its cells (`textLength`), so the grid holds
/// even when a fallback font with other advances draws some glyphs.
fn render(screen: &vt100::Screen, title: &str) -> String {
    let (rows, cols) = screen.size();
    let width = 2.0 * PAD + f64::from(cols) * CELL_W;
    let height = TITLE_BAR + 2.0 * PAD + f64::from(rows) * CELL_H;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.2} {h:.2}">"#,
        w = width + 40.0,
        h = height + 40.0,
    );
    let _ = writeln!(
        svg,
        concat!(
            r#"<defs><filter id="shadow" x="-5%" y="-5%" width="110%" height="110%">"#,
            r#"<feGaussianBlur stdDeviation="8"/>"#,
            r#"</filter><clipPath id="window"><rect width="{w:.2}" height="{h:.2}" rx="10"/></clipPath></defs>"#
        ),
        w = width,
        h = height
    );
    let _ = writeln!(svg, r#"<g transform="translate(20 16)">"#);
    // The window: shadow, body, title bar, traffic lights, title.
    let _ = writeln!(
        svg,
        r##"<rect y="6" width="{width:.2}" height="{height:.2}" rx="10" fill="#000" opacity="0.45" filter="url(#shadow)"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width:.2}" height="{height:.2}" rx="10" fill="{DEFAULT_BG}"/>"#
    );
    let _ = writeln!(svg, r#"<g clip-path="url(#window)">"#);
    let _ = writeln!(
        svg,
        r##"<rect width="{width:.2}" height="{TITLE_BAR}" fill="#323233"/><line x1="0" y1="{TITLE_BAR}" x2="{width:.2}" y2="{TITLE_BAR}" stroke="#161616"/>"##
    );
    for (i, c) in ["#ff5f57", "#febc2e", "#28c840"].iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="6.5" fill="{c}"/>"#,
            20.0 + 22.0 * i as f64,
            TITLE_BAR / 2.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{:.2}" y="{:.1}" fill="#a8a8a8" font-family="'DejaVu Sans', 'Segoe UI', Helvetica, Arial, sans-serif" font-size="13" text-anchor="middle">{}</text>"##,
        width / 2.0,
        TITLE_BAR / 2.0 + 4.5,
        escape(title)
    );
    let _ = writeln!(svg, "</g>");

    let cells: Vec<Vec<Option<Cell>>> = (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| {
                    screen
                        .cell(r, c)
                        .filter(|cell| !cell.is_wide_continuation())
                        .map(resolve)
                })
                .collect()
        })
        .collect();

    // Backgrounds: runs of one colour other than the default.
    let _ = writeln!(svg, r#"<g shape-rendering="crispEdges">"#);
    for (r, row) in cells.iter().enumerate() {
        let r = r as u16;
        let mut c = 0u16;
        while c < cols {
            let Some(cell) = &row[usize::from(c)] else {
                c += 1;
                continue;
            };
            let bg = cell.bg;
            let start = c;
            c += cell.width;
            while c < cols {
                match &row[usize::from(c)] {
                    Some(next) if next.bg == bg => c += next.width,
                    _ => break,
                }
            }
            if bg != DEFAULT_BG {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{CELL_H}" fill="{bg}"/>"#,
                    x_of(start),
                    y_of(r),
                    f64::from(c - start) * CELL_W
                );
            }
        }
    }
    let _ = writeln!(svg, "</g>");

    // Text.
    let _ = writeln!(
        svg,
        r#"<g font-family="'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace" font-size="{FONT_SIZE}" xml:space="preserve">"#
    );
    for (r, row) in cells.iter().enumerate() {
        let r = r as u16;
        let mut c = 0u16;
        while c < cols {
            let Some(cell) = &row[usize::from(c)] else {
                c += 1;
                continue;
            };
            let ascii = |cell: &Cell| cell.text.is_ascii() && cell.width == 1;
            let start = c;
            let mut text = if cell.text.is_empty() {
                " ".to_string()
            } else {
                cell.text.clone()
            };
            let style = cell.style;
            let mut span = cell.width;
            c += cell.width;
            if ascii(cell) {
                while c < cols {
                    match &row[usize::from(c)] {
                        Some(next) if ascii(next) && next.style == style => {
                            text.push_str(if next.text.is_empty() {
                                " "
                            } else {
                                &next.text
                            });
                            span += 1;
                            c += 1;
                        }
                        _ => break,
                    }
                }
            }
            // Blanks: leading and trailing spaces need no glyphs.
            let lead = text.len() - text.trim_start().len();
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            let (x0, n) = if ascii(cell) {
                (start + lead as u16, trimmed.len() as u16)
            } else {
                (start, span)
            };
            let mut attrs = format!(r#" fill="{}""#, style.fg);
            if style.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if style.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            if style.underline {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            if style.dim {
                attrs.push_str(r#" opacity="0.6""#);
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.2}" y="{:.2}" textLength="{:.2}" lengthAdjust="spacingAndGlyphs"{attrs}>{}</text>"#,
                x_of(x0),
                y_of(r) + BASELINE,
                f64::from(n) * CELL_W,
                escape(trimmed)
            );
        }
    }
    let _ = writeln!(svg, "</g>\n</g>\n</svg>");
    svg
}
