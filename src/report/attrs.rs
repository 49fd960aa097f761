//! A start tag's attributes as (name, raw value) pairs. Plain tags (`name="v"` pairs, at
//! most [`FAST_MAX`], no duplicate names) are split by one scalar pass; anything else goes
//! through quick-xml's checked iterator, so every syntax error keeps its exact message and
//! place. The fast pass only accepts what quick-xml accepts, and splits it the same way.

use std::borrow::Cow;

use quick_xml::events::BytesStart;
use quick_xml::events::attributes::AttrError;

use super::XmlError;
use super::entities::Entities;
use super::known::KeyKind;

/// More attributes than this take quick-xml's path (its duplicate check is linear too up to 32).
pub(super) const FAST_MAX: usize = 16;

/// One attribute as written, with what the split already learnt about it.
pub(super) struct Attr<'a> {
    pub key: &'a str,
    /// Undecoded, unnormalised.
    pub value: &'a str,
    /// `key` is an XML name of ASCII name characters without a colon (else: check it).
    pub plain_key: bool,
    /// `value` has no reference, `<`, tab or newline: it is its own normalised value.
    pub plain_value: bool,
    /// The key's kind, when the split recognised it.
    pub kind: Option<KeyKind>,
}

/// Call `f` for every attribute of `e`, in order, stopping at the first error (a syntax
/// error placed in the document, or `f`'s own).
pub(super) fn for_each(
    e: &BytesStart<'_>,
    tag_start: usize,
    mut f: impl FnMut(Attr<'_>) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    let raw = e.attributes_raw();
    let mut spans = [Span::default(); FAST_MAX];
    if let Some(n) = scan(raw, &mut spans) {
        for s in &spans[..n] {
            f(Attr {
                key: &raw[s.key.0..s.key.1],
                value: &raw[s.value.0..s.value.1],
                plain_key: s.plain_key,
                plain_value: s.plain_value,
                kind: s.kind,
            })?;
        }
        return Ok(());
    }
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|err| attr_error(err, tag_start))?;
        f(Attr {
            key: attr.key.into_inner(),
            value: &attr.value,
            plain_key: false,
            plain_value: false,
            kind: None,
        })?;
    }
    Ok(())
}

#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(super) struct Span {
    pub key: (usize, usize),
    pub value: (usize, usize),
    pub plain_key: bool,
    pub plain_value: bool,
    pub kind: Option<KeyKind>,
}

/// XML white space as quick-xml sees it.
pub(super) const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// `=` and white space end a key.
const KEY_END: u8 = 1;
/// ASCII name start characters, colon excluded.
const NAME_START: u8 = 2;
/// ASCII name characters, colon excluded.
const NAME_CHAR: u8 = 4;

/// The first byte of `b[from..end]` that is `quote`, `&`, `<`, tab or newline (where a plain
/// value ends, or one that needs work begins), or `end`.
fn first_stop(b: &[u8], from: usize, end: usize, quote: u8) -> usize {
    let mut j = from;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of every x86_64 CPU, and each unaligned load reads the 16
        // bytes b[j..j + 16], which the loop condition keeps inside `b`.
        unsafe {
            let needle = |c: u8| _mm_set1_epi8(c as i8);
            let (q, amp, lt, tab, nl) = (
                needle(quote),
                needle(b'&'),
                needle(b'<'),
                needle(b'\t'),
                needle(b'\n'),
            );
            while j < end && j + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(j).cast());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, amp)),
                    _mm_or_si128(
                        _mm_cmpeq_epi8(v, lt),
                        _mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, nl)),
                    ),
                );
                let mask = _mm_movemask_epi8(hits) as u32;
                if mask != 0 {
                    return (j + mask.trailing_zeros() as usize).min(end);
                }
                j += 16;
            }
        }
    }
    while j < end && !matches!(b[j], b'&' | b'<' | b'\t' | b'\n') && b[j] != quote {
        j += 1;
    }
    j.min(end)
}

static CLASS: [u8; 256] = {
    let mut t = [0; 256];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        if c == b'=' || is_ws(c) {
            t[i] |= KEY_END;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            t[i] |= NAME_START | NAME_CHAR;
        }
        if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[i] |= NAME_CHAR;
        }
        i += 1;
    }
    t
};

/// The keys nearly every testcase has, recognised whole (with the `=` after them) instead
/// of byte by byte: their length and kind. One word compare each where eight bytes are
/// there to load (a slice match compares byte by byte).
fn common_key(b: &[u8]) -> Option<(usize, KeyKind)> {
    const fn word(s: &[u8]) -> u64 {
        let mut w = 0u64;
        let mut i = s.len();
        while i > 0 {
            i -= 1;
            w = (w << 8) | s[i] as u64;
        }
        w
    }
    const FIVE: u64 = (1 << 40) - 1;
    const NAME: u64 = word(b"name=");
    const TIME: u64 = word(b"time=");
    const FILE: u64 = word(b"file=");
    const CLASSNAM: u64 = word(b"classnam");
    let Some(head) = b.get(..8) else {
        return match b.get(..5)? {
            b"name=" => Some((4, KeyKind::Name)),
            b"time=" => Some((4, KeyKind::Time)),
            b"file=" => Some((4, KeyKind::File)),
            _ => None,
        };
    };
    let w = u64::from_le_bytes(head.try_into().expect("8 bytes"));
    match w & FIVE {
        NAME => Some((4, KeyKind::Name)),
        TIME => Some((4, KeyKind::Time)),
        FILE => Some((4, KeyKind::File)),
        _ if w == CLASSNAM && b.get(8..10) == Some(b"e=") => Some((9, KeyKind::Classname)),
        _ => None,
    }
}

/// Values longer than this are searched for their quote with memchr, and left to the
/// caller to check.
const SHORT_VALUE: usize = 64;

/// Split `raw` (what follows the element name) into spans, or `None` when it is not plain:
/// a key not followed at once by `=` and a quote, an unclosed quote, a repeated key, a key
/// starting with `=`, or too many attributes. quick-xml needs no white space between
/// attributes either, so `a="1"b="2"` splits here as it does there.
fn scan(raw: &str, spans: &mut [Span; FAST_MAX]) -> Option<usize> {
    split(raw.as_bytes(), 0, spans, false).map(|(n, _)| n)
}

/// An empty element's attributes read straight from the document: `doc[from..]` follows
/// the element's name. Some((attribute count, offset just past `/>`)) when every key is
/// plain and the tag ends with `/>`; then it is exactly the tag a tokenizer would find (a
/// plain key holds no quote or `>`, so the first `/>` outside values is its end). None
/// otherwise: a start tag, an unclosed one, or anything [`scan`] leaves to quick-xml.
pub(super) fn scan_empty_tag(
    doc: &[u8],
    from: usize,
    spans: &mut [Span; FAST_MAX],
) -> Option<(usize, usize)> {
    split(doc, from, spans, true)
}

/// [`scan`] of `b[i..]`; with `tag`, up to a `/>` that ends the tag and only for plain keys.
fn split(
    b: &[u8],
    mut i: usize,
    spans: &mut [Span; FAST_MAX],
    tag: bool,
) -> Option<(usize, usize)> {
    let mut n = 0;
    // The common keys met so far, by KeyKind bit.
    let mut seen = 0u32;
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return (!tag).then_some((n, i));
        }
        if tag && b[i] == b'/' {
            return (b.get(i + 1) == Some(&b'>')).then_some((n, i + 2));
        }
        if n == FAST_MAX || b[i] == b'=' {
            return None;
        }
        let key_start = i;
        let known = common_key(&b[i..]);
        let mut plain_key = true;
        if let Some((len, kind)) = known {
            // A repeat of a common key: quick-xml names the error.
            let bit = 1 << kind as u32;
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            i += len;
        } else {
            plain_key = CLASS[usize::from(b[i])] & NAME_START != 0;
            i += 1;
            while i < b.len() {
                let class = CLASS[usize::from(b[i])];
                if class & KEY_END != 0 {
                    break;
                }
                plain_key &= class & NAME_CHAR != 0;
                i += 1;
            }
        }
        if i + 1 >= b.len() || b[i] != b'=' || (tag && !plain_key) {
            return None;
        }
        let key = (key_start, i);
        let quote = b[i + 1];
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 2;
        let (value_end, plain_value) = value_end(b, value_start, quote)?;
        let name = &b[key.0..key.1];
        // Lengths and first bytes tell most names apart without a memcmp call. (A common
        // key is never split as any other key: followed by `=` it is always recognised.)
        if known.is_none()
            && spans[..n].iter().any(|s| {
                s.key.1 - s.key.0 == name.len()
                    && b[s.key.0] == name[0]
                    && &b[s.key.0..s.key.1] == name
            })
        {
            return None;
        }
        spans[n] = Span {
            key,
            value: (value_start, value_end),
            plain_key,
            plain_value,
            kind: known.map(|k| k.1),
        };
        n += 1;
        i = value_end + 1;
    }
}

/// Where the value starting at `b[start]` ends (its closing `quote`), and whether it is
/// plain: a short value ends at the first byte its quote's table stops at; otherwise the
/// quote is searched for with memchr (and the value is left to the caller to check).
fn value_end(b: &[u8], start: usize, quote: u8) -> Option<(usize, bool)> {
    let short_end = b.len().min(start + SHORT_VALUE);
    let j = first_stop(b, start, short_end, quote);
    if j < short_end && b[j] == quote {
        return Some((j, true));
    }
    Some((j + memchr::memchr(quote, &b[j..])?, false))
}

/// The attribute names of the last flat tag split, in order. The next testcases of a report
/// nearly always repeat them (`classname`, `name`, `time`, `file`): such a tag is split by
/// comparing each name whole ([`scan_empty_tag_like`]) instead of scanning and classifying
/// it byte by byte.
pub(super) struct Template {
    n: usize,
    /// Each name with the `=` after it, as the little-endian word of its bytes (at most 16),
    /// the mask of those bytes, and their count.
    keys: [(u128, u128, usize); FAST_MAX],
    kinds: [KeyKind; FAST_MAX],
}

impl Default for Template {
    fn default() -> Self {
        Self {
            n: 0,
            keys: [(0, 0, 0); FAST_MAX],
            kinds: [KeyKind::Other; FAST_MAX],
        }
    }
}

impl Template {
    /// Learn the names of the tag `spans` were split from (`doc` holds them); a name too long
    /// for a word leaves no template.
    pub fn learn(&mut self, doc: &[u8], spans: &[Span]) {
        self.n = 0;
        for (j, s) in spans.iter().enumerate() {
            let len = s.key.1 - s.key.0 + 1;
            if len > 16 {
                return;
            }
            let mut word = [0u8; 16];
            word[..len].copy_from_slice(&doc[s.key.0..=s.key.1]);
            let mask = u128::MAX >> (8 * (16 - len));
            self.keys[j] = (u128::from_le_bytes(word), mask, len);
            self.kinds[j] = s.kind.unwrap_or_else(|| {
                KeyKind::of(std::str::from_utf8(&doc[s.key.0..s.key.1]).unwrap_or(""))
            });
        }
        self.n = spans.len();
    }
}

/// [`scan_empty_tag`] of a tag whose attributes have the template's names in its order,
/// each after white space and followed by `=` and a quote, then `/>`; None for any other
/// tag (split in full then). What it finds is what the full split finds: the names are
/// plain and unique since the template's were, and values end by the same rule.
pub(super) fn scan_empty_tag_like(
    doc: &[u8],
    from: usize,
    template: &Template,
    spans: &mut [Span; FAST_MAX],
) -> Option<(usize, usize)> {
    if template.n == 0 {
        return None;
    }
    let mut i = from;
    let names = template.keys.iter().zip(template.kinds);
    for (span, (&(word, mask, len), kind)) in spans.iter_mut().zip(names).take(template.n) {
        let at = i;
        while i < doc.len() && is_ws(doc[i]) {
            i += 1;
        }
        if i == at {
            return None;
        }
        let head = doc.get(i..i + 16)?;
        if u128::from_le_bytes(head.try_into().expect("16 bytes")) & mask != word {
            return None;
        }
        let key = (i, i + len - 1);
        let quote = *doc.get(i + len)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + len + 1;
        let (value_end, plain_value) = value_end(doc, value_start, quote)?;
        *span = Span {
            key,
            value: (value_start, value_end),
            plain_key: true,
            plain_value,
            kind: Some(kind),
        };
        i = value_end + 1;
    }
    while i < doc.len() && is_ws(doc[i]) {
        i += 1;
    }
    (doc.get(i..i + 2) == Some(b"/>")).then_some((template.n, i + 2))
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

/// The bytes of an attribute value that need work: references, `<`, tab and newline.
static VALUE_WORK: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// Attribute value normalisation (XML 1.0 section 3.3.3, no DTD types): literal tab and
/// newline become spaces (CR is already gone), references are decoded afterwards so `&#10;`
/// stays a newline.
pub(super) fn attr_value<'r>(
    raw: &'r str,
    entities: &mut Entities,
) -> Result<Cow<'r, str>, XmlError> {
    // memchr (vectorised, and optimised even in debug builds) finds the bytes that need
    // work; each search resumes only once passed, so a hostile value stays linear.
    let bytes = raw.as_bytes();
    // Most values are short and plain: one scalar pass beats setting up two searches.
    if bytes.len() <= 64 && !bytes.iter().any(|&b| VALUE_WORK[usize::from(b)]) {
        return Ok(Cow::Borrowed(raw));
    }
    let find3 = |from: usize| memchr::memchr3(b'&', b'<', b'\t', &bytes[from..]).map(|i| i + from);
    let find_nl = |from: usize| memchr::memchr(b'\n', &bytes[from..]).map(|i| i + from);
    let (mut next3, mut next_nl) = (find3(0), find_nl(0));
    if next3.is_none() && next_nl.is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut pos = 0;
    loop {
        let i = match (next3, next_nl) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(i) => i,
                None => break,
            },
        };
        out.push_str(&raw[pos..i]);
        match bytes[i] {
            b'<' => return Err(XmlError::new("'<' in an attribute value")),
            b'&' => {
                let semi = memchr::memchr(b';', &bytes[i..])
                    .ok_or_else(|| XmlError::new("unterminated reference in an attribute"))?;
                entities.resolve_into(&raw[i + 1..i + semi], &mut out, true)?;
                pos = i + semi + 1;
            }
            _ => {
                out.push(' ');
                pos = i + 1;
            }
        }
        if next3.is_some_and(|a| a < pos) {
            next3 = find3(pos);
        }
        if next_nl.is_some_and(|b| b < pos) {
            next_nl = find_nl(pos);
        }
    }
    out.push_str(&raw[pos..]);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Split by the template learnt from the tag before, a tag splits as the full split
    /// splits it, or not at all: random tags built from names that share prefixes, both
    /// quotes, values with references, markup, white space, `/>`, long ones.
    #[test]
    fn template_splits_as_the_full_split() {
        let mut rng = testscope_gen::rng::Rng::new(7);
        let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
        let names = [
            "name",
            "names",
            "nam",
            "time",
            "file",
            "classname",
            "a",
            "x-y.z",
            "classnamee",
        ];
        let values = [
            "",
            "0.5",
            "v",
            "a&amp;b",
            "a<b",
            "t\tn\n",
            "/>",
            "q'q",
            "x\"",
            &"l".repeat(70),
        ];
        let mut template = Template::default();
        let (mut same, mut learnt) = (0, 0);
        let mut keys: Vec<&str> = Vec::new();
        for _ in 0..20_000 {
            // Mostly the names of the tag before, as in a report.
            if pick(5) == 0 {
                keys = (0..pick(5)).map(|_| names[pick(names.len())]).collect();
            }
            let mut tag = String::from("<testcase");
            for key in &keys {
                let sep = [" ", " ", "  ", "\n\t", ""][pick(5)];
                let quote = ["\"", "\"", "'"][pick(3)];
                let value = values[pick(values.len())].replace(quote, "");
                tag += &format!("{sep}{key}={quote}{value}{quote}");
            }
            tag += [" />", "/>", "  />", ">", " /x"][pick(5)];
            tag += "   ";
            let doc = tag.as_bytes();
            let from = "<testcase".len();
            let (mut a, mut b) = ([Span::default(); FAST_MAX], [Span::default(); FAST_MAX]);
            let full = scan_empty_tag(doc, from, &mut a);
            if let Some(like) = scan_empty_tag_like(doc, from, &template, &mut b) {
                assert_eq!(Some(like), full, "{tag}");
                let n = like.0;
                for (x, y) in a[..n].iter().zip(&b[..n]) {
                    let kind = x.kind.unwrap_or_else(|| {
                        KeyKind::of(std::str::from_utf8(&doc[x.key.0..x.key.1]).unwrap())
                    });
                    assert_eq!(
                        Span {
                            kind: Some(kind),
                            ..*x
                        },
                        *y,
                        "{tag}"
                    );
                }
                same += 1;
            } else if let Some((n, _)) = full {
                template.learn(doc, &a[..n]);
                learnt += 1;
            }
        }
        assert!(
            same > 1000 && learnt > 1000,
            "{same} split by the template, {learnt} learnt"
        );
    }

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
            for_each(&e, 0, |a| {
                // What the split says of a key and value is what the full checks say.
                if a.plain_key {
                    assert!(
                        !a.key.contains(':')
                            && crate::report::entities::name_len(a.key) == a.key.len()
                    );
                }
                if a.plain_value {
                    assert!(!a.value.contains(['&', '<', '\t', '\n']));
                }
                if let Some(kind) = a.kind {
                    assert_eq!(kind, KeyKind::of(a.key), "{:?}", a.key);
                }
                push(a.key, a.value)
            })
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
            // The common keys, recognised whole, and their near misses and repeats.
            r#"t name="a" name="b""#,
            r#"t time="1" file="x" classname="C" time="2""#,
            r#"t classname="C" class="D" classnames="E" names="F" nam="G""#,
            r#"t name ="a" name="b""#,
            r#"t classname="a" classname="b""#,
            r#"t file="a" x="1" file="b""#,
            &format!("t{many}"),
        ];
        for tag in tags {
            assert_eq!(pairs(tag, true), pairs(tag, false), "{tag:?}");
        }
    }

    #[test]
    fn first_stop_finds_the_first_stop_byte_in_range() {
        let text = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.,";
        for stop in [b'"', b'\'', b'&', b'<', b'\t', b'\n'] {
            for at in 0..text.len() {
                let mut b = text.to_vec();
                b[at] = stop;
                for from in 0..=at.min(20) {
                    for end in from..=b.len() {
                        let want = if stop == b'\'' || at >= end { end } else { at };
                        assert_eq!(
                            first_stop(&b, from, end, b'"'),
                            want,
                            "{stop} at {at}, {from}..{end}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn common_keys_are_found_whatever_follows() {
        for (key, want) in [
            ("name=", Some((4, KeyKind::Name))),
            ("time=", Some((4, KeyKind::Time))),
            ("file=", Some((4, KeyKind::File))),
            ("classname=", Some((9, KeyKind::Classname))),
            ("names=", None),
            ("name ", None),
            ("classname ", None),
            ("classnam=", None),
            ("class=", None),
            ("nam", None),
        ] {
            for tail in ["", "\"", "\"x\" a=\"1\""] {
                let text = format!("{key}{tail}");
                assert_eq!(common_key(text.as_bytes()), want, "{text:?}");
            }
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
