//! Drawing: a pure function of the app's state (plus the load counters while loading).
//! Every piece of report text passes through [`crate::sanitize`] before it reaches a cell.

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
use crate::headless::human_bytes;
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
            let listed = c.fetch.objects_done.load(Ordering::Relaxed);
            let to_fetch = c.fetch.objects_total.load(Ordering::Relaxed);
            if total == 0 && to_fetch > 0 {
                format!(
                    "fetching {listed}/{to_fetch} artifacts, {}",
                    human_bytes(c.fetch.bytes_done.load(Ordering::Relaxed))
                )
            } else {
                let pct = (files * 100).checked_div(total).unwrap_or(0).min(100);
                let filled = (pct / 5) as usize;
                format!(
                    "loading {}{} {pct}% {files}/{total} files, {} cases, {}",
                    "█".repeat(filled),
                    "░".repeat(20 - filled),
                    c.load.cases.load(Ordering::Relaxed),
                    human_bytes(c.load.bytes_done.load(Ordering::Relaxed))
                )
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

fn list_screen(buf: &mut Buffer, a: &layout::Areas, app: &App, l: &ListScreen, theme: Theme) {
    // Title: where we are, filter, status filter, sort, position.
    let mut spans = vec![Span::styled(
        format!(" {}", inert(&l.title)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if app.view == View::Reruns && app.stack().len() == 1 {
        let reruns = app.model.notable().iter().filter(|b| b.reruns > 0);
        let (flaky, other): (Vec<_>, Vec<_>) =
            reruns.partition(|b| b.status == crate::stats::CaseStatus::Success);
        spans.push(Span::styled(
            format!("  {} flaky, {} still not passing", flaky.len(), other.len()),
            theme.fg(Color::Yellow),
        ));
    }
    if app.typing || !l.query.is_empty() {
        spans.push(Span::raw("  /"));
        spans.push(Span::styled(inert(&l.query).into_owned(), theme.matched()));
        if app.typing {
            spans.push(Span::styled("▏", theme.fg(Color::Cyan)));
        }
    }
    if l.status != list::StatusFilter::All {
        spans.push(Span::styled(
            format!("  [{}]", l.status.label()),
            theme.fg(Color::Magenta),
        ));
    }
    if let Some(s) = l.sort {
        spans.push(Span::raw(format!(
            "  sorted by {} {}",
            l.kind.columns()[s.column].title,
            if s.descending { "↓" } else { "↑" }
        )));
    }
    if l.pending {
        spans.push(Span::styled("  filtering…", theme.fg(Color::Cyan)));
    }
    let position = if l.shown.is_empty() {
        format!("0/{} ", l.base.len())
    } else {
        format!("{}/{} of {} ", l.selected + 1, l.shown.len(), l.base.len())
    };
    set_line(buf, a.title, Line::from(spans));
    let pw = position.chars().count() as u16;
    if pw < a.title.width {
        buf.set_string(
            a.title.x + a.title.width - pw,
            a.title.y,
            position,
            theme.dim(),
        );
    }

    let cols = layout::columns(l.kind, a.table_header);
    for (i, (c, r)) in l.kind.columns().iter().zip(&cols).enumerate() {
        let mark = match l.sort {
            Some(s) if s.column == i => {
                if s.descending {
                    "↓"
                } else {
                    "↑"
                }
            }
            _ => "",
        };
        let title = format!("{}{mark}", c.title);
        cell(buf, *r, &title, c.numeric, theme.header(), &[], theme);
    }

    if l.shown.is_empty() {
        let text = empty_text(app, l);
        buf.set_string(a.rows.x + 1, a.rows.y, text, theme.dim());
        return;
    }
    let data = app.data();
    let query = l.query.trim();
    let matcher = list::matcher();
    let mut hay = String::new();
    let end = (l.offset + usize::from(a.rows.height)).min(l.shown.len());
    for (row, &item) in l.shown[l.offset..end].iter().enumerate() {
        let y = a.rows.y + row as u16;
        let selected = l.offset + row == l.selected;
        let base = if selected {
            theme.selected()
        } else {
            Style::new()
        };
        if selected {
            buf.set_style(Rect::new(a.rows.x, y, a.rows.width, 1), base);
        }
        let cells = data.cells(l.kind, item);
        // Matched characters, by cell: where each cell starts in the filter's haystack.
        let hits = if query.is_empty() {
            Vec::new()
        } else {
            data.haystack(l.kind, item, &mut hay);
            matcher
                .fuzzy_indices(&hay, query)
                .map(|(_, idx)| idx)
                .unwrap_or_default()
        };
        let starts = haystack_starts(l.kind, &cells);
        for (i, (c, r)) in l.kind.columns().iter().zip(&cols).enumerate() {
            let text = &cells[i];
            let local: Vec<usize> = match starts.get(i).copied().flatten() {
                Some(start) => hits
                    .iter()
                    .filter_map(|&h| h.checked_sub(start))
                    .filter(|&h| h < text.chars().count())
                    .collect(),
                None => Vec::new(),
            };
            let status_column = (l.kind.is_cases() || l.kind == ListKind::Problems) && i == 0
                || l.kind == ListKind::Upload && i == 5;
            let style = if status_column {
                base.patch(theme.status(text))
            } else {
                base
            };
            cell(
                buf,
                Rect::new(r.x, y, r.width, 1),
                text,
                c.numeric,
                style,
                &local,
                theme,
            );
        }
    }
}

/// Start (in chars) of each cell within the filter's haystack, as `Data::haystack` builds it.
fn haystack_starts(kind: ListKind, cells: &[Cow<'_, str>]) -> Vec<Option<usize>> {
    let len = |s: &str| s.chars().count();
    if kind.is_cases() {
        let class = &cells[2];
        let name_start = if class.is_empty() { 0 } else { len(class) + 2 };
        let msg_start = name_start + len(&cells[3]) + 1;
        let mut v = vec![None; cells.len()];
        v[2] = (!class.is_empty()).then_some(0);
        v[3] = Some(name_start);
        v[6] = (!cells[6].is_empty()).then_some(msg_start);
        return v;
    }
    let mut at = 0;
    kind.columns()
        .iter()
        .zip(cells)
        .map(|(c, text)| {
            if c.numeric {
                None
            } else {
                let start = at;
                at += len(text) + 1;
                Some(start)
            }
        })
        .collect()
}

/// One cell: inert text, cut with `…` when too wide, numbers right-aligned, `hits` (char
/// indices) highlighted when the text needed no escaping.
fn cell(
    buf: &mut Buffer,
    area: Rect,
    text: &str,
    numeric: bool,
    style: Style,
    hits: &[usize],
    theme: Theme,
) {
    let width = usize::from(area.width);
    if width == 0 {
        return;
    }
    let shown = inert(text);
    let exact = matches!(shown, Cow::Borrowed(_));
    let mut spans: Vec<Span<'_>> = Vec::new();
    let mut used = 0;
    let total: usize = shown.chars().map(|c| c.width().unwrap_or(0)).sum();
    let cut = total > width;
    let limit = if cut { width - 1 } else { width };
    for (i, ch) in shown.chars().enumerate() {
        let w = ch.width().unwrap_or(0);
        if used + w > limit {
            break;
        }
        used += w;
        let s = if exact && hits.contains(&i) {
            style.patch(theme.matched())
        } else {
            style
        };
        spans.push(Span::styled(ch.to_string(), s));
    }
    if cut {
        spans.push(Span::styled("…", style));
        used += 1;
    }
    let x = if numeric && used < width {
        area.x + (width - used) as u16
    } else {
        area.x
    };
    buf.set_line(x, area.y, &Line::from(spans), area.width);
}

fn empty_text(app: &App, l: &ListScreen) -> String {
    let loading = app.loading && !app.model.loaded();
    match (app.view, l.kind) {
        (_, _) if !l.query.is_empty() || l.status != list::StatusFilter::All => {
            "no rows match the filter (Esc clears it, f changes the status filter)".into()
        }
        (View::Summary | View::Cases | View::Jobs | View::Files, _) if loading => {
            "available when every file is loaded; Failures, Reruns and Problems fill as it loads"
                .into()
        }
        (View::Upload, _) if !app.model.loaded() => {
            "the plan is made once the run is loaded".into()
        }
        (View::Upload, _) => "computing the plan… (c commits)".into(),
        (View::Failures, _) if loading => "no failures so far".into(),
        (View::Failures, _) => "no failures or errors in this run".into(),
        (View::Reruns, _) => "no reruns".into(),
        (View::Problems, _) => "no problems with the input".into(),
        _ => "nothing here".into(),
    }
}

fn detail_screen(buf: &mut Buffer, a: &layout::Areas, app: &App, d: &DetailScreen, theme: Theme) {
    let mut spans = vec![Span::styled(
        format!(" {}", inert(&d.title)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if app.typing || !d.query.is_empty() {
        spans.push(Span::raw("  /"));
        spans.push(Span::styled(inert(&d.query).into_owned(), theme.matched()));
        if app.typing {
            spans.push(Span::styled("▏", theme.fg(Color::Cyan)));
        }
        spans.push(Span::raw(if d.matches.is_empty() {
            "  no match".to_string()
        } else {
            format!("  match {}/{}", d.current + 1, d.matches.len())
        }));
    }
    set_line(buf, a.title, Line::from(spans));
    let total = d.wrapped.len();
    let page = usize::from(a.body.height);
    let position = format!(
        "lines {}-{} of {total} ",
        (d.scroll + 1).min(total),
        (d.scroll + page).min(total)
    );
    let pw = position.chars().count() as u16;
    if pw + 20 < a.title.width {
        buf.set_string(
            a.title.x + a.title.width - pw,
            a.title.y,
            position,
            theme.dim(),
        );
    }
    let current = d.matches.get(d.current).copied();
    let q = d.query.to_lowercase();
    for (i, l) in d.wrapped.iter().skip(d.scroll).take(page).enumerate() {
        let y = a.body.y + i as u16;
        let style = match l.kind {
            LineKind::Heading => theme.header(),
            LineKind::Field => theme.fg(Color::Green),
            _ => Style::new(),
        };
        let row = d.scroll + i;
        let line = if !q.is_empty() && d.matches.binary_search(&row).is_ok() {
            highlight(&l.text, &q, style, theme, current == Some(row))
        } else {
            Line::styled(l.text.as_str(), style)
        };
        buf.set_line(a.body.x, y, &line, a.body.width);
    }
}

/// `text` with each case-insensitive occurrence of `q` (already lower case) marked.
fn highlight<'a>(text: &'a str, q: &str, style: Style, theme: Theme, current: bool) -> Line<'a> {
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths; mark only when it did not.
    if lower.len() != text.len() {
        return Line::styled(text, style);
    }
    let mark = if current {
        theme.matched().add_modifier(Modifier::REVERSED)
    } else {
        theme.matched()
    };
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, _) in lower.match_indices(q) {
        if start < at || !text.is_char_boundary(start) {
            continue;
        }
        spans.push(Span::styled(&text[at..start], style));
        spans.push(Span::styled(&text[start..start + q.len()], mark));
        at = start + q.len();
    }
    spans.push(Span::styled(&text[at..], style));
    Line::from(spans)
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

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup(buf: &mut Buffer, area: Rect, title: &str, lines: &[String], theme: Theme) {
    let width = lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max(title.len() + 4) as u16
        + 4;
    let r = centered(area, width, lines.len() as u16 + 2);
    Clear.render(r, buf);
    let text: Vec<Line<'_>> = lines.iter().map(|l| Line::raw(l.as_str())).collect();
    Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(format!(" {title} "), theme.header())),
        )
        .render(r, buf);
}

fn help_popup(buf: &mut Buffer, area: Rect, scroll: usize, theme: Theme) {
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut last = None;
    for (scope, keys, help) in keymap::help() {
        if last != Some(scope) {
            if last.is_some() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(scope.title(), theme.header()));
            last = Some(scope);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<24}"), theme.fg(Color::Green)),
            Span::raw(help),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(
        "Mouse: click selects (again opens), wheel scrolls, a header sorts, a tab switches.",
    ));
    let r = centered(area, 84, area.height.saturating_sub(2));
    let max = lines
        .len()
        .saturating_sub(usize::from(r.height.saturating_sub(2)));
    Clear.render(r, buf);
    Paragraph::new(lines)
        .scroll((scroll.min(max) as u16, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(
                    " Keys (↑/↓ scroll, any other key closes) ",
                    theme.header(),
                ))
                .title_alignment(Alignment::Center),
        )
        .render(r, buf);
}

fn commit_popup(buf: &mut Buffer, area: Rect, app: &App, theme: Theme) {
    let c = app.commit.as_ref().expect("checked");
    let mut lines: Vec<Line<'_>> = Vec::new();
    let dest = format!("Destination: {}", inert(&app.settings.destination));
    match &c.stage {
        CommitStage::Form => {
            lines.push(Line::raw(
                "The batch path needs the workflow's head branch and repository:",
            ));
            lines.push(Line::raw(""));
            for (i, (label, value)) in [("head branch", &c.branch), ("head repository", &c.repo)]
                .into_iter()
                .enumerate()
            {
                let focus = c.field == i;
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{label:>16}: "),
                        if focus { theme.header() } else { Style::new() },
                    ),
                    Span::styled(
                        format!("{}{}", inert(value), if focus { "▏" } else { "" }),
                        if focus {
                            theme.selected()
                        } else {
                            Style::new()
                        },
                    ),
                ]));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Tab switches field · Enter plans the upload · Esc cancels",
                theme.dim(),
            ));
        }
        CommitStage::Planning => {
            lines.push(Line::raw(dest));
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Planning the upload (compressing every document)…",
            ));
        }
        CommitStage::Confirm
        | CommitStage::Uploading(_)
        | CommitStage::Done
        | CommitStage::Failed(_) => {
            lines.push(Line::raw(dest));
            lines.push(Line::raw(format!(
                "Head: {} on {}",
                inert(&c.repo),
                inert(if c.branch.is_empty() {
                    "(no branch)"
                } else {
                    &c.branch
                })
            )));
            lines.push(Line::styled(
                if c.test_run {
                    "test_run: uploaded (pytorch/pytorch on main or trunk/<sha>)".to_string()
                } else {
                    "test_run: not uploaded (only for pytorch/pytorch on main or trunk/<sha>)"
                        .to_string()
                },
                theme.fg(Color::Magenta),
            ));
            for w in &c.warnings {
                lines.push(Line::styled(
                    format!("warning: {}", inert(w)),
                    theme.fg(Color::Yellow),
                ));
            }
            lines.push(Line::raw(""));
            for row in &app.plan {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:<12}", inert(&row.result)),
                        theme.status(&row.result),
                    ),
                    Span::raw(format!(
                        "{}  {} docs, {}",
                        inert(&row.location),
                        row.documents,
                        human_bytes(row.gzip_bytes)
                    )),
                ]));
            }
            lines.push(Line::raw(""));
            let last = match &c.stage {
                CommitStage::Confirm => Line::styled(
                    format!(
                        "Write these {} objects? y / Enter writes, n / Esc cancels",
                        app.plan.len()
                    ),
                    theme.header(),
                ),
                CommitStage::Uploading(i) => Line::styled(
                    format!("Uploading object {} of {}…", i + 1, app.plan.len()),
                    theme.fg(Color::Cyan),
                ),
                CommitStage::Done => Line::styled(
                    format!("Done: {} objects written. Enter closes.", app.plan.len()),
                    theme.status("passed"),
                ),
                CommitStage::Failed(e) => Line::styled(
                    format!("Upload failed: {}. Enter closes.", inert(e)),
                    theme.status("failed"),
                ),
                _ => Line::raw(""),
            };
            lines.push(last);
        }
    }
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(40) as u16 + 4;
    let r = centered(area, width.max(50), lines.len() as u16 + 2);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Commit: upload statistics ", theme.header())),
        )
        .render(r, buf);
}
