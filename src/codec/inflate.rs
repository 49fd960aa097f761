//! Inflating raw deflate streams: zip entries as they are read, and the kept `test_run`
//! parts when they are read again. libdeflate inflates whole buffers fastest; zlib-rs
//! (through flate2) checks what libdeflate rejects and says what is wrong with it.

use std::cell::RefCell;

/// Inflate a raw deflate stream into `out`, never past one byte more than `size` (enough to
/// tell a lying header), and check its CRC-32. The same checks as reading through the zip
/// crate. libdeflate inflates whole buffers about 1.7x faster than zlib-rs; a stream it
/// rejects goes to `inflate_checked` (zlib-rs), whose errors say what is wrong, and which
/// has the last word (the two agree on valid streams: see the tests).
pub fn inflate_into(raw: &[u8], size: u64, crc: u32, out: &mut Vec<u8>) -> Result<(), String> {
    let too_large = || "larger than its declared uncompressed size".to_string();
    let cap = usize::try_from(size)
        .map_err(|_| too_large())?
        .saturating_add(1);
    out.clear();
    out.try_reserve_exact(cap).map_err(|_| too_large())?;
    match INFLATER.with_borrow_mut(|d| d.inflate(raw, out, cap)) {
        Inflated::Done if out.len() as u64 > size => return Err(too_large()),
        Inflated::Done => {}
        Inflated::NoRoom => return Err(too_large()),
        Inflated::Bad => {
            out.clear();
            return inflate_checked(raw, size, crc, out);
        }
    }
    if crc32fast::hash(out) != crc {
        return Err("Invalid checksum".into());
    }
    Ok(())
}

thread_local! {
    static INFLATER: RefCell<Inflater> = RefCell::new(Inflater::new());
}

/// Inflate a whole raw deflate stream of our own making (no CRC to check) that holds
/// exactly `size` bytes; `None` if it does not.
pub fn inflate_exact(raw: &[u8], size: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(size).ok()?;
    match INFLATER.with_borrow_mut(|d| d.inflate(raw, &mut out, size)) {
        Inflated::Done if out.len() == size => Some(out),
        _ => None,
    }
}

/// libdeflate's whole-buffer inflater, writing into a vector's spare capacity. (The
/// libdeflater wrapper takes an initialised slice: every output would be zero-filled first,
/// hundreds of MB on a PyTorch run.)
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

enum Inflated {
    Done,
    /// The stream goes on past the room given.
    NoRoom,
    Bad,
}

impl Inflater {
    fn new() -> Self {
        // SAFETY: no preconditions; null means out of memory.
        let d = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        Self(std::ptr::NonNull::new(d).expect("memory for libdeflate's decompressor"))
    }

    /// Inflate the whole stream `raw` into `out` (empty, with at least `room` capacity),
    /// writing at most `room` bytes.
    fn inflate(&mut self, raw: &[u8], out: &mut Vec<u8>, room: usize) -> Inflated {
        assert!(out.is_empty() && out.capacity() >= room);
        let mut written = 0usize;
        // SAFETY: libdeflate reads `raw.len()` bytes from `raw`, writes at most `room` bytes
        // at the start of `out`'s allocation (which has that many), and reports how many.
        let result = unsafe {
            libdeflate_sys::libdeflate_deflate_decompress(
                self.0.as_ptr(),
                raw.as_ptr().cast(),
                raw.len(),
                out.as_mut_ptr().cast(),
                room,
                &mut written,
            )
        };
        match result {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS if written <= room => {
                // SAFETY: the first `written` bytes were just written.
                unsafe { out.set_len(written) };
                Inflated::Done
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Inflated::NoRoom,
            _ => Inflated::Bad,
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

/// [`inflate_into`] by zlib-rs, streaming into spare capacity.
fn inflate_checked(raw: &[u8], size: u64, crc: u32, out: &mut Vec<u8>) -> Result<(), String> {
    use flate2::{Decompress, FlushDecompress, Status};
    let too_large = || "larger than its declared uncompressed size".to_string();
    let cap = usize::try_from(size)
        .map_err(|_| too_large())?
        .saturating_add(1);
    out.reserve_exact(cap);
    let mut d = Decompress::new(false);
    // decompress_vec writes only into spare capacity, never growing `out`; the capacity is
    // at least `size + 1`, so a full buffer means a lying header.
    loop {
        let (consumed, before) = (d.total_in(), out.len());
        let status = d
            .decompress_vec(&raw[consumed as usize..], out, FlushDecompress::Finish)
            .map_err(|e| format!("corrupt deflate stream: {e}"))?;
        if out.len() as u64 > size {
            return Err(too_large());
        }
        if status == Status::StreamEnd {
            break;
        }
        if d.total_in() == consumed && out.len() == before {
            return Err("unexpected end of deflate stream".into());
        }
    }
    if crc32fast::hash(out) != crc {
        return Err("Invalid checksum".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libdeflate (the fast path) and zlib-rs read the same streams the same way: valid,
    /// truncated and corrupted ones, and a size header that lies either way.
    #[test]
    fn both_inflaters_agree() {
        use std::io::Write;
        let mut rng = testscope_gen::rng::Rng::new(0x1234_5678_9abc_def1u64);
        let mut next = || rng.next_u64();
        let text: Vec<u8> = (0..20_000)
            .map(|i| b"<testcase name=\"t\" time=\"0.1\"/>\n"[i % 32] ^ ((next() % 7 == 0) as u8))
            .collect();
        let mut checked = 0;
        for level in [0, 1, 6, 9] {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
            enc.write_all(&text).unwrap();
            let raw = enc.finish().unwrap();
            let crc = crc32fast::hash(&text);
            for n in 0..400 {
                let mut bad = raw.clone();
                match n % 4 {
                    0 if n > 0 => bad.truncate((next() as usize) % raw.len()),
                    1 => {
                        let at = (next() as usize) % bad.len();
                        bad[at] ^= 1 << (next() % 8);
                    }
                    2 => {
                        let at = (next() as usize) % bad.len();
                        bad[at] = next() as u8;
                    }
                    _ => {}
                }
                for size in [
                    text.len() as u64,
                    text.len() as u64 - 1,
                    text.len() as u64 + 5,
                ] {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    let fast = inflate_into(&bad, size, crc, &mut a);
                    let slow = inflate_checked(&bad, size, crc, &mut b);
                    assert_eq!(fast, slow, "level {level}, case {n}, size {size}");
                    if fast.is_ok() {
                        assert_eq!(a, b);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100);
    }
}
