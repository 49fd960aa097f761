//! `test_run_summary`: one row per (file, classname, job_id, workflow_id, attempt,
//! invoking_file) in first-seen order, with counts and the float sum of case times.
//! Keys compare the way Python dict keys do: `1 == 1.0`, a NaN never equals another NaN.

use rustc_hash::FxHashMap;

use crate::py::json as pyjson;
use crate::py::value::Str;
use crate::report::{Enrichment, Object, Value};

use super::CaseStatus;

/// One component of a summary key, normalised so equal Python values give equal parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SummaryKeyPart {
    Null,
    Str(Str),
    /// Any number with an integral value, as exact decimal text ("-0" folded to "0").
    Integral(Box<str>),
    /// A non-integral finite float, as its round-trip text; also "inf"/"-inf".
    Fractional(Box<str>),
    /// NaN, or a value Python could not hash (dict, list): never equal to another key.
    Unique(u64),
}

impl SummaryKeyPart {
    pub(crate) fn of(v: Option<&Value>, unique: &mut dyn FnMut() -> u64) -> Self {
        let mut fresh = || Self::Unique(unique());
        match v {
            None | Some(Value::Null) => Self::Null,
            Some(Value::Str(s)) => Self::Str(s.clone()),
            Some(Value::Int(i)) => Self::Integral(i.to_string().into()),
            Some(Value::BigInt(s)) => Self::Integral(s.as_str().into()),
            Some(Value::Float(f)) if f.is_nan() => fresh(),
            Some(Value::Float(f)) if f.is_infinite() => {
                Self::Fractional(if *f > 0.0 { "inf" } else { "-inf" }.into())
            }
            Some(Value::Float(f)) if f.fract() == 0.0 => {
                let text = format!("{f:.0}");
                Self::Integral(if text == "-0" {
                    "0".into()
                } else {
                    text.into()
                })
            }
            Some(Value::Float(f)) => Self::Fractional(format!("{f:?}").into()),
            // The reference crashes here (unhashable); testscope keeps such rows apart.
            Some(Value::List(_) | Value::Object(_)) => fresh(),
        }
    }
}

/// A summary row, in the reference's field order.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub file: Value,
    pub classname: Value,
    pub job_id: Value,
    pub workflow_id: Value,
    pub workflow_run_attempt: Value,
    pub invoking_file: Value,
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    pub successes: u64,
    pub time: f64,
}

impl SummaryRow {
    pub fn to_object(&self) -> Object {
        let mut o = Object::with_capacity(12);
        for (k, v) in [
            ("file", &self.file),
            ("classname", &self.classname),
            ("job_id", &self.job_id),
            ("workflow_id", &self.workflow_id),
            ("workflow_run_attempt", &self.workflow_run_attempt),
            ("invoking_file", &self.invoking_file),
        ] {
            o.push_unique(k.into(), v.clone());
        }
        for (k, n) in [
            ("tests", self.tests),
            ("failures", self.failures),
            ("errors", self.errors),
            ("skipped", self.skipped),
            ("successes", self.successes),
        ] {
            o.push_unique(k.into(), Value::Int(n as i64));
        }
        o.push_unique("time".into(), Value::Float(self.time));
        o
    }

    /// The row as one JSON line (with its newline), NaN/Inf cleaned: what writing
    /// [`Self::to_object`] gives, without building it (its keys need no escapes).
    pub fn write_line(&self, out: &mut Vec<u8>) {
        let texts = [
            (&b"{\"file\": "[..], &self.file),
            (b", \"classname\": ", &self.classname),
            (b", \"job_id\": ", &self.job_id),
            (b", \"workflow_id\": ", &self.workflow_id),
            (b", \"workflow_run_attempt\": ", &self.workflow_run_attempt),
            (b", \"invoking_file\": ", &self.invoking_file),
        ];
        for (key, v) in texts {
            out.extend_from_slice(key);
            pyjson::write_value(out, v);
        }
        for (key, n) in [
            (&b", \"tests\": "[..], self.tests),
            (b", \"failures\": ", self.failures),
            (b", \"errors\": ", self.errors),
            (b", \"skipped\": ", self.skipped),
            (b", \"successes\": ", self.successes),
        ] {
            out.extend_from_slice(key);
            pyjson::write_value(out, &Value::Int(n as i64));
        }
        out.extend_from_slice(b", \"time\": ");
        pyjson::write_value(out, &Value::Float(self.time));
        out.extend_from_slice(b"}\n");
    }
}

/// A case's own part of the summary key: (file, classname) as Python dict keys.
pub type CaseKey = [SummaryKeyPart; 2];

/// A case's summary key from its file and classname. `unique` must differ for every case
/// of the run (it keys NaN and unhashable values).
pub fn case_key(file: Option<&Value>, classname: Option<&Value>, unique: u64) -> CaseKey {
    let mut u = unique << 1;
    let mut fresh = || {
        u += 1;
        u
    };
    [
        SummaryKeyPart::of(file, &mut fresh),
        SummaryKeyPart::of(classname, &mut fresh),
    ]
}

/// The values a file's cases share in their summary rows, and their key parts.
#[derive(Debug, Clone)]
pub struct FileKey {
    id: u32,
    job_id: Value,
    workflow_id: Value,
    attempt: Value,
    invoking_file: Value,
}

/// The summary of the cases seen so far, fed in the deterministic order.
#[derive(Debug, Default)]
pub struct Summary {
    rows: Vec<SummaryRow>,
    /// The enrichment part of keys (job, run, attempt, invoking file), numbered.
    files: FxHashMap<[SummaryKeyPart; 4], u32>,
    index: FxHashMap<(u32, CaseKey), usize>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// The key of a file's cases, computed once per file.
    pub fn file_key(&mut self, enrich: &Enrichment) -> FileKey {
        let never = &mut || unreachable!("enrichment values are never NaN or unhashable");
        let job_id = enrich.job_id.clone();
        let workflow_id = Value::Str(enrich.workflow_id.clone());
        let invoking_file = Value::Str(enrich.invoking_file.clone());
        let parts = [
            SummaryKeyPart::of(Some(&job_id), never),
            SummaryKeyPart::of(Some(&workflow_id), never),
            SummaryKeyPart::of(Some(&enrich.attempt), never),
            SummaryKeyPart::of(Some(&invoking_file), never),
        ];
        let next = self.files.len() as u32;
        let id = *self.files.entry(parts).or_insert(next);
        FileKey {
            id,
            job_id,
            workflow_id,
            attempt: enrich.attempt.clone(),
            invoking_file,
        }
    }

    /// Add one case: its key, its `file` and `classname` (cloned only for a new row), its
    /// status and its numeric time (None counts as 0.0; the loader reports it).
    pub fn add(
        &mut self,
        file: &FileKey,
        key: CaseKey,
        values: (Option<&Value>, Option<&Value>),
        status: CaseStatus,
        time: Option<f64>,
    ) -> usize {
        let next = self.rows.len();
        let i = *self.index.entry((file.id, key)).or_insert(next);
        if i == next {
            let value = |v: Option<&Value>| v.cloned().unwrap_or(Value::Null);
            self.rows.push(SummaryRow {
                file: value(values.0),
                classname: value(values.1),
                job_id: file.job_id.clone(),
                workflow_id: file.workflow_id.clone(),
                workflow_run_attempt: file.attempt.clone(),
                invoking_file: file.invoking_file.clone(),
                tests: 0,
                failures: 0,
                errors: 0,
                skipped: 0,
                successes: 0,
                time: 0.0,
            });
        }
        self.add_again(i, status, time);
        i
    }

    /// [`Self::add`] for a case whose key is that of the case added just before it, in the
    /// same file: `i` is the row that one went to (no hashing; the same row either way).
    pub fn add_again(&mut self, i: usize, status: CaseStatus, time: Option<f64>) {
        let row = &mut self.rows[i];
        row.tests += 1;
        match status {
            CaseStatus::Failure => row.failures += 1,
            CaseStatus::Error => row.errors += 1,
            CaseStatus::Skipped => row.skipped += 1,
            CaseStatus::Success => row.successes += 1,
        }
        if let Some(t) = time {
            row.time += t;
        }
    }

    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    pub fn into_rows(self) -> Vec<SummaryRow> {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_its_object_written() {
        let row = |file: Value, time: f64| SummaryRow {
            file,
            classname: Value::Null,
            job_id: Value::BigInt("123456789012345678901234567890".into()),
            workflow_id: Value::Str("7".into()),
            workflow_run_attempt: Value::Int(2),
            invoking_file: Value::Str("caf\u{e9} \"q\"\n".into()),
            tests: 5,
            failures: 1,
            errors: 0,
            skipped: u64::MAX,
            successes: 3,
            time,
        };
        for r in [
            row(Value::Str("a.py".into()), 0.1 + 0.2),
            row(Value::Float(f64::NAN), f64::NAN),
            row(Value::List(vec![Value::Int(1)]), f64::NEG_INFINITY),
            row(Value::Int(-3), -0.0),
        ] {
            let mut line = Vec::new();
            r.write_line(&mut line);
            let mut expected = Vec::new();
            pyjson::write_value(&mut expected, &Value::Object(r.to_object()));
            expected.push(b'\n');
            assert_eq!(String::from_utf8(line), String::from_utf8(expected));
        }
    }

    fn enrich() -> Enrichment {
        Enrichment {
            workflow_id: "9".into(),
            attempt: Value::Int(1),
            job_id: Value::Int(1),
            invoking_file: "inv".into(),
        }
    }

    fn add(s: &mut Summary, file: Value, status: CaseStatus, time: f64, n: u64) {
        let mut o = Object::new();
        o.insert("file", file);
        o.insert("classname", Value::Str("A".into()));
        let fk = s.file_key(&enrich());
        s.add(
            &fk,
            case_key(o.get("file"), o.get("classname"), n),
            (o.get("file"), o.get("classname")),
            status,
            Some(time),
        );
    }

    #[test]
    fn python_key_equality() {
        let mut s = Summary::new();
        add(&mut s, Value::Int(1), CaseStatus::Success, 0.1, 1);
        add(&mut s, Value::Float(1.0), CaseStatus::Failure, 0.2, 2);
        add(&mut s, Value::Str("1".into()), CaseStatus::Success, 0.3, 3);
        add(&mut s, Value::Float(f64::NAN), CaseStatus::Success, 0.3, 4);
        add(&mut s, Value::Float(f64::NAN), CaseStatus::Success, 0.3, 5);
        add(
            &mut s,
            Value::BigInt("10000000000000000000000".into()),
            CaseStatus::Success,
            0.3,
            6,
        );
        add(&mut s, Value::Float(1e22), CaseStatus::Success, 0.3, 7);
        let rows = s.rows();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].file, Value::Int(1), "first-seen value kept");
        assert_eq!(rows[0].tests, 2);
        assert_eq!(rows[0].failures, 1);
        assert_eq!(rows[0].time, 0.0 + 0.1 + 0.2);
        assert_eq!(rows[1].file, Value::Str("1".into()));
        assert_eq!(rows[4].tests, 2, "10**22 == 1e22");
    }

    #[test]
    fn row_line_matches_python() {
        let mut s = Summary::new();
        add(
            &mut s,
            Value::Str("f.py".into()),
            CaseStatus::Skipped,
            0.1,
            1,
        );
        let mut out = Vec::new();
        s.rows()[0].write_line(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"file\": \"f.py\", \"classname\": \"A\", \"job_id\": 1, \"workflow_id\": \"9\", \
             \"workflow_run_attempt\": 1, \"invoking_file\": \"inv\", \"tests\": 1, \"failures\": 0, \
             \"errors\": 0, \"skipped\": 1, \"successes\": 0, \"time\": 0.1}\n"
        );
    }
}
