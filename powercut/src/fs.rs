//! [`PowerCutFs`]: the `fuser::Filesystem` over a [`State`].

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, BsdFileFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow,
    WriteFlags,
};

use crate::error::{Error, Result};
use crate::state::{Body, Kind, Meta, State, CONTROL, CONTROL_NAME, ROOT};

const TTL: Duration = Duration::from_secs(1);

/// A passthrough file system over a backing directory in which writes and
/// namespace changes stay in memory until `fsync`/`fsyncdir` (see the
/// crate docs). Cloning shares the state: keep a clone to [`PowerCutFs::cut`]
/// while the session owns the other.
#[derive(Clone, Debug)]
pub struct PowerCutFs {
    state: Arc<Mutex<State>>,
}

impl PowerCutFs {
    /// A file system over `backing`, an existing directory whose contents are
    /// the durable state. Wipes `backing/.powercut-staging`. Errors: the
    /// backing directory's.
    pub fn new(backing: &Path) -> Result<PowerCutFs> {
        Ok(PowerCutFs {
            state: Arc::new(Mutex::new(State::new(backing)?)),
        })
    }

    /// Simulates a power loss: drops every pending change; from now on every
    /// operation on the mount fails with `EIO` until it is unmounted.
    pub fn cut(&self) {
        self.lock().cut();
    }

    /// Whether [`PowerCutFs::cut`] happened.
    pub fn is_cut(&self) -> bool {
        self.lock().is_dead()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn err(e: Error) -> Errno {
    Errno::from_i32(e.errno())
}

fn control_attr() -> FileAttr {
    let now = SystemTime::now();
    FileAttr {
        ino: INodeNo(CONTROL),
        size: 0,
        blocks: 0,
        atime: now,
        mtime: now,
        ctime: now,
        crtime: now,
        kind: FileType::RegularFile,
        perm: 0o600,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn attr(st: &State, ino: u64) -> Result<FileAttr> {
    if ino == CONTROL {
        st.alive()?;
        return Ok(control_attr());
    }
    let n = st.node(ino)?;
    let (kind, size) = match &n.body {
        Body::File { overlay, .. } => (FileType::RegularFile, overlay.size()),
        Body::Dir { .. } => (FileType::Directory, 4096),
        Body::Symlink { target, .. } => (FileType::Symlink, target.as_os_str().len() as u64),
    };
    Ok(FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: n.meta.mtime,
        mtime: n.meta.mtime,
        ctime: n.meta.ctime,
        crtime: n.meta.ctime,
        kind,
        perm: n.meta.perm,
        nlink: n.nlink.max(1),
        uid: n.meta.uid,
        gid: n.meta.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    })
}

fn entry(reply: ReplyEntry, r: Result<FileAttr>) {
    match r {
        Ok(a) => reply.entry(&TTL, &a, Generation(0)),
        Err(e) => reply.error(err(e)),
    }
}

fn empty(reply: ReplyEmpty, r: Result<()>) {
    match r {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(err(e)),
    }
}

fn new_meta(req: &Request, mode: u32, umask: u32) -> Meta {
    Meta::new(mode & !umask, req.uid(), req.gid())
}

fn time(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

impl Filesystem for PowerCutFs {
    fn destroy(&mut self) {}

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let mut st = self.lock();
        if parent.0 == ROOT && name == CONTROL_NAME {
            return entry(reply, attr(&st, CONTROL));
        }
        let r = st.lookup(parent.0, name).and_then(|i| attr(&st, i));
        entry(reply, r)
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match attr(&self.lock(), ino.0) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(err(e)),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut st = self.lock();
        let r = (|| {
            if ino.0 == CONTROL {
                return attr(&st, CONTROL);
            }
            if let Some(size) = size {
                st.truncate(ino.0, size)?;
            }
            let _ = atime;
            st.set_meta(ino.0, |m| {
                if let Some(mode) = mode {
                    m.perm = (mode & 0o7777) as u16;
                }
                if let Some(uid) = uid {
                    m.uid = uid;
                }
                if let Some(gid) = gid {
                    m.gid = gid;
                }
                if let Some(t) = mtime {
                    m.mtime = time(t);
                }
            })?;
            attr(&st, ino.0)
        })();
        match r {
            Ok(a) => reply.attr(&TTL, &a),
            Err(e) => reply.error(err(e)),
        }
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        let st = self.lock();
        match st.node(ino.0).map(|n| &n.body) {
            Ok(Body::Symlink { target, .. }) => reply.data(target.as_os_str().as_bytes()),
            Ok(_) => reply.error(Errno::EINVAL),
            Err(e) => reply.error(err(e)),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let mut st = self.lock();
        let r = st
            .create(parent.0, name, new_meta(req, mode, umask))
            .and_then(|i| attr(&st, i));
        entry(reply, r)
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut st = self.lock();
        let r = st
            .mkdir(parent.0, name, new_meta(req, mode, umask))
            .and_then(|i| attr(&st, i));
        entry(reply, r)
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, self.lock().unlink(parent.0, name))
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        empty(reply, self.lock().rmdir(parent.0, name))
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let mut st = self.lock();
        let r = st
            .symlink(
                parent.0,
                link_name,
                target,
                Meta::new(0o777, req.uid(), req.gid()),
            )
            .and_then(|i| attr(&st, i));
        entry(reply, r)
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            return reply.error(Errno::EINVAL);
        }
        let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        empty(
            reply,
            self.lock()
                .rename(parent.0, name, newparent.0, newname, noreplace),
        )
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut st = self.lock();
        let r = st
            .link(ino.0, newparent.0, newname)
            .and_then(|()| attr(&st, ino.0));
        entry(reply, r)
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let st = self.lock();
        if ino.0 == CONTROL {
            return match st.alive() {
                Ok(()) => reply.opened(FileHandle(0), FopenFlags::FOPEN_DIRECT_IO),
                Err(e) => reply.error(err(e)),
            };
        }
        match st.node(ino.0).map(|n| n.kind()) {
            Ok(Kind::Dir) => reply.error(Errno::EISDIR),
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(err(e)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut st = self.lock();
        if ino.0 == CONTROL {
            let text = b"alive\n";
            let from = (offset as usize).min(text.len());
            return match st.alive() {
                Ok(()) => reply.data(&text[from..]),
                Err(e) => reply.error(err(e)),
            };
        }
        match st.read(ino.0, offset, size as usize) {
            Ok(d) => reply.data(&d),
            Err(e) => reply.error(err(e)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut st = self.lock();
        let r = if ino.0 == CONTROL {
            st.alive().and_then(|()| {
                if data.trim_ascii() == b"cut" {
                    st.cut();
                    Ok(())
                } else {
                    Err(Error::Errno(libc::EINVAL))
                }
            })
        } else {
            st.write(ino.0, offset, data)
        };
        match r {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(err(e)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        empty(reply, self.lock().alive())
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let mut st = self.lock();
        let r = if ino.0 == CONTROL {
            st.alive()
        } else {
            st.fsync(ino.0)
        };
        empty(reply, r)
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.lock().entries(ino.0) {
            Ok(_) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(err(e)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let mut st = self.lock();
        let parent = match st.node(ino.0).map(|n| &n.body) {
            Ok(Body::Dir { parent, .. }) => *parent,
            Ok(_) => return reply.error(Errno::ENOTDIR),
            Err(e) => return reply.error(err(e)),
        };
        let names: Vec<_> = match st.entries(ino.0) {
            Ok(e) => e.iter().map(|(n, i)| (n.clone(), *i)).collect(),
            Err(e) => return reply.error(err(e)),
        };
        let mut all = vec![
            (ino.0, FileType::Directory, ".".into()),
            (parent, FileType::Directory, "..".into()),
        ];
        for (name, i) in names {
            let kind = match st.node(i).map(|n| n.kind()) {
                Ok(Kind::Dir) => FileType::Directory,
                Ok(Kind::Symlink) => FileType::Symlink,
                _ => FileType::RegularFile,
            };
            all.push((i, kind, name));
        }
        for (k, (i, kind, name)) in all.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(i), (k + 1) as u64, kind, &name) {
                break;
            }
        }
        reply.ok()
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        empty(reply, self.lock().fsync_dir(ino.0))
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let st = self.lock();
        if let Err(e) = st.alive() {
            return reply.error(err(e));
        }
        let Ok(path) = CString::new(st.backing().as_os_str().as_bytes()) else {
            return reply.error(Errno::EIO);
        };
        // SAFETY: `path` is a valid C string and `s` a plain struct to fill.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(path.as_ptr(), &mut s) } != 0 {
            return reply.error(Errno::EIO);
        }
        reply.statfs(
            s.f_blocks,
            s.f_bfree,
            s.f_bavail,
            s.f_files,
            s.f_ffree,
            s.f_bsize as u32,
            s.f_namemax as u32,
            s.f_frsize as u32,
        )
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        empty(reply, self.lock().alive())
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut st = self.lock();
        let r = st
            .create(parent.0, name, new_meta(req, mode, umask))
            .and_then(|i| attr(&st, i));
        match r {
            Ok(a) => reply.created(&TTL, &a, Generation(0), FileHandle(0), FopenFlags::empty()),
            Err(e) => reply.error(err(e)),
        }
    }

    fn fallocate(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let mut st = self.lock();
        let r = (|| {
            let size = match &st.node(ino.0)?.body {
                Body::File { overlay, .. } => overlay.size(),
                _ => return Err(Error::Errno(libc::ENODEV)),
            };
            match mode {
                0 if offset + length > size => st.truncate(ino.0, offset + length),
                0 | libc::FALLOC_FL_KEEP_SIZE => Ok(()),
                _ => Err(Error::Errno(libc::EOPNOTSUPP)),
            }
        })();
        empty(reply, r)
    }
}
