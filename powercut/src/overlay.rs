//! Pending data of one regular file: dirty byte ranges over its durable
//! content, plus the size the file shows.
//!
//! The durable content is whatever the backing object holds. A read merges
//! the two; [`Overlay::flush`] applies the pending state to the backing
//! object and `fsync`s it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Dirty extents (non-overlapping, keyed by start offset), the shown size,
/// and the `floor`: durable bytes at or past it read as zeros, because a
/// truncate went below them since the last flush.
#[derive(Debug, Default)]
pub struct Overlay {
    extents: BTreeMap<u64, Vec<u8>>,
    size: u64,
    floor: u64,
}

impl Overlay {
    /// An overlay with nothing pending over a durable object of `durable_size` bytes.
    pub fn new(durable_size: u64) -> Self {
        Overlay {
            extents: BTreeMap::new(),
            size: durable_size,
            floor: durable_size,
        }
    }

    /// The size the file shows (pending size if any, else the durable one).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes held in memory for dirty extents.
    #[cfg(test)]
    pub fn pending_bytes(&self) -> usize {
        self.extents.values().map(Vec::len).sum()
    }

    /// Records `data` at `offset`; the size grows to cover it.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        // Extents overlapping [offset, end): sorted and disjoint, so walk back
        // from the last one starting before `end` while they reach past `offset`.
        let hits: Vec<u64> = self
            .extents
            .range(..end)
            .rev()
            .take_while(|(s, v)| **s + v.len() as u64 > offset)
            .map(|(s, _)| *s)
            .collect();
        if hits.is_empty() {
            self.extents.insert(offset, data.to_vec());
        } else {
            let mut start = offset;
            let mut stop = end;
            for s in &hits {
                start = start.min(*s);
                stop = stop.max(*s + self.extents[s].len() as u64);
            }
            let mut buf = vec![0u8; (stop - start) as usize];
            for s in hits {
                let v = self.extents.remove(&s).expect("extent listed above");
                let at = (s - start) as usize;
                buf[at..at + v.len()].copy_from_slice(&v);
            }
            let at = (offset - start) as usize;
            buf[at..at + data.len()].copy_from_slice(data);
            self.extents.insert(start, buf);
        }
        self.size = self.size.max(end);
    }

    /// Sets the shown size; bytes past a shrink read as zeros if regrown.
    pub fn truncate(&mut self, size: u64) {
        if size < self.size {
            self.floor = self.floor.min(size);
            self.extents.split_off(&size);
            if let Some((s, v)) = self.extents.range_mut(..size).next_back() {
                let keep = (size - *s) as usize;
                if v.len() > keep {
                    v.truncate(keep);
                }
            }
        }
        self.size = size;
    }

    /// Reads up to `len` bytes at `offset` as the file shows them; `durable`
    /// is the backing object (bytes past its end read as zeros). Short only
    /// at the shown end of file.
    pub fn read(&self, durable: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let end = self.size.min(offset.saturating_add(len as u64));
        if offset >= end {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; (end - offset) as usize];
        let durable_end = end.min(self.floor);
        if offset < durable_end {
            read_full_at(durable, &mut buf[..(durable_end - offset) as usize], offset)?;
        }
        for (s, v) in self.extents.range(..end) {
            let e = *s + v.len() as u64;
            if e <= offset {
                continue;
            }
            let from = (*s).max(offset);
            let to = e.min(end);
            let src = &v[(from - *s) as usize..(to - *s) as usize];
            buf[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
        Ok(buf)
    }

    /// Applies the pending state to `durable` and `fsync`s it; on success
    /// nothing is pending any more. Errors are the backing file's.
    pub fn flush(&mut self, durable: &File) -> io::Result<()> {
        let len = durable.metadata()?.len();
        if self.floor < len {
            durable.set_len(self.floor)?;
        }
        for (s, v) in &self.extents {
            durable.write_all_at(v, *s)?;
        }
        if durable.metadata()?.len() != self.size {
            durable.set_len(self.size)?;
        }
        durable.sync_all()?;
        self.extents.clear();
        self.floor = self.size;
        Ok(())
    }
}

/// Fills `buf` from `file` at `offset`; past end of file it stays zero.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn backing(content: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(content).unwrap();
        f
    }

    #[test]
    fn writes_merge_over_durable_content() {
        let f = backing(b"0123456789");
        let mut o = Overlay::new(10);
        o.write(2, b"ab");
        o.write(3, b"XYZ");
        o.write(12, b"!!");
        assert_eq!(o.read(&f, 0, 100).unwrap(), b"01aXYZ6789\0\0!!");
        assert_eq!(o.size(), 14);
    }

    #[test]
    fn truncate_then_regrow_reads_zeros() {
        let f = backing(b"0123456789");
        let mut o = Overlay::new(10);
        o.write(6, b"abcd");
        o.truncate(4);
        o.truncate(8);
        assert_eq!(o.read(&f, 0, 100).unwrap(), b"0123\0\0\0\0");
    }

    #[test]
    fn flush_makes_durable_equal_to_shown() {
        let f = backing(b"0123456789");
        let mut o = Overlay::new(10);
        o.write(1, b"x");
        o.truncate(5);
        o.write(7, b"yy");
        let shown = o.read(&f, 0, 100).unwrap();
        o.flush(&f).unwrap();
        assert_eq!(o.pending_bytes(), 0);
        let mut all = vec![0u8; 64];
        let n = f.read_at(&mut all, 0).unwrap();
        assert_eq!(&all[..n], &shown[..]);
        assert_eq!(o.read(&f, 0, 100).unwrap(), shown);
    }
}
