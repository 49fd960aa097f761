//! The default (level 1) deflate: greedy LZ77 with one hash probe per position and the fixed
//! Huffman codes, straight from the input slice. zlib's level 1 matches much the same way
//! (from 4 bytes, where this starts at 6) but first copies its input through a sliding
//! window and rescales its hash table as the window slides; a chunk here is compressed
//! whole, so neither is needed. Each chunk is one
//! fixed-code block ended by a sync flush (an empty stored block), so chunks made on
//! different threads concatenate into one stream as [`super::gzip`] needs.

/// Deflate's window: a match reaches at most this far back.
const WINDOW: usize = 32 * 1024;
/// Matches start at six equal bytes (hashed and compared as one masked 8-byte load): on
/// PyTorch-like JSON lines that finds longer matches than four, faster and smaller
/// (`bench/run.sh`).
const MIN_MATCH: usize = 6;
const MIN_MASK: u64 = (1 << (8 * MIN_MATCH)) - 1;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;

/// Scratch kept between chunks: the hash table of last positions and the output buffer.
pub struct Level1Deflate {
    /// `base` + position + 1 of the last 4-byte sequence with each hash. A fixed-size
    /// array, so indexing by a hash needs no bounds check.
    table: Box<[u32; 1 << HASH_BITS]>,
    /// Entries at or below it are from earlier chunks (stale). Raising it past a chunk
    /// stands for clearing the table, which cost as much as a tenth of compressing a chunk.
    base: u32,
    /// Written from the start for each chunk; grown (and zeroed) only when a larger chunk
    /// comes, not per chunk.
    buf: Vec<u8>,
}

impl Default for Level1Deflate {
    fn default() -> Self {
        Self::new()
    }
}

impl Level1Deflate {
    pub fn new() -> Self {
        Self {
            // Made on the heap (a boxed array literal is built on the stack first).
            table: vec![0; 1 << HASH_BITS]
                .into_boxed_slice()
                .try_into()
                .expect("the table's length"),
            base: 0,
            buf: Vec::new(),
        }
    }

    /// Append `raw` to `out` as one non-final fixed-Huffman block and an empty stored block
    /// (byte-aligned, not final: the stream goes on with the next chunk).
    pub fn compress(&mut self, raw: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(self.compress_to_slice(raw));
    }

    /// [`Self::compress`] into the scratch buffer: the compressed bytes.
    pub fn compress_to_slice(&mut self, raw: &[u8]) -> &[u8] {
        assert!(
            raw.len() < (u32::MAX / 2) as usize,
            "chunks are far below 2 GiB"
        );
        if u32::MAX - self.base <= raw.len() as u32 + 1 {
            self.table.fill(0);
            self.base = 0;
        }
        let base = self.base;
        self.base += raw.len() as u32 + 1;
        let mut bits = BitWriter::new(&mut self.buf, raw.len());
        // BFINAL 0, BTYPE 01 (fixed codes).
        bits.put(0b010, 3);
        let n = raw.len();
        let mut i = 0;
        // Positions are probed two a step, from one 8-byte load and the byte after it (the
        // last eight bytes are literals): the second is probed, and entered, only when the
        // first does not match, so the table and the output are those of one position a
        // step (but for the end), with half the loop's turns through literal runs. Matches are extended 32 bytes at a time, then 16, 8, and 1 near the end.
        while i + 9 <= n {
            let word = read_u64(raw, i);
            let cur = word & MIN_MASK;
            let h = hash(cur);
            let cand = self.table[h];
            self.table[h] = base + i as u32 + 1;
            let from = cand.wrapping_sub(base + 1) as usize;
            // A stale entry wraps to a huge `from`, so one comparison rejects it.
            let (at, from) = if from < i
                && i - from <= WINDOW
                && (read_u64(raw, from) & MIN_MASK) == cur
            {
                (i, from)
            } else {
                bits.put_literal(raw[i]);
                let cur = ((word >> 8) | (u64::from(raw[i + 8]) << 56)) & MIN_MASK;
                let h = hash(cur);
                let cand = self.table[h];
                self.table[h] = base + i as u32 + 2;
                let from = cand.wrapping_sub(base + 1) as usize;
                if from <= i && i + 1 - from <= WINDOW && (read_u64(raw, from) & MIN_MASK) == cur {
                    (i + 1, from)
                } else {
                    bits.put_literal(raw[i + 1]);
                    i += 2;
                    continue;
                }
            };
            let len =
                MIN_MATCH + match_len(raw, from + MIN_MATCH, at + MIN_MATCH, MAX_MATCH - MIN_MATCH);
            bits.put_match(len, at - from);
            // The match's last position too, so the next repeat of what follows finds this
            // copy.
            let last = at + len - 1;
            if last + 8 <= n {
                self.table[hash(read_u64(raw, last) & MIN_MASK)] = base + last as u32 + 1;
            }
            i = at + len;
        }
        for &b in &raw[i..] {
            bits.put_literal(b);
        }
        // End of block (code 0, 7 bits), then BFINAL 0, BTYPE 00, padding, LEN 0, NLEN !0.
        bits.put(0, 7);
        bits.put(0, 3);
        bits.align();
        let len = bits.finish();
        self.buf[len..len + 4].copy_from_slice(&[0, 0, 0xff, 0xff]);
        &self.buf[..len + 4]
    }
}

#[inline(always)]
fn read_u64(b: &[u8], at: usize) -> u64 {
    assert!(at + 8 <= b.len());
    // SAFETY: checked just above (the check is the one a slice would make, without the
    // slice's second one).
    unsafe { b.as_ptr().add(at).cast::<u64>().read_unaligned() }
}

fn hash(v: u64) -> usize {
    (v.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - HASH_BITS)) as usize
}

/// How many bytes from `a` and `b` agree (a < b), at most `max`.
#[inline(always)]
fn match_len(raw: &[u8], a: usize, b: usize, max: usize) -> usize {
    let max = max.min(raw.len() - b);
    let mut len = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // Two 16-byte compares a step: matches on JSON lines are long, and each step ends in
        // a branch, so fewer, wider steps win.
        while len + 32 <= max {
            // SAFETY: SSE2 is part of every x86_64 CPU; a < b and b + max <= raw.len(), so
            // all four 16-byte loads lie inside `raw`.
            let same = unsafe {
                let x = _mm_loadu_si128(raw.as_ptr().add(a + len).cast());
                let y = _mm_loadu_si128(raw.as_ptr().add(b + len).cast());
                let x2 = _mm_loadu_si128(raw.as_ptr().add(a + len + 16).cast());
                let y2 = _mm_loadu_si128(raw.as_ptr().add(b + len + 16).cast());
                (_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u32)
                    | ((_mm_movemask_epi8(_mm_cmpeq_epi8(x2, y2)) as u32) << 16)
            };
            if same != u32::MAX {
                return len + (!same).trailing_zeros() as usize;
            }
            len += 32;
        }
        while len + 16 <= max {
            // SAFETY: SSE2 is part of every x86_64 CPU; a < b and b + max <= raw.len(), so
            // both 16-byte loads lie inside `raw`.
            let same = unsafe {
                let x = _mm_loadu_si128(raw.as_ptr().add(a + len).cast());
                let y = _mm_loadu_si128(raw.as_ptr().add(b + len).cast());
                _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u32
            };
            if same != 0xffff {
                return len + (!same).trailing_zeros() as usize;
            }
            len += 16;
        }
    }
    while len + 8 <= max {
        let diff = read_u64(raw, a + len) ^ read_u64(raw, b + len);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && raw[a + len] == raw[b + len] {
        len += 1;
    }
    len
}

/// Bits written least significant first into a buffer sized up front.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Where the next whole byte goes.
    at: usize,
    /// Room for every byte this chunk can take: `at + 8 <= end` always.
    end: usize,
    /// Bits not yet stored as a whole byte: `n` of them, fewer than 8 between calls.
    acc: u64,
    n: u32,
}

impl<'a> BitWriter<'a> {
    /// Writes `buf` from its start.
    fn new(buf: &'a mut Vec<u8>, raw_len: usize) -> Self {
        // At most 9 bits a byte, plus the block framing, the sync flush's 4 bytes and an
        // 8-byte store's slack.
        let room = raw_len + raw_len / 8 + 32;
        if buf.len() < room {
            buf.resize(room, 0);
        }
        Self {
            end: buf.len(),
            out: buf,
            at: 0,
            acc: 0,
            n: 0,
        }
    }

    /// Add `len` bits (at most 31). Every call stores the accumulator and moves on by its
    /// whole bytes, without a branch: whether a store is due would be a coin flip per
    /// literal, a mispredicted branch half the time.
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc |= u64::from(bits) << self.n;
        self.n += len;
        assert!(self.at + 8 <= self.end);
        // SAFETY: in bounds by the check above; stores all 8 bytes (those past the whole
        // ones are overwritten by the next store or cut off at the end).
        unsafe {
            self.out
                .as_mut_ptr()
                .add(self.at)
                .cast::<u64>()
                .write_unaligned(self.acc.to_le());
        }
        let bytes = self.n / 8;
        self.at += bytes as usize;
        self.acc >>= bytes * 8;
        self.n %= 8;
    }

    #[inline(always)]
    fn put_literal(&mut self, b: u8) {
        let code = CODES.literal[usize::from(b)];
        self.put(u32::from(code.bits), u32::from(code.len));
    }

    /// A length/distance pair: at most 8 + 5 + 5 + 13 = 31 bits, so one `put`.
    #[inline(always)]
    fn put_match(&mut self, len: usize, dist: usize) {
        let l = CODES.length[len];
        let d = dist_code(dist);
        self.put(l.bits | (d.bits << l.len), u32::from(l.len) + d.len);
    }

    fn align(&mut self) {
        self.n = self.n.div_ceil(8) * 8;
    }

    /// The bytes written (whole: call after `align`).
    fn finish(self) -> usize {
        let bytes = (self.n / 8) as usize;
        self.out[self.at..self.at + bytes].copy_from_slice(&self.acc.to_le_bytes()[..bytes]);
        self.at + bytes
    }
}

#[derive(Clone, Copy, Default)]
struct Code16 {
    bits: u16,
    len: u8,
}

#[derive(Clone, Copy, Default)]
struct Code32 {
    bits: u32,
    len: u8,
}

struct Dist {
    bits: u32,
    len: u32,
}

struct Codes {
    literal: [Code16; 256],
    /// By match length (3..=258): the length symbol's code and extra bits together.
    length: [Code32; MAX_MATCH + 1],
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// A distance symbol's fixed 5-bit code (reversed, as it goes out), its first distance, and
/// the code's length with its extra bits: looked up, since reversing bits is a dozen
/// instructions on x86.
#[derive(Clone, Copy)]
struct DistCode {
    bits: u8,
    base: u16,
    len: u8,
}

static DIST_CODES: [DistCode; 30] = {
    let mut codes = [DistCode {
        bits: 0,
        base: 0,
        len: 0,
    }; 30];
    let mut sym = 0;
    while sym < 30 {
        let extra = if sym < 4 { 0 } else { sym as u32 / 2 - 1 };
        codes[sym] = DistCode {
            bits: reverse(sym as u32, 5) as u8,
            base: DIST_BASE[sym],
            len: (5 + extra) as u8,
        };
        sym += 1;
    }
    codes
};

/// `code` of `len` bits, reversed: Huffman codes go out most significant bit first.
const fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// The fixed literal/length code of a symbol (RFC 1951, 3.2.6).
const fn fixed(symbol: u32) -> (u32, u32) {
    match symbol {
        0..=143 => (reverse(0x30 + symbol, 8), 8),
        144..=255 => (reverse(0x190 + symbol - 144, 9), 9),
        256..=279 => (reverse(symbol - 256, 7), 7),
        _ => (reverse(0xc0 + symbol - 280, 8), 8),
    }
}

static CODES: Codes = {
    let mut literal = [Code16 { bits: 0, len: 0 }; 256];
    let mut i = 0;
    while i < 256 {
        let (bits, len) = fixed(i as u32);
        literal[i] = Code16 {
            bits: bits as u16,
            len: len as u8,
        };
        i += 1;
    }
    let mut length = [Code32 { bits: 0, len: 0 }; MAX_MATCH + 1];
    let mut sym = 0;
    let mut len = 3;
    while len <= MAX_MATCH {
        // The last symbol whose base is at most `len` (258 has a symbol of its own).
        while sym + 1 < 29 && LENGTH_BASE[sym + 1] as usize <= len {
            sym += 1;
        }
        let (code, code_len) = fixed(257 + sym as u32);
        let extra = (len - LENGTH_BASE[sym] as usize) as u32;
        length[len] = Code32 {
            bits: code | (extra << code_len),
            len: (code_len + LENGTH_EXTRA[sym] as u32) as u8,
        };
        len += 1;
    }
    Codes { literal, length }
};

/// The distance symbol (5 fixed bits) and its extra bits, together.
#[inline]
fn dist_code(dist: usize) -> Dist {
    let d = (dist - 1) as u32;
    // Symbols 0-3 stand for one distance each; then each pair of symbols doubles the span.
    let sym = if d < 4 {
        d
    } else {
        let top = 31 - d.leading_zeros();
        2 * top + ((d >> (top - 1)) & 1)
    };
    let code = DIST_CODES[sym as usize];
    Dist {
        bits: u32::from(code.bits) | ((dist as u32 - u32::from(code.base)) << 5),
        len: u32::from(code.len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(b)
            .read_to_end(&mut out)
            .expect("a valid stream");
        out
    }

    /// Chunks, then a final empty block: what a gzip body holds.
    fn roundtrip(chunks: &[&[u8]]) {
        let mut q = Level1Deflate::new();
        let mut out = Vec::new();
        for c in chunks {
            q.compress(c, &mut out);
        }
        out.extend_from_slice(&[0x03, 0x00]);
        assert_eq!(inflate(&out), chunks.concat());
    }

    #[test]
    fn stale_positions_are_never_matched() {
        // Chunks with the same text: the second must not copy from the first (another
        // chunk's bytes are not in its window), also across the base's wrap-around.
        let text = b"the same words over and over, the same words over and over".repeat(50);
        for start in [0, u32::MAX - 5000, u32::MAX - text.len() as u32 - 1] {
            let mut q = Level1Deflate::new();
            q.base = start;
            let mut out = Vec::new();
            for _ in 0..4 {
                let chunk = q.compress_to_slice(&text).to_vec();
                let mut alone = chunk.clone();
                alone.extend_from_slice(&[0x03, 0x00]);
                assert_eq!(inflate(&alone), text, "base {start}");
                out.extend_from_slice(&chunk);
            }
            out.extend_from_slice(&[0x03, 0x00]);
            assert_eq!(inflate(&out), text.repeat(4));
        }
    }

    #[test]
    fn distance_symbols_follow_the_rfc_table() {
        for dist in 1..=WINDOW {
            let d = dist_code(dist);
            let sym = reverse(d.bits & 31, 5) as usize;
            let extra = d.len - 5;
            assert!(DIST_BASE[sym] as usize <= dist, "{dist}");
            assert!(dist < DIST_BASE[sym] as usize + (1 << extra), "{dist}");
            assert_eq!((d.bits >> 5) as usize, dist - DIST_BASE[sym] as usize);
        }
    }

    #[test]
    fn every_kind_of_input_inflates_back() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let random: Vec<u8> = (0..100_000).map(|_| rand() as u8).collect();
        let lines: Vec<u8> = (0..20_000)
            .flat_map(|i| {
                format!("{{\"name\": \"test_{}\", \"time\": 0.{i}}}\n", i % 97).into_bytes()
            })
            .collect();
        let runs: Vec<u8> = (0..70_000).map(|i| (i / 300) as u8).collect();
        // Matches at every distance and length, up to the window's edge.
        let mut far = random[..WINDOW + 600].to_vec();
        far.extend_from_slice(&random[..700]);
        let few: Vec<u8> = (0..50_000).map(|_| b"ab"[(rand() % 2) as usize]).collect();
        for input in [
            &b""[..],
            b"a",
            b"abc",
            b"abcd",
            b"aaaaaaaaaaaaa",
            &random,
            &lines,
            &runs,
            &far,
            &few,
        ] {
            roundtrip(&[input]);
            roundtrip(&[input, input, b"xyz", input]);
        }
        for len in 0..300 {
            roundtrip(&[&lines[..len], &random[..len]]);
        }
    }
}
