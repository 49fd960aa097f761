//! Bytes of a report file -> the UTF-8 text an XML parser sees, the way expat prepares it:
//! byte-order marks and encoding declarations honoured (UTF-8, UTF-16, ISO-8859-1, ASCII),
//! line endings normalised to `\n`, and characters XML 1.0 forbids rejected.

use std::borrow::Cow;

use super::XmlError;

/// Decode `bytes` into normalised UTF-8 text.
pub fn decode_document(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    let text: Cow<'_, str> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(utf8(rest, 3)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(utf16(rest, u16::from_le_bytes)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(utf16(rest, u16::from_be_bytes)?)
    } else if bytes.starts_with(b"<\0?\0") {
        Cow::Owned(utf16(bytes, u16::from_le_bytes)?)
    } else if bytes.starts_with(b"\0<\0?") {
        Cow::Owned(utf16(bytes, u16::from_be_bytes)?)
    } else {
        match declared_encoding(bytes).as_deref() {
            None | Some("utf-8" | "utf8") => Cow::Borrowed(utf8(bytes, 0)?),
            Some("iso-8859-1" | "latin-1" | "latin1" | "iso8859-1" | "l1") => {
                Cow::Owned(bytes.iter().map(|&b| b as char).collect())
            }
            Some("us-ascii" | "ascii") => {
                if let Some(pos) = bytes.iter().position(|b| !b.is_ascii()) {
                    return Err(XmlError::at("not well-formed (invalid token)", pos));
                }
                Cow::Borrowed(utf8(bytes, 0)?)
            }
            Some("utf-16" | "utf-16le" | "utf-16be") => {
                return Err(XmlError::new(
                    "declared encoding UTF-16 but the file has no byte-order mark",
                ));
            }
            Some(other) => {
                return Err(XmlError::new(format!("unsupported encoding {other:?}")));
            }
        }
    };
    check_chars(&text)?;
    Ok(normalise_newlines(text))
}

fn utf8(bytes: &[u8], base: usize) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes)
        .map_err(|e| XmlError::at("not well-formed (invalid UTF-8)", base + e.valid_up_to()))
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, XmlError> {
    if bytes.len() % 2 != 0 {
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
    // A branch-free prefilter over blocks (it vectorises); only a suspicious block is
    // looked at byte by byte.
    let suspicious = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') | (b == 0xEF);
    let bytes = text.as_bytes();
    const BLOCK: usize = 64;
    for (n, block) in bytes.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |acc, &b| acc | suspicious(b)) {
            check_block(bytes, n * BLOCK, block.len())?;
        }
    }
    Ok(())
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
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn rejects_controls_and_bad_utf8() {
        assert!(decode_document(b"<a>\x1b[31m</a>").is_err());
        assert!(decode_document(b"<a>\xff</a>").is_err());
        assert!(decode_document("<a>\u{FFFF}</a>".as_bytes()).is_err());
        assert!(decode_document("<a>\u{9b}[31m</a>".as_bytes()).is_ok());
    }
}
