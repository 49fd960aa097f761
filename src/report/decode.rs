//! Bytes of a report file -> the UTF-8 text an XML parser sees, the way expat prepares it:
//! byte-order marks and encoding declarations honoured (UTF-8, UTF-16, ISO-8859-1, ASCII,
//! Windows-1252, ISO-8859-15, under the names Python's codec registry knows them by),
//! line endings normalised to `\n`, and characters XML 1.0 forbids rejected.

use std::borrow::Cow;

use super::XmlError;

/// Decode `bytes` into normalised UTF-8 text.
pub fn decode_document(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(utf16(rest, u16::from_le_bytes)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(utf16(rest, u16::from_be_bytes)?)
    } else if bytes.starts_with(b"<\0?\0") {
        Cow::Owned(utf16(bytes, u16::from_le_bytes)?)
    } else if bytes.starts_with(b"\0<\0?") {
        Cow::Owned(utf16(bytes, u16::from_be_bytes)?)
    } else {
        // A UTF-8 byte-order mark does not override the declaration: expat skips the mark
        // and then decodes with the declared encoding (so a BOM plus `ISO-8859-1` is Latin-1).
        let (body, base) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (rest, 3),
            None => (bytes, 0),
        };
        match declared_encoding(body).as_deref().map(Encoding::named) {
            None | Some(Some(Encoding::Utf8)) => Cow::Borrowed(utf8(body, base)?),
            Some(Some(Encoding::Latin1)) => Cow::Owned(body.iter().map(|&b| b as char).collect()),
            Some(Some(Encoding::Ascii)) => {
                if let Some(pos) = body.iter().position(|b| !b.is_ascii()) {
                    return Err(XmlError::at("not well-formed (invalid token)", base + pos));
                }
                Cow::Borrowed(utf8(body, base)?)
            }
            Some(Some(Encoding::Table(upper))) => Cow::Owned(single_byte(body, base, upper)?),
            Some(Some(Encoding::Utf16)) => {
                return Err(XmlError::new(
                    "declared encoding UTF-16 but the file has no UTF-16 byte-order mark",
                ));
            }
            Some(None) => {
                let name = declared_encoding(body).unwrap_or_default();
                return Err(XmlError::new(format!("unsupported encoding {name:?}")));
            }
        }
    };
    check_chars(&text)?;
    Ok(normalise_newlines(text))
}

/// The encodings testscope decodes. The reference also takes any other single-byte codec
/// Python knows (through pyexpat's unknown-encoding handler); those files are reported as
/// unreadable instead.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Utf16,
    Latin1,
    Ascii,
    /// A single-byte code page: the characters of bytes 0x80..=0xFF (`'\u{FFFD}'` where the
    /// byte is undefined, which expat treats as an invalid token).
    Table(&'static [char; 128]),
}

impl Encoding {
    /// Resolve a declared name the way expat (its built-in names) and then Python's codec
    /// registry (lowercased, punctuation runs folded to `_`, then aliases) do.
    fn named(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("utf-16")
            || name.eq_ignore_ascii_case("utf-16le")
            || name.eq_ignore_ascii_case("utf-16be")
        {
            return Some(Self::Utf16);
        }
        let mut norm = String::with_capacity(name.len());
        let mut punct = false;
        for c in name.chars() {
            if c.is_ascii_alphanumeric() || c == '.' {
                if punct && !norm.is_empty() {
                    norm.push('_');
                }
                norm.push(c.to_ascii_lowercase());
                punct = false;
            } else {
                punct = true;
            }
        }
        // Python tries the alias table with and without dots turned into underscores.
        let alt = norm.replace('.', "_");
        let is = |names: &[&str]| names.contains(&norm.as_str()) || names.contains(&alt.as_str());
        Some(if is(UTF8_NAMES) {
            // Python's `utf8` aliases reach expat as a single-byte table where every non-ASCII
            // byte is invalid: the reference only reads ASCII-only files under them, and reads
            // those exactly as UTF-8 does, so UTF-8 is the lenient superset.
            Self::Utf8
        } else if is(LATIN1_NAMES) {
            Self::Latin1
        } else if is(ASCII_NAMES) {
            Self::Ascii
        } else if is(&["cp1252", "1252", "windows_1252"]) {
            Self::Table(&CP1252)
        } else if is(&["iso8859_15", "iso_8859_15", "l9", "latin9"]) {
            Self::Table(&ISO8859_15)
        } else {
            return None;
        })
    }
}

const UTF8_NAMES: &[&str] = &[
    "utf_8",
    "cp65001",
    "u8",
    "utf",
    "utf8",
    "utf8_ucs2",
    "utf8_ucs4",
];
const LATIN1_NAMES: &[&str] = &[
    "latin_1",
    "8859",
    "cp819",
    "csisolatin1",
    "ibm819",
    "iso8859",
    "iso8859_1",
    "iso_8859_1",
    "iso_8859_1_1987",
    "iso_ir_100",
    "l1",
    "latin",
    "latin1",
];
const ASCII_NAMES: &[&str] = &[
    "ascii",
    "646",
    "ansi_x3_4_1968",
    "ansi_x3_4_1986",
    "cp367",
    "csascii",
    "ibm367",
    "iso646_us",
    "iso_646_irv_1991",
    "iso_ir_6",
    "us",
    "us_ascii",
];

/// Windows-1252: Latin-1 with printable characters in place of most C1 controls.
static CP1252: [char; 128] = {
    let mut t = latin1_upper();
    let c1 = [
        '\u{20AC}', '\u{FFFD}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{FFFD}',
        '\u{017D}', '\u{FFFD}', '\u{FFFD}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{FFFD}', '\u{017E}', '\u{0178}',
    ];
    let mut i = 0;
    while i < 32 {
        t[i] = c1[i];
        i += 1;
    }
    t
};

/// ISO-8859-15: Latin-1 with eight letters and the euro sign swapped in.
static ISO8859_15: [char; 128] = {
    let mut t = latin1_upper();
    let swaps = [
        (0xA4, '\u{20AC}'),
        (0xA6, '\u{0160}'),
        (0xA8, '\u{0161}'),
        (0xB4, '\u{017D}'),
        (0xB8, '\u{017E}'),
        (0xBC, '\u{0152}'),
        (0xBD, '\u{0153}'),
        (0xBE, '\u{0178}'),
    ];
    let mut i = 0;
    while i < swaps.len() {
        t[swaps[i].0 - 0x80] = swaps[i].1;
        i += 1;
    }
    t
};

const fn latin1_upper() -> [char; 128] {
    let mut t = ['\0'; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = match char::from_u32(0x80 + i as u32) {
            Some(c) => c,
            None => '\u{FFFD}',
        };
        i += 1;
    }
    t
}

fn single_byte(bytes: &[u8], base: usize, upper: &[char; 128]) -> Result<String, XmlError> {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (i, &b) in bytes.iter().enumerate() {
        let c = if b < 0x80 {
            b as char
        } else {
            upper[usize::from(b - 0x80)]
        };
        if c == '\u{FFFD}' {
            return Err(XmlError::at("not well-formed (invalid token)", base + i));
        }
        out.push(c);
    }
    Ok(out)
}

fn utf8(bytes: &[u8], base: usize) -> Result<&str, XmlError> {
    // simdutf8 validates with AVX2 where the CPU has it (std's check is a sixth of the load
    // of a report); std's gives the error's position.
    simdutf8::basic::from_utf8(bytes).or_else(|_| {
        std::str::from_utf8(bytes)
            .map_err(|e| XmlError::at("not well-formed (invalid UTF-8)", base + e.valid_up_to()))
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, XmlError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(XmlError::new("truncated UTF-16 text"));
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| XmlError::new("invalid UTF-16 (unpaired surrogate)"))
}

/// The `encoding="..."` of a leading XML declaration, lowercased.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"<?xml")?;
    // `<?xml-stylesheet ...?>` is a processing instruction, not the declaration.
    if !head
        .first()
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return None;
    }
    let end = memchr::memmem::find(head, b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].to_ascii_lowercase())
}

/// XML 1.0 forbids C0 controls other than tab, newline and carriage return, and U+FFFE/U+FFFF.
fn check_chars(text: &str) -> Result<(), XmlError> {
    // A prefilter over blocks; only a suspicious block is looked at byte by byte.
    let suspicious = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') | (b == 0xEF);
    let bytes = text.as_bytes();
    let mut start = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            start = unsafe { check_chars_avx2(bytes)? };
        }
        // SAFETY: SSE2 is part of every x86_64 CPU, and each unaligned load reads the 16
        // bytes bytes[start..start + 16], which the loop condition keeps inside `bytes`.
        unsafe {
            let splat = |c: u8| _mm_set1_epi8(c as i8);
            let (below, tab, nl, cr, ef) = (
                splat(0x1F),
                splat(b'\t'),
                splat(b'\n'),
                splat(b'\r'),
                splat(0xEF),
            );
            while start + 16 <= bytes.len() {
                let v = _mm_loadu_si128(bytes.as_ptr().add(start).cast());
                // v <= 0x1F (unsigned), not a tab, newline or CR; or the lead byte 0xEF.
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, below), v);
                let allowed = _mm_or_si128(
                    _mm_cmpeq_epi8(v, tab),
                    _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)),
                );
                let hits = _mm_or_si128(_mm_andnot_si128(allowed, control), _mm_cmpeq_epi8(v, ef));
                if _mm_movemask_epi8(hits) != 0 {
                    check_block(bytes, start, 16)?;
                }
                start += 16;
            }
        }
    }
    const BLOCK: usize = 64;
    for (n, block) in bytes[start..].chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |acc, &b| acc | suspicious(b)) {
            check_block(bytes, start + n * BLOCK, block.len())?;
        }
    }
    Ok(())
}

/// [`check_chars`]' block filter 64 bytes at a time with AVX2 (half the instructions of the
/// SSE2 loop on a report's bytes): checks every whole 64-byte block and returns where the
/// rest begins.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn check_chars_avx2(bytes: &[u8]) -> Result<usize, XmlError> {
    use std::arch::x86_64::*;
    let splat = |c: u8| _mm256_set1_epi8(c as i8);
    let (below, tab, nl, cr, ef) = (
        splat(0x1F),
        splat(b'\t'),
        splat(b'\n'),
        splat(b'\r'),
        splat(0xEF),
    );
    // Bytes <= 0x1F other than tab, newline and CR; or the lead byte 0xEF.
    let suspicious = |v: __m256i| {
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, below), v);
        let allowed = _mm256_or_si256(
            _mm256_cmpeq_epi8(v, tab),
            _mm256_or_si256(_mm256_cmpeq_epi8(v, nl), _mm256_cmpeq_epi8(v, cr)),
        );
        _mm256_or_si256(
            _mm256_andnot_si256(allowed, control),
            _mm256_cmpeq_epi8(v, ef),
        )
    };
    let mut start = 0;
    while start + 64 <= bytes.len() {
        // SAFETY: the two unaligned loads read bytes[start..start + 64], inside `bytes`.
        let (a, b) = unsafe {
            let p = bytes.as_ptr().add(start);
            (
                _mm256_loadu_si256(p.cast()),
                _mm256_loadu_si256(p.add(32).cast()),
            )
        };
        if _mm256_movemask_epi8(_mm256_or_si256(suspicious(a), suspicious(b))) != 0 {
            check_block(bytes, start, 64)?;
        }
        start += 64;
    }
    Ok(start)
}

fn check_block(bytes: &[u8], start: usize, len: usize) -> Result<(), XmlError> {
    for (i, &b) in bytes.iter().enumerate().skip(start).take(len) {
        let bad = match b {
            b'\t' | b'\n' | b'\r' => false,
            0..=0x1F => true,
            // U+FFFE and U+FFFF encode as EF BF BE / EF BF BF.
            0xEF => {
                bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
            }
            _ => false,
        };
        if bad {
            return Err(XmlError::at("not well-formed (invalid token)", i));
        }
    }
    Ok(())
}

/// XML section 2.11: CRLF and lone CR become LF before parsing.
fn normalise_newlines(text: Cow<'_, str>) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b'\r', bytes) else {
        return text;
    };
    // CR and LF are ASCII, so cutting at them keeps every piece valid UTF-8.
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    let mut at = Some(first);
    while let Some(cr) = at {
        out.push_str(&text[from..cr]);
        out.push('\n');
        from = cr + 1;
        if bytes.get(from) == Some(&b'\n') {
            from += 1;
        }
        at = memchr::memchr(b'\r', &bytes[from..]).map(|i| i + from);
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_validation_agrees_with_std() {
        let mut rng = testscope_gen::rng::Rng::new(7);
        let valid: [&[u8]; 3] = [
            b"plain ascii text, long enough to fill a vector ",
            "\u{e9}\u{20ac}\u{1f525}".as_bytes(),
            b"<a b=\"c\"/>",
        ];
        // Overlong, surrogate, past U+10FFFF, truncated, stray continuation, bad lead.
        let invalid: [&[u8]; 6] = [
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xe2\x82",
            b"\x80",
            b"\xff",
        ];
        for _ in 0..20_000 {
            let mut doc = Vec::new();
            let n = rng.below(40);
            // Half the documents get one bad sequence somewhere (or at the very end).
            let bad_at = (rng.below(2) == 0).then(|| rng.below(n + 1));
            for i in 0..=n {
                if bad_at == Some(i) {
                    doc.extend_from_slice(invalid[rng.below(invalid.len())]);
                }
                if i < n {
                    doc.extend_from_slice(valid[rng.below(valid.len())]);
                }
            }
            let want = std::str::from_utf8(&doc).map_err(|e| e.valid_up_to());
            let got = utf8(&doc, 0).map_err(|e| e.to_string());
            match (want, got) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(at), Err(msg)) => assert!(msg.ends_with(&format!("byte {at}")), "{msg}"),
                (a, b) => panic!("{doc:?}: {a:?} vs {b:?}"),
            }
        }
    }

    /// The vector prefilter finds the first bad character wherever it sits in a block.
    #[test]
    fn character_check_agrees_with_a_plain_scan() {
        let naive = |t: &str| {
            t.char_indices()
                .find(|&(_, c)| {
                    matches!(c, '\0'..='\x08' | '\x0b' | '\x0c' | '\x0e'..='\x1f' | '\u{fffe}' | '\u{ffff}')
                })
                .map(|(i, _)| i)
        };
        let mut rng = testscope_gen::rng::Rng::new(11);
        let pieces = [
            "a", "\t", "\n", "\r", "\u{1}", "\u{1f}", "\u{fffe}", "\u{ffff}", "\u{fffd}", "\u{ef}",
            " ", "\u{7f}",
        ];
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..rng.below(200) {
                // Mostly plain text, so bad characters land anywhere in a 16- or 64-byte
                // block, and texts take the AVX2, SSE2 and scalar loops in turn.
                let p = if rng.below(8) == 0 {
                    pieces[rng.below(pieces.len())]
                } else {
                    "x"
                };
                t.push_str(p);
            }
            let got = check_chars(&t).err().map(|e| e.to_string());
            let want = naive(&t).map(|i| format!("not well-formed (invalid token): byte {i}"));
            assert_eq!(got, want, "{t:?}");
        }
    }

    #[test]
    fn utf8_bom_and_crlf() {
        let d = decode_document(b"\xEF\xBB\xBF<a>x\r\ny\rz</a>").unwrap();
        assert_eq!(d, "<a>x\ny\nz</a>");
    }

    #[test]
    fn utf16_with_bom() {
        let s = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>é</a>";
        let mut b = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_document(&b).unwrap(), s);
    }

    #[test]
    fn latin1_declared() {
        let d = decode_document(b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>").unwrap();
        assert_eq!(d, "<?xml version='1.0' encoding='ISO-8859-1'?><a>é</a>");
    }

    #[test]
    fn utf8_bom_then_declared_encoding() {
        let d =
            decode_document(b"\xEF\xBB\xBF<?xml version='1.0' encoding='latin1'?><a>\xc3\xa9</a>")
                .unwrap();
        assert_eq!(
            d,
            "<?xml version='1.0' encoding='latin1'?><a>\u{c3}\u{a9}</a>"
        );
        assert!(
            decode_document(b"\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-16'?><a/>").is_err()
        );
    }

    #[test]
    fn code_pages_by_python_names() {
        let doc = |enc: &str, body: &[u8]| {
            let mut b = format!("<?xml version='1.0' encoding='{enc}'?><a>").into_bytes();
            b.extend_from_slice(body);
            b.extend_from_slice(b"</a>");
            decode_document(&b).map(|d| d.into_owned())
        };
        assert!(
            doc("windows-1252", b"\x80\x9f")
                .unwrap()
                .contains("<a>\u{20ac}\u{178}</a>")
        );
        assert!(doc("CP1252", b"\x81").is_err(), "undefined in cp1252");
        assert!(doc("Latin9", b"\xa4").unwrap().contains("<a>\u{20ac}</a>"));
        assert!(
            doc("ISO_8859-1", b"\x80")
                .unwrap()
                .contains("<a>\u{80}</a>")
        );
        assert!(
            doc("iso-8859-15", b"\xe9")
                .unwrap()
                .contains("<a>\u{e9}</a>")
        );
        assert!(doc("ebcdic-xyz", b"x").is_err());
        assert!(doc("us", b"\xe9").is_err());
    }

    #[test]
    fn stylesheet_pi_is_not_a_declaration() {
        let d = decode_document("<?xml-stylesheet encoding='latin1'?><a>é</a>".as_bytes()).unwrap();
        assert!(d.ends_with("<a>é</a>"));
    }

    #[test]
    fn rejects_controls_and_bad_utf8() {
        assert!(decode_document(b"<a>\x1b[31m</a>").is_err());
        assert!(decode_document(b"<a>\xff</a>").is_err());
        assert!(decode_document("<a>\u{FFFF}</a>".as_bytes()).is_err());
        assert!(decode_document("<a>\u{9b}[31m</a>".as_bytes()).is_ok());
    }
}
