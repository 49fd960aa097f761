//! googletest `--gtest_output=xml` reports of PyTorch's C++ test binaries
//! (the `cpp-unittest/` reports): `<testsuites name="AllTests">` holding one
//! `<testsuite>` per fixture, two-space indented, failures in CDATA, times in
//! seconds with up to three decimals (a bare `0` for sub-millisecond tests).

use super::cases::Tally;
use super::rng::Rng;
use super::text::{attr, cdata};
use super::vocab;

fn camel(s: &str) -> String {
    s.split('_')
        .map(|p| {
            let mut c = p.chars();
            c.next().map_or(String::new(), |f| {
                f.to_ascii_uppercase().to_string() + c.as_str()
            })
        })
        .collect()
}

/// gtest's `FormatTimeInMillisAsSeconds`: `0`, `0.003`, `1.5`.
fn gtest_secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        return (ms / 1000).to_string();
    }
    let mut s = format!("{}.{:03}", ms / 1000, ms % 1000);
    while s.ends_with('0') {
        s.pop();
    }
    s
}

/// A report of `n` test cases of binary `binary`; counts go into `tally`.
pub fn render(rng: &mut Rng, binary: &str, n: usize, tally: &mut Tally) -> String {
    let words = vocab::list(vocab::WORDS);
    let ops = vocab::list(vocab::OPS);
    let src = format!(
        "/var/lib/jenkins/workspace/test/cpp/{}",
        binary.trim_start_matches("test_")
    );
    let mut suites: Vec<(String, String, usize, usize, u64)> = Vec::new(); // name, body, tests, failures, ms
    let mut k = 0;
    while k < n {
        let suite = format!(
            "{}Test",
            camel(words[(k / 40 + binary.len()) % words.len()])
        );
        let size = (n - k).min(rng.range(5, 60) as usize);
        let (mut body, mut fails, mut ms_total) = (String::new(), 0, 0u64);
        for i in k..k + size {
            let name = format!(
                "{}{}",
                camel(words[i % words.len()]),
                camel(ops[(i * 7) % ops.len()])
            );
            let ms = if rng.chance(0.35) {
                0
            } else {
                rng.range(1, 5000)
            };
            ms_total += ms;
            let file = format!("{src}/{}.cpp", words[i % 30]);
            let line = 10 + i;
            let r = rng.unit();
            let result = if (0.004..0.02).contains(&r) {
                "skipped"
            } else {
                "completed"
            };
            body.push_str("    <testcase");
            attr(&mut body, "name", &name);
            attr(&mut body, "file", &file);
            attr(&mut body, "line", &line.to_string());
            attr(&mut body, "status", "run");
            attr(&mut body, "result", result);
            attr(&mut body, "time", &gtest_secs(ms));
            attr(
                &mut body,
                "timestamp",
                &format!(
                    "2025-01-15T10:{:02}:{:02}.{:03}",
                    i % 60,
                    (i * 7) % 60,
                    i % 1000
                ),
            );
            attr(&mut body, "classname", &suite);
            tally.cases += 1;
            if r < 0.004 {
                fails += 1;
                tally.failures += 1;
                let msg = format!(
                    "{file}:{line}\nExpected equality of these values:\n  a\n    Which is: 1\n  b & <c>\n    Which is: 2"
                );
                body.push_str(">\n      <failure");
                attr(&mut body, "message", &msg);
                body.push_str(" type=\"\">");
                cdata(&mut body, &format!("{msg}\n"));
                body.push_str("</failure>\n    </testcase>\n");
            } else if result == "skipped" {
                tally.skipped += 1;
                body.push_str(">\n      <skipped message=\"Skipped: CUDA not available\">");
                cdata(&mut body, "Skipped: CUDA not available\n");
                body.push_str("</skipped>\n    </testcase>\n");
            } else {
                tally.passed += 1;
                body.push_str(" />\n");
            }
        }
        suites.push((suite, body, size, fails, ms_total));
        k += size;
    }
    let total_fail: usize = suites.iter().map(|s| s.3).sum();
    let total_ms: u64 = suites.iter().map(|s| s.4).sum::<u64>() + 37;
    let mut x = String::with_capacity(256 + suites.iter().map(|s| s.1.len() + 200).sum::<usize>());
    x.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{n}\" failures=\"{total_fail}\" \
         disabled=\"0\" errors=\"0\" time=\"{}\" timestamp=\"2025-01-15T10:00:00.000\" name=\"AllTests\">\n",
        gtest_secs(total_ms)
    ));
    for (name, body, tests, fails, ms) in suites {
        x.push_str(&format!(
            "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{fails}\" disabled=\"0\" skipped=\"0\" \
             errors=\"0\" time=\"{}\" timestamp=\"2025-01-15T10:00:00.000\">\n",
            gtest_secs(ms)
        ));
        x.push_str(&body);
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    #[test]
    fn gtest_seconds() {
        assert_eq!(super::gtest_secs(0), "0");
        assert_eq!(super::gtest_secs(3), "0.003");
        assert_eq!(super::gtest_secs(1500), "1.5");
        assert_eq!(super::gtest_secs(2000), "2");
    }
}
