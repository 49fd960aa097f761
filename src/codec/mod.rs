//! Compression both ways, shared by every layer that touches deflate streams: [`inflate`]
//! reads zip entries and kept parts, [`deflate`] is the level-1 compressor of upload bodies,
//! and [`gzip`] frames bodies in independently inflatable chunks. A leaf: no report, run or
//! upload knowledge.

pub mod deflate;
pub mod gzip;
pub mod inflate;
