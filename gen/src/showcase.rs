//! The showcase: a fixed set of rare but legal testcases written as literal
//! XML at the top of each job's first pytest report, so that even the tiny
//! `sample` run exercises every construct a parser or a triager meets:
//! reruns that passed and reruns that still failed, failure plus teardown
//! error, long chained tracebacks, odd property values, missing `file`,
//! whitespace and character references in attributes, CDATA, comments,
//! Unicode names and messages, C1 controls, a 64 KiB stderr, unusual
//! attribute order, and (first job only) `nan`/`inf` durations.

use super::plan::ClassSpec;
use super::pytest::RawCase;
use super::rng::Rng;
use super::text::{self, Machine, Site, attr, esc_text};
use super::vocab::TRICKY_PROPERTY_VALUES;

/// Everything the showcase needs to know about where it is written.
pub struct Place<'a> {
    pub machine: &'a Machine,
    pub repro_env: &'static str,
    pub invoking: &'a str,
    /// The file's first test class; the showcase's cases belong to it.
    pub class: &'a ClassSpec,
    /// The first job of the run also gets the `nan`/`inf` durations.
    pub first_job: bool,
}

/// How many cases [`cases`] returns for a place.
pub fn len(first_job: bool) -> usize {
    if first_job { 25 } else { 23 }
}

struct W<'a> {
    p: &'a Place<'a>,
    rng: &'a mut Rng,
    out: Vec<RawCase>,
}

impl W<'_> {
    fn open(&self, name: &str, time: &str) -> String {
        let mut x = String::from("<testcase");
        attr(&mut x, "classname", &self.p.class.name);
        attr(&mut x, "name", name);
        attr(&mut x, "time", time);
        attr(&mut x, "file", &self.p.class.file);
        x
    }

    fn tb(&mut self, name: &str, msg: &str, long: bool) -> String {
        let site = Site {
            machine: self.p.machine,
            file: &self.p.class.file,
            line: self.p.class.line,
            class: &self.p.class.name,
            name,
            env: self.p.repro_env,
        };
        text::traceback(self.rng, &site, msg, long)
    }

    /// `<tag message="msg">traceback</tag>`
    fn problem(&mut self, tag: &str, name: &str, msg: &str, long: bool) -> String {
        let mut x = format!("<{tag}");
        attr(&mut x, "message", msg);
        x.push('>');
        let t = self.tb(name, msg, long);
        esc_text(&mut x, &t);
        x.push_str(&format!("</{tag}>"));
        x
    }

    fn push(&mut self, xml: String, failures: u32, errors: u32, skipped: u32) {
        self.out.push(RawCase {
            xml,
            failures,
            errors,
            skipped,
        });
    }
}

/// The showcase testcases for one report.
pub fn cases(rng: &mut Rng, p: &Place<'_>) -> Vec<RawCase> {
    let mut w = W {
        p,
        rng,
        out: Vec::new(),
    };
    let cls = &p.class.name;

    // 1. properties whose values stress int()/float() conversion
    let mut x = w.open("test_showcase_properties", "0.004");
    x.push_str("><properties>");
    for (i, v) in TRICKY_PROPERTY_VALUES.iter().enumerate() {
        x.push_str("<property");
        attr(&mut x, "name", &format!("p{i}"));
        attr(&mut x, "value", v);
        x.push_str(" />");
    }
    x.push_str("</properties></testcase>");
    w.push(x, 0, 0, 0);

    // 2. a collection error: empty classname, no file attribute
    let dotted = p.invoking.replace('/', ".");
    let mut x = String::from("<testcase classname=\"\"");
    attr(&mut x, "name", &format!("test.{dotted}"));
    x.push_str(" time=\"0.000\"><error message=\"collection failure\">");
    let m = "ImportError: cannot import name '_foo' from 'torch._C' (unknown location)";
    let t = w.tb("<module>", m, false);
    esc_text(&mut x, &t);
    x.push_str("</error></testcase>");
    w.push(x, 0, 1, 0);

    // 3. a module-level test function: sanitize_pytest_xml finds no dot in
    //    the classname and adds no file attribute
    let mut x = String::from("<testcase");
    attr(&mut x, "classname", super::plan::basename(p.invoking));
    x.push_str(" name=\"test_module_level_function\" time=\"0.002\" />");
    w.push(x, 0, 0, 0);

    // 4. failure plus a teardown error on the same testcase, after 3 reruns
    let m1 = text::error_message(w.rng);
    let m2 = text::error_message(w.rng);
    let mut x = w.open("test_showcase_fail_and_teardown_error", "12.345");
    x.push('>');
    for _ in 0..3 {
        x.push_str(&w.problem("rerun", "test_showcase_fail_and_teardown_error", &m1, false));
    }
    x.push_str(&w.problem(
        "failure",
        "test_showcase_fail_and_teardown_error",
        &m1,
        false,
    ));
    x.push_str(&w.problem(
        "error",
        "test_showcase_fail_and_teardown_error",
        &format!("failed on teardown with \"{m2}\""),
        false,
    ));
    let (o, e) = (
        text::captured_output(w.rng, cls, "x", 3),
        text::captured_output(w.rng, cls, "x", 3),
    );
    x.push_str("<system-out>");
    esc_text(&mut x, &o);
    x.push_str("</system-out><system-err>");
    esc_text(&mut x, &e);
    x.push_str("</system-err></testcase>");
    w.push(x, 1, 1, 0);

    // 5. flaky: two failed attempts, then a pass
    let mut x = w.open("test_showcase_flaky_then_passed", "3.210");
    x.push('>');
    for _ in 0..2 {
        let m = text::error_message(w.rng);
        x.push_str(&w.problem("rerun", "test_showcase_flaky_then_passed", &m, false));
    }
    x.push_str("</testcase>");
    w.push(x, 0, 0, 0);

    // 6. flaky that never recovered: two reruns and the final failure
    let mut x = w.open("test_showcase_rerun_still_failing", "7.5");
    x.push('>');
    let m = text::error_message(w.rng);
    for _ in 0..2 {
        x.push_str(&w.problem("rerun", "test_showcase_rerun_still_failing", &m, false));
    }
    x.push_str(&w.problem("failure", "test_showcase_rerun_still_failing", &m, false));
    x.push_str("</testcase>");
    w.push(x, 1, 0, 0);

    // 7. raw newline/tab/CR in an attribute (normalised to spaces by any
    //    parser), character references, astral characters
    let mut x = w.open("test_showcase_attr_whitespace", "0.010");
    x.push_str(
        "><failure message=\"line one\nline\ttwo\r\nthree &#10;kept&#x9;tab &#233;t&#xE9; &#x1F525; \
         &apos;q&apos; &lt;&gt;&amp;&quot;\">text with CRLF\r\nand CR\ronly &#x1F600; 😀 🧪 &#13;kept-cr</failure></testcase>",
    );
    w.push(x, 1, 0, 0);

    // 8. text, CDATA, text; a CDATA section containing "]]>" split in two
    let mut x = w.open("test_showcase_cdata", "0.020");
    x.push_str(
        "><skipped type=\"pytest.skip\" message=\"cdata\">before &amp; <![CDATA[inside <b>&amp; not an \
         entity</b> ]]]]><![CDATA[> after split]]> after</skipped></testcase>",
    );
    w.push(x, 0, 0, 1);

    // 9. an empty-bodied failure, an xfail with an empty message, and an
    //    xfail-marked test that passed on rerun
    let mut x = w.open("test_showcase_empty_failure", "0.001");
    x.push_str("><failure message=\"\" /></testcase>");
    w.push(x, 1, 0, 0);
    let mut x = w.open("test_showcase_xfail", "0.000");
    x.push_str("><skipped type=\"pytest.xfail\" message=\"\" /></testcase>");
    w.push(x, 0, 0, 1);
    let mut x = w.open("test_showcase_xpass_after_rerun", "0.150");
    x.push('>');
    let m = text::error_message(w.rng);
    x.push_str(&w.problem("rerun", "test_showcase_xpass_after_rerun", &m, false));
    x.push_str("<skipped message=\"xfail-marked test passes unexpectedly\" /></testcase>");
    w.push(x, 0, 0, 1);

    // 10. indented children, whitespace-only text and tails, and a comment
    let mut x = w.open("test_showcase_pretty_with_comment", "1.000");
    x.push_str(
        ">\n        <!-- flaky on sm86, see https://github.com/pytorch/pytorch/issues/123456 -->\n        \
         <system-out>  padded output  </system-out>\n      <system-out>second system-out</system-out>\n    \
         </testcase>",
    );
    w.push(x, 0, 0, 0);

    // 11. a 64 KiB system-err of repeated warnings
    let mut blob = String::with_capacity(66_000);
    let mut i = 0;
    while blob.len() < 65_536 {
        blob.push_str(&format!(
            "[W115 10:00:{:02}.{:06} CUDAGuardImpl.h:119] Warning: CUDA warning: driver shutting down \
             (function uncheckedSetDevice) [repeated {i} times]\n",
            i % 60,
            i * 37 % 1_000_000
        ));
        i += 1;
    }
    let mut x = w.open("test_showcase_big_stderr", "300.000");
    x.push_str("><system-err>");
    esc_text(&mut x, &blob);
    x.push_str("</system-err></testcase>");
    w.push(x, 0, 0, 0);

    // 12. attributes in another order, a numeric-looking name, an extra attribute
    let mut x = String::from("<testcase time=\"0.5\" name=\"1234\" line=\"77\"");
    attr(&mut x, "classname", cls);
    attr(&mut x, "file", &p.class.file);
    x.push_str(" url=\"https://example.invalid/x?a=1&amp;b=2\" />");
    w.push(x, 0, 0, 0);

    // 13. Unicode in names and messages: é, CJK, emoji; and pytest's
    //     escaped spelling of a non-ASCII parametrize id
    let x = w.open("test_unicode_résumé_é", "0.031") + " />";
    w.push(x, 0, 0, 0);
    let mut x = w.open("test_中文_テスト_名前", "0.250");
    x.push('>');
    let m = "AssertionError: '测试 🔥 résumé' != 'test'\n- 测试 🔥 résumé\n+ test";
    x.push_str(&w.problem("failure", "test_中文_テスト_名前", m, false));
    x.push_str("</testcase>");
    w.push(x, 1, 0, 0);
    let mut x = w.open(&format!("test_emoji[🔥-{}]", p.class.device), "0.000");
    x.push_str("><skipped type=\"pytest.skip\"");
    let reason = "Test requires Triton ≥ 3.0 — skipping 🚀 on this platform";
    attr(&mut x, "message", reason);
    x.push('>');
    esc_text(
        &mut x,
        &format!("{}:{}: {reason}", p.class.file, p.class.line),
    );
    x.push_str("</skipped></testcase>");
    w.push(x, 0, 0, 1);
    let x = w.open("test_escaped_id[\\U0001f525-caf\\xe9]", "0.012") + " />";
    w.push(x, 0, 0, 0);

    // 14. a long chained traceback
    let mut x = w.open("test_showcase_long_traceback", "45.678");
    x.push('>');
    let m = "torch._dynamo.exc.Unsupported: Graph break due to unsupported builtin _abc._abc_instancecheck";
    x.push_str(&w.problem("failure", "test_showcase_long_traceback", m, true));
    let o = text::captured_output(w.rng, cls, "test_showcase_long_traceback", 6);
    x.push_str("<system-out>");
    esc_text(&mut x, &o);
    x.push_str("</system-out></testcase>");
    w.push(x, 1, 0, 0);

    // 15. terminal colours: C1 CSI (U+009B, legal in XML 1.0) and pytest's
    //     "#x1B" spelling of ESC
    let mut x = w.open("test_showcase_ansi_colours", "0.077");
    x.push_str("><system-out>");
    esc_text(
        &mut x,
        "collected 1 item\n\u{9b}[31mFAILED\u{9b}[0m would be red here\n#x1B[33mwarning#x1B[0m: \
         retrying with \u{9b}[1mTORCH_LOGS=+dynamo\u{9b}[0m\n",
    );
    x.push_str("</system-out></testcase>");
    w.push(x, 0, 0, 0);

    // 16. the same class reported from a second source file
    let mut x = String::from("<testcase");
    attr(&mut x, "classname", cls);
    attr(&mut x, "name", "test_showcase_inherited_from_mixin");
    attr(&mut x, "time", "0.090");
    attr(&mut x, "file", &format!("{}_mixins.py", p.invoking));
    x.push_str(" />");
    w.push(x, 0, 0, 0);

    // 17. a disabled test (unittest-era JSON-ish message, not valid JSON)
    let mut x = w.open("test_showcase_disabled", "0.000");
    x.push_str("><skipped type=\"pytest.skip\"");
    let msg = "{\"flaky\": True, \"num_red\": 4, \"num_green\": 0, \"max_num_retries\": 3, \
               \"rerun_disabled_test\": true}";
    attr(&mut x, "message", msg);
    x.push_str(" /></testcase>");
    w.push(x, 0, 0, 1);

    // 18. an error message with quotes and newlines in the attribute
    let mut x = w.open("test_showcase_setup_error", "0.003");
    x.push('>');
    let m = "RuntimeError: setup failed: \"cuda:1\" <unavailable>\nsecond line & more";
    let mut e = String::from("<error");
    attr(&mut e, "message", &format!("failed on setup with \"{m}\""));
    e.push('>');
    let t = w.tb("test_showcase_setup_error", m, false);
    esc_text(&mut e, &t);
    e.push_str("</error>");
    x.push_str(&e);
    x.push_str("</testcase>");
    w.push(x, 0, 1, 0);

    if p.first_job {
        // 19. durations Python's float() accepts but JSON cannot hold
        let x = w.open("test_showcase_time_nan", "nan") + " />";
        w.push(x, 0, 0, 0);
        let x = w.open("test_showcase_time_inf", "inf") + " />";
        w.push(x, 0, 0, 0);
    }
    debug_assert_eq!(w.out.len(), len(p.first_job));
    w.out
}
