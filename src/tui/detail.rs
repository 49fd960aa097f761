//! A case's whole document as readable text: attributes, then failure, error, every rerun,
//! skipped, properties, system-out/err and anything else, wrapped to the screen (never cut)
//! and searchable. All report text is made inert here, before it can reach the terminal.

use unicode_width::UnicodeWidthChar;

use crate::report::{Object, Value};
use crate::run::display_value;
use crate::sanitize::inert;

/// How a line of the detail is styled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Heading,
    Field,
    Text,
    Blank,
    /// Two columns side by side: the text holds both, split at [`PAIR_SEPARATOR`]; wrapping
    /// fits each to half the width.
    Pair,
}

/// Splits a [`LineKind::Pair`] line's two sides (inert text never holds it).
pub const PAIR_SEPARATOR: char = '\0';

/// A line of two columns.
pub fn pair(left: &str, right: &str) -> DetailLine {
    line(
        LineKind::Pair,
        format!(
            "{}{PAIR_SEPARATOR}{}",
            inert(left, false),
            inert(right, false)
        ),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailLine {
    pub kind: LineKind,
    pub text: String,
}

fn line(kind: LineKind, text: impl Into<String>) -> DetailLine {
    DetailLine {
        kind,
        text: text.into(),
    }
}

/// Sections in the order people read them; other keys follow in document order.
const SECTIONS: &[&str] = &[
    "failure",
    "error",
    "rerun",
    "skipped",
    "properties",
    "system-out",
    "system-err",
];

/// The logical lines of a case (before wrapping) and its traceback for copying.
pub fn render_case(case: &Object) -> (Vec<DetailLine>, String) {
    let mut out = vec![line(LineKind::Heading, "Attributes")];
    let scalar = |v: &Value| !matches!(v, Value::List(_) | Value::Object(_));
    for (k, v) in case.iter() {
        if scalar(v) {
            field(&mut out, k, v);
        }
    }
    let mut traceback = String::new();
    let mut keys: Vec<&str> = SECTIONS
        .iter()
        .copied()
        .filter(|k| case.get(k).is_some_and(|v| !scalar(v)))
        .collect();
    keys.extend(
        case.iter()
            .map(|(k, _)| k)
            .filter(|k| !SECTIONS.contains(k) && case.get(k).is_some_and(|v| !scalar(v))),
    );
    for key in keys {
        let v = case.get(key).expect("listed from the case");
        let items: Vec<&Value> = match v {
            Value::List(items) => items.iter().collect(),
            v => vec![v],
        };
        for (n, item) in items.iter().enumerate() {
            out.push(line(LineKind::Blank, ""));
            let title = if items.len() > 1 {
                format!("{key} {}/{}", n + 1, items.len())
            } else {
                key.to_string()
            };
            out.push(line(LineKind::Heading, title));
            section(&mut out, item, 0);
            if traceback.is_empty()
                && matches!(key, "failure" | "error")
                && let Value::Object(o) = item
                && let Some(t) = o.get("text")
            {
                traceback = display_value(t);
            }
        }
    }
    if traceback.is_empty() {
        traceback = last_rerun_text(case);
    }
    (out, traceback)
}

fn last_rerun_text(case: &Object) -> String {
    let last = match case.get("rerun") {
        Some(Value::List(items)) => items.last(),
        Some(v) => Some(v),
        None => None,
    };
    match last {
        Some(Value::Object(o)) => o.get("text").map(display_value).unwrap_or_default(),
        _ => String::new(),
    }
}

fn field(out: &mut Vec<DetailLine>, key: &str, v: &Value) {
    let text = display_value(v);
    let key = inert(key, false);
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or("");
    out.push(line(
        LineKind::Field,
        format!("{key}: {}", inert(first, false)),
    ));
    for rest in lines {
        out.push(line(LineKind::Text, format!("  {}", inert(rest, false))));
    }
}

/// A child element: its attributes as fields, its text as a block, children nested.
fn section(out: &mut Vec<DetailLine>, v: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(o) => {
            let mut text = None;
            for (k, v) in o.iter() {
                match (k, v) {
                    ("text", _) => text = Some(v),
                    (_, Value::List(_) | Value::Object(_)) => {
                        out.push(line(LineKind::Field, format!("{pad}{}:", inert(k, false))));
                        let items: Vec<&Value> = match v {
                            Value::List(items) => items.iter().collect(),
                            v => vec![v],
                        };
                        for item in items {
                            section(out, item, depth + 1);
                        }
                    }
                    _ => {
                        let before = out.len();
                        field(out, k, v);
                        for l in &mut out[before..] {
                            l.text.insert_str(0, &pad);
                        }
                    }
                }
            }
            if let Some(t) = text {
                let t = display_value(t);
                if !t.trim().is_empty() {
                    out.push(line(LineKind::Blank, ""));
                    for l in t.trim_end_matches('\n').split('\n') {
                        out.push(line(LineKind::Text, format!("{pad}{}", inert(l, false))));
                    }
                }
            }
        }
        Value::List(items) => {
            for item in items {
                section(out, item, depth + 1);
            }
        }
        other => {
            let t = display_value(other);
            for l in t.split('\n') {
                out.push(line(LineKind::Text, format!("{pad}{}", inert(l, false))));
            }
        }
    }
}

/// Lines wrapped to `width` cells; a wrapped continuation keeps the line's kind.
pub fn wrap(lines: &[DetailLine], width: u16) -> Vec<DetailLine> {
    let width = usize::from(width.max(8));
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        if l.kind == LineKind::Pair {
            wrap_pair(&mut out, &l.text, width);
            continue;
        }
        let mut cur = String::new();
        let mut w = 0;
        for ch in l.text.chars() {
            let cw = ch.width().unwrap_or(0);
            if w + cw > width {
                out.push(line(l.kind, std::mem::take(&mut cur)));
                w = 0;
            }
            cur.push(ch);
            w += cw;
        }
        out.push(line(l.kind, cur));
    }
    out
}

/// One side of a pair cut into rows of at most `width` cells.
fn rows_of(text: &str, width: usize) -> Vec<String> {
    let mut rows = vec![String::new()];
    let mut w = 0;
    for ch in text.chars() {
        let cw = ch.width().unwrap_or(0);
        if w + cw > width {
            rows.push(String::new());
            w = 0;
        }
        rows.last_mut().expect("one row at least").push(ch);
        w += cw;
    }
    rows
}

/// A pair as rows of `left │ right`, each side wrapped to its half.
fn wrap_pair(out: &mut Vec<DetailLine>, text: &str, width: usize) {
    let (left, right) = text.split_once(PAIR_SEPARATOR).unwrap_or((text, ""));
    let half = width.saturating_sub(3) / 2;
    let (l, r) = (rows_of(left, half.max(1)), rows_of(right, half.max(1)));
    for i in 0..l.len().max(r.len()) {
        let a = l.get(i).map_or("", String::as_str);
        let b = r.get(i).map_or("", String::as_str);
        let pad = half.saturating_sub(a.chars().map(|c| c.width().unwrap_or(0)).sum());
        out.push(line(
            LineKind::Text,
            format!("{a}{} │ {b}", " ".repeat(pad)),
        ));
    }
}

/// Rows of `lines` holding `query` (case-insensitive), in order.
pub fn find(lines: &[DetailLine], query: &str) -> Vec<usize> {
    if query.is_empty() {
        return Vec::new();
    }
    let q = query.to_lowercase();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.text.to_lowercase().contains(&q))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Object {
        let mut o = Object::new();
        for (k, v) in pairs {
            o.insert(k, v.clone());
        }
        o
    }

    #[test]
    fn sections_reruns_and_inert_text() {
        let rerun = |m: &str| {
            Value::Object(obj(&[
                ("message", Value::Str(m.into())),
                (
                    "text",
                    Value::Str(format!("Traceback {m}\n  line\x1b[31m").into()),
                ),
            ]))
        };
        let case = obj(&[
            ("name", Value::Str("test_a".into())),
            ("time", Value::Float(1.5)),
            ("rerun", Value::List(vec![rerun("one"), rerun("two")])),
            (
                "system-out",
                Value::Object(obj(&[("text", Value::Str("out".into()))])),
            ),
        ]);
        let (lines, traceback) = render_case(&case);
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert!(text.contains(&"name: test_a"));
        assert!(text.contains(&"time: 1.5"));
        assert!(text.contains(&"rerun 1/2") && text.contains(&"rerun 2/2"));
        assert!(text.contains(&"system-out"));
        assert!(text.iter().any(|t| t.contains("\\x1b[31m")));
        assert!(!text.iter().any(|t| t.contains('\x1b')));
        assert_eq!(traceback, "Traceback two\n  line\x1b[31m");
        assert_eq!(find(&lines, "TRACEBACK").len(), 2);
    }

    #[test]
    fn wrapping_never_drops_text() {
        let long = "x".repeat(25);
        let wrapped = wrap(&[line(LineKind::Text, long.clone())], 10);
        assert_eq!(wrapped.len(), 3);
        assert_eq!(
            wrapped.iter().map(|l| l.text.as_str()).collect::<String>(),
            long
        );
    }
}
