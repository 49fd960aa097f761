//! A minimal zip writer for hostile archives: any entry name (`../`, absolute, NUL, non-UTF-8),
//! lying sizes and CRCs, the encryption flag, and central-directory entries that overlap one
//! local entry (the non-recursive zip bomb). Real zip libraries refuse to write most of these.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

pub const STORED: u16 = 0;
pub const DEFLATED: u16 = 8;

/// One entry as it is written.
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub method: u16,
    /// General-purpose flags (bit 0: encrypted, bit 11: UTF-8 name).
    pub flags: u16,
    pub crc: u32,
    /// The bytes stored (already compressed for DEFLATED).
    pub data: &'a [u8],
    /// What the headers claim the uncompressed size is.
    pub size: u32,
}

#[derive(Default)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
}

pub fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

impl ZipWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A stored entry with an honest header.
    pub fn stored(&mut self, name: &str, data: &[u8]) -> &mut Self {
        let flags = if name.is_ascii() { 0 } else { 0x800 };
        self.raw(&Raw {
            name: name.as_bytes(),
            method: STORED,
            flags,
            crc: crc32fast::hash(data),
            data,
            size: data.len() as u32,
        });
        self
    }

    /// A deflated entry with an honest header.
    pub fn deflated(&mut self, name: &str, data: &[u8]) -> &mut Self {
        let flags = if name.is_ascii() { 0 } else { 0x800 };
        self.raw(&Raw {
            name: name.as_bytes(),
            method: DEFLATED,
            flags,
            crc: crc32fast::hash(data),
            data: &deflate(data),
            size: data.len() as u32,
        });
        self
    }

    /// Write an entry; returns the offset of its local header.
    pub fn raw(&mut self, e: &Raw<'_>) -> u32 {
        let offset = self.out.len() as u32;
        let o = &mut self.out;
        o.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        o.extend_from_slice(&20u16.to_le_bytes());
        o.extend_from_slice(&e.flags.to_le_bytes());
        o.extend_from_slice(&e.method.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes()); // time
        o.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
        o.extend_from_slice(&e.crc.to_le_bytes());
        o.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        o.extend_from_slice(&e.size.to_le_bytes());
        o.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(e.name);
        o.extend_from_slice(e.data);
        self.central_entry(e, offset);
        offset
    }

    /// A central-directory entry for data already written at `offset` (overlapping entries).
    pub fn central_entry(&mut self, e: &Raw<'_>, offset: u32) {
        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes()); // made by
        c.extend_from_slice(&20u16.to_le_bytes()); // needed
        c.extend_from_slice(&e.flags.to_le_bytes());
        c.extend_from_slice(&e.method.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&0x21u16.to_le_bytes());
        c.extend_from_slice(&e.crc.to_le_bytes());
        c.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        c.extend_from_slice(&e.size.to_le_bytes());
        c.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 12]); // extra, comment, disk, internal and external attributes
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(e.name);
        self.entries += 1;
    }

    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.entries.to_le_bytes());
        out.extend_from_slice(&self.entries.to_le_bytes());
        out.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}
