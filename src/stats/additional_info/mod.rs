//! The four additional_info collections (docs/compatibility.md section 6): reruns, td_exclusions,
//! invoking_file_summary, test_status. Cases are grouped by (build name, test config, file,
//! classname, name) with Python dict semantics; job names come from GitHub (or are
//! `NoJobName`). Unlike the core collections these are dumped without `remove_nan_inf`,
//! so NaN and infinities appear as `NaN`/`Infinity` literals, as the reference writes them.

mod grouping;
mod reruns;
mod summaries;
mod td_exclusions;

pub use grouping::*;
pub use reruns::*;
pub use summaries::*;
pub use td_exclusions::*;

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::py::json::{self as pyjson, NonFinite};
use crate::report::{Object, Value};

use super::SummaryKeyPart;
use super::cases::{CaseTable, ValueId, flag};

pub const NO_JOB_NAME: &str = "NoJobName";
pub const NO_BUILD_ENV: &str = "NoBuildEnv";
pub const NO_TEST_CONFIG: &str = "NoTestConfig";

/// Files whose reruns the reference leaves out.
pub const RERUN_EXCLUDED_FILES: [&str; 3] = [
    "distributed/test_distributed_spawn.py",
    "onnx/test_fx_to_onnx_with_onnxruntime.py",
    "distributed/algorithms/quantization/test_quantization.py",
];

/// Build name and test config from a job name like
/// `linux-jammy-py3.10-gcc11 / test (default, 1, 5, linux.4xlarge)`.
pub fn build_and_config(job_name: &str) -> (String, String) {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Python's re.match: anchored at the start only; greedy groups pick the same split.
    let re = RE.get_or_init(|| Regex::new(r"^(.*) / .*test \(([^,]*), .*\)").expect("valid"));
    match re.captures(job_name) {
        Some(c) => (c[1].to_string(), c[2].to_string()),
        None => (NO_BUILD_ENV.to_string(), NO_TEST_CONFIG.to_string()),
    }
}

/// The job name of a job id: known names, else `NoJobName`.
pub fn job_name(job_id: &Value, names: &HashMap<i64, String>) -> String {
    match job_id {
        Value::Int(id) => names.get(id).cloned(),
        _ => None,
    }
    .unwrap_or_else(|| NO_JOB_NAME.to_string())
}

/// An insertion-ordered dict with Python key equality (`1 == 1.0`, NaN never equal).
#[derive(Debug)]
pub struct PyDict<V> {
    entries: Vec<(Value, V)>,
    index: FxHashMap<SummaryKeyPart, usize>,
    unique: u64,
}

impl<V> Default for PyDict<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: FxHashMap::default(),
            unique: 0,
        }
    }
}

impl<V> PyDict<V> {
    fn part(&mut self, key: &Value) -> SummaryKeyPart {
        let unique = &mut self.unique;
        SummaryKeyPart::of(Some(key), &mut || {
            *unique += 1;
            *unique
        })
    }

    /// `d.setdefault(key, make())`.
    pub fn setdefault(&mut self, key: &Value, make: impl FnOnce() -> V) -> &mut V {
        let part = self.part(key);
        let i = match self.index.get(&part) {
            Some(&i) => i,
            None => {
                self.entries.push((key.clone(), make()));
                self.index.insert(part, self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// `d[key] = value` (an existing key keeps its first spelling and position).
    pub fn assign(&mut self, key: &Value, value: V) {
        let part = self.part(key);
        match self.index.get(&part) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.entries.push((key.clone(), value));
                self.index.insert(part, self.entries.len() - 1);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Value, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Writes a nested dict as `json.dumps` does.
pub trait WriteJson {
    fn write_json(&self, out: &mut Vec<u8>);
}

impl<V: WriteJson> WriteJson for PyDict<V> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (n, (k, v)) in self.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            pyjson::write_key(out, k);
            out.extend_from_slice(b": ");
            v.write_json(out);
        }
        out.push(b'}');
    }
}

impl WriteJson for Value {
    fn write_json(&self, out: &mut Vec<u8>) {
        pyjson::write_value_with(out, self, NonFinite::Literal);
    }
}

impl WriteJson for Vec<Object> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (n, o) in self.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            pyjson::write_object_with(out, o, NonFinite::Literal);
        }
        out.push(b']');
    }
}

impl WriteJson for Vec<String> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (n, s) in self.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            pyjson::write_str(out, s);
        }
        out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_same_whatever_the_buckets() {
        // Keys of 700 rows: 300 groups (some of several rows, in any order), and rows left
        // out. With one bucket every key is sorted; with many, nearly none.
        let mut rng = testscope_gen::rng::Rng::new(0x2545_f491_4f6c_dd1d);
        let mut rand = || rng.next_u64();
        let group_key: Vec<u128> = (0..300)
            .map(|_| (u128::from(rand()) << 64 | u128::from(rand())) & !0xffff_ffff)
            .collect();
        let keys: Vec<u128> = (0..700u32)
            .map(|row| match rand() % 10 {
                0 => u128::MAX,
                _ => group_key[(rand() % 300) as usize] | u128::from(row),
            })
            .collect();
        // Expected: each row's next row with the same key, and the first rows.
        let mut expected_next = vec![END; keys.len()];
        let mut expected_firsts = vec![0u64; keys.len().div_ceil(64)];
        let mut last_of: HashMap<u128, usize> = HashMap::new();
        for (row, &key) in keys.iter().enumerate().filter(|(_, k)| **k != u128::MAX) {
            match last_of.insert(key >> 32, row) {
                Some(previous) => expected_next[previous] = row as u32,
                None => expected_firsts[row / 64] |= 1 << (row % 64),
            }
        }
        for bits in [1, 4, 8, 24] {
            let mut next = vec![END; keys.len()];
            let mut firsts = vec![0u64; keys.len().div_ceil(64)];
            let count = link_groups(&keys, bits, &mut next, &mut firsts);
            assert_eq!(count, last_of.len(), "{bits} bucket bits");
            assert_eq!(next, expected_next, "{bits} bucket bits");
            assert_eq!(firsts, expected_firsts, "{bits} bucket bits");
        }
    }

    #[test]
    fn a_test_run_line_stands_for_its_case_unless_it_cannot() {
        let case = |extra: &[(&str, Value)]| {
            let mut o = Object::new();
            o.insert("classname", Value::Str("TestX".into()));
            o.insert("name", Value::Str("test_\u{e9}\u{1f600}\"q\"".into()));
            o.insert("time", Value::Float(0.25));
            for (k, v) in extra {
                o.insert(k, v.clone());
            }
            o
        };
        let line = |o: &Object| {
            let mut out = Vec::new();
            pyjson::write_object_with(&mut out, o, NonFinite::Cleaned);
            out
        };
        let keys = ("build / test (default, 1, 2, r)", "bu\u{ef}ld", "c\"fg");
        for extra in [
            vec![],
            vec![("properties", Value::Str("nan-ish, inf".into()))],
            vec![("job", Value::Int(7))],
        ] {
            let o = case(&extra);
            assert_eq!(
                line_with_job_keys(&line(&o), keys.0, keys.1, keys.2),
                Some(with_job_keys(o, keys.0, keys.1, keys.2)),
            );
        }
        // Lines that cannot stand for their case: read again.
        for extra in [
            vec![("time2", Value::Float(f64::NAN))],
            vec![("t", Value::Float(f64::NEG_INFINITY))],
            vec![("skipped", Value::Str("inf".into()))],
            vec![("job_name", Value::Str("given".into()))],
            vec![("test_config", Value::Str("given".into()))],
        ] {
            let o = case(&extra);
            assert_eq!(line_with_job_keys(&line(&o), keys.0, keys.1, keys.2), None);
        }
        assert_eq!(line_with_job_keys(b"{}", "j", "b", "c"), None);
        assert_eq!(line_with_job_keys(b"", "j", "b", "c"), None);
    }

    #[test]
    fn job_name_expression() {
        let cases = [
            (
                "linux-jammy-py3.10-gcc11 / test (default, 1, 5, linux.4xlarge)",
                ("linux-jammy-py3.10-gcc11", "default"),
            ),
            ("a / b / test (cfg, 1, 2, r)", ("a / b", "cfg")),
            (
                "win / test (distributed, 1, 1, windows.4xlarge) extra",
                ("win", "distributed"),
            ),
            ("build / linux-test (x, 1)", ("build", "x")),
            ("build / test (nocomma)", (NO_BUILD_ENV, NO_TEST_CONFIG)),
            ("NoJobName", (NO_BUILD_ENV, NO_TEST_CONFIG)),
            ("build / test (a,b, c)", (NO_BUILD_ENV, NO_TEST_CONFIG)),
            ("x / test (a, b) / test (c, d)", ("x / test (a, b)", "c")),
        ];
        for (name, (b, c)) in cases {
            assert_eq!(
                build_and_config(name),
                (b.to_string(), c.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn pydict_merges_equal_keys_and_writes_json_keys() {
        let mut d: PyDict<Value> = PyDict::default();
        d.assign(&Value::Int(1), Value::Int(10));
        d.assign(&Value::Float(1.0), Value::Int(11));
        d.assign(&Value::Float(f64::NAN), Value::Int(12));
        d.assign(&Value::Float(0.5), Value::Float(f64::INFINITY));
        let mut out = Vec::new();
        d.write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"1": 11, "NaN": 12, "0.5": Infinity}"#
        );
    }
}
