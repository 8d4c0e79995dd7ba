//! A FUSE file system for power-loss tests: it keeps, for every file, what was written and what
//! was synced, and on [`PowerCut::cut`] it "pulls the plug" — every later operation fails, and
//! [`Survivors::write_to`] lays out only what a disk would still hold: the synced contents, plus
//! (when asked) a random half of the pages written since, as torn writes leave them.
//!
//! A SIGKILL leaves the page cache intact, so a crash test that only kills processes would pass
//! with every `fsync` removed; this one does not. Creating, renaming, truncating and deleting
//! files count as durable at once (a journalled file system's metadata); file contents only once
//! `fsync`ed. Mounting needs `/dev/fuse` and root (or `fusermount3`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    LockOwner, MountOption, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

const PAGE: usize = 4096;
const TTL: Duration = Duration::from_secs(0);
const ROOT: u64 = 1;

#[derive(Default)]
struct Node {
    dir: bool,
    /// What reads see.
    data: Vec<u8>,
    /// What survives a power cut.
    durable: Vec<u8>,
    /// Pages written since the last sync.
    dirty: BTreeSet<usize>,
    children: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Tree {
    nodes: BTreeMap<u64, Node>,
    next: u64,
}

impl Tree {
    fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT,
            Node {
                dir: true,
                ..Node::default()
            },
        );
        Self {
            nodes,
            next: ROOT + 1,
        }
    }

    fn attr(&self, ino: u64) -> Option<FileAttr> {
        let n = self.nodes.get(&ino)?;
        Some(FileAttr {
            ino: INodeNo(ino),
            size: n.data.len() as u64,
            blocks: (n.data.len() as u64).div_ceil(512),
            atime: SystemTime::UNIX_EPOCH,
            mtime: SystemTime::UNIX_EPOCH,
            ctime: SystemTime::UNIX_EPOCH,
            crtime: SystemTime::UNIX_EPOCH,
            kind: if n.dir {
                FileType::Directory
            } else {
                FileType::RegularFile
            },
            perm: if n.dir { 0o755 } else { 0o644 },
            nlink: 1,
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: PAGE as u32,
            flags: 0,
        })
    }

    fn child(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.nodes
            .get(&parent)?
            .children
            .get(name.to_str()?)
            .copied()
    }

    fn add(&mut self, parent: u64, name: &OsStr, dir: bool) -> Result<u64, Errno> {
        let name = name.to_str().ok_or(Errno::EINVAL)?.to_string();
        let ino = self.next;
        self.next += 1;
        let p = self.nodes.get_mut(&parent).ok_or(Errno::ENOENT)?;
        if p.children.contains_key(&name) {
            return Err(Errno::EEXIST);
        }
        p.children.insert(name, ino);
        self.nodes.insert(
            ino,
            Node {
                dir,
                ..Node::default()
            },
        );
        Ok(ino)
    }

    fn resize(&mut self, ino: u64, size: usize) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.data.resize(size, 0);
            n.durable.resize(size, 0);
            n.dirty.retain(|p| p * PAGE < size);
        }
    }
}

/// The power-cut file system (see the module documentation). Cheap to clone: clones share it.
#[derive(Clone)]
pub struct PowerCut {
    tree: Arc<Mutex<Tree>>,
    dead: Arc<AtomicBool>,
}

/// What a disk holds after the cut.
pub struct Survivors {
    files: Vec<(PathBuf, Vec<u8>)>,
    dirs: Vec<PathBuf>,
}

impl Survivors {
    /// Lays the surviving files out under `dir` (a real directory).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for d in &self.dirs {
            std::fs::create_dir_all(dir.join(d))?;
        }
        for (path, bytes) in &self.files {
            std::fs::write(dir.join(path), bytes)?;
        }
        Ok(())
    }
}

impl PowerCut {
    /// A new, empty file system.
    pub fn new() -> Self {
        Self {
            tree: Arc::new(Mutex::new(Tree::new())),
            dead: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Mounts it at `at` (an empty directory) until the returned session is dropped.
    pub fn mount(&self, at: &Path) -> std::io::Result<fuser::BackgroundSession> {
        let mut config = Config::default();
        config.mount_options = vec![MountOption::FSName("powercut".into())];
        fuser::spawn_mount2(self.clone(), at, &config)
    }

    /// Pulls the plug: from now on every operation fails with EIO. Returns what survived: the
    /// synced contents and, with `torn`, each page written since the last sync with probability
    /// one half (chosen by `seed`).
    pub fn cut(&self, torn: bool, seed: u64) -> Survivors {
        self.dead.store(true, Ordering::SeqCst);
        let tree = self.tree.lock().expect("tree lock");
        let mut rng = seed | 1;
        let mut coin = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng & 1 == 1
        };
        let mut survivors = Survivors {
            files: Vec::new(),
            dirs: Vec::new(),
        };
        let mut stack = vec![(ROOT, PathBuf::new())];
        while let Some((ino, path)) = stack.pop() {
            let node = &tree.nodes[&ino];
            for (name, child) in &node.children {
                let p = path.join(name);
                let c = &tree.nodes[child];
                if c.dir {
                    survivors.dirs.push(p.clone());
                    stack.push((*child, p));
                } else {
                    let mut bytes = c.durable.clone();
                    bytes.resize(c.data.len(), 0);
                    if torn {
                        for &page in &c.dirty {
                            let start = page * PAGE;
                            let end = (start + PAGE).min(c.data.len());
                            if start < end && coin() {
                                bytes[start..end].copy_from_slice(&c.data[start..end]);
                            }
                        }
                    }
                    survivors.files.push((p, bytes));
                }
            }
        }
        survivors
    }

    fn alive(&self) -> Result<std::sync::MutexGuard<'_, Tree>, Errno> {
        if self.dead.load(Ordering::SeqCst) {
            return Err(Errno::EIO);
        }
        Ok(self.tree.lock().expect("tree lock"))
    }
}

impl Default for PowerCut {
    fn default() -> Self {
        Self::new()
    }
}

impl Filesystem for PowerCut {
    fn lookup(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(tree) => match tree.child(parent.0, name).and_then(|i| tree.attr(i)) {
                Some(attr) => reply.entry(&TTL, &attr, Generation(0)),
                None => reply.error(Errno::ENOENT),
            },
        }
    }

    fn getattr(&self, _: &Request, ino: INodeNo, _: Option<FileHandle>, reply: ReplyAttr) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(tree) => match tree.attr(ino.0) {
                Some(attr) => reply.attr(&TTL, &attr),
                None => reply.error(Errno::ENOENT),
            },
        }
    }

    fn setattr(
        &self,
        _: &Request,
        ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(mut tree) => {
                if let Some(size) = size {
                    tree.resize(ino.0, size as usize);
                }
                match tree.attr(ino.0) {
                    Some(attr) => reply.attr(&TTL, &attr),
                    None => reply.error(Errno::ENOENT),
                }
            }
        }
    }

    fn mkdir(&self, _: &Request, parent: INodeNo, name: &OsStr, _: u32, _: u32, reply: ReplyEntry) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(mut tree) => match tree.add(parent.0, name, true) {
                Ok(ino) => reply.entry(&TTL, &tree.attr(ino).expect("just made"), Generation(0)),
                Err(e) => reply.error(e),
            },
        }
    }

    fn create(
        &self,
        _: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(mut tree) => match tree.add(parent.0, name, false) {
                Ok(ino) => reply.created(
                    &TTL,
                    &tree.attr(ino).expect("just made"),
                    Generation(0),
                    FileHandle(0),
                    FopenFlags::empty(),
                ),
                Err(e) => reply.error(e),
            },
        }
    }

    fn unlink(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, reply)
    }

    fn rmdir(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.remove(parent, name, reply)
    }

    fn rename(
        &self,
        _: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let mut tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        let (Some(from), Some(to)) = (name.to_str(), newname.to_str()) else {
            return reply.error(Errno::EINVAL);
        };
        let Some(ino) = tree
            .nodes
            .get_mut(&parent.0)
            .and_then(|p| p.children.remove(from))
        else {
            return reply.error(Errno::ENOENT);
        };
        let replaced = tree
            .nodes
            .get_mut(&newparent.0)
            .and_then(|p| p.children.insert(to.to_string(), ino));
        if let Some(old) = replaced {
            tree.nodes.remove(&old);
        }
        reply.ok()
    }

    fn read(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        size: u32,
        _: OpenFlags,
        _: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(tree) => match tree.nodes.get(&ino.0) {
                Some(n) => {
                    let start = (offset as usize).min(n.data.len());
                    let end = (start + size as usize).min(n.data.len());
                    reply.data(&n.data[start..end])
                }
                None => reply.error(Errno::ENOENT),
            },
        }
    }

    fn write(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        data: &[u8],
        _: WriteFlags,
        _: OpenFlags,
        _: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        let Some(n) = tree.nodes.get_mut(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let start = offset as usize;
        let end = start + data.len();
        if n.data.len() < end {
            n.data.resize(end, 0);
        }
        n.data[start..end].copy_from_slice(data);
        if !data.is_empty() {
            n.dirty.extend(start / PAGE..=(end - 1) / PAGE);
        }
        reply.written(data.len() as u32)
    }

    fn flush(&self, _: &Request, _: INodeNo, _: FileHandle, _: LockOwner, reply: ReplyEmpty) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(_) => reply.ok(),
        }
    }

    fn fsync(&self, _: &Request, ino: INodeNo, _: FileHandle, _: bool, reply: ReplyEmpty) {
        let mut tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        if let Some(n) = tree.nodes.get_mut(&ino.0) {
            let Node {
                data,
                durable,
                dirty,
                ..
            } = n;
            durable.resize(data.len(), 0);
            for page in std::mem::take(dirty) {
                let start = page * PAGE;
                let end = (start + PAGE).min(data.len());
                if start < end {
                    durable[start..end].copy_from_slice(&data[start..end]);
                }
            }
        }
        reply.ok()
    }

    fn fsyncdir(&self, _: &Request, _: INodeNo, _: FileHandle, _: bool, reply: ReplyEmpty) {
        match self.alive() {
            Err(e) => reply.error(e),
            Ok(_) => reply.ok(),
        }
    }

    fn readdir(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        let Some(n) = tree.nodes.get(&ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let mut entries = vec![
            (ino.0, FileType::Directory, ".".to_string()),
            (ino.0, FileType::Directory, "..".to_string()),
        ];
        for (name, child) in &n.children {
            let kind = if tree.nodes[child].dir {
                FileType::Directory
            } else {
                FileType::RegularFile
            };
            entries.push((*child, kind, name.clone()));
        }
        for (i, (child, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), (i + 1) as u64, kind, name) {
                break;
            }
        }
        reply.ok()
    }

    fn access(&self, _: &Request, _: INodeNo, _: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok()
    }

    fn fallocate(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        length: u64,
        _: i32,
        reply: ReplyEmpty,
    ) {
        let mut tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        let end = (offset + length) as usize;
        let len = tree.nodes.get(&ino.0).map_or(0, |n| n.data.len());
        if end > len {
            tree.resize(ino.0, end);
        }
        reply.ok()
    }
}

impl PowerCut {
    fn remove(&self, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let mut tree = match self.alive() {
            Ok(t) => t,
            Err(e) => return reply.error(e),
        };
        let Some(name) = name.to_str() else {
            return reply.error(Errno::EINVAL);
        };
        match tree
            .nodes
            .get_mut(&parent.0)
            .and_then(|p| p.children.remove(name))
        {
            Some(ino) => {
                tree.nodes.remove(&ino);
                reply.ok()
            }
            None => reply.error(Errno::ENOENT),
        }
    }
}
