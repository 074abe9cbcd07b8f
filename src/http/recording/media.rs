//! The media type and file extension of a kept recording: the stored
//! `Content-Type` when it is audio or video, else one guessed from the
//! link's extension (`wav`, `mp3`, `m4a`, `ogg`, `webm`), else
//! `application/octet-stream`. Any other stored type (say `text/html`
//! from a misconfigured vendor) is not repeated: the file is served from
//! this site, inline.

/// Known recording extensions and their media types.
const KNOWN: &[(&str, &str)] = &[
    ("wav", "audio/wav"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("ogg", "audio/ogg"),
    ("webm", "audio/webm"),
];

/// Other spellings of the known types, for naming the download.
const ALIASES: &[(&str, &str)] = &[
    ("audio/x-wav", "wav"),
    ("audio/wave", "wav"),
    ("audio/vnd.wave", "wav"),
    ("audio/mp3", "mp3"),
    ("audio/x-m4a", "m4a"),
    ("application/ogg", "ogg"),
    ("video/webm", "webm"),
    ("video/ogg", "ogg"),
];

/// The fallback media type.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// The `Content-Type` to answer with: `stored` (trimmed) when it is an
/// `audio/*` or `video/*` type, or `application/ogg`, made only of
/// visible ASCII and spaces; else the type of `url`'s extension; else
/// [`OCTET_STREAM`].
pub fn content_type(stored: Option<&str>, url: &str) -> String {
    if let Some(s) = stored.map(str::trim).filter(|s| playable(s)) {
        return s.to_owned();
    }
    url_extension(url)
        .and_then(|ext| KNOWN.iter().find(|(e, _)| *e == ext))
        .map_or(OCTET_STREAM, |(_, t)| *t)
        .to_owned()
}

/// The download's extension: that of `content_type` when known, else
/// the known extension of `url`, else `bin`.
pub fn extension(content_type: &str, url: &str) -> &'static str {
    let essence = essence(content_type);
    KNOWN
        .iter()
        .find(|(_, t)| *t == essence)
        .map(|(e, _)| *e)
        .or_else(|| ALIASES.iter().find(|(t, _)| *t == essence).map(|(_, e)| *e))
        .or_else(|| {
            let ext = url_extension(url)?;
            KNOWN.iter().find(|(e, _)| *e == ext).map(|(e, _)| *e)
        })
        .unwrap_or("bin")
}

/// The lowercase media type without parameters.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn playable(t: &str) -> bool {
    let e = essence(t);
    let media = e.starts_with("audio/") || e.starts_with("video/") || e == "application/ogg";
    media && t.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

/// The lowercase extension of the last path segment of `url`.
fn url_extension(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    let last = parsed.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_type_wins_when_it_is_audio() {
        let url = "https://rec.example.com/a.mp3?x=1";
        assert_eq!(content_type(Some("audio/x-wav"), url), "audio/x-wav");
        assert_eq!(content_type(Some("text/html"), url), "audio/mpeg");
        assert_eq!(
            content_type(None, "https://r.example.com/A.M4A"),
            "audio/mp4"
        );
        assert_eq!(
            content_type(None, "https://r.example.com/get?id=1"),
            OCTET_STREAM
        );
        assert_eq!(content_type(Some("audio/\u{7f}"), "x"), OCTET_STREAM);
    }

    #[test]
    fn the_extension_follows_the_type_then_the_link() {
        assert_eq!(extension("audio/wav", ""), "wav");
        assert_eq!(extension("audio/x-wav; codec=1", ""), "wav");
        assert_eq!(
            extension(OCTET_STREAM, "https://r.example.com/a.ogg"),
            "ogg"
        );
        assert_eq!(
            extension(OCTET_STREAM, "https://r.example.com/a.exe"),
            "bin"
        );
        assert_eq!(extension("audio/flac", "not a url"), "bin");
    }
}
