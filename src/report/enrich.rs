//! The four keys PyTorch's script sets on every case after converting it (`workflow_id`,
//! `workflow_run_attempt`, `job_id`, `invoking_file`), applied to an object or written after
//! a case's own keys straight into its JSON line.

use crate::py::json as pyjson;
use crate::py::value::{Object, Str, Value};

use super::fields::Fields;
use super::known::Known;

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
    /// The four keys in this order, `d[k] = v` each (one a case already has keeps its place).
    pub const KEYS: [&'static str; 4] = [
        "workflow_id",
        "workflow_run_attempt",
        "job_id",
        "invoking_file",
    ];

    pub fn apply(&self, case: &mut Object) {
        let values = self.values();
        // A case rarely has any of these keys: one pass finds out, instead of four lookups.
        if case.iter().any(|(k, _)| Self::KEYS.contains(&k)) {
            for (k, v) in Self::KEYS.into_iter().zip(values) {
                case.insert(k, v);
            }
        } else {
            case.reserve(Self::KEYS.len());
            for (k, v) in Self::KEYS.into_iter().zip(values) {
                case.push_unique(k.into(), v);
            }
        }
    }
}

impl Enrichment {
    /// `case` with the enrichment applied, as a JSON line body (no newline), without
    /// changing `case`: the loader keeps cases unenriched and writes them this way.
    pub fn write_enriched(&self, out: &mut Vec<u8>, case: &Object) {
        self.write_enriched_with(out, case, &self.tail());
    }

    /// The four keys and their values as the end of a JSON object, `}` included: what
    /// [`Self::write_enriched_with`] appends to a case without them (the same for every case
    /// of a file, so written once).
    pub fn tail(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, (k, v)) in Self::KEYS.into_iter().zip(self.values()).enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            pyjson::write_str(&mut out, k);
            out.extend_from_slice(b": ");
            pyjson::write_value(&mut out, &v);
        }
        out.push(b'}');
        out
    }

    /// [`Self::write_enriched`] with the [`Self::tail`] of this enrichment, for an object
    /// or a flat case.
    pub fn write_enriched_with(&self, out: &mut Vec<u8>, case: &impl Fields, tail: &[u8]) {
        self.write_enriched_known(out, case, &case.known(), tail);
    }

    /// [`Self::write_enriched_with`] with the case's [`Known`] keys at hand.
    pub fn write_enriched_known(
        &self,
        out: &mut Vec<u8>,
        case: &impl Fields,
        known: &Known<'_>,
        tail: &[u8],
    ) {
        if known.enrichment_key {
            let mut case = case.to_object().into_owned();
            self.apply(&mut case);
            pyjson::write_object(out, &case);
            return;
        }
        let start = out.len();
        case.write_json(out, pyjson::NonFinite::Cleaned);
        out.pop(); // the closing brace: the four keys follow in order
        if out.len() > start + 1 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(tail);
    }

    fn values(&self) -> [Value; 4] {
        [
            Value::Str(self.workflow_id.clone()),
            self.attempt.clone(),
            self.job_id.clone(),
            Value::Str(self.invoking_file.clone()),
        ]
    }
}
