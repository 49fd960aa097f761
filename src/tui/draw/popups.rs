//! Pop-ups over the screen: help (built from the key map) and the commit dialog.

use super::*;

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(super) fn popup(buf: &mut Buffer, area: Rect, title: &str, lines: &[String], theme: Theme) {
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

pub(super) fn help_popup(buf: &mut Buffer, area: Rect, scroll: usize, theme: Theme) {
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

pub(super) fn commit_popup(buf: &mut Buffer, area: Rect, app: &App, theme: Theme) {
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
