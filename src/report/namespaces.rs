//! Namespace resolution as expat does it for ElementTree: `{uri}local` names, prefixes
//! bound and unbound by element depth.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::BytesStart;

use super::XmlError;
use super::attrs::{self, attr_value};
use super::entities::Entities;
use crate::py::value::Str;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Namespace resolution as expat does it for ElementTree (`{uri}local` names).
pub(super) struct Namespaces {
    pub(super) enabled: bool,
    /// prefix -> its uris, innermost last: "" is the default namespace; an empty uri
    /// undeclares it. A map, since a hostile document can declare any number of prefixes.
    bindings: HashMap<Box<str>, Vec<Box<str>>>,
    /// (prefix, depth) of every declaration in scope, innermost last, for unbinding.
    declared: Vec<(Box<str>, usize)>,
}

impl Namespaces {
    pub(super) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            bindings: HashMap::new(),
            declared: Vec::new(),
        }
    }

    pub(super) fn push(
        &mut self,
        e: &BytesStart<'_>,
        depth: usize,
        entities: &mut Entities,
        tag_start: usize,
    ) -> Result<(), XmlError> {
        if !self.enabled {
            return Ok(());
        }
        let (bindings, declared) = (&mut self.bindings, &mut self.declared);
        attrs::for_each(e, tag_start, |a| {
            let (key, raw) = (a.key, a.value);
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(p) if p.starts_with(':') => &p[1..],
                _ => return Ok(()),
            };
            let uri = attr_value(raw, entities)?;
            if !prefix.is_empty() && uri.is_empty() {
                return Err(XmlError::new(format!(
                    "cannot undeclare namespace prefix {prefix}"
                )));
            }
            bindings
                .entry(prefix.into())
                .or_default()
                .push(uri.as_ref().into());
            declared.push((prefix.into(), depth));
            Ok(())
        })?;
        Ok(())
    }

    pub(super) fn pop(&mut self, depth: usize) {
        while self.declared.last().is_some_and(|d| d.1 >= depth) {
            let (prefix, _) = self.declared.pop().expect("checked above");
            if let Some(uris) = self.bindings.get_mut(&prefix) {
                uris.pop();
            }
        }
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        if self.bindings.is_empty() {
            return None;
        }
        self.bindings.get(prefix)?.last().map(|u| &**u)
    }

    /// An element's name; borrowed when no namespace applies (most tags are only compared
    /// with "testcase", never kept).
    pub(super) fn element_name<'q>(&self, qname: &'q str) -> Result<Cow<'q, str>, XmlError> {
        self.resolve(qname, true)
    }

    pub(super) fn attribute_name(&self, qname: &str) -> Result<Str, XmlError> {
        self.resolve(qname, false)
            .map(|name| Str::from(name.as_ref()))
    }

    fn resolve<'q>(&self, qname: &'q str, use_default: bool) -> Result<Cow<'q, str>, XmlError> {
        let colon = qname.bytes().position(|b| b == b':');
        match colon.map(|i| (&qname[..i], &qname[i + 1..])) {
            Some((prefix, local)) => match self.lookup(prefix) {
                Some(uri) => Ok(Cow::Owned(format!("{{{uri}}}{local}"))),
                None => Err(XmlError::new(format!("unbound prefix in {qname}"))),
            },
            None if use_default => match self.lookup("") {
                Some(uri) if !uri.is_empty() => Ok(Cow::Owned(format!("{{{uri}}}{qname}"))),
                _ => Ok(Cow::Borrowed(qname)),
            },
            None => Ok(Cow::Borrowed(qname)),
        }
    }
}
