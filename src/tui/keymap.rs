//! The one list of commands: the key handler looks keys up here and the help screen and the
//! footer are printed from it, so they cannot drift apart.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, View};

/// Where a command applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere but text input.
    Global,
    /// Lists (every view, drill-downs).
    List,
    /// The case detail.
    Detail,
    /// Typing a filter, a search or a commit field.
    Input,
    /// The commit dialog.
    Commit,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "Everywhere",
            Self::List => "Lists",
            Self::Detail => "Case detail",
            Self::Input => "Typing (filter, search, commit fields)",
            Self::Commit => "Commit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn c(ch: char) -> Key {
    k(KeyCode::Char(ch))
}

const fn ctrl(ch: char) -> Key {
    Key {
        code: KeyCode::Char(ch),
        mods: KeyModifiers::CONTROL,
    }
}

impl Key {
    pub fn name(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(ch) => ch.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::F(n) => format!("F{n}"),
            _ => "?".into(),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("C-{base}")
        } else {
            base
        }
    }

    fn matches(self, e: &KeyEvent) -> bool {
        // Shifted characters arrive as the upper-case char, with or without SHIFT set.
        let mods = e.modifiers - KeyModifiers::SHIFT;
        self.code == e.code && self.mods == mods
    }
}

pub struct Command {
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
    pub scope: Scope,
    /// Shown in the footer of its scope.
    pub footer: bool,
}

const fn cmd(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    footer: bool,
) -> Command {
    Command {
        keys,
        action,
        help,
        scope,
        footer,
    }
}

use Scope::{Commit, Detail, Global, Input, List};

pub const COMMANDS: &[Command] = &[
    cmd(Global, &[c('q'), ctrl('c')], Action::Quit, "quit", true),
    cmd(
        Global,
        &[c('?'), k(KeyCode::F(1))],
        Action::Help,
        "help",
        true,
    ),
    cmd(
        Global,
        &[k(KeyCode::Tab)],
        Action::NextView,
        "next view",
        true,
    ),
    cmd(
        Global,
        &[k(KeyCode::BackTab)],
        Action::PrevView,
        "previous view",
        false,
    ),
    cmd(
        Global,
        &[c('1')],
        Action::GoView(View::Summary),
        "Summary view",
        false,
    ),
    cmd(
        Global,
        &[c('2')],
        Action::GoView(View::Failures),
        "Failures view",
        false,
    ),
    cmd(
        Global,
        &[c('3')],
        Action::GoView(View::Reruns),
        "Reruns view",
        false,
    ),
    cmd(
        Global,
        &[c('4')],
        Action::GoView(View::Cases),
        "Cases view (every case)",
        false,
    ),
    cmd(
        Global,
        &[c('5')],
        Action::GoView(View::Jobs),
        "Jobs view",
        false,
    ),
    cmd(
        Global,
        &[c('6')],
        Action::GoView(View::Files),
        "Files view (invoking files)",
        false,
    ),
    cmd(
        Global,
        &[c('7')],
        Action::GoView(View::Problems),
        "Problems view",
        false,
    ),
    cmd(
        Global,
        &[c('8')],
        Action::GoView(View::Upload),
        "Upload view (the plan)",
        false,
    ),
    cmd(
        Global,
        &[c('9')],
        Action::GoView(View::Clusters),
        "Clusters view (failures by root cause)",
        false,
    ),
    cmd(
        Global,
        &[c('0')],
        Action::GoView(View::Compare),
        "Compare view (against the base run)",
        false,
    ),
    cmd(
        Global,
        &[c('c')],
        Action::Commit,
        "commit: upload the statistics",
        true,
    ),
    cmd(
        Global,
        &[
            k(KeyCode::Esc),
            k(KeyCode::Backspace),
            k(KeyCode::Left),
            c('h'),
        ],
        Action::Back,
        "back",
        true,
    ),
    cmd(
        List,
        &[k(KeyCode::Down), c('j')],
        Action::Down,
        "down",
        false,
    ),
    cmd(List, &[k(KeyCode::Up), c('k')], Action::Up, "up", false),
    cmd(
        List,
        &[k(KeyCode::PageDown), ctrl('f'), ctrl('d')],
        Action::PageDown,
        "page down",
        false,
    ),
    cmd(
        List,
        &[k(KeyCode::PageUp), ctrl('b'), ctrl('u')],
        Action::PageUp,
        "page up",
        false,
    ),
    cmd(
        List,
        &[k(KeyCode::Home), c('g')],
        Action::Top,
        "first row",
        false,
    ),
    cmd(
        List,
        &[k(KeyCode::End), c('G')],
        Action::Bottom,
        "last row",
        false,
    ),
    cmd(
        List,
        &[k(KeyCode::Enter), k(KeyCode::Right), c('l')],
        Action::Open,
        "open",
        true,
    ),
    cmd(List, &[c('/')], Action::StartFilter, "fuzzy filter", true),
    cmd(
        List,
        &[c('f')],
        Action::CycleStatus,
        "status filter: all/failing/flaky/skipped/passed",
        true,
    ),
    cmd(
        List,
        &[c('s')],
        Action::SortNext,
        "sort by the next column",
        true,
    ),
    cmd(
        List,
        &[c('S')],
        Action::SortReverse,
        "reverse the sort",
        false,
    ),
    cmd(
        List,
        &[c('y')],
        Action::CopyId,
        "copy the case id (OSC 52)",
        false,
    ),
    cmd(
        List,
        &[c('r')],
        Action::CopyRepro,
        "copy the failing case's repro command (OSC 52)",
        false,
    ),
    cmd(
        List,
        &[c('R')],
        Action::WriteRepro,
        "write repro.sh: the cluster's cases, or the Compare view's new failures",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::Down), c('j')],
        Action::Down,
        "scroll down",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::Up), c('k')],
        Action::Up,
        "scroll up",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::PageDown), ctrl('f'), ctrl('d'), c(' ')],
        Action::PageDown,
        "page down",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::PageUp), ctrl('b'), ctrl('u')],
        Action::PageUp,
        "page up",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::Home), c('g')],
        Action::Top,
        "top",
        false,
    ),
    cmd(
        Detail,
        &[k(KeyCode::End), c('G')],
        Action::Bottom,
        "bottom",
        false,
    ),
    cmd(Detail, &[c('/')], Action::StartFilter, "search", true),
    cmd(Detail, &[c('n')], Action::NextMatch, "next match", true),
    cmd(Detail, &[c('N')], Action::PrevMatch, "previous match", true),
    cmd(
        Detail,
        &[c('y')],
        Action::CopyId,
        "copy the case id (OSC 52)",
        true,
    ),
    cmd(
        Detail,
        &[c('Y')],
        Action::CopyText,
        "copy the traceback (OSC 52)",
        true,
    ),
    cmd(
        Detail,
        &[c('r')],
        Action::CopyRepro,
        "copy the repro command (OSC 52)",
        false,
    ),
    cmd(
        Input,
        &[k(KeyCode::Enter)],
        Action::InputAccept,
        "accept",
        true,
    ),
    cmd(
        Input,
        &[k(KeyCode::Esc)],
        Action::InputCancel,
        "cancel (clears a filter)",
        true,
    ),
    cmd(
        Input,
        &[k(KeyCode::Backspace)],
        Action::InputBackspace,
        "delete a character",
        false,
    ),
    cmd(Input, &[ctrl('u')], Action::InputClear, "clear", false),
    cmd(
        Input,
        &[k(KeyCode::Tab), k(KeyCode::BackTab)],
        Action::InputNextField,
        "next field (commit form)",
        false,
    ),
    cmd(
        Input,
        &[k(KeyCode::Down)],
        Action::Down,
        "move the selection down",
        false,
    ),
    cmd(
        Input,
        &[k(KeyCode::Up)],
        Action::Up,
        "move the selection up",
        false,
    ),
    cmd(
        Commit,
        &[c('y'), k(KeyCode::Enter)],
        Action::Confirm,
        "confirm",
        true,
    ),
    cmd(
        Commit,
        &[c('n'), k(KeyCode::Esc)],
        Action::Back,
        "cancel / close",
        true,
    ),
];

/// The action `e` means in `scope` (scope-specific commands win over global ones).
pub fn lookup(scope: Scope, e: &KeyEvent) -> Option<Action> {
    let find = |s: Scope| {
        COMMANDS
            .iter()
            .find(|cmd| cmd.scope == s && cmd.keys.iter().any(|key| key.matches(e)))
            .map(|cmd| cmd.action)
    };
    match scope {
        Input => find(Input),
        Commit => find(Commit)
            .or_else(|| find(Global).filter(|a| matches!(a, Action::Quit | Action::Help))),
        s => find(s).or_else(|| find(Global)),
    }
}

/// `key: help` pairs for the footer of `scope`.
pub fn footer(scope: Scope) -> Vec<(String, &'static str)> {
    let scopes: &[Scope] = match scope {
        Input => &[Input],
        Commit => &[Commit],
        Global => &[Global],
        _ => &[scope, Global],
    };
    scopes
        .iter()
        .flat_map(|s| {
            COMMANDS
                .iter()
                .filter(move |cmd| cmd.scope == *s && cmd.footer)
        })
        .map(|cmd| (cmd.keys[0].name(), short(cmd.help)))
        .collect()
}

/// The footer's form of a help text: up to a colon or parenthesis.
fn short(help: &'static str) -> &'static str {
    help.split([':', '(']).next().unwrap_or(help).trim_end()
}

/// Help lines: every command of every scope, keys joined.
pub fn help() -> Vec<(Scope, String, &'static str)> {
    COMMANDS
        .iter()
        .map(|cmd| {
            let keys: Vec<String> = cmd.keys.iter().map(|k| k.name()).collect();
            (cmd.scope, keys.join(" "), cmd.help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn scoped_keys_win_and_shift_is_ignored() {
        assert_eq!(lookup(List, &key(KeyCode::Char('j'))), Some(Action::Down));
        assert_eq!(lookup(List, &key(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(
            lookup(
                Detail,
                &KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT)
            ),
            Some(Action::PrevMatch)
        );
        assert_eq!(lookup(Input, &key(KeyCode::Char('q'))), None);
        assert_eq!(
            lookup(Commit, &key(KeyCode::Char('y'))),
            Some(Action::Confirm)
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for a in COMMANDS {
            for b in COMMANDS {
                if std::ptr::eq(a, b) || a.scope != b.scope {
                    continue;
                }
                for key in a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{:?} bound twice in {:?}",
                        key,
                        a.scope
                    );
                }
            }
        }
    }
}
