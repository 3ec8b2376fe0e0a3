//! Metadata blocks (EXIF, ICC profile, XMP): taking them out of a source image
//! and putting them into a freshly encoded one.
//!
//! The encoders write bare pixels, so without this module every output loses
//! the source's metadata. The pipeline extracts it once, may patch the EXIF
//! Orientation to 1 after `auto-orient` ([`set_orientation`], so viewers do not
//! rotate the result a second time), and attaches what it keeps.
//!
//! # `strip` (spec §4.18)
//!
//! `image/strip` drops **EXIF, XMP and comments** (JPEG COM, PNG text chunks;
//! the encoders never write comments, so dropping them means not copying
//! them). **CLONE DECISION: the ICC profile is kept under `strip`**, as
//! libvips' `strip` keeps it: the pixels are still encoded in the source's
//! colour space, and dropping the profile would shift the colours of every
//! non-sRGB image (Display P3 phone photos, Adobe RGB exports). A caller that
//! must drop the profile too (or an output format that cannot carry one,
//! GIF/BMP) converts the pixels first with [`super::color::to_srgb`].
//!
//! Reading is hand-written (marker/chunk walks that stop at the first scan or
//! at truncation, so a broken file yields what it has); writing uses
//! `img-parts`, on our own encoder output only.

use super::exif::{self, jpeg_segments, png_chunks, png_text, riff_chunks};
use super::ImageFormat;
use crate::error::{ProcessError, Result};
use img_parts::{Bytes, ImageEXIF, ImageICC};

/// The metadata blocks of an image, each as raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Bare TIFF-structured EXIF (no `Exif\0\0` prefix).
    pub(crate) exif: Option<Vec<u8>>,
    /// The ICC profile, reassembled and decompressed.
    pub(crate) icc: Option<Vec<u8>>,
    /// The XMP packet (XML text).
    pub(crate) xmp: Option<Vec<u8>>,
}

impl Metadata {
    /// Whether no block is present.
    pub fn is_empty(&self) -> bool {
        self.exif.is_none() && self.icc.is_none() && self.xmp.is_none()
    }

    /// What `image/strip` keeps: the ICC profile only (see the module doc).
    pub fn stripped(&self) -> Metadata {
        Metadata {
            exif: None,
            icc: self.icc.clone(),
            xmp: None,
        }
    }
}

const JPEG_XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const JPEG_ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";
const PNG_XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
/// Largest payload of one JPEG segment.
const JPEG_SEGMENT_MAX: usize = 65533;

/// The EXIF, ICC and XMP blocks of `bytes` (JPEG, PNG or WebP; other formats
/// give an empty [`Metadata`]).
pub fn extract(bytes: &[u8], format: ImageFormat) -> Metadata {
    let exif = exif::find_raw(bytes, format);
    let (icc, xmp) = match format {
        ImageFormat::Jpeg => (jpeg_icc(bytes), jpeg_xmp(bytes)),
        ImageFormat::Png => png_icc_xmp(bytes),
        ImageFormat::Webp => (
            exif::riff_chunk(bytes, *b"ICCP").map(<[u8]>::to_vec),
            exif::riff_chunk(bytes, *b"XMP ").map(<[u8]>::to_vec),
        ),
        _ => (None, None),
    };
    Metadata { exif, icc, xmp }
}

/// Reassembles a JPEG's APP2 `ICC_PROFILE` segments; like libjpeg, a profile
/// with missing, duplicated or inconsistently numbered segments is ignored.
fn jpeg_icc(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<(u8, u8, &[u8])> = jpeg_segments(bytes)
        .filter(|(m, p)| *m == 0xE2 && p.starts_with(JPEG_ICC_PREFIX))
        .filter_map(|(_, p)| {
            let seq = *p.get(12)?;
            let count = *p.get(13)?;
            Some((seq, count, p.get(14..)?))
        })
        .collect();
    parts.sort_by_key(|&(seq, _, _)| seq);
    let n = parts.len();
    let valid = n > 0
        && parts
            .iter()
            .enumerate()
            .all(|(i, &(seq, count, _))| usize::from(seq) == i + 1 && usize::from(count) == n);
    valid.then(|| parts.iter().flat_map(|p| p.2.iter().copied()).collect())
}

fn jpeg_xmp(bytes: &[u8]) -> Option<Vec<u8>> {
    jpeg_segments(bytes)
        .find(|(m, p)| *m == 0xE1 && p.starts_with(JPEG_XMP_PREFIX))
        .and_then(|(_, p)| p.get(JPEG_XMP_PREFIX.len()..))
        .map(<[u8]>::to_vec)
}

fn png_icc_xmp(bytes: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let (mut icc, mut xmp) = (None, None);
    for (kind, data) in png_chunks(bytes) {
        match &kind {
            b"iCCP" if icc.is_none() => {
                // name\0, compression method 0, zlib stream
                icc = data
                    .iter()
                    .position(|&b| b == 0)
                    .and_then(|nul| data.get(nul + 2..))
                    .and_then(|z| {
                        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
                            z,
                            exif::MAX_INFLATED,
                        )
                        .ok()
                    });
            }
            b"iTXt" if xmp.is_none() => {
                if let Some((keyword, text)) = png_text(kind, data) {
                    if keyword == PNG_XMP_KEYWORD {
                        xmp = Some(text);
                    }
                }
            }
            _ => {}
        }
    }
    (icc, xmp)
}

/// Inserts `meta` into `encoded`, a JPEG, PNG or WebP this crate just encoded
/// (which carries no metadata of its own). Other formats are returned as they
/// are. A block the container cannot hold is left out: EXIF over one JPEG
/// segment (64 KiB), XMP over one JPEG segment (extended XMP is not written).
pub fn attach(encoded: Vec<u8>, format: ImageFormat, meta: &Metadata) -> Result<Vec<u8>> {
    if meta.is_empty() {
        return Ok(encoded);
    }
    let bad = |e: img_parts::Error| ProcessError::internal(format!("metadata: {e}"));
    let bytes = Bytes::from(encoded);
    let icc = meta.icc.clone().map(Bytes::from);
    let exif = meta.exif.clone().map(Bytes::from);
    let out = match format {
        ImageFormat::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(bytes).map_err(bad)?;
            jpeg.set_icc_profile(icc);
            jpeg.set_exif(exif);
            if let Some(xmp) = &meta.xmp {
                if JPEG_XMP_PREFIX.len() + xmp.len() <= JPEG_SEGMENT_MAX {
                    let mut contents = JPEG_XMP_PREFIX.to_vec();
                    contents.extend_from_slice(xmp);
                    let segments = jpeg.segments_mut();
                    // After SOI's APPn segments (JFIF, EXIF, ICC), before the tables.
                    let pos = segments
                        .iter()
                        .position(|s| !(0xE0..=0xEF).contains(&s.marker()))
                        .unwrap_or(segments.len());
                    segments.insert(
                        pos,
                        img_parts::jpeg::JpegSegment::new_with_contents(
                            0xE1,
                            Bytes::from(contents),
                        ),
                    );
                }
            }
            jpeg.encoder().bytes()
        }
        ImageFormat::Png => {
            let mut png = img_parts::png::Png::from_bytes(bytes).map_err(bad)?;
            png.set_icc_profile(icc);
            png.set_exif(exif);
            if let Some(xmp) = &meta.xmp {
                // keyword\0, uncompressed, method 0, no language, no translation
                let mut contents = PNG_XMP_KEYWORD.to_vec();
                contents.extend_from_slice(&[0, 0, 0, 0, 0]);
                contents.extend_from_slice(xmp);
                let chunks = png.chunks_mut();
                let pos = chunks.len().min(1);
                chunks.insert(
                    pos,
                    img_parts::png::PngChunk::new(*b"iTXt", Bytes::from(contents)),
                );
            }
            png.encoder().bytes()
        }
        ImageFormat::Webp => {
            let mut webp = img_parts::webp::WebP::from_bytes(bytes).map_err(bad)?;
            if let Some(xmp) = &meta.xmp {
                webp.chunks_mut().push(img_parts::riff::RiffChunk::new(
                    *b"XMP ",
                    img_parts::riff::RiffContent::Data(Bytes::from(xmp.clone())),
                ));
            }
            // Each setter re-infers VP8X (created with every flag when missing).
            webp.set_icc_profile(icc);
            webp.set_exif(exif);
            let mut out = webp.encoder().bytes().to_vec();
            fix_vp8x_flags(&mut out);
            return Ok(out);
        }
        _ => return Ok(bytes.to_vec()),
    };
    Ok(out.to_vec())
}

/// Sets the ICC, EXIF and XMP flags of a WebP's VP8X chunk
/// from the chunks present (img-parts leaves the XMP flag alone on an
/// existing VP8X).
fn fix_vp8x_flags(webp: &mut [u8]) {
    let mut flags = 0u8;
    let mut vp8x_at = None;
    let mut pos = 12usize;
    for (id, data) in riff_chunks(webp) {
        match &id {
            b"VP8X" => vp8x_at = Some(pos + 8),
            b"ICCP" => flags |= 0x20,
            b"EXIF" => flags |= 0x08,
            b"XMP " => flags |= 0x04,
            _ => {}
        }
        pos += 8 + data.len() + (data.len() & 1);
    }
    if let Some(b) = vp8x_at.and_then(|at| webp.get_mut(at)) {
        *b = (*b & !(0x20 | 0x08 | 0x04)) | flags;
    }
}

/// Returns `exif` (bare TIFF) with its IFD0 Orientation tag set to `value`,
/// patched in place so nothing else moves. When the tag is absent or the TIFF
/// structure cannot be walked, `exif` is returned unchanged (absent means
/// orientation 1 already).
pub fn set_orientation(exif: &[u8], value: u16) -> Vec<u8> {
    let mut out = exif.to_vec();
    if let Some(at) = orientation_value_offset(exif) {
        let little = exif.starts_with(b"II");
        let v = if little {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        if let Some(slot) = out.get_mut(at..at + 2) {
            slot.copy_from_slice(&v);
        }
    }
    out
}

/// Where the SHORT value of IFD0's Orientation (0x0112) entry is stored.
fn orientation_value_offset(tiff: &[u8]) -> Option<usize> {
    let little = if tiff.starts_with(b"II*\0") {
        true
    } else if tiff.starts_with(b"MM\0*") {
        false
    } else {
        return None;
    };
    let u16_at = |at: usize| {
        let b = tiff.get(at..at + 2)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| {
        let b = tiff.get(at..at + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let ifd = u32_at(4)? as usize;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd + 2 + 12 * i;
        let tag = u16_at(entry)?;
        let kind = u16_at(entry + 2)?;
        // SHORT (3), count 1: the value sits in the first two bytes of the field.
        (tag == 0x0112 && kind == 3 && u32_at(entry + 4)? == 1 && tiff.len() >= entry + 10)
            .then_some(entry + 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::raster::{PixelLayout, Raster};

    use crate::test_support::corpus;

    fn small(layout: PixelLayout) -> Raster {
        let ch = layout.channels();
        let data = (0..16 * 12 * ch).map(|i| (i * 7 % 256) as u8).collect();
        Raster::new(16, 12, layout, data).unwrap()
    }

    fn round_trip(source: &str, format: ImageFormat, layout: PixelLayout) -> Metadata {
        let bytes = corpus(source);
        let src_format = ImageFormat::sniff(&bytes).unwrap();
        let meta = extract(&bytes, src_format);
        let encoded = codec::encode(
            &small(layout),
            format,
            &codec::EncodeOptions::with_quality(80),
        )
        .unwrap();
        let with = attach(encoded, format, &meta).unwrap();
        assert_eq!(extract(&with, format), meta, "{source} -> {format:?}");
        let img = image::load_from_memory(&with).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (16, 12),
            "{source} -> {format:?}"
        );
        meta
    }

    #[test]
    fn extracts_all_three_blocks() {
        // exiftool: ICC 596 B, EXIF and XMP present.
        let m = extract(&corpus("jpeg/paris_exif_xmp_icc.jpg"), ImageFormat::Jpeg);
        assert_eq!(m.icc.as_ref().map(Vec::len), Some(596));
        assert!(
            m.exif.as_ref().unwrap().starts_with(b"II*\0")
                || m.exif.as_ref().unwrap().starts_with(b"MM\0*")
        );
        assert!(
            m.xmp.as_ref().unwrap().starts_with(b"<?xpacket")
                || m.xmp.as_ref().unwrap().starts_with(b"<x:xmpmeta")
        );
        // 7 APP2 segments, 399788 B (MANIFEST).
        let m = extract(&corpus("jpeg/icc_profile_big.jpg"), ImageFormat::Jpeg);
        assert_eq!(m.icc.map(|i| i.len()), Some(399_788));
        // Out-of-order segments are reassembled; a bad count drops the profile.
        let m = extract(&corpus("jpeg/icc_chunk_order.jpeg"), ImageFormat::Jpeg);
        assert_eq!(m.icc.map(|i| i.len()), Some(254));
        assert_eq!(
            extract(
                &corpus("jpeg/icc_chunk_count_mismatch.jpeg"),
                ImageFormat::Jpeg
            )
            .icc,
            None
        );
        let m = extract(&corpus("png/icc_profile.png"), ImageFormat::Png);
        assert_eq!(m.icc.map(|i| i.len()), Some(3144));
        let m = extract(&corpus("webp/flower2.webp"), ImageFormat::Webp);
        assert_eq!(m.icc.map(|i| i.len()), Some(3144));
        assert!(m.exif.is_some() && m.xmp.is_some());
    }

    #[test]
    fn attach_round_trips_in_every_format() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
            for layout in [PixelLayout::Rgb8, PixelLayout::Rgba8] {
                let m = round_trip("jpeg/paris_exif_xmp_icc.jpg", format, layout);
                assert!(m.exif.is_some() && m.icc.is_some() && m.xmp.is_some());
                round_trip("webp/flower2.webp", format, layout);
                round_trip("png/F-exif-chunk-early.png", format, layout);
                round_trip("jpeg/icc_profile_big.jpg", format, layout);
            }
        }
    }

    #[test]
    fn webp_vp8x_flags_follow_chunks() {
        let meta = extract(&corpus("webp/flower2.webp"), ImageFormat::Webp);
        let encoded = codec::encode(
            &small(PixelLayout::Rgb8),
            ImageFormat::Webp,
            &codec::EncodeOptions::with_quality(80),
        )
        .unwrap();
        let with = attach(encoded, ImageFormat::Webp, &meta).unwrap();
        let vp8x = exif::riff_chunk(&with, *b"VP8X").unwrap();
        assert_eq!(vp8x[0] & 0x2C, 0x2C, "ICC, EXIF and XMP flags");
        // strip keeps the ICC profile only.
        let encoded = codec::encode(
            &small(PixelLayout::Rgb8),
            ImageFormat::Webp,
            &codec::EncodeOptions::with_quality(80),
        )
        .unwrap();
        let with = attach(encoded, ImageFormat::Webp, &meta.stripped()).unwrap();
        let back = extract(&with, ImageFormat::Webp);
        assert_eq!(
            back,
            Metadata {
                icc: meta.icc.clone(),
                ..Metadata::default()
            }
        );
        assert_eq!(exif::riff_chunk(&with, *b"VP8X").unwrap()[0] & 0x2C, 0x20);
    }

    #[test]
    fn orientation_is_patched_in_place() {
        for (path, format) in [
            ("orientation/Landscape_6.jpg", ImageFormat::Jpeg),
            ("orientation/hopper_orientation_8.webp", ImageFormat::Webp),
            ("png/F-exif-chunk-early.png", ImageFormat::Png),
            (
                "orientation/exif_imagemagick_orientation.png",
                ImageFormat::Png,
            ),
        ] {
            let raw = extract(&corpus(path), format).exif.unwrap();
            let patched = set_orientation(&raw, 1);
            assert_eq!(patched.len(), raw.len());
            assert_eq!(
                exif::parse(patched.clone()).unwrap().orientation,
                Some(1),
                "{path}"
            );
            let diff = raw.iter().zip(&patched).filter(|(a, b)| a != b).count();
            assert_eq!(diff, 1, "{path}: only the value byte changes");
        }
        // Without the tag (or garbage), nothing changes.
        assert_eq!(set_orientation(b"junk", 1), b"junk".to_vec());
    }

    #[test]
    fn empty_metadata_leaves_output_alone() {
        let encoded = codec::encode(
            &small(PixelLayout::Rgb8),
            ImageFormat::Png,
            &codec::EncodeOptions::with_quality(80),
        )
        .unwrap();
        assert_eq!(
            attach(encoded.clone(), ImageFormat::Png, &Metadata::default()).unwrap(),
            encoded
        );
        assert!(extract(b"garbage", ImageFormat::Jpeg).is_empty());
    }

    /// Every corpus file (hostile ones included): reading metadata, EXIF and
    /// colour profiles never panics.
    #[test]
    fn whole_corpus_is_read_without_panic() {
        let root = crate::test_support::corpus_dir();
        let mut seen = 0;
        for dir in ["jpeg", "png", "webp", "orientation", "hostile", "photos"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap();
                for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
                    let meta = extract(&bytes, format);
                    let _ = exif::read(&bytes, format);
                    if let Some(raw) = &meta.exif {
                        let _ = set_orientation(raw, 1);
                    }
                    if let Some(icc) = &meta.icc {
                        let mut px = Raster::filled(2, 1, [200, 100, 50, 255]);
                        let _ = crate::codec::color::to_srgb(&mut px, icc);
                        let _ = crate::codec::color::cmyk_to_rgb(&[1, 2, 3, 4], true, Some(icc));
                    }
                }
                seen += 1;
            }
        }
        assert!(seen > 100, "corpus not found under {}", root.display());
    }
}
