//! `test_run_summary`: one row per (file, classname, job_id, workflow_id, attempt,
//! invoking_file) in first-seen order, with counts and the float sum of case times.
//! Keys compare the way Python dict keys do: `1 == 1.0`, a NaN never equals another NaN.

use rustc_hash::FxHashMap;

use crate::report::value::Str;
use crate::report::{Enrichment, Object, Value, pyjson};

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

    /// The row as one JSON line (with its newline), NaN/Inf cleaned.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        pyjson::write_value(out, &Value::Object(self.to_object()));
        out.push(b'\n');
    }
}

/// What the summary needs of one case, computed on the worker that parsed it.
#[derive(Debug, Clone)]
pub struct CaseFacts {
    key: [SummaryKeyPart; 2],
    file: Value,
    classname: Value,
    pub status: CaseStatus,
    /// The numeric time, or None when it has none (the reference would crash; it counts as
    /// 0.0 here and the loader reports it).
    pub time: Option<f64>,
}

impl CaseFacts {
    /// `unique` must differ for every case of the run (it keys NaN and unhashable values).
    pub fn of(case: &Object, status: CaseStatus, time: Option<f64>, unique: u64) -> Self {
        let mut u = unique << 1;
        let fresh = |n: &mut u64| {
            *n += 1;
            *n
        };
        let file = case.get("file");
        let classname = case.get("classname");
        let key = [
            SummaryKeyPart::of(file, &mut || fresh(&mut u)),
            SummaryKeyPart::of(classname, &mut || fresh(&mut u)),
        ];
        Self {
            key,
            file: file.cloned().unwrap_or(Value::Null),
            classname: classname.cloned().unwrap_or(Value::Null),
            status,
            time,
        }
    }
}

/// The rest of the key is the file's enrichment, the same for all its cases.
type FullKey = ([SummaryKeyPart; 2], [SummaryKeyPart; 4]);

/// The summary of the cases seen so far, fed in the deterministic order.
#[derive(Debug, Default)]
pub struct Summary {
    rows: Vec<SummaryRow>,
    index: FxHashMap<FullKey, usize>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one case of a file with the given enrichment.
    pub fn add(&mut self, facts: CaseFacts, enrich: &Enrichment) -> usize {
        let never = &mut || unreachable!("enrichment values are never NaN or unhashable");
        let job_id = Value::clone(&enrich.job_id);
        let workflow_id = Value::Str(enrich.workflow_id.clone());
        let invoking = Value::Str(enrich.invoking_file.clone());
        let rest = [
            SummaryKeyPart::of(Some(&job_id), never),
            SummaryKeyPart::of(Some(&workflow_id), never),
            SummaryKeyPart::of(Some(&enrich.attempt), never),
            SummaryKeyPart::of(Some(&invoking), never),
        ];
        let next = self.rows.len();
        let i = *self.index.entry((facts.key, rest)).or_insert(next);
        if i == next {
            self.rows.push(SummaryRow {
                file: facts.file,
                classname: facts.classname,
                job_id,
                workflow_id,
                workflow_run_attempt: enrich.attempt.clone(),
                invoking_file: invoking,
                tests: 0,
                failures: 0,
                errors: 0,
                skipped: 0,
                successes: 0,
                time: 0.0,
            });
        }
        let row = &mut self.rows[i];
        row.tests += 1;
        match facts.status {
            CaseStatus::Failure => row.failures += 1,
            CaseStatus::Error => row.errors += 1,
            CaseStatus::Skipped => row.skipped += 1,
            CaseStatus::Success => row.successes += 1,
        }
        if let Some(t) = facts.time {
            row.time += t;
        }
        i
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
        s.add(CaseFacts::of(&o, status, Some(time), n), &enrich());
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
