//! Typing into a filter or search box: what each key does to the query.

use super::*;

impl App {
    pub(super) fn act_typing(&mut self, action: Action) -> Vec<Task> {
        let page = usize::from(self.areas().body.height).max(1);
        let top = self.top_mut();
        let query = match top {
            Screen::List(l) => &mut l.query,
            Screen::Detail(d) => &mut d.query,
        };
        match action {
            Action::InputChar(c) => query.push(c),
            Action::InputBackspace => {
                query.pop();
            }
            Action::InputClear => query.clear(),
            Action::InputAccept => {
                self.typing = false;
                return Vec::new();
            }
            Action::InputCancel => {
                query.clear();
                self.typing = false;
            }
            Action::Up | Action::Down => {
                self.typing = true;
                let page_rows = self.page();
                if let Screen::List(l) = self.top_mut() {
                    let n = l.shown.len();
                    if n > 0 {
                        l.selected = if action == Action::Up {
                            l.selected.saturating_sub(1)
                        } else {
                            (l.selected + 1).min(n - 1)
                        };
                        keep_visible(l, page_rows);
                    }
                }
                return Vec::new();
            }
            _ => return Vec::new(),
        }
        match self.top_mut() {
            Screen::List(l) => {
                l.selected = 0;
                l.offset = 0;
                self.recompute_top()
            }
            Screen::Detail(d) => {
                d.matches = detail::find(&d.wrapped, &d.query);
                d.current = 0;
                scroll_to_match(d, page);
                Vec::new()
            }
        }
    }
}
