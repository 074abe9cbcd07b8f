//! Call documents at rest (SQLite's `calls.doc`). The canonical call's JSON
//! was three quarters of the database: 914 of 1,813 bytes per call at
//! 1,000,000 Alibaba calls. A document is one call, too small for zstd to
//! find much to reuse in it alone (914 → 497 bytes), but every document
//! repeats the same keys and value shapes, so it is compressed against a
//! built-in dictionary: the canonical JSON of eight calls made from the
//! test fixtures of the five vendors (`doc_dictionary.ndjson`, a zstd
//! raw-content dictionary), which brings it to about 240 bytes.
//!
//! Stored form: a BLOB of one version byte ([`V1`]) and a zstd frame
//! (level 3, with its content size, no checksum: SQLite pages carry none
//! either and the JSON parse checks the result). Documents written before
//! this are TEXT and read as they are; a later dictionary gets a new
//! version byte and the old ones stay readable. The dictionary file must
//! never change: documents written with it could not be read.

use super::StoreError;
use std::cell::RefCell;

/// The version byte of documents compressed with `doc_dictionary.ndjson`.
pub const V1: u8 = 1;

/// The raw-content dictionary of [`V1`]. Never edit it.
const DICTIONARY_V1: &[u8] = include_bytes!("doc_dictionary.ndjson");

/// zstd's default level: ~4x with the dictionary, a few µs per document.
const LEVEL: i32 = 3;

/// No call document is larger (a 10,000-record push's largest transcript
/// is far below): a frame claiming more is damaged.
const MAX_DOC_BYTES: u64 = 1 << 30;

thread_local! {
    /// One context per thread with the dictionary loaded once.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// `json` (a canonical call) in its stored form: [`V1`] and a zstd frame.
/// Falls back to the JSON's own bytes as TEXT would be read, should zstd
/// fail to start (it does not allocate-fail in practice).
pub fn pack_doc(json: &str) -> StoredDoc {
    let packed = COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::with_dictionary(
                LEVEL,
                DICTIONARY_V1,
            )?);
        }
        let z = c.as_mut().expect("just made").compress(json.as_bytes())?;
        let mut out = Vec::with_capacity(z.len() + 1);
        out.push(V1);
        out.extend_from_slice(&z);
        Ok::<_, std::io::Error>(out)
    });
    match packed {
        Ok(blob) => StoredDoc::Packed(blob),
        Err(e) => {
            tracing::warn!(error = %e, "call document stored uncompressed");
            StoredDoc::Text(json.to_owned())
        }
    }
}

/// The JSON of a stored document: TEXT as it is, a BLOB unpacked.
///
/// Errors: [`StoreError::Corrupt`] for an unknown version byte, a frame
/// that does not decompress to its recorded size, or text that is not
/// UTF-8.
pub fn unpack_doc(blob: &[u8]) -> Result<String, StoreError> {
    let corrupt = |why: String| StoreError::corrupt("call document", why);
    let Some((&version, frame)) = blob.split_first() else {
        return Err(corrupt("empty".into()));
    };
    if version != V1 {
        return Err(corrupt(format!("unknown version {version}")));
    }
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_DOC_BYTES => n as usize,
        other => return Err(corrupt(format!("frame size {other:?}"))),
    };
    let bytes = DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::with_dictionary(DICTIONARY_V1)?);
        }
        d.as_mut().expect("just made").decompress(frame, size)
    });
    let bytes = bytes.map_err(|e| StoreError::corrupt("call document", e))?;
    if bytes.len() != size {
        return Err(corrupt(format!("{} bytes, {size} recorded", bytes.len())));
    }
    String::from_utf8(bytes).map_err(|e| StoreError::corrupt("call document", e))
}

/// The JSON of a document stored as bytes (PostgreSQL's `bytea` column):
/// packed ([`V1`] first), or JSON text from before compression (which
/// starts with `{`, never a version byte).
///
/// Errors: as [`unpack_doc`].
pub fn json_of_bytes(bytes: &[u8]) -> Result<String, StoreError> {
    if bytes.first() == Some(&b'{') {
        return String::from_utf8(bytes.to_vec())
            .map_err(|e| StoreError::corrupt("call document", e));
    }
    unpack_doc(bytes)
}

/// A document as a `doc` column holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredDoc {
    /// JSON text: documents written before compression.
    Text(String),
    /// [`V1`] and a zstd frame.
    Packed(Vec<u8>),
}

impl StoredDoc {
    /// The stored bytes, for a `bytea` column: the packed form, or the
    /// JSON's own bytes (read back by [`json_of_bytes`]).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            StoredDoc::Text(s) => s.into_bytes(),
            StoredDoc::Packed(b) => b,
        }
    }

    /// The document's JSON.
    ///
    /// Errors: as [`unpack_doc`].
    pub fn json(&self) -> Result<String, StoreError> {
        match self {
            StoredDoc::Text(s) => Ok(s.clone()),
            StoredDoc::Packed(b) => unpack_doc(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_shrink_against_the_dictionary() {
        let docs: Vec<&str> = std::str::from_utf8(DICTIONARY_V1)
            .unwrap()
            .lines()
            .collect();
        assert_eq!(docs.len(), 8, "the dictionary is eight call documents");
        let mut call: serde_json::Value = serde_json::from_str(docs[7]).unwrap();
        call["id"] = "0123456789abcdef0123456789abcdef".into();
        call["customer_number"] = "13912345678".into();
        let json = call.to_string();
        let StoredDoc::Packed(blob) = pack_doc(&json) else {
            panic!("packed");
        };
        assert_eq!(blob[0], V1);
        assert!(
            blob.len() * 3 < json.len(),
            "{} bytes for {}",
            blob.len(),
            json.len()
        );
        assert_eq!(unpack_doc(&blob).unwrap(), json);
        assert_eq!(StoredDoc::Packed(blob).json().unwrap(), json);
        assert_eq!(StoredDoc::Text(json.clone()).json().unwrap(), json);
        // As PostgreSQL's bytea holds them: packed, or older plain JSON.
        assert_eq!(json_of_bytes(&pack_doc(&json).into_bytes()).unwrap(), json);
        assert_eq!(json_of_bytes(json.as_bytes()).unwrap(), json);
    }

    #[test]
    fn large_and_unicode_documents_round_trip() {
        let turns: Vec<String> = (0..20_000)
            .map(|i| format!(r#"{{"speaker":"agent","text":"第{i}句 hello"}}"#))
            .collect();
        let json = format!(r#"{{"turns":[{}]}}"#, turns.join(","));
        let StoredDoc::Packed(blob) = pack_doc(&json) else {
            panic!("packed");
        };
        assert_eq!(unpack_doc(&blob).unwrap(), json);
    }

    #[test]
    fn damaged_documents_are_corrupt_not_a_panic() {
        let json = r#"{"id":"x","vendor":"aliyun"}"#;
        let StoredDoc::Packed(mut blob) = pack_doc(json) else {
            panic!("packed");
        };
        for bad in [vec![], vec![9, 1, 2], vec![V1], vec![V1, 0x28, 0xb5, 0x2f]] {
            assert!(
                matches!(unpack_doc(&bad), Err(StoreError::Corrupt(_))),
                "{bad:?}"
            );
        }
        let last = blob.len() - 1;
        blob[last] ^= 0xff;
        assert_ne!(unpack_doc(&blob).ok().as_deref(), Some(json));
    }
}
