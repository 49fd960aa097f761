//! XML -> test cases: decoding, entities, attributes and the streaming converter that turns
//! each `<testcase>` into the document PyTorch's script makes (values from [`crate::py`]).
//! Everything here is pure (bytes in, values out) so it is tested without I/O.

mod attrs;
pub mod decode;
pub mod enrich;
pub mod entities;
pub mod fields;
pub mod flat;
pub mod known;
pub mod meta;
mod namespaces;
pub mod parse;

pub use crate::py::{Object, Value, ValueRef};
pub use enrich::Enrichment;
pub use fields::Fields;
pub use flat::FlatCase;
pub use known::{KeyKind, Known};
pub use parse::{Case, parse_cases, parse_cases_each, parse_only, parse_report};

use std::fmt;

/// Why a report file is not well-formed XML (or not readable as such).
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    message: String,
    offset: Option<usize>,
    line_col: Option<(usize, usize)>,
}

impl XmlError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            offset: None,
            line_col: None,
        }
    }

    pub fn at(message: impl Into<String>, offset: usize) -> Self {
        Self {
            offset: Some(offset),
            ..Self::new(message)
        }
    }

    /// Attach an offset when none is known yet.
    pub fn or_at(mut self, offset: usize) -> Self {
        self.offset.get_or_insert(offset);
        self
    }

    /// Turn the byte offset into a 1-based line and column of `src`.
    pub fn with_line(mut self, src: &str) -> Self {
        if let (Some(off), None) = (self.offset, self.line_col) {
            let off = off.min(src.len());
            let before = &src.as_bytes()[..off];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = off
                - before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            self.line_col = Some((line, col));
        }
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line_col, self.offset) {
            (Some((l, c)), _) => write!(f, "{}: line {l}, column {c}", self.message),
            (None, Some(o)) => write!(f, "{}: byte {o}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for XmlError {}
