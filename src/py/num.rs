//! Python's `int(s)` / `float(s)` string grammar (CPython 3.11), and the reference's
//! attribute conversion built on them (`int`, else `float`, else keep the string).
//!
//! CPython first maps the text to ASCII (`_PyUnicode_TransformDecimalAndSpaceToASCII`):
//! characters below U+007F stay, other whitespace becomes a space, other decimal digits
//! (category Nd) become their ASCII digit, anything else makes the conversion fail. Only
//! then does it strip whitespace, and that strip knows just the ASCII set ` \t\n\v\f\r`, so
//! `\x1c`..`\x1f` (which `str.isspace` accepts) are rejected rather than stripped.

use std::borrow::Cow;

use super::value::Value;

/// CPython 3.11's default `sys.get_int_max_str_digits()`: `int()` rejects a decimal string
/// with more digits than this, counting leading zeros but not sign, underscores or spaces.
const INT_MAX_STR_DIGITS: usize = 4300;

/// The code point of the zero of each run of Unicode decimal digits (category Nd, Unicode
/// 14.0.0 as in CPython 3.11). Every run is exactly ten consecutive code points 0..=9.
/// Generated with `unicodedata`.
const ND_ZEROS: [u32; 66] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The decimal value of a Unicode digit (`unicodedata.decimal`).
fn unicode_decimal(c: char) -> Option<u8> {
    let c = u32::from(c);
    let run = ND_ZEROS.partition_point(|&zero| zero <= c);
    let offset = c - ND_ZEROS[run.checked_sub(1)?];
    (offset < 10).then_some(offset as u8)
}

/// `str.isspace` for characters at or above U+007F (the ones CPython maps to a space).
fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Python's `str.isspace` for one character (what `str.strip()` removes). Note that
/// `int()`/`float()` strip less: see the module doc.
pub fn py_isspace(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ') || is_unicode_space(c)
}

/// C's `Py_ISSPACE`: the only whitespace CPython strips after the ASCII mapping.
fn is_ascii_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// CPython's mapping to ASCII; `None` where it would put a `?` (the conversion then fails).
fn to_ascii(s: &str) -> Option<Cow<'_, str>> {
    if s.is_ascii() {
        return Some(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if u32::from(c) < 0x7f {
            out.push(c);
        } else if is_unicode_space(c) {
            out.push(' ');
        } else {
            out.push(char::from(b'0' + unicode_decimal(c)?));
        }
    }
    Some(Cow::Owned(out))
}

/// Python's `int(s)` in base 10: `Value::Int` when it fits `i64`, else `Value::BigInt`;
/// `None` where Python raises `ValueError`.
pub fn py_int(s: &str) -> Option<Value> {
    let ascii = to_ascii(s)?;
    parse_int_ascii(ascii.trim_matches(is_ascii_space).as_bytes())
}

fn parse_int_ascii(b: &[u8]) -> Option<Value> {
    let (negative, body) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    // The body must start and end with a digit, with single underscores between digits.
    if !body.first()?.is_ascii_digit() || !body.last()?.is_ascii_digit() {
        return None;
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let mut digits = 0usize;
    let mut prev_underscore = false;
    for &c in body {
        if c.is_ascii_digit() {
            digits += 1;
            prev_underscore = false;
            match magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(c - b'0')))
            {
                Some(m) => magnitude = m,
                None => overflow = true,
            }
        } else if c == b'_' && !prev_underscore {
            prev_underscore = true;
        } else {
            return None;
        }
    }
    if digits > INT_MAX_STR_DIGITS {
        return None;
    }
    if !overflow {
        if !negative {
            if let Ok(i) = i64::try_from(magnitude) {
                return Some(Value::Int(i));
            }
        } else if magnitude <= i64::MIN.unsigned_abs() {
            // `0 - magnitude` cannot overflow here; this also maps `-0` to 0.
            return Some(Value::Int(0i64.wrapping_sub_unsigned(magnitude)));
        }
    }
    // Outside i64: canonical text (the value is non-zero, so the sign is kept).
    let mut text = String::with_capacity(digits + 1);
    if negative {
        text.push('-');
    }
    let significant = body
        .iter()
        .filter(|&&c| c != b'_')
        .skip_while(|&&c| c == b'0');
    text.extend(significant.map(|&c| char::from(c)));
    Some(Value::BigInt(text.into()))
}

/// Python's `float(s)`; `None` where Python raises `ValueError`. Overflow gives ±inf and
/// underflow ±0.0, as in Python.
pub fn py_float(s: &str) -> Option<f64> {
    let ascii = to_ascii(s)?;
    // Byte tests: `str::contains(char)` costs a searcher set-up per short value.
    let ascii = if ascii.as_bytes().contains(&b'_') {
        Cow::Owned(remove_underscores(&ascii)?)
    } else {
        ascii
    };
    let body = ascii.trim_matches(is_ascii_space);
    // After the ASCII mapping, CPython's grammar (sign, digits with an optional point and
    // exponent, or inf/infinity/nan in any case) is exactly what `str::parse` accepts, and
    // both round correctly. Rust also takes no leading/trailing space, hex or `nan(...)`.
    body.parse::<f64>().ok()
}

/// CPython's `_Py_string_to_number_with_underscores`: an underscore must follow and be
/// followed by an ASCII digit, checked over the whole (unstripped) text.
fn remove_underscores(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if c == '_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == '_' && !c.is_ascii_digit() {
                return None;
            }
            out.push(c);
        }
        prev = c;
    }
    (prev != '_').then_some(out)
}

/// `123` or `0.032`: at most 15 ASCII digits, with at most one point between digits. These
/// are most attributes that convert (times, counts, lines), and their value is exact without
/// the general parsers: an integer below 2^53 divided by a power of ten up to 10^22 is
/// correctly rounded by IEEE division (Clinger's fast path, as `str::parse` takes too).
fn plain_decimal(b: &[u8]) -> Option<Value> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let (mut m, mut point) = (0u64, None);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => m = m * 10 + u64::from(c - b'0'),
            b'.' if point.is_none() && i > 0 && i + 1 < b.len() => point = Some(i),
            _ => return None,
        }
    }
    match point {
        None => Some(Value::Int(m as i64)),
        Some(p) => Some(Value::Float(m as f64 / POW10[b.len() - 1 - p])),
    }
}

/// The reference's attribute conversion: `int(v)`, else `float(v)`, else the string.
pub fn convert_attr(s: &str) -> Value {
    convert_number(s).unwrap_or_else(|| Value::Str(s.into()))
}

/// [`convert_attr`] when it gives a number; None when the value stays the string.
#[inline]
pub fn convert_number(s: &str) -> Option<Value> {
    // Most attributes are names and paths: an ASCII letter that starts neither "inf" nor
    // "nan", an underscore or a slash starts no number, so they never reach the call (one
    // table load, where a chain of range tests costs many instructions a value).
    match s.as_bytes().first() {
        Some(&b) if NO_NUMBER_STARTS[usize::from(b)] => None,
        _ => convert_number_full(s),
    }
}

/// The first bytes [`convert_number`] rejects at once.
static NO_NUMBER_STARTS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(
            b as u8,
            b'a'..=b'h'
                | b'j'..=b'm'
                | b'o'..=b'z'
                | b'A'..=b'H'
                | b'J'..=b'M'
                | b'O'..=b'Z'
                | b'_'
                | b'/'
        );
        b += 1;
    }
    table
};

fn convert_number_full(s: &str) -> Option<Value> {
    if let Some(v) = plain_decimal(s.as_bytes()) {
        return Some(v);
    }
    // Most attributes are names ("test_foo", "TestBar"): reject them on their first byte.
    // A leading underscore never parses either; non-ASCII may be a Unicode space or digit.
    let first = s.bytes().find(|&b| !is_ascii_space(char::from(b)));
    let may_be_number = first.is_some_and(
        |b| matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N' | 0x80..=0xff),
    );
    // A word only parses as "inf", "nan" or "infinity" (any case), so longer ones (paths
    // like "inductor/test_x.py", names like "nn.Module") skip the float grammar.
    if matches!(first, Some(b'i' | b'I' | b'n' | b'N'))
        && !matches!(s.trim_matches(py_isspace).len(), 3 | 8)
    {
        return None;
    }
    if may_be_number {
        if let Some(v) = py_int(s) {
            return Some(v);
        }
        if let Some(f) = py_float(s) {
            return Some(Value::Float(f));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, str(int(s)), float(s) as bits, which branch convert_attr takes), from CPython 3.11.7.
    #[rustfmt::skip]
    const CASES: &[(&str, Option<&str>, Option<u64>, u8)] = &[
        ("007", Some("7"), Some(0x401c000000000000), b'i'),
        ("1_000", Some("1000"), Some(0x408f400000000000), b'i'),
        (" 12 ", Some("12"), Some(0x4028000000000000), b'i'),
        ("\t12\n", Some("12"), Some(0x4028000000000000), b'i'),
        ("+5", Some("5"), Some(0x4014000000000000), b'i'),
        ("-0", Some("0"), Some(0x8000000000000000), b'i'),
        ("\u{663}", Some("3"), Some(0x4008000000000000), b'i'),
        ("\u{ff13}", Some("3"), Some(0x4008000000000000), b'i'),
        ("\u{967}\u{968}", Some("12"), Some(0x4028000000000000), b'i'),
        ("\u{1d7d9}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("1e5", None, Some(0x40f86a0000000000), b'f'),
        ("nan", None, Some(0x7ff8000000000000), b'f'),
        ("NaN", None, Some(0x7ff8000000000000), b'f'),
        ("-nan", None, Some(0xfff8000000000000), b'f'),
        ("-Infinity", None, Some(0xfff0000000000000), b'f'),
        ("+inf", None, Some(0x7ff0000000000000), b'f'),
        ("iNf", None, Some(0x7ff0000000000000), b'f'),
        ("INFINITY", None, Some(0x7ff0000000000000), b'f'),
        ("infinity", None, Some(0x7ff0000000000000), b'f'),
        ("infinit", None, None, b's'),
        (" nan\u{2003}", None, Some(0x7ff8000000000000), b'f'),
        ("\u{2003}Infinity\u{a0}", None, Some(0x7ff0000000000000), b'f'),
        ("\tinf\u{a0}", None, Some(0x7ff0000000000000), b'f'),
        ("inductor/test_x.py", None, None, b's'),
        ("nn.Module", None, None, b's'),
        ("nan0", None, None, b's'),
        ("nan(1)", None, None, b's'),
        ("inf_", None, None, b's'),
        ("n", None, None, b's'),
        ("1e400", None, Some(0x7ff0000000000000), b'f'),
        ("-1e400", None, Some(0xfff0000000000000), b'f'),
        ("1e-400", None, Some(0x0000000000000000), b'f'),
        ("0x10", None, None, b's'),
        ("0b1", None, None, b's'),
        ("True", None, None, b's'),
        ("", None, None, b's'),
        ("   ", None, None, b's'),
        ("\t\n", None, None, b's'),
        ("1,234.5", None, None, b's'),
        ("1__0", None, None, b's'),
        ("_1", None, None, b's'),
        ("1_", None, None, b's'),
        ("-_1", None, None, b's'),
        ("1_0.5", None, Some(0x4025000000000000), b'f'),
        ("1.5_", None, None, b's'),
        ("1_.5", None, None, b's'),
        ("1._5", None, None, b's'),
        ("1e_5", None, None, b's'),
        ("1_e5", None, None, b's'),
        ("1e1_0", None, Some(0x4202a05f20000000), b'f'),
        ("1.5e-5_0", None, Some(0x359672dbb81f8a17), b'f'),
        ("0_0.0_0", None, Some(0x0000000000000000), b'f'),
        ("123456789012345678901234567890", Some("123456789012345678901234567890"), Some(0x45f8ee90ff6c373e), b'i'),
        ("-123456789012345678901234567890", Some("-123456789012345678901234567890"), Some(0xc5f8ee90ff6c373e), b'i'),
        ("000123456789012345678901234567890", Some("123456789012345678901234567890"), Some(0x45f8ee90ff6c373e), b'i'),
        ("9223372036854775807", Some("9223372036854775807"), Some(0x43e0000000000000), b'i'),
        ("9223372036854775808", Some("9223372036854775808"), Some(0x43e0000000000000), b'i'),
        ("-9223372036854775808", Some("-9223372036854775808"), Some(0xc3e0000000000000), b'i'),
        ("-9223372036854775809", Some("-9223372036854775809"), Some(0xc3e0000000000000), b'i'),
        ("18446744073709551615", Some("18446744073709551615"), Some(0x43f0000000000000), b'i'),
        ("18446744073709551616", Some("18446744073709551616"), Some(0x43f0000000000000), b'i'),
        ("-18446744073709551616", Some("-18446744073709551616"), Some(0xc3f0000000000000), b'i'),
        ("99999999999999999999", Some("99999999999999999999"), Some(0x4415af1d78b58c40), b'i'),
        ("0.1", None, Some(0x3fb999999999999a), b'f'),
        (".5", None, Some(0x3fe0000000000000), b'f'),
        ("5.", None, Some(0x4014000000000000), b'f'),
        ("+.5", None, Some(0x3fe0000000000000), b'f'),
        ("-.5e-3", None, Some(0xbf40624dd2f1a9fc), b'f'),
        (".", None, None, b's'),
        (".e5", None, None, b's'),
        ("e5", None, None, b's'),
        ("1e", None, None, b's'),
        ("1e+", None, None, b's'),
        ("1E5", None, Some(0x40f86a0000000000), b'f'),
        ("1e+05", None, Some(0x40f86a0000000000), b'f'),
        ("1E+05", None, Some(0x40f86a0000000000), b'f'),
        ("1e0000000000000000000000000005", None, Some(0x40f86a0000000000), b'f'),
        ("1e99999999999999999999999", None, Some(0x7ff0000000000000), b'f'),
        ("0e99999999999999999999", None, Some(0x0000000000000000), b'f'),
        ("10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e-400", None, Some(0x3ff0000000000000), b'f'),
        ("\u{a0}1\u{a0}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("\u{2000}1\u{3000}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("\u{85}1\u{85}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("\u{1680}1", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("1\u{2028}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("1\u{1f}", None, None, b's'),
        ("\u{1c}1", None, None, b's'),
        ("1\u{b}", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("\u{c}1\r", Some("1"), Some(0x3ff0000000000000), b'i'),
        ("1\u{0}", None, None, b's'),
        ("1\u{7f}", None, None, b's'),
        ("test_foo", None, None, b's'),
        ("TestBar", None, None, b's'),
        // The letters around i and n, on both sides of the first-byte filter.
        ("e5", None, None, b's'),
        ("h1", None, None, b's'),
        ("j1", None, None, b's'),
        ("m1", None, None, b's'),
        ("o1", None, None, b's'),
        ("H1", None, None, b's'),
        ("O1", None, None, b's'),
        ("/1", None, None, b's'),
        ("Inf", None, Some(0x7ff0000000000000), b'f'),
        ("nAn", None, Some(0x7ff8000000000000), b'f'),
        ("test/foo.py", None, None, b's'),
        ("0.123", None, Some(0x3fbf7ced916872b0), b'f'),
        ("12.5s", None, None, b's'),
        ("1 2", None, None, b's'),
        ("- 1", None, None, b's'),
        ("+-1", None, None, b's'),
        ("--1", None, None, b's'),
        ("0_0", Some("0"), Some(0x0000000000000000), b'i'),
        ("00", Some("0"), Some(0x0000000000000000), b'i'),
        ("0", Some("0"), Some(0x0000000000000000), b'i'),
        ("-00", Some("0"), Some(0x8000000000000000), b'i'),
        ("1.0", None, Some(0x3ff0000000000000), b'f'),
        ("\u{2212}1", None, None, b's'),
        ("\u{661}.\u{662}", None, Some(0x3ff3333333333333), b'f'),
        ("\u{661}e\u{661}", None, Some(0x4024000000000000), b'f'),
        ("\u{661}\u{66b}\u{665}", None, None, b's'),
        ("1\u{a0}.5", None, None, b's'),
        ("\u{e9}1", None, None, b's'),
        ("1d5", None, None, b's'),
        ("1.5f", None, None, b's'),
        ("0x1p3", None, None, b's'),
        ("1e5.0", None, None, b's'),
        ("1.2.3", None, None, b's'),
        ("12_345_678", Some("12345678"), Some(0x41678c29c0000000), b'i'),
        (" _1", None, None, b's'),
        ("1_ ", None, None, b's'),
        (" 1_0 ", Some("10"), Some(0x4024000000000000), b'i'),
    ];

    fn expected_int(text: &str) -> Value {
        text.parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::BigInt(text.into()))
    }

    fn same_float(got: f64, want_bits: u64) -> bool {
        let want = f64::from_bits(want_bits);
        if want.is_nan() {
            got.is_nan()
        } else {
            got.to_bits() == want_bits
        }
    }

    #[test]
    fn py_int_matches_cpython() {
        for &(input, int, _, _) in CASES {
            assert_eq!(py_int(input), int.map(expected_int), "int({input:?})");
        }
    }

    #[test]
    fn py_float_matches_cpython() {
        for &(input, _, float, _) in CASES {
            match (py_float(input), float) {
                (Some(got), Some(want)) => assert!(
                    same_float(got, want),
                    "float({input:?}) = {got:?}, want {:?}",
                    f64::from_bits(want)
                ),
                (got, want) => assert_eq!(got.is_some(), want.is_some(), "float({input:?})"),
            }
        }
    }

    /// The plain-decimal shortcut gives what int() then float() give, bit for bit.
    #[test]
    fn plain_decimals_match_the_general_parsers() {
        let mut rng = testscope_gen::rng::Rng::new(0x2545_f491_4f6c_dd1du64);
        let mut next = || rng.next_u64();
        let mut inputs: Vec<String> = [
            "0",
            "0.0",
            "0.000",
            "007",
            "1.5",
            "9007199254740993",
            "999999999999999.9",
            "0.000000000000001",
            "123456789012345",
            ".5",
            "5.",
            "1..2",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..20_000 {
            let len = 1 + (next() % 17) as usize;
            let mut s: String = (0..len)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            if next() % 4 != 0 {
                let at = (next() as usize) % (len + 1);
                s.insert(at, '.');
            }
            inputs.push(s);
        }
        let (mut ints, mut floats) = (0, 0);
        for s in inputs {
            let slow = py_int(&s).or_else(|| py_float(&s).map(Value::Float));
            if let Some(fast) = plain_decimal(s.as_bytes()) {
                match fast {
                    Value::Int(_) => ints += 1,
                    _ => floats += 1,
                }
                match (&fast, &slow) {
                    (Value::Float(a), Some(Value::Float(b))) => {
                        assert_eq!(a.to_bits(), b.to_bits(), "{s:?}")
                    }
                    _ => assert_eq!(Some(fast), slow, "{s:?}"),
                }
            }
        }
        assert!(
            ints > 1_000 && floats > 5_000,
            "the shortcut is taken ({ints}, {floats})"
        );
    }

    #[test]
    fn convert_attr_matches_cpython() {
        for &(input, int, float, kind) in CASES {
            let got = convert_attr(input);
            match (kind, got) {
                (b'i', got) => assert_eq!(got, expected_int(int.unwrap()), "{input:?}"),
                (b'f', Value::Float(f)) => assert!(same_float(f, float.unwrap()), "{input:?}"),
                (b's', Value::Str(s)) => assert_eq!(&*s, input),
                (kind, got) => panic!("{input:?}: kind {} but got {got:?}", kind as char),
            }
        }
    }

    /// CPython 3.11 counts every digit (leading zeros too, not sign, underscores or spaces)
    /// against the 4300-digit limit; float() has no limit.
    #[test]
    fn int_max_str_digits() {
        let ones = |n: usize| "1".repeat(n);
        let big = |s: String| Some(Value::BigInt(s.into()));
        assert_eq!(py_int(&ones(4300)), big(ones(4300)));
        assert_eq!(py_int(&format!("+{}", ones(4300))), big(ones(4300)));
        assert_eq!(py_int(&format!(" {} ", ones(4300))), big(ones(4300)));
        assert_eq!(
            py_int(&format!("-{}", ones(4300))),
            big(format!("-{}", ones(4300)))
        );
        assert_eq!(py_int(&format!("{}1", "1_".repeat(4299))), big(ones(4300)));
        assert_eq!(
            py_int(&format!("-{}", "0".repeat(4300))),
            Some(Value::Int(0))
        );
        assert_eq!(py_int(&ones(4301)), None);
        assert_eq!(py_int(&format!("{}1", "1_".repeat(4300))), None);
        assert_eq!(py_int(&"0".repeat(4301)), None);
        assert_eq!(py_int(&format!("{}1", "0".repeat(4300))), None);

        assert_eq!(convert_attr(&ones(4301)), Value::Float(f64::INFINITY));
        assert_eq!(convert_attr(&"0".repeat(4301)), Value::Float(0.0));
        assert_eq!(
            convert_attr(&format!("{}1", "0".repeat(4300))),
            Value::Float(1.0)
        );
        assert_eq!(
            py_float(&format!("{}.5", "1".repeat(5000))),
            Some(f64::INFINITY)
        );
        assert_eq!(py_float(&format!("-{}", "0".repeat(4300))), Some(-0.0));
    }

    #[test]
    fn unicode_digit_table() {
        assert_eq!(unicode_decimal('0'), Some(0));
        assert_eq!(unicode_decimal('9'), Some(9));
        assert_eq!(unicode_decimal('/'), None);
        assert_eq!(unicode_decimal(':'), None);
        assert_eq!(unicode_decimal('\u{665}'), Some(5));
        assert_eq!(unicode_decimal('\u{1d7ff}'), Some(9));
        assert_eq!(unicode_decimal('\u{1fbf9}'), Some(9));
        assert_eq!(unicode_decimal('\u{1fbfa}'), None);
        assert_eq!(unicode_decimal('\u{10ffff}'), None);
        assert_eq!(unicode_decimal('a'), None);
    }

    /// `[c for c in range(0x110000) if chr(c).isspace()]` in CPython 3.11.7.
    #[test]
    fn py_isspace_matches_str_isspace() {
        #[rustfmt::skip]
        const SPACES: [u32; 29] = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000,
            0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
            0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
        ];
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(py_isspace(c), SPACES.contains(&u32::from(c)), "{c:?}");
        }
    }

    /// Every non-ASCII `str.isspace` character is stripped (CPython maps it to a space);
    /// the ASCII separators `\x1c`..`\x1f` are not, though `str.isspace` accepts them.
    #[test]
    fn whitespace_set() {
        let unicode = [
            '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
            '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200a}',
            '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
        ];
        for c in unicode
            .into_iter()
            .chain([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
        {
            let s = format!("{c}1{c}");
            assert_eq!(py_int(&s), Some(Value::Int(1)), "{s:?}");
            assert_eq!(py_float(&s), Some(1.0), "{s:?}");
        }
        for c in [
            '\x1c', '\x1d', '\x1e', '\x1f', '\u{200b}', '\u{feff}', '\u{180e}',
        ] {
            let s = format!("{c}1");
            assert_eq!(py_int(&s), None, "{s:?}");
            assert_eq!(py_float(&s), None, "{s:?}");
            assert_eq!(convert_attr(&s), Value::Str(s.as_str().into()));
        }
    }
}
