//! A start tag's attributes as (name, raw value) pairs. Plain tags (`name="v"` pairs, at
//! most [`FAST_MAX`], no duplicate names) are split by one scalar pass; anything else goes
//! through quick-xml's checked iterator, so every syntax error keeps its exact message and
//! place. The fast pass only accepts what quick-xml accepts, and splits it the same way.

use quick_xml::events::BytesStart;
use quick_xml::events::attributes::AttrError;

use super::XmlError;

/// More attributes than this take quick-xml's path (its duplicate check is linear too up to 32).
const FAST_MAX: usize = 16;

/// Call `f(name, raw value)` for every attribute of `e`, in order, stopping at the first
/// error (a syntax error placed in the document, or `f`'s own).
pub(super) fn for_each(
    e: &BytesStart<'_>,
    tag_start: usize,
    mut f: impl FnMut(&str, &str) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    let raw = e.attributes_raw();
    let mut spans = [Span::default(); FAST_MAX];
    if let Some(n) = scan(raw, &mut spans) {
        for s in &spans[..n] {
            f(&raw[s.key.0..s.key.1], &raw[s.value.0..s.value.1])?;
        }
        return Ok(());
    }
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|err| attr_error(err, tag_start))?;
        f(attr.key.into_inner(), &attr.value)?;
    }
    Ok(())
}

#[derive(Clone, Copy, Default)]
struct Span {
    key: (usize, usize),
    value: (usize, usize),
}

/// XML white space as quick-xml sees it.
const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// `=` and white space end a key.
static ENDS_KEY: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8 == b'=' || is_ws(i as u8);
        i += 1;
    }
    t
};

/// Split `raw` (what follows the element name) into spans, or `None` when it is not plain:
/// a key not followed at once by `=` and a quote, an unclosed quote, a repeated key, a key
/// starting with `=`, or too many attributes. quick-xml needs no white space between
/// attributes either, so `a="1"b="2"` splits here as it does there.
fn scan(raw: &str, spans: &mut [Span; FAST_MAX]) -> Option<usize> {
    let b = raw.as_bytes();
    let (mut i, mut n) = (0, 0);
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return Some(n);
        }
        if n == FAST_MAX || b[i] == b'=' {
            return None;
        }
        let key_start = i;
        i += 1;
        while i < b.len() && !ENDS_KEY[usize::from(b[i])] {
            i += 1;
        }
        if i + 1 >= b.len() || b[i] != b'=' {
            return None;
        }
        let key = (key_start, i);
        let quote = b[i + 1];
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 2;
        let value_end = value_start + memchr::memchr(quote, &b[value_start..])?;
        let name = &b[key.0..key.1];
        // Lengths and first bytes tell most names apart without a memcmp call.
        if spans[..n].iter().any(|s| {
            s.key.1 - s.key.0 == name.len() && b[s.key.0] == name[0] && &b[s.key.0..s.key.1] == name
        }) {
            return None;
        }
        spans[n] = Span {
            key,
            value: (value_start, value_end),
        };
        n += 1;
        i = value_end + 1;
    }
}

/// An attribute syntax error, placed in the document (quick-xml counts from after the `<`).
pub(super) fn attr_error(err: AttrError, tag_start: usize) -> XmlError {
    let (message, at) = match err {
        AttrError::Duplicated(at, _) => ("duplicate attribute", at),
        AttrError::ExpectedEq(at) => ("not well-formed (attribute without '=')", at),
        AttrError::ExpectedValue(at) => ("not well-formed (attribute without a value)", at),
        AttrError::UnquotedValue(at) | AttrError::ExpectedQuote(at, _) => {
            ("not well-formed (attribute value not quoted)", at)
        }
    };
    XmlError::at(message, tag_start + 1 + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths' pairs, or the error message.
    fn pairs(tag: &str, fast: bool) -> Result<Vec<(String, String)>, String> {
        let name_len = tag
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(tag.len());
        let e = BytesStart::from_content(tag, name_len);
        let mut out = Vec::new();
        let mut push = |k: &str, v: &str| {
            out.push((k.to_string(), v.to_string()));
            Ok(())
        };
        let result = if fast {
            for_each(&e, 0, &mut push)
        } else {
            // quick-xml alone, as before the fast pass existed.
            (|| {
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|err| attr_error(err, 0))?;
                    push(attr.key.into_inner(), &attr.value)?;
                }
                Ok(())
            })()
        };
        result.map(|()| out).map_err(|e| e.to_string())
    }

    #[test]
    fn the_fast_pass_agrees_with_quick_xml() {
        let many: String = (0..20).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let tags = [
            "testcase",
            "testcase ",
            r#"testcase classname="A" name="b" time="0.1" file="x.py""#,
            r#"t a='1' b="it's" c='say "hi"'"#,
            "t a=\"1\"\n\tb=\"2\"\r\n",
            r#"t a="1"b="2""#,
            r#"t a = "1""#,
            r#"t a= "1""#,
            r#"t a ="1""#,
            r#"t a="1" a="2""#,
            r#"t a="1" b"#,
            r#"t a="1" b="#,
            r#"t a="1" b=2"#,
            r#"t a="1" b="2"#,
            r#"t ="1""#,
            r#"t a="" b=''"#,
            r#"t x:a="1" y:a="2""#,
            r#"t a="&amp;<>""#,
            r#"t é="ü""#,
            &format!("t{many}"),
        ];
        for tag in tags {
            assert_eq!(pairs(tag, true), pairs(tag, false), "{tag:?}");
        }
    }

    #[test]
    fn plain_tags_take_the_fast_pass() {
        let mut spans = [Span::default(); FAST_MAX];
        assert_eq!(scan(r#" a="1"b='2' "#, &mut spans), Some(2));
        assert_eq!(scan(r#" a = "1""#, &mut spans), None);
        assert_eq!(scan(r#" a="1" a="1""#, &mut spans), None);
    }
}
