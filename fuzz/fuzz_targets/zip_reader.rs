//! Fuzz target: an artifact zip's bytes -> its entries, each read within small limits.
//! Besides not crashing or allocating past the limits, every entry's path components must
//! stay inside the extraction folder, as Python's `extractall` keeps them.
#![no_main]


use libfuzzer_sys::fuzz_target;
use testscope::source::{ZipLimits, ZipSource};

const LIMITS: ZipLimits = ZipLimits {
    max_entry_bytes: 1 << 20,
    max_ratio: 100,
    ratio_floor_bytes: 64 << 10,
    max_total_bytes: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    let Ok(zip) = ZipSource::open("fuzz.zip", data.to_vec().into(), LIMITS) else {
        return;
    };
    assert!(zip.extract_folder().starts_with("unzipped-"));
    let mut total = 0u64;
    let mut buf = Vec::new();
    for (i, e) in zip.entries().iter().enumerate() {
        for c in &e.components {
            assert!(
                !matches!(&**c, "" | "." | "..") && !c.contains(['/', '\0']),
                "component {c:?} of {:?} escapes the folder",
                e.raw_name
            );
        }
        if !e.is_dir {
            total += e.size;
        }
        if zip.read_entry_into(i, 1 << 20, &mut buf).is_ok() {
            assert!(
                buf.len() as u64 <= e.size.min(1 << 20),
                "read past the declared size"
            );
        }
    }
    assert!(
        total <= LIMITS.max_total_bytes,
        "opened past the total limit"
    );
    assert!(zip.read_entry(zip.entries().len(), 1 << 20).is_err());
});
