//! A FUSE file system for tests that loses every unsynced write on a
//! simulated power cut.
//!
//! [`PowerCutFs`] mounts a *backing directory* (the durable state) at a
//! mount point. What the mount shows is the backing state plus pending,
//! in-memory changes:
//! - a file's data and size (`write`, `truncate`, `fallocate`) become durable
//!   when that file is fsynced (`fsync` or `fdatasync`);
//! - a directory's entries (`create`, `mkdir`, `unlink`, `rmdir`, `rename`,
//!   `link`, `symlink`) become durable when that directory is fsynced: its
//!   backing directory is then made to hold exactly the names the mount shows.
//!
//! A cut ([`Mounted::cut`], or writing `cut` to `MOUNT/.powercut`) drops all
//! pending state; every operation then fails with `EIO` until unmounted, and
//! a new mount over the same backing directory shows what a rebooted machine
//! would find. See `docs/powercut.md` for the whole model and its limits.

mod error;
mod fs;
mod mount;
mod overlay;
mod state;

pub use error::{Error, Result};
pub use fs::PowerCutFs;
pub use mount::{mount, mount_config, Mounted};
pub use state::{CONTROL_NAME, STAGING_NAME};
