//! The case table: one compact row per test case of the run, in run order. It is what
//! additional_info groups over and what a front-end lists; a case's whole document is
//! re-read from its file on demand (file index + ordinal), never kept for a million cases.

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::{xxh3_64_with_seed, xxh3_128, xxh3_128_with_seed};

use crate::py::json::{self as pyjson, NonFinite};
use crate::report::{Known, Value, ValueRef};

use super::{CaseFlags, CaseKey, CaseStatus, SummaryKeyPart, case_key};

/// Flag bits of [`CaseTable::flags`].
pub mod flag {
    pub const FAILURE: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const SKIPPED: u8 = 4;
    pub const RERUN: u8 = 8;
    /// `time` is missing or not a number (stored as 0.0).
    pub const NO_TIME: u8 = 16;
    /// `flakyFailure`/`flakyError` children (Surefire, Gradle): failed attempts of a pass.
    pub const FLAKY_ATTEMPT: u8 = 32;
    /// `rerunFailure`/`rerunError` children (Surefire): failed re-runs of a failure.
    pub const RERUN_ATTEMPT: u8 = 64;
    /// Retried in any dialect but PyTorch's `rerun`.
    pub const RETRIED: u8 = FLAKY_ATTEMPT | RERUN_ATTEMPT;
}

/// Id of an interned value; `ABSENT` where the case has no such key.
pub type ValueId = u32;
pub const ABSENT: ValueId = u32::MAX;

/// Values interned by exact identity (their JSON text): file and class names repeat a lot.
#[derive(Debug, Default)]
pub struct ValueTable {
    values: Vec<Value>,
    index: FxHashMap<u64, ValueId>,
    /// Values whose hash collided with a different value (practically never used).
    overflow: Vec<ValueId>,
}

impl ValueTable {
    pub fn intern(&mut self, v: &Value) -> ValueId {
        let h = exact_hash(v);
        match self.index.get(&h) {
            Some(&id)
                if self.values[id as usize] == *v || same_nan(&self.values[id as usize], v) =>
            {
                id
            }
            Some(_) => {
                if let Some(&id) = self
                    .overflow
                    .iter()
                    .find(|&&id| self.values[id as usize] == *v)
                {
                    return id;
                }
                let id = self.push(v);
                self.overflow.push(id);
                id
            }
            None => {
                let id = self.push(v);
                self.index.insert(h, id);
                id
            }
        }
    }

    fn push(&mut self, v: &Value) -> ValueId {
        self.values.push(v.clone());
        (self.values.len() - 1) as ValueId
    }

    pub fn get(&self, id: ValueId) -> Option<&Value> {
        self.values.get(id as usize)
    }

    /// The values in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Value> {
        self.values.iter()
    }
}

/// A hash of the value's exact identity (variant and content).
fn exact_hash(v: &Value) -> u64 {
    let mut buf = Vec::new();
    let (tag, bytes): (u8, &[u8]) = match v {
        Value::Null => (0, b""),
        Value::Str(s) => (1, s.as_bytes()),
        Value::BigInt(s) => (2, s.as_bytes()),
        Value::Int(i) => {
            buf.extend_from_slice(&i.to_le_bytes());
            (3, &buf)
        }
        Value::Float(f) => {
            let bits = if f.is_nan() {
                f64::NAN.to_bits()
            } else {
                f.to_bits()
            };
            buf.extend_from_slice(&bits.to_le_bytes());
            (4, &buf)
        }
        Value::List(_) | Value::Object(_) => {
            pyjson::write_value_with(&mut buf, v, NonFinite::Literal);
            (5, &buf)
        }
    };
    xxh3_64_with_seed(bytes, u64::from(tag))
}

/// NaN != NaN, but for interning two NaN floats are the same text.
fn same_nan(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Float(x), Value::Float(y)) if x.is_nan() && y.is_nan())
}

/// One file's cases as the loader hands them over (built on the worker that parsed them):
/// columns, the names in one text, and runs of neighbouring cases whose file and classname
/// are the same strings, each with its summary key made once.
#[derive(Debug, Default)]
pub struct FileRows {
    pub flags: Vec<u8>,
    pub time: Vec<f64>,
    names: String,
    name_end: Vec<u32>,
    /// Names that are not strings, or absent (None), by position in the file.
    odd_names: Vec<(u32, Option<Value>)>,
    pub runs: Vec<Run>,
}

/// Neighbouring cases of a file with one file and classname.
#[derive(Debug)]
pub struct Run {
    pub key: CaseKey,
    pub file: Option<Value>,
    pub classname: Option<Value>,
    pub len: usize,
}

impl FileRows {
    /// Room for the cases of a report of `xml_bytes`, guessed from typical reports (about
    /// 190 bytes of XML and 40 bytes of name per case; more makes the columns grow as usual),
    /// so that most files fill their columns without reallocating.
    pub fn with_capacity(xml_bytes: usize) -> Self {
        let cases = (xml_bytes / 160).min(1 << 16);
        Self {
            flags: Vec::with_capacity(cases),
            time: Vec::with_capacity(cases),
            names: String::with_capacity(cases * 40),
            name_end: Vec::with_capacity(cases),
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Add a case. `unique` must differ for every case of the run: it keys NaN and
    /// unhashable values, which never equal anything in a dict.
    pub fn push(&mut self, case: &Known<'_>, flags: CaseFlags, time: Option<f64>, unique: u64) {
        let mut bits = 0;
        for (on, bit) in [
            (flags.failure, flag::FAILURE),
            (flags.error, flag::ERROR),
            (flags.skipped, flag::SKIPPED),
            (flags.rerun, flag::RERUN),
            (time.is_none(), flag::NO_TIME),
            (flags.flaky_attempt, flag::FLAKY_ATTEMPT),
            (flags.rerun_attempt, flag::RERUN_ATTEMPT),
        ] {
            if on {
                bits |= bit;
            }
        }
        self.flags.push(bits);
        self.time.push(time.unwrap_or(0.0));
        let Known {
            file,
            classname,
            name,
            ..
        } = *case;
        match self.runs.last_mut() {
            Some(run)
                if same_text(run.file.as_ref(), file)
                    && same_text(run.classname.as_ref(), classname) =>
            {
                run.len += 1
            }
            _ => {
                let file = file.map(ValueRef::to_value);
                let classname = classname.map(ValueRef::to_value);
                let key = case_key(file.as_ref(), classname.as_ref(), unique);
                self.runs.push(Run {
                    key,
                    file,
                    classname,
                    len: 1,
                });
            }
        }
        match name {
            Some(ValueRef::Str(s)) if self.names.len() + s.len() < u32::MAX as usize => {
                self.names.push_str(s);
            }
            other => self
                .odd_names
                .push((self.name_end.len() as u32, other.map(ValueRef::to_value))),
        }
        self.name_end.push(self.names.len() as u32);
    }

    /// The summary column case `i` counts in.
    pub fn status(&self, i: usize) -> CaseStatus {
        status_of(self.flags[i])
    }

    /// Case `i`'s time, when it has a numeric one.
    pub fn numeric_time(&self, i: usize) -> Option<f64> {
        (self.flags[i] & flag::NO_TIME == 0).then_some(self.time[i])
    }
}

/// Both absent, or the same string (other values take the full key comparison: NaN never
/// equals itself, and 1 equals 1.0).
fn same_text(a: Option<&Value>, b: Option<ValueRef<'_>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Str(x)), Some(ValueRef::Str(y))) => x == y,
        _ => false,
    }
}

/// Status from flag bits, by the one priority rule in [`CaseFlags::status`].
pub fn status_of(flags: u8) -> CaseStatus {
    CaseFlags {
        failure: flags & flag::FAILURE != 0,
        error: flags & flag::ERROR != 0,
        skipped: flags & flag::SKIPPED != 0,
        rerun: flags & flag::RERUN != 0,
        flaky_attempt: flags & flag::FLAKY_ATTEMPT != 0,
        rerun_attempt: flags & flag::RERUN_ATTEMPT != 0,
    }
    .status()
}

/// Every case of the run, column-wise.
#[derive(Debug, Default)]
pub struct CaseTable {
    pub file_index: Vec<u32>,
    /// Each file's first row, by file index (its cases' rows follow in document order, so
    /// a case's position among them is derived, not stored: 4 bytes a case less).
    file_first: Vec<u32>,
    pub flags: Vec<u8>,
    pub time: Vec<f64>,
    pub file: Vec<ValueId>,
    pub classname: Vec<ValueId>,
    /// Names are nearly all distinct: string names live in one text arena (end offsets);
    /// other values (rare) in `odd_names`.
    name_text: String,
    name_end: Vec<u32>,
    odd_names: FxHashMap<u32, Option<Value>>,
    pub values: ValueTable,
}

impl CaseTable {
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The rows of file `file`'s cases (empty for a file that was not read).
    pub fn file_rows(&self, file: usize) -> std::ops::Range<usize> {
        let start = match self.file_first.get(file) {
            Some(&s) if s != u32::MAX => s as usize,
            _ => return 0..0,
        };
        let end = self.file_first[file + 1..]
            .iter()
            .find(|&&s| s != u32::MAX)
            .map_or(self.len(), |&s| s as usize);
        start..end
    }

    /// Position of case `row` among its file's cases (document order).
    pub fn ordinal(&self, row: usize) -> u32 {
        row as u32 - self.file_first[self.file_index[row] as usize]
    }

    /// Room for `cases` more cases with `name_bytes` of names. Growing by doubling would
    /// hold the old and the new buffer at once (a third of the peak memory on a PyTorch
    /// run); capacity that is never written costs address space, not memory.
    pub fn reserve(&mut self, cases: usize, name_bytes: usize) {
        self.file_index.reserve(cases);
        self.flags.reserve(cases);
        self.time.reserve(cases);
        self.file.reserve(cases);
        self.classname.reserve(cases);
        self.name_end.reserve(cases);
        self.name_text.reserve(name_bytes);
    }

    /// Append a file's cases. Each run's file and classname are interned once.
    pub fn push_file(&mut self, file_index: usize, rows: FileRows) {
        let n = rows.len();
        let first = self.len() as u32;
        if self.file_first.len() <= file_index {
            self.file_first.resize(file_index + 1, u32::MAX);
        }
        self.file_first[file_index] = first;
        for run in rows.runs {
            let mut intern = |v: Option<Value>| v.map_or(ABSENT, |v| self.values.intern(&v));
            let (file, classname) = (intern(run.file), intern(run.classname));
            self.file.extend(std::iter::repeat_n(file, run.len));
            self.classname
                .extend(std::iter::repeat_n(classname, run.len));
        }
        self.file_index
            .extend(std::iter::repeat_n(file_index as u32, n));
        self.flags.extend_from_slice(&rows.flags);
        self.time.extend_from_slice(&rows.time);
        if self.name_text.len() + rows.names.len() < u32::MAX as usize {
            let offset = self.name_text.len() as u32;
            self.name_text.push_str(&rows.names);
            self.name_end
                .extend(rows.name_end.iter().map(|end| end + offset));
            for (i, name) in rows.odd_names {
                self.odd_names.insert(first + i, name);
            }
            return;
        }
        // Past 4 GiB of names (never in practice): what does not fit is kept apart.
        let mut odd = rows.odd_names.into_iter().peekable();
        let mut start = 0;
        for (i, &end) in rows.name_end.iter().enumerate() {
            let name = match odd.next_if(|(j, _)| *j == i as u32) {
                Some((_, name)) => name,
                None => Some(Value::Str(rows.names[start as usize..end as usize].into())),
            };
            start = end;
            match name {
                Some(Value::Str(s)) if self.name_text.len() + s.len() < u32::MAX as usize => {
                    self.name_text.push_str(&s);
                }
                other => {
                    self.odd_names.insert(self.name_end.len() as u32, other);
                }
            }
            self.name_end.push(self.name_text.len() as u32);
        }
    }

    /// Each case's additional_info group key: a hash of the Python-equality parts of
    /// (file|"NoFile", classname|"NoClass", name|"NoName"), as `.get(k, default)` reads
    /// them. A NaN or unhashable part never equals another, so its case groups alone.
    /// Values repeat: each interned one is hashed once; rows are hashed on two threads.
    pub fn group_keys(&self) -> Vec<u128> {
        self.group_keys_with(|_, key| key)
    }

    /// [`Self::group_keys`], each passed through `f(row, key)` on the thread that made it
    /// (so a caller's own keys need no second pass over a million rows).
    pub fn group_keys_with(&self, f: impl Fn(usize, u128) -> u128 + Sync) -> Vec<u128> {
        let part_hash = |part: &SummaryKeyPart| {
            let mut buf = Vec::new();
            part.hash_into(&mut buf);
            xxh3_128(&buf)
        };
        let parts: Vec<Option<u128>> = self
            .values
            .values
            .iter()
            .map(|v| {
                let mut unique = false;
                let part = SummaryKeyPart::of(Some(v), &mut || {
                    unique = true;
                    0
                });
                (!unique).then(|| part_hash(&part))
            })
            .collect();
        let no_file = part_hash(&SummaryKeyPart::Str("NoFile".into()));
        let no_class = part_hash(&SummaryKeyPart::Str("NoClass".into()));
        let part_of = |id: ValueId, absent: u128| {
            if id == ABSENT {
                Some(absent)
            } else {
                parts[id as usize]
            }
        };
        let key_of = |row: usize, buf: &mut Vec<u8>| {
            let (file, class) = (
                part_of(self.file[row], no_file),
                part_of(self.classname[row], no_class),
            );
            let name = match self.odd_names.get(&(row as u32)) {
                None => Some(self.name_text_of(row)),
                Some(None) => Some("NoName"),
                Some(Some(_)) => None,
            };
            // Nearly every case: a hashable file and classname, and a string name. Its name
            // alone is hashed, seeded by the other two parts, which are then folded in (odd
            // multipliers keep the two apart): no buffer to build, a third of the bytes.
            if let (Some(file), Some(class), Some(name)) = (file, class, name) {
                let mix = file
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
                    .wrapping_add(class.wrapping_mul(0xd6e8_feb8_6659_fd93_c2b2_ae3d_27d4_eb4f));
                let seed = (mix >> 64) as u64 ^ mix as u64;
                return xxh3_128_with_seed(name.as_bytes(), seed) ^ mix;
            }
            buf.clear();
            for (part, slot) in [(file, 0u8), (class, 1)] {
                match part {
                    Some(h) => buf.extend_from_slice(&h.to_le_bytes()),
                    None => {
                        buf.extend_from_slice(&[0xff, slot]);
                        buf.extend_from_slice(&(row as u64).to_le_bytes());
                    }
                }
            }
            match self.odd_names.get(&(row as u32)) {
                Some(Some(v)) => {
                    let mut n = 0;
                    SummaryKeyPart::of(Some(v), &mut || {
                        n += 1;
                        ((row as u64) << 2) | n
                    })
                    .hash_into(buf)
                }
                _ => hash_str_into(buf, name.unwrap_or("NoName")),
            }
            xxh3_128(buf)
        };
        let mut keys = vec![0u128; self.len()];
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        let chunk = self.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (n, out) in keys.chunks_mut(chunk).enumerate() {
                let f = &f;
                s.spawn(move || {
                    let mut buf = Vec::new();
                    for (i, key) in out.iter_mut().enumerate() {
                        let row = n * chunk + i;
                        *key = f(row, key_of(row, &mut buf));
                    }
                });
            }
        });
        keys
    }

    /// A case's name, or `default` (as a string) when it has none.
    pub fn name_or(&self, row: usize, default: &str) -> Value {
        if let Some(odd) = self.odd_names.get(&(row as u32)) {
            return odd.clone().unwrap_or_else(|| Value::Str(default.into()));
        }
        let start = if row == 0 {
            0
        } else {
            self.name_end[row - 1] as usize
        };
        Value::Str(self.name_text[start..self.name_end[row] as usize].into())
    }

    /// A case's name when it is a string (nearly always), without copying it.
    pub fn name_str(&self, row: usize) -> Option<&str> {
        if self.odd_names.contains_key(&(row as u32)) {
            return None;
        }
        Some(self.name_text_of(row))
    }

    /// A case's text in the name arena (empty for an odd name).
    fn name_text_of(&self, row: usize) -> &str {
        let start = if row == 0 {
            0
        } else {
            self.name_end[row - 1] as usize
        };
        &self.name_text[start..self.name_end[row] as usize]
    }

    /// The value of a column, or `default` (as a string) when the case lacks the key.
    pub fn value_or(&self, id: ValueId, default: &str) -> Value {
        self.values
            .get(id)
            .cloned()
            .unwrap_or_else(|| Value::Str(default.into()))
    }
}

/// [`SummaryKeyPart::hash_into`] of `SummaryKeyPart::Str(s)`.
fn hash_str_into(buf: &mut Vec<u8>, s: &str) {
    buf.push(1);
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

impl SummaryKeyPart {
    /// Feed a self-delimiting encoding of the part to a hash buffer.
    pub fn hash_into(&self, buf: &mut Vec<u8>) {
        let (tag, text): (u8, &[u8]) = match self {
            Self::Null => (0, b""),
            Self::Str(s) => return hash_str_into(buf, s),
            Self::Integral(s) => (2, s.as_bytes()),
            Self::Fractional(s) => (3, s.as_bytes()),
            Self::Unique(n) => {
                buf.push(4);
                buf.extend_from_slice(&n.to_le_bytes());
                return;
            }
        };
        buf.push(tag);
        buf.extend_from_slice(&(text.len() as u64).to_le_bytes());
        buf.extend_from_slice(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Fields, Object};

    /// A case's position among its file's cases, derived from the file's first row, with
    /// files skipped (unreadable, or without cases) between them.
    #[test]
    fn ordinals_count_within_each_file() {
        let mut t = CaseTable::default();
        for (file_index, cases) in [(0, 3), (2, 2), (3, 0), (5, 4)] {
            let mut rows = FileRows::default();
            for n in 0..cases {
                let c = Object::new();
                rows.push(&c.known(), CaseFlags::default(), None, n);
            }
            t.push_file(file_index, rows);
        }
        let got: Vec<_> = (0..t.len())
            .map(|r| (t.file_index[r], t.ordinal(r)))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0),
                (0, 1),
                (0, 2),
                (2, 0),
                (2, 1),
                (5, 0),
                (5, 1),
                (5, 2),
                (5, 3)
            ]
        );
    }

    #[test]
    fn group_keys_follow_python_equality() {
        // Rows 0.. of a table, one case per name given (classname "C").
        let keys = |names: Vec<Option<Value>>| {
            let mut rows = FileRows::default();
            for (n, name) in names.into_iter().enumerate() {
                let mut c = Object::new();
                c.insert("classname", Value::Str("C".into()));
                if let Some(v) = name {
                    c.insert("name", v);
                }
                rows.push(&c.known(), CaseFlags::default(), Some(1.0), n as u64);
            }
            let mut t = CaseTable::default();
            t.push_file(0, rows);
            t.group_keys()
        };
        let k = keys(vec![
            Some(Value::Int(1)),
            Some(Value::Float(1.0)),
            Some(Value::Str("1".into())),
            Some(Value::Float(f64::NAN)),
            Some(Value::Float(f64::NAN)),
            None,
            Some(Value::Str("NoName".into())),
            Some(Value::Int(1)),
        ]);
        assert_eq!(k[0], k[1], "1 == 1.0");
        assert_ne!(k[0], k[2], "1 != '1'");
        assert_ne!(k[3], k[4], "NaN != NaN");
        assert_eq!(k[5], k[6], "an absent name reads as 'NoName'");
        assert_eq!(k[0], k[7]);

        // Files and classnames: absent ones read as their defaults; NaN ones never match.
        let mut rows = FileRows::default();
        for (n, (file, class)) in [
            (None, None),
            (
                Some(Value::Str("NoFile".into())),
                Some(Value::Str("NoClass".into())),
            ),
            (Some(Value::Float(f64::NAN)), None),
            (Some(Value::Float(f64::NAN)), None),
        ]
        .into_iter()
        .enumerate()
        {
            let mut c = Object::new();
            c.insert("name", Value::Str("t".into()));
            if let Some(f) = file {
                c.insert("file", f);
            }
            if let Some(cl) = class {
                c.insert("classname", cl);
            }
            rows.push(&c.known(), CaseFlags::default(), None, n as u64);
        }
        assert!(rows.flags.iter().all(|&f| f == flag::NO_TIME));
        let mut t = CaseTable::default();
        t.push_file(0, rows);
        let k = t.group_keys();
        assert_eq!(k[0], k[1]);
        assert_ne!(k[2], k[3]);

        // Each part counts in its own place: a file and classname swapped are another test.
        let mut rows = FileRows::default();
        for (n, (file, class, name)) in [
            ("a", "b", "t"),
            ("b", "a", "t"),
            ("a", "b", "t"),
            ("a", "b", "u"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut c = Object::new();
            c.insert("file", Value::Str(file.into()));
            c.insert("classname", Value::Str(class.into()));
            c.insert("name", Value::Str(name.into()));
            rows.push(&c.known(), CaseFlags::default(), Some(1.0), n as u64);
        }
        let mut t = CaseTable::default();
        t.push_file(0, rows);
        let k = t.group_keys();
        assert_eq!(k[0], k[2]);
        assert_ne!(k[0], k[1]);
        assert_ne!(k[0], k[3]);
    }

    #[test]
    fn interning_is_exact() {
        let mut t = ValueTable::default();
        let a = t.intern(&Value::Int(1));
        let b = t.intern(&Value::Float(1.0));
        let c = t.intern(&Value::Int(1));
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_eq!(
            t.intern(&Value::Float(f64::NAN)),
            t.intern(&Value::Float(f64::NAN))
        );
    }
}
