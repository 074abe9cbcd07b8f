//! `powercut BACKING MOUNT`: mounts a power-cut file system in the foreground.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Mounts BACKING at MOUNT; unsynced writes are lost at a cut
/// (`echo cut > MOUNT/.powercut`). Stop with `umount MOUNT`.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory whose contents are the durable state.
    backing: PathBuf,
    /// Existing directory to mount on.
    mount: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let fs = powercut::PowerCutFs::new(&args.backing)
        .with_context(|| format!("opening backing directory {}", args.backing.display()))?;
    let session = fuser::Session::new(fs, &args.mount, &powercut::mount_config())
        .with_context(|| format!("mounting on {}", args.mount.display()))?;
    println!("ready");
    std::io::stdout().flush()?;
    session.run().context("serving the mount")?;
    Ok(())
}
