//! EXIF: finding it in a container and reading the fields the filter uses.
//!
//! EXIF is a TIFF structure. It lives in a JPEG APP1 segment (`Exif\0\0` +
//! TIFF), a PNG `eXIf` chunk (bare TIFF) or, as ImageMagick and exiftool write
//! it, a PNG text chunk (`tEXt`/`zTXt`/`iTXt`) named `Raw profile type exif`
//! holding the APP1 payload as hex, and a WebP `EXIF` chunk (bare TIFF, some
//! writers keep the `Exif\0\0` prefix). [`find_raw`] returns the bare TIFF
//! bytes from any of these; [`read`] parses them with `kamadak-exif`, keeping
//! whatever fields parse when others are broken.
//!
//! Nothing here fails a request: a missing or corrupt EXIF block is `None`.

use super::ImageFormat;
use exif::{In, Tag, Value};

/// The EXIF fields the filter uses: auto-orient and `image/info` (spec §4.19).
///
/// Strings are as stored (trailing NULs and spaces trimmed); rationals are
/// `(numerator, denominator)` exactly as stored, without reduction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExifInfo {
    /// Orientation (tag 0x0112), only when 1–8: an out-of-range stored value
    /// (e.g. the `0` of `Landscape_0.jpg`) means "as stored" and reads as `None`.
    pub(crate) orientation: Option<u16>,
    pub(crate) make: Option<String>,
    pub(crate) model: Option<String>,
    /// DateTime (0x0132), EXIF form `YYYY:MM:DD HH:MM:SS`.
    pub(crate) date_time: Option<String>,
    /// DateTimeOriginal (0x9003).
    pub(crate) date_time_original: Option<String>,
    /// DateTimeDigitized (0x9004).
    pub(crate) date_time_digitized: Option<String>,
    /// GPSLatitude: degrees, minutes, seconds.
    pub(crate) gps_latitude: Option<Vec<(u32, u32)>>,
    /// `N` or `S`.
    pub(crate) gps_latitude_ref: Option<String>,
    /// GPSLongitude: degrees, minutes, seconds.
    pub(crate) gps_longitude: Option<Vec<(u32, u32)>>,
    /// `E` or `W`.
    pub(crate) gps_longitude_ref: Option<String>,
    pub(crate) resolution_x: Option<(u32, u32)>,
    pub(crate) resolution_y: Option<(u32, u32)>,
    /// 1 = none, 2 = inch, 3 = cm.
    pub(crate) resolution_unit: Option<u16>,
}

/// Reads the EXIF fields of an image, or `None` when it has no readable EXIF.
pub fn read(bytes: &[u8], format: ImageFormat) -> Option<ExifInfo> {
    parse(find_raw(bytes, format)?)
}

/// Parses bare TIFF-structured EXIF (as [`find_raw`] returns it).
pub fn parse(tiff: Vec<u8>) -> Option<ExifInfo> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let exif = match reader.read_raw(tiff) {
        Ok(exif) => exif,
        Err(err) => err.distill_partial_result(|_| {}).ok()?,
    };
    let field = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|f| &f.value);
    let text = |tag: Tag| field(tag).and_then(ascii);
    let uint = |tag: Tag| {
        field(tag)
            .and_then(|v| v.get_uint(0))
            .and_then(|v| u16::try_from(v).ok())
    };
    let rationals = |tag: Tag| match field(tag) {
        Some(Value::Rational(v)) if !v.is_empty() => {
            Some(v.iter().map(|r| (r.num, r.denom)).collect::<Vec<_>>())
        }
        _ => None,
    };
    let rational = |tag: Tag| rationals(tag).and_then(|v| v.first().copied());
    Some(ExifInfo {
        orientation: uint(Tag::Orientation).filter(|o| (1..=8).contains(o)),
        make: text(Tag::Make),
        model: text(Tag::Model),
        date_time: text(Tag::DateTime),
        date_time_original: text(Tag::DateTimeOriginal),
        date_time_digitized: text(Tag::DateTimeDigitized),
        gps_latitude: rationals(Tag::GPSLatitude),
        gps_latitude_ref: text(Tag::GPSLatitudeRef),
        gps_longitude: rationals(Tag::GPSLongitude),
        gps_longitude_ref: text(Tag::GPSLongitudeRef),
        resolution_x: rational(Tag::XResolution),
        resolution_y: rational(Tag::YResolution),
        resolution_unit: uint(Tag::ResolutionUnit),
    })
}

/// The first ASCII string of a value, trimmed; `None` when empty.
fn ascii(value: &Value) -> Option<String> {
    let Value::Ascii(strings) = value else {
        return None;
    };
    let raw = strings.first()?;
    let s = String::from_utf8_lossy(raw);
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!s.is_empty()).then(|| s.to_string())
}

/// The `image/info` fields (spec §4.19) that `info` has, by name in ASCII order
/// each with its string value.
///
/// Dates become ISO-8601 UTC (`2016:08:31 14:57:07` → `2016-08-31T14:57:07Z`;
/// EXIF has no zone, BOS reports it as UTC); a date that is not in EXIF form
/// (e.g. all blanks or zeros) is left out. Rationals are `num/den` joined by
/// commas, the orientation and resolution unit plain integers.
pub fn info_fields(info: &ExifInfo) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut push = |name: &'static str, value: Option<String>| {
        if let Some(v) = value {
            out.push((name, v));
        }
    };
    let rationals = |v: &[(u32, u32)]| {
        v.iter()
            .map(|(n, d)| format!("{n}/{d}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    push("dateTime", info.date_time.as_deref().and_then(iso_date));
    push(
        "dateTimeDigitized",
        info.date_time_digitized.as_deref().and_then(iso_date),
    );
    push(
        "dateTimeOriginal",
        info.date_time_original.as_deref().and_then(iso_date),
    );
    push("gpsLatitude", info.gps_latitude.as_deref().map(rationals));
    push("gpsLatitudeRef", info.gps_latitude_ref.clone());
    push("gpsLongitude", info.gps_longitude.as_deref().map(rationals));
    push("gpsLongitudeRef", info.gps_longitude_ref.clone());
    push("make", info.make.clone());
    push("model", info.model.clone());
    push("orientation", info.orientation.map(|o| o.to_string()));
    push(
        "resolutionUnit",
        info.resolution_unit.map(|u| u.to_string()),
    );
    push(
        "resolutionX",
        info.resolution_x
            .map(|r| rationals(std::slice::from_ref(&r))),
    );
    push(
        "resolutionY",
        info.resolution_y
            .map(|r| rationals(std::slice::from_ref(&r))),
    );
    out
}

/// `YYYY:MM:DD HH:MM:SS` → `YYYY-MM-DDTHH:MM:SSZ`; `None` when not in that form
/// or all zeros (the EXIF "unknown" value).
pub fn iso_date(exif: &str) -> Option<String> {
    let b = exif.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    if !digits.iter().all(|&i| b[i].is_ascii_digit())
        || b[4] != b':'
        || b[7] != b':'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if digits.iter().take(8).all(|&i| b[i] == b'0') {
        return None;
    }
    let s = |r: std::ops::Range<usize>| exif.get(r).unwrap_or("");
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        s(0..4),
        s(5..7),
        s(8..10),
        s(11..13),
        s(14..16),
        s(17..19)
    ))
}

/// The bare TIFF bytes of the EXIF block of `bytes`, if it has one.
pub fn find_raw(bytes: &[u8], format: ImageFormat) -> Option<Vec<u8>> {
    let raw = match format {
        ImageFormat::Jpeg => jpeg_app1_exif(bytes).map(<[u8]>::to_vec),
        ImageFormat::Png => png_exif(bytes),
        ImageFormat::Webp => riff_chunk(bytes, *b"EXIF").map(<[u8]>::to_vec),
        _ => None,
    }?;
    tiff_start(raw)
}

/// Drops an `Exif\0\0` (or other) prefix before the TIFF header; `None` when
/// there is no TIFF header in the first bytes.
fn tiff_start(mut raw: Vec<u8>) -> Option<Vec<u8>> {
    let is_tiff = |b: &[u8]| b.starts_with(b"II*\0") || b.starts_with(b"MM\0*");
    if is_tiff(&raw) {
        return Some(raw);
    }
    let limit = raw.len().min(16);
    let pos = (0..limit).find(|&i| raw.get(i..).is_some_and(is_tiff))?;
    raw.drain(..pos);
    Some(raw)
}

/// The segments of a JPEG up to its first scan: `(marker, payload)`.
pub(crate) fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2usize;
    std::iter::from_fn(move || loop {
        let marker_at = bytes.get(pos..pos + 2)?;
        if marker_at[0] != 0xFF {
            return None;
        }
        let marker = marker_at[1];
        // Fill bytes and standalone markers carry no length.
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            pos += 2;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = bytes.get(pos + 2..pos + 4)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return None;
        }
        let payload = bytes.get(pos + 4..pos + 2 + len)?;
        pos += 2 + len;
        return Some((marker, payload));
    })
}

/// The payload of the first APP1 `Exif` segment, after `Exif\0\0`.
fn jpeg_app1_exif(bytes: &[u8]) -> Option<&[u8]> {
    jpeg_segments(bytes)
        .find(|(m, p)| *m == 0xE1 && p.starts_with(b"Exif\0"))
        .and_then(|(_, p)| p.get(6..))
}

/// The chunks of a PNG: `(type, data)`, stopping at `IEND` or truncation.
pub(crate) fn png_chunks(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 8usize;
    std::iter::from_fn(move || {
        let head = bytes.get(pos..pos + 8)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        let data = bytes.get(pos + 8..(pos + 8).checked_add(len)?)?;
        pos = pos + 12 + len;
        (&kind != b"IEND").then_some((kind, data))
    })
}

/// Largest text chunk payload inflated while looking for metadata.
pub(crate) const MAX_INFLATED: usize = 16 << 20;

/// The EXIF of a PNG: the `eXIf` chunk, else a "Raw profile type exif/APP1"
/// text chunk.
fn png_exif(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut raw_profile = None;
    for (kind, data) in png_chunks(bytes) {
        match &kind {
            b"eXIf" => return Some(data.to_vec()),
            b"tEXt" | b"zTXt" | b"iTXt" if raw_profile.is_none() => {
                if let Some((keyword, text)) = png_text(kind, data) {
                    if keyword == b"Raw profile type exif" || keyword == b"Raw profile type APP1" {
                        raw_profile = decode_raw_profile(&text);
                    }
                }
            }
            _ => {}
        }
    }
    raw_profile
}

/// The keyword and the (inflated) text of a `tEXt`, `zTXt` or `iTXt` chunk.
pub(crate) fn png_text(kind: [u8; 4], data: &[u8]) -> Option<(&[u8], Vec<u8>)> {
    let nul = data.iter().position(|&b| b == 0)?;
    let keyword = &data[..nul];
    let rest = data.get(nul + 1..)?;
    let text = match &kind {
        b"tEXt" => rest.to_vec(),
        b"zTXt" => inflate(rest.get(1..)?)?,
        b"iTXt" => {
            // compression flag, method, language tag\0, translated keyword\0, text
            let compressed = *rest.first()? == 1;
            let rest = rest.get(2..)?;
            let lang_end = rest.iter().position(|&b| b == 0)?;
            let rest = rest.get(lang_end + 1..)?;
            let tk_end = rest.iter().position(|&b| b == 0)?;
            let text = rest.get(tk_end + 1..)?;
            if compressed {
                inflate(text)?
            } else {
                text.to_vec()
            }
        }
        _ => return None,
    };
    Some((keyword, text))
}

fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, MAX_INFLATED).ok()
}

/// Decodes ImageMagick's raw profile text: `\n<name>\n <length>\n<hex…>`.
fn decode_raw_profile(text: &[u8]) -> Option<Vec<u8>> {
    let mut parts = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let _name = parts.next()?;
    let len_line = std::str::from_utf8(parts.next()?).ok()?;
    let len: usize = len_line.trim().parse().ok()?;
    let mut out = Vec::with_capacity(len.min(MAX_INFLATED));
    let mut high: Option<u8> = None;
    for line in parts {
        for &c in line {
            let nibble = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => continue,
            };
            match high.take() {
                Some(h) => out.push(h << 4 | nibble),
                None => high = Some(nibble),
            }
            if out.len() == len {
                return Some(out);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The data of the first top-level RIFF chunk `id` of a WebP file.
pub(crate) fn riff_chunk(bytes: &[u8], id: [u8; 4]) -> Option<&[u8]> {
    riff_chunks(bytes).find(|(k, _)| *k == id).map(|(_, d)| d)
}

/// The top-level chunks of a RIFF/WebP file: `(id, data)`.
pub(crate) fn riff_chunks(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 12usize;
    std::iter::from_fn(move || {
        let head = bytes.get(pos..pos + 8)?;
        let id = [head[0], head[1], head[2], head[3]];
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        // A truncated last chunk still yields what is there.
        let end = (pos + 8).checked_add(len)?.min(bytes.len());
        let data = bytes.get(pos + 8..end)?;
        pos = pos + 8 + len + (len & 1);
        Some((id, data))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::corpus;

    fn orientation(path: &str) -> Option<u16> {
        let bytes = corpus(path);
        let format = ImageFormat::sniff(&bytes).unwrap();
        read(&bytes, format).and_then(|i| i.orientation)
    }

    /// Orientation values as MANIFEST.md states them (Pillow's reading);
    /// `*_0.jpg` store an invalid 0 (exiftool -n), which reads as none.
    #[test]
    fn orientation_matches_manifest() {
        let cases: &[(&str, Option<u16>)] = &[
            ("orientation/exif_imagemagick_orientation.png", Some(3)),
            ("orientation/hopper_orientation_2.jpg", Some(2)),
            ("orientation/hopper_orientation_3.webp", Some(3)),
            ("orientation/hopper_orientation_5.jpg", Some(5)),
            ("orientation/hopper_orientation_6.webp", Some(6)),
            ("orientation/hopper_orientation_7.jpg", Some(7)),
            ("orientation/hopper_orientation_8.webp", Some(8)),
            ("orientation/Landscape_0.jpg", None),
            ("orientation/Landscape_1.jpg", Some(1)),
            ("orientation/Landscape_2.jpg", Some(2)),
            ("orientation/Landscape_3.jpg", Some(3)),
            ("orientation/Landscape_4.jpg", Some(4)),
            ("orientation/Landscape_5.jpg", Some(5)),
            ("orientation/Landscape_6.jpg", Some(6)),
            ("orientation/Landscape_7.jpg", Some(7)),
            ("orientation/Landscape_8.jpg", Some(8)),
            ("orientation/orientation_rectangle.jpg", Some(8)),
            ("orientation/Portrait_0.jpg", None),
            ("orientation/Portrait_1.jpg", Some(1)),
            ("orientation/Portrait_3.jpg", Some(3)),
            ("orientation/Portrait_6.jpg", Some(6)),
            ("orientation/Portrait_8.jpg", Some(8)),
            ("png/F-exif-chunk-early.png", Some(6)),
            ("webp/flower.webp", Some(1)),
            ("webp/flower2.webp", Some(1)),
        ];
        for &(path, want) in cases {
            assert_eq!(orientation(path), want, "{path}");
        }
    }

    /// Values checked with exiftool 12.57 (Debian libimage-exiftool-perl):
    /// `exiftool -n -s -Make -Model -ModifyDate -DateTimeOriginal -CreateDate
    /// -GPSLatitude -GPSLatitudeRef -GPSLongitude -GPSLongitudeRef -Orientation
    /// -XResolution -YResolution -ResolutionUnit` and `exiftool -v3` for the
    /// raw rationals (GPS 0/1 0/1 0/1, XResolution 300/1).
    #[test]
    fn info_fields_of_a_phone_photo() {
        let info = read(&corpus("jpeg/paris_exif_xmp_icc.jpg"), ImageFormat::Jpeg).unwrap();
        let fields = info_fields(&info);
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("make"), Some("Google"));
        assert_eq!(get("model"), Some("Pixel 4a"));
        assert_eq!(get("dateTime"), Some("2022-08-24T22:07:42Z"));
        assert_eq!(get("dateTimeOriginal"), Some("2022-08-22T20:30:46Z"));
        assert_eq!(get("dateTimeDigitized"), Some("2022-08-22T20:30:46Z"));
        assert_eq!(get("gpsLatitude"), Some("0/1,0/1,0/1"));
        assert_eq!(get("gpsLatitudeRef"), Some("N"));
        assert_eq!(get("gpsLongitude"), Some("0/1,0/1,0/1"));
        assert_eq!(get("gpsLongitudeRef"), Some("E"));
        assert_eq!(get("orientation"), Some("1"));
        assert_eq!(get("resolutionX"), Some("300/1"));
        assert_eq!(get("resolutionY"), Some("300/1"));
        assert_eq!(get("resolutionUnit"), Some("2"));

        // exiftool: Apple / iPhone 13 mini, 2026:01:07 15:20:14, 72 dpi, unit 2.
        let info = read(&corpus("jpeg/apple_gainmap_new.jpg"), ImageFormat::Jpeg).unwrap();
        assert_eq!(info.make.as_deref(), Some("Apple"));
        assert_eq!(info.model.as_deref(), Some("iPhone 13 mini"));
        assert_eq!(info.date_time.as_deref(), Some("2026:01:07 15:20:14"));
        assert_eq!(info.resolution_x, Some((72, 1)));
        assert_eq!(info.resolution_unit, Some(2));
    }

    #[test]
    fn gps_rationals_are_joined_unreduced() {
        let info = ExifInfo {
            gps_latitude: Some(vec![(40, 1), (2, 1), (3675, 100)]),
            gps_latitude_ref: Some("N".into()),
            date_time: Some("2016:08:31 14:57:07".into()),
            date_time_original: Some("0000:00:00 00:00:00".into()),
            ..ExifInfo::default()
        };
        let fields = info_fields(&info);
        assert_eq!(
            fields,
            vec![
                ("dateTime", "2016-08-31T14:57:07Z".to_string()),
                ("gpsLatitude", "40/1,2/1,3675/100".to_string()),
                ("gpsLatitudeRef", "N".to_string()),
            ]
        );
    }

    #[test]
    fn broken_exif_never_fails() {
        for path in [
            "jpeg/invalid-exif.jpg",
            "jpeg/broken-exif-tag.jpg",
            "jpeg/exif-dpi-zerodivision.jpg",
            "jpeg/exif-ifd-offset.jpg",
            "jpeg/BlueSquare_truncated.jpg",
            "jpeg/truncated_jpeg.jpg",
            "jpeg/photoshop-200dpi-broken.jpg",
        ] {
            let _ = read(&corpus(path), ImageFormat::Jpeg);
        }
        // exiftool reads Orientation 1 from these despite the bait.
        assert_eq!(orientation("jpeg/exif-ifd-offset.jpg"), Some(1));
        assert_eq!(orientation("jpeg/exif-dpi-zerodivision.jpg"), Some(1));
        assert_eq!(read(b"\xFF\xD8\xFF", ImageFormat::Jpeg), None);
        assert_eq!(read(b"\x89PNG\r\n\x1a\n", ImageFormat::Png), None);
        assert_eq!(read(b"RIFF\0\0\0\0WEBP", ImageFormat::Webp), None);
    }

    #[test]
    fn raw_profile_hex_is_decoded() {
        let text = b"\nexif\n       8\n49492a0008000000\n";
        assert_eq!(
            decode_raw_profile(text).unwrap(),
            b"II*\0\x08\0\0\0".to_vec()
        );
        assert_eq!(
            iso_date("2016:08:31 14:57:07").unwrap(),
            "2016-08-31T14:57:07Z"
        );
        assert_eq!(iso_date("    :  :     :  :  "), None);
    }
}
