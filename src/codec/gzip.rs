//! Gzip bodies built from independently compressed chunks, the way pigz does it: each chunk
//! is a raw deflate stream ended by a sync flush (byte-aligned, not final), so chunks made on
//! different threads concatenate into one valid gzip member; CRC-32s combine.

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress};

use super::deflate::Level1Deflate;

/// The default level. The contract is on decompressed bytes only, so speed wins by default:
/// level 1 roughly halves `--upload`'s time against level 6 for somewhat larger bodies
/// (`bench/run.sh`, docs/performance.md). `--gzip-level` changes it. Level 1 is
/// [`Level1Deflate`] (zlib's level-1 greedy matching without its window copies, faster than
/// zlib-rs's level 1 on `test_run`'s lines and no larger); 2 to 9 are zlib's.
pub const DEFAULT_LEVEL: u32 = 1;

/// One compressed piece of a body.
#[derive(Debug, Clone, Default)]
pub struct DeflateChunk {
    /// Shared, so upload bodies reference chunks instead of copying them.
    pub data: Bytes,
    pub crc: crc32fast::Hasher,
    pub raw_len: u64,
}

impl DeflateChunk {
    pub fn compress(raw: &[u8], level: u32) -> Self {
        Self::compress_with(&mut Compressor::new(level), raw)
    }

    /// Compress with a reused compressor: a fresh one zeroes hundreds of KiB of tables.
    pub fn compress_with(compressor: &mut Compressor, raw: &[u8]) -> Self {
        // Keep an exact-size copy; the compressor's scratch buffer serves the next chunk.
        let data = Bytes::copy_from_slice(compressor.deflate(raw));
        Self::new(data, raw)
    }

    /// [`Self::compress_with`] of `raw` cut into parts (`ends`: each part's end, ascending),
    /// each part deflated on its own, so one part can be inflated without the others
    /// ([`Self::inflate_part`]). Returns where each part's bytes lie in the chunk.
    pub fn compress_parts(
        compressor: &mut Compressor,
        raw: &[u8],
        ends: &[usize],
    ) -> (Self, Vec<PartAt>) {
        // Made in the compressor's scratch and copied out at its exact size: a chunk is
        // kept for the whole load, and a vector's spare capacity would be kept with it.
        let mut data = std::mem::take(&mut compressor.parts);
        data.clear();
        let mut parts = Vec::with_capacity(ends.len());
        let mut start = 0;
        for &end in ends {
            let at = data.len();
            if end > start {
                data.extend_from_slice(compressor.deflate(&raw[start..end]));
            }
            parts.push(PartAt {
                data: at..data.len(),
                raw_len: end - start,
            });
            start = end;
        }
        if start < raw.len() {
            data.extend_from_slice(compressor.deflate(&raw[start..]));
        }
        let chunk = Self::new(Bytes::copy_from_slice(&data), raw);
        compressor.parts = data;
        (chunk, parts)
    }

    fn new(data: Bytes, raw: &[u8]) -> Self {
        let mut crc = crc32fast::Hasher::new();
        crc.update(raw);
        Self {
            data,
            crc,
            raw_len: raw.len() as u64,
        }
    }

    /// The raw bytes of one part made by [`Self::compress_parts`] (None: not a part of
    /// this chunk).
    pub fn inflate_part(&self, part: &PartAt) -> Option<Vec<u8>> {
        let bytes = self.data.get(part.data.clone())?;
        // A part ends with a sync flush, not a final block: one is added.
        let mut stream = Vec::with_capacity(bytes.len() + 2);
        stream.extend_from_slice(bytes);
        stream.extend_from_slice(&[0x03, 0x00]);
        super::inflate::inflate_exact(&stream, part.raw_len)
    }
}

/// Where a part of a chunk lies: its compressed bytes and its raw length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartAt {
    pub data: std::ops::Range<usize>,
    pub raw_len: usize,
}

/// A raw-deflate compressor kept by a worker between chunks, with its scratch output.
pub struct Compressor {
    engine: Engine,
    /// Where [`DeflateChunk::compress_parts`] joins parts.
    parts: Vec<u8>,
}

enum Engine {
    /// Level 1: [`Level1Deflate`].
    Level1(Level1Deflate),
    /// Every other level (2 to 9): zlib's.
    Zlib(Compress, Vec<u8>),
}

impl Compressor {
    /// The raw deflate of `raw`, sync-flushed (byte-aligned, not final), in scratch space.
    fn deflate(&mut self, raw: &[u8]) -> &[u8] {
        match &mut self.engine {
            Engine::Level1(q) => q.compress_to_slice(raw),
            Engine::Zlib(c, data) => {
                c.reset();
                data.clear();
                data.reserve(raw.len() / 8 + 64);
                loop {
                    let consumed = c.total_in() as usize;
                    c.compress_vec(&raw[consumed..], data, FlushCompress::Sync)
                        .expect("deflate into a growable buffer cannot fail");
                    // Done when all input is in and the flush did not run out of room.
                    if c.total_in() as usize == raw.len() && data.len() < data.capacity() {
                        break;
                    }
                    data.reserve(data.capacity().max(64));
                }
                data
            }
        }
    }

    pub fn new(level: u32) -> Self {
        let engine = match level {
            1 => Engine::Level1(Level1Deflate::new()),
            _ => Engine::Zlib(
                Compress::new(Compression::new(level.min(9)), false),
                Vec::new(),
            ),
        };
        Self {
            engine,
            parts: Vec::new(),
        }
    }
}

/// A gzip body as a list of shared segments (header, chunks, trailer): assembling it copies
/// nothing, and sinks write the segments in order.
#[derive(Debug, Clone, Default)]
pub struct Body {
    segments: Vec<Bytes>,
    len: usize,
}

impl Body {
    fn push(&mut self, b: Bytes) {
        self.len += b.len();
        self.segments.push(b);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn segments(&self) -> &[Bytes] {
        &self.segments
    }

    /// One contiguous copy, for sinks that need it.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for s in &self.segments {
            out.extend_from_slice(s);
        }
        out
    }
}

/// Assembles a gzip member from chunks in order.
#[derive(Debug, Clone)]
pub struct GzipBuilder {
    out: Body,
    crc: crc32fast::Hasher,
    raw_len: u64,
}

impl Default for GzipBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipBuilder {
    pub fn new() -> Self {
        // Magic, deflate, no flags, mtime 0 (reproducible bodies), no extra flags, OS unknown.
        let mut out = Body::default();
        out.push(Bytes::from_static(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]));
        Self {
            out,
            crc: crc32fast::Hasher::new(),
            raw_len: 0,
        }
    }

    pub fn push_chunk(&mut self, chunk: &DeflateChunk) {
        self.out.push(chunk.data.clone());
        self.crc.combine(&chunk.crc);
        self.raw_len += chunk.raw_len;
    }

    pub fn push_raw(&mut self, raw: &[u8], level: u32) {
        if !raw.is_empty() {
            self.push_chunk(&DeflateChunk::compress(raw, level));
        }
    }

    pub fn raw_len(&self) -> u64 {
        self.raw_len
    }

    /// Append the chunks of another unfinished body (made with [`GzipBuilder::new`]).
    pub fn append(&mut self, other: GzipBuilder) {
        // Its first segment is its own gzip header.
        for segment in other.out.segments.into_iter().skip(1) {
            self.out.push(segment);
        }
        self.crc.combine(&other.crc);
        self.raw_len += other.raw_len;
    }

    pub fn finish(mut self) -> Body {
        // An empty final fixed-Huffman block closes the deflate stream; then CRC and size.
        let mut tail = vec![0x03, 0x00];
        tail.extend_from_slice(&self.crc.finalize().to_le_bytes());
        tail.extend_from_slice(&(self.raw_len as u32).to_le_bytes());
        self.out.push(Bytes::from(tail));
        self.out
    }
}

/// A body written piece by piece and compressed a chunk at a time, so a large body is never
/// held uncompressed.
pub struct ChunkedGzip {
    builder: GzipBuilder,
    pending: Vec<u8>,
    compressor: Compressor,
}

impl ChunkedGzip {
    const CHUNK: usize = 1 << 20;

    pub fn new(level: u32) -> Self {
        Self {
            builder: GzipBuilder::new(),
            pending: Vec::with_capacity(Self::CHUNK + 4096),
            compressor: Compressor::new(level),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.write_with(|pending| pending.extend_from_slice(bytes));
    }

    /// Let `f` append to the uncompressed bytes in place (no copy of its own to make); a
    /// piece of a few hundred KiB at most keeps chunks near their size.
    pub fn write_with(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        f(&mut self.pending);
        if self.pending.len() >= Self::CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let chunk = DeflateChunk::compress_with(&mut self.compressor, &self.pending);
            self.builder.push_chunk(&chunk);
            self.pending.clear();
        }
    }

    pub fn finish(mut self) -> GzipBuilder {
        self.flush();
        self.builder
    }
}

/// Compress a whole body in one go.
pub fn gzip(raw: &[u8], level: u32) -> Body {
    let mut b = GzipBuilder::new();
    b.push_raw(raw, level);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn chunks_concatenate_into_one_member() {
        let parts: Vec<Vec<u8>> = (0..5)
            .map(|i| {
                format!("{{\"n\": {i}}}\n")
                    .repeat(1000 * i + 1)
                    .into_bytes()
            })
            .collect();
        for level in [1, 6] {
            let mut b = GzipBuilder::new();
            for p in &parts {
                b.push_chunk(&DeflateChunk::compress(p, level));
            }
            b.push_raw(b"", 1);
            let body = b.finish().to_vec();
            assert_eq!(gunzip(&body), parts.concat());
            // A single member: a decoder reading just one member sees everything.
            let mut one = Vec::new();
            flate2::read::DeflateDecoder::new(&body[10..])
                .read_to_end(&mut one)
                .unwrap();
            assert_eq!(one, parts.concat());
        }
    }

    #[test]
    fn parts_inflate_alone_and_together() {
        let raw: Vec<u8> = (0..3000)
            .flat_map(|i| format!("{{\"case\": {}, \"name\": \"t{i}\"}}\n", i % 7).into_bytes())
            .collect();
        let ends = [0, 10, 10, 5000, 5001, 40000, raw.len()];
        for level in [1, 6] {
            let (chunk, parts) =
                DeflateChunk::compress_parts(&mut Compressor::new(level), &raw, &ends);
            assert_eq!(parts.len(), ends.len());
            let mut start = 0;
            for (part, &end) in parts.iter().zip(&ends) {
                assert_eq!(part.raw_len, end - start);
                if end > start {
                    assert_eq!(chunk.inflate_part(part).as_deref(), Some(&raw[start..end]));
                }
                start = end;
            }
            let mut b = GzipBuilder::new();
            b.push_chunk(&chunk);
            assert_eq!(gunzip(&b.finish().to_vec()), raw);
            // A part claimed longer or shorter than it is reads as nothing.
            let mut wrong = parts[3].clone();
            wrong.raw_len += 1;
            assert_eq!(chunk.inflate_part(&wrong), None);
            wrong.raw_len -= 2;
            assert_eq!(chunk.inflate_part(&wrong), None);
        }
    }

    #[test]
    fn empty_body() {
        assert_eq!(gunzip(&gzip(b"", 9).to_vec()), b"");
    }
}
