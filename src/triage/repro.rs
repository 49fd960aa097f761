//! Repro commands for failing cases: the one PyTorch prints into the failure, else one built
//! from the report's names, and a shell script of them.
//!
//! Hand-written because no crate does it: the command is PyTorch's own text convention
//! (`print_repro_on_failure` in `common_utils`), read back out of a message, and the built
//! form follows PyTorch's and pytest's naming (invoking files, classnames, node ids). The only
//! shell syntax needed is single-quoting one argument, which [`shell_quote`] does.

use std::borrow::Cow;
use std::collections::HashSet;

/// PyTorch's header; the command is on the line after it, indented.
const HEADER: &str = "To execute this test, run the following from the base repo dir:";
/// PyTorch's footer under the command.
const FOOTER: &str = "This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0";

/// Where a repro command came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReproSource {
    /// Printed by the test itself (PyTorch's repro line), with its env prefix.
    Report,
    /// Built from the report's file, classname and name.
    Built,
}

/// A repro command for one failing case, to run from the base repo dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repro {
    pub command: String,
    pub source: ReproSource,
}

/// The line after PyTorch's "To execute this test, run the following from the base repo dir:"
/// in any of the given texts (message, then body), stripped.
///
/// Both forms are returned as written, env prefix included: `python test/x.py Class.test`
/// (2025+) and `python test/x.py -k test` (older, indented by 5 spaces when the prefix is
/// empty). CRLF is tolerated. The first header that has a command wins; a header with none
/// (at the end of a text, or followed by a blank line) is passed over. When newlines were lost
/// (an attribute written unescaped) the command is the rest of the header's own line. A
/// marker before the header, such as pytest's `E` in a long traceback, is removed from the
/// command line too.
pub fn extract(texts: &[&str]) -> Option<String> {
    texts.iter().find_map(|t| extract_one(t))
}

fn extract_one(text: &str) -> Option<String> {
    // One vector scan of the whole text; tracebacks without the header (most) stop here.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(HEADER));
    let first = FINDER.find(text.as_bytes())?;
    let from = text[..first].rfind('\n').map_or(0, |i| i + 1);
    let mut lines = text[from..].lines();
    while let Some(line) = lines.next() {
        let Some(at) = line.find(HEADER) else {
            continue;
        };
        let same_line = line[at + HEADER.len()..].trim();
        let command = if same_line.is_empty() {
            // Peeked, not taken: a blank line after the header may precede another header.
            let next = lines.clone().next()?;
            let marker = line[..at].trim();
            let next = next.trim();
            if marker.is_empty() {
                next
            } else {
                next.strip_prefix(marker).unwrap_or(next).trim()
            }
        } else {
            same_line
        };
        let command = command
            .find(FOOTER)
            .map_or(command, |i| &command[..i])
            .trim();
        if !command.is_empty() {
            return Some(command.to_owned());
        }
    }
    None
}

/// The repro for a failing case: extracted if present, else built from the report.
///
/// Built commands (all relative to the base repo dir):
/// * PyTorch shape, `python test/<inv>.py <Class>.<name>`, when `invoking_file` names a
///   PyTorch test module. PyTorch writes it dotted (the report's folder, e.g.
///   `dynamo.test_misc`, from `test/dynamo/test_misc.py`), so `.` becomes `/`; `/` and a
///   trailing `.py` are accepted too. It must be Python identifiers with a last part starting
///   `test_` (run_test.py only launches `test_*.py`, and report folders such as
///   `python-pytest` are not modules), and agree with `file` and with the classname's module
///   when those are given (`file` is relative to `test/` in PyTorch's reports). The class is
///   the classname's last dotted part (`test_ops.TestCommonCPU` → `TestCommonCPU`), when it
///   starts upper-case; without one, `-k <name>` is used.
/// * Otherwise a pytest node id, `pytest <path>::<Class>::<name>`: the path is `file` when
///   given, else the classname's module part (its segments before the first one starting
///   with an upper-case letter, dots to `/`, plus `.py`); the classes are the segments from
///   that one on. With no path at all, `pytest -k '<Class> and <name>'`.
///
/// Arguments are quoted with [`shell_quote`] only when they need it.
pub fn repro_for(
    texts: &[&str],
    file: Option<&str>,
    classname: &str,
    name: &str,
    invoking_file: Option<&str>,
) -> Repro {
    match extract(texts) {
        Some(command) => Repro {
            command,
            source: ReproSource::Report,
        },
        None => Repro {
            command: built(file, classname, name, invoking_file),
            source: ReproSource::Built,
        },
    }
}

fn built(file: Option<&str>, classname: &str, name: &str, invoking_file: Option<&str>) -> String {
    let name = name.trim();
    let file = file
        .map(|f| f.trim().replace('\\', "/"))
        .filter(|f| !f.is_empty());
    let segments: Vec<&str> = classname
        .trim()
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    // Module parts are lower-case (`test.test_ops`), classes upper-case (`TestCommonCPU`).
    let first_class = segments
        .iter()
        .position(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
        .unwrap_or(segments.len());
    let (module, classes) = segments.split_at(first_class);

    if let Some(inv) = invoking_file.and_then(pytorch_module)
        && agrees(&inv, file.as_deref(), module)
    {
        // The report's folder names the file (`test_c10d_nccl`); `file`, when it agrees,
        // also has its folder under test/ (`distributed/test_c10d_nccl.py`).
        let inv = file
            .as_deref()
            .map(|f| f.strip_suffix(".py").unwrap_or(f))
            .filter(|f| f.len() > inv.len() && pytorch_module(f).is_some())
            .map_or(inv, str::to_string);
        return match classes.last() {
            Some(class) => format!(
                "python test/{inv}.py {}",
                shell_quote(&format!("{class}.{name}"))
            ),
            None => format!("python test/{inv}.py -k {}", shell_quote(name)),
        };
    }

    let path = file.or_else(|| (!module.is_empty()).then(|| format!("{}.py", module.join("/"))));
    match path {
        Some(path) => {
            let mut node = path;
            for part in classes.iter().copied().chain([name]) {
                node.push_str("::");
                node.push_str(part);
            }
            format!("pytest {}", shell_quote(&node))
        }
        None => {
            let expr = match classes.last() {
                Some(class) => format!("{class} and {name}"),
                None => name.to_owned(),
            };
            format!("pytest -k {}", shell_quote(&expr))
        }
    }
}

/// `dynamo.test_misc`, `distributed/test_x`, `test_ops.py` → the path under `test/` without
/// `.py`, when it is a PyTorch test module.
fn pytorch_module(invoking_file: &str) -> Option<String> {
    let inv = invoking_file.trim();
    let inv = inv.strip_suffix(".py").unwrap_or(inv);
    let path = inv.replace(['.', '\\'], "/");
    let is_ident = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let ok = path.split('/').all(is_ident) && path.rsplit('/').next()?.starts_with("test_");
    ok.then_some(path)
}

/// The invoking file matches `file` and the classname's module where given: each is it, or
/// ends with `/` and it (`test.dynamo.test_misc` for `dynamo/test_misc`).
fn agrees(inv: &str, file: Option<&str>, module: &[&str]) -> bool {
    let same = |p: &str| p == inv || p.strip_suffix(inv).is_some_and(|head| head.ends_with('/'));
    let file_ok = file.is_none_or(|f| same(f.strip_suffix(".py").unwrap_or(f)));
    let module_ok = module.is_empty() || same(&module.join("/"));
    file_ok && module_ok
}

/// `arg` as one shell word: as is when it holds only characters no POSIX shell treats
/// specially (and does not start with `=`, which zsh expands), else in single quotes (a `'`
/// inside becomes `'\''`).
pub fn shell_quote(arg: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c);
    if !arg.is_empty() && !arg.starts_with('=') && arg.chars().all(plain) {
        Cow::Borrowed(arg)
    } else {
        Cow::Owned(format!("'{}'", arg.replace('\'', r"'\''")))
    }
}

/// A deduplicated shell script from commands: a `#!/usr/bin/env bash` line and a comment
/// header, then one command per line in order of first appearance (compared after trimming;
/// blank ones dropped). There is no `set -e`: each command is expected to fail, and the rest
/// should still run; nor `set -u`, as the commands use no variables.
pub fn script(commands: impl IntoIterator<Item = String>) -> String {
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for command in commands {
        let command = command.trim();
        if !command.is_empty() && seen.insert(command.to_owned()) {
            unique.push(command.to_owned());
        }
    }
    let mut out = String::from("#!/usr/bin/env bash\n");
    out.push_str("# Repro commands for the failing tests, written by testscope.\n");
    out.push_str("# Run from the base repo dir. No `set -e`: each command is expected to fail.\n");
    out.push_str(&format!(
        "# {} command{}, first appearance first, duplicates dropped.\n",
        unique.len(),
        if unique.len() == 1 { "" } else { "s" }
    ));
    for command in unique {
        out.push_str(&command);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_commands_take_the_folder_from_file() {
        assert_eq!(
            repro_for(
                &["AssertionError: x"],
                Some("distributed/test_c10d_nccl.py"),
                "ProcessGroupNCCLGroupTest",
                "test_x",
                Some("test_c10d_nccl"),
            )
            .command,
            "python test/distributed/test_c10d_nccl.py ProcessGroupNCCLGroupTest.test_x"
        );
    }

    const FOOTER_LINE: &str =
        "This message can be suppressed by setting PYTORCH_PRINT_REPRO_ON_FAILURE=0";

    /// A message the way `print_repro_on_failure` appends the repro to it.
    fn with_repro(command_line: &str) -> String {
        format!("AssertionError: boom\n\n{HEADER}\n{command_line}\n\n{FOOTER_LINE}")
    }

    #[test]
    fn extracts_current_form_with_and_without_env() {
        let cmd = "python test/test_ops.py TestCommonCUDA.test_out_addmm_cuda_float32";
        assert_eq!(
            extract(&[&with_repro(&format!("    {cmd}"))]).as_deref(),
            Some(cmd)
        );
        let cmd = "PYTORCH_OPINFO_SAMPLE_INPUT_INDEX=11 PYTORCH_TEST_WITH_ROCM=1 PYTORCH_TEST_WITH_INDUCTOR=1 \
                   python test/test_ops_gradients.py TestBwdGradientsCUDA.test_fn_gradgrad_cholesky_solve_cuda_float64";
        assert_eq!(
            extract(&[&with_repro(&format!("    {cmd}"))]).as_deref(),
            Some(cmd)
        );
        let cmd = "PYTORCH_TEST_WITH_DYNAMO=1 python test/distributed/checkpoint/e2e/test_fsdp_ep.py TestFSDPWithEP.test_e2e";
        assert_eq!(
            extract(&[&with_repro(&format!("\t{cmd}  "))]).as_deref(),
            Some(cmd)
        );
    }

    #[test]
    fn extracts_older_k_form() {
        // An empty env prefix left five spaces before `python`.
        let cmd = "python test/test_mps.py -k test_output_match_add_cpu_float32";
        assert_eq!(
            extract(&[&with_repro(&format!("     {cmd}"))]).as_deref(),
            Some(cmd)
        );
        let cmd = "PYTORCH_TEST_WITH_SLOW=1 python test/test_nn.py -k test_conv";
        assert_eq!(
            extract(&[&with_repro(&format!("    {cmd}"))]).as_deref(),
            Some(cmd)
        );
    }

    #[test]
    fn tolerates_crlf_position_and_markers() {
        let crlf = with_repro("    python test/test_x.py TestX.test_a").replace('\n', "\r\n");
        assert_eq!(
            extract(&[&crlf]).as_deref(),
            Some("python test/test_x.py TestX.test_a")
        );
        // Header in the body only (message empty), inside a traceback.
        let body = format!(
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in t\nAssertionError: boom\n\n\
             {HEADER}\n    python test/test_x.py TestX.test_b\n\n{FOOTER_LINE}\n"
        );
        assert_eq!(
            extract(&["", &body]).as_deref(),
            Some("python test/test_x.py TestX.test_b")
        );
        // pytest's long format puts `E` before every exception line.
        let long = format!(
            "E       AssertionError: boom\nE       \nE       {HEADER}\nE           python test/test_x.py TestX.test_c\n"
        );
        assert_eq!(
            extract(&[&long]).as_deref(),
            Some("python test/test_x.py TestX.test_c")
        );
        // Newlines lost: the command is on the header's line, up to the footer.
        let flat = format!(
            "AssertionError: boom {HEADER}     python test/test_x.py TestX.test_d {FOOTER_LINE}"
        );
        assert_eq!(
            extract(&[&flat]).as_deref(),
            Some("python test/test_x.py TestX.test_d")
        );
    }

    #[test]
    fn first_occurrence_wins_and_absent_is_none() {
        let m = with_repro("    python test/a.py A.test_1");
        let b = with_repro("    python test/b.py B.test_2");
        assert_eq!(
            extract(&[&m, &b]).as_deref(),
            Some("python test/a.py A.test_1")
        );
        let twice = format!("{m}\n{b}");
        assert_eq!(
            extract(&[&twice]).as_deref(),
            Some("python test/a.py A.test_1")
        );
        assert_eq!(extract(&[]), None);
        assert_eq!(
            extract(&[
                "AssertionError: values differ",
                "Traceback (most recent call last):\nELIDED"
            ]),
            None
        );
        // A header with no command (the end of a text, a blank line, the footer) is passed over.
        assert_eq!(extract(&[&format!("boom\n{HEADER}")]), None);
        assert_eq!(extract(&[&format!("boom\n{HEADER}\n")]), None);
        assert_eq!(extract(&[&format!("boom\n{HEADER}\n   \n")]), None);
        assert_eq!(extract(&[&format!("boom\n{HEADER}\n{FOOTER_LINE}")]), None);
        assert_eq!(
            extract(&[&format!("boom\n{HEADER}"), &b]).as_deref(),
            Some("python test/b.py B.test_2")
        );
    }

    #[test]
    fn repro_for_prefers_the_report() {
        let m = with_repro(
            "    PYTORCH_TEST_WITH_INDUCTOR=1 python test/test_ops.py TestCommonCPU.test_foo_cpu",
        );
        let r = repro_for(
            &[&m, ""],
            Some("test_ops.py"),
            "TestCommonCPU",
            "test_foo_cpu",
            Some("test_ops"),
        );
        assert_eq!(
            r,
            Repro {
                command: "PYTORCH_TEST_WITH_INDUCTOR=1 python test/test_ops.py TestCommonCPU.test_foo_cpu".into(),
                source: ReproSource::Report,
            }
        );
        let r = repro_for(
            &["AssertionError: x", ""],
            Some("test_ops.py"),
            "TestCommonCPU",
            "test_foo_cpu",
            Some("test_ops"),
        );
        assert_eq!(r.source, ReproSource::Built);
        assert_eq!(
            r.command,
            "python test/test_ops.py TestCommonCPU.test_foo_cpu"
        );
    }

    fn build(file: Option<&str>, classname: &str, name: &str, inv: Option<&str>) -> String {
        let r = repro_for(&[], file, classname, name, inv);
        assert_eq!(r.source, ReproSource::Built);
        r.command
    }

    #[test]
    fn builds_pytorch_commands() {
        // Sanitized rows (bare class, `file` relative to test/) and unsanitized ones.
        assert_eq!(
            build(
                Some("test_ops.py"),
                "TestCommonCPU",
                "test_foo_cpu",
                Some("test_ops")
            ),
            "python test/test_ops.py TestCommonCPU.test_foo_cpu"
        );
        assert_eq!(
            build(
                None,
                "test.test_ops.TestCommonCPU",
                "test_foo_cpu",
                Some("test_ops")
            ),
            "python test/test_ops.py TestCommonCPU.test_foo_cpu"
        );
        assert_eq!(
            build(
                None,
                "test_ops.TestCommonCPU",
                "test_foo_cpu",
                Some("test_ops")
            ),
            "python test/test_ops.py TestCommonCPU.test_foo_cpu"
        );
        // Invoking files are dotted report folders; slashes and `.py` are accepted too.
        for inv in [
            "dynamo.test_misc",
            "dynamo/test_misc",
            "dynamo/test_misc.py",
        ] {
            assert_eq!(
                build(
                    Some("dynamo/test_misc.py"),
                    "MiscTests",
                    "test_graph_break",
                    Some(inv)
                ),
                "python test/dynamo/test_misc.py MiscTests.test_graph_break",
                "{inv}"
            );
        }
        assert_eq!(
            build(
                None,
                "test.inductor.test_torchinductor.TestInductorCPU",
                "test_add",
                Some("inductor.test_torchinductor")
            ),
            "python test/inductor/test_torchinductor.py TestInductorCPU.test_add"
        );
        assert_eq!(
            build(None, "", "test_free_function", Some("distributed/test_x")),
            "python test/distributed/test_x.py -k test_free_function"
        );
        assert_eq!(
            build(
                None,
                "test.distributed.test_x",
                "test_free_function",
                Some("distributed.test_x")
            ),
            "python test/distributed/test_x.py -k test_free_function"
        );
        // A parametrised name is quoted as one word.
        assert_eq!(
            build(None, "TestFoo", "test_x[cuda-float32]", Some("test_foo")),
            "python test/test_foo.py 'TestFoo.test_x[cuda-float32]'"
        );
    }

    #[test]
    fn builds_pytest_node_ids_otherwise() {
        // The golden pytest reports: no invoking file that is a test module.
        assert_eq!(
            build(
                None,
                "test.junit_xml_testdata.pytest_suite.TestJunitOutcomes",
                "test_assert_failure",
                None
            ),
            "pytest test/junit_xml_testdata/pytest_suite.py::TestJunitOutcomes::test_assert_failure"
        );
        assert_eq!(
            build(
                Some("junit_xml_testdata/pytest_suite.py"),
                "TestJunitOutcomes",
                "test_assert_failure",
                Some("python-pytest")
            ),
            "pytest junit_xml_testdata/pytest_suite.py::TestJunitOutcomes::test_assert_failure"
        );
        // xmlrunner: dotted classname with the module; nested classes stay classes.
        assert_eq!(
            build(
                None,
                "xmlrunner.tests.testsuite_cases.MixedTestCase",
                "test_failure",
                Some("reports")
            ),
            "pytest xmlrunner/tests/testsuite_cases.py::MixedTestCase::test_failure"
        );
        assert_eq!(
            build(
                Some(r"tests\unit\test_a.py"),
                "tests.unit.test_a.TestOuter.TestInner",
                "test_b",
                None
            ),
            "pytest tests/unit/test_a.py::TestOuter::TestInner::test_b"
        );
        // A module-level test function (pytest xunit1 gives the module as classname).
        assert_eq!(
            build(Some("tests/test_a.py"), "tests.test_a", "test_b", None),
            "pytest tests/test_a.py::test_b"
        );
        assert_eq!(
            build(None, "tests.test_a", "test_b", None),
            "pytest tests/test_a.py::test_b"
        );
        // A report folder named like a module but disagreeing with the case is not trusted.
        assert_eq!(
            build(
                Some("tests/test_a.py"),
                "TestA",
                "test_b",
                Some("test_results")
            ),
            "pytest tests/test_a.py::TestA::test_b"
        );
        assert_eq!(
            build(None, "tests.test_a.TestA", "test_b", Some("test_results")),
            "pytest tests/test_a.py::TestA::test_b"
        );
        // No path at all: a -k expression.
        assert_eq!(
            build(None, "TestA", "test_b", None),
            "pytest -k 'TestA and test_b'"
        );
        assert_eq!(build(None, "", "test_b", None), "pytest -k test_b");
        // Parametrised ids are quoted.
        assert_eq!(
            build(
                Some("tests/test_a.py"),
                "TestA",
                "test_x[cuda-float32]",
                None
            ),
            "pytest 'tests/test_a.py::TestA::test_x[cuda-float32]'"
        );
        assert_eq!(
            build(Some("tests/test_a.py"), "", "test_x[it's a b]", None),
            r"pytest 'tests/test_a.py::test_x[it'\''s a b]'"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("test/x.py::A::test_b"), "test/x.py::A::test_b");
        assert_eq!(shell_quote("A.test_b,c=1+2@3%"), "A.test_b,c=1+2@3%");
        assert_eq!(
            shell_quote("test_x[cuda-float32]"),
            "'test_x[cuda-float32]'"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote("*"), "'*'");
        assert_eq!(shell_quote("é"), "'é'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("=x"), "'=x'");
    }

    #[test]
    fn script_dedups_in_first_seen_order() {
        let s = script(
            [
                "python test/b.py B.test_2",
                "python test/a.py A.test_1",
                "  python test/b.py B.test_2  ",
                "",
                "pytest 'tests/test_a.py::test_x[cpu]'",
                "python test/a.py A.test_1",
            ]
            .map(String::from),
        );
        assert_eq!(
            s,
            "#!/usr/bin/env bash\n\
             # Repro commands for the failing tests, written by testscope.\n\
             # Run from the base repo dir. No `set -e`: each command is expected to fail.\n\
             # 3 commands, first appearance first, duplicates dropped.\n\
             python test/b.py B.test_2\n\
             python test/a.py A.test_1\n\
             pytest 'tests/test_a.py::test_x[cpu]'\n"
        );
        let one = script(vec!["python test/a.py A.test_1".to_owned()]);
        assert!(one.contains("# 1 command, "));
        let none = script(Vec::new());
        assert!(none.starts_with("#!/usr/bin/env bash\n") && none.contains("# 0 commands"));
        assert_eq!(none.lines().count(), 4);
    }
}
