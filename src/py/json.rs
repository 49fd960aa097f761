//! Byte-exact Python `json.dumps` output (default arguments: `ensure_ascii=True`,
//! separators `", "` and `": "`, floats as `repr(float)`), for the report's [`Value`]s.
//! Non-finite floats are written the way the reference's `remove_nan_inf` leaves them: as
//! the strings `"nan"`, `"inf"` and `"-inf"`.

use std::fmt::Write as _;

use super::value::{Object, Value, ValueRef};

/// How each byte is written inside a string literal: 0 copies it, `u` is a `\u00XX`
/// escape, `N` starts a non-ASCII character, anything else follows a backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            // Python escapes everything outside printable ASCII, DEL included.
            0x00..=0x1f | 0x7f => b'u',
            0x80..=0xff => b'N',
            _ => 0,
        };
        b += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string literal exactly as `json.dumps(s)` writes it.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Nearly every name, classname and file needs no escape: one test, one copy. (From 16
    // bytes the loop below costs as little, and scans a text with escapes only once.)
    if bytes.len() < 16 && !has_special(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    // Long texts (tracebacks, stdout) escape a newline or quote every few dozen bytes: each
    // plain run is found in one vector scan and copied whole.
    let mut start = 0;
    loop {
        let mut i = next_special(bytes, start);
        out.extend_from_slice(&bytes[start..i]);
        let Some(&b) = bytes.get(i) else { break };
        match ESCAPE[usize::from(b)] {
            b'u' => {
                write_u16_escape(out, u16::from(b));
                i += 1;
            }
            b'N' => {
                // `i` is always on a character boundary: only whole characters are skipped.
                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                let mut units = [0u16; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    write_u16_escape(out, unit);
                }
                i += c.len_utf8();
            }
            short => {
                out.extend_from_slice(&[b'\\', short]);
                i += 1;
            }
        }
        start = i;
    }
    out.push(b'"');
}

/// The index of the first [`special`] byte of `bytes` at or after `from` (its length when
/// there is none): 16 bytes a step, the last step overlapping the one before.
#[inline]
fn next_special(bytes: &[u8], from: usize) -> usize {
    let n = bytes.len();
    #[cfg(target_arch = "x86_64")]
    if n >= 16 {
        let mut at = from;
        while at + 16 <= n {
            let mask = special_mask(bytes, at);
            if mask != 0 {
                return at + mask.trailing_zeros() as usize;
            }
            at += 16;
        }
        if at >= n {
            return n;
        }
        // The last 16 bytes, of which those before `at` were already seen plain.
        let mask = special_mask(bytes, n - 16) >> (at - (n - 16));
        return if mask != 0 {
            at + mask.trailing_zeros() as usize
        } else {
            n
        };
    }
    bytes[from..]
        .iter()
        .position(|&b| special(b))
        .map_or(n, |k| from + k)
}

/// One bit per byte of `bytes[at..at + 16]`, set where it is [`special`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_mask(bytes: &[u8], at: usize) -> u32 {
    use std::arch::x86_64::*;
    assert!(at + 16 <= bytes.len());
    // SAFETY: SSE2 is part of every x86_64 CPU; the load reads bytes[at..at + 16], checked
    // in bounds just above.
    unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().add(at).cast());
        // Signed: bytes from 0x80 up are negative, so "below space" takes in every non-ASCII
        // byte too.
        let hit = _mm_or_si128(
            _mm_or_si128(
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
            ),
            _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
            ),
        );
        _mm_movemask_epi8(hit) as u32
    }
}

/// Whether any byte of a string shorter than 16 bytes is [`special`]: one or two word
/// tests (the second overlapping the first).
fn has_special(bytes: &[u8]) -> bool {
    debug_assert!(bytes.len() < 16);
    match bytes.len().checked_sub(8) {
        Some(last) => {
            needs_escape(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")))
                || needs_escape(u64::from_le_bytes(
                    bytes[last..].try_into().expect("8 bytes"),
                ))
        }
        // Padded with spaces, built in a register (a copy to the stack and a word load
        // would stall on store forwarding).
        None => needs_escape(
            bytes
                .iter()
                .enumerate()
                .fold(0x2020_2020_2020_2020, |w, (k, &b)| {
                    (w & !(0xff << (8 * k))) | (u64::from(b) << (8 * k))
                }),
        ),
    }
}

/// Whether `json.dumps` escapes the byte: below 0x20, `"`, `\\`, DEL or non-ASCII.
fn special(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0x7f)
}

/// Whether any byte of the word is below 0x20, `"`, `\\`, DEL or non-ASCII (SWAR: the
/// classic has-zero-byte and has-less-than tricks; exact for "any", which is all we need).
fn needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = w.wrapping_sub(LO * 0x20) & !w & HI;
    let quote = has_zero(w ^ (LO * u64::from(b'"')));
    let backslash = has_zero(w ^ (LO * u64::from(b'\\')));
    let del = has_zero(w ^ (LO * 0x7f));
    (below_space | quote | backslash | del | (w & HI)) != 0
}

fn write_u16_escape(out: &mut Vec<u8>, unit: u16) {
    let nibble = |shift: u16| HEX[usize::from((unit >> shift) & 0xf)];
    out.extend_from_slice(&[b'\\', b'u', nibble(12), nibble(8), nibble(4), nibble(0)]);
}

/// A fixed-size `fmt::Write` sink, so formatting a number does not allocate.
struct StackBuf {
    bytes: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Python's `repr(f)` for finite floats; non-finite ones as the strings `"nan"`, `"inf"`,
/// `"-inf"` (what `str(f)` gives, as the reference substitutes before dumping).
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        let text: &[u8] = if f.is_nan() {
            b"\"nan\""
        } else if f > 0.0 {
            b"\"inf\""
        } else {
            b"\"-inf\""
        };
        out.extend_from_slice(text);
        return;
    }
    if write_short_decimal(out, f) {
        return;
    }
    write_float_general(out, f);
}

/// Python's `repr` of a float with few decimals (times like `0.032`, counts like `3.0`),
/// without the general shortest-digits search. For `k` = 0, 1, ... the nearest integer `m`
/// to `|f| * 10^k` is tried: `m / 10^k == |f|` (both exact below 2^53 and 10^22, so the
/// division is correctly rounded, as parsing the text would be) proves `m` with `k`
/// decimals reads back as `f`, and the first `k` that works gives the shortest such text,
/// the nearest one when several are as short. Only for 1e-4 <= |f| < 1e15, where repr
/// uses fixed notation. Returns false (writing nothing) for anything else.
fn write_short_decimal(out: &mut Vec<u8>, f: f64) -> bool {
    const POW10: [f64; 8] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7];
    const POW10_INT: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    let a = f.abs();
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return true;
    }
    if !(1e-4..1e15).contains(&a) {
        return false;
    }
    for k in 0..POW10.len() {
        let scaled = (a * POW10[k]).round();
        if scaled >= 9_007_199_254_740_992.0 {
            return false;
        }
        if scaled / POW10[k] != a {
            continue;
        }
        let m = scaled as u64;
        if f < 0.0 {
            out.push(b'-');
        }
        write_u64(out, m / POW10_INT[k]);
        out.push(b'.');
        if k == 0 {
            out.push(b'0');
        } else {
            let frac = m % POW10_INT[k];
            let mut digits = [b'0'; 8];
            let mut rest = frac;
            for slot in digits[..k].iter_mut().rev() {
                *slot = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            out.extend_from_slice(&digits[..k]);
        }
        return true;
    }
    false
}

/// [`write_float`] for any finite float.
fn write_float_general(out: &mut Vec<u8>, f: f64) {
    // Rust's `{:e}` gives the shortest digits that round-trip (closest to the value when
    // several are as short), as Python's repr does, except on an exact tie (fixed by
    // `round_half_even`); the layout is Python's `format_float_short`.
    let mut buf = StackBuf {
        bytes: [0; 40],
        len: 0,
    };
    // A finite f64 in `{:e}` form is at most 24 bytes, so this cannot fail.
    let _ = write!(buf, "{f:e}");
    let text = &buf.bytes[..buf.len];

    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_pos = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let mut mantissa: u64 = 0;
    let mut n = 0u32;
    for &b in text[..e_pos].iter().filter(|b| b.is_ascii_digit()) {
        mantissa = mantissa * 10 + u64::from(b - b'0');
        n += 1;
    }
    let exp: i32 = std::str::from_utf8(&text[(e_pos + 1).min(text.len())..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let mantissa = round_half_even(f, mantissa, exp - n as i32 + 1);
    let mut digit_buf = [0u8; 20];
    let start = digit_buf.len() - n as usize;
    let mut rest = mantissa;
    for slot in digit_buf[start..].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let digits = &digit_buf[start..];

    if negative {
        out.push(b'-');
    }
    if (-4..16).contains(&exp) {
        // Fixed notation, always with a fractional part (`Py_DTSF_ADD_DOT_0`).
        if exp < 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-exp - 1) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            let int_len = exp as usize + 1;
            if int_len < digits.len() {
                out.extend_from_slice(&digits[..int_len]);
                out.push(b'.');
                out.extend_from_slice(&digits[int_len..]);
            } else {
                out.extend_from_slice(digits);
                out.resize(out.len() + (int_len - digits.len()), b'0');
                out.extend_from_slice(b".0");
            }
        }
    } else {
        // Scientific: `d.ddd` (no `.0` for one digit), then a signed, two-digit-minimum
        // exponent.
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.extend_from_slice(if exp < 0 { b"e-" } else { b"e+" });
        if exp.unsigned_abs() < 10 {
            out.push(b'0');
        }
        write_u64(out, u64::from(exp.unsigned_abs()));
    }
}

/// Rust's shortest digits break an exact tie (the value halfway between two shortest
/// candidates, both of which round-trip) upwards; Python's dtoa picks the even one. Given
/// the digits `mantissa × 10^scale`, return the digits Python writes.
fn round_half_even(f: f64, mantissa: u64, scale: i32) -> u64 {
    if mantissa.is_multiple_of(2) {
        return mantissa;
    }
    // |f| = odd × 2^e exactly.
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e2) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if m == 0 {
        return mantissa;
    }
    let odd = m >> m.trailing_zeros();
    let e = e2 + m.trailing_zeros() as i32;
    // A midpoint is `half × 10^(scale-1)` with `half` ending in 5 (odd), so it equals
    // `half × 5^k × 2^k` with odd part `half × 5^k`: f equals it only if e == k.
    let k = scale - 1;
    if e != k {
        return mantissa;
    }
    let equals = |half: u64| {
        if k >= 0 {
            5u64.checked_pow(k as u32)
                .and_then(|p| p.checked_mul(half))
                .is_some_and(|v| v == odd)
        } else {
            5u64.checked_pow(k.unsigned_abs())
                .and_then(|p| p.checked_mul(odd))
                .is_some_and(|v| v == half)
        }
    };
    // In a real tie both neighbours round-trip at this length, so neither ends in 0 (it
    // would be shorter): the adjusted last digit never becomes 0 or carries.
    if equals(mantissa * 10 - 5) {
        mantissa - 1
    } else if mantissa % 10 != 9 && equals(mantissa * 10 + 5) {
        mantissa + 1
    } else {
        mantissa
    }
}

/// A decimal integer, as Python writes it.
pub fn write_int(out: &mut Vec<u8>, i: i64) {
    if i < 0 {
        out.push(b'-');
    }
    write_u64(out, i.unsigned_abs());
}

fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[pos..]);
}

/// How non-finite floats are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFinite {
    /// As the strings `"nan"`, `"inf"`, `"-inf"`: the reference's `remove_nan_inf` ran first
    /// (test_run_summary, failed_test_runs, test_run).
    Cleaned,
    /// As `NaN`, `Infinity`, `-Infinity`: `json.dumps` defaults on uncleaned data
    /// (the additional_info collections).
    Literal,
}

/// `json.dumps(v)` with default separators; no trailing newline.
pub fn write_value(out: &mut Vec<u8>, v: &Value) {
    write_value_with(out, v, NonFinite::Cleaned);
}

/// [`write_value`] with a choice of how NaN and infinities look.
pub fn write_value_with(out: &mut Vec<u8>, v: &Value, mode: NonFinite) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Str(s) => write_str(out, s),
        Value::Int(i) => write_int(out, *i),
        Value::BigInt(text) => out.extend_from_slice(text.as_bytes()),
        Value::Float(f) if mode == NonFinite::Literal && !f.is_finite() => {
            out.extend_from_slice(non_finite_literal(*f).as_bytes())
        }
        Value::Float(f) => write_float(out, *f),
        Value::List(items) => {
            out.push(b'[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value_with(out, item, mode);
            }
            out.push(b']');
        }
        Value::Object(object) => write_object_with(out, object, mode),
    }
}

/// `json.dumps`'s spelling of a non-finite float.
pub fn non_finite_literal(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// `json.dumps(d)` of a dict, as [`write_value`] writes `Value::Object`.
pub fn write_object(out: &mut Vec<u8>, object: &Object) {
    write_object_with(out, object, NonFinite::Cleaned);
}

/// [`write_object`] with a choice of how NaN and infinities look.
pub fn write_object_with(out: &mut Vec<u8>, object: &Object, mode: NonFinite) {
    write_pairs_with(
        out,
        object.iter().map(|(k, v)| (k, ValueRef::from(v))),
        mode,
    );
}

/// A case's keys and values in order (an object's, or a flat case's) as [`write_object_with`]
/// writes an object.
pub fn write_pairs_with<'a>(
    out: &mut Vec<u8>,
    pairs: impl IntoIterator<Item = (&'a str, ValueRef<'a>)>,
    mode: NonFinite,
) {
    out.push(b'{');
    for (n, (key, value)) in pairs.into_iter().enumerate() {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        write_str(out, key);
        out.extend_from_slice(b": ");
        match value {
            ValueRef::Str(s) => write_str(out, s),
            ValueRef::Other(v) => write_value_with(out, v, mode),
        }
    }
    out.push(b'}');
}

/// A dict key as `json.dumps` writes a non-string key: ints as decimal text, floats as
/// `repr` (or `NaN`/`Infinity`), None as `null`. Strings are written as they are.
pub fn write_key(out: &mut Vec<u8>, key: &Value) {
    let mut text = Vec::new();
    let text: &str = match key {
        Value::Str(s) => s,
        Value::Null => "null",
        Value::Int(_) | Value::BigInt(_) => {
            write_value(&mut text, key);
            std::str::from_utf8(&text).expect("ASCII digits")
        }
        Value::Float(f) if !f.is_finite() => non_finite_literal(*f),
        Value::Float(f) => {
            write_float(&mut text, *f);
            std::str::from_utf8(&text).expect("ASCII digits")
        }
        // The reference raises TypeError here; testscope keys by the value's JSON text.
        Value::List(_) | Value::Object(_) => {
            write_value(&mut text, key);
            std::str::from_utf8(&text).expect("JSON is UTF-8")
        }
    };
    write_str(out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (f64 bits, json.dumps of the value after remove_nan_inf), from CPython 3.11.7.
    #[rustfmt::skip]
    const FLOATS: &[(u64, &str)] = &[
        (0x0000000000000000, "0.0"),
        (0x8000000000000000, "-0.0"),
        (0x3ff0000000000000, "1.0"),
        (0xbff0000000000000, "-1.0"),
        (0x4008000000000000, "3.0"),
        (0x3fe0000000000000, "0.5"),
        (0x3fb999999999999a, "0.1"),
        (0x3fc999999999999a, "0.2"),
        (0x3fd3333333333333, "0.3"),
        (0x3fd3333333333334, "0.30000000000000004"),
        (0x3fd5555555555555, "0.3333333333333333"),
        (0x3fe5555555555555, "0.6666666666666666"),
        (0x4059000000000000, "100.0"),
        (0x430c6bf526340000, "1000000000000000.0"),
        (0x4341c37937e08000, "1e+16"),
        (0xc341c37937e08000, "-1e+16"),
        (0x4376345785d8a000, "1e+17"),
        (0x4480f0cf064dd592, "1e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3ee4f8b588e368f1, "1e-05"),
        (0x3f1a36e2eb1c432d, "0.0001"),
        (0x3f202e4b6ce5dc68, "0.00012345"),
        (0x3f202e85be111841, "0.000123456789"),
        (0x3eef75104d551d69, "1.5e-05"),
        (0x3f1a36e2eb1c432c, "9.999999999999999e-05"),
        (0x43118b54f22aeb00, "1234567890123456.0"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
        (0x4345ee2a2eb5a5c4, "1.2345678901234568e+16"),
        (0x405edd2f1a9fbe77, "123.456"),
        (0x54b249ad2594c37d, "1e+100"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0x0000000000000001, "5e-324"),
        (0x0000000000000002, "1e-323"),
        (0x0010000000000000, "2.2250738585072014e-308"),
        (0x000fffffffffffff, "2.225073858507201e-308"),
        (0x0000000000000001, "5e-324"),
        (0x000012688b70e62b, "1e-310"),
        (0x7fe1ccf385ebc8a0, "1e+308"),
        (0x4340000000000000, "9007199254740992.0"),
        (0x4340000000000001, "9007199254740994.0"),
        (0x43e0000000000000, "9.223372036854776e+18"),
        (0x43f0000000000000, "1.8446744073709552e+19"),
        (0xc3e0000000000000, "-9.223372036854776e+18"),
        (0x0000000000000003, "1.5e-323"),
        (0x3fd3333333333334, "0.30000000000000004"),
        (0x3ff199999999999a, "1.1"),
        (0x4005666666666666, "2.675"),
        (0x3e7ad7f29abcaf48, "1e-07"),
        (0x40fe240c9fbe76c9, "123456.789"),
        (0x3ff0000000000001, "1.0000000000000002"),
        (0x3fefffffffffffff, "0.9999999999999999"),
        (0x4011666666666666, "4.35"),
        (0x3fb1eb851eb851ec, "0.07"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x2b2bff2ee48e0530, "1e-100"),
        (0x44dfe185ca57c517, "6.02214076e+23"),
        (0x390b860bde023111, "6.62607015e-34"),
        (0x400921fb54442d18, "3.141592653589793"),
        (0x4005bf0a8b145769, "2.718281828459045"),
        (0x4028000000000000, "12.0"),
        (0x3ff8000000000000, "1.5"),
        (0x4341c37937e07fff, "9999999999999998.0"),
        (0x4341c37937e08001, "1.0000000000000002e+16"),
        (0x430c6bf52633ffff, "999999999999999.9"),
        (0x4341c37937e08000, "1e+16"),
        (0x43093c77d49ac5aa, "887919972931765.2"),
        (0x42d5a91ac5ca9648, "95264171305561.12"),
        (0x42aea0acab27ffa0, "16837720249343.812"),
        (0x430c6bf526340002, "1000000000000000.2"),
        (0x3fb0000000000000, "0.0625"),
        (0x3f1a302cee759401, "9.99e-05"),
        (0x7ff8000000000000, "\"nan\""),
        (0x7ff0000000000000, "\"inf\""),
        (0xfff0000000000000, "\"-inf\""),
        (0xfff8000000000000, "\"nan\""),
        (0xd1a6e55e9b9b1325, "-2.2239649050108196e+85"),
        (0x566bf9d7c55a45f8, "2.0532095845172635e+108"),
        (0xcf0c26ef4243ed52, "-6.217554322597633e+72"),
        (0x5d96cf7f265beda9, "6.953979603744903e+142"),
        (0xc1d77cffb7decc0c, "-1576271583.481204"),
        (0x5e6a0a2edd70e34d, "6.503171038669016e+146"),
        (0x0463513755ac0ecd, "1.5857673189191353e-287"),
        (0xb37523a53b4a3ee2, "-8.221863336486e-61"),
        (0x4de45321ad915a36, "1.7123553371149197e+67"),
        (0x9823beb1e6ba3ad7, "-2.1638530463091063e-192"),
        (0xdd4eabbd1fcfb980, "-2.9219572677923937e+141"),
        (0x683447c10cc8af11, "9.252761636154696e+193"),
        (0xbfb637dd5bae2d26, "-0.08678992737093391"),
        (0xaed09b824ca87fc2, "-3.419513645011445e-83"),
        (0x158d003d9a0b2361, "7.226450560613817e-205"),
        (0x1ff135342e825ce1, "8.021365036472743e-155"),
        (0x33f5f28807f0cbd4, "2.1852629101185172e-58"),
        (0x00d9f4ad53a2f2b6, "1.4784897218736648e-304"),
        (0x4cc346363c234038, "6.194509959718476e+61"),
        (0xd330a5494d14cf1a, "-5.425245977872505e+92"),
        (0x668dc8f46a423cf9, "1.0124757898277046e+186"),
        (0xd178403035c9a8c4, "-2.944446857366267e+84"),
        (0x765890e0f94855d0, "1.2086749044087354e+262"),
        (0xaf5d8bb09f2e9ea4, "-1.5573811799210805e-80"),
        (0xa9dfdec6baecde5b, "-5.42808465396562e-107"),
        (0x699f071a5fd8e665, "5.937551093150185e+200"),
        (0xf82d5644ef7d9967, "-7.749285522714588e+270"),
        (0xfdfb462fd6fad8db, "-7.134888966143026e+298"),
        (0xdb18bd763f20134c, "-6.859608543352666e+130"),
        (0x0e46c215b5fa5b0c, "6.826063143799301e-240"),
        (0xbf416c30f1f0742a, "-0.0005316962232232482"),
        (0x422acab59248b974, "57535023396.36221"),
        (0x476354b65ed08d6b, "8.02974492705291e+35"),
        (0x3a7cfb366088155f, "5.852726618138463e-27"),
        (0x37c990fad57dcafd, "5.869740909421409e-40"),
        (0x26ad41ef88c279d9, "2.2129413115836295e-122"),
        (0x6dbb8cb8ef65ed78, "3.8900364282728575e+220"),
        (0x0e0bc896afbec9a6, "5.2083625442892846e-241"),
        (0xdd63d2a5d1764460, "-7.553946583906249e+141"),
        (0xda0aea0eaa72870b, "-5.693391869688787e+125"),
        (0x07bda21c604af42a, "2.1911047409340847e-271"),
        (0xd17737815438a5b5, "-2.818911778819916e+84"),
        (0xeee45145f585675f, "-1.5040991579148302e+226"),
        (0x84d0c3f0b2e73ae0, "-1.761642662237934e-285"),
        (0x5c80f9be67fd4c1e, "3.948318576242007e+137"),
        (0xaa5bf36518677db7, "-1.2186953655621338e-104"),
        (0xea394aba6a42ed19, "-4.956084037695639e+203"),
        (0x70faf36fb78eda4f, "1.7138399726928506e+236"),
        (0xca1ab21554c6c4b3, "-9.753929657132168e+48"),
        (0x0f4bf777e1030fe1, "5.49736026339521e-235"),
        (0x908a3e291dd257d5, "-5.409083994422672e-229"),
        (0x2e0126319a72180d, "4.310374302572617e-87"),
        (0xfed5ce26af1ac6da, "-9.345817125499125e+302"),
        (0xcc31d7b90ff191f0, "-1.1200023960706483e+59"),
        (0xf768f221a91b4e9d, "-1.608733339066941e+267"),
        (0x4a66b263ab8474cc, "2.6537167274827663e+50"),
        (0xc689c846b6b81ec6, "-6.53659696798518e+31"),
        (0x535f2002b9f7f89e, "4.0577810885461344e+93"),
        (0x355cca5db3c7b88e, "1.2023470587576948e-51"),
        (0x857ce06bf9a21be1, "-3.107068645161848e-282"),
        (0x02c89680e98c5884, "3.0077087603228884e-295"),
        (0xd6442260559d7e79, "-3.6942359140577326e+107"),
        (0x0473b8248ac03649, "3.2375449474128926e-287"),
        (0x3cc89b41f339a684, "6.8296687940174e-16"),
        (0xd68c20053f91ed95, "-8.256618527360458e+108"),
        (0x5f4e45815c00d3d2, "1.2386307567357675e+151"),
        (0x86f4f14cc599fac7, "-3.7805423472813974e-275"),
        (0xd2e06b36b9ea43d4, "-1.6722847020612747e+91"),
        (0xb2a57e606d09cf94, "-1.0204724682369557e-64"),
        (0x8d1eac030bab1534, "-1.7547066843945634e-245"),
        (0x25609be3c444a62e, "1.1980470828406925e-128"),
        (0xed20eb98ea70df2d, "-4.666325117398886e+217"),
        (0x133945bae4114d10, "4.581939138498141e-216"),
        (0x40ba6f09be38fcbb, "6767.038058816625"),
        (0xd31f0231deef4351, "-2.52662318921421e+92"),
        (0xc8fd442ec56309d2, "-4.0791322597611117e+43"),
        (0x0286ecec43432c6b, "1.7527207115595254e-296"),
        (0xbbb458d39fd583eb, "-4.308640425335931e-21"),
        (0x43e94334742de49b, "1.4562850783828957e+19"),
        (0xf6bd8eca9f374cd6, "-9.307392322080416e+263"),
        (0x2293d03e9e6024cd, "4.062022070616369e-142"),
        (0x3d0d125a162d85c6, "1.2910422558983494e-14"),
        (0xf2e25394dbda118b, "-2.502682641559152e+245"),
        (0x59227301507a4f34, "2.3820272328327517e+121"),
        (0x77a22873705bdd12, "1.8735894823205976e+268"),
        (0x0c67a2cb603c1616, "6.602463791910131e-249"),
        (0x498e0b0d13f8bb73, "2.1439521322200368e+46"),
        (0x2875a2d038ccde1e, "8.785741357774578e-114"),
        (0xe6160abb7e3b9a59, "-5.853651480927078e+183"),
        (0x9d411e83fb7eca2f, "-9.072269124387525e-168"),
        (0x6965c425b110d30a, "5.206546608840113e+199"),
        (0x2f2a44422f862cec, "1.7306754034539922e-81"),
        (0x9f61d62f48f8f164, "-1.623924321558458e-157"),
        (0xbdef9f4b0ecb476f, "-2.3008207092770538e-10"),
        (0xd2e83592e220532f, "-2.465757953328236e+91"),
        (0xe655f6aa8e18a60e, "-9.332536425193007e+184"),
        (0xf4116bb4f69ceaf6, "-1.2472765338908845e+251"),
        (0xb49fe4dd0d2671ef, "-3.2518444921312046e-55"),
        (0xcca243377202aed9, "-1.4673405064521626e+61"),
        (0xcde055b6c1e6c246, "-1.3762058547222976e+67"),
        (0x55ed4a06caf735c5, "8.396832753689505e+105"),
        (0xb1b0b480ac7a0c5d, "-2.420414713325947e-69"),
        (0x12400dfacf737131, "8.882861719087313e-221"),
        (0x5f17603f600fb75e, "1.1956042331965692e+150"),
        (0x6a2a4face3cfe64c, "2.5779130909133272e+203"),
        (0xf1ab87be190afbe8, "-3.5853919352323466e+239"),
        (0x49a7a58cb216749a, "6.749933350342303e+46"),
        (0x5c6cf0c200ae623f, "1.6828037764398228e+137"),
        (0x3173f9f7b59ecf10, "1.8090019352134793e-70"),
        (0x37848b772ac954c3, "2.948032369432856e-41"),
        (0x25c8e40952a69ac0, "1.1490796092503208e-126"),
        (0xe345c182ead5c02a, "-1.6421192759651485e+170"),
        (0xc55cd6e0683d063f, "-1.3945859583353141e+26"),
        (0xbea75defe8cbb19d, "-6.963891379919554e-07"),
        (0xdad51d4e98dc6d62, "-3.658967519946677e+129"),
        (0x58c0d341131d9da7, "3.39428913192744e+119"),
        (0x517f1efe987474ab, "3.7786211929804913e+84"),
        (0xcad8f6bd6ceebb95, "-3.7360307564308767e+52"),
        (0x46978debe82ce7ff, "1.1943490036466539e+32"),
        (0x9f3c55481454929e, "-3.2244590100900925e-158"),
        (0x0a8e9f78fecdeeb7, "7.966739340871635e-258"),
        (0x92a74c3169e00599, "-8.24982784503229e-219"),
        (0x8a356a49798bf36c, "-1.7410271720630623e-259"),
        (0xb849a411a377cf5a, "-1.507036310748598e-37"),
        (0x4c7dae9d4c7497b8, "2.9810797460776853e+60"),
        (0x3ecce515c900bbc0, "3.4445361692040765e-06"),
        (0xb44ac6556a435a0e, "-8.530924608057143e-57"),
        (0x2996b98c8ae407f6, "2.4190322251004694e-108"),
        (0xec073ffed92a2829, "-2.4459613454342636e+212"),
        (0xe19cfa0816c60a7f, "-1.6295451505048296e+162"),
        (0xde83bc134dccef77, "-1.971413634303749e+147"),
        (0x83ab0c1e4dbf539f, "-5.420741783511054e-291"),
        (0x2c5747ba38c91278, "4.359611716351914e-95"),
        (0x6f7fa45fba52fff4, "1.199338635571738e+229"),
        (0x5f20c770621477ba, "1.716387898950201e+150"),
        (0x31643087af6f5ad0, "9.141513511038578e-71"),
        (0xffaf06a5c67977f5, "-1.08935874868455e+307"),
        (0xcaf9a1f46c738235, "-1.5344492247710138e+53"),
        (0xd33cc8deaa68268c, "-9.381658039045774e+92"),
        (0xbe6f3d77765b1f48, "-5.818922836419672e-08"),
        (0x3f108ac506adf2a1, "6.310298492268964e-05"),
        (0x1b227b5101f752bc, "5.70104673390381e-178"),
        (0xfa69b704d6ebf52a, "-4.66778775202687e+281"),
        (0xc961c2115d0a2a43, "-3.168146882536028e+45"),
        (0x224f4790924cfa31, "2.0039762480331486e-143"),
        (0x998b61a250e2e001, "-1.2586009752978635e-185"),
        (0xee8bfa0c5810acfc, "-3.2361158628384686e+224"),
        (0x3cc17d11b7fd3194, "4.854048167861419e-16"),
        (0x743c8bf486e6994b, "8.175461966349917e+251"),
        (0x6d33cb78f009528b, "1.091813112543859e+218"),
        (0x05a7a94b86cf6aba, "2.036727017445762e-281"),
        (0x0fbc218a9faa7001, "7.0779724371702695e-233"),
        (0xb81bdf65cf94926d, "-2.0477587123199986e-38"),
        (0x9dd397a8d0b884f1, "-5.316067167853169e-165"),
        (0x8c43766ac88007a0, "-1.3591698158408592e-249"),
        (0x1b86236bdb153e2b, "4.3705699849444894e-176"),
        (0x2f5ddb2d70701936, "1.5737478532760411e-80"),
        (0x070b98489c8bea5a, "9.96281647977695e-275"),
        (0xed6463180803b5b6, "-8.995845915014364e+218"),
        (0x477bbd87851be906, "2.3045780414834826e+36"),
        (0xd39cea090dd7b1fe, "-6.031284936655228e+94"),
        (0xa7ac12766b748647, "-1.391511843629171e-117"),
        (0x33a07f4e48c8b756, "5.133143848561252e-60"),
        (0x0045a9a2c9608b20, "2.410048718186725e-307"),
        (0xb253be39b972dbea, "-2.9292444155513855e-66"),
        (0x72ffbd06ad77d09f, "8.668446591741557e+245"),
        (0x2f0f168048e468c4, "5.1208553501421406e-82"),
        (0xcc3452832ef936ae, "-1.2756523373945986e+59"),
        (0xdde3aa614163e669, "-1.9184653524331654e+144"),
        (0x6161642dcce67426, "1.2225322939441873e+161"),
        (0xce2f307a0ac92aa6, "-4.2043177095144125e+68"),
        (0x2a4fe771a101eada, "6.955329592859979e-105"),
        (0xf30658609e6aca3c, "-1.2205938937525971e+246"),
        (0x01cd8d9219659889, "5.516149912146525e-300"),
        (0xd6b5b8cec30d2a40, "-5.101481872237726e+109"),
        (0x55b4c0a7f0611ec6, "7.436870855680211e+104"),
        (0x492bca68261c8618, "3.0987612107173503e+44"),
        (0x8f2d28381afde707, "-1.4328404089937382e-235"),
        (0xc344b264d1b7b383, "-1.165129123832807e+16"),
        (0xf069472d53af6946, "-3.1395685816603763e+233"),
        (0x5edd84717f356ed0, "9.4357264259928e+148"),
        (0x582b6309b5d57d97, "5.3954874998664625e+116"),
        (0x40d54a37c79af857, "21800.87155794384"),
        (0x37c77e795f95074c, "5.393966938032224e-40"),
        (0xee8b0ef723820081, "-3.12989551044796e+224"),
        (0xf7d20afa646caacb, "-1.4893682049242218e+269"),
        (0x59855cf792d0de61, "1.7652799482344702e+123"),
        (0x283df607affe1673, "7.6039414470822785e-115"),
        (0x44ad66329d498bbf, "6.941692152543794e+22"),
        (0x02bf0cdde3dcc494, "1.8991073673509549e-295"),
        (0xd85bc7877b89cd35, "-4.3782581052938753e+117"),
        (0x514e4445f00f32da, "4.5936063546648106e+83"),
        (0xe59c396b667db890, "-2.9279287932018223e+181"),
        (0xae83f5d911f2d84d, "-1.2843377194207914e-84"),
        (0xf84cdb1cb53d472c, "-3.048883550553496e+271"),
        (0xa5f153703e68342b, "-6.398798185966227e-126"),
        (0x66e278ffc3f08539, "4.018801730030525e+187"),
        (0x6ee5a69abb1a5fe4, "1.6028049656341184e+226"),
        (0x43a1fbf9e0e3d792, "6.479520310448479e+17"),
        (0xd30a2b04ea3394d7, "-1.0661049307630496e+92"),
        (0x3f67bbf602e6b1a4, "0.0028972439678993257"),
        (0x415f9cfa0771a659, "8287208.116311633"),
        (0x40bec2a9ddce3f75, "7874.663540735714"),
        (0x42ff766741fc996c, "553494383675798.75"),
        (0x423796777accb999, "101308660428.72499"),
        (0xbe3e8748c2761d50, "-7.1079595884341425e-09"),
        (0x41923ca860fbed42, "76491288.24602225"),
        (0x3feb2b0446bacd28, "0.8490010625304523"),
        (0xc1f6edfc88fbdf27, "-6155126927.741981"),
        (0xbf6852d69a87a3df, "-0.0029691878773871884"),
        (0xc132933bc5c2fadb, "-1217339.7725064072"),
        (0xbf4c01473cd6222d, "-0.0008546445694018239"),
        (0x4082c9da557a5c0d, "601.2316083487837"),
        (0xc295b15793f72bdd, "-5962855677386.966"),
        (0xc2d16a504a6aa512, "-76593245039252.28"),
        (0x439683394868a4d2, "4.055508184848928e+17"),
        (0x41fd7bcb0194d81e, "7914434585.302763"),
        (0x3ee0a1c0d59e3412, "7.930683455526322e-06"),
        (0x40c0bcf5c35824c8, "8569.92002393528"),
        (0x4201988c644a6339, "9446722697.298449"),
        (0x3e77410699ff6ac3, "8.662792660934455e-08"),
        (0x405205ce1fd23ebb, "72.0907058289694"),
        (0x42f371facaa5995f, "342084157069717.94"),
        (0x3f41b20e1dfa09db, "0.0005400246554503845"),
        (0x41395b6e241ece0f, "1661806.1410950457"),
        (0x3fb60887f594a722, "0.08606767411825136"),
        (0xc2f5f035c1df0747, "-385943011717236.44"),
        (0xbf739be83902b8db, "-0.004787356491006113"),
        (0xc2d381833c0ca25e, "-85787893838473.47"),
        (0x3ea8506da679bf1d, "7.246188262321105e-07"),
        (0x4306f97a029f05f5, "808343989117118.6"),
        (0x42f54c9f0d4b6e5e, "374701282342629.9"),
        (0x3ec196237cbda787, "2.0964716664255257e-06"),
        (0xc01eba72a61b9fa6, "-7.682077975688946"),
        (0x418fc2613546dd65, "66604070.659601964"),
        (0x4072ace3ad025e0e, "298.805584916351"),
        (0x3f0be6ba333d0382, "5.3217465760819184e-05"),
        (0x3ef293f15e200433, "1.771726773114688e-05"),
        (0x40b0d15663fb6669, "4305.337463104727"),
        (0x4067d16abef8fddd, "190.54428051596815"),
        (0x3f8257e5eb58f331, "0.00895671486352398"),
        (0x3f34d54cc9d5c146, "0.0003178894492839212"),
        (0xc01950030db55649, "-6.328136648362098"),
        (0xc0a09c5d8df0243e, "-2126.1827235264054"),
        (0x41536c8aa00ae9b4, "5091882.500666071"),
        (0x4370b281ed8296be, "7.519793172246832e+16"),
        (0xbfa0e3c6b41c8332, "-0.03298779438615042"),
        (0xc3a9848b20641c65, "-9.193737595544009e+17"),
        (0x3f049caf159d2313, "3.931435885690649e-05"),
        (0x40582e054e4d9679, "96.71907384468967"),
        (0xbed1a27a45bdc109, "-4.204434926311176e-06"),
        (0xc2f94c861120f04f, "-445063319654148.94"),
        (0x43754965ad2d7e1a, "9.586680891020944e+16"),
        (0x43389d3a7c7584ca, "6928273962796234.0"),
        (0x43634d5df30c0502, "4.346472369960757e+16"),
        (0x41134ecb23d99a92, "316338.7850097801"),
        (0xc2e312ea9d2868b9, "-167775732056901.78"),
        (0xc152d9f152c9ba1c, "-4941765.293562438"),
        (0x3fabebfb1414cb20, "0.05453476543552527"),
        (0x3f454dc705d325c0, "0.0006501409331118244"),
        (0x430b0118fe5eaeb6, "950128903706070.8"),
        (0x42eec2b971ebdd24, "270573469916905.12"),
        (0x42e8c65af6348dc4, "217921669407854.12"),
        (0x4310523a99c55047, "1148502817199121.8"),
        (0x4317ee38964d1f5f, "1683962817890263.8"),
        (0x4311f93b852ef5dd, "1264777159228791.2"),
        (0x43146eb36b33653d, "1437804102736207.2"),
        (0x430e87f239ddd6e2, "1074215465499356.2"),
        (0x42e3c3c75cc51ff4, "173852674369791.62"),
        (0x43108a67eeaac19f, "1163944654450791.8"),
        (0x42e3ddbef5c48ad4, "174744899822678.62"),
        (0x42d87362a4f58728, "107535421134364.62"),
        (0x43056fdb78ae5886, "754245365517072.8"),
        (0x431809f957a41c3f, "1691591490733839.8"),
        (0x42de8ae3483ab7a8, "134327469927134.62"),
        (0x42e0f8144765f73c, "149261425258425.88"),
        (0x43059fbcf93346ee, "760826061809885.8"),
        (0x4315d1d66dba62f3, "1535423351265468.8"),
        (0x4312c2921fd6cb5f, "1320120608994007.8"),
        (0x431dcf75ebfad983, "2097719925454432.8"),
    ];

    /// (input, json.dumps(input)), from CPython 3.11.7.
    #[rustfmt::skip]
    const STRS: &[(&str, &str)] = &[
        ("", "\"\""),
        ("plain ascii text", "\"plain ascii text\""),
        ("quote \" and backslash \\", "\"quote \\\" and backslash \\\\\""),
        ("\u{0}\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{e}\u{f}\u{10}\u{11}\u{12}\u{13}\u{14}\u{15}\u{16}\u{17}\u{18}\u{19}\u{1a}\u{1b}\u{1c}\u{1d}\u{1e}\u{1f}", "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""),
        ("\u{7f}", "\"\\u007f\""),
        ("\u{80}", "\"\\u0080\""),
        ("\u{9b}", "\"\\u009b\""),
        ("\u{a0}", "\"\\u00a0\""),
        ("\u{e9}t\u{e9}", "\"\\u00e9t\\u00e9\""),
        ("caf\u{e9}", "\"caf\\u00e9\""),
        ("\u{2028}\u{2029}", "\"\\u2028\\u2029\""),
        ("\u{ffff}", "\"\\uffff\""),
        ("\u{fffd}", "\"\\ufffd\""),
        ("\u{1f600}", "\"\\ud83d\\ude00\""),
        ("a\u{1f600}b", "\"a\\ud83d\\ude00b\""),
        ("\u{10ffff}", "\"\\udbff\\udfff\""),
        ("\u{10000}", "\"\\ud800\\udc00\""),
        ("\u{4e2d}\u{6587}\u{5b57}", "\"\\u4e2d\\u6587\\u5b57\""),
        ("/ slash ~ tilde", "\"/ slash ~ tilde\""),
        ("tab\there\nnewline\r\n", "\"tab\\there\\nnewline\\r\\n\""),
        ("\u{0}", "\"\\u0000\""),
        ("test_foo (__main__.TestBar) \u{2026} \u{d7} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \u{1f4a9} \u{1b}[31mred\u{1b}[0m \"q\" \\ end", "\"test_foo (__main__.TestBar) \\u2026 \\u00d7 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \\ud83d\\udca9 \\u001b[31mred\\u001b[0m \\\"q\\\" \\\\ end\""),
    ];

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn float_matches_python_repr() {
        for &(bits, want) in FLOATS {
            let f = f64::from_bits(bits);
            assert_eq!(text(|o| write_float(o, f)), want, "bits {bits:#018x}");
        }
    }

    /// The short-decimal path writes what the general one writes, or leaves it to it.
    #[test]
    fn short_decimals_match_the_general_path() {
        let mut rng = testscope_gen::rng::Rng::new(0x9e37_79b9_7f4a_7c15u64);
        let mut next = || rng.next_u64();
        let mut floats = vec![
            0.0,
            -0.0,
            1e-4,
            0.0001,
            9.9999e-5,
            1e15,
            999999999999999.9,
            0.1,
            0.3,
        ];
        floats.push(0.1 + 0.2);
        for _ in 0..200_000 {
            // Decimal texts as reports write them, parsed as Python would.
            let digits = next() % 10_000_000_000;
            let decimals = (next() % 9) as i32;
            let text = format!("{}e-{decimals}", digits >> (next() % 34));
            floats.push(text.parse().unwrap());
            // And any bit pattern.
            floats.push(f64::from_bits(next()));
            floats.push(f64::from_bits(next()) % 1000.0);
        }
        let mut taken = 0;
        for f in floats.into_iter().filter(|f| f.is_finite()) {
            let mut fast = Vec::new();
            if write_short_decimal(&mut fast, f) {
                taken += 1;
                let slow = text(|o| write_float_general(o, f));
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    slow,
                    "bits {:#018x}",
                    f.to_bits()
                );
            } else {
                assert!(fast.is_empty());
            }
        }
        assert!(
            taken > 100_000,
            "the short path is taken for typical values ({taken})"
        );
    }

    /// The quick test for a string without escapes, at every length around its block sizes
    /// and with each kind of special byte at each place, against a byte-by-byte escaper.
    #[test]
    fn str_escapes_wherever_the_special_byte_is() {
        let reference = |s: &str| {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    ' '..='~' => out.push(c),
                    _ => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
            out
        };
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_./ -";
        // Two escapes anywhere in strings around the block size: the scan goes on after each.
        for len in 0..40 {
            let base = &plain[..len];
            for a in 0..=len {
                for b in a..=len {
                    let s = format!("{}\n{}é{}", &base[..a], &base[a..b], &base[b..]);
                    assert_eq!(text(|o| write_str(o, &s)), reference(&s), "{s:?}");
                }
            }
        }
        for len in 0..plain.len() {
            let base = &plain[..len];
            assert_eq!(text(|o| write_str(o, base)), reference(base), "{base:?}");
            for special in ["\"", "\\", "\n", "\u{1}", "\u{7f}", "é", "😀", "\u{1f}"] {
                for at in 0..=len {
                    let s = format!("{}{special}{}", &base[..at], &base[at..]);
                    assert_eq!(text(|o| write_str(o, &s)), reference(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn str_matches_json_dumps() {
        for &(input, want) in STRS {
            assert_eq!(text(|o| write_str(o, input)), want, "{input:?}");
        }
    }

    #[test]
    fn ints() {
        for (i, want) in [
            (0, "0"),
            (7, "7"),
            (-7, "-7"),
            (1_000_000, "1000000"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ] {
            assert_eq!(text(|o| write_int(o, i)), want);
        }
    }

    #[test]
    fn value_matches_json_dumps() {
        let obj = |entries: Vec<(&str, Value)>| {
            let mut o = Object::new();
            for (k, v) in entries {
                o.insert(k, v);
            }
            Value::Object(o)
        };
        let s = |t: &str| Value::Str(t.into());
        let skipped = Value::List(vec![
            obj(vec![
                ("message", s("skip \"me\"")),
                ("type", s("pytest.skip")),
            ]),
            s("attr"),
            Value::Float(1e16),
            Value::Float(-0.0),
        ]);
        let nested = obj(vec![
            (
                "a",
                Value::List(vec![
                    Value::Int(1),
                    Value::List(vec![
                        Value::Int(2),
                        Value::List(vec![Value::Float(3.5), obj(vec![])]),
                    ]),
                    s("\u{1f600}"),
                ]),
            ),
            ("\u{2028}", Value::Float(5e-324)),
        ]);
        let doc = obj(vec![
            ("name", s("test_foo")),
            ("classname", s("Test\u{e9}")),
            ("time", Value::Float(0.123)),
            ("line", Value::Int(42)),
            (
                "big",
                Value::BigInt("123456789012345678901234567890".into()),
            ),
            ("neg", Value::BigInt("-9223372036854775809".into())),
            ("nan", Value::Float(f64::NAN)),
            ("inf", Value::Float(f64::INFINITY)),
            ("ninf", Value::Float(f64::NEG_INFINITY)),
            ("none", Value::Null),
            ("empty_list", Value::List(vec![])),
            ("empty_obj", obj(vec![])),
            ("skipped", skipped),
            ("nested", nested),
        ]);
        // json.dumps of the same dict (NaN/inf already replaced by str(f)), CPython 3.11.7.
        let want = "{\"name\": \"test_foo\", \"classname\": \"Test\\u00e9\", \"time\": 0.123, \"line\": 42, \"big\": 123456789012345678901234567890, \"neg\": -9223372036854775809, \"nan\": \"nan\", \"inf\": \"inf\", \"ninf\": \"-inf\", \"none\": null, \"empty_list\": [], \"empty_obj\": {}, \"skipped\": [{\"message\": \"skip \\\"me\\\"\", \"type\": \"pytest.skip\"}, \"attr\", 1e+16, -0.0], \"nested\": {\"a\": [1, [2, [3.5, {}]], \"\\ud83d\\ude00\"], \"\\u2028\": 5e-324}}";
        assert_eq!(text(|o| write_value(o, &doc)), want);
        let Value::Object(object) = &doc else {
            unreachable!()
        };
        assert_eq!(text(|o| write_object(o, object)), want);
    }
}
