//! invoking_file_summary and test_status: per-group counts and statuses, written as the
//! script's nested dicts.

use super::*;

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
