//! Drawing: a pure function of the app's state (plus the load counters while loading).
//! Every piece of report text passes through [`crate::sanitize`] before it reaches a cell.

mod detail;
mod popups;
mod table;

use detail::*;
use popups::*;
use table::*;

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use fuzzy_matcher::FuzzyMatcher;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthChar;

use super::action::View;
use super::app::{App, CommitStage, DetailScreen, ListScreen, Screen};
use super::detail::LineKind;
use super::keymap;
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use super::list::{self, ListKind};
use super::tasks::LoadCounters;
use crate::human::human_bytes;
use crate::sanitize::line as inert;

/// Styles, with or without colour (NO_COLOR).
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn header(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    fn selected(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    fn matched(self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn status(self, text: &str) -> Style {
        match text {
            "failed" | "error" | "FAILED" | "unreadable" => {
                self.fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            "flaky" | "missing time" => self.fg(Color::Yellow),
            "skipped" => self.fg(Color::Blue),
            "passed" | "written" => self.fg(Color::Green),
            _ => Style::new(),
        }
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, counters: Option<&LoadCounters>) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    render(buf, area, app, counters);
}

/// Draw into a buffer (what [`draw`] does; benchmarks and tests call it directly).
pub fn render(buf: &mut Buffer, area: Rect, app: &App, counters: Option<&LoadCounters>) {
    let theme = Theme {
        color: app.settings.color,
    };
    if layout::too_small((area.width, area.height)) {
        let text = format!(
            "The terminal is too small: {}x{}; testscope needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\nq quits.",
            area.width, area.height
        );
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    }
    let a = layout::areas((area.width, area.height));
    header(buf, a.header, app, theme);
    totals(buf, a.totals, app, counters, theme);
    tabs(buf, a.tabs, app, theme);
    match app.top() {
        Screen::List(l) => list_screen(buf, &a, app, l, theme),
        Screen::Detail(d) => detail_screen(buf, &a, app, d, theme),
    }
    footer(buf, a.footer, app, theme);
    if app.commit.is_some() {
        commit_popup(buf, area, app, theme);
    }
    if let Some(e) = &app.load_error {
        popup(
            buf,
            area,
            "Could not load the run",
            &[inert(e).into_owned(), String::new(), "q quits".into()],
            theme,
        );
    }
    if let Some(scroll) = app.help {
        help_popup(buf, area, scroll, theme);
    }
}

fn set_line(buf: &mut Buffer, area: Rect, line: Line<'_>) {
    buf.set_line(area.x, area.y, &line, area.width);
}

fn header(buf: &mut Buffer, area: Rect, app: &App, theme: Theme) {
    let m = &app.model;
    let text = format!(
        " testscope · run {} attempt {} · {}",
        inert(&m.workflow_id),
        m.attempt,
        inert(&m.description)
    );
    set_line(buf, area, Line::styled(text, theme.header()));
}

fn totals(buf: &mut Buffer, area: Rect, app: &App, counters: Option<&LoadCounters>, theme: Theme) {
    let t = app.model.totals();
    let problems = app.model.problems().len();
    let mut spans = vec![
        Span::raw(format!(" {} tests  ", t.cases)),
        Span::styled(format!("{} failed", t.failures), theme.status("failed")),
        Span::raw("  "),
        Span::styled(format!("{} errors", t.errors), theme.status("error")),
        Span::raw(format!("  {} skipped  ", t.skipped)),
        Span::styled(format!("{} rerun", t.reruns), theme.status("flaky")),
    ];
    if app.model.loaded() {
        spans.push(Span::raw(format!("  {:.1}s", t.time)));
    }
    spans.push(Span::raw(format!("  · {problems} problems")));
    if app.loading {
        let progress = counters.map(|c| {
            let files = c.load.files_done.load(Ordering::Relaxed);
            let total = c.load.files_total.load(Ordering::Relaxed);
            let opened = c.fetch.objects_opened.load(Ordering::Relaxed);
            let to_fetch = c.fetch.objects_total.load(Ordering::Relaxed);
            if total == 0 && to_fetch > 0 {
                format!(
                    "fetching {opened}/{to_fetch} artifacts, {}",
                    human_bytes(c.fetch.bytes_done.load(Ordering::Relaxed))
                )
            } else {
                let (cases, bytes) = (
                    c.load.cases.load(Ordering::Relaxed),
                    human_bytes(c.load.bytes_done.load(Ordering::Relaxed)),
                );
                // While archives still download, the number of files is not known yet.
                let left = c.fetch.objects_left();
                if left > 0 && c.fetch.listed.load(Ordering::Relaxed) {
                    let s = if left == 1 { "" } else { "s" };
                    format!("loading {files} files, {cases} cases, {bytes}; {left} artifact{s} downloading")
                } else {
                    let pct = (files * 100).checked_div(total).unwrap_or(0).min(100);
                    let filled = (pct / 5) as usize;
                    format!(
                        "loading {}{} {pct}% {files}/{total} files, {cases} cases, {bytes}",
                        "█".repeat(filled),
                        "░".repeat(20 - filled),
                    )
                }
            }
        });
        spans.push(Span::styled(
            format!("  · {}", progress.unwrap_or_else(|| "loading…".into())),
            theme.fg(Color::Cyan),
        ));
    }
    set_line(buf, area, Line::from(spans));
}

fn tabs(buf: &mut Buffer, area: Rect, app: &App, theme: Theme) {
    let mut spans = Vec::new();
    for (i, (view, label)) in layout::tabs().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(layout::TAB_SEPARATOR, theme.dim()));
        }
        let style = if view == app.view {
            theme.selected()
        } else {
            Style::new()
        };
        spans.push(Span::styled(label, style));
    }
    set_line(buf, area, Line::from(spans));
}

fn footer(buf: &mut Buffer, area: Rect, app: &App, theme: Theme) {
    if let Some(n) = &app.notice {
        set_line(
            buf,
            area,
            Line::styled(format!(" {}", inert(n)), theme.fg(Color::Yellow)),
        );
        return;
    }
    let mut spans = Vec::new();
    for (key, help) in keymap::footer(app.scope()) {
        spans.push(Span::styled(format!(" {key}"), theme.header()));
        spans.push(Span::raw(format!(" {help} ")));
    }
    set_line(buf, area, Line::from(spans));
}
