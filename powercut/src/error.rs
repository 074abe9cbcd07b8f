//! Errors of the file system and its mount helper.

use std::io;

/// What can go wrong; each maps to the errno a FUSE reply carries.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A backing-directory operation failed.
    #[error("backing directory: {0}")]
    Io(#[from] io::Error),
    /// The file system was cut: every operation fails until unmounted.
    #[error("power was cut: the disk is dead until remounted")]
    Dead,
    /// A plain errno for namespace rules (`ENOENT`, `EEXIST`, `ENOTEMPTY`...).
    #[error("errno {0}")]
    Errno(i32),
}

impl Error {
    /// The errno sent back to the kernel.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Io(e) => e.raw_os_error().unwrap_or(libc::EIO),
            Error::Dead => libc::EIO,
            Error::Errno(n) => *n,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
