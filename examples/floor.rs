//! The speed floor for benchmarks: open every test-report zip of a folder, inflate every XML
//! entry and run a bare quick-xml tokenizer over it, on all cores. Nothing is converted.
//!
//!     cargo run --release --example floor -- DIR_OF_ZIPS

use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: floor DIR_OF_ZIPS");
    let started = Instant::now();
    let mut zips: Vec<_> = std::fs::read_dir(&dir)
        .expect("readable folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with("test-report") && n.ends_with(".zip")
        })
        .collect();
    zips.sort();
    let next = AtomicUsize::new(0);
    let (events, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = zips.get(i) else { break };
                    let data = std::fs::read(path).expect("readable zip");
                    let mut archive =
                        zip::ZipArchive::new(std::io::Cursor::new(data)).expect("valid zip");
                    for j in 0..archive.len() {
                        let mut f = archive.by_index(j).expect("entry");
                        if !f.name().is_ok_and(|n| n.ends_with(".xml")) {
                            continue;
                        }
                        let mut xml = Vec::with_capacity(f.size() as usize);
                        f.read_to_end(&mut xml).expect("inflate");
                        bytes.fetch_add(xml.len() as u64, Ordering::Relaxed);
                        let text = std::str::from_utf8(&xml).expect("utf-8");
                        let mut reader = quick_xml::Reader::from_str(text);
                        let mut n = 0u64;
                        loop {
                            match reader.read_event().expect("well-formed") {
                                quick_xml::events::Event::Eof => break,
                                _ => n += 1,
                            }
                        }
                        events.fetch_add(n, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"zips\": {}, \"xml_bytes\": {}, \"events\": {}, \"seconds\": {secs:.3}}}",
        zips.len(),
        bytes.load(Ordering::Relaxed),
        events.load(Ordering::Relaxed)
    );
}
