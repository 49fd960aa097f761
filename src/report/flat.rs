//! Flat cases: a testcase written as one empty element with plain attributes
//! (`<testcase classname=".." name=".." time=".." file=".."/>`, nearly every case of a real
//! run). It is kept as spans of the document plus its converted numbers, so it costs no
//! allocation, and reads exactly as the [`Object`] the full conversion builds (parse.rs holds
//! the differential test, and the fuzz target checks it too).

use std::borrow::Cow;

use super::value::{Fields, Object, Value, ValueRef};

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
    /// (key as bytes of the document, value), in document order; keys are unique.
    pub attrs: Vec<((usize, usize), FlatValue)>,
    pub decoded: String,
}

impl FlatBuf {
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
        buf.attrs.iter().map(move |((k0, k1), v)| {
            let value = match v {
                FlatValue::Src(a, b) => ValueRef::Str(&src[*a..*b]),
                FlatValue::Decoded(a, b) => ValueRef::Str(&buf.decoded[*a..*b]),
                FlatValue::Num(n) => ValueRef::Other(n),
            };
            (&src[*k0..*k1], value)
        })
    }

    pub fn len(&self) -> usize {
        self.buf.attrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.attrs.is_empty()
    }
}

impl Fields for FlatCase<'_> {
    fn fields(&self) -> impl Iterator<Item = (&str, ValueRef<'_>)> {
        self.iter()
    }

    fn to_object(&self) -> Cow<'_, Object> {
        let entries = self.iter().map(|(k, v)| (k.into(), v.to_value())).collect();
        Cow::Owned(Object::from_unique(entries))
    }
}
