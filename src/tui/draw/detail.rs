//! A detail screen: a case's lines, wrapped, with search matches highlighted.

use super::*;

pub(super) fn detail_screen(
    buf: &mut Buffer,
    a: &layout::Areas,
    app: &App,
    d: &DetailScreen,
    theme: Theme,
) {
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
pub(super) fn highlight<'a>(
    text: &'a str,
    q: &str,
    style: Style,
    theme: Theme,
    current: bool,
) -> Line<'a> {
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
