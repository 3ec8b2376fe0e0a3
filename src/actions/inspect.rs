//! The inspection family: `info` (§4.19) and `detect` (§4.25). Both answer
//! with JSON instead of an image and must be the only action of a command.
//!
//! `detect` looks for a video stream hidden after the end of the image (the
//! usual way buckets are abused as free video hosting): it finds where the
//! image's own structure ends (JPEG EOI after the last scan, PNG IEND, GIF
//! trailer, WebP RIFF size) and searches the trailing bytes for video
//! container signatures (ISO-BMFF `ftyp`/`moov`/`mdat`, Matroska/WebM EBML,
//! FLV, AVI, MPEG-PS pack headers, MPEG-TS sync bytes every 188 bytes).
//! CLONE DECISIONS: `detectedType` is `unknow` (the spelling of BOS's Chinese
//! page) when the header is not an image we know; `picRisk` is true exactly
//! when a video stream was detected.

use crate::codec::{ImageFormat, SourceInfo};

/// Trailing data shorter than this is never called a video (padding, a
/// stray newline or a short comment are common after real images).
const MIN_VIDEO_TRAILER: usize = 1024;

/// The `image/detect` JSON for `bytes`, the object named `key` (for its
/// suffix), whose header probed as `source` (`None` when it is not a readable image).
pub fn detect_json(bytes: &[u8], key: Option<&str>, source: Option<&SourceInfo>) -> String {
    let suffix = key
        .and_then(|k| k.rsplit('/').next())
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let sniffed = ImageFormat::sniff(bytes);
    let resolution = source.map_or_else(
        || "0*0".to_string(),
        |s| format!("{}*{}", s.width, s.height),
    );
    let video = sniffed
        .and_then(|f| image_end(bytes, f))
        .is_some_and(|end| has_video_signature(&bytes[end.min(bytes.len())..]));
    serde_json::json!({
        "picSuffix": suffix,
        "picResolution": resolution,
        "picSize": bytes.len(),
        "detectedType": sniffed.map_or("unknow", ImageFormat::mime),
        "videoDetected": video,
        "picRisk": video,
    })
    .to_string()
}

/// The offset just past the image's own data, or `None` when its structure
/// cannot be followed (then nothing is called trailing).
pub fn image_end(bytes: &[u8], format: ImageFormat) -> Option<usize> {
    match format {
        ImageFormat::Jpeg => jpeg_end(bytes),
        ImageFormat::Png => png_end(bytes),
        ImageFormat::Gif => gif_end(bytes),
        ImageFormat::Webp => {
            let size = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?) as usize;
            Some(size.checked_add(8 + (size & 1))?)
        }
        ImageFormat::Bmp => {
            let size = u32::from_le_bytes(bytes.get(2..6)?.try_into().ok()?) as usize;
            Some(size)
        }
        ImageFormat::Avif | ImageFormat::Heic => bmff_end(bytes),
    }
}

fn jpeg_end(b: &[u8]) -> Option<usize> {
    let mut pos = 2;
    loop {
        // Skip fill bytes before a marker.
        while *b.get(pos)? == 0xFF && *b.get(pos + 1)? == 0xFF {
            pos += 1;
        }
        if *b.get(pos)? != 0xFF {
            return None;
        }
        let marker = *b.get(pos + 1)?;
        match marker {
            0xD9 => return Some(pos + 2),
            0xD0..=0xD7 | 0x01 => pos += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([*b.get(pos + 2)?, *b.get(pos + 3)?]));
                pos += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not a
                    // stuffed 0xFF00 or a restart marker.
                    loop {
                        let ff = pos + b.get(pos..)?.iter().position(|&v| v == 0xFF)?;
                        match *b.get(ff + 1)? {
                            0x00 | 0xD0..=0xD7 | 0xFF => pos = ff + 1,
                            _ => {
                                pos = ff;
                                break;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn png_end(b: &[u8]) -> Option<usize> {
    let mut pos = 8;
    loop {
        let len = u32::from_be_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind = b.get(pos + 4..pos + 8)?;
        pos = pos.checked_add(12 + len)?;
        if kind == b"IEND" {
            return Some(pos);
        }
    }
}

fn gif_end(b: &[u8]) -> Option<usize> {
    let flags = *b.get(10)?;
    let mut pos = 13;
    if flags & 0x80 != 0 {
        pos += 3 << ((flags & 7) + 1);
    }
    let skip_sub_blocks = |mut p: usize| -> Option<usize> {
        loop {
            let n = usize::from(*b.get(p)?);
            p += 1;
            if n == 0 {
                return Some(p);
            }
            p += n;
        }
    };
    loop {
        match *b.get(pos)? {
            0x3B => return Some(pos + 1),
            0x21 => pos = skip_sub_blocks(pos + 2)?,
            0x2C => {
                let flags = *b.get(pos + 9)?;
                pos += 10;
                if flags & 0x80 != 0 {
                    pos += 3 << ((flags & 7) + 1);
                }
                pos = skip_sub_blocks(pos + 1)?; // LZW minimum code size, then data
            }
            _ => return None,
        }
    }
}

/// AVIF/HEIC: the end of the last top-level box that belongs to the image
/// (`ftyp`, `meta`, `mdat`, `free`…); anything after a box list that stops
/// parsing is trailing.
fn bmff_end(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while pos + 8 <= b.len() {
        let size = u32::from_be_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind = b.get(pos + 4..pos + 8)?;
        if size < 8 || !kind.iter().all(u8::is_ascii_alphanumeric) {
            break;
        }
        if kind == b"moov" {
            break; // a movie box makes the rest a video
        }
        pos += size;
    }
    Some(pos.min(b.len()))
}

/// Whether `trailer` holds a video container.
pub fn has_video_signature(trailer: &[u8]) -> bool {
    if trailer.len() < MIN_VIDEO_TRAILER {
        return false;
    }
    let contains = |needle: &[u8]| trailer.windows(needle.len()).any(|w| w == needle);
    let iso_bmff = trailer
        .windows(8)
        .any(|w| matches!(&w[4..8], b"ftyp" | b"moov" | b"mdat" | b"moof"));
    let mpeg_ts = (0..188.min(trailer.len()))
        .any(|start| (0..5).all(|k| trailer.get(start + k * 188) == Some(&0x47)));
    iso_bmff
        || contains(&[0x1A, 0x45, 0xDF, 0xA3])
        || contains(b"FLV\x01")
        || trailer
            .windows(12)
            .any(|w| &w[0..4] == b"RIFF" && &w[8..12] == b"AVI ")
        || contains(&[0x00, 0x00, 0x01, 0xBA])
        || mpeg_ts
}

/// The `image/info` JSON (spec §4.19): every field an object holding a string
/// value; the basic fields plus those read from EXIF (`exif_fields`).
pub fn info_json(source: &SourceInfo, size_bytes: usize, exif_fields: &[(&str, String)]) -> String {
    let mut map = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        map.insert(k.to_string(), serde_json::json!({ "value": v }));
    };
    put("format", source.format.info_name().to_string());
    put("imageHeight", source.height.to_string());
    put("imageSize", size_bytes.to_string());
    put("imageWidth", source.width.to_string());
    for (k, v) in exif_fields {
        put(k, v.clone());
    }
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes() -> Vec<u8> {
        use crate::raster::Raster;
        crate::codec::png::encode(&Raster::filled(3, 2, [1, 2, 3, 255])).unwrap()
    }

    #[test]
    fn finds_the_end_of_a_png_and_a_hidden_mp4() {
        let png = png_bytes();
        assert_eq!(image_end(&png, ImageFormat::Png), Some(png.len()));
        let clean = detect_json(&png, Some("a/b/pic.PNG"), None);
        let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(v["picSuffix"], "png");
        assert_eq!(v["detectedType"], "image/png");
        assert_eq!(v["videoDetected"], false);
        assert_eq!(v["picRisk"], false);
        assert_eq!(v["picSize"], png.len());

        let mut abused = png.clone();
        abused.extend_from_slice(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41");
        abused.extend(std::iter::repeat_n(0u8, 4096));
        let v: serde_json::Value =
            serde_json::from_str(&detect_json(&abused, Some("pic.png"), None)).unwrap();
        assert_eq!(v["videoDetected"], true);
        assert_eq!(v["picRisk"], true);
        assert_eq!(v["picResolution"], "0*0");
    }

    #[test]
    fn small_trailers_and_unknown_types_are_not_video() {
        let mut png = png_bytes();
        png.extend_from_slice(b"ftypisom");
        let v: serde_json::Value = serde_json::from_str(&detect_json(&png, None, None)).unwrap();
        assert_eq!(v["videoDetected"], false);
        let v: serde_json::Value =
            serde_json::from_str(&detect_json(b"hello", Some("x.jpg"), None)).unwrap();
        assert_eq!(v["detectedType"], "unknow");
        assert_eq!(v["picSuffix"], "jpg");
    }

    #[test]
    fn mpeg_ts_and_webm_signatures() {
        let mut ts = vec![0u8; 2000];
        for k in 0..10 {
            ts[7 + k * 188] = 0x47;
        }
        assert!(has_video_signature(&ts));
        let mut webm = vec![0u8; 2000];
        webm[100..104].copy_from_slice(&[0x1A, 0x45, 0xDF, 0xA3]);
        assert!(has_video_signature(&webm));
        assert!(!has_video_signature(&[0u8; 2000]));
    }

    #[test]
    fn jpeg_end_skips_entropy_data() {
        use crate::raster::{PixelLayout, Raster};
        let data = (0..64 * 64 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let img = Raster::new(64, 64, PixelLayout::Rgb8, data).unwrap();
        let jpg = crate::codec::jpeg::encode(&img, 90, false).unwrap();
        assert_eq!(image_end(&jpg, ImageFormat::Jpeg), Some(jpg.len()));
        let mut more = jpg.clone();
        more.extend_from_slice(&[0u8; 10]);
        assert_eq!(image_end(&more, ImageFormat::Jpeg), Some(jpg.len()));
    }
}
