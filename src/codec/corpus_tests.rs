//! The shared test corpus (`../shared/corpus`, see its `MANIFEST.md`) through
//! [`probe`], the source limits and [`decode`] (and [`decode_animation`] for
//! animations), asserting the manifest's expectation for every BMP, GIF, AVIF
//! and HEIC file and the hostile files of those formats.
//!
//! `Decodes(w, h, frames)` = must decode at that size (Pillow's reading unless
//! noted); `Rejected` = must fail with a 4xx error; `Either` = may decode or
//! fail with a 4xx error. A panic or a 5xx error fails the test in every case.

use super::animation::decode_animation;
use super::{decode, probe, SourceInfo};
use crate::error::Result;
use crate::pipeline::check_source_limits;
use Expect::*;

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Width, height (px) and frame count.
    Decodes(u32, u32, u32),
    Rejected,
    Either,
}

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");

/// Frames decoded as an animation in this test at most (memory).
const MAX_TEST_ANIMATION_FRAMES: u32 = 64;

#[rustfmt::skip]
const BMP: &[(&str, Expect)] = &[
    ("bmp/Bad_height.bmp", Rejected),
    ("bmp/V5_A8_R8_G8_B8_Rgb.bmp", Decodes(32, 32, 1)),
    ("bmp/bmpsuite_b_badbitcount.bmp", Either),
    ("bmp/bmpsuite_b_baddens1.bmp", Either),
    ("bmp/bmpsuite_b_badfilesize.bmp", Either),
    ("bmp/bmpsuite_b_badheadersize.bmp", Either),
    ("bmp/bmpsuite_b_badplanes.bmp", Either),
    ("bmp/bmpsuite_b_badrle4.bmp", Either),
    ("bmp/bmpsuite_b_badrle4bis.bmp", Either),
    ("bmp/bmpsuite_b_badrlebis.bmp", Either),
    ("bmp/bmpsuite_b_badwidth.bmp", Either),
    ("bmp/bmpsuite_b_pal8badindex.bmp", Either),
    ("bmp/bmpsuite_b_rgb16-880.bmp", Either),
    ("bmp/bmpsuite_b_shortfile.bmp", Either),
    ("bmp/bmpsuite_g_pal1.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal1wb.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal4gs.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal4rle.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal8.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal8nonsquare.bmp", Decodes(127, 32, 1)),
    ("bmp/bmpsuite_g_pal8os2.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal8topdown.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal8v5.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_pal8w124.bmp", Decodes(124, 61, 1)),
    ("bmp/bmpsuite_g_pal8w126.bmp", Decodes(126, 63, 1)),
    ("bmp/bmpsuite_g_rgb16-565pal.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_rgb16.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_rgb24.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_g_rgb32.bmp", Decodes(127, 64, 1)),
    // Pillow cannot read it; bmpsuite says 127x64.
    ("bmp/bmpsuite_g_rgb32bf.bmp", Decodes(127, 64, 1)),
    ("bmp/bmpsuite_q_pal1huffmsb.bmp", Either),
    ("bmp/bmpsuite_q_pal2.bmp", Either),
    ("bmp/bmpsuite_q_pal4rlecut.bmp", Either),
    ("bmp/bmpsuite_q_pal4rletrns.bmp", Either),
    ("bmp/bmpsuite_q_pal8os2-hs.bmp", Either),
    ("bmp/bmpsuite_q_pal8os2sp.bmp", Either),
    ("bmp/bmpsuite_q_pal8os2v2-16.bmp", Either),
    ("bmp/bmpsuite_q_pal8os2v2-sz.bmp", Either),
    ("bmp/bmpsuite_q_pal8oversizepal.bmp", Either),
    ("bmp/bmpsuite_q_pal8rlecut.bmp", Either),
    ("bmp/bmpsuite_q_rgb16-231.bmp", Either),
    ("bmp/bmpsuite_q_rgb16faketrns.bmp", Either),
    ("bmp/bmpsuite_q_rgb24jpeg.bmp", Either),
    ("bmp/bmpsuite_q_rgb24lprof.bmp", Either),
    ("bmp/bmpsuite_q_rgb24prof.bmp", Either),
    ("bmp/bmpsuite_q_rgb24prof2.bmp", Either),
    ("bmp/bmpsuite_q_rgb32-111110.bmp", Either),
    ("bmp/bmpsuite_q_rgb32-xbgr.bmp", Either),
    ("bmp/bmpsuite_q_rgb32fakealpha.bmp", Either),
    ("bmp/bmpsuite_q_rgba16-1924.bmp", Either),
    ("bmp/bmpsuite_q_rgba16-5551.bmp", Either),
    ("bmp/bmpsuite_q_rgba32-1.bmp", Either),
    ("bmp/bmpsuite_q_rgba32-2.bmp", Either),
    ("bmp/bmpsuite_q_rgba32-81284.bmp", Either),
    ("bmp/bmpsuite_q_rgba32abf.bmp", Either),
    ("bmp/bmpsuite_q_rgba64.bmp", Either),
    ("bmp/bmpsuite_x_ba-bm.bmp", Either),
    ("bmp/rle_overflow.bmp", Rejected),
];

#[rustfmt::skip]
const GIF: &[(&str, Expect)] = &[
    ("gif/2x2.gif", Decodes(2, 2, 1)),
    ("gif/alpha_gif_a.gif", Decodes(256, 256, 1)),
    ("gif/animated.gif", Decodes(100, 100, 2)),
    ("gif/any-disposal.gif", Decodes(32, 32, 5)),
    ("gif/background_outside_palette.gif", Decodes(1, 1, 2)),
    ("gif/beacon.gif", Decodes(6, 6, 2)),
    ("gif/beacon_xmp.gif", Decodes(6, 6, 2)),
    ("gif/border_touching_layers.gif", Decodes(100, 100, 2)),
    ("gif/chi.gif", Decodes(320, 240, 31)),
    ("gif/comment_after_last_frame.gif", Decodes(1, 1, 2)),
    ("gif/dispose_bgnd.gif", Decodes(100, 100, 5)),
    ("gif/dispose_bgnd_rgba.gif", Decodes(100, 100, 5)),
    ("gif/dispose_none.gif", Decodes(100, 100, 5)),
    ("gif/dispose_prev_first_frame.gif", Decodes(100, 50, 2)),
    ("gif/duplicate_frame.gif", Decodes(10, 10, 3)),
    ("gif/duplicate_number_of_loops.gif", Decodes(1, 1, 2)),
    ("gif/first_frame_transparency.gif", Decodes(75, 50, 1)),
    ("gif/gifplayer-muybridge.gif", Decodes(472, 298, 380)),
    ("gif/hopper.gif", Decodes(128, 128, 1)),
    ("gif/hopper_zero_comment_subblocks.gif", Decodes(128, 128, 1)),
    ("gif/interlaced.gif", Decodes(540, 330, 1)),
    ("gif/issue-117-out-of-range.gif", Rejected),
    ("gif/issue-208-block-type.gif", Either),
    ("gif/issue-96-small-codesize-2.gif", Rejected),
    ("gif/issue_1455_oversized.gif", Either),
    ("gif/issue_1455_undersized.gif", Decodes(100, 100, 2)),
    ("gif/large-gif-anim-full-frame-replace.gif", Decodes(1000, 1000, 2)),
    ("gif/moon_impact.gif", Decodes(116, 100, 14)),
    ("gif/multiple_comments.gif", Decodes(100, 100, 5)),
    ("gif/no_palette.gif", Either),
    ("gif/set_hsts.gif", Decodes(1, 1, 1)),
    // A second "GIF89a..." file follows the first frame: like image-gif we stop
    // at the unknown block (Pillow skips the junk and finds a second frame).
    ("gif/test_extents_transparency.gif", Decodes(100, 100, 1)),
    ("gif/transparent.gif", Decodes(200, 150, 1)),
    ("gif/transparent_dispose.gif", Decodes(3, 1, 3)),
    ("hostile/decompression_bomb.gif", Rejected),
    ("hostile/issue-101-infinite-empty-loop.gif", Rejected),
    ("hostile/random_bytes.gif", Rejected),
    ("hostile/zero_width.gif", Rejected),
];

#[rustfmt::skip]
const AVIF: &[(&str, Expect)] = &[
    // Sizes are after irot (Pillow reports the coded size and an Exif orientation).
    ("avif/Irvine_CA.avif", Decodes(480, 640, 1)),
    ("avif/Ronda_rotate90.avif", Decodes(1080, 1920, 1)),
    ("avif/abc_color_irot_alpha_irot.avif", Decodes(256, 512, 1)),
    ("avif/alpha_noispe.avif", Either),
    ("avif/bbb_alpha_inverted.avif", Decodes(3840, 2160, 1)),
    ("avif/clap_irot_imir_non_essential.avif", Either),
    ("avif/color_grid_alpha_nogrid.avif", Decodes(80, 80, 1)),
    // Image sequence: the primary still image (first-frame policy).
    ("avif/colors-animated-8bpc.avif", Either),
    ("avif/colors_hdr_p3.avif", Decodes(200, 200, 1)),
    ("avif/colors_sdr_srgb.avif", Decodes(200, 200, 1)),
    ("avif/draw_points_idat.avif", Decodes(33, 11, 1)),
    ("avif/draw_points_idat_metasize0.avif", Either),
    ("avif/exif.avif", Decodes(512, 512, 1)),
    ("avif/hopper.avif", Decodes(128, 128, 1)),
    ("avif/icc_profile.avif", Decodes(57, 57, 1)),
    ("avif/kodim03_yuv420_8bpc.avif", Decodes(768, 512, 1)),
    ("avif/paris_icc_exif_xmp.avif", Decodes(403, 302, 1)),
    ("avif/plum-blossom-small.profile0.8bpc.yuv420.alpha-full.avif", Either),
    ("avif/plum-blossom-small.profile1.8bpc.yuv444.alpha-full.avif", Either),
    ("avif/plum-blossom-small.profile2.10bpc.yuv422.alpha-limited.monochrome.avif", Either),
    ("avif/red-at-12-oclock-with-color-profile-8bpc.avif", Decodes(800, 800, 1)),
    ("avif/red-at-12-oclock-with-color-profile-lossy.avif", Decodes(800, 800, 1)),
    ("avif/rot0mir0.avif", Decodes(640, 427, 1)),
    ("avif/rot1mir0.avif", Decodes(640, 427, 1)),
    ("avif/rot1mir1.avif", Decodes(640, 427, 1)),
    ("avif/rot2mir1.avif", Decodes(640, 427, 1)),
    ("avif/rot3mir0.avif", Decodes(640, 427, 1)),
    ("avif/sofa_grid1x5_420.avif", Decodes(1024, 770, 1)),
    ("avif/sofa_grid1x5_420_dimg_repeat.avif", Rejected),
    ("avif/star-12bpc.avifs", Decodes(159, 159, 1)),
    ("avif/star-8bpc-with-alpha.avifs", Either),
    ("avif/star-8bpc.avifs", Decodes(159, 159, 1)),
    ("avif/transparency.avif", Decodes(64, 64, 1)),
    ("avif/unsupported_gainmap_version.avif", Decodes(100, 100, 1)),
    ("avif/white_1x1.avif", Decodes(1, 1, 1)),
    ("hostile/ftyp_avif_then_random.avif", Rejected),
    ("hostile/poc_b_506387278.avif", Either),
    ("hostile/zero_bytes.avif", Rejected),
];

#[rustfmt::skip]
const HEIC: &[(&str, Expect)] = &[
    ("heic/LA_8__29x100.heif", Decodes(29, 100, 1)),
    ("heic/L_12__29x100.heif", Decodes(29, 100, 1)),
    ("heic/L_8__29x100.heif", Decodes(29, 100, 1)),
    ("heic/L_exif_xmp_iptc.heic", Decodes(64, 64, 1)),
    ("heic/L_xmp.heif", Decodes(32, 32, 1)),
    ("heic/RGBA_8__128x128.heif", Decodes(128, 128, 1)),
    ("heic/RGB_10__29x100.heif", Decodes(29, 100, 1)),
    ("heic/RGB_8__29x100.heif", Decodes(29, 100, 1)),
    ("heic/RGB_8_chroma444.heif", Decodes(29, 100, 1)),
    ("heic/corrupted.heic", Rejected),
    ("heic/example.heic", Decodes(1280, 854, 1)),
    ("heic/image.heic", Decodes(256, 256, 1)),
    // The primary item is a 1197x1227 grid, which heifer decodes; libheif
    // (Pillow: 564x870) fails on it and falls back to another image.
    ("heic/invalid_id.heic", Decodes(1197, 1227, 1)),
    ("heic/pug.heic", Decodes(4032, 3024, 1)),
    ("heic/truncated.heic", Rejected),
    ("heic/zPug_3.heic", Decodes(64, 64, 1)),
    ("hostile/random_bytes.heic", Rejected),
];

/// Probe, limits, decode, and the animation decode when there are frames.
fn run(bytes: &[u8]) -> Result<(SourceInfo, (u32, u32))> {
    let info = probe(bytes)?;
    check_source_limits(&info)?;
    let raster = decode(bytes, &info, None)?;
    if info.frames > 1 && info.frames <= MAX_TEST_ANIMATION_FRAMES {
        let animation = decode_animation(bytes, &info)?;
        assert_eq!(animation.frames.len() as u32, info.frames);
        for frame in &animation.frames {
            assert_eq!(frame.raster.size(), raster.size());
        }
    }
    Ok((info, raster.size()))
}

fn check_table(table: &[(&str, Expect)]) {
    let mut failures = Vec::new();
    for &(path, expect) in table {
        let bytes = match std::fs::read(format!("{CORPUS}/{path}")) {
            Ok(bytes) => bytes,
            Err(e) => {
                failures.push(format!("{path}: cannot read: {e}"));
                continue;
            }
        };
        let result = run(&bytes);
        let ok = match (&result, expect) {
            (Err(e), _) if e.http_status() >= 500 => false,
            (Ok((info, size)), Decodes(w, h, frames)) => {
                *size == (w, h) && (info.width, info.height, info.frames) == (w, h, frames)
            }
            (Err(_), Decodes(..)) => false,
            (Ok(_), Rejected) => false,
            (Err(_), Rejected) | (_, Either) => true,
        };
        let seen = match &result {
            Ok((info, size)) => format!("decoded {size:?}, probe {info:?}"),
            Err(e) => format!("{} {e}", e.http_status()),
        };
        if !ok {
            failures.push(format!("{path}: expected {expect:?}, got {seen}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bmp_corpus() {
    check_table(BMP);
}

#[test]
fn gif_corpus() {
    check_table(GIF);
}

#[test]
fn avif_corpus() {
    check_table(AVIF);
}

#[test]
fn heic_corpus() {
    check_table(HEIC);
}

/// Mean absolute difference per channel of two same-size RGB(A) rasters.
fn mean_diff(a: &crate::raster::Raster, b: &crate::raster::Raster) -> f64 {
    let (a, b) = (a.flatten([255, 255, 255]), b.flatten([255, 255, 255]));
    assert_eq!(a.size(), b.size());
    let sum: u64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.data.len() as f64
}

/// The same picture (Pillow's "hopper") as AVIF, GIF and BMP-free JPEG: the AVIF
/// YUV → RGB conversion (matrix, range) must land close to the JPEG decode.
#[test]
fn avif_colours_match_jpeg() {
    let read = |p: &str| std::fs::read(format!("{CORPUS}/{p}")).unwrap();
    let decode_file = |p: &str| {
        let bytes = read(p);
        let info = probe(&bytes).unwrap();
        decode(&bytes, &info, None).unwrap()
    };
    let jpeg = decode_file("jpeg/hopper.jpg");
    let avif = decode_file("avif/hopper.avif");
    let gif = decode_file("gif/hopper.gif");
    let d_avif = mean_diff(&avif, &jpeg);
    let d_gif = mean_diff(&gif, &jpeg);
    assert!(d_avif < 6.0, "avif vs jpeg: {d_avif}");
    assert!(d_gif < 12.0, "gif vs jpeg: {d_gif}");
}

/// Animated WebP: the header walk counts the frames and every frame decodes.
#[test]
fn webp_animations() {
    for (path, w, h, frames) in [
        ("webp/anim.webp", 200, 200, 6),
        ("webp/iss634.webp", 245, 245, 42),
        ("webp/random_lossy.webp", 99, 87, 4),
        ("webp/hopper.webp", 128, 128, 1),
    ] {
        let bytes = std::fs::read(format!("{CORPUS}/{path}")).unwrap();
        let info = probe(&bytes).unwrap();
        assert_eq!(
            (info.width, info.height, info.frames),
            (w, h, frames),
            "{path}"
        );
        let animation = decode_animation(&bytes, &info).unwrap();
        assert_eq!(animation.frames.len() as u32, frames, "{path}");
        assert!(animation.frames.iter().all(|f| f.raster.size() == (w, h)));
    }
}
