//! Helpers shared by the mount tests.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};

use powercut::Mounted;
use tempfile::TempDir;

/// A backing directory and a mount point in one temporary directory.
pub struct Dirs {
    _tmp: TempDir,
    pub backing: PathBuf,
    pub mnt: PathBuf,
}

/// Makes empty `backing/` and `mnt/` directories.
pub fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let backing = tmp.path().join("backing");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&backing).unwrap();
    std::fs::create_dir(&mnt).unwrap();
    Dirs {
        _tmp: tmp,
        backing,
        mnt,
    }
}

/// Mounts `d.backing` on `d.mnt`.
pub fn mount(d: &Dirs) -> Mounted {
    powercut::mount(&d.backing, &d.mnt).expect("mount (needs /dev/fuse and root)")
}

/// Cuts, checks the mount is dead, unmounts and mounts again.
pub fn cut_and_remount(d: &Dirs, m: Mounted) -> Mounted {
    m.cut();
    let err = std::fs::read_dir(&d.mnt)
        .err()
        .or_else(|| std::fs::metadata(d.mnt.join("x")).err());
    assert!(err.is_some(), "a cut mount must fail");
    m.unmount().unwrap();
    mount(d)
}

/// `fsync`s a file.
pub fn fsync(p: &Path) {
    File::options()
        .write(true)
        .open(p)
        .unwrap()
        .sync_all()
        .unwrap();
}

/// `fsync`s a directory (FUSE `fsyncdir`).
pub fn fsync_dir(p: &Path) {
    File::open(p).unwrap().sync_all().unwrap();
}

/// A small seeded generator (xorshift64*); the seed comes from
/// `POWERCUT_SEED` or the clock, and is printed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(test: &str) -> Rng {
        Rng::from_seed(env_seed(test))
    }

    /// A generator started from `seed` (0 is taken as 1).
    pub fn from_seed(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// `POWERCUT_SEED`, else one from the clock; printed with how to rerun.
pub fn env_seed(test: &str) -> u64 {
    let seed = std::env::var("POWERCUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("{test}: seed {seed} (rerun with POWERCUT_SEED={seed})");
    seed
}
