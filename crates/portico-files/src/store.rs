use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sniff::{SNIFF_LEN, Utf8Check, sniff};
use crate::{BlobKey, FileError, Limits, StoredFile, sanitise_file_name};

/// Spool folder inside a local store; on the same filesystem, so finishing is a hard link.
/// Not a valid key prefix (not hex), so it can never collide with a blob.
const LOCAL_SPOOL: &str = ".spool";
/// Spool files older than this are leftovers of a crash.
const STALE_SPOOL: Duration = Duration::from_secs(60 * 60);
/// Remote blobs up to this size go up in one request; larger ones as multipart.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;
/// S3 wants parts of at least 5 MiB.
const PART_SIZE: usize = 8 * 1024 * 1024;
const READ_BUF: usize = 256 * 1024;

/// Where attachments live. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn ObjectStore>,
    spool_dir: PathBuf,
    /// `Some` for a local store: blobs are hard-linked from the spool, not copied.
    local_spool: Option<object_store::path::Path>,
}

impl BlobStore {
    /// A store in a local directory, created if missing. Keep it outside any served folder.
    pub fn local(dir: impl AsRef<Path>) -> Result<BlobStore, FileError> {
        let dir = dir.as_ref();
        let spool_dir = dir.join(LOCAL_SPOOL);
        std::fs::create_dir_all(&spool_dir)?;
        remove_stale_spool_files(&spool_dir);
        // fsync: an upload we acknowledged must survive a power cut.
        let store = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
        Ok(BlobStore {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                spool_dir,
                local_spool: Some(object_store::path::Path::from(LOCAL_SPOOL)),
            }),
        })
    }

    /// Any `object_store` backend (e.g. shared object storage for several instances); uploads
    /// are spooled in the OS temp directory.
    pub fn with_object_store(store: Arc<dyn ObjectStore>) -> BlobStore {
        BlobStore::remote(store, std::env::temp_dir())
    }

    fn remote(store: Arc<dyn ObjectStore>, spool_dir: PathBuf) -> BlobStore {
        BlobStore {
            inner: Arc::new(Inner {
                store,
                spool_dir,
                local_spool: None,
            }),
        }
    }

    /// From configuration: a plain path or `file:///abs/path` for a local directory, or
    /// `s3://bucket/prefix` when built with the `s3` feature
    /// (`cargo build --features portico-files/s3`; credentials, region and endpoint from the
    /// usual `AWS_*` environment variables).
    pub fn from_url(url: &str) -> Result<BlobStore, FileError> {
        let Some((scheme, _)) = url.split_once("://") else {
            return BlobStore::local(url);
        };
        let parsed = || url::Url::parse(url).map_err(|e| FileError::InvalidUrl(e.to_string()));
        match scheme {
            "file" => {
                let path = parsed()?.to_file_path().map_err(|()| {
                    FileError::InvalidUrl("file:// URL must hold an absolute local path".into())
                })?;
                BlobStore::local(path)
            }
            #[cfg(feature = "s3")]
            "s3" => s3(&parsed()?),
            #[cfg(not(feature = "s3"))]
            "s3" => Err(FileError::InvalidUrl(
                "s3:// storage needs Portico built with `--features portico-files/s3`".into(),
            )),
            other => Err(FileError::InvalidUrl(format!(
                "unsupported scheme `{other}://`"
            ))),
        }
    }

    /// Starts one request's worth of files.
    pub fn upload(&self, limits: Limits) -> Upload {
        Upload {
            store: self.clone(),
            limits,
            request_bytes: 0,
            files_begun: 0,
            staged: Vec::new(),
            failed: false,
        }
    }

    /// The whole blob (files are bounded by [`Limits`], so this is small).
    pub async fn get(&self, key: &BlobKey) -> Result<Bytes, FileError> {
        Ok(self.inner.store.get(&key.path()).await?.bytes().await?)
    }

    /// Removes a blob. Blobs are shared by identical uploads: only call this once no record
    /// refers to the key any more.
    pub async fn delete(&self, key: &BlobKey) -> Result<(), FileError> {
        Ok(self.inner.store.delete(&key.path()).await?)
    }

    /// Moves a finished spool file to its key. Identical content is stored once.
    async fn put_spooled(
        &self,
        spool: &mut SpoolFile,
        key: &BlobKey,
        size: u64,
    ) -> Result<(), FileError> {
        let store = &self.inner.store;
        let to = key.path();
        if let Some(spool_prefix) = &self.inner.local_spool {
            let from = spool_prefix.clone().join(spool.name.as_str());
            return match store.rename_if_not_exists(&from, &to).await {
                Ok(()) => {
                    spool.disarm();
                    Ok(())
                }
                Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        match store.head(&to).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if size <= SINGLE_PUT_MAX {
            let bytes = tokio::fs::read(&spool.path).await?;
            store.put(&to, PutPayload::from(bytes)).await?;
            return Ok(());
        }
        let mut writer =
            WriteMultipart::new_with_chunk_size(store.put_multipart(&to).await?, PART_SIZE);
        let result = async {
            let mut file = tokio::fs::File::open(&spool.path).await?;
            let mut buf = vec![0; READ_BUF];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, FileError>(());
                }
                writer.wait_for_capacity(2).await?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        match result {
            Ok(()) => {
                writer.finish().await?;
                Ok(())
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }
}

#[cfg(feature = "s3")]
fn s3(url: &url::Url) -> Result<BlobStore, FileError> {
    let bucket = url
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| FileError::InvalidUrl("s3:// URL needs a bucket".into()))?;
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()?;
    let prefix = url.path().trim_matches('/');
    let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
        Arc::new(s3)
    } else {
        let prefix = object_store::path::Path::parse(prefix)
            .map_err(|e| FileError::InvalidUrl(e.to_string()))?;
        Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
    };
    Ok(BlobStore::with_object_store(store))
}

/// One request's files. Dropping it without [`Upload::commit`] discards every file.
#[derive(Debug)]
pub struct Upload {
    store: BlobStore,
    limits: Limits,
    request_bytes: u64,
    files_begun: usize,
    staged: Vec<(SpoolFile, StoredFile)>,
    /// Set by any refused or failed file: the request as a whole is refused.
    failed: bool,
}

impl Upload {
    /// Starts the next file; refused past [`Limits::max_files`].
    pub async fn begin_file(&mut self, original_name: &str) -> Result<FileWriter<'_>, FileError> {
        if self.failed {
            return Err(FileError::Aborted);
        }
        if self.files_begun >= self.limits.max_files {
            self.failed = true;
            return Err(FileError::TooManyFiles {
                max: self.limits.max_files,
            });
        }
        self.files_begun += 1;
        let (spool, file) = match SpoolFile::create(&self.store.inner.spool_dir).await {
            Ok(created) => created,
            Err(e) => {
                self.failed = true;
                return Err(e.into());
            }
        };
        Ok(FileWriter {
            file_name: sanitise_file_name(original_name),
            upload: self,
            spool: Some((spool, file)),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            text: Utf8Check::default(),
        })
    }

    /// Bytes accepted so far in this request.
    pub fn request_bytes(&self) -> u64 {
        self.request_bytes
    }

    /// Stores every finished file under its content key and returns them in upload order.
    /// Refused after any error in this upload.
    pub async fn commit(mut self) -> Result<Vec<StoredFile>, FileError> {
        if self.failed {
            return Err(FileError::Aborted);
        }
        let mut stored = Vec::with_capacity(self.staged.len());
        for (mut spool, file) in std::mem::take(&mut self.staged) {
            self.store
                .put_spooled(&mut spool, &file.key, file.size)
                .await?;
            stored.push(file);
        }
        Ok(stored)
    }
}

/// Receives one file's bytes. Dropping it discards the file.
#[derive(Debug)]
pub struct FileWriter<'a> {
    upload: &'a mut Upload,
    /// `None` once failed: the spool file is deleted at once.
    spool: Option<(SpoolFile, tokio::fs::File)>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    text: Utf8Check,
    file_name: String,
}

impl FileWriter<'_> {
    /// Appends a chunk. Limits are checked before anything is written, so an oversize file is
    /// refused at the chunk that crosses the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        if self.spool.is_none() || self.upload.failed {
            return Err(FileError::Aborted);
        }
        let len = chunk.len() as u64;
        let limits = self.upload.limits;
        if self.size + len > limits.max_file_bytes {
            return Err(self.fail(FileError::FileTooLarge {
                max: limits.max_file_bytes,
            }));
        }
        if self.upload.request_bytes + len > limits.max_request_bytes {
            return Err(self.fail(FileError::RequestTooLarge {
                max: limits.max_request_bytes,
            }));
        }
        let Some((_, file)) = &mut self.spool else {
            unreachable!("checked above")
        };
        if let Err(e) = file.write_all(chunk).await {
            return Err(self.fail(e.into()));
        }
        self.hasher.update(chunk);
        let room = SNIFF_LEN.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.text.feed(chunk);
        self.size += len;
        self.upload.request_bytes += len;
        Ok(())
    }

    /// Completes the file. It is stored when the upload is committed; the returned key is final.
    pub async fn finish(mut self) -> Result<StoredFile, FileError> {
        let Some((spool, mut file)) = self.spool.take() else {
            return Err(FileError::Aborted);
        };
        if self.upload.failed {
            return Err(FileError::Aborted);
        }
        if self.size == 0 {
            return Err(self.fail(FileError::EmptyFile));
        }
        // Durable before it is linked into the store.
        let flushed = async {
            file.flush().await?;
            file.sync_all().await
        };
        if let Err(e) = flushed.await {
            return Err(self.fail(e.into()));
        }
        drop(file);
        let digest = std::mem::take(&mut self.hasher).finalize();
        let (content_type, inline) = sniff(&self.head, self.text.is_text());
        let stored = StoredFile {
            key: BlobKey::from_digest_hex(&hex::encode(digest)),
            size: self.size,
            content_type,
            inline,
            file_name: std::mem::take(&mut self.file_name),
        };
        self.upload.staged.push((spool, stored.clone()));
        Ok(stored)
    }

    /// Marks the whole upload failed and deletes this file's spool at once.
    fn fail(&mut self, e: FileError) -> FileError {
        self.upload.failed = true;
        self.spool = None;
        e
    }
}

/// A spool file, deleted on drop unless it was moved into the store.
#[derive(Debug)]
struct SpoolFile {
    path: PathBuf,
    name: String,
    armed: bool,
}

impl SpoolFile {
    async fn create(dir: &Path) -> std::io::Result<(SpoolFile, tokio::fs::File)> {
        // Random name + create_new: no clobbering and no following a planted symlink.
        let name = format!("portico-upload-{}", uuid::Uuid::now_v7().simple());
        let path = dir.join(&name);
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Other local users must not read clients' files in a shared temp directory.
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&path).await?;
        Ok((
            SpoolFile {
                path,
                name,
                armed: true,
            },
            file,
        ))
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Spool files survive only a crash; remove them when the store is opened.
fn remove_stale_spool_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_SPOOL);
        if old {
            // Best effort: a leftover only costs disk space.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    fn limits(file: u64, request: u64, files: usize) -> Limits {
        Limits {
            max_file_bytes: file,
            max_request_bytes: request,
            max_files: files,
        }
    }

    /// Every regular file under `dir`, spool included.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    async fn put_one(store: &BlobStore, name: &str, chunks: &[&[u8]]) -> StoredFile {
        let mut upload = store.upload(Limits::default());
        let mut w = upload.begin_file(name).await.unwrap();
        for c in chunks {
            w.write(c).await.unwrap();
        }
        w.finish().await.unwrap();
        upload.commit().await.unwrap().pop().unwrap()
    }

    #[tokio::test]
    async fn file_limit_trips_mid_stream_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let mut upload = store.upload(limits(10, 100, 5));
        let mut w = upload.begin_file("big.bin").await.unwrap();
        w.write(b"1234").await.unwrap();
        w.write(b"5678").await.unwrap();
        assert_eq!(
            files_under(dir.path()).len(),
            1,
            "one spool file while streaming"
        );
        let err = w.write(b"9ab").await.unwrap_err();
        assert!(
            matches!(err, FileError::FileTooLarge { max: 10 }),
            "{err:?}"
        );
        // Deleted at once, not when the writer goes away.
        assert!(files_under(dir.path()).is_empty());
        assert!(matches!(w.write(b"x").await, Err(FileError::Aborted)));
        assert!(matches!(w.finish().await, Err(FileError::Aborted)));
        assert_eq!(upload.request_bytes(), 8);
        assert!(matches!(
            upload.begin_file("next").await,
            Err(FileError::Aborted)
        ));
        assert!(matches!(upload.commit().await, Err(FileError::Aborted)));
        assert!(files_under(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn exactly_at_the_file_limit_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let mut upload = store.upload(limits(10, 10, 1));
        let mut w = upload.begin_file("ten.txt").await.unwrap();
        w.write(b"12345").await.unwrap();
        w.write(b"67890").await.unwrap();
        let f = w.finish().await.unwrap();
        assert_eq!(f.size, 10);
        assert_eq!(upload.commit().await.unwrap(), vec![f]);
    }

    #[tokio::test]
    async fn request_limit_spans_files_and_discards_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let mut upload = store.upload(limits(10, 15, 5));
        let mut w = upload.begin_file("a.txt").await.unwrap();
        w.write(b"0123456789").await.unwrap();
        w.finish().await.unwrap();
        let mut w = upload.begin_file("b.txt").await.unwrap();
        w.write(b"abcd").await.unwrap();
        let err = w.write(b"ef").await.unwrap_err();
        assert!(
            matches!(err, FileError::RequestTooLarge { max: 15 }),
            "{err:?}"
        );
        assert_eq!(
            files_under(dir.path()).len(),
            1,
            "only the first, staged file"
        );
        drop(upload);
        assert!(
            files_under(dir.path()).is_empty(),
            "a refused request stores nothing"
        );
    }

    #[tokio::test]
    async fn count_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let mut upload = store.upload(limits(10, 100, 2));
        for name in ["1.txt", "2.txt"] {
            let mut w = upload.begin_file(name).await.unwrap();
            w.write(name.as_bytes()).await.unwrap();
            w.finish().await.unwrap();
        }
        let err = upload.begin_file("3.txt").await.unwrap_err();
        assert!(matches!(err, FileError::TooManyFiles { max: 2 }), "{err:?}");
        assert!(matches!(upload.commit().await, Err(FileError::Aborted)));
        assert!(files_under(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn empty_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let mut upload = store.upload(Limits::default());
        let w = upload.begin_file("empty.txt").await.unwrap();
        assert!(matches!(w.finish().await, Err(FileError::EmptyFile)));
        assert!(files_under(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn type_is_sniffed_not_taken_from_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();

        let png = put_one(&store, "../../photo.svg", &[&PNG[..5], &PNG[5..]]).await;
        assert_eq!((png.content_type.as_str(), png.inline), ("image/png", true));
        assert_eq!(png.file_name, "photo.svg");

        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let svg = put_one(&store, "logo.svg", &[svg]).await;
        assert!(!svg.inline, "{svg:?}");
        assert_ne!(svg.content_type, "image/svg+xml");

        let xml_svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let xml_svg = put_one(&store, "logo.png", &[xml_svg]).await;
        assert_eq!(
            (xml_svg.content_type.as_str(), xml_svg.inline),
            ("text/xml", false)
        );

        let html = put_one(
            &store,
            "cat.png",
            &[b"<!DOCTYPE html><script>alert(1)</script>"],
        )
        .await;
        assert_eq!(
            (html.content_type.as_str(), html.inline),
            ("text/html", false)
        );

        let text = put_one(&store, "notes.png", &["Grüße".as_bytes()]).await;
        assert_eq!(
            (text.content_type.as_str(), text.inline),
            ("text/plain", false)
        );

        let binary = put_one(&store, "x.gif", &[&[0u8, 1, 2, 0xff]]).await;
        assert_eq!(
            (binary.content_type.as_str(), binary.inline),
            ("application/octet-stream", false)
        );

        assert_eq!(store.get(&png.key).await.unwrap().as_ref(), PNG);
    }

    #[tokio::test]
    async fn identical_content_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let a = put_one(&store, "a.txt", &[b"hello ", b"world"]).await;
        let b = put_one(&store, "b.txt", &[b"hello world"]).await;
        // Twice within one request, too.
        let mut upload = store.upload(Limits::default());
        for _ in 0..2 {
            let mut w = upload.begin_file("c.txt").await.unwrap();
            w.write(b"hello world").await.unwrap();
            w.finish().await.unwrap();
        }
        let c = upload.commit().await.unwrap();
        assert_eq!(a.key, b.key);
        assert!(c.iter().all(|f| f.key == a.key));
        assert_eq!(
            a.key.sha256_hex(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let files = files_under(dir.path());
        assert_eq!(
            files,
            vec![dir.path().join("b9/4d").join(a.key.sha256_hex())]
        );
        assert_eq!(store.get(&a.key).await.unwrap().as_ref(), b"hello world");
    }

    #[tokio::test]
    async fn get_unknown_key_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let key = BlobKey::from_digest_hex(&"0".repeat(64));
        assert!(matches!(store.get(&key).await, Err(FileError::NotFound)));
        let f = put_one(&store, "x", &[b"x"]).await;
        store.delete(&f.key).await.unwrap();
        assert!(matches!(store.get(&f.key).await, Err(FileError::NotFound)));
    }

    #[tokio::test]
    async fn from_url_forms() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        BlobStore::from_url(plain.to_str().unwrap()).unwrap();
        assert!(plain.join(LOCAL_SPOOL).is_dir());
        let url = url::Url::from_file_path(dir.path().join("by url")).unwrap();
        let store = BlobStore::from_url(url.as_str()).unwrap();
        put_one(&store, "x", &[b"x"]).await;
        assert!(dir.path().join("by url").join(LOCAL_SPOOL).is_dir());
        for bad in ["ftp://host/x", "file://relative", "http://example.com/"] {
            assert!(
                matches!(BlobStore::from_url(bad), Err(FileError::InvalidUrl(_))),
                "{bad}"
            );
        }
        #[cfg(not(feature = "s3"))]
        assert!(matches!(
            BlobStore::from_url("s3://bucket/prefix"),
            Err(FileError::InvalidUrl(_))
        ));
        #[cfg(feature = "s3")]
        {
            BlobStore::from_url("s3://bucket/portico/attachments").unwrap();
            assert!(matches!(
                BlobStore::from_url("s3:///x"),
                Err(FileError::InvalidUrl(_))
            ));
        }
    }

    #[tokio::test]
    async fn remote_store_small_and_multipart() {
        let spool = tempfile::tempdir().unwrap();
        let store = BlobStore::remote(
            Arc::new(object_store::memory::InMemory::new()),
            spool.path().to_owned(),
        );
        let small = put_one(&store, "s.txt", &[b"small"]).await;
        assert_eq!(store.get(&small.key).await.unwrap().as_ref(), b"small");

        let chunk = vec![7u8; 1024 * 1024];
        let mut upload = store.upload(limits(20 << 20, 20 << 20, 1));
        let mut w = upload.begin_file("big.bin").await.unwrap();
        for _ in 0..9 {
            w.write(&chunk).await.unwrap();
        }
        w.finish().await.unwrap();
        let big = upload.commit().await.unwrap().remove(0);
        assert_eq!(big.size, 9 << 20);
        let back = store.get(&big.key).await.unwrap();
        assert_eq!(back.len(), 9 << 20);
        assert!(back.iter().all(|&b| b == 7));
        assert!(
            files_under(spool.path()).is_empty(),
            "spool cleaned after commit"
        );
    }
}
