//! Fuzz target: the level-1 deflate. The input, cut into chunks where its first byte says,
//! is compressed a chunk at a time as a gzip body is, and must inflate back to itself.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use testscope::codec::deflate::Level1Deflate;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, raw)) = data.split_first() else {
        return;
    };
    let cut = (usize::from(cut) * raw.len() / 255).min(raw.len());
    let mut q = Level1Deflate::new();
    let mut stream = Vec::new();
    for chunk in [&raw[..cut], &raw[cut..], raw] {
        q.compress(chunk, &mut stream);
    }
    // The empty final block a gzip body ends with.
    stream.extend_from_slice(&[0x03, 0x00]);
    let mut back = Vec::new();
    flate2::read::DeflateDecoder::new(&stream[..])
        .read_to_end(&mut back)
        .expect("a valid deflate stream");
    assert!(back == [&raw[..cut], &raw[cut..], raw].concat(), "inflates to other bytes");
});
