//! Storing the JSON report while the component renders it.
//!
//! The component hands the report out in pieces (`render-page`); [`PartWriter`] gathers them into
//! parts of [`PART_BYTES`] for [`upload`], which sends them to S3 as the parts of a multipart
//! upload while rendering goes on. Neither the component nor this host holds the whole report,
//! which at 100,000 resources is 168 MB. A multipart upload stays invisible until it is
//! completed, and the analyzer completes it only once the scan's history is written, so a failed
//! scan still leaves no report behind (its upload is aborted). A report that fits in one part is
//! kept in memory and stored with one `PutObject`.

use std::io::{self, Write};

use anyhow::Context;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::sync::mpsc;

/// Size of every part but the last (S3's minimum is 5 MiB).
pub const PART_BYTES: usize = 8 << 20;

/// What the renderer sends to the uploader.
#[derive(Debug)]
pub enum Piece {
    /// The next part of the report.
    Data(Vec<u8>),
    /// The report is complete. Without it, a closed channel means rendering failed.
    End,
}

/// The channel between the blocking renderer and the uploader; two parts may wait in it.
pub fn channel() -> (mpsc::Sender<Piece>, mpsc::Receiver<Piece>) {
    mpsc::channel(2)
}

/// A writer for the renderer (on a blocking thread) that sends the report on in parts.
#[derive(Debug)]
pub struct PartWriter {
    tx: mpsc::Sender<Piece>,
    part: Vec<u8>,
}

impl PartWriter {
    /// A writer sending to `tx`.
    pub fn new(tx: mpsc::Sender<Piece>) -> Self {
        Self { tx, part: Vec::with_capacity(PART_BYTES) }
    }

    fn send(&self, piece: Piece) -> io::Result<()> {
        self.tx.blocking_send(piece).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the report upload stopped"))
    }

    /// Sends the last part and marks the end of the report.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.part.is_empty() {
            let last = std::mem::take(&mut self.part);
            self.send(Piece::Data(last))?;
        }
        self.send(Piece::End)
    }
}

impl Write for PartWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.part.len() == PART_BYTES {
            let full = std::mem::replace(&mut self.part, Vec::with_capacity(PART_BYTES));
            self.send(Piece::Data(full))?;
        }
        let taken = bytes.len().min(PART_BYTES - self.part.len());
        self.part.extend_from_slice(bytes.get(..taken).unwrap_or_default());
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a report goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The S3 client.
    pub s3: aws_sdk_s3::Client,
    /// The reports bucket.
    pub bucket: String,
    /// The report's key.
    pub key: String,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// The `scan-id` metadata value.
    pub scan_id: String,
}

impl Target {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// Stores a whole report under `key`.
    pub async fn put(&self, key: &str, body: Bytes) -> anyhow::Result<()> {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(self.content_type)
            .metadata("scan-id", &self.scan_id)
            .body(ByteStream::from(body))
            .send()
            .await
            .with_context(|| format!("storing report s3://{}/{key}", self.bucket))?;
        Ok(())
    }
}

/// How the uploader failed.
#[derive(Debug)]
pub enum UploadError {
    /// The renderer stopped before the end of the report (its own error says why).
    Abandoned,
    /// S3 refused a request.
    Failed(anyhow::Error),
}

/// A report received whole and not yet visible in the bucket.
#[derive(Debug)]
pub enum Pending {
    /// One part: stored by [`Pending::store`] with `PutObject`.
    Small(Bytes),
    /// Uploaded in parts; [`Pending::store`] completes the upload.
    Multipart {
        /// The upload.
        upload_id: String,
        /// Its parts, in order.
        parts: Vec<CompletedPart>,
    },
}

impl Pending {
    /// Makes the report visible at the target's key, and copies it to `copy_key`.
    pub async fn store(self, target: &Target, copy_key: &str) -> anyhow::Result<()> {
        match self {
            Pending::Small(body) => {
                target.put(&target.key, body.clone()).await?;
                target.put(copy_key, body).await
            }
            Pending::Multipart { upload_id, parts } => {
                let completed = target
                    .s3
                    .complete_multipart_upload()
                    .bucket(&target.bucket)
                    .key(&target.key)
                    .upload_id(&upload_id)
                    .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                    .send()
                    .await;
                if let Err(error) = completed {
                    abort(target, &upload_id).await;
                    return Err(error).with_context(|| format!("storing report {}", target.location()));
                }
                // A copy inside S3 (content type and metadata included) instead of a second upload.
                target
                    .s3
                    .copy_object()
                    .bucket(&target.bucket)
                    .key(copy_key)
                    .copy_source(format!("{}/{}", target.bucket, target.key))
                    .send()
                    .await
                    .with_context(|| format!("storing report s3://{}/{copy_key}", target.bucket))?;
                Ok(())
            }
        }
    }

    /// Drops the report: aborts its upload, if it has one (best effort; the bucket's lifecycle
    /// rule removes uploads left incomplete anyway).
    pub async fn discard(self, target: &Target) {
        if let Pending::Multipart { upload_id, .. } = self {
            abort(target, &upload_id).await;
        }
    }
}

async fn abort(target: &Target, upload_id: &str) {
    if let Err(error) = target.s3.abort_multipart_upload().bucket(&target.bucket).key(&target.key).upload_id(upload_id).send().await {
        tracing::warn!(report = target.location(), upload_id, error = format!("{error:#}"), "could not abort the report's multipart upload");
    }
}

/// Receives the report from the renderer and uploads every part but the last as it comes; the
/// last one goes up when the end is marked. A report of one part is only kept.
pub async fn upload(target: &Target, mut rx: mpsc::Receiver<Piece>) -> Result<Pending, UploadError> {
    let mut held: Option<Vec<u8>> = None;
    let mut upload: Option<(String, Vec<CompletedPart>)> = None;
    let ended = loop {
        match rx.recv().await {
            Some(Piece::Data(part)) => {
                let Some(previous) = held.replace(part) else { continue };
                if upload.is_none() {
                    upload = Some((start(target).await.map_err(UploadError::Failed)?, Vec::new()));
                }
                if let Some((upload_id, parts)) = &mut upload
                    && let Err(error) = send_part(target, upload_id, parts, previous).await
                {
                    abort(target, upload_id).await;
                    return Err(UploadError::Failed(error));
                }
            }
            Some(Piece::End) => break true,
            None => break false,
        }
    };
    let last = held.unwrap_or_default();
    match upload {
        None if ended => Ok(Pending::Small(Bytes::from(last))),
        None => Err(UploadError::Abandoned),
        Some((upload_id, _)) if !ended => {
            abort(target, &upload_id).await;
            Err(UploadError::Abandoned)
        }
        Some((upload_id, mut parts)) => match send_part(target, &upload_id, &mut parts, last).await {
            Ok(()) => Ok(Pending::Multipart { upload_id, parts }),
            Err(error) => {
                abort(target, &upload_id).await;
                Err(UploadError::Failed(error))
            }
        },
    }
}

async fn start(target: &Target) -> anyhow::Result<String> {
    let created = target
        .s3
        .create_multipart_upload()
        .bucket(&target.bucket)
        .key(&target.key)
        .content_type(target.content_type)
        .metadata("scan-id", &target.scan_id)
        .send()
        .await
        .with_context(|| format!("storing report {}", target.location()))?;
    created.upload_id().map(str::to_owned).with_context(|| format!("storing report {}: S3 returned no upload id", target.location()))
}

async fn send_part(target: &Target, upload_id: &str, parts: &mut Vec<CompletedPart>, body: Vec<u8>) -> anyhow::Result<()> {
    let number = i32::try_from(parts.len() + 1).context("too many parts")?;
    let sent = target
        .s3
        .upload_part()
        .bucket(&target.bucket)
        .key(&target.key)
        .upload_id(upload_id)
        .part_number(number)
        .body(ByteStream::from(body))
        .send()
        .await
        .with_context(|| format!("storing report {} (part {number})", target.location()))?;
    parts.push(CompletedPart::builder().part_number(number).set_e_tag(sent.e_tag().map(str::to_owned)).build());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_full_but_the_last_and_the_end_is_marked() {
        let (tx, mut rx) = channel();
        let writer = std::thread::spawn(move || -> io::Result<()> {
            let mut parts = PartWriter::new(tx);
            let piece = vec![7u8; 3 << 20];
            for _ in 0..6 {
                parts.write_all(&piece)?; // 18 MiB in all
            }
            parts.finish()
        });
        let mut sizes = Vec::new();
        let mut ended = false;
        while let Some(piece) = rx.blocking_recv() {
            match piece {
                Piece::Data(bytes) => sizes.push(bytes.len()),
                Piece::End => ended = true,
            }
        }
        assert!(writer.join().is_ok_and(|r| r.is_ok()));
        assert_eq!(sizes, [PART_BYTES, PART_BYTES, 2 << 20]);
        assert!(ended);
    }

    #[test]
    fn a_stopped_upload_stops_the_writer() {
        let (tx, rx) = channel();
        drop(rx);
        let mut parts = PartWriter::new(tx);
        let error = parts.write_all(&vec![0u8; PART_BYTES + 1]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
