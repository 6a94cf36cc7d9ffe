//! An S3 object body as a blocking `Read`, so the runtime's reader thread streams it into the
//! component without holding the whole object.

use std::io::{self, Read};

use aws_sdk_s3::primitives::ByteStream;
use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

/// Chunks in flight between the download task and the reader thread.
const IN_FLIGHT: usize = 16;

pub(crate) struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

/// Starts downloading `body` on the current tokio runtime; read it from a blocking thread.
pub(crate) fn stream(mut body: ByteStream) -> BodyReader {
    let (tx, chunks) = mpsc::channel(IN_FLIGHT);
    tokio::spawn(async move {
        loop {
            let next = match body.try_next().await {
                Ok(Some(bytes)) => Ok(bytes),
                Ok(None) => break,
                Err(error) => Err(io::Error::other(format!("reading the S3 object failed: {error}"))),
            };
            let failed = next.is_err();
            if tx.send(next).await.is_err() || failed {
                break;
            }
        }
    });
    BodyReader { chunks, current: Bytes::new() }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(error)) => return Err(error),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        self.current.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}
