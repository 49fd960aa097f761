//! Fuzz target: report bytes -> cases -> JSON lines, the conversion every report goes through.
//! Besides not crashing, each case must serialise to one line of ASCII JSON (Python's
//! `json.dumps` defaults escape everything else) that a JSON parser accepts, and the
//! streaming reader (flat cases unbuilt) must give the same lines, or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use testscope::py::json as pyjson;
use testscope::report::{Case, Enrichment, Value, parse_cases_each, parse_report};

fuzz_target!(|data: &[u8]| {
    let enrich = Enrichment {
        workflow_id: "123".into(),
        attempt: Value::Int(1),
        job_id: Value::Null,
        invoking_file: "test_fuzz".into(),
    };
    let tail = enrich.tail();
    let mut streamed = Vec::new();
    let each = parse_cases_each(data, &mut |case| {
        match &case {
            Case::Built(o) => enrich.write_enriched_with(&mut streamed, o, &tail),
            Case::Flat(f) => enrich.write_enriched_with(&mut streamed, f, &tail),
        }
        streamed.push(b'\n');
    });
    let cases = match (parse_report(data, &enrich), each) {
        (Ok(cases), Ok(())) => cases,
        (Err(a), Err(b)) => {
            assert_eq!(a.to_string(), b.to_string(), "the two readers disagree on the error");
            return;
        }
        (a, b) => panic!("the two readers disagree: {a:?} vs {b:?}"),
    };
    let mut joined = Vec::new();
    let mut line = Vec::new();
    for case in &cases {
        line.clear();
        pyjson::write_object(&mut line, case);
        assert!(line.is_ascii(), "non-ASCII output");
        assert!(!line.contains(&b'\n'), "a document spans lines");
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(&line) {
            panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(&line));
        }
        joined.extend_from_slice(&line);
        joined.push(b'\n');
    }
    assert!(joined == streamed, "the streaming reader wrote other lines");
});
