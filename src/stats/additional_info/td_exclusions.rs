//! td_exclusions: the test-jsons files' excluded tests, merged per build and config.

use super::*;

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
