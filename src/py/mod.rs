//! Python-exact values: the document model a converted `<testcase>` becomes ([`value`]),
//! Python's `int()`/`float()` grammar and `repr` of floats ([`num`]), and byte-exact
//! `json.dumps` ([`json`]). A leaf: it knows nothing of XML, runs or uploads, so the rest of
//! the pipeline can rely on it for "the same bytes as the Python script".

pub mod json;
pub mod num;
pub mod value;

pub use value::{Object, Str, Value, ValueRef};
