//! One report file -> its test cases, streaming with quick-xml. Reproduces what the
//! reference gets from ElementTree + `process_xml_element`: every `<testcase>` at any depth in
//! document order, attributes converted with Python's int()/float(), `text`/`tail` rules,
//! child coalescing, comments dropped, CDATA merged, entities decoded, namespaces as
//! `{uri}local`. Only testcase subtrees are materialised; the rest is checked and dropped.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::XmlError;
use super::decode::decode_document;
use super::entities::Entities;
use super::pynum::{convert_attr, py_isspace};
use super::value::{Object, Str, Value};

/// Elements nested deeper than this below a testcase make the file unreadable: the reference
/// converts them recursively and dies of Python's recursion limit (1000 frames) long before.
pub const MAX_CASE_DEPTH: usize = 900;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// What the reference sets on every case after converting it (spec section 3.5).
#[derive(Debug, Clone)]
pub struct Enrichment {
    /// The run id exactly as given on the command line (a JSON string).
    pub workflow_id: Str,
    pub attempt: Value,
    /// `Value::Null`, `Value::Int` or `Value::BigInt`.
    pub job_id: Value,
    pub invoking_file: Str,
}

impl Enrichment {
    pub fn apply(&self, case: &mut Object) {
        case.insert("workflow_id", Value::Str(self.workflow_id.clone()));
        case.insert("workflow_run_attempt", self.attempt.clone());
        case.insert("job_id", self.job_id.clone());
        case.insert("invoking_file", Value::Str(self.invoking_file.clone()));
    }
}

/// Parse a whole report; on any well-formedness error no case is returned (the file is
/// unreadable as a whole, as it is for the reference).
pub fn parse_report(bytes: &[u8], enrich: &Enrichment) -> Result<Vec<Object>, XmlError> {
    let text = decode_document(bytes)?;
    let mut cases = Converter::new(&text).run()?;
    for case in &mut cases {
        enrich.apply(case);
    }
    Ok(cases)
}

/// An element of a testcase subtree under construction.
struct Builder {
    tag: Str,
    depth: usize,
    attrs: Object,
    text: String,
    children: Vec<(Str, Object)>,
    /// Index in the case list when this element is itself a `<testcase>`.
    case_slot: Option<usize>,
}

impl Builder {
    /// Python's order: attributes, `text`, `tail`, then children.
    fn finish(self, tail: &str) -> Object {
        let mut obj = self.attrs;
        if has_non_space(&self.text) {
            obj.insert("text", Value::Str(self.text.into()));
        }
        if has_non_space(tail) {
            obj.insert("tail", Value::Str(tail.into()));
        }
        for (tag, child) in self.children {
            obj.insert_child(&tag, Value::Object(child));
        }
        obj
    }
}

/// A built element whose end tag has been read, collecting its tail until the next tag.
struct Pending {
    builder: Builder,
    tail: String,
}

struct Converter<'a> {
    reader: Reader<&'a [u8]>,
    src: &'a str,
    entities: Entities,
    ns: Namespaces,
    depth: usize,
    seen_root: bool,
    builders: Vec<Builder>,
    pending: Option<Pending>,
    cases: Vec<Option<Object>>,
    scratch: String,
}

impl<'a> Converter<'a> {
    fn new(src: &'a str) -> Self {
        let mut reader = Reader::from_str(src);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        Self {
            reader,
            src,
            entities: Entities::new(src.len()),
            ns: Namespaces::new(src.contains("xmlns")),
            depth: 0,
            seen_root: false,
            builders: Vec::new(),
            pending: None,
            cases: Vec::new(),
            scratch: String::new(),
        }
    }

    fn run(mut self) -> Result<Vec<Object>, XmlError> {
        loop {
            let pos = self.reader.buffer_position() as usize;
            let event = self
                .reader
                .read_event()
                .map_err(|e| XmlError::at(e.to_string(), self.reader.error_position() as usize))
                .map_err(|e| e.with_line(self.src))?;
            let step = match event {
                Event::Start(e) => self.start(&e, false),
                Event::Empty(e) => self.start(&e, true),
                Event::End(_) => {
                    self.end();
                    Ok(())
                }
                Event::Text(t) => self.text(&t),
                Event::CData(t) => self.text(&t),
                Event::GeneralRef(r) => self.reference(&r),
                Event::DocType(d) => {
                    if self.seen_root {
                        Err(XmlError::new("DOCTYPE after the root element"))
                    } else {
                        self.entities.declare_from_doctype(&d)
                    }
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) => Ok(()),
                Event::Eof => break,
            };
            step.map_err(|e| e.or_at(pos).with_line(self.src))?;
        }
        self.finalize_pending();
        if self.depth > 0 {
            return Err(XmlError::at("unclosed token", self.src.len()).with_line(self.src));
        }
        if !self.seen_root {
            return Err(XmlError::new("no element found"));
        }
        Ok(self.cases.into_iter().flatten().collect())
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), XmlError> {
        self.finalize_pending();
        if self.depth == 0 {
            if self.seen_root {
                return Err(XmlError::new("junk after document element"));
            }
            self.seen_root = true;
        }
        self.depth += 1;
        self.ns.push(e, self.depth, &mut self.entities)?;
        let tag = self.ns.element_name(e.name().into_inner())?;
        let building = !self.builders.is_empty() || &*tag == "testcase";
        let attrs = self.attributes(e, building)?;
        if building {
            if let Some(outer) = self.builders.iter().find(|b| b.case_slot.is_some())
                && self.depth - outer.depth > MAX_CASE_DEPTH
            {
                return Err(XmlError::new(format!(
                    "elements nested more than {MAX_CASE_DEPTH} deep inside a testcase"
                )));
            }
            let case_slot = (&*tag == "testcase").then(|| {
                self.cases.push(None);
                self.cases.len() - 1
            });
            self.builders.push(Builder {
                tag,
                depth: self.depth,
                attrs,
                text: String::new(),
                children: Vec::new(),
                case_slot,
            });
        }
        if empty {
            self.end();
        }
        Ok(())
    }

    fn end(&mut self) {
        self.finalize_pending();
        if self.builders.last().is_some_and(|b| b.depth == self.depth) {
            let builder = self.builders.pop().expect("checked above");
            self.pending = Some(Pending {
                builder,
                tail: String::new(),
            });
        }
        self.ns.pop(self.depth);
        self.depth -= 1;
    }

    /// A tag ends the tail of the element closed before it.
    fn finalize_pending(&mut self) {
        let Some(Pending { builder, tail }) = self.pending.take() else {
            return;
        };
        let tag = builder.tag.clone();
        let slot = builder.case_slot;
        let obj = builder.finish(&tail);
        match (slot, self.builders.last_mut()) {
            (Some(i), Some(parent)) => {
                self.cases[i] = Some(obj.clone());
                parent.children.push((tag, obj));
            }
            (Some(i), None) => self.cases[i] = Some(obj),
            (None, Some(parent)) => parent.children.push((tag, obj)),
            (None, None) => unreachable!("only testcase subtrees are built"),
        }
    }

    fn push_text(&mut self, s: &str) {
        if let Some(p) = &mut self.pending {
            p.tail.push_str(s);
        } else if let Some(b) = self.builders.last_mut() {
            // Text after a child always lands in that child's pending tail, so this is the
            // text before the first child.
            b.text.push_str(s);
        }
    }

    fn text(&mut self, raw: &str) -> Result<(), XmlError> {
        if self.depth == 0 && has_non_space_xml(raw) {
            return Err(XmlError::new(if self.seen_root {
                "junk after document element"
            } else {
                "syntax error"
            }));
        }
        if self.pending.is_some() || !self.builders.is_empty() {
            self.push_text(raw);
        }
        Ok(())
    }

    fn reference(&mut self, name: &str) -> Result<(), XmlError> {
        if self.depth == 0 {
            return Err(XmlError::new("junk after document element"));
        }
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let r = self.entities.resolve_into(name, &mut out, false);
        if r.is_ok() {
            self.push_text(&out);
        }
        self.scratch = out;
        r
    }

    /// Attributes in document order, converted; namespace declarations left out (ElementTree
    /// consumes them). Checked even when not kept, since a bad one spoils the whole file.
    fn attributes(&mut self, e: &BytesStart<'_>, keep: bool) -> Result<Object, XmlError> {
        let mut obj = Object::new();
        for attr in e.attributes().with_checks(true) {
            let attr = attr.map_err(|err| XmlError::new(err.to_string()))?;
            let key = attr.key.into_inner();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let value = attr_value(&attr.value, &mut self.entities)?;
            if keep {
                let name = self.ns.attribute_name(key)?;
                if obj.contains_key(&name) {
                    return Err(XmlError::new(format!("duplicate attribute {name}")));
                }
                obj.push_unique(name, convert_attr(&value));
            }
        }
        Ok(obj)
    }
}

/// Attribute value normalisation (XML 1.0 section 3.3.3, no DTD types): literal tab and
/// newline become spaces (CR is already gone), references are decoded afterwards so `&#10;`
/// stays a newline.
fn attr_value<'r>(raw: &'r str, entities: &mut Entities) -> Result<Cow<'r, str>, XmlError> {
    if !raw.contains(['&', '<', '\t', '\n']) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<', '\t', '\n']) {
        out.push_str(&rest[..i]);
        match rest.as_bytes()[i] {
            b'<' => return Err(XmlError::new("'<' in an attribute value")),
            b'&' => {
                let semi = rest[i..]
                    .find(';')
                    .ok_or_else(|| XmlError::new("unterminated reference in an attribute"))?;
                entities.resolve_into(&rest[i + 1..i + semi], &mut out, true)?;
                rest = &rest[i + semi + 1..];
                continue;
            }
            _ => out.push(' '),
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// Python's `s.strip()` is non-empty.
fn has_non_space(s: &str) -> bool {
    s.chars().any(|c| !py_isspace(c))
}

/// Outside the root only XML white space may appear.
fn has_non_space_xml(s: &str) -> bool {
    s.bytes()
        .any(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Namespace resolution as expat does it for ElementTree (`{uri}local` names).
struct Namespaces {
    enabled: bool,
    /// (prefix, uri, depth): "" is the default namespace; an empty uri undeclares it.
    bindings: Vec<(Box<str>, Box<str>, usize)>,
}

impl Namespaces {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            bindings: Vec::new(),
        }
    }

    fn push(
        &mut self,
        e: &BytesStart<'_>,
        depth: usize,
        entities: &mut Entities,
    ) -> Result<(), XmlError> {
        if !self.enabled {
            return Ok(());
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|err| XmlError::new(err.to_string()))?;
            let key = attr.key.into_inner();
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(p) if p.starts_with(':') => &p[1..],
                _ => continue,
            };
            let uri = attr_value(&attr.value, entities)?;
            if !prefix.is_empty() && uri.is_empty() {
                return Err(XmlError::new(format!(
                    "cannot undeclare namespace prefix {prefix}"
                )));
            }
            self.bindings
                .push((prefix.into(), uri.as_ref().into(), depth));
        }
        Ok(())
    }

    fn pop(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|b| b.2 >= depth) {
            self.bindings.pop();
        }
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.bindings
            .iter()
            .rev()
            .find(|b| &*b.0 == prefix)
            .map(|b| &*b.1)
    }

    fn element_name(&self, qname: &str) -> Result<Str, XmlError> {
        self.resolve(qname, true)
    }

    fn attribute_name(&self, qname: &str) -> Result<Str, XmlError> {
        self.resolve(qname, false)
    }

    fn resolve(&self, qname: &str, use_default: bool) -> Result<Str, XmlError> {
        match qname.split_once(':') {
            Some((prefix, local)) => match self.lookup(prefix) {
                Some(uri) => Ok(format!("{{{uri}}}{local}").into()),
                None => Err(XmlError::new(format!("unbound prefix in {qname}"))),
            },
            None if use_default => match self.lookup("") {
                Some(uri) if !uri.is_empty() => Ok(format!("{{{uri}}}{qname}").into()),
                _ => Ok(qname.into()),
            },
            None => Ok(qname.into()),
        }
    }
}
