//! Mounting a [`PowerCutFs`] in a background thread, cutting and unmounting it.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fuser::{Config, MountOption, SessionACL};

use crate::error::Result;
use crate::fs::PowerCutFs;

/// A mounted [`PowerCutFs`]; dropping it unmounts (errors ignored).
#[derive(Debug)]
pub struct Mounted {
    fs: PowerCutFs,
    session: Option<fuser::BackgroundSession>,
    mountpoint: PathBuf,
}

/// The mount options used by [`mount`] and the binary: `allow_other`,
/// `default_permissions` (the kernel checks permissions), fs name `powercut`.
pub fn mount_config() -> Config {
    let mut c = Config::default();
    c.mount_options = vec![
        MountOption::FSName("powercut".into()),
        MountOption::Subtype("powercut".into()),
        MountOption::DefaultPermissions,
    ];
    c.acl = SessionACL::All;
    c
}

/// Mounts `backing` (an existing directory) at `mountpoint` (an existing
/// directory) and serves it from a background thread. Needs root or
/// `fusermount3`. Errors: the backing directory's, or the mount's.
pub fn mount(backing: &Path, mountpoint: &Path) -> Result<Mounted> {
    let fs = PowerCutFs::new(backing)?;
    let session = fuser::spawn_mount(fs.clone(), mountpoint, &mount_config())?;
    Ok(Mounted {
        fs,
        session: Some(session),
        mountpoint: mountpoint.canonicalize()?,
    })
}

impl Mounted {
    /// Where it is mounted.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// The file system (shares state with the mount).
    pub fn fs(&self) -> &PowerCutFs {
        &self.fs
    }

    /// Simulates a power loss: all pending state is dropped and every further
    /// operation on the mount fails with `EIO` until [`Mounted::unmount`].
    pub fn cut(&self) {
        self.fs.cut();
    }

    /// Unmounts and waits for the serving thread. Retries `EBUSY` (files
    /// still open) for up to 10 s. Pending state not fsynced is dropped, as
    /// at a cut. Errors: the unmount's.
    pub fn unmount(mut self) -> Result<()> {
        self.unmount_inner()
    }

    fn unmount_inner(&mut self) -> Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let path = CString::new(self.mountpoint.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // SAFETY: `path` is a valid C string.
            if unsafe { libc::umount2(path.as_ptr(), 0) } == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            if e.raw_os_error() == Some(libc::EPERM) {
                // Not root: the background session unmounts through fusermount3.
                return Ok(session.umount_and_join()?);
            }
            self.session = Some(session);
            return Err(e.into());
        }
        self.fs.cut();
        match session.join() {
            // The kernel ends the session's channel on unmount; with
            // requests in flight it reports the abort rather than ENODEV.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ECONNABORTED | libc::ENODEV)) => Ok(()),
            other => Ok(other?),
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = self.unmount_inner();
    }
}
