//! The S3 sink: one PutObject per planned object, in plan order, with `Content-Encoding:
//! gzip` and `Content-Type: application/json` (docs/compatibility.md section 5). The body is sent from memory
//! in one piece: a PutObject is stored whole or not at all (never multipart), and an
//! in-memory body is a plain signed PUT that every S3-compatible store accepts. Transient
//! failures get the SDK's standard retries; what still fails is named with its error.

use aws_sdk_s3::primitives::ByteStream;

use crate::s3_client::{S3, explain};

use super::{PlannedObject, Sink, SinkError};

pub struct S3Sink {
    s3: S3,
}

impl S3Sink {
    pub fn new(s3: S3) -> Self {
        Self { s3 }
    }
}

impl Sink for S3Sink {
    fn describe(&self) -> String {
        format!("S3 ({})", self.s3.endpoint())
    }

    fn put(&mut self, object: &PlannedObject) -> Result<(), SinkError> {
        // Contiguous bytes: the SDK signs and sends them as one plain PUT with a length.
        let body = ByteStream::from(object.body.to_vec());
        let request = self
            .s3
            .client()
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .content_encoding("gzip")
            .content_type("application/json")
            .body(body)
            .send();
        self.s3
            .block_on(request)
            .map(|_| ())
            .map_err(|e| SinkError {
                key: format!("s3://{}", object.location()),
                message: format!("{} (endpoint {})", explain(&e), self.s3.endpoint()),
            })
    }
}
