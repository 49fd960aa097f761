//! The one sanitiser for text from reports shown in a terminal: control characters (C0, DEL,
//! C1) and bidirectional overrides become visible escapes, so report text can never move the
//! cursor, change colours, set the title or reorder what is shown.

use std::borrow::Cow;

/// Make `s` inert for display. Newlines are kept when `multiline`, else shown as `⏎`;
/// tabs become spaces.
pub fn inert(s: &str, multiline: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c, multiline)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' if multiline => out.push('\n'),
            '\n' => out.push('⏎'),
            '\t' => out.push_str("    "),
            c if needs_escape(c, multiline) => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{n:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Single-line form.
pub fn line(s: &str) -> Cow<'_, str> {
    inert(s, false)
}

fn needs_escape(c: char, multiline: bool) -> bool {
    match c {
        '\n' => !multiline,
        '\t' => true,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidi embeddings/overrides/isolates and the line/paragraph separators.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible() {
        assert_eq!(line("ok"), "ok");
        assert_eq!(line("\u{1b}[31mred\u{1b}[0m"), "\\x1b[31mred\\x1b[0m");
        assert_eq!(line("\u{9b}31m"), "\\x9b31m");
        assert_eq!(line("\u{1b}]0;title\u{7}"), "\\x1b]0;title\\x07");
        assert_eq!(line("a\nb\tc\0"), "a⏎b    c\\x00");
        assert_eq!(inert("a\nb", true), "a\nb");
        assert_eq!(line("\u{202e}abc"), "\\u{202e}abc");
    }
}
