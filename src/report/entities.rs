//! Entity and character references, as expat resolves them for ElementTree: the five
//! predefined entities, `&#N;`/`&#xN;`, and general entities declared in the document's
//! internal DTD subset (expanded, with an amplification limit against "billion laughs").
//! External entities are never fetched: a reference to one is an error, as in the reference.

use std::collections::HashMap;

use super::XmlError;

/// Expansion is refused past this many bytes, or 100x the document, whichever is larger
/// (expat's own defaults: an 8 MiB activation threshold and a factor of 100).
const MIN_EXPANSION_BUDGET: usize = 8 << 20;
const MAX_NESTING: usize = 64;

#[derive(Debug, Default)]
pub struct Entities {
    /// Internal general entities: name -> literal replacement text (references unexpanded).
    internal: HashMap<String, String>,
    /// Declared external entities: referencing one is an error (never resolved).
    external: Vec<String>,
    budget: usize,
}

impl Entities {
    pub fn new(doc_len: usize) -> Self {
        Self {
            budget: MIN_EXPANSION_BUDGET.max(doc_len.saturating_mul(100)),
            ..Self::default()
        }
    }

    /// Read `<!ENTITY name "value">` declarations from a DOCTYPE's content.
    /// The first declaration of a name wins (XML 1.0 section 4.2).
    pub fn declare_from_doctype(&mut self, doctype: &str) -> Result<(), XmlError> {
        let mut rest = doctype;
        while let Some(at) = rest.find("<!ENTITY") {
            rest = rest[at + "<!ENTITY".len()..].trim_start();
            if let Some(after) = rest.strip_prefix('%') {
                // Parameter entities only matter inside the DTD itself; skip the declaration.
                rest = after;
                continue;
            }
            let name_len = rest
                .find(|c: char| c.is_whitespace())
                .ok_or_else(|| XmlError::new("malformed ENTITY declaration"))?;
            let name = &rest[..name_len];
            rest = rest[name_len..].trim_start();
            match rest.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &rest[1..];
                    let end = body
                        .find(q)
                        .ok_or_else(|| XmlError::new("unterminated ENTITY value"))?;
                    let literal = expand_char_refs(&body[..end])?;
                    if literal.contains('<') {
                        return Err(XmlError::new(format!(
                            "entity &{name}; contains markup, which testscope does not expand"
                        )));
                    }
                    self.internal.entry(name.to_string()).or_insert(literal);
                    rest = &body[end + 1..];
                }
                _ => {
                    // SYSTEM / PUBLIC: an external entity.
                    if !self.internal.contains_key(name) {
                        self.external.push(name.to_string());
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolve one reference (the text between `&` and `;`) and append its replacement text.
    /// `in_attribute` applies attribute-value normalisation to literal whitespace in
    /// entity replacement text.
    pub fn resolve_into(
        &mut self,
        name: &str,
        out: &mut String,
        in_attribute: bool,
    ) -> Result<(), XmlError> {
        self.resolve_nested(name, out, in_attribute, 0)
    }

    fn resolve_nested(
        &mut self,
        name: &str,
        out: &mut String,
        in_attribute: bool,
        depth: usize,
    ) -> Result<(), XmlError> {
        if let Some(c) = predefined(name) {
            out.push(c);
            return Ok(());
        }
        if let Some(num) = name.strip_prefix('#') {
            out.push(char_ref(num)?);
            return Ok(());
        }
        let Some(text) = self.internal.get(name).cloned() else {
            return Err(if self.external.iter().any(|e| e == name) {
                XmlError::new(format!(
                    "undefined entity &{name}; (external entities are never resolved)"
                ))
            } else {
                XmlError::new(format!("undefined entity &{name};"))
            });
        };
        if depth >= MAX_NESTING {
            return Err(XmlError::new(format!(
                "recursive entity reference &{name};"
            )));
        }
        let mut rest = text.as_str();
        while let Some(amp) = rest.find('&') {
            self.spend(amp)?;
            push_literal(out, &rest[..amp], in_attribute);
            let semi = rest[amp..]
                .find(';')
                .ok_or_else(|| XmlError::new(format!("malformed reference in entity &{name};")))?;
            let inner = rest[amp + 1..amp + semi].to_string();
            self.resolve_nested(&inner, out, in_attribute, depth + 1)?;
            rest = &rest[amp + semi + 1..];
        }
        self.spend(rest.len())?;
        push_literal(out, rest, in_attribute);
        Ok(())
    }

    fn spend(&mut self, n: usize) -> Result<(), XmlError> {
        self.budget = self.budget.checked_sub(n).ok_or_else(|| {
            XmlError::new("limit on input amplification factor (from DTD and entities) breached")
        })?;
        Ok(())
    }
}

fn push_literal(out: &mut String, s: &str, in_attribute: bool) {
    if in_attribute {
        out.extend(
            s.chars()
                .map(|c| if matches!(c, '\t' | '\n') { ' ' } else { c }),
        );
    } else {
        out.push_str(s);
    }
}

pub fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// `N` or `xN` of `&#N;`: a character XML 1.0 allows.
pub fn char_ref(num: &str) -> Result<char, XmlError> {
    let code = match num.strip_prefix('x') {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).ok()
        }
        None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse().ok(),
        _ => None,
    };
    code.and_then(char::from_u32)
        .filter(|c| is_xml_char(*c))
        .ok_or_else(|| XmlError::new(format!("reference to invalid character number &#{num};")))
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Character references in an entity's literal value are expanded when it is declared.
fn expand_char_refs(literal: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(literal.len());
    let mut rest = literal;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let semi = rest[at..]
            .find(';')
            .ok_or_else(|| XmlError::new("malformed character reference in ENTITY"))?;
        let c = char_ref(&rest[at + 2..at + semi])?;
        // `&` and `<` produced here must stay literal text, not markup: escape them back.
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            c => out.push(c),
        }
        rest = &rest[at + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(dtd: &str, name: &str) -> Result<String, XmlError> {
        let mut e = Entities::new(dtd.len());
        e.declare_from_doctype(dtd)?;
        let mut out = String::new();
        e.resolve_into(name, &mut out, false)?;
        Ok(out)
    }

    #[test]
    fn internal_entities_expand_recursively() {
        let dtd = r#"r [ <!ENTITY a "x&b;y"> <!ENTITY b "&#65;&amp;"> ]"#;
        assert_eq!(expand(dtd, "a").unwrap(), "xA&y");
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut dtd = String::from(r#"r [ <!ENTITY l0 "hahahahahahahahahaha">"#);
        for i in 1..10 {
            let refs = format!("&l{};", i - 1).repeat(10);
            dtd.push_str(&format!(r#" <!ENTITY l{i} "{refs}">"#));
        }
        dtd.push_str(" ]");
        let err = expand(&dtd, "l9").unwrap_err();
        assert!(err.to_string().contains("amplification"), "{err}");
    }

    #[test]
    fn external_and_unknown_entities_are_errors() {
        let dtd = r#"r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]"#;
        assert!(
            expand(dtd, "xxe")
                .unwrap_err()
                .to_string()
                .contains("never resolved")
        );
        assert!(expand(dtd, "nope").is_err());
    }

    #[test]
    fn char_refs() {
        assert_eq!(char_ref("10").unwrap(), '\n');
        assert_eq!(char_ref("x1F525").unwrap(), '\u{1F525}');
        assert!(char_ref("27").is_err());
        assert!(char_ref("xD800").is_err());
        assert!(char_ref("").is_err());
    }
}
