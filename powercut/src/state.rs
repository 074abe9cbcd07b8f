//! The in-memory view: inodes, directory entries and pending file data over
//! the backing directory, and the rules that make them durable.
//!
//! Every regular file and symlink the view knows has a *staging object*, a
//! hard link at `BACKING/.powercut-staging/obj-N`: file fsync writes there,
//! and directory fsync links that object under its names. The staging
//! directory is wiped at mount and at cut, so an object no durable directory
//! names is gone after a cut, as an orphan inode is after `fsck`.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, Metadata, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::overlay::Overlay;

/// Inode number of the mount's root.
pub const ROOT: u64 = 1;
/// Inode number of the control file.
pub const CONTROL: u64 = 2;
/// Name of the control file in the mount's root (not listed by `readdir`).
pub const CONTROL_NAME: &str = ".powercut";
/// Directory inside BACKING holding staging objects; hidden from the view.
pub const STAGING_NAME: &str = ".powercut-staging";
/// Prefix of the temporary names used while linking; hidden from the view.
const TMP_PREFIX: &str = ".powercut-tmp-";

/// What kind of node an inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

/// Approximate metadata, kept in memory (see the doc's limits).
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub perm: u16,
    pub uid: u32,
    pub gid: u32,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
}

impl Meta {
    fn from_md(md: &Metadata) -> Meta {
        let t = |s: i64, ns: i64| UNIX_EPOCH + Duration::new(s.max(0) as u64, ns as u32);
        Meta {
            perm: (md.mode() & 0o7777) as u16,
            uid: md.uid(),
            gid: md.gid(),
            mtime: t(md.mtime(), md.mtime_nsec()),
            ctime: t(md.ctime(), md.ctime_nsec()),
        }
    }

    /// Metadata of a node created now with `perm` by `uid`/`gid`.
    pub fn new(perm: u32, uid: u32, gid: u32) -> Meta {
        let now = SystemTime::now();
        Meta {
            perm: (perm & 0o7777) as u16,
            uid,
            gid,
            mtime: now,
            ctime: now,
        }
    }
}

/// Kind-specific part of a node.
#[derive(Debug)]
pub enum Body {
    File {
        staging: PathBuf,
        obj: (u64, u64),
        handle: Option<File>,
        overlay: Overlay,
    },
    Symlink {
        staging: PathBuf,
        obj: (u64, u64),
        target: PathBuf,
    },
    Dir {
        /// Where this directory durably is, if it is durably anywhere.
        durable: Option<PathBuf>,
        /// The view's entries; `None` until first read from `durable`.
        entries: Option<BTreeMap<OsString, u64>>,
        parent: u64,
        alive: bool,
    },
}

/// One inode of the view.
#[derive(Debug)]
pub struct Node {
    pub meta: Meta,
    /// Names in the view (files and symlinks); directories report 2.
    pub nlink: u32,
    pub body: Body,
}

impl Node {
    /// The node's kind.
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::File { .. } => Kind::File,
            Body::Dir { .. } => Kind::Dir,
            Body::Symlink { .. } => Kind::Symlink,
        }
    }
}

/// The whole view; every method fails with [`Error::Dead`] after [`State::cut`].
#[derive(Debug)]
pub struct State {
    backing: PathBuf,
    staging: PathBuf,
    pub nodes: HashMap<u64, Node>,
    by_backing: HashMap<(u64, u64), u64>,
    next_ino: u64,
    next_tmp: u64,
    dead: bool,
}

fn errno(n: i32) -> Error {
    Error::Errno(n)
}

fn key(md: &Metadata) -> (u64, u64) {
    (md.dev(), md.ino())
}

fn hidden(dir: u64, name: &OsStr) -> bool {
    let s = name.to_string_lossy();
    (dir == ROOT && (s == STAGING_NAME || s == CONTROL_NAME)) || s.starts_with(TMP_PREFIX)
}

impl State {
    /// Opens `backing` (an existing directory) and wipes its staging
    /// directory: the view starts as the durable state. Errors: the backing
    /// directory's.
    pub fn new(backing: &Path) -> Result<State> {
        let backing = backing.canonicalize()?;
        let staging = backing.join(STAGING_NAME);
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir(&staging)?;
        let md = fs::metadata(&backing)?;
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                meta: Meta::from_md(&md),
                nlink: 2,
                body: Body::Dir {
                    durable: Some(backing.clone()),
                    entries: None,
                    parent: ROOT,
                    alive: true,
                },
            },
        );
        let mut by_backing = HashMap::new();
        by_backing.insert(key(&md), ROOT);
        Ok(State {
            backing,
            staging,
            nodes,
            by_backing,
            next_ino: CONTROL + 1,
            next_tmp: 0,
            dead: false,
        })
    }

    /// The backing directory (canonical).
    pub fn backing(&self) -> &Path {
        &self.backing
    }

    /// Whether the power was cut.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Drops all pending state and wipes the staging directory; every later
    /// call fails with [`Error::Dead`].
    pub fn cut(&mut self) {
        self.dead = true;
        self.nodes.clear();
        self.by_backing.clear();
        let _ = fs::remove_dir_all(&self.staging);
    }

    /// Fails with [`Error::Dead`] after a cut.
    pub fn alive(&self) -> Result<()> {
        if self.dead {
            Err(Error::Dead)
        } else {
            Ok(())
        }
    }

    /// The node `ino`; `ENOENT` if unknown.
    pub fn node(&self, ino: u64) -> Result<&Node> {
        self.alive()?;
        self.nodes.get(&ino).ok_or(errno(libc::ENOENT))
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node> {
        self.alive()?;
        self.nodes.get_mut(&ino).ok_or(errno(libc::ENOENT))
    }

    fn alloc(&mut self) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        ino
    }

    /// The node for a durable object found at `path`, made on first sight.
    fn adopt(&mut self, path: &Path, md: &Metadata, parent: u64) -> Result<Option<u64>> {
        if let Some(ino) = self.by_backing.get(&key(md)) {
            return Ok(Some(*ino));
        }
        let ft = md.file_type();
        let ino = self.alloc();
        let body = if ft.is_dir() {
            Body::Dir {
                durable: Some(path.to_path_buf()),
                entries: None,
                parent,
                alive: true,
            }
        } else if ft.is_file() || ft.is_symlink() {
            let staging = self.staging.join(format!("obj-{ino}"));
            fs::hard_link(path, &staging)?;
            if ft.is_file() {
                Body::File {
                    staging,
                    obj: key(md),
                    handle: None,
                    overlay: Overlay::new(md.len()),
                }
            } else {
                Body::Symlink {
                    staging,
                    obj: key(md),
                    target: fs::read_link(path)?,
                }
            }
        } else {
            return Ok(None);
        };
        self.nodes.insert(
            ino,
            Node {
                meta: Meta::from_md(md),
                nlink: if ft.is_dir() { 2 } else { md.nlink() as u32 },
                body,
            },
        );
        self.by_backing.insert(key(md), ino);
        Ok(Some(ino))
    }

    /// Reads directory `dir`'s entries from its durable place if not yet done.
    /// Errors: `ENOTDIR`, the backing directory's.
    fn load(&mut self, dir: u64) -> Result<()> {
        let durable = match &self.node(dir)?.body {
            Body::Dir {
                entries: Some(_), ..
            } => return Ok(()),
            Body::Dir { durable, .. } => durable.clone(),
            _ => return Err(errno(libc::ENOTDIR)),
        };
        let mut entries = BTreeMap::new();
        if let Some(path) = durable {
            for ent in fs::read_dir(&path)? {
                let ent = ent?;
                let name = ent.file_name();
                if hidden(dir, &name) {
                    continue;
                }
                let p = ent.path();
                let md = fs::symlink_metadata(&p)?;
                if let Some(ino) = self.adopt(&p, &md, dir)? {
                    entries.insert(name, ino);
                }
            }
        }
        if let Body::Dir { entries: e, .. } = &mut self.node_mut(dir)?.body {
            *e = Some(entries);
        }
        Ok(())
    }

    /// The view's entries of directory `dir`. Errors: `ENOTDIR`, `ENOENT`.
    pub fn entries(&mut self, dir: u64) -> Result<&BTreeMap<OsString, u64>> {
        self.load(dir)?;
        match &self.node(dir)?.body {
            Body::Dir {
                entries: Some(e), ..
            } => Ok(e),
            _ => Err(errno(libc::ENOTDIR)),
        }
    }

    fn entries_mut(&mut self, dir: u64) -> Result<&mut BTreeMap<OsString, u64>> {
        self.load(dir)?;
        match &mut self.node_mut(dir)?.body {
            Body::Dir {
                entries: Some(e),
                alive: true,
                ..
            } => Ok(e),
            Body::Dir { .. } => Err(errno(libc::ENOENT)),
            _ => Err(errno(libc::ENOTDIR)),
        }
    }

    /// The inode named `name` in `dir`. Errors: `ENOENT`, `ENOTDIR`.
    pub fn lookup(&mut self, dir: u64, name: &OsStr) -> Result<u64> {
        self.entries(dir)?
            .get(name)
            .copied()
            .ok_or(errno(libc::ENOENT))
    }

    fn check_free(&mut self, dir: u64, name: &OsStr) -> Result<()> {
        if hidden(dir, name) {
            return Err(errno(libc::EPERM));
        }
        if self.entries_mut(dir)?.contains_key(name) {
            return Err(errno(libc::EEXIST));
        }
        Ok(())
    }

    /// Creates an empty regular file `name` in `dir` (pending on `dir`).
    /// Errors: `EEXIST`, `ENOTDIR`, `EPERM` for reserved names, backing errors.
    pub fn create(&mut self, dir: u64, name: &OsStr, meta: Meta) -> Result<u64> {
        self.check_free(dir, name)?;
        let ino = self.alloc();
        let staging = self.staging.join(format!("obj-{ino}"));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(meta.perm as u32)
            .open(&staging)?;
        let md = f.metadata()?;
        self.by_backing.insert(key(&md), ino);
        self.nodes.insert(
            ino,
            Node {
                meta,
                nlink: 1,
                body: Body::File {
                    staging,
                    obj: key(&md),
                    handle: Some(f),
                    overlay: Overlay::new(0),
                },
            },
        );
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    /// Creates symlink `name` → `target` in `dir`. Errors as [`State::create`].
    pub fn symlink(&mut self, dir: u64, name: &OsStr, target: &Path, meta: Meta) -> Result<u64> {
        self.check_free(dir, name)?;
        let ino = self.alloc();
        let staging = self.staging.join(format!("obj-{ino}"));
        std::os::unix::fs::symlink(target, &staging)?;
        let md = fs::symlink_metadata(&staging)?;
        self.by_backing.insert(key(&md), ino);
        self.nodes.insert(
            ino,
            Node {
                meta,
                nlink: 1,
                body: Body::Symlink {
                    staging,
                    obj: key(&md),
                    target: target.to_path_buf(),
                },
            },
        );
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    /// Creates directory `name` in `dir`. Errors as [`State::create`].
    pub fn mkdir(&mut self, dir: u64, name: &OsStr, meta: Meta) -> Result<u64> {
        self.check_free(dir, name)?;
        let ino = self.alloc();
        self.nodes.insert(
            ino,
            Node {
                meta,
                nlink: 2,
                body: Body::Dir {
                    durable: None,
                    entries: Some(BTreeMap::new()),
                    parent: dir,
                    alive: true,
                },
            },
        );
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        Ok(ino)
    }

    /// Adds name `name` in `dir` for file or symlink `ino`.
    /// Errors: `EPERM` for a directory, as [`State::create`].
    pub fn link(&mut self, ino: u64, dir: u64, name: &OsStr) -> Result<()> {
        if self.node(ino)?.kind() == Kind::Dir {
            return Err(errno(libc::EPERM));
        }
        self.check_free(dir, name)?;
        self.entries_mut(dir)?.insert(name.to_owned(), ino);
        self.node_mut(ino)?.nlink += 1;
        Ok(())
    }

    /// Removes non-directory `name` from `dir`. Errors: `ENOENT`, `EISDIR`.
    pub fn unlink(&mut self, dir: u64, name: &OsStr) -> Result<()> {
        let ino = self.lookup(dir, name)?;
        if self.node(ino)?.kind() == Kind::Dir {
            return Err(errno(libc::EISDIR));
        }
        self.entries_mut(dir)?.remove(name);
        let n = self.node_mut(ino)?;
        n.nlink = n.nlink.saturating_sub(1);
        Ok(())
    }

    /// Removes empty directory `name` from `dir`. Errors: `ENOENT`, `ENOTDIR`, `ENOTEMPTY`.
    pub fn rmdir(&mut self, dir: u64, name: &OsStr) -> Result<()> {
        let ino = self.lookup(dir, name)?;
        if !self.entries(ino)?.is_empty() {
            return Err(errno(libc::ENOTEMPTY));
        }
        self.entries_mut(dir)?.remove(name);
        if let Body::Dir { alive, .. } = &mut self.node_mut(ino)?.body {
            *alive = false;
        }
        Ok(())
    }

    /// Renames `dir/name` to `newdir/newname`, replacing a target like
    /// rename(2). Errors: `ENOENT`, `EEXIST` (with `noreplace`), `EISDIR`,
    /// `ENOTDIR`, `ENOTEMPTY`, `EINVAL` (directory into itself).
    pub fn rename(
        &mut self,
        dir: u64,
        name: &OsStr,
        newdir: u64,
        newname: &OsStr,
        noreplace: bool,
    ) -> Result<()> {
        let src = self.lookup(dir, name)?;
        if hidden(newdir, newname) {
            return Err(errno(libc::EPERM));
        }
        let src_dir = self.node(src)?.kind() == Kind::Dir;
        self.entries_mut(newdir)?;
        let old = self.entries(newdir)?.get(newname).copied();
        if let Some(t) = old {
            if t == src {
                return Ok(());
            }
            if noreplace {
                return Err(errno(libc::EEXIST));
            }
            let t_dir = self.node(t)?.kind() == Kind::Dir;
            match (src_dir, t_dir) {
                (true, false) => return Err(errno(libc::ENOTDIR)),
                (false, true) => return Err(errno(libc::EISDIR)),
                (true, true) if !self.entries(t)?.is_empty() => return Err(errno(libc::ENOTEMPTY)),
                _ => {}
            }
        }
        if src_dir {
            let mut p = newdir;
            loop {
                if p == src {
                    return Err(errno(libc::EINVAL));
                }
                match self.node(p)?.body {
                    Body::Dir { parent, .. } if p != ROOT => p = parent,
                    _ => break,
                }
            }
        }
        if let Some(t) = old {
            let n = self.node_mut(t)?;
            match &mut n.body {
                Body::Dir { alive, .. } => *alive = false,
                _ => n.nlink = n.nlink.saturating_sub(1),
            }
        }
        self.entries_mut(dir)?.remove(name);
        self.entries_mut(newdir)?.insert(newname.to_owned(), src);
        if let Body::Dir { parent, .. } = &mut self.node_mut(src)?.body {
            *parent = newdir;
        }
        Ok(())
    }

    /// The open backing object of file `ino`. Errors: `EISDIR`/`EINVAL`, backing errors.
    fn handle(&mut self, ino: u64) -> Result<(&File, &mut Overlay)> {
        match &mut self.node_mut(ino)?.body {
            Body::File {
                staging,
                handle,
                overlay,
                ..
            } => {
                if handle.is_none() {
                    *handle = Some(OpenOptions::new().read(true).write(true).open(&*staging)?);
                }
                Ok((handle.as_ref().expect("opened above"), overlay))
            }
            Body::Dir { .. } => Err(errno(libc::EISDIR)),
            Body::Symlink { .. } => Err(errno(libc::EINVAL)),
        }
    }

    /// Reads `len` bytes at `offset` of file `ino` as the view shows them.
    pub fn read(&mut self, ino: u64, offset: u64, len: usize) -> Result<Vec<u8>> {
        let (f, o) = self.handle(ino)?;
        Ok(o.read(f, offset, len)?)
    }

    /// Writes `data` at `offset` of file `ino`, in memory only.
    pub fn write(&mut self, ino: u64, offset: u64, data: &[u8]) -> Result<()> {
        self.handle(ino)?.1.write(offset, data);
        self.node_mut(ino)?.meta.mtime = SystemTime::now();
        Ok(())
    }

    /// Sets the size of file `ino`, in memory only.
    pub fn truncate(&mut self, ino: u64, size: u64) -> Result<()> {
        self.handle(ino)?.1.truncate(size);
        self.node_mut(ino)?.meta.mtime = SystemTime::now();
        Ok(())
    }

    /// Makes file `ino`'s data and size durable on its staging object
    /// (and so under every name a durable directory gives it).
    pub fn fsync(&mut self, ino: u64) -> Result<()> {
        if self.node(ino)?.kind() != Kind::File {
            return Ok(());
        }
        let perm = self.node(ino)?.meta.perm;
        let (f, o) = self.handle(ino)?;
        f.set_permissions(fs::Permissions::from_mode(perm as u32))?;
        o.flush(f)?;
        Ok(())
    }

    fn tmp_name(&mut self, dir: &Path) -> PathBuf {
        self.next_tmp += 1;
        dir.join(format!(
            "{TMP_PREFIX}{}-{}",
            std::process::id(),
            self.next_tmp
        ))
    }

    /// Rewrites every durable directory path under `old` to be under `new`
    /// (`None`: removed, so those directories are durably nowhere).
    fn moved(&mut self, old: &Path, new: Option<&Path>) {
        let mut gone = Vec::new();
        for (ino, n) in self.nodes.iter_mut() {
            if let Body::Dir { durable, .. } = &mut n.body {
                let nd = durable
                    .as_ref()
                    .and_then(|d| d.strip_prefix(old).ok())
                    .map(|rest| new.map(|p| p.join(rest)));
                if let Some(nd) = nd {
                    if nd.is_none() {
                        gone.push(*ino);
                    }
                    *durable = nd;
                }
            }
        }
        self.by_backing.retain(|_, v| !gone.contains(v));
    }

    fn same_object(&self, ino: u64, path: &Path, md: &Metadata) -> bool {
        match self.nodes.get(&ino).map(|n| &n.body) {
            Some(Body::File { obj, .. }) | Some(Body::Symlink { obj, .. }) => *obj == key(md),
            Some(Body::Dir { durable, .. }) => md.is_dir() && durable.as_deref() == Some(path),
            None => false,
        }
    }

    /// Makes directory `dir`'s entries durable: the backing directory is made
    /// to hold exactly the view's names, each for the same object, then
    /// `fsync`ed. A replaced name is swapped atomically (link to a temporary
    /// name, rename over). A directory no durable directory names yet is
    /// made durable in the staging directory, and moved into place when its
    /// parent is fsynced. Errors: `ENOTDIR`, backing errors.
    pub fn fsync_dir(&mut self, dir: u64) -> Result<()> {
        let (path, view) = match &self.node(dir)?.body {
            Body::Dir {
                durable,
                entries: Some(e),
                alive: true,
                ..
            } => (durable.clone(), e.clone()),
            Body::Dir { .. } => return Ok(()),
            _ => return Err(errno(libc::ENOTDIR)),
        };
        let path = match path {
            Some(p) => p,
            None => {
                // Durable but unreachable, like an inode no directory names
                // yet: it lands in place when its parent is fsynced.
                let limbo = self.staging.join(format!("dir-{dir}"));
                fs::create_dir(&limbo)?;
                let perm = self.node(dir)?.meta.perm;
                fs::set_permissions(&limbo, fs::Permissions::from_mode(perm as u32))?;
                self.by_backing.insert(key(&fs::metadata(&limbo)?), dir);
                if let Body::Dir { durable, .. } = &mut self.node_mut(dir)?.body {
                    *durable = Some(limbo.clone());
                }
                limbo
            }
        };
        // 1. Names the view no longer has (or has for another object).
        for ent in fs::read_dir(&path)? {
            let ent = ent?;
            let name = ent.file_name();
            if hidden(dir, &name) {
                continue;
            }
            let p = ent.path();
            let md = fs::symlink_metadata(&p)?;
            let want = view.get(&name).copied();
            if want.is_some_and(|ino| self.same_object(ino, &p, &md)) {
                continue;
            }
            if md.is_dir() {
                let owner = self.by_backing.get(&key(&md)).copied();
                let live = owner.is_some_and(|o| {
                    matches!(&self.nodes[&o].body, Body::Dir { alive: true, durable: Some(d), .. } if *d == p)
                });
                if live {
                    // Renamed away in the view: durably it is now nowhere.
                    let limbo = self.staging.join(format!("dir-{}", owner.unwrap_or(0)));
                    fs::rename(&p, &limbo)?;
                    self.moved(&p, Some(&limbo));
                } else {
                    fs::remove_dir_all(&p)?;
                    self.moved(&p, None);
                }
            } else if want.is_none() {
                fs::remove_file(&p)?;
            }
        }
        // 2. Names the view has that the backing directory lacks.
        for (name, ino) in &view {
            let target = path.join(name);
            let md = fs::symlink_metadata(&target).ok();
            if md
                .as_ref()
                .is_some_and(|m| self.same_object(*ino, &target, m))
            {
                continue;
            }
            let node = &self.nodes[ino];
            match &node.body {
                Body::File { staging, .. } | Body::Symlink { staging, .. } => {
                    let staging = staging.clone();
                    let tmp = self.tmp_name(&path);
                    fs::hard_link(&staging, &tmp)?;
                    fs::rename(&tmp, &target)?;
                }
                Body::Dir { durable, .. } => {
                    let from = durable.clone();
                    let perm = node.meta.perm;
                    if md.is_some() {
                        fs::remove_file(&target)?;
                    }
                    match from {
                        Some(from) => {
                            fs::rename(&from, &target)?;
                            self.moved(&from, Some(&target));
                            if let Some(parent) = from.parent() {
                                File::open(parent)?.sync_all()?;
                            }
                        }
                        None => {
                            fs::create_dir(&target)?;
                            fs::set_permissions(&target, fs::Permissions::from_mode(perm as u32))?;
                            let md = fs::metadata(&target)?;
                            self.by_backing.insert(key(&md), *ino);
                            if let Body::Dir { durable, .. } = &mut self.node_mut(*ino)?.body {
                                *durable = Some(target.clone());
                            }
                        }
                    }
                }
            }
        }
        File::open(&path)?.sync_all()?;
        Ok(())
    }

    /// Applies a `chmod`/`chown`/`utimes` to the in-memory metadata.
    pub fn set_meta(&mut self, ino: u64, f: impl FnOnce(&mut Meta)) -> Result<()> {
        let n = self.node_mut(ino)?;
        f(&mut n.meta);
        n.meta.ctime = SystemTime::now();
        Ok(())
    }
}
