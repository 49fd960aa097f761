//! Fuzz target: report bytes -> cases -> JSON lines, the conversion every report goes through.
//! Besides not crashing, each case must serialise to one line of ASCII JSON (Python's
//! `json.dumps` defaults escape everything else) that a JSON parser accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testscope::report::{Enrichment, Value, parse_report, pyjson};

fuzz_target!(|data: &[u8]| {
    let enrich = Enrichment {
        workflow_id: "123".into(),
        attempt: Value::Int(1),
        job_id: Value::Null,
        invoking_file: "test_fuzz".into(),
    };
    let Ok(cases) = parse_report(data, &enrich) else {
        return;
    };
    let mut line = Vec::new();
    for case in &cases {
        line.clear();
        pyjson::write_object(&mut line, case);
        assert!(line.is_ascii(), "non-ASCII output");
        assert!(!line.contains(&b'\n'), "a document spans lines");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
            panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(&line));
        }
    }
});
