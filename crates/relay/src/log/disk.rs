//! Where the log's bytes go: the file system, or — in tests — a disk that loses every write not yet
//! synced when the power is "pulled".
//!
//! The log writes through this layer only, so the power-loss test exercises the real writer and
//! the real replay: [`MemDisk::power_cut`] keeps what was synced and, optionally, a random subset of
//! the pages written since (a torn write), exactly what a disk may hold after a power cut.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A flat directory of files.
pub trait Disk: Send + Sync + 'static {
    /// The names of the files.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Creates a new file of `len` zero bytes (allocated ahead, so appends overwrite zeros).
    fn create(&self, name: &str, len: u64) -> io::Result<Arc<dyn DiskFile>>;
    /// Opens an existing file.
    fn open(&self, name: &str) -> io::Result<Arc<dyn DiskFile>>;
    /// Deletes a file.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Makes creations and deletions durable.
    fn sync_dir(&self) -> io::Result<()>;
}

/// One open file.
pub trait DiskFile: Send + Sync {
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `data` at `offset`.
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()>;
    /// Makes the written data durable (`fdatasync`).
    fn sync(&self) -> io::Result<()>;
    /// The file's size in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Extends with zeros or cuts.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The whole file.
    fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; self.size()? as usize];
        self.read_at(&mut buf, 0)?;
        Ok(buf)
    }
}

/// A directory of the file system.
pub struct FsDisk {
    dir: PathBuf,
}

impl FsDisk {
    /// Opens (creating) `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }
}

struct FsFile(File);

impl DiskFile for FsFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_exact_at(buf, offset)
    }
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(data, offset)
    }
    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.sync_all()
    }
}

impl Disk for FsDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect())
    }
    fn create(&self, name: &str, len: u64) -> io::Result<Arc<dyn DiskFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.dir.join(name))?;
        file.set_len(len)?;
        file.sync_all()?;
        self.sync_dir()?;
        Ok(Arc::new(FsFile(file)))
    }
    fn open(&self, name: &str) -> io::Result<Arc<dyn DiskFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.dir.join(name))?;
        Ok(Arc::new(FsFile(file)))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.dir.join(name))
    }
    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

const PAGE: u64 = 4096;

#[derive(Default, Clone)]
struct MemFileState {
    /// What a power cut keeps.
    durable: Vec<u8>,
    /// What reads see.
    current: Vec<u8>,
    /// Pages written since the last sync.
    dirty: BTreeSet<u64>,
}

/// An in-memory disk that tracks what is synced (tests, fuzzing, benchmarks of write volume).
/// File creation, length changes and deletion count as durable at once (a journalled file
/// system's metadata); file contents only after [`DiskFile::sync`].
#[derive(Default, Clone)]
pub struct MemDisk {
    files: Arc<Mutex<BTreeMap<String, Arc<Mutex<MemFileState>>>>>,
    /// Set by a power cut: every later operation fails, as on a machine that is off.
    dead: Arc<std::sync::atomic::AtomicBool>,
    written: Arc<AtomicU64>,
}

struct MemFile {
    state: Arc<Mutex<MemFileState>>,
    dead: Arc<std::sync::atomic::AtomicBool>,
    written: Arc<AtomicU64>,
}

fn off() -> io::Error {
    io::Error::other("the power is off")
}

impl MemDisk {
    /// An empty disk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes written to files so far.
    pub fn bytes_written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Pulls the power: this disk stops working, and the returned one holds what survived — the
    /// synced contents, plus (with `torn`) each unsynced page with probability ½.
    pub fn power_cut(&self, torn: bool, seed: u64) -> MemDisk {
        self.dead.store(true, Ordering::SeqCst);
        let mut rng = seed | 1;
        let mut coin = move || {
            // xorshift: enough randomness to choose pages.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng & 1 == 1
        };
        let files = self.files.lock().expect("disk lock");
        let mut survived = BTreeMap::new();
        for (name, file) in files.iter() {
            let f = file.lock().expect("file lock");
            let mut bytes = f.durable.clone();
            bytes.resize(f.current.len(), 0);
            if torn {
                for &page in &f.dirty {
                    if coin() {
                        let start = (page * PAGE) as usize;
                        let end = (start + PAGE as usize).min(f.current.len());
                        if start < end {
                            bytes[start..end].copy_from_slice(&f.current[start..end]);
                        }
                    }
                }
            }
            survived.insert(
                name.clone(),
                Arc::new(Mutex::new(MemFileState {
                    durable: bytes.clone(),
                    current: bytes,
                    dirty: BTreeSet::new(),
                })),
            );
        }
        MemDisk {
            files: Arc::new(Mutex::new(survived)),
            ..MemDisk::default()
        }
    }

    /// A disk holding these files, all durable (fuzzing the replay of what a disk gives back).
    pub fn with_files(files: Vec<(String, Vec<u8>)>) -> Self {
        let disk = Self::new();
        {
            let mut map = disk.files.lock().expect("disk lock");
            for (name, bytes) in files {
                map.insert(
                    name,
                    Arc::new(Mutex::new(MemFileState {
                        durable: bytes.clone(),
                        current: bytes,
                        dirty: BTreeSet::new(),
                    })),
                );
            }
        }
        disk
    }

    /// Every file and its stored bytes (seeding the replay fuzzer).
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let files = self.files.lock().expect("disk lock");
        files
            .iter()
            .map(|(n, f)| (n.clone(), f.lock().expect("file lock").current.clone()))
            .collect()
    }

    /// Overwrites bytes of a file as stored (damage for tests).
    pub fn damage(&self, name: &str, offset: usize, bytes: &[u8]) {
        let files = self.files.lock().expect("disk lock");
        let mut f = files[name].lock().expect("file lock");
        f.current[offset..offset + bytes.len()].copy_from_slice(bytes);
        f.durable = f.current.clone();
    }

    /// A file's stored bytes.
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        let files = self.files.lock().expect("disk lock");
        files
            .get(name)
            .map(|f| f.lock().expect("file lock").current.clone())
    }

    fn file(&self, state: Arc<Mutex<MemFileState>>) -> Arc<dyn DiskFile> {
        Arc::new(MemFile {
            state,
            dead: self.dead.clone(),
            written: self.written.clone(),
        })
    }

    fn alive(&self) -> io::Result<()> {
        if self.dead.load(Ordering::SeqCst) {
            Err(off())
        } else {
            Ok(())
        }
    }
}

impl Disk for MemDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        self.alive()?;
        Ok(self
            .files
            .lock()
            .expect("disk lock")
            .keys()
            .cloned()
            .collect())
    }
    fn create(&self, name: &str, len: u64) -> io::Result<Arc<dyn DiskFile>> {
        self.alive()?;
        let mut files = self.files.lock().expect("disk lock");
        if files.contains_key(name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                name.to_string(),
            ));
        }
        let state = Arc::new(Mutex::new(MemFileState {
            durable: vec![0; len as usize],
            current: vec![0; len as usize],
            dirty: BTreeSet::new(),
        }));
        files.insert(name.into(), state.clone());
        drop(files);
        Ok(self.file(state))
    }
    fn open(&self, name: &str) -> io::Result<Arc<dyn DiskFile>> {
        self.alive()?;
        let state = self
            .files
            .lock()
            .expect("disk lock")
            .get(name)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, name.to_string()))?;
        Ok(self.file(state))
    }
    fn remove(&self, name: &str) -> io::Result<()> {
        self.alive()?;
        self.files
            .lock()
            .expect("disk lock")
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, name.to_string()))
    }
    fn sync_dir(&self) -> io::Result<()> {
        self.alive()
    }
}

impl MemFile {
    fn alive(&self) -> io::Result<()> {
        if self.dead.load(Ordering::SeqCst) {
            Err(off())
        } else {
            Ok(())
        }
    }
}

impl DiskFile for MemFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        // Reads of an open file still work after the file is removed, as on Unix.
        let f = self.state.lock().expect("file lock");
        let start = offset as usize;
        let src = f
            .current
            .get(start..start + buf.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.alive()?;
        let mut f = self.state.lock().expect("file lock");
        let end = offset as usize + data.len();
        if f.current.len() < end {
            f.current.resize(end, 0);
        }
        f.current[offset as usize..end].copy_from_slice(data);
        let (first, last) = (offset / PAGE, (end as u64).saturating_sub(1) / PAGE);
        f.dirty.extend(first..=last);
        self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn sync(&self) -> io::Result<()> {
        self.alive()?;
        let mut f = self.state.lock().expect("file lock");
        let MemFileState {
            durable,
            current,
            dirty,
        } = &mut *f;
        durable.resize(current.len(), 0);
        for page in std::mem::take(dirty) {
            let start = (page * PAGE) as usize;
            let end = (start + PAGE as usize).min(current.len());
            if start < end {
                durable[start..end].copy_from_slice(&current[start..end]);
            }
        }
        Ok(())
    }
    fn size(&self) -> io::Result<u64> {
        Ok(self.state.lock().expect("file lock").current.len() as u64)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.alive()?;
        let mut f = self.state.lock().expect("file lock");
        f.current.resize(len as usize, 0);
        f.durable.resize(len as usize, 0);
        Ok(())
    }
}
