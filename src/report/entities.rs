//! Entity and character references, as expat resolves them for ElementTree: the five
//! predefined entities, `&#N;`/`&#xN;`, and general entities declared in the document's
//! internal DTD subset (expanded, with an amplification limit against "billion laughs").
//! External entities are never fetched: a reference to one is an error, as in the reference.
//!
//! The internal subset is read the way a non-validating expat without parameter-entity
//! parsing reads it (what ElementTree uses): comments and processing instructions are skipped,
//! the first declaration of a name wins, and after a parameter-entity reference later
//! declarations are ignored unless the document is standalone. Where expat would apply a DTD
//! feature testscope does not model (attribute defaults from `<!ATTLIST>`, markup inside an
//! entity used in content), the document is refused rather than converted differently.

use std::collections::HashMap;
use std::rc::Rc;

use super::XmlError;

/// Expansion is refused past this many bytes, or 100x the document, whichever is larger
/// (expat's own defaults: an 8 MiB activation threshold and a factor of 100).
const MIN_EXPANSION_BUDGET: usize = 8 << 20;
/// Entity references nested deeper than this are refused (each level is a stack frame).
const MAX_NESTING: usize = 64;

/// A general entity's declaration.
#[derive(Debug)]
enum Decl {
    /// Replacement text: the literal value with character references expanded; entity
    /// references in it are expanded when it is used.
    Internal(Internal),
    /// `SYSTEM`/`PUBLIC`: never resolved.
    External,
    /// `NDATA`: an unparsed entity, which may not be referenced at all.
    Unparsed,
}

#[derive(Debug)]
struct Internal {
    text: Rc<str>,
    /// Its full expansion, in text (0) and in an attribute value (1), once computed: an
    /// entity used many times ("billion laughs" below the limit) is expanded once.
    expanded: [Option<Rc<str>>; 2],
    /// Being expanded (a reference to it now is recursive).
    open: bool,
}

#[derive(Debug, Default)]
pub struct Entities {
    decls: HashMap<String, Decl>,
    /// `standalone="yes"` in the XML declaration.
    standalone: bool,
    /// The DTD has an external subset or a parameter-entity reference, neither of which is
    /// read: an undeclared entity might have been declared there, so expat lets one pass (as
    /// nothing) in an attribute value unless the document is standalone.
    has_param_entity_refs: bool,
    /// How many entity expansions are open.
    depth: usize,
    budget: usize,
}

impl Entities {
    pub fn new(doc_len: usize) -> Self {
        Self {
            budget: MIN_EXPANSION_BUDGET.max(doc_len.saturating_mul(100)),
            ..Self::default()
        }
    }

    /// Record the XML declaration's `standalone="yes"` (read before the DOCTYPE).
    pub fn set_standalone(&mut self, standalone: bool) {
        self.standalone = standalone;
    }

    /// Read the declarations of a DOCTYPE's content (what follows `<!DOCTYPE`).
    pub fn declare_from_doctype(&mut self, doctype: &str) -> Result<(), XmlError> {
        let mut s = Scanner { rest: doctype };
        s.skip_ws();
        s.name()
            .ok_or_else(|| XmlError::new("syntax error in DOCTYPE: no root element name"))?;
        s.skip_ws();
        if s.external_id()? {
            self.has_param_entity_refs = true;
        }
        s.skip_ws();
        if s.eat("[") {
            self.internal_subset(&mut s)?;
            s.skip_ws();
        }
        if !s.rest.is_empty() {
            return Err(XmlError::new("syntax error in DOCTYPE"));
        }
        Ok(())
    }

    fn internal_subset(&mut self, s: &mut Scanner<'_>) -> Result<(), XmlError> {
        // Declarations after an unread parameter entity may depend on it: expat stops
        // processing them (but still checks their syntax).
        let mut keep_processing = true;
        loop {
            s.skip_ws();
            if s.eat("]") {
                return Ok(());
            } else if s.eat("%") {
                s.name()
                    .filter(|_| s.eat(";"))
                    .ok_or_else(|| XmlError::new("malformed parameter-entity reference"))?;
                self.has_param_entity_refs = true;
                keep_processing &= self.standalone;
            } else if s.eat("<!--") {
                s.skip_past("-->")?;
            } else if s.eat("<?") {
                s.skip_past("?>")?;
            } else if s.eat("<!ENTITY") {
                self.entity_decl(s, keep_processing)?;
            } else if s.eat("<!ATTLIST") {
                s.skip_decl()?;
                if keep_processing {
                    return Err(XmlError::new(
                        "<!ATTLIST> declarations (attribute defaults) are not supported",
                    ));
                }
            } else if s.eat("<!ELEMENT") || s.eat("<!NOTATION") {
                s.skip_decl()?;
            } else {
                return Err(XmlError::new(
                    "syntax error in the DOCTYPE's internal subset",
                ));
            }
        }
    }

    fn entity_decl(&mut self, s: &mut Scanner<'_>, keep: bool) -> Result<(), XmlError> {
        let malformed = || XmlError::new("malformed ENTITY declaration");
        if !s.skip_ws() {
            return Err(malformed());
        }
        let parameter = s.eat("%");
        if parameter && !s.skip_ws() {
            return Err(malformed());
        }
        let name = s.name().ok_or_else(malformed)?;
        if !s.skip_ws() {
            return Err(malformed());
        }
        let decl = if let Some(literal) = s.quoted() {
            Decl::Internal(Internal {
                text: replacement_text(literal)?.into(),
                expanded: [None, None],
                open: false,
            })
        } else if s.external_id()? {
            let spaced = s.skip_ws();
            if spaced && s.eat("NDATA") {
                if parameter || !s.skip_ws() || s.name().is_none() {
                    return Err(malformed());
                }
                Decl::Unparsed
            } else {
                Decl::External
            }
        } else {
            return Err(malformed());
        };
        s.skip_ws();
        if !s.eat(">") {
            return Err(malformed());
        }
        // Parameter entities are never expanded (no parameter-entity parsing), so their
        // declarations matter only for their syntax.
        if keep && !parameter {
            self.decls.entry(name.to_string()).or_insert(decl);
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
        if let Some(c) = predefined(name) {
            out.push(c);
            return Ok(());
        }
        if let Some(num) = name.strip_prefix('#') {
            out.push(char_ref(num)?);
            return Ok(());
        }
        let internal = match self.decls.get_mut(name) {
            Some(Decl::Internal(internal)) => internal,
            Some(Decl::External) => {
                return Err(XmlError::new(if in_attribute {
                    format!("reference to external entity &{name}; in an attribute")
                } else {
                    format!("undefined entity &{name}; (external entities are never resolved)")
                }));
            }
            Some(Decl::Unparsed) => {
                return Err(XmlError::new(format!(
                    "reference to binary entity &{name};"
                )));
            }
            None if in_attribute && self.has_param_entity_refs && !self.standalone => {
                // Possibly declared in the unread external DTD: expat skips it.
                return Ok(());
            }
            None => return Err(XmlError::new(format!("undefined entity &{name};"))),
        };
        let context = usize::from(in_attribute);
        if let Some(done) = internal.expanded[context].clone() {
            self.spend(done.len())?;
            out.push_str(&done);
            return Ok(());
        }
        if internal.open {
            return Err(XmlError::new(format!(
                "recursive entity reference &{name};"
            )));
        }
        if self.depth >= MAX_NESTING {
            return Err(XmlError::new(format!(
                "entity references nested more than {MAX_NESTING} deep at &{name};"
            )));
        }
        if internal.text.contains('<') {
            return Err(XmlError::new(if in_attribute {
                format!("'<' in the replacement text of &{name}; in an attribute")
            } else {
                format!("entity &{name}; contains markup, which testscope does not expand")
            }));
        }
        internal.open = true;
        let text = internal.text.clone();
        self.depth += 1;
        let mut expansion = String::new();
        let r = self.expand(&text, name, &mut expansion, in_attribute);
        self.depth -= 1;
        if let Some(Decl::Internal(internal)) = self.decls.get_mut(name) {
            internal.open = false;
            if r.is_ok() {
                out.push_str(&expansion);
                internal.expanded[context] = Some(expansion.into());
            }
        }
        r
    }

    fn expand(
        &mut self,
        text: &str,
        name: &str,
        out: &mut String,
        in_attribute: bool,
    ) -> Result<(), XmlError> {
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            self.spend(amp)?;
            push_literal(out, &rest[..amp], in_attribute);
            let semi = rest[amp..]
                .find(';')
                .ok_or_else(|| XmlError::new(format!("malformed reference in entity &{name};")))?;
            self.resolve_into(&rest[amp + 1..amp + semi], out, in_attribute)?;
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

/// A cursor over DOCTYPE text.
struct Scanner<'a> {
    rest: &'a str,
}

impl<'a> Scanner<'a> {
    /// Skip XML white space; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let before = self.rest.len();
        self.rest = self.rest.trim_start_matches([' ', '\t', '\n', '\r']);
        self.rest.len() != before
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn name(&mut self) -> Option<&'a str> {
        let len = name_len(self.rest);
        (len > 0).then(|| {
            let (name, rest) = self.rest.split_at(len);
            self.rest = rest;
            name
        })
    }

    /// A quoted literal's content.
    fn quoted(&mut self) -> Option<&'a str> {
        let q = self
            .rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''))?;
        let body = &self.rest[1..];
        let end = body.find(q)?;
        self.rest = &body[end + 1..];
        Some(&body[..end])
    }

    /// `SYSTEM "uri"` or `PUBLIC "id" "uri"`; whether there was one.
    fn external_id(&mut self) -> Result<bool, XmlError> {
        let literals = if self.eat("SYSTEM") {
            1
        } else if self.eat("PUBLIC") {
            2
        } else {
            return Ok(false);
        };
        for _ in 0..literals {
            if !self.skip_ws() || self.quoted().is_none() {
                return Err(XmlError::new("malformed external identifier in the DTD"));
            }
        }
        Ok(true)
    }

    fn skip_past(&mut self, end: &str) -> Result<(), XmlError> {
        let at = self
            .rest
            .find(end)
            .ok_or_else(|| XmlError::new(format!("unterminated markup in the DTD ({end})")))?;
        self.rest = &self.rest[at + end.len()..];
        Ok(())
    }

    /// Skip a declaration to its `>`, stepping over quoted literals.
    fn skip_decl(&mut self) -> Result<(), XmlError> {
        loop {
            let at = self
                .rest
                .find(['>', '"', '\''])
                .ok_or_else(|| XmlError::new("unterminated declaration in the DTD"))?;
            self.rest = &self.rest[at..];
            if self.eat(">") {
                return Ok(());
            }
            self.quoted()
                .ok_or_else(|| XmlError::new("unterminated literal in the DTD"))?;
        }
    }
}

const NAME_START: u8 = 1;
const NAME_CHAR: u8 = 2;

/// What each ASCII byte may be in a name (bytes >= 0x80 are 0: they start a char).
static ASCII_NAME: [u8; 256] = {
    let mut t = [0; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            t[b] = NAME_START | NAME_CHAR;
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[b] = NAME_CHAR;
        }
        b += 1;
    }
    t
};

/// Length of the XML name at the start of `s` (0 when there is none). XML 1.0 fifth
/// edition's wider name characters: everything expat's (older) tables accept passes.
pub(crate) fn name_len(s: &str) -> usize {
    // Names are nearly always ASCII: take that run bytewise, then go on char by char from
    // where it stops (a byte >= 0x80 starts a char; any other stop ends the name).
    let bytes = s.as_bytes();
    let mut len = 0;
    while len < bytes.len() {
        let class = ASCII_NAME[usize::from(bytes[len])];
        if class & if len == 0 { NAME_START } else { NAME_CHAR } == 0 {
            if bytes[len].is_ascii() {
                return len;
            }
            break;
        }
        len += 1;
    }
    if len == bytes.len() {
        return len;
    }
    let start = len;
    for (i, c) in s[start..].char_indices().map(|(i, c)| (i + start, c)) {
        let ok = if i == 0 {
            is_name_start(c)
        } else {
            is_name_start(c)
                || c.is_ascii_digit()
                || matches!(c, '-' | '.' | '\u{B7}')
                || ('\u{300}'..='\u{36F}').contains(&c)
                || ('\u{203F}'..='\u{2040}').contains(&c)
        };
        if !ok {
            break;
        }
        len = i + c.len_utf8();
    }
    len
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, '_' | ':')
        || matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
            | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
            | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
            | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// Attribute-value normalisation of replacement text: each white-space character is a space.
fn push_literal(out: &mut String, s: &str, in_attribute: bool) {
    if in_attribute {
        out.extend(s.chars().map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        }));
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

/// An entity value's replacement text (XML 1.0 section 4.5): character references are
/// expanded now, so what they produce (even `&` or `<`) is read as markup when the entity is
/// used; entity references are checked and kept for then. Parameter-entity references are
/// not allowed in the internal subset.
fn replacement_text(literal: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(literal.len());
    let mut rest = literal;
    while let Some(at) = rest.find(['&', '%']) {
        out.push_str(&rest[..at]);
        if rest[at..].starts_with('%') {
            return Err(XmlError::new(
                "parameter-entity reference in an entity value of the internal subset",
            ));
        }
        let semi = rest[at..]
            .find(';')
            .ok_or_else(|| XmlError::new("malformed reference in an ENTITY value"))?;
        let inner = &rest[at + 1..at + semi];
        if let Some(num) = inner.strip_prefix('#') {
            out.push(char_ref(num)?);
        } else if !inner.is_empty() && name_len(inner) == inner.len() {
            out.push_str(&rest[at..=at + semi]);
        } else {
            return Err(XmlError::new("malformed reference in an ENTITY value"));
        }
        rest = &rest[at + semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_in(dtd: &str, name: &str, in_attribute: bool) -> Result<String, XmlError> {
        let mut e = Entities::new(dtd.len());
        e.declare_from_doctype(dtd)?;
        let mut out = String::new();
        e.resolve_into(name, &mut out, in_attribute)?;
        Ok(out)
    }

    fn expand(dtd: &str, name: &str) -> Result<String, XmlError> {
        expand_in(dtd, name, false)
    }

    #[test]
    fn internal_entities_expand_recursively() {
        let dtd = r#"r [ <!ENTITY a "x&b;y"> <!ENTITY b "&#65;&amp;"> ]"#;
        assert_eq!(expand(dtd, "a").unwrap(), "xA&y");
    }

    #[test]
    fn char_refs_in_values_are_markup_when_used() {
        // `&#38;#38;` declares `&#38;`, which is a reference again when used (as in expat).
        assert_eq!(
            expand(r#"r [<!ENTITY a "x&#38;#38;y">]"#, "a").unwrap(),
            "x&y"
        );
        assert_eq!(expand(r#"r [<!ENTITY a "&#38;lt;">]"#, "a").unwrap(), "<");
        assert!(expand(r#"r [<!ENTITY a "&#38;">]"#, "a").is_err());
        assert!(expand(r#"r [<!ENTITY a "&#60;b/>">]"#, "a").is_err());
        assert!(
            expand(r#"r [<!ENTITY a "a&b">]"#, "x").is_err(),
            "bad value"
        );
        assert!(
            expand(r#"r [<!ENTITY a "50%">]"#, "x").is_err(),
            "PE ref in value"
        );
    }

    #[test]
    fn attribute_normalisation_of_replacement_text() {
        let dtd = "r [<!ENTITY a \"x&#13;y&#9;z\n!\">]";
        assert_eq!(expand_in(dtd, "a", true).unwrap(), "x y z !");
        assert_eq!(expand_in(dtd, "a", false).unwrap(), "x\ry\tz\n!");
    }

    #[test]
    fn dtd_comments_pis_and_first_declaration_wins() {
        let dtd = r#"r [<!-- <!ENTITY a "c"> --><?pi <!ENTITY a "p"> ?><!ENTITY a 'say "hi" >'><!ENTITY a "2">]"#;
        assert_eq!(expand(dtd, "a").unwrap(), "say \"hi\" >");
        let dtd = r#"r [<!ENTITY a SYSTEM "x"><!ENTITY a "later">]"#;
        assert!(
            expand(dtd, "a").is_err(),
            "the external declaration came first"
        );
    }

    #[test]
    fn unread_dtd_parts_let_undeclared_attribute_references_pass() {
        // An external subset: undeclared references in attributes are skipped, in text not.
        let ext = r#"r SYSTEM "x.dtd" [<!ENTITY b "B">]"#;
        assert_eq!(expand_in(ext, "nope", true).unwrap(), "");
        assert!(expand_in(ext, "nope", false).is_err());
        assert_eq!(expand_in(ext, "b", true).unwrap(), "B");
        // After a parameter-entity reference, declarations are ignored.
        let pe = r#"r [<!ENTITY % p SYSTEM "p.dtd"> %p; <!ENTITY b "B">]"#;
        assert_eq!(expand_in(pe, "b", true).unwrap(), "");
        assert!(expand_in(pe, "b", false).is_err());
        // ... and so is an ATTLIST there; one that applies is refused.
        assert!(expand_in(r#"r [%p; <!ATTLIST t x CDATA "d">]"#, "amp", true).is_ok());
        assert!(expand_in(r#"r [<!ATTLIST t x CDATA "d">]"#, "amp", true).is_err());
        // Standalone documents check every reference.
        let mut e = Entities::new(0);
        e.set_standalone(true);
        e.declare_from_doctype(ext).unwrap();
        assert!(e.resolve_into("nope", &mut String::new(), true).is_err());
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
    fn external_recursive_binary_and_unknown_entities_are_errors() {
        let dtd = r#"r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY p PUBLIC "-//x" "http://127.0.0.1/x"> ]"#;
        let msg = |name, attr| expand_in(dtd, name, attr).unwrap_err().to_string();
        assert!(msg("xxe", false).contains("never resolved"));
        assert!(msg("p", false).contains("never resolved"));
        assert!(msg("xxe", true).contains("external entity"));
        assert!(expand(dtd, "nope").is_err());
        let dtd = r#"r [<!NOTATION n SYSTEM "n"><!ENTITY e SYSTEM "e.bin" NDATA n>]"#;
        assert!(expand(dtd, "e").unwrap_err().to_string().contains("binary"));
        let dtd = r#"r [<!ENTITY a "&b;"><!ENTITY b "&a;">]"#;
        assert!(
            expand(dtd, "a")
                .unwrap_err()
                .to_string()
                .contains("recursive")
        );
    }

    #[test]
    fn malformed_doctypes_are_errors() {
        for dtd in [
            "",
            "r [ junk ]",
            r#"r [<!ENTITY a "y" junk>]"#,
            r#"r [<!ENTITY a"y">]"#,
            r#"r [<!ENTITY a "y>]"#,
            r#"r [<!-- open"#,
            r#"r SYSTEM"#,
            r#"r [<!ENTITY a "y">"#,
        ] {
            assert!(Entities::new(0).declare_from_doctype(dtd).is_err(), "{dtd}");
        }
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
