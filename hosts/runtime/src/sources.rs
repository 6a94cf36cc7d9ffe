//! Input sources: discovery (files, directories, stdin), reading with gunzip on a separate
//! thread, and the digests that make a report reproducible.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::RuntimeError;

/// File name endings scanned when walking a directory (a copy of a Config delivery bucket also
/// holds marker files such as `ConfigWritabilityCheckFile`, which are skipped).
const SCANNED_ENDINGS: [&str; 5] = [".json", ".json.gz", ".ndjson", ".jsonl", ".ndjson.gz"];

/// One input source.
pub struct InputSource {
    /// Name in the report: path relative to the scanned directory, the file name, `stdin`, an S3 key.
    pub name: String,
    size: Option<u64>,
    path: Option<PathBuf>,
    open: Box<dyn FnOnce() -> io::Result<Box<dyn Read + Send>> + Send>,
}

impl std::fmt::Debug for InputSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl InputSource {
    /// A file on disk, named `name` in the report.
    pub fn file(name: impl Into<String>, path: PathBuf) -> Self {
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        let opened = path.clone();
        Self { name: name.into(), size, path: Some(path), open: Box::new(move || Ok(Box::new(File::open(opened)?) as Box<dyn Read + Send>)) }
    }

    /// The file behind this source, when it is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Size of the raw bytes when known before reading (files, bytes in memory), for progress.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// About how many bytes reading this source gives, when known before reading: a gzip
    /// file's trailer says how large its (last) member decompresses to, modulo 2^32, so that
    /// or the file's size, whichever is larger; any other source's size.
    pub(crate) fn decoded_size_hint(&self) -> Option<u64> {
        let size = self.size?;
        let gzip_trailer = |path: &Path| -> io::Result<Option<u64>> {
            let mut file = File::open(path)?;
            let mut head = [0u8; 2];
            if size < 18 || file.read_exact(&mut head).is_err() || head != [0x1f, 0x8b] {
                return Ok(None);
            }
            io::Seek::seek(&mut file, io::SeekFrom::End(-4))?;
            let mut trailer = [0u8; 4];
            file.read_exact(&mut trailer)?;
            Ok(Some(u64::from(u32::from_le_bytes(trailer))))
        };
        let decoded = self.path.as_deref().and_then(|path| gzip_trailer(path).ok().flatten());
        Some(decoded.map_or(size, |decoded| decoded.max(size)))
    }

    /// Standard input.
    pub fn stdin() -> Self {
        Self { name: "stdin".to_owned(), size: None, path: None, open: Box::new(|| Ok(Box::new(io::stdin()) as Box<dyn Read + Send>)) }
    }

    /// Any reader (an S3 object body, bytes in memory).
    pub fn reader(name: impl Into<String>, reader: impl Read + Send + 'static) -> Self {
        Self { name: name.into(), size: None, path: None, open: Box::new(move || Ok(Box::new(reader) as Box<dyn Read + Send>)) }
    }

    /// Bytes in memory.
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        let size = Some(bytes.len() as u64);
        Self { size, ..Self::reader(name, io::Cursor::new(bytes)) }
    }
}

/// Expands command-line inputs: files as themselves (named by file name), directories walked
/// recursively (named by path relative to the directory, sorted), `-` for stdin. The result is
/// sorted by name so the order of arguments does not change the report.
pub fn collect_sources(inputs: &[PathBuf]) -> Result<Vec<InputSource>, RuntimeError> {
    let mut found: Vec<InputSource> = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            found.push(InputSource::stdin());
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|source| RuntimeError::Io { path: input.display().to_string(), source })?;
        if meta.is_dir() {
            walk(input, &mut found)?;
        } else {
            let name = input.file_name().map_or_else(|| input.display().to_string(), |n| n.to_string_lossy().into_owned());
            found.push(InputSource::file(name, input.clone()));
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = found.windows(2).find(|w| w.first().map(|a| &a.name) == w.get(1).map(|b| &b.name)) {
        let name = pair.first().map(|s| s.name.clone()).unwrap_or_default();
        return Err(RuntimeError::InvalidOption(format!("two inputs would both be named `{name}` in the report; pass one of them through a directory")));
    }
    Ok(found)
}

fn walk(root: &Path, found: &mut Vec<InputSource>) -> Result<(), RuntimeError> {
    // Symlinks are followed (a copied delivery bucket may link files in); walkdir detects
    // loops and reports them as errors instead of walking forever.
    for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name() {
        let entry = entry.map_err(|e| RuntimeError::Io {
            path: e.path().unwrap_or(root).display().to_string(),
            source: e.into_io_error().unwrap_or_else(|| io::Error::other("directory walk failed")),
        })?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file() || !SCANNED_ENDINGS.iter().any(|ending| name.ends_with(ending)) {
            continue;
        }
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        found.push(InputSource::file(name, entry.path().to_path_buf()));
    }
    Ok(())
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex sha256 of a file's raw bytes, read in a stream.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The input digest of a scan: sha256 of a `sha256sum`-style manifest, one line
/// `<sha256 of raw bytes>  <name>\n` per source in report order. An auditor can recompute it
/// with `sha256sum` over the same files.
pub fn input_digest(sources: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, sha256) in sources {
        hasher.update(format!("{sha256}  {name}\n").as_bytes());
    }
    hex(&hasher.finalize())
}

/// Progress of a scan, for progress bars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Raw (possibly compressed) bytes read so far over all sources.
    pub raw_bytes: u64,
    /// Items read so far over all sources.
    pub items: u64,
    /// Index of the current source.
    pub source_index: usize,
}

/// A reader that hashes and counts the raw bytes passing through it.
struct Digesting<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    progress: Arc<AtomicU64>,
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        self.bytes += n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the reader thread sends: decompressed chunks, then the digest or an error.
pub(crate) enum Chunk {
    Data(Vec<u8>),
    Done { sha256: String, raw_bytes: u64 },
    Failed(RuntimeError),
}

/// Chunks a reader may read ahead of the scan (the channel's capacity).
const READ_AHEAD: usize = 4;

/// Chunk buffers given back once fed, for the next chunks of the same sources. A fresh 1 MiB
/// buffer per chunk cost the reader threads page faults, zeroing and unmapping (with the
/// TLB shootdowns that unmapping costs a process whose other threads are scanning). One pool
/// serves every instance of a scan.
#[derive(Clone)]
pub(crate) struct ChunkPool {
    kept: Arc<Mutex<Vec<Vec<u8>>>>,
    most: usize,
}

impl ChunkPool {
    /// A pool for a scan reading on `jobs` instances at once.
    pub(crate) fn new(jobs: usize) -> Self {
        // As many as can be in flight: per instance those read ahead, one being filled and
        // one being fed.
        Self { kept: Arc::default(), most: jobs.max(1) * (READ_AHEAD + 2) }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps a fed chunk's buffer for reuse.
    pub(crate) fn give_back(&self, chunk: Vec<u8>) {
        let mut kept = self.kept();
        if kept.len() < self.most {
            kept.push(chunk);
        }
    }

    /// A buffer of `len` bytes: a kept one (zeroed only past what it held) or a new one.
    fn take(&self, len: usize) -> Vec<u8> {
        let kept = self.kept().pop();
        match kept {
            Some(mut chunk) => {
                chunk.resize(len, 0);
                chunk
            }
            None => vec![0u8; len],
        }
    }
}

/// Reads one source on its own thread (so gunzip overlaps scoring), sending decompressed
/// chunks in buffers from `pool`; `raw_progress` counts the raw bytes read.
pub(crate) fn spawn_reader(source: InputSource, chunk_bytes: usize, max_source_bytes: u64, raw_progress: Arc<AtomicU64>, pool: ChunkPool) -> (Receiver<Chunk>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(READ_AHEAD);
    let handle = std::thread::spawn(move || read_source(source, chunk_bytes, max_source_bytes, raw_progress, &pool, &tx));
    (rx, handle)
}

fn read_source(source: InputSource, chunk_bytes: usize, max_source_bytes: u64, progress: Arc<AtomicU64>, pool: &ChunkPool, tx: &SyncSender<Chunk>) {
    let name = source.name.clone();
    let io_error = |e: io::Error| RuntimeError::Io { path: name.clone(), source: e };
    let reader = match (source.open)() {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Chunk::Failed(io_error(e)));
            return;
        }
    };
    let mut raw = BufReader::with_capacity(256 << 10, Digesting { inner: reader, hasher: Sha256::new(), bytes: 0, progress });
    let gzipped = match io::BufRead::fill_buf(&mut raw) {
        Ok(head) => head.starts_with(&[0x1f, 0x8b]),
        Err(e) => {
            let _ = tx.send(Chunk::Failed(io_error(e)));
            return;
        }
    };
    let mut decoded: Box<dyn Read> = if gzipped { Box::new(MultiGzDecoder::new(&mut raw)) } else { Box::new(&mut raw) };
    let mut total = 0u64;
    loop {
        let mut chunk = pool.take(chunk_bytes);
        let mut filled = 0;
        while filled < chunk.len() {
            match decoded.read(chunk.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.send(Chunk::Failed(io_error(e)));
                    return;
                }
            }
        }
        if filled == 0 {
            break;
        }
        total += filled as u64;
        if total > max_source_bytes {
            let _ = tx.send(Chunk::Failed(RuntimeError::InputTooLarge { source_name: name.clone(), limit: max_source_bytes }));
            return;
        }
        chunk.truncate(filled);
        if tx.send(Chunk::Data(chunk)).is_err() {
            return; // the scan stopped; nobody is listening
        }
    }
    drop(decoded);
    // Drain anything after the gzip members so the digest covers the whole file.
    if let Err(e) = io::copy(&mut raw, &mut io::sink()) {
        let _ = tx.send(Chunk::Failed(io_error(e)));
        return;
    }
    let digesting = raw.into_inner();
    let _ = tx.send(Chunk::Done { sha256: hex(&digesting.hasher.finalize()), raw_bytes: digesting.bytes });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept buffer comes back at the length asked for, zeroed past what it held before, and
    /// the pool keeps no more buffers than can be in flight.
    #[test]
    fn the_pool_reuses_buffers_up_to_what_can_be_in_flight() {
        let pool = ChunkPool::new(2);
        let mut first = pool.take(16);
        assert_eq!(first, vec![0u8; 16]);
        first.truncate(5);
        first.fill(7);
        let address = first.as_ptr();
        pool.give_back(first);
        let again = pool.take(16);
        assert_eq!(again.as_ptr(), address, "the buffer is reused");
        assert_eq!(again, [[7u8; 5].as_slice(), &[0u8; 11]].concat(), "read bytes stay until overwritten, the rest is zero");
        for _ in 0..100 {
            pool.give_back(vec![1u8; 16]);
        }
        assert_eq!(pool.kept().len(), 2 * (READ_AHEAD + 2));
    }
}
