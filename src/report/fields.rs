//! The [`Fields`] view of a converted case: its keys and values in order, whether it is a
//! whole [`Object`] or a [`super::flat::FlatCase`] borrowing from the document.

use crate::py::json::{self, NonFinite};
use crate::py::value::{Object, ValueRef};

use super::known::{KeyKind, Known};

/// A converted case as its keys and values in order: an [`Object`] or a
/// [`super::flat::FlatCase`], so what reads cases need not care which it got.
pub trait Fields {
    fn fields(&self) -> impl Iterator<Item = (&str, ValueRef<'_>)>;

    /// The keys the loader reads from every case, in one pass.
    fn known(&self) -> Known<'_> {
        let mut known = Known::default();
        for (k, v) in self.fields() {
            known.see(KeyKind::of(k), v);
        }
        known
    }

    fn field(&self, key: &str) -> Option<ValueRef<'_>> {
        self.fields().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The case as an object (the full model, for the rare reader that needs it).
    fn to_object(&self) -> std::borrow::Cow<'_, Object>;

    /// The case as `json.dumps` writes it.
    fn write_json(&self, out: &mut Vec<u8>, mode: NonFinite) {
        json::write_pairs_with(out, self.fields(), mode);
    }
}

impl Fields for Object {
    fn fields(&self) -> impl Iterator<Item = (&str, ValueRef<'_>)> {
        self.iter().map(|(k, v)| (k, ValueRef::from(v)))
    }

    fn to_object(&self) -> std::borrow::Cow<'_, Object> {
        std::borrow::Cow::Borrowed(self)
    }
}
