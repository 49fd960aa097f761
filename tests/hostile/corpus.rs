//! The hostile-input corpus, generated at run time (nothing big is checked in): artifact zips
//! for a bucket layout. `good_artifacts` holds only inputs the reference converts (its
//! output is checked in under tests/hostile/expected/); `bad_artifacts` holds inputs the
//! reference crashes on, each with the outcome testscope must report.

use std::path::{Path, PathBuf};

use super::zipw::{self, Raw, ZipWriter};

pub const RUN: &str = "4242";
pub const ATTEMPT: &str = "1";

/// Where artifacts go in a bucket layout.
pub fn artifact_dir(bucket: &Path) -> PathBuf {
    bucket.join(format!(
        "gha-artifacts/pytorch/pytorch/{RUN}/{ATTEMPT}/artifact"
    ))
}

pub fn write_bucket(bucket: &Path, artifacts: &[(String, Vec<u8>)]) {
    let dir = artifact_dir(bucket);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in artifacts {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn artifact(kind: &str, job: u32) -> String {
    format!("test-reports-{kind}-1-1-linux.2xlarge_{job}.zip")
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    for u in units {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

fn latin(decl: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"{decl}\"?>\n<testsuite>").into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"</testsuite>\n");
    out
}

/// Billion laughs with `levels` levels of ten references each.
pub fn laughs(levels: usize) -> String {
    let mut dtd = String::from("<!ENTITY l0 \"lol\">");
    for i in 1..=levels {
        let refs = format!("&l{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY l{i} \"{refs}\">"));
    }
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE testsuite [{dtd}]>\n<testsuite><testcase classname=\"Laughs\" name=\"&l{levels};\" time=\"1\"/></testsuite>\n"
    )
}

/// `depth` elements around (outside) two testcases.
pub fn deep_outside(depth: usize) -> String {
    format!(
        "<testsuites>{}<testcase classname=\"Deep\" name=\"bottom\" time=\"1\"/>{}<testcase classname=\"Deep\" name=\"after\" time=\"2\"/></testsuites>",
        "<s>".repeat(depth),
        "</s>".repeat(depth)
    )
}

/// A testcase holding `depth` nested elements.
pub fn deep_inside(depth: usize) -> String {
    format!(
        "<testsuite><testcase classname=\"Deep\" name=\"inside\" time=\"1\">{}bottom{}</testcase></testsuite>",
        "<d>".repeat(depth),
        "</d>".repeat(depth)
    )
}

/// One testcase with a `size`-byte attribute and a `size`-byte text.
pub fn big_values(size: usize) -> String {
    format!(
        "<testsuite><testcase classname=\"Big\" name=\"values\" time=\"1\" big=\"{}\"><system-out>{}</system-out></testcase></testsuite>",
        "a".repeat(size),
        "b".repeat(size)
    )
}

/// `n` minimal testcases.
pub fn many_cases(n: usize) -> String {
    let mut s = String::with_capacity(n * 40 + 40);
    s.push_str("<testsuite>");
    for i in 0..n {
        s.push_str(&format!(
            "<testcase classname=\"M\" name=\"t{i}\" time=\"1\"/>"
        ));
    }
    s.push_str("</testsuite>");
    s
}

/// A testcase with `n` distinct attributes and `n` distinct children, some names shared so
/// children coalesce with attributes and each other.
pub fn wide(n: usize) -> String {
    let mut s =
        String::from("<testsuite><testcase classname=\"Wide\" name=\"w\" time=\"1\" text=\"attr\"");
    for i in 0..n {
        s.push_str(&format!(" a{i}=\"{i}\""));
    }
    s.push_str(">own text");
    for i in 0..n {
        s.push_str(&format!("<c{i}/>"));
    }
    s.push_str(
        "<a7>child named like an attribute</a7><c3>again</c3><c3/>tail</testcase></testsuite>",
    );
    s
}

fn pytest_dir(invoking: &str) -> String {
    format!("test/test-reports/python-pytest/{invoking}")
}

/// Artifacts the reference converts; their uploads are tests/hostile/expected/.
pub fn good_artifacts() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();

    let enc = pytest_dir("test_encodings");
    let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<testsuite>\r\n<testcase classname=\"Enc\" name=\"NAME_é_🔥\" time=\"0.5\"><system-out>line1\r\nline2\rline3</system-out></testcase>\r\n</testsuite>\r\n";
    let mut z = ZipWriter::new();
    z.deflated(
        &format!("{enc}/utf16le-bom.xml"),
        &utf16(&doc.replace("NAME", "utf16le"), false, true),
    )
    .deflated(
        &format!("{enc}/utf16be-bom.xml"),
        &utf16(&doc.replace("NAME", "utf16be"), true, true),
    )
    .deflated(
        &format!("{enc}/utf16le-no-bom.xml"),
        &utf16(&doc.replace("NAME", "utf16le_nobom"), false, false),
    )
    .deflated(
        &format!("{enc}/latin1.xml"),
        &latin(
            "ISO-8859-1",
            b"<testcase classname=\"Enc\" name=\"caf\xe9\" time=\"1\"><failure message=\"nel\x85 nbsp\xa0 \xbf?\">\xa0\x85</failure><system-out>\xa0</system-out></testcase>",
        ),
    )
    .deflated(
        &format!("{enc}/latin1-alias.xml"),
        &latin("l1", b"<testcase classname=\"Enc\" name=\"alias_\xe9\" time=\"1\"/>"),
    )
    .deflated(
        &format!("{enc}/cp1252.xml"),
        &latin(
            "windows-1252",
            b"<testcase classname=\"Enc\" name=\"\x93smart\x94 \x80\" time=\"1\"/>",
        ),
    )
    .deflated(
        &format!("{enc}/latin9.xml"),
        &latin("ISO-8859-15", b"<testcase classname=\"Enc\" name=\"euro\xa4\" time=\"1\"/>"),
    );
    let mut bom_latin = b"\xEF\xBB\xBF".to_vec();
    bom_latin.extend(latin(
        "ISO-8859-1",
        b"<testcase classname=\"Enc\" name=\"bom_\xc3\xa9\" time=\"1\"/>",
    ));
    z.deflated(&format!("{enc}/utf8-bom-latin1-declared.xml"), &bom_latin);
    out.push((artifact("encodings", 1001), z.finish()));

    let ent = pytest_dir("test_entities");
    let internal = r#"<?xml version="1.0"?>
<!DOCTYPE testsuite [
  <!-- <!ENTITY who "commented out"> -->
  <?pi <!ENTITY who "in a processing instruction"> ?>
  <!ENTITY who "world">
  <!ENTITY who "a second declaration loses">
  <!ENTITY greet "hello &who;">
  <!ENTITY ws "a&#10;b&#9;c&#13;d">
  <!ENTITY amp2 "x&#38;#38;y">
  <!ENTITY quoted 'say "hi" > bye'>
  <!ENTITY markup "<b>never used</b>">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ELEMENT testsuite ANY>
  <!NOTATION n SYSTEM "n">
]>
<testsuite name="&greet;">
<testcase classname="Ent" name="&greet;" ws="&ws;" q="&quoted;" time="1">&greet; &ws; &amp2; &quoted;<skipped message="&amp2;"/></testcase>
</testsuite>
"#;
    let external = r#"<?xml version="1.0" standalone="no"?>
<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/never-fetched.dtd" [<!ENTITY known "K">]>
<testsuite><testcase classname="Ent" name="a&undeclared;b&known;" time="2"/></testsuite>
"#;
    let pe = r#"<!DOCTYPE t [<!ENTITY % p SYSTEM "p.dtd"> %p; <!ENTITY later "L"> <!ATTLIST testcase x CDATA "ignored">]>
<t><testcase classname="Ent" name="x&later;y" time="3"/></t>
"#;
    let mut z = ZipWriter::new();
    z.deflated(&format!("{ent}/internal.xml"), internal.as_bytes())
        .deflated(&format!("{ent}/external-dtd.xml"), external.as_bytes())
        .deflated(&format!("{ent}/pe-reference.xml"), pe.as_bytes())
        .deflated(&format!("{ent}/amplified.xml"), laughs(4).as_bytes());
    out.push((artifact("entities", 1002), z.finish()));

    let st = pytest_dir("test_structure");
    let nested = format!(
        "<testsuite>{}core{}</testsuite>",
        (0..30)
            .map(|i| format!("<testcase classname=\"N\" name=\"n{i}\" time=\"0.25\">t{i}"))
            .collect::<String>(),
        (0..30)
            .map(|i| format!("</testcase>tail{i}"))
            .collect::<String>()
    );
    let mut z = ZipWriter::new();
    z.deflated(&format!("{st}/deep-outside.xml"), deep_outside(100_000).as_bytes())
        .deflated(&format!("{st}/deep-inside.xml"), deep_inside(400).as_bytes())
        .deflated(&format!("{st}/nested-testcases.xml"), nested.as_bytes())
        .deflated(&format!("{st}/wide.xml"), wide(3000).as_bytes())
        .deflated(&format!("{st}/big-values.xml"), big_values(1 << 20).as_bytes())
        .deflated(&format!("{st}/many-cases.xml"), many_cases(20_000).as_bytes())
        .deflated(
            &format!("{st}/namespaced-attrs.xml"),
            br#"<s xmlns:a="urn:a" xmlns:b="urn:b"><testcase a:x="1" b:x="2" x="3" time="1" name="ns"/></s>"#,
        );
    out.push((artifact("structure", 1003), z.finish()));

    let term = pytest_dir("test_terminal");
    let controls = "<testsuite><testcase classname=\"Term\u{9b}31m\" name=\"c1_\u{9d}0;title\u{9c}\" time=\"1\">\
        <failure message=\"\u{9b}31mred\u{9b}0m \u{7f} \u{202e}rev \u{2028}sep #x1B[31m\">\u{9b}2J#x00</failure>\
        <system-out>\u{9b}1;1H\u{85}out</system-out><system-err>\u{9d}8;;http://x\u{9c}link</system-err></testcase></testsuite>";
    let times = "<testsuite>\
        <testcase classname=\"T\" name=\"nan\" time=\"NaN\"/>\
        <testcase classname=\"T\" name=\"inf\" time=\"inf\"/>\
        <testcase classname=\"T\" name=\"neg_inf\" time=\"-Infinity\"/>\
        <testcase classname=\"T\" name=\"negative\" time=\"-1.5\"/>\
        <testcase classname=\"T\" name=\"spaces\" time=\" 2.5 \"/>\
        <testcase classname=\"T\" name=\"underscore\" time=\"1_0.5\"/>\
        <testcase classname=\"T\" name=\"exponent\" time=\"1e3\"/>\
        <testcase classname=\"T\" name=\"int\" time=\"007\"/>\
        <testcase classname=\"T2\" name=\"after_nan\" time=\"1\"/>\
        </testsuite>";
    let mut z = ZipWriter::new();
    z.deflated(&format!("{term}/controls.xml"), controls.as_bytes());
    z.deflated(
        &format!("{}/times.xml", pytest_dir("test_times")),
        times.as_bytes(),
    );
    out.push((artifact("terminal", 1004), z.finish()));

    let case = |name: &str| {
        format!("<testsuite><testcase classname=\"Names\" name=\"{name}\" time=\"1\"/></testsuite>")
    };
    let inner = ZipWriter::new()
        .stored(
            "test/test-reports/python-pytest/test_inner/inner.xml",
            case("inner").as_bytes(),
        )
        .finish();
    let mut z = ZipWriter::new();
    z.stored("../../escape/test_up/up.xml", case("dotdot").as_bytes())
        .stored("/abs/test_abs/abs.xml", case("absolute").as_bytes())
        .stored("./dot/./test_dot//dot.xml", case("dots").as_bytes())
        .stored("dup/test_dup/same.xml", case("first_copy").as_bytes())
        .stored("café/test_utf8/u.xml", case("utf8_name").as_bytes())
        .stored("inner.zip", &inner)
        .stored("notes.txt", b"not a report");
    z.raw(&Raw {
        name: b"cp437/test_caf\x82/c.xml",
        method: zipw::STORED,
        flags: 0,
        crc: crc32fast::hash(case("cp437_name").as_bytes()),
        data: case("cp437_name").as_bytes(),
        size: case("cp437_name").len() as u32,
    });
    z.stored("dup/test_dup/same.xml", case("second_copy").as_bytes());
    out.push((artifact("zipnames", 1005), z.finish()));
    out
}

/// What testscope must report for a bad input: a problem whose file names `file` and whose
/// message contains `reason`.
pub struct Expect {
    pub file: String,
    pub reason: &'static str,
}

fn expect(file: impl Into<String>, reason: &'static str) -> Expect {
    Expect {
        file: file.into(),
        reason,
    }
}

/// Entry name with terminal escapes (OSC title, clear screen, C1 CSI) in it.
pub const ESCAPED_NAME: &str = "test_bad/\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m.xml";

/// Artifacts the reference crashes on (or that hit testscope's limits), and the problem each
/// of their bad files must produce. Good entries inside them are listed as problems nowhere.
pub fn bad_artifacts() -> (Vec<(String, Vec<u8>)>, Vec<Expect>) {
    let mut out = Vec::new();
    let mut want = Vec::new();
    let dir = pytest_dir("test_bad");
    let zip_name = artifact("bad", 1006);
    let mut z = ZipWriter::new();
    let mut bad = |z: &mut ZipWriter, name: &str, bytes: &[u8], reason: &'static str| {
        z.deflated(&format!("{dir}/{name}"), bytes);
        want.push(expect(format!("{zip_name}!{dir}/{name}"), reason));
    };
    let zip_in_zip = ZipWriter::new().stored("x.xml", b"<a/>").finish();
    let files: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("truncated-tag.xml", b"<testsuite><testcase classname=\"A\" name=\"x\" ti".to_vec(), "tag not closed"),
        ("truncated-cdata.xml", b"<testsuite><testcase name=\"x\"><system-out><![CDATA[half".to_vec(), "CDATA not closed"),
        ("truncated-text.xml", b"<testsuite><testcase name=\"x\" time=\"1\">some".to_vec(), "unclosed"),
        ("invalid-utf8.xml", b"<testsuite><testcase name=\"\xff\xfe\"/></testsuite>".to_vec(), "invalid UTF-8"),
        ("ascii-declared-high-byte.xml", b"<?xml version=\"1.0\" encoding=\"US-ASCII\"?><t><testcase name=\"\xe9\"/></t>".to_vec(), "invalid token"),
        ("unknown-encoding.xml", b"<?xml version=\"1.0\" encoding=\"EBCDIC-XYZ\"?><t/>".to_vec(), "unsupported encoding"),
        ("multibyte-encoding.xml", b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><t/>".to_vec(), "unsupported encoding"),
        ("utf16-declared-no-bom.xml", b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><t/>".to_vec(), "byte-order mark"),
        ("billion-laughs.xml", laughs(9).into_bytes(), "amplification"),
        ("xxe-text.xml", b"<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><t><testcase name=\"x\">&xxe;</testcase></t>".to_vec(), "never resolved"),
        ("xxe-attribute.xml", b"<!DOCTYPE t [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><t><testcase name=\"&xxe;\"/></t>".to_vec(), "external entity"),
        ("xxe-parameter.xml", b"<!DOCTYPE t [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p.dtd\"> %p;]><t><testcase name=\"x\">&fromp;</testcase></t>".to_vec(), "undefined entity"),
        ("undefined-entity.xml", b"<t><testcase name=\"&nope;\"/></t>".to_vec(), "undefined entity"),
        ("recursive-entity.xml", b"<!DOCTYPE t [<!ENTITY a \"&b;\"><!ENTITY b \"&a;\">]><t><testcase name=\"&a;\"/></t>".to_vec(), "recursive"),
        ("markup-entity.xml", b"<!DOCTYPE t [<!ENTITY e \"<b>x</b>\">]><t><testcase name=\"x\">&e;</testcase></t>".to_vec(), "contains markup"),
        ("attlist-defaults.xml", b"<!DOCTYPE t [<!ATTLIST testcase x CDATA \"d\">]><t><testcase name=\"x\"/></t>".to_vec(), "ATTLIST"),
        ("duplicate-attribute.xml", b"<t><testcase name=\"a\" name=\"b\"/></t>".to_vec(), "duplicate"),
        ("duplicate-namespaced-attribute.xml", b"<t xmlns:a=\"u\" xmlns:b=\"u\"><testcase a:x=\"1\" b:x=\"2\"/></t>".to_vec(), "duplicate attribute {u}x"),
        ("json.xml", b"{\"testcase\": 1}".to_vec(), "syntax error"),
        ("html.xml", b"<!DOCTYPE html><html><body><p>hi<br></body></html>".to_vec(), "expected `</br>`"),
        ("binary.xml", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "invalid UTF-8"),
        ("zip-in-zip.xml", zip_in_zip, "invalid UTF-8"),
        ("empty.xml", Vec::new(), "no element found"),
        ("blank.xml", b" \n\t\n".to_vec(), "no element found"),
        ("esc-raw.xml", b"<t><testcase name=\"x\"><failure message=\"\x1b[31mred\"/></testcase></t>".to_vec(), "invalid token"),
        ("nul-raw.xml", b"<t><testcase name=\"x\"><system-out>a\0b</system-out></testcase></t>".to_vec(), "invalid token"),
        ("esc-reference.xml", b"<t><testcase name=\"x\"><failure message=\"&#27;[31m\"/></testcase></t>".to_vec(), "invalid character number"),
        ("nul-reference.xml", b"<t><testcase name=\"x\">&#0;</testcase></t>".to_vec(), "invalid character number"),
        ("deep-inside.xml", deep_inside(100_000).into_bytes(), "nested more than 900"),
        ("invalid-attribute-name.xml", b"<t><testcase na`me=\"x\"/></t>".to_vec(), "invalid name"),
        ("invalid-element-name.xml", "<t><test\u{84}case/></t>".as_bytes().to_vec(), "invalid name"),
        ("junk-after-root.xml", b"<t><testcase name=\"x\"/></t><t/>".to_vec(), "junk after document element"),
    ];
    for (name, bytes, reason) in &files {
        bad(&mut z, name, bytes, reason);
    }
    // The escapes in the name must reach a terminal inert.
    bad(
        &mut z,
        &ESCAPED_NAME["test_bad/".len()..],
        b"<broken",
        "not closed",
    );
    // Entry-level damage: encrypted, wrong CRC, more data than declared.
    let doc = b"<t><testcase name=\"x\" time=\"1\"/></t>";
    for (name, flags, crc, size, reason) in [
        (
            "encrypted.xml",
            1,
            crc32fast::hash(doc),
            doc.len() as u32,
            "assword",
        ),
        ("bad-crc.xml", 0, 0xDEAD_BEEF, doc.len() as u32, "checksum"),
        ("lying-size.xml", 0, crc32fast::hash(doc), 5, "declared"),
    ] {
        let full = format!("{dir}/{name}");
        z.raw(&Raw {
            name: full.as_bytes(),
            method: zipw::STORED,
            flags,
            crc,
            data: doc,
            size,
        });
        want.push(expect(format!("{zip_name}!{full}"), reason));
    }
    // Silently not a report: a directory named like one (the reference crashes reading it).
    z.stored(&format!("{dir}/folder.xml/"), b"");
    // A good file next to the bad ones still counts.
    z.deflated(
        &format!("{dir}/good.xml"),
        b"<testsuite><testcase classname=\"Bad\" name=\"survivor\" time=\"1\"/></testsuite>",
    );
    out.push((zip_name, z.finish()));

    // Whole archives that cannot be opened.
    let corrupt = artifact("corrupt", 1007);
    out.push((
        corrupt.clone(),
        b"PK\x03\x04 this is not really a zip".to_vec(),
    ));
    want.push(expect(corrupt, "zip"));
    let truncated = artifact("truncated", 1008);
    let mut cut = ZipWriter::new()
        .deflated("test/test-reports/r.xml", many_cases(100).as_bytes())
        .finish();
    cut.truncate(cut.len() / 2);
    out.push((truncated.clone(), cut));
    want.push(expect(truncated, "zip"));
    let empty = artifact("empty", 1009);
    out.push((empty.clone(), Vec::new()));
    want.push(expect(empty, "zip"));

    // The non-recursive zip bomb: 9000 directory entries share one deflated MiB, so the
    // archive claims 9000 MiB (past the 8 GiB default total) from under a megabyte.
    let overlap = artifact("overlap", 1010);
    let mib = vec![b' '; 1 << 20];
    let packed = zipw::deflate(&mib);
    let mut z = ZipWriter::new();
    let first = Raw {
        name: b"test/test-reports/bomb/0.xml",
        method: zipw::DEFLATED,
        flags: 0,
        crc: crc32fast::hash(&mib),
        data: &packed,
        size: mib.len() as u32,
    };
    let offset = z.raw(&first);
    for i in 1..9000 {
        let name = format!("test/test-reports/bomb/{i}.xml");
        z.central_entry(
            &Raw {
                name: name.as_bytes(),
                ..first
            },
            offset,
        );
    }
    out.push((overlap.clone(), z.finish()));
    want.push(expect(overlap, "in all"));

    // A ratio bomb: valid XML, 24 MiB of blanks deflated about 1000:1.
    let ratio = artifact("ratio", 1011);
    let mut blank = b"<testsuite>".to_vec();
    blank.resize(24 << 20, b' ');
    blank.extend_from_slice(b"</testsuite>");
    let entry = "test/test-reports/python-pytest/test_ratio/r.xml";
    out.push((
        ratio.clone(),
        ZipWriter::new().deflated(entry, &blank).finish(),
    ));
    want.push(expect(
        format!("{ratio}!{entry}"),
        "expands more than 1000:1",
    ));

    // Every entry encrypted.
    let encrypted = artifact("encrypted", 1012);
    let mut z = ZipWriter::new();
    for i in 0..2 {
        let name = format!("test/test-reports/python-pytest/test_enc/r{i}.xml");
        z.raw(&Raw {
            name: name.as_bytes(),
            method: zipw::STORED,
            flags: 1,
            crc: crc32fast::hash(doc),
            data: doc,
            size: doc.len() as u32,
        });
        want.push(expect(format!("{encrypted}!{name}"), "assword"));
    }
    out.push((encrypted, z.finish()));
    (out, want)
}
