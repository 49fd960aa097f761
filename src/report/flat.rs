//! Flat cases: a testcase written as one empty element with plain attributes
//! (`<testcase classname=".." name=".." time=".." file=".."/>`, nearly every case of a real
//! run). It is kept as spans of the document plus its converted numbers, so it costs no
//! allocation, and reads exactly as the [`Object`] the full conversion builds (parse.rs holds
//! the differential test, and the fuzz target checks it too).

use std::borrow::Cow;

use super::fields::Fields;
use super::known::{KeyKind, Known};
use crate::py::json::{self as pyjson, NonFinite};
use crate::py::value::{Object, Value, ValueRef};

/// An attribute value of a flat case.
#[derive(Debug)]
pub(super) enum FlatValue {
    /// A string: these bytes of the document.
    Src(usize, usize),
    /// A string that needed decoding (references, white space): these bytes of
    /// [`FlatBuf::decoded`].
    Decoded(usize, usize),
    /// What `int()`/`float()` made of it.
    Num(Value),
}

/// The attributes of the flat case being read, reused from case to case.
#[derive(Debug, Default)]
pub(super) struct FlatBuf {
    /// (what the key is, key as bytes of the document, value), in document order; keys are
    /// unique.
    pub attrs: Vec<(KeyKind, (usize, usize), FlatValue)>,
    pub decoded: String,
}

impl FlatBuf {
    fn value<'c>(&'c self, src: &'c str, v: &'c FlatValue) -> ValueRef<'c> {
        match v {
            FlatValue::Src(a, b) => ValueRef::Str(&src[*a..*b]),
            FlatValue::Decoded(a, b) => ValueRef::Str(&self.decoded[*a..*b]),
            FlatValue::Num(n) => ValueRef::Other(n),
        }
    }

    pub fn clear(&mut self) {
        self.attrs.clear();
        self.decoded.clear();
    }

    pub fn view<'c>(&'c self, src: &'c str) -> FlatCase<'c> {
        FlatCase { src, buf: self }
    }
}

/// A flat case as its keys and values (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct FlatCase<'c> {
    src: &'c str,
    buf: &'c FlatBuf,
}

impl<'c> FlatCase<'c> {
    pub fn iter(&self) -> impl Iterator<Item = (&'c str, ValueRef<'c>)> + 'c {
        let (src, buf) = (self.src, self.buf);
        buf.attrs
            .iter()
            .map(move |(_, (k0, k1), v)| (&src[*k0..*k1], buf.value(src, v)))
    }
}

impl Fields for FlatCase<'_> {
    fn fields(&self) -> impl Iterator<Item = (&str, ValueRef<'_>)> {
        self.iter()
    }

    /// From the kinds noted while reading: no key is compared again.
    fn known(&self) -> Known<'_> {
        let mut known = Known::default();
        for (kind, _, v) in &self.buf.attrs {
            if *kind != KeyKind::Other {
                known.see(*kind, self.buf.value(self.src, v));
            }
        }
        known
    }

    /// Keys are plain XML names (ASCII letters, digits, `_`, `-`, `.`), which JSON writes
    /// as they are: only values go through the escaping.
    fn write_json(&self, out: &mut Vec<u8>, mode: NonFinite) {
        out.push(b'{');
        for (n, (_, (k0, k1), v)) in self.buf.attrs.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            out.push(b'"');
            out.extend_from_slice(&self.src.as_bytes()[*k0..*k1]);
            out.extend_from_slice(b"\": ");
            match self.buf.value(self.src, v) {
                ValueRef::Str(s) => pyjson::write_str(out, s),
                ValueRef::Other(v) => pyjson::write_value_with(out, v, mode),
            }
        }
        out.push(b'}');
    }

    fn to_object(&self) -> Cow<'_, Object> {
        let entries = self.iter().map(|(k, v)| (k.into(), v.to_value())).collect();
        Cow::Owned(Object::from_unique(entries))
    }
}
