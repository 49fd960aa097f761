//! Where everything sits on screen, as a pure function of the terminal size, so drawing and
//! mouse handling agree on every cell.

use ratatui::layout::{Constraint, Layout, Rect};

use super::action::View;
use super::list::{ListKind, Width};

/// Below this the app says the terminal is too small instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    pub header: Rect,
    pub totals: Rect,
    pub tabs: Rect,
    /// The current list's or detail's title, filter and position.
    pub title: Rect,
    /// Everything between the title and the footer.
    pub body: Rect,
    pub table_header: Rect,
    pub rows: Rect,
    pub footer: Rect,
}

pub fn too_small(size: (u16, u16)) -> bool {
    size.0 < MIN_WIDTH || size.1 < MIN_HEIGHT
}

pub fn areas((w, h): (u16, u16)) -> Areas {
    let h = h.max(6);
    let line = |y: u16| Rect::new(0, y, w, 1);
    let body = Rect::new(0, 4, w, h - 5);
    Areas {
        header: line(0),
        totals: line(1),
        tabs: line(2),
        title: line(3),
        body,
        table_header: Rect::new(0, 4, w, 1),
        rows: Rect::new(0, 5, w, h - 6),
        footer: line(h - 1),
    }
}

/// Tab labels in order; fixed text, so a click maps to a tab without the model.
pub fn tabs() -> Vec<(View, String)> {
    View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| (*v, format!(" {} {} ", (i + 1) % 10, v.title())))
        .collect()
}

/// Separator drawn between tabs.
pub const TAB_SEPARATOR: &str = "│";

pub fn tab_at(x: u16) -> Option<View> {
    let mut start = 0u16;
    for (view, label) in tabs() {
        let end = start + label.chars().count() as u16;
        if x >= start && x < end {
            return Some(view);
        }
        start = end + TAB_SEPARATOR.chars().count() as u16;
    }
    None
}

/// The cells of each column of a list of `kind` in `area`.
pub fn columns(kind: ListKind, area: Rect) -> Vec<Rect> {
    let constraints: Vec<Constraint> = kind
        .columns()
        .iter()
        .map(|c| match c.width {
            Width::Fixed(n) => Constraint::Length(n),
            Width::Fill(n) => Constraint::Fill(n),
        })
        .collect();
    Layout::horizontal(constraints)
        .spacing(1)
        .split(area)
        .to_vec()
}

pub fn column_at(kind: ListKind, area: Rect, x: u16) -> Option<usize> {
    columns(kind, area)
        .iter()
        .position(|r| x >= r.x && x < r.x + r.width.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_columns_are_hit_where_drawn() {
        assert_eq!(tab_at(0), Some(View::Summary));
        let second = tabs()[0].1.chars().count() as u16 + 1;
        assert_eq!(tab_at(second), Some(View::Failures));
        assert_eq!(tab_at(second - 1), None);
        let a = areas((120, 30));
        let cols = columns(ListKind::Summary, a.table_header);
        assert_eq!(
            column_at(ListKind::Summary, a.table_header, cols[4].x),
            Some(4)
        );
        assert_eq!(a.rows.y + a.rows.height, a.footer.y);
    }
}
