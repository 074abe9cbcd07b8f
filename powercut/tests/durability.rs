//! Files and names through a mount: what survives a cut and what does not.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;

use common::{cut_and_remount, dirs, fsync, fsync_dir, mount};

#[test]
fn write_without_fsync_is_lost_at_cut() {
    let d = dirs();
    let m = mount(&d);
    let f = d.mnt.join("a");
    fs::write(&f, b"v1-durable").unwrap();
    fsync(&f);
    fsync_dir(&d.mnt);
    // Overwrite and extend, no fsync: the process sees its own writes.
    let h = fs::File::options().write(true).open(&f).unwrap();
    h.write_all_at(b"v2-pending-and-longer", 0).unwrap();
    drop(h);
    assert_eq!(fs::read(&f).unwrap(), b"v2-pending-and-longer");
    fs::write(d.mnt.join("never-synced"), b"x").unwrap();
    // Nothing pending reached the backing directory.
    assert_eq!(fs::read(d.backing.join("a")).unwrap(), b"v1-durable");
    let m = cut_and_remount(&d, m);
    assert_eq!(fs::read(&f).unwrap(), b"v1-durable");
    assert!(!d.mnt.join("never-synced").exists());
    m.unmount().unwrap();
}

#[test]
fn file_and_dir_fsync_survive_cut() {
    let d = dirs();
    let m = mount(&d);
    fs::create_dir(d.mnt.join("sub")).unwrap();
    fsync_dir(&d.mnt);
    let f = d.mnt.join("sub/data");
    let mut h = fs::File::create(&f).unwrap();
    h.write_all(b"hello ").unwrap();
    h.write_all(b"world").unwrap();
    h.set_len(20).unwrap();
    h.sync_data().unwrap();
    drop(h);
    fsync_dir(&d.mnt.join("sub"));
    let m = cut_and_remount(&d, m);
    assert_eq!(fs::read(&f).unwrap(), b"hello world\0\0\0\0\0\0\0\0\0");
    m.unmount().unwrap();
    // The backing directory is exactly what a rebooted machine sees.
    let names: Vec<_> = fs::read_dir(&d.backing)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["sub"]);
}

#[test]
fn created_file_without_dir_fsync_is_lost() {
    let d = dirs();
    let m = mount(&d);
    let f = d.mnt.join("new");
    fs::write(&f, b"synced data, unsynced name").unwrap();
    fsync(&f);
    let m = cut_and_remount(&d, m);
    assert!(
        !f.exists(),
        "a name whose directory was never fsynced must vanish"
    );
    m.unmount().unwrap();
}

#[test]
fn rename_over_target_is_durable_only_with_dir_fsync() {
    for dir_synced in [false, true] {
        let d = dirs();
        let m = mount(&d);
        let target = d.mnt.join("target");
        fs::write(&target, b"old").unwrap();
        fsync(&target);
        fsync_dir(&d.mnt);
        let tmp = d.mnt.join("target.partial");
        fs::write(&tmp, b"new content").unwrap();
        fsync(&tmp);
        fsync_dir(&d.mnt);
        fs::rename(&tmp, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new content");
        if dir_synced {
            fsync_dir(&d.mnt);
        }
        let m = cut_and_remount(&d, m);
        let want: &[u8] = if dir_synced { b"new content" } else { b"old" };
        assert_eq!(fs::read(&target).unwrap(), want, "dir_synced={dir_synced}");
        assert_eq!(tmp.exists(), !dir_synced);
        m.unmount().unwrap();
    }
}

#[test]
fn namespace_ops_apply_at_dir_fsync() {
    let d = dirs();
    let m = mount(&d);
    fs::create_dir_all(d.mnt.join("a/b")).unwrap();
    fs::write(d.mnt.join("a/b/f"), b"1").unwrap();
    fsync(&d.mnt.join("a/b/f"));
    fsync_dir(&d.mnt.join("a/b"));
    fsync_dir(&d.mnt.join("a"));
    fsync_dir(&d.mnt);
    fs::hard_link(d.mnt.join("a/b/f"), d.mnt.join("a/g")).unwrap();
    std::os::unix::fs::symlink("b/f", d.mnt.join("a/s")).unwrap();
    fs::rename(d.mnt.join("a/b"), d.mnt.join("c")).unwrap();
    fsync_dir(&d.mnt.join("a"));
    fsync_dir(&d.mnt);
    fs::remove_file(d.mnt.join("a/g")).unwrap();
    let m = cut_and_remount(&d, m);
    assert_eq!(fs::read(d.mnt.join("c/f")).unwrap(), b"1");
    assert_eq!(fs::read(d.mnt.join("a/g")).unwrap(), b"1");
    assert_eq!(
        fs::read_link(d.mnt.join("a/s")).unwrap().to_str(),
        Some("b/f")
    );
    assert!(!d.mnt.join("a/b").exists());
    fs::remove_dir_all(d.mnt.join("c")).unwrap();
    fsync_dir(&d.mnt);
    let m = cut_and_remount(&d, m);
    assert!(!d.mnt.join("c").exists());
    m.unmount().unwrap();
}

#[test]
fn control_file_cuts() {
    let d = dirs();
    let m = mount(&d);
    fs::write(d.mnt.join("x"), b"pending").unwrap();
    fs::write(d.mnt.join(powercut::CONTROL_NAME), b"cut\n").unwrap();
    let e = fs::read(d.mnt.join("x")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO));
    assert!(m.fs().is_cut());
    m.unmount().unwrap();
    let m = mount(&d);
    assert!(!d.mnt.join("x").exists());
    m.unmount().unwrap();
}
