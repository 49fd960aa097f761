//! One report file -> its test cases, streaming with quick-xml. Reproduces what the
//! reference gets from ElementTree + `process_xml_element`: every `<testcase>` at any depth in
//! document order, attributes converted with Python's int()/float(), `text`/`tail` rules,
//! child coalescing, comments dropped, CDATA merged, entities decoded, namespaces as
//! `{uri}local`. Only testcase subtrees are materialised; the rest is checked and dropped.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::XmlError;
use super::attrs::{self, attr_value};
use super::decode::decode_document;
use super::enrich::Enrichment;
use super::entities::{Entities, name_len};
use super::flat::{FlatBuf, FlatCase, FlatValue};
use super::known::KeyKind;
use super::namespaces::Namespaces;

use super::fields::Fields;
use crate::py::num::{convert_attr, convert_number, py_isspace};
use crate::py::value::{Object, Str, Value};

/// Elements nested deeper than this below a testcase make the file unreadable: the reference
/// converts them recursively and dies of Python's recursion limit (1000 frames) long before.
pub const MAX_CASE_DEPTH: usize = 900;

/// A testcase inside another is converted twice (once as a case, once as a child of the
/// outer one), so nesting multiplies the work: the copies are refused past this many bytes,
/// or 100x the document, whichever is larger (the same bound as entity expansion).
const MIN_COPY_BUDGET: usize = 64 << 20;

/// Objects with more keys than this are assembled through a hash index: attribute and child
/// names are attacker-chosen, and a linear search per key would be quadratic.
const SMALL_OBJECT: usize = 16;

/// Parse a whole report; on any well-formedness error no case is returned (the file is
/// unreadable as a whole, as it is for the reference).
pub fn parse_report(bytes: &[u8], enrich: &Enrichment) -> Result<Vec<Object>, XmlError> {
    let mut cases = parse_cases(bytes)?;
    for case in &mut cases {
        enrich.apply(case);
    }
    Ok(cases)
}

/// [`parse_report`] without the enrichment (see [`Enrichment::write_enriched`]).
pub fn parse_cases(bytes: &[u8]) -> Result<Vec<Object>, XmlError> {
    let text = decode_document(bytes)?;
    Converter::new(&text).run()
}

/// One case of a report as [`parse_cases_each`] hands it over.
pub enum Case<'c> {
    Built(Object),
    /// An empty `<testcase/>` with plain attributes, read without building an object.
    Flat(FlatCase<'c>),
}

impl Case<'_> {
    pub fn into_object(self) -> Object {
        match self {
            Case::Built(o) => o,
            Case::Flat(f) => f.to_object().into_owned(),
        }
    }
}

/// [`parse_cases`] handing each case to `each` in document order as soon as it is complete,
/// flat ones without building them. On an error some cases may have been handed over
/// already: the caller drops what it made of them (the file is unreadable as a whole).
pub fn parse_cases_each(bytes: &[u8], each: &mut dyn FnMut(Case<'_>)) -> Result<(), XmlError> {
    let text = decode_document(bytes)?;
    let mut converter = Converter::new(&text);
    converter.emit = Some(each);
    converter.run_slots().map(drop)
}

/// [`parse_report`] of the cases whose ordinals are in `only` (sorted): only those cases are
/// built, and the reading stops once the last of them is, so this is for files already read
/// whole (an error past that point goes unseen). Indexed by ordinal (None elsewhere, and
/// the vector may end at the last case asked for).
pub fn parse_only(
    bytes: &[u8],
    only: &[u32],
    enrich: &Enrichment,
) -> Result<Vec<Option<Object>>, XmlError> {
    let text = decode_document(bytes)?;
    let mut converter = Converter::new(&text);
    converter.only = Some(only);
    let mut cases = converter.run_slots()?;
    for case in cases.iter_mut().flatten() {
        enrich.apply(case);
    }
    Ok(cases)
}

/// An element of a testcase subtree under construction.
struct Builder {
    tag: Str,
    depth: usize,
    /// Converted attributes in document order (names unique).
    attrs: Vec<(Str, Value)>,
    text: String,
    children: Vec<(Str, Object)>,
    /// Index in the case list when this element is itself a `<testcase>`.
    case_slot: Option<usize>,
    /// Rough size of the subtree in bytes, to bound copies of nested testcases.
    weight: usize,
}

impl Builder {
    /// Python's order: attributes, `text`, `tail`, then children; setting an existing key
    /// keeps its position, and a repeated child name turns the value into a list.
    fn finish(self, tail: &str) -> Object {
        let mut entries = self.attrs;
        let mut index: Option<HashMap<Str, usize>> = None;
        if entries.len() + self.children.len() > SMALL_OBJECT {
            let mut map = HashMap::with_capacity(entries.len() + self.children.len());
            for (i, (k, _)) in entries.iter().enumerate() {
                map.insert(k.clone(), i);
            }
            index = Some(map);
        }
        if has_non_space(&self.text) {
            let v = Value::Str(self.text.into());
            set_entry(&mut entries, &mut index, "text", v, false);
        }
        if has_non_space(tail) {
            set_entry(
                &mut entries,
                &mut index,
                "tail",
                Value::Str(tail.into()),
                false,
            );
        }
        for (tag, child) in self.children {
            set_entry(&mut entries, &mut index, &tag, Value::Object(child), true);
        }
        Object::from_unique(entries)
    }
}

/// `d[key] = value` (an existing key keeps its position), or with `child` the reference's
/// coalescing: a second value for a key makes a list of both, further ones append.
fn set_entry(
    entries: &mut Vec<(Str, Value)>,
    index: &mut Option<HashMap<Str, usize>>,
    key: &str,
    value: Value,
    child: bool,
) {
    let at = match index {
        Some(map) => map.get(key).copied(),
        None => entries.iter().position(|(k, _)| k == key),
    };
    match at {
        None => {
            if let Some(map) = index {
                map.insert(key.into(), entries.len());
            }
            entries.push((key.into(), value));
        }
        Some(i) if child => match &mut entries[i].1 {
            Value::List(items) => items.push(value),
            slot => {
                let first = std::mem::replace(slot, Value::Null);
                *slot = Value::List(vec![first, value]);
            }
        },
        Some(i) => entries[i].1 = value,
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
    /// Sorted ordinals of the only cases to build (None: all); the others are still read
    /// and checked, and counted, but not converted.
    only: Option<&'a [u32]>,
    scratch: String,
    /// Bytes left for copying nested testcases.
    copy_budget: usize,
    /// Offset of the `<` of the tag being handled (attribute errors are relative to it).
    tag_start: usize,
    /// Where cases go as they complete ([`parse_cases_each`]); None: into `cases`.
    emit: Option<&'a mut dyn FnMut(Case<'_>)>,
    /// The flat case read last, waiting for its tail (`pending_flat`).
    flat: FlatBuf,
    flat_tail: String,
    pending_flat: bool,
    /// Bytes [`Self::skip_flat_case`] moved the reader past: its offsets lag by this much.
    skipped: usize,
    /// The attribute names of the flat case read last.
    template: attrs::Template,
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
            // memmem is vectorised; str::contains scans with Two-Way.
            ns: Namespaces::new(memchr::memmem::find(src.as_bytes(), b"xmlns").is_some()),
            depth: 0,
            seen_root: false,
            builders: Vec::new(),
            pending: None,
            cases: Vec::new(),
            only: None,
            scratch: String::new(),
            copy_budget: MIN_COPY_BUDGET.max(src.len().saturating_mul(100)),
            tag_start: 0,
            emit: None,
            flat: FlatBuf::default(),
            flat_tail: String::new(),
            pending_flat: false,
            skipped: 0,
            template: attrs::Template::default(),
        }
    }

    fn run(self) -> Result<Vec<Object>, XmlError> {
        Ok(self.run_slots()?.into_iter().flatten().collect())
    }

    fn run_slots(mut self) -> Result<Vec<Option<Object>>, XmlError> {
        loop {
            while self.flat_ready() && self.skip_flat_case()? {}
            let pos = self.reader.buffer_position() as usize + self.skipped;
            let event = self
                .reader
                .read_event()
                .map_err(|e| {
                    XmlError::at(
                        e.to_string(),
                        self.reader.error_position() as usize + self.skipped,
                    )
                })
                .map_err(|e| e.with_line(self.src))?;
            self.tag_start = pos;
            let step = match event {
                Event::Start(e) => self.start(&e, false),
                Event::Empty(e) => self.start(&e, true),
                Event::End(_) => self.end(),
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
                Event::Decl(_) if self.src[pos..].find("<?").map_or(pos, |i| pos + i) != 0 => {
                    // expat (and so PyTorch's script) refuses a declaration after anything,
                    // even a blank line: the whole file is unreadable.
                    Err(XmlError::at(
                        "XML or text declaration not at start of entity",
                        self.src[pos..].find("<?").map_or(pos, |i| pos + i),
                    ))
                }
                Event::Decl(d) => {
                    // Only `standalone="yes"` changes how entity references are checked.
                    let standalone = d.standalone().and_then(Result::ok);
                    self.entities
                        .set_standalone(standalone.as_deref() == Some("yes"));
                    Ok(())
                }
                Event::Comment(_) | Event::PI(_) => Ok(()),
                Event::Eof => break,
            };
            step.map_err(|e| e.or_at(pos).with_line(self.src))?;
            if self.only_done() {
                return Ok(self.cases);
            }
        }
        self.finalize_pending()?;
        if self.depth > 0 {
            return Err(XmlError::at("unclosed token", self.src.len()).with_line(self.src));
        }
        if !self.seen_root {
            return Err(XmlError::new("no element found"));
        }
        Ok(self.cases)
    }

    /// Whether every case asked for by [`parse_only`] is built, and nothing is under way:
    /// the rest of the document cannot change them. (The file was read whole when the run
    /// loaded; this re-reads it for a few of its cases.)
    fn only_done(&self) -> bool {
        self.only.and_then(<[u32]>::last).is_some_and(|&last| {
            self.cases.len() > last as usize
                && self.builders.is_empty()
                && self.pending.is_none()
                && !self.pending_flat
        })
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), XmlError> {
        self.finalize_pending()?;
        if self.depth == 0 {
            if self.seen_root {
                return Err(XmlError::new("junk after document element"));
            }
            self.seen_root = true;
        }
        self.depth += 1;
        check_name(e.name().into_inner(), self.tag_start + 1)?;
        self.ns
            .push(e, self.depth, &mut self.entities, self.tag_start)?;
        let tag = self.ns.element_name(e.name().into_inner())?;
        if empty
            && self.builders.is_empty()
            && self.emit.is_some()
            && &*tag == "testcase"
            && self.flat_attributes(e)?
        {
            // Closed at once, like `end` does, but kept pending for its tail.
            self.pending_flat = true;
            self.ns.pop(self.depth);
            self.depth -= 1;
            return Ok(());
        }
        let mut building = !self.builders.is_empty() || &*tag == "testcase";
        if building
            && self.builders.is_empty()
            && let Some(only) = self.only
            && only.binary_search(&(self.cases.len() as u32)).is_err()
        {
            // A case not asked for keeps its number; cases inside it are still seen.
            self.cases.push(None);
            building = false;
        }
        // A case's own attributes and the four enrichment keys usually fit in 8.
        let room = if &*tag == "testcase" { 8 } else { 0 };
        let attrs = self.attributes(e, building, room)?;
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
            // Per key and value: their bytes plus what a JSON line spends around them.
            let weight = 64
                + attrs
                    .iter()
                    .map(|(k, v)| k.len() + 16 + value_weight(v))
                    .sum::<usize>();
            self.builders.push(Builder {
                tag: Str::from(tag.as_ref()),
                depth: self.depth,
                attrs,
                text: String::new(),
                children: Vec::new(),
                case_slot,
                weight,
            });
        }
        if empty {
            self.end()?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), XmlError> {
        self.finalize_pending()?;
        if self.builders.last().is_some_and(|b| b.depth == self.depth) {
            let builder = self.builders.pop().expect("checked above");
            self.pending = Some(Pending {
                builder,
                tail: String::new(),
            });
        }
        self.ns.pop(self.depth);
        self.depth -= 1;
        Ok(())
    }

    /// A tag ends the tail of the element closed before it.
    fn finalize_pending(&mut self) -> Result<(), XmlError> {
        if self.pending_flat {
            self.finalize_flat();
            return Ok(());
        }
        let Some(Pending { builder, tail }) = self.pending.take() else {
            return Ok(());
        };
        let tag = builder.tag.clone();
        let slot = builder.case_slot;
        let weight = builder.weight + builder.text.len() + tail.len() + tag.len();
        let obj = builder.finish(&tail);
        if let Some(parent) = self.builders.last_mut() {
            parent.weight = parent.weight.saturating_add(weight);
        }
        match (slot, self.builders.last_mut()) {
            (Some(i), Some(parent)) => {
                self.copy_budget = self.copy_budget.checked_sub(weight).ok_or_else(|| {
                    XmlError::new(
                        "testcases nested inside testcases copy more than 100x the document",
                    )
                })?;
                self.cases[i] = Some(obj.clone());
                parent.children.push((tag, obj));
            }
            (Some(i), None) => {
                self.cases[i] = Some(obj);
                if let Some(emit) = &mut self.emit {
                    // A top-level case ends after every case inside it: all are complete.
                    for case in self.cases.drain(..).flatten() {
                        emit(Case::Built(case));
                    }
                }
            }
            (None, Some(parent)) => parent.children.push((tag, obj)),
            (None, None) => unreachable!("only testcase subtrees are built"),
        }
        Ok(())
    }

    /// Hand over the pending flat case. A tail that is not white space makes it an ordinary
    /// case, built by the same code as any other.
    fn finalize_flat(&mut self) {
        self.pending_flat = false;
        let case = self.flat.view(self.src);
        let Some(emit) = &mut self.emit else {
            unreachable!("flat cases are only read when emitting")
        };
        if has_non_space(&self.flat_tail) {
            let builder = Builder {
                tag: "testcase".into(),
                depth: 0,
                attrs: case.iter().map(|(k, v)| (k.into(), v.to_value())).collect(),
                text: String::new(),
                children: Vec::new(),
                case_slot: None,
                weight: 0,
            };
            emit(Case::Built(builder.finish(&self.flat_tail)));
        } else {
            emit(Case::Flat(case));
        }
        self.flat_tail.clear();
    }

    fn push_text(&mut self, s: &str) {
        if self.pending_flat {
            self.flat_tail.push_str(s);
        } else if let Some(p) = &mut self.pending {
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
        if self.pending_flat || self.pending.is_some() || !self.builders.is_empty() {
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

    /// Whether a flat testcase met next could be read by [`Self::skip_flat_case`]: where
    /// [`Self::start`] would read it as flat, in a document without namespaces.
    fn flat_ready(&self) -> bool {
        self.seen_root
            && self.depth > 0
            && self.builders.is_empty()
            && self.emit.is_some()
            && !self.ns.enabled
    }

    /// Read the flat `<testcase .../>` the reader stands at, and the white space after it,
    /// without quick-xml: on these the tokenizer only finds the tag's end, which the
    /// attribute split finds anyway, so the tag is scanned once instead of twice. The case
    /// goes through the same steps [`Self::start`] and [`Self::text`] take (so the same
    /// errors come out), and the reader is moved to the next `<`, where it stands in the
    /// same state as before. False, with nothing changed but what `start` would have done
    /// first, when the tag is anything else: the reader then reads it as usual.
    fn skip_flat_case(&mut self) -> Result<bool, XmlError> {
        const TAG: &[u8] = b"<testcase";
        let doc = self.src.as_bytes();
        let at = doc.len() - self.reader.get_ref().len();
        if !doc[at..].starts_with(TAG) {
            return Ok(false);
        }
        let from = at + TAG.len();
        if !doc.get(from).is_some_and(|&b| attrs::is_ws(b) || b == b'/') {
            return Ok(false);
        }
        let mut spans = [attrs::Span::default(); attrs::FAST_MAX];
        let template = &mut self.template;
        let found = attrs::scan_empty_tag_like(doc, from, template, &mut spans).or_else(|| {
            let found = attrs::scan_empty_tag(doc, from, &mut spans);
            if let Some((n, _)) = found {
                template.learn(doc, &spans[..n]);
            }
            found
        });
        let Some((n, end)) = found else {
            return Ok(false);
        };
        // In the state the reader is in (between events, at a `<`), it must be left at a
        // `<` again: only white space may follow up to the next tag.
        let next = end + doc[end..].iter().take_while(|&&b| attrs::is_ws(b)).count();
        if doc.get(next) != Some(&b'<') {
            return Ok(false);
        }
        let src = self.src;
        // (Unreachable while flat_ready asks for a document without "xmlns"; kept so the
        // two paths agree on what a flat case is.)
        if spans[..n]
            .iter()
            .any(|s| &doc[s.key.0..s.key.1] == b"xmlns")
        {
            return Ok(false);
        }
        self.tag_start = at;
        self.finalize_pending()
            .and_then(|()| {
                let (buf, entities) = (&mut self.flat, &mut self.entities);
                buf.clear();
                // Every key is plain (the split checked), and the spans are at hand.
                spans[..n].iter().try_for_each(|s| {
                    let kind = s
                        .kind
                        .unwrap_or_else(|| KeyKind::of(&src[s.key.0..s.key.1]));
                    flat_value(buf, entities, src, kind, s.key, s.value, s.plain_value)
                })
            })
            .map_err(|e| e.or_at(at).with_line(src))?;
        self.pending_flat = true;
        if matches!(doc.get(next + 1), Some(b'!' | b'?')) {
            // A comment, PI or CDATA section: the tail may go on after it.
            self.push_text(&src[end..next]);
        } else {
            // The next tag ends the tail, white space only: the case is complete.
            self.finalize_flat();
        }
        *self.reader.get_mut() = &doc[next..];
        self.skipped += next - at;
        #[cfg(test)]
        tests::SKIPS.set(tests::SKIPS.get() + 1);
        Ok(true)
    }

    /// Read `e`'s attributes into [`Self::flat`] when they are all plain names (no prefix, no
    /// namespace declaration); false when one is not, and the full path reads them again.
    /// Values are checked and decoded exactly as [`Self::attributes`] does, so the first
    /// error is the same either way.
    fn flat_attributes(&mut self, e: &BytesStart<'_>) -> Result<bool, XmlError> {
        let tag_start = self.tag_start;
        self.flat_from(|f| attrs::for_each(e, tag_start, f))
    }

    /// [`Self::flat_attributes`] of the attributes `each` hands over.
    fn flat_from(
        &mut self,
        each: impl FnOnce(
            &mut dyn FnMut(attrs::Attr<'_>) -> Result<(), XmlError>,
        ) -> Result<(), XmlError>,
    ) -> Result<bool, XmlError> {
        let (buf, entities, src) = (&mut self.flat, &mut self.entities, self.src);
        buf.clear();
        // Spans of the document: the reader lends slices of it.
        let span = |s: &str| {
            let at = (s.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize);
            (at <= src.len() && s.len() <= src.len() - at).then_some((at, at + s.len()))
        };
        let mut flat = true;
        let read = each(&mut |a| {
            let key = span(a.key).filter(|_| a.plain_key && a.key != "xmlns");
            let (Some(key), Some(value)) = (key, span(a.value)) else {
                // Stop here: a later attribute's error must not come before this one's.
                flat = false;
                return Err(XmlError::new("not a flat case"));
            };
            let kind = a.kind.unwrap_or_else(|| KeyKind::of(a.key));
            flat_value(buf, entities, src, kind, key, value, a.plain_value)
        });
        if !flat {
            return Ok(false);
        }
        read.map(|()| true)
    }
    /// Attributes in document order, converted; namespace declarations left out (ElementTree
    /// consumes them). Checked even when not kept, since a bad one spoils the whole file.
    fn attributes(
        &mut self,
        e: &BytesStart<'_>,
        keep: bool,
        room: usize,
    ) -> Result<Vec<(Str, Value)>, XmlError> {
        let mut attrs = Vec::with_capacity(room);
        // quick-xml rejects repeated raw names; two prefixes bound to one namespace can still
        // name the same attribute, which expat rejects too.
        let mut namespaced: Vec<Str> = Vec::new();
        let (ns, entities) = (&self.ns, &mut self.entities);
        attrs::for_each(e, self.tag_start, |a| {
            let key = a.key;
            if !a.plain_key {
                check_name(key, self.tag_start)?;
            }
            if key == "xmlns" || key.starts_with("xmlns:") {
                return Ok(());
            }
            let value = if a.plain_value {
                Cow::Borrowed(a.value)
            } else {
                attr_value(a.value, entities)?
            };
            if keep {
                // A plain key has no prefix: it is its own name.
                let name = if a.plain_key {
                    Str::from(key)
                } else {
                    ns.attribute_name(key)?
                };
                if !a.plain_key && key.as_bytes().contains(&b':') {
                    namespaced.push(name.clone());
                }
                attrs.push((name, convert_attr(&value)));
            }
            Ok(())
        })?;
        if namespaced.len() > 1 {
            namespaced.sort_unstable();
            if let Some(w) = namespaced.windows(2).find(|w| w[0] == w[1]) {
                return Err(XmlError::new(format!("duplicate attribute {}", w[0])));
            }
        }
        Ok(attrs)
    }
}

/// Element and attribute names must be XML names (quick-xml takes any bytes up to a
/// delimiter; expat rejects the document).
fn check_name(name: &str, at: usize) -> Result<(), XmlError> {
    if !name.is_empty() && name_len(name) == name.len() {
        Ok(())
    } else {
        Err(XmlError::at(
            format!("not well-formed (invalid name {name:?})"),
            at,
        ))
    }
}

/// Rough serialised size of a converted attribute value.
fn value_weight(v: &Value) -> usize {
    match v {
        Value::Str(s) | Value::BigInt(s) => s.len(),
        _ => 24,
    }
}

/// Python's `s.strip()` is non-empty.
fn has_non_space(s: &str) -> bool {
    s.chars().any(|c| !py_isspace(c))
}

/// One attribute of a flat case into `buf`: its key's kind and span, and its value
/// (`value`, a span of `src`) decoded and converted as [`Converter::attributes`] does.
#[inline]
fn flat_value(
    buf: &mut FlatBuf,
    entities: &mut Entities,
    src: &str,
    kind: KeyKind,
    key: (usize, usize),
    value: (usize, usize),
    plain_value: bool,
) -> Result<(), XmlError> {
    let raw = &src[value.0..value.1];
    let value = if plain_value {
        match convert_number(raw) {
            Some(n) => FlatValue::Num(n),
            None => FlatValue::Src(value.0, value.1),
        }
    } else {
        let decoded = attr_value(raw, entities)?;
        match convert_number(&decoded) {
            Some(n) => FlatValue::Num(n),
            // Unchanged by decoding: still these bytes of the document.
            None if matches!(decoded, Cow::Borrowed(_)) => FlatValue::Src(value.0, value.1),
            None => {
                let a = buf.decoded.len();
                buf.decoded.push_str(&decoded);
                FlatValue::Decoded(a, buf.decoded.len())
            }
        }
    };
    buf.attrs.push((kind, key, value));
    Ok(())
}

/// Outside the root only XML white space may appear.
fn has_non_space_xml(s: &str) -> bool {
    s.bytes()
        .any(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::py::json as pyjson;

    /// A blank line before `<?xml` makes the file unreadable, as expat (Python's parser)
    /// has it; a byte-order mark before it does not.
    #[test]
    fn declaration_must_come_first() {
        let xml = "\n<?xml version=\"1.0\"?><testsuite><testcase name=\"t\"/></testsuite>";
        let err = parse_cases(xml.as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("XML or text declaration not at start of entity: line 2, column 1"),
            "{err}"
        );
        assert!(parse_cases(b" <?xml version='1.0'?><a/>").is_err());
        let bom = b"\xEF\xBB\xBF<?xml version='1.0'?><testsuite><testcase name='t'/></testsuite>";
        assert_eq!(parse_cases(bom).unwrap().len(), 1);
        assert_eq!(parse_cases(&bom[3..]).unwrap().len(), 1);
    }

    fn enrichment(job_id: Value) -> Enrichment {
        Enrichment {
            workflow_id: "123".into(),
            attempt: Value::Int(2),
            job_id,
            invoking_file: "dir/test_x".into(),
        }
    }

    /// The reading stops once the last case asked for is complete, its tail included: what
    /// follows is not read.
    #[test]
    fn parse_only_stops_after_the_last_case_asked_for() {
        let whole = br#"<r><testcase name="a"><p>1</p></testcase>tail<testcase name="b"/></r>"#;
        let e = enrichment(Value::Int(5));
        let all = parse_report(whole, &e).expect("valid");
        let cut = &whole[..whole.len() - 3];
        assert!(parse_report(cut, &e).is_err());
        let got = parse_only(cut, &[0], &e).expect("stops before the cut");
        assert_eq!(got[0].as_ref(), Some(&all[0]));
        assert!(got[1..].iter().all(Option::is_none));
        assert!(parse_only(cut, &[1], &e).is_err(), "case 1 ends at the cut");
    }

    /// Building only some cases gives exactly those cases, numbered as in a full parse,
    /// nested ones included.
    #[test]
    fn parse_only_builds_the_cases_asked_for() {
        let xml = br#"<r><testcase name="a"><testcase name="in"/>t</testcase><s><testcase name="b"/></s><testcase name="c"><x>1</x></testcase></r>"#;
        let e = enrichment(Value::Int(5));
        let all = parse_report(xml, &e).expect("valid");
        assert_eq!(all.len(), 4);
        for only in [
            vec![],
            vec![0],
            vec![1],
            vec![0, 1],
            vec![2, 3],
            vec![0, 1, 2, 3],
        ] {
            let got = parse_only(xml, &only, &e).expect("valid");
            // The reading stops soon after the last case asked for.
            let last = only.last().map_or(3, |&n| n as usize);
            assert!((last + 1..=4).contains(&got.len()), "{only:?}");
            for (n, case) in got.iter().enumerate() {
                if only.contains(&(n as u32)) {
                    assert_eq!(case.as_ref(), Some(&all[n]), "{only:?} case {n}");
                } else if !only.contains(&0) || n != 1 {
                    // (case 1 sits inside case 0, so building 0 builds it too)
                    assert_eq!(case, &None, "{only:?} case {n}");
                }
            }
        }
    }

    thread_local! {
        /// Flat cases [`Converter::skip_flat_case`] read, on this thread.
        pub(super) static SKIPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// Flat cases read exactly as the objects the full path builds, on documents made to
    /// catch the differences: tails, references, numbers, namespaces, nesting, errors.
    #[test]
    fn flat_cases_equal_built_ones() {
        let many: String = (0..20).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let docs = [
            r#"<r><testcase name="a" time="0.5" file="f.py" classname="C"/><testcase name="b"/></r>"#.to_string(),
            "<r><testcase name=\"a\"/>tail<testcase name=\"b\"/> \n <testcase name=\"c\"/>&amp;<testcase tail=\"x\" name=\"d\"/>t2<!--c-->t3<testcase/><![CDATA[cd]]></r>".to_string(),
            "<r><testcase name=\"a&amp;b\" time=\"&#49;.5\" file=\"x&#10;y\tz\n\" classname=\"&lt;C&gt;\"/></r>".to_string(),
            r#"<r><testcase time="1_0" x=" 12 " y="nan" z="1e400" w="0x10" v="True" u="-Infinity" t="" s="123456789012345678901234567890"/></r>"#.to_string(),
            r#"<r><testcase name="o"><testcase name="i"/>in</testcase><testcase name="n"/></r>"#.to_string(),
            r#"<r xmlns="u"><testcase name="a"/></r>"#.to_string(),
            r#"<r xmlns:p="u"><testcase p:x="1" name="a"/><testcase name="b"/><testcase xmlns:q="v" name="c"/><testcase xmlns="" name="d"/><p:testcase name="e"/></r>"#.to_string(),
            r#"<r><testcase name="a">x</testcase><testcase name="b"></testcase><testcase name="c" /></r>"#.to_string(),
            format!("<r><testcase{many}/><testcase name=\"x\"{many}/></r>"),
            r#"<testcase name="root"/>"#.to_string(),
            r#"<r><testcase workflow_id="w" name="a"/><testcase job_id="1"/></r>"#.to_string(),
            // Errors: the same message either way, wherever the flat path stands.
            r#"<r><testcase name="a"/><testcase name="&bad;"/></r>"#.to_string(),
            r#"<r><testcase name="a"/></x>"#.to_string(),
            r#"<r><testcase a="1" a="2"/></r>"#.to_string(),
            r#"<r><testcase a="<"/></r>"#.to_string(),
            r#"<r><testcase name="a"/>"#.to_string(),
            r#"<r><testcase name="a"/></r>junk"#.to_string(),
            r#"<r xmlns:p="u"><testcase p:a="1" xmlns:q="u" q:a="2"/></r>"#.to_string(),
            // (found by fuzzing: the bad name comes before the repeated one)
            r#"<testcase a="0" {="1" {="2" h=""/>"#.to_string(),
            // Read straight from the document (skip_flat_case): what follows the tag, tags
            // that look flat but are not, and errors placed after skipped cases.
            "<r>\n  <testcase name=\"a\"/>\n\t<testcase name=\"b\" />\r\n  <testcase/>\n</r>".to_string(),
            "<r> <testcase name=\"a\"/> &amp; <testcase name=\"b\"/>x<testcase/><!--c--> y <testcase/></r>".to_string(),
            "<r>\n <testcase name=\"a/>b\" v='x\"y>'/>\n <testcase name=\"c\">\n </testcase>\n</r>".to_string(),
            format!("<r>\n <testcase name=\"{}\" f=\"{}&amp;\"/>\n</r>", "n".repeat(100), "x".repeat(70)),
            "<r>\n <testcasex/>\n <testcase:a/>\n <testcase é=\"1\"/>\n <testcase name=\"a\"/ >\n</r>".to_string(),
            "<r>\n <testcase name=\"a\"/>\n <testcase name=\"b\"/>\n <bad a=1/>\n</r>".to_string(),
            "<r>\n <testcase name=\"a\"/>\n <testcase name=\"&bad;\"/>\n</r>".to_string(),
            "<r>\n <testcase name=\"a\"/>\n <testcase a=\"1\" a=\"2\"/>\n</r>".to_string(),
            "<r>\n <testcase name=\"a\"/>\n <testcase name=\"b\"/>\n".to_string(),
            "<r>\n <testcase name=\"a\"/>\n <testcase name=\"b/>\n</r>".to_string(),
            "<r>\n <testcase name=\"a\"/>\n</r>\n<testcase name=\"b\"/>\n".to_string(),
            format!("<r>\n <testcase{many}/>\n <testcase name=\"x\"/>\n</r>"),
        ];
        let e = enrichment(Value::Int(5));
        let mut flats = 0;
        for doc in &docs {
            let want = parse_cases(doc.as_bytes());
            let mut got = Vec::new();
            let mut lines = (Vec::new(), Vec::new());
            let r = parse_cases_each(doc.as_bytes(), &mut |case| {
                let tail = e.tail();
                match &case {
                    Case::Built(o) => e.write_enriched_with(&mut lines.0, o, &tail),
                    Case::Flat(f) => {
                        flats += 1;
                        e.write_enriched_with(&mut lines.0, f, &tail)
                    }
                }
                let object = case.into_object();
                e.write_enriched(&mut lines.1, &object);
                got.push(object);
            });
            match (want, r) {
                (Ok(want), Ok(())) => {
                    // (Debug text, since NaN != NaN)
                    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{doc}");
                    assert_eq!(
                        String::from_utf8(lines.0).unwrap(),
                        String::from_utf8(lines.1).unwrap(),
                        "{doc}"
                    );
                }
                (Err(want), Err(got)) => assert_eq!(got.to_string(), want.to_string(), "{doc}"),
                (want, got) => panic!("{doc}: {want:?} vs {got:?}"),
            }
        }
        // Every empty, plain, top-level testcase above, bar those a later error cuts short
        // (a case followed by white space and a tag is handed over before that tag is read).
        assert_eq!(flats, 30, "times the flat path was taken");
        assert_eq!(SKIPS.get(), 28, "flat cases read without the tokenizer");
    }

    /// Writing a case enriched on the fly gives the bytes of enriching it and writing it.
    #[test]
    fn write_enriched_equals_apply_then_write() {
        let xml = br#"<r><testcase name="a" time="1.5"/><testcase job_id="7" name="b" invoking_file="x"><skipped/></testcase><testcase/></r>"#;
        for job_id in [Value::Null, Value::Int(99)] {
            let e = enrichment(job_id);
            let plain = parse_cases(xml).expect("valid");
            let enriched = parse_report(xml, &e).expect("valid");
            assert_eq!(plain.len(), 3);
            for (case, want) in plain.iter().zip(&enriched) {
                let mut got = Vec::new();
                e.write_enriched(&mut got, case);
                let mut expected = Vec::new();
                pyjson::write_object(&mut expected, want);
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }
}
