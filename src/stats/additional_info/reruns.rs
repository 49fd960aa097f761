//! The reruns document: groups with a rerun case, nested by build, config, file, class and
//! name, each leaf the case documents with the job keys added.

use super::*;

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
