//! A list screen: its table, the cells of each row with filter matches highlighted, and
//! what an empty list says.

use super::*;

pub(super) fn list_screen(
    buf: &mut Buffer,
    a: &layout::Areas,
    app: &App,
    l: &ListScreen,
    theme: Theme,
) {
    // Title: where we are, filter, status filter, sort, position.
    let mut spans = vec![Span::styled(
        format!(" {}", inert(&l.title)),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if app.view == View::Reruns && app.stack().len() == 1 {
        let reruns = app.model.notable().iter().filter(|b| b.retried() > 0);
        let (flaky, other): (Vec<_>, Vec<_>) =
            reruns.partition(|b| b.status == crate::stats::CaseStatus::Success);
        spans.push(Span::styled(
            format!("  {} flaky, {} still not passing", flaky.len(), other.len()),
            theme.fg(Color::Yellow),
        ));
        if let Some(t) = &app.model.triage {
            let d = &t.dialects;
            let counts: Vec<String> = [
                ("rerun", d.rerun),
                ("flakyFailure", d.flaky_attempt),
                ("rerunFailure", d.rerun_attempt),
                ("repeated", d.repeated),
                ("other report", d.another_report),
            ]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{what} {n}"))
            .collect();
            if !counts.is_empty() {
                spans.push(Span::styled(
                    format!("  · {}", counts.join(" · ")),
                    theme.dim(),
                ));
            }
        }
    }
    if app.view == View::Compare
        && app.stack().len() == 1
        && let Some(c) = app.model.comparison()
    {
        let counts: Vec<String> = crate::triage::verdict::Verdict::ALL
            .iter()
            .filter(|v| c.count(**v) > 0)
            .map(|v| format!("{} {}", c.count(*v), v.name()))
            .collect();
        spans.push(Span::styled(
            format!("  {}", counts.join(" · ")),
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
pub(super) fn haystack_starts(kind: ListKind, cells: &[Cow<'_, str>]) -> Vec<Option<usize>> {
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
pub(super) fn cell(
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

pub(super) fn empty_text(app: &App, l: &ListScreen) -> String {
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
        (View::Clusters | View::Compare, _) if app.model.triage.is_none() => {
            if app.load_error.is_some() {
                "triage needs the run (and its base) loaded: see the error above".into()
            } else {
                "computed once the run is loaded".into()
            }
        }
        (View::Clusters, _) => "no failing cases: nothing to cluster".into(),
        (View::Compare, _) if app.model.comparison().is_none() => {
            "no base run to compare with: start with --base SOURCE or --base-attempt N".into()
        }
        (View::Compare, _) => "every test has the same verdict as in the base run".into(),
        (View::Problems, _) => "no problems with the input".into(),
        _ => "nothing here".into(),
    }
}
