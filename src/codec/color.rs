//! Colour management: ICC-tagged RGB to sRGB, and CMYK/YCCK JPEG pixels to RGB.
//!
//! Uses `qcms` (Firefox's colour management, pure Rust, builds for
//! wasm32-wasip1) with its default `iccv4-enabled` and `cmyk` features.
//! qcms parses profiles defensively, but it has `debug_assert!`s for
//! profile/pixel colour-space mismatches, so this module checks the profile
//! header's colour space itself before asking qcms for a transform.
//!
//! Rendering intent is perceptual (qcms' default; it has no black-point
//! compensation).

use crate::error::{ProcessError, Result};
use crate::raster::{PixelLayout, Raster};
use qcms::{DataType, Intent, Profile, Transform};

/// The data colour space of an ICC profile (header bytes 16–19).
fn color_space(icc: &[u8]) -> Option<&[u8]> {
    icc.get(16..20)
}

/// Converts `raster` in place from the colour space of `icc` to sRGB.
///
/// Returns `Ok(false)` and leaves the pixels alone when there is nothing to
/// do: the profile is not an RGB profile qcms can use (unparsable, grey,
/// CMYK, LUT-less…), or it is sRGB-equivalent (checked by running a 6×6×6
/// colour grid through the transform: every channel within 2 of the input).
/// Alpha is kept as it is. Use it when the output cannot carry the profile
/// (GIF, BMP) or when the profile is dropped on purpose.
pub fn to_srgb(raster: &mut Raster, icc: &[u8]) -> Result<bool> {
    if color_space(icc) != Some(b"RGB ") {
        return Ok(false);
    }
    let Some(input) = Profile::new_from_slice(icc, false) else {
        return Ok(false);
    };
    let output = Profile::new_sRGB();
    let ty = match raster.layout {
        PixelLayout::Rgb8 => DataType::RGB8,
        PixelLayout::Rgba8 => DataType::RGBA8,
    };
    let Some(xfm) = Transform::new(&input, &output, ty, Intent::Perceptual) else {
        return Ok(false);
    };
    let ch = raster.layout.channels();
    if !raster.data.len().is_multiple_of(ch) {
        return Err(ProcessError::internal(
            "pixel buffer is not a whole number of pixels",
        ));
    }
    if is_identity(&xfm, ch) {
        return Ok(false);
    }
    xfm.apply(&mut raster.data);
    Ok(true)
}

/// Whether `xfm` maps a 6×6×6 grid of colours to within 2 of themselves.
fn is_identity(xfm: &Transform, channels: usize) -> bool {
    let steps = [0u8, 51, 102, 153, 204, 255];
    let mut grid = Vec::with_capacity(216 * channels);
    for &r in &steps {
        for &g in &steps {
            for &b in &steps {
                grid.extend_from_slice(&[r, g, b, 255][..channels]);
            }
        }
    }
    let before = grid.clone();
    xfm.apply(&mut grid);
    before.iter().zip(&grid).all(|(&a, &b)| a.abs_diff(b) <= 2)
}

/// Whether a JPEG has an Adobe APP14 segment, i.e. its CMYK/YCCK samples are
/// stored inverted (Photoshop's convention: 0 = full ink).
pub fn jpeg_is_adobe_inverted(bytes: &[u8]) -> bool {
    super::exif::jpeg_segments(bytes).any(|(m, p)| m == 0xEE && p.starts_with(b"Adobe"))
}

/// Converts 4-channel pixels from `jpeg-decoder` (`PixelFormat::CMYK32`) to RGB
/// (3 bytes per pixel; a trailing partial pixel is ignored).
///
/// `jpeg-decoder` complements every stored sample (and turns YCCK into CMYK
/// the same way), so for an Adobe file (`adobe_inverted`, see
/// [`jpeg_is_adobe_inverted`]) its output is the ink amount (0 = no ink), and
/// for a file without APP14 it is the complement of the ink amount (Pillow's
/// and libjpeg's reading: non-Adobe CMYK is stored as plain ink amounts).
///
/// With a CMYK `icc` profile the ink amounts go through it to sRGB (qcms'
/// 17⁴ CLUT); without one, or when qcms cannot use it, the naive formula
/// `R = (255−C)(255−K)/255` is used (as ImageMagick's `-colorspace sRGB`).
pub fn cmyk_to_rgb(cmyk: &[u8], adobe_inverted: bool, icc: Option<&[u8]>) -> Vec<u8> {
    let whole = cmyk.len() / 4 * 4;
    let ink: Vec<u8> = if adobe_inverted {
        cmyk[..whole].to_vec()
    } else {
        cmyk[..whole].iter().map(|&v| 255 - v).collect()
    };
    let mut rgb = vec![0u8; whole / 4 * 3];
    if let Some(xfm) = icc
        .filter(|icc| color_space(icc) == Some(b"CMYK"))
        .and_then(|icc| Profile::new_from_slice(icc, false))
        .and_then(|input| {
            Transform::new_to(
                &input,
                &Profile::new_sRGB(),
                DataType::CMYK,
                DataType::RGB8,
                Intent::Perceptual,
            )
        })
    {
        xfm.convert(&ink, &mut rgb);
        return rgb;
    }
    for (px, out) in ink.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
        let k = 255 - u32::from(px[3]);
        for (o, &c) in out.iter_mut().zip(&px[..3]) {
            *o = (((255 - u32::from(c)) * k + 127) / 255) as u8;
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{self, metadata, ImageFormat};

    use crate::test_support::corpus;

    fn mean_rgb(rgb: &[u8], channels: usize) -> [f64; 3] {
        let n = (rgb.len() / channels) as f64;
        let mut m = [0f64; 3];
        for px in rgb.chunks_exact(channels) {
            for c in 0..3 {
                m[c] += f64::from(px[c]);
            }
        }
        m.map(|v| v / n)
    }

    fn assert_close(got: [f64; 3], want: [f64; 3], tol: f64, what: &str) {
        for c in 0..3 {
            assert!(
                (got[c] - want[c]).abs() <= tol,
                "{what}: mean {got:?}, reference {want:?} (±{tol})"
            );
        }
    }

    /// Decodes a CMYK JPEG with jpeg-decoder and converts it like the pipeline would.
    fn cmyk_file_to_rgb(path: &str) -> Vec<u8> {
        let bytes = corpus(path);
        let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
        let px = d.decode().unwrap();
        assert_eq!(
            d.info().unwrap().pixel_format,
            jpeg_decoder::PixelFormat::CMYK32
        );
        let icc = metadata::extract(&bytes, ImageFormat::Jpeg).icc;
        cmyk_to_rgb(&px, jpeg_is_adobe_inverted(&bytes), icc.as_deref())
    }

    /// References: ImageMagick 6.9.11 (Debian), mean of
    /// `convert F -colorspace sRGB -depth 8 rgb:-` (naive CMYK formula) for the
    /// profile-less files, and of `convert F -profile
    /// /usr/share/color/icc/ghostscript/srgb.icc` (lcms, the embedded SWOP
    /// profile) for cmyk-icc.jpg. Tolerance ±1 per channel mean for the naive
    /// formula (measured: within 0.4), ±3 for the ICC path (measured: 2;
    /// qcms perceptual 17⁴ CLUT vs lcms).
    #[test]
    fn cmyk_jpegs_match_imagemagick() {
        assert!(jpeg_is_adobe_inverted(&corpus("jpeg/jpg-cmyk-1.jpg")));
        assert!(jpeg_is_adobe_inverted(&corpus("jpeg/four_components.jpg")));
        assert!(!jpeg_is_adobe_inverted(&corpus("jpeg/hopper.jpg")));

        let rgb = cmyk_file_to_rgb("jpeg/jpg-cmyk-1.jpg");
        assert_close(mean_rgb(&rgb, 3), [127.3, 127.2, 43.7], 1.0, "jpg-cmyk-1");
        let rgb = cmyk_file_to_rgb("jpeg/four_components.jpg");
        assert_close(
            mean_rgb(&rgb, 3),
            [209.2, 55.2, 17.6],
            3.0,
            "four_components",
        );
        let rgb = cmyk_file_to_rgb("jpeg/cmyk-icc.jpg");
        assert_close(mean_rgb(&rgb, 3), [149.0, 212.0, 212.0], 3.0, "cmyk-icc");
    }

    #[test]
    fn naive_formula_and_inversion() {
        // jpeg-decoder output for an Adobe file is ink: no ink = white.
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], true, None), vec![255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 255], true, None), vec![0, 0, 0]);
        assert_eq!(cmyk_to_rgb(&[255, 0, 0, 0], true, None), vec![0, 255, 255]);
        // Without APP14 the same bytes mean the opposite.
        assert_eq!(
            cmyk_to_rgb(&[255, 255, 255, 255], false, None),
            vec![255, 255, 255]
        );
        // A partial pixel is dropped; a non-CMYK profile falls back to the formula.
        let srgb_icc = metadata::extract(&corpus("png/icc_profile.png"), ImageFormat::Png).icc;
        assert_eq!(
            cmyk_to_rgb(&[0, 0, 0, 0, 9], true, srgb_icc.as_deref()),
            vec![255, 255, 255]
        );
    }

    /// apple_gainmap_new.jpg carries Display P3 (exiftool). References from
    /// ImageMagick 6.9.11 + lcms with ghostscript's srgb.icc: the image mean of
    /// `convert 'F[0]' -profile srgb.icc -depth 8 rgb:-` (a near-grey photo:
    /// ±1, measured 0.6), and P3 (200,100,50) → sRGB (214,92,30) (±2).
    #[test]
    fn display_p3_is_converted() {
        let bytes = corpus("jpeg/apple_gainmap_new.jpg");
        let info = codec::probe(&bytes).unwrap();
        let mut raster = codec::decode(&bytes, &info, None).unwrap();
        let before = mean_rgb(&raster.data, 3);
        let icc = metadata::extract(&bytes, ImageFormat::Jpeg).icc.unwrap();
        assert!(to_srgb(&mut raster, &icc).unwrap());
        let after = mean_rgb(&raster.data, 3);
        assert_ne!(before, after);
        assert_close(after, P3_REFERENCE, 1.0, "Display P3 -> sRGB");

        let mut px = Raster::new(1, 1, PixelLayout::Rgb8, vec![200, 100, 50]).unwrap();
        assert!(to_srgb(&mut px, &icc).unwrap());
        for (got, want) in px.data.iter().zip([214u8, 92, 30]) {
            assert!(got.abs_diff(want) <= 2, "{:?}", px.data);
        }

        // A pure P3 red is outside sRGB: it clips to (255, ~0, ~0).
        let mut red = Raster::new(1, 1, PixelLayout::Rgba8, vec![255, 0, 0, 77]).unwrap();
        assert!(to_srgb(&mut red, &icc).unwrap());
        assert!(
            red.data[0] == 255 && red.data[1] < 20 && red.data[2] < 20,
            "{:?}",
            red.data
        );
        assert_eq!(red.data[3], 77, "alpha kept");
    }

    const P3_REFERENCE: [f64; 3] = [87.0, 86.8, 85.8];

    #[test]
    fn srgb_and_unusable_profiles_are_left_alone() {
        let mut r = Raster::filled(4, 4, [10, 200, 30, 255]);
        let orig = r.clone();
        for path in ["png/icc_profile.png", "png/F-exif-chunk-early.png"] {
            let icc = metadata::extract(&corpus(path), ImageFormat::Png)
                .icc
                .unwrap();
            assert!(!to_srgb(&mut r, &icc).unwrap(), "{path}");
        }
        let cmyk = metadata::extract(&corpus("jpeg/cmyk-icc.jpg"), ImageFormat::Jpeg)
            .icc
            .unwrap();
        let gray = metadata::extract(&corpus("jpeg/grayscale-icc.jpg"), ImageFormat::Jpeg)
            .icc
            .unwrap();
        for icc in [&cmyk[..], &gray[..], b"garbage", &[]] {
            assert!(!to_srgb(&mut r, icc).unwrap());
        }
        assert_eq!(r, orig);
    }
}
