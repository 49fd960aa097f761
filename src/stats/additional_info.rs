//! The four additional_info collections (spec section 6): reruns, td_exclusions,
//! invoking_file_summary, test_status. Cases are grouped by (build name, test config, file,
//! classname, name) with Python dict semantics; job names come from GitHub (or are
//! `NoJobName`). Unlike the core collections these are dumped without `remove_nan_inf`,
//! so NaN and infinities appear as `NaN`/`Infinity` literals, as the reference writes them.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::report::pyjson::{self, NonFinite};
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

/// One group: its build/config and its cases, linked through [`Grouping::next`] (a million
/// groups of mostly one case each: no per-group allocation).
#[derive(Debug, Clone, Copy)]
pub struct Group {
    pub build_config: u32,
    pub first: u32,
    pub last: u32,
    pub len: u32,
}

const END: u32 = u32::MAX;

/// The run's cases grouped as the reference's `_group_test_cases` does.
#[derive(Debug, Default)]
pub struct Grouping {
    /// (build name, test config) per distinct pair, indexed by `Group::build_config`.
    pub builds: Vec<(String, String)>,
    pub groups: Vec<Group>,
    /// Per case row: the next row of its group, or END.
    pub next: Vec<u32>,
    /// Job name of every file, by file index (`None` for files of bazel builds).
    pub file_job_names: Vec<Option<String>>,
}

impl Grouping {
    /// The case rows of a group, in run order.
    pub fn rows(&self, group: &Group) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(group.first), |&r| {
            Some(self.next[r as usize]).filter(|&n| n != END)
        })
    }
}

/// Group every case; `file_job_ids` gives each file's job id (by file index).
pub fn group_cases(
    cases: &CaseTable,
    file_job_ids: &[Value],
    names: &HashMap<i64, String>,
) -> Grouping {
    let mut g = Grouping::default();
    let mut build_ids: HashMap<(String, String), u32> = HashMap::new();
    // A job's files share its name: each name is parsed (two regexes) once.
    let mut by_name: HashMap<String, Option<u32>> = HashMap::new();
    // Per file: the index into `builds`, or None for bazel builds (left out).
    let per_file: Vec<Option<u32>> = file_job_ids
        .iter()
        .map(|id| {
            let name = job_name(id, names);
            let build_id = *by_name.entry(name.clone()).or_insert_with(|| {
                let (build, config) = build_and_config(&name);
                if build.contains("bazel") {
                    return None;
                }
                let next = build_ids.len() as u32;
                let id = *build_ids
                    .entry((build.clone(), config.clone()))
                    .or_insert(next);
                if id == next {
                    g.builds.push((build, config));
                }
                Some(id)
            });
            g.file_job_names.push(build_id.map(|_| name));
            build_id
        })
        .collect();
    // A key is the case's 128-bit hash with the build/config folded in (an odd multiplier
    // keeps distinct pairs apart), its low 32 bits replaced by the row: 96 bits tell groups
    // apart (two of a million cases' differing tests agree on them with odds near 1e-17).
    // Cases of bazel builds are left out: they get the largest key, which no kept row's
    // key reaches (rows are below u32::MAX).
    const ROW: u128 = 0xffff_ffff;
    let keys = cases.group_keys_with(|row, key| match per_file[cases.file_index[row] as usize] {
        Some(bc) => {
            let mix = u128::from(bc + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
            ((key ^ mix) & !ROW) | row as u128
        }
        None => u128::MAX,
    });
    g.next = vec![END; cases.len()];
    let mut firsts = vec![0u64; cases.len().div_ceil(64)];
    let count = link_groups(&keys, BUCKET_BITS, &mut g.next, &mut firsts);
    drop(keys);
    // Groups in first-seen order, as a Python dict of groups: the marked rows in row order,
    // each group's last row and size read off its links.
    g.groups.reserve_exact(count);
    for (word_at, &word) in firsts.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            let first = (word_at * 64 + word.trailing_zeros() as usize) as u32;
            word &= word - 1;
            let (mut last, mut len) = (first, 1);
            while g.next[last as usize] != END {
                last = g.next[last as usize];
                len += 1;
            }
            g.groups.push(Group {
                build_config: per_file[cases.file_index[first as usize] as usize]
                    .expect("kept rows have a build"),
                first,
                last,
                len,
            });
        }
    }
    g
}

/// Bits of the buckets [`link_groups`] counts keys in: 2 MiB of bits, a cache-sized table.
const BUCKET_BITS: u32 = 24;

/// Link the rows of each group of `keys` (by row; a group is the keys that agree on all
/// but their low 32 bits, which hold the row; `u128::MAX` stands for a row left out): in
/// `next`, each row's next row in its group; in `firsts`, a bit per group's first row.
/// Returns the number of groups.
///
/// Nearly every group is one case (a test runs once per job): the keys are counted (to two)
/// in buckets of their top `bucket_bits` bits, and only those in a bucket with another key
/// are sorted to find their groups. Sorting every key cost about four times as much.
fn link_groups(keys: &[u128], bucket_bits: u32, next: &mut [u32], firsts: &mut [u64]) -> usize {
    let bucket = |key: u128| (key >> (128 - bucket_bits)) as usize;
    let words = (1usize << bucket_bits).div_ceil(64);
    let (mut once, mut twice) = (vec![0u64; words], vec![0u64; words]);
    for &key in keys.iter().filter(|&&k| k != u128::MAX) {
        let (word, bit) = (bucket(key) / 64, 1u64 << (bucket(key) % 64));
        twice[word] |= once[word] & bit;
        once[word] |= bit;
    }
    drop(once);
    let mut count = 0;
    let mut shared = Vec::new();
    for (row, &key) in keys.iter().enumerate() {
        if key == u128::MAX {
            continue;
        }
        let b = bucket(key);
        if twice[b / 64] & (1 << (b % 64)) != 0 {
            shared.push(key);
        } else {
            firsts[row / 64] |= 1 << (row % 64);
            count += 1;
        }
    }
    shared.sort_unstable();
    let row_of = |key: u128| (key & 0xffff_ffff) as u32;
    for run in shared.chunk_by(|a, b| a >> 32 == b >> 32) {
        for pair in run.windows(2) {
            next[row_of(pair[0]) as usize] = row_of(pair[1]);
        }
        let first = row_of(run[0]) as usize;
        firsts[first / 64] |= 1 << (first % 64);
        count += 1;
    }
    count
}

/// `additional_info/invoking_file_summary`: one document.
pub fn invoking_file_summary(cases: &CaseTable, g: &Grouping) -> Vec<u8> {
    struct Entry {
        build_config: u32,
        file: Value,
        count: u64,
        time: f64,
        status: [u64; 4],
    }
    const SKIPPED: usize = 0;
    const FAILURES: usize = 1;
    const ERRORS: usize = 2;
    const SUCCESSES: usize = 3;
    let mut flat: Vec<Entry> = Vec::new();
    let mut index: FxHashMap<(u32, SummaryKeyPart), usize> = FxHashMap::default();
    // The entry of each (build, interned file value) once looked up: values repeat across
    // a million groups. NaN-like values (a unique part) are looked up every time.
    let mut by_id: FxHashMap<(u32, ValueId), usize> = FxHashMap::default();
    let mut unique = 0u64;
    // Neighbouring groups nearly always share their entry: the last one found is tried
    // before the map.
    let mut last: Option<((u32, ValueId), usize)> = None;
    for group in &g.groups {
        let first = group.first as usize;
        let id = cases.file[first];
        let key = (group.build_config, id);
        let i = match last
            .filter(|l| l.0 == key)
            .or_else(|| by_id.get(&key).map(|&i| (key, i)))
        {
            Some((_, i)) => {
                last = Some((key, i));
                i
            }
            None => {
                let file = cases.value_or(id, "NoFile");
                let part = SummaryKeyPart::of(Some(&file), &mut || {
                    unique += 1;
                    unique
                });
                let repeats = !matches!(part, SummaryKeyPart::Unique(_));
                let next = flat.len();
                let i = *index.entry((group.build_config, part)).or_insert(next);
                if i == next {
                    flat.push(Entry {
                        build_config: group.build_config,
                        file,
                        count: 0,
                        time: 0.0,
                        status: [0; 4],
                    });
                }
                if repeats {
                    by_id.insert((group.build_config, id), i);
                }
                i
            }
        };
        let e = &mut flat[i];
        e.count += 1;
        let mut status = SUCCESSES;
        for row in g.rows(group) {
            let row = row as usize;
            e.time += cases.time[row];
            let f = cases.flags[row];
            if f & flag::SKIPPED != 0 {
                status = SKIPPED;
            } else if f & flag::FAILURE != 0 {
                status = FAILURES;
            } else if f & flag::ERROR != 0 {
                status = ERRORS;
            }
        }
        e.status[status] += 1;
    }
    let mut out: PyDict<PyDict<PyDict<Value>>> = PyDict::default();
    for e in flat {
        let (build, config) = &g.builds[e.build_config as usize];
        let mut data = Object::with_capacity(8);
        data.push_unique("count".into(), Value::Int(e.count as i64));
        data.push_unique("time".into(), Value::Float(e.time));
        for (k, i) in [
            ("skipped", SKIPPED),
            ("failures", FAILURES),
            ("errors", ERRORS),
            ("successes", SUCCESSES),
        ] {
            data.push_unique(k.into(), Value::Int(e.status[i] as i64));
        }
        data.push_unique(
            "short_job_name".into(),
            Value::Str(format!("{build} / test ({config})").into()),
        );
        data.push_unique("file".into(), e.file.clone());
        out.setdefault(&Value::Str(build.as_str().into()), PyDict::default)
            .setdefault(&Value::Str(config.as_str().into()), PyDict::default)
            .assign(&e.file, Value::Object(data));
    }
    let mut body = Vec::new();
    out.write_json(&mut body);
    body.push(b'\n');
    body
}

/// Each build's short job name (`<build> / test (<config>)`) as a JSON string, by build
/// index: what [`test_status`] writes.
pub fn short_job_names(g: &Grouping) -> Vec<Vec<u8>> {
    g.builds
        .iter()
        .map(|(build, config)| {
            let mut text = Vec::new();
            pyjson::write_str(&mut text, &format!("{build} / test ({config})"));
            text
        })
        .collect()
}

/// The `additional_info/test_status` lines of the groups in `range`, appended to `out`
/// (the body has a line per test of the run: it is written straight into the buffer it is
/// compressed from, a range at a time on several threads). Returns the line count.
/// `values_json` is [`values_json`] of `cases` and `short` is [`short_job_names`] of `g`,
/// each made once for all ranges.
pub fn test_status(
    cases: &CaseTable,
    g: &Grouping,
    values_json: &[Vec<u8>],
    short: &[Vec<u8>],
    range: std::ops::Range<usize>,
    out: &mut Vec<u8>,
) -> u64 {
    let groups = &g.groups[range];
    for group in groups {
        let (mut failure, mut success) = (false, false);
        let mut first = None;
        for row in g.rows(group) {
            let f = cases.flags[row as usize];
            let s = if f & flag::SKIPPED != 0 {
                "skipped"
            } else if f & (flag::FAILURE | flag::ERROR) != 0 {
                failure = true;
                "failure"
            } else {
                success = true;
                "success"
            };
            first.get_or_insert(s);
        }
        let status = if failure && success {
            "flaky"
        } else {
            first.unwrap_or("success")
        };
        // The dict the reference dumps, written as `write_object_with` would write it
        // (its keys and statuses need no escapes) without building it.
        out.extend_from_slice(b"{\"short_job_name\": ");
        out.extend_from_slice(&short[group.build_config as usize]);
        out.extend_from_slice(b", \"file\": ");
        match values_json.get(cases.file[group.first as usize] as usize) {
            Some(json) => out.extend_from_slice(json),
            None => pyjson::write_str(out, "NoFile"),
        }
        out.extend_from_slice(b", \"name\": ");
        // The reference reads `tests[-1]["name"]` (a case without a name would crash it).
        match cases.name_str(group.last as usize) {
            Some(name) => pyjson::write_str(out, name),
            None => pyjson::write_value_with(
                out,
                &cases.name_or(group.last as usize, "NoName"),
                NonFinite::Literal,
            ),
        }
        out.extend_from_slice(b", \"status\": \"");
        out.extend_from_slice(status.as_bytes());
        out.extend_from_slice(b"\"}\n");
    }
    groups.len() as u64
}

/// Every interned value of `cases` as the JSON additional_info writes (a few thousand
/// files and classnames), by value id.
pub fn values_json(cases: &CaseTable) -> Vec<Vec<u8>> {
    cases
        .values
        .iter()
        .map(|v| {
            let mut json = Vec::new();
            pyjson::write_value_with(&mut json, v, NonFinite::Literal);
            json
        })
        .collect()
}

/// The (group, case rows) whose full documents `reruns` needs: groups of more than one case
/// outside the excluded files.
pub fn rerun_groups<'g>(cases: &CaseTable, g: &'g Grouping) -> Vec<&'g Group> {
    g.groups
        .iter()
        .filter(|group| group.len > 1)
        .filter(|group| {
            let file = cases.value_or(cases.file[group.first as usize], "NoFile");
            !RERUN_EXCLUDED_FILES
                .iter()
                .any(|x| file.as_str() == Some(x))
        })
        .collect()
}

/// The nesting of `additional_info/reruns` (build -> config -> file -> classname -> name),
/// with the index of a rerun group at each leaf, in the reference's dict order.
pub type RerunLayout = PyDict<PyDict<PyDict<PyDict<PyDict<u32>>>>>;

pub fn rerun_layout(groups: &[&Group], g: &Grouping, cases: &CaseTable) -> RerunLayout {
    let mut out = RerunLayout::default();
    for (i, group) in groups.iter().enumerate() {
        let (build, config) = &g.builds[group.build_config as usize];
        let t0 = group.first as usize;
        out.setdefault(&Value::Str(build.as_str().into()), PyDict::default)
            .setdefault(&Value::Str(config.as_str().into()), PyDict::default)
            .setdefault(&cases.value_or(cases.file[t0], "NoFile"), PyDict::default)
            .setdefault(
                &cases.value_or(cases.classname[t0], "NoClass"),
                PyDict::default,
            )
            .assign(&cases.name_or(t0, "NoName"), i as u32);
    }
    out
}

/// Receives output bytes.
pub type Out<'a> = dyn FnMut(&[u8]) + 'a;
/// Writes a leaf (a group index) to the output.
pub type Leaf<'a> = dyn FnMut(u32, &mut Out<'_>) + 'a;

/// Walks a nested dict, writing keys and braces, and leaves through a callback.
pub trait Nested {
    fn walk(&self, out: &mut Out<'_>, leaf: &mut Leaf<'_>);
}

impl Nested for u32 {
    fn walk(&self, out: &mut Out<'_>, leaf: &mut Leaf<'_>) {
        leaf(*self, out);
    }
}

impl<V: Nested> Nested for PyDict<V> {
    fn walk(&self, out: &mut Out<'_>, leaf: &mut Leaf<'_>) {
        out(b"{");
        for (n, (k, v)) in self.iter().enumerate() {
            let mut key = Vec::new();
            if n > 0 {
                key.extend_from_slice(b", ");
            }
            pyjson::write_key(&mut key, k);
            key.extend_from_slice(b": ");
            out(&key);
            v.walk(out, leaf);
        }
        out(b"}");
    }
}

/// Write the reruns document. `case_docs(i)` gives the JSON of rerun group i's cases, each
/// with `job_name`, `build_name`, `test_config` set (see [`with_job_keys`]).
pub fn write_reruns(
    layout: &RerunLayout,
    out: &mut dyn FnMut(&[u8]),
    case_docs: &mut dyn FnMut(u32) -> Vec<Vec<u8>>,
) {
    layout.walk(out, &mut |group, out| {
        out(b"[");
        for (n, doc) in case_docs(group).iter().enumerate() {
            if n > 0 {
                out(b", ");
            }
            out(doc);
        }
        out(b"]");
    });
    out(b"\n");
}

/// The leaves of a layout in document order (rerun group indices).
pub fn leaf_order(layout: &RerunLayout) -> Vec<u32> {
    let mut order = Vec::new();
    layout.walk(&mut |_| {}, &mut |group, _| order.push(group));
    order
}

/// A rerun case's document as the reference dumps it: the group's job keys set (an existing
/// key keeps its place), non-finite floats as `NaN`/`Infinity`.
pub fn with_job_keys(mut case: Object, job_name: &str, build: &str, config: &str) -> Vec<u8> {
    case.insert("job_name", Value::Str(job_name.into()));
    case.insert("build_name", Value::Str(build.into()));
    case.insert("test_config", Value::Str(config.into()));
    let mut out = Vec::new();
    pyjson::write_object_with(&mut out, &case, NonFinite::Literal);
    out
}

/// [`with_job_keys`] of a case given as its `test_run` line (without the newline), when the
/// line can stand for it: not when a non-finite float was cleaned into a string (the
/// reruns document writes it as a literal) or a job key is already there (it would keep
/// its place). `None` then, and the case is read again. Both tests look for the text
/// anywhere in the line: a false alarm costs a re-read, never a wrong document.
pub fn line_with_job_keys(
    line: &[u8],
    job_name: &str,
    build: &str,
    config: &str,
) -> Option<Vec<u8>> {
    const MARKS: [&[u8]; 6] = [
        b"\"nan\"",
        b"\"inf\"",
        b"\"-inf\"",
        b"\"job_name\": ",
        b"\"build_name\": ",
        b"\"test_config\": ",
    ];
    let body = line.strip_suffix(b"}")?;
    if body.len() < 2
        || MARKS
            .iter()
            .any(|m| memchr::memmem::find(line, m).is_some())
    {
        return None;
    }
    let mut out = Vec::with_capacity(line.len() + 64 + job_name.len() + build.len());
    out.extend_from_slice(body);
    for (key, value) in [
        (&b", \"job_name\": "[..], job_name),
        (b", \"build_name\": ", build),
        (b", \"test_config\": ", config),
    ] {
        out.extend_from_slice(key);
        pyjson::write_str(&mut out, value);
    }
    out.push(b'}');
    Some(out)
}

/// `additional_info/td_exclusions`: one document from the test-jsons files, given as
/// (job id, parsed JSON) in path order.
pub fn td_exclusions(
    files: &[(Value, serde_json::Value)],
    names: &HashMap<i64, String>,
) -> Vec<u8> {
    // build -> config -> files, both levels in first-seen order.
    type Configs = Vec<(String, BTreeSet<String>)>;
    let mut grouped: Vec<(String, Configs)> = Vec::new();
    for (job_id, doc) in files {
        let Some(excluded) = doc.get("excluded").and_then(|e| e.as_array()) else {
            continue;
        };
        for exclusion in excluded {
            let Some(test_file) = exclusion.get("test_file").and_then(|f| f.as_str()) else {
                continue;
            };
            let (build, config) = build_and_config(&job_name(job_id, names));
            let b = match grouped.iter().position(|(name, _)| *name == build) {
                Some(i) => i,
                None => {
                    grouped.push((build, Vec::new()));
                    grouped.len() - 1
                }
            };
            let configs = &mut grouped[b].1;
            let c = match configs.iter().position(|(name, _)| *name == config) {
                Some(i) => i,
                None => {
                    configs.push((config, BTreeSet::new()));
                    configs.len() - 1
                }
            };
            configs[c].1.insert(test_file.to_string());
        }
    }
    let mut out: PyDict<PyDict<Vec<String>>> = PyDict::default();
    for (build, configs) in grouped {
        let inner = out.setdefault(&Value::Str(build.into()), PyDict::default);
        for (config, files) in configs {
            // BTreeSet<String> iterates in byte order, which is Python's code point order.
            inner.assign(&Value::Str(config.into()), files.into_iter().collect());
        }
    }
    let mut body = Vec::new();
    out.write_json(&mut body);
    body.push(b'\n');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_same_whatever_the_buckets() {
        // Keys of 700 rows: 300 groups (some of several rows, in any order), and rows left
        // out. With one bucket every key is sorted; with many, nearly none.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
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
