//! Receipt bodies at rest: zstd-compressed (level 3) when that is smaller,
//! else kept as they came. The SHA-256 and the length are of the verbatim
//! body; [`unpack_body`] gives it back byte for byte.

use super::StoreError;
use sha2::{Digest, Sha256};

/// zstd's level for bodies: its default, ~4x on vendor JSON at ~200 MB/s.
const LEVEL: i32 = 3;

/// How a stored body is encoded (the `body_codec` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCodec {
    /// Verbatim (`0`): bodies stored before compression, and bodies that
    /// zstd would not make smaller.
    Raw = 0,
    /// A zstd frame (`1`).
    Zstd = 1,
}

impl BodyCodec {
    /// The codec of a `body_codec` column value.
    ///
    /// Errors: [`StoreError::Corrupt`] for an unknown value.
    pub fn from_column(v: i64) -> Result<BodyCodec, StoreError> {
        match v {
            0 => Ok(BodyCodec::Raw),
            1 => Ok(BodyCodec::Zstd),
            o => Err(StoreError::corrupt(
                "receipt body",
                format!("unknown codec {o}"),
            )),
        }
    }
}

/// A body ready to store.
#[derive(Debug, Clone)]
pub struct PackedBody {
    pub codec: BodyCodec,
    /// What the `body` column holds.
    pub stored: Vec<u8>,
    /// Length of the verbatim body in bytes.
    pub len: usize,
    /// Hex SHA-256 of the verbatim body.
    pub sha256: String,
}

thread_local! {
    /// One zstd context per thread, reused: making one per body cost more
    /// than compressing a small body.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::new(LEVEL)?);
        }
        c.as_mut().expect("just made").compress(body)
    })
}

fn decompress(stored: &[u8], len: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new()?);
        }
        d.as_mut().expect("just made").decompress(stored, len)
    })
}

/// Compresses `body` for storage (and hashes it).
pub fn pack_body(body: &[u8]) -> PackedBody {
    let sha256 = hex::encode(Sha256::digest(body));
    let (codec, stored) = match compress(body) {
        Ok(z) if z.len() < body.len() => (BodyCodec::Zstd, z),
        _ => (BodyCodec::Raw, body.to_vec()),
    };
    PackedBody {
        codec,
        stored,
        len: body.len(),
        sha256,
    }
}

/// The verbatim body of a stored one; `len` is its recorded length.
///
/// Errors: [`StoreError::Corrupt`] when the frame does not decompress to
/// `len` bytes.
pub fn unpack_body(codec: BodyCodec, stored: Vec<u8>, len: usize) -> Result<Vec<u8>, StoreError> {
    match codec {
        BodyCodec::Raw => Ok(stored),
        BodyCodec::Zstd => {
            let body =
                decompress(&stored, len).map_err(|e| StoreError::corrupt("receipt body", e))?;
            if body.len() != len {
                return Err(StoreError::corrupt(
                    "receipt body",
                    format!("{} bytes after decompression, {len} recorded", body.len()),
                ));
            }
            Ok(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_byte_for_byte() {
        let json = br#"[{"callId":"c1","callee":"13800000000","duration":35}]"#.repeat(20);
        for body in [&b""[..], b"{}", &json[..], &[0u8, 255, 7, 0][..]] {
            let p = pack_body(body);
            assert_eq!(p.len, body.len());
            assert_eq!(p.sha256, hex::encode(Sha256::digest(body)));
            assert_eq!(unpack_body(p.codec, p.stored, p.len).unwrap(), body);
        }
        let p = pack_body(&json);
        assert_eq!(p.codec, BodyCodec::Zstd);
        assert!(
            p.stored.len() * 4 < json.len(),
            "{} of {}",
            p.stored.len(),
            json.len()
        );
    }

    #[test]
    fn a_damaged_frame_is_corrupt_not_a_panic() {
        let p = pack_body(&b"abcdefgh".repeat(100));
        let mut bad = p.stored.clone();
        bad.truncate(bad.len() / 2);
        assert!(matches!(
            unpack_body(p.codec, bad, p.len),
            Err(StoreError::Corrupt(_))
        ));
        assert!(BodyCodec::from_column(9).is_err());
    }
}
