//! What a report's path says about its cases (docs/compatibility.md section 2): the job id from the first
//! path component, the invoking file from the folder holding the report.

use crate::py::num::py_int;
use crate::py::value::Value;

/// `int(parts[0].rpartition("_")[2])`, or null where Python's int() refuses.
pub fn job_id(first_component: &str) -> Value {
    let tail = first_component
        .rsplit_once('_')
        .map_or(first_component, |(_, t)| t);
    py_int(tail).unwrap_or(Value::Null)
}

/// `report.parent.name`: the folder directly holding the report ("" at the top).
pub fn invoking_file(components: &[impl AsRef<str>]) -> &str {
    match components {
        [.., parent, _file] => parent.as_ref(),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_rules() {
        let cases = [
            (
                "unzipped-test-reports-default-1-5-linux.2xlarge_32895338374",
                Value::Int(32895338374),
            ),
            (
                "unzipped-test-reports-default-1-3-windows.4xlarge.nonephemeral_",
                Value::Null,
            ),
            ("unzipped-no-underscore-42", Value::Null),
            ("42", Value::Int(42)),
            ("test", Value::Null),
            ("x_1_000", Value::Int(0)),
            ("x_ 12 ", Value::Int(12)),
            ("x_٣", Value::Int(3)),
            ("x_-7", Value::Int(-7)),
            ("x_0x10", Value::Null),
            (
                "x_123456789012345678901234567890",
                Value::BigInt("123456789012345678901234567890".into()),
            ),
        ];
        for (part, want) in cases {
            assert_eq!(job_id(part), want, "{part}");
        }
    }

    #[test]
    fn invoking_file_is_parent_folder() {
        let p = [
            "unzipped-x_1",
            "test",
            "test-reports",
            "python-pytest",
            "distributed",
            "test_c10d_nccl",
            "r.xml",
        ];
        assert_eq!(invoking_file(&p), "test_c10d_nccl");
        assert_eq!(invoking_file(&["r.xml"]), "");
        assert_eq!(invoking_file(&["a", "r.xml"]), "a");
    }
}
