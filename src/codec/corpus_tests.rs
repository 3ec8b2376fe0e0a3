//! The shared test corpus (`../shared/corpus`, see its `MANIFEST.md`) through
//! [`probe`], the source limits and [`decode`] (and [`decode_animation`] for
//! animations), asserting the manifest's expectation for every file: each
//! corpus directory is listed by one table below, which [`every_file_has_a_row`]
//! checks.
//!
//! `Decodes(w, h, frames)` = must decode at that size (Pillow's reading unless
//! noted); `Rejected` = must fail with a 4xx error; `Either` = may decode or
//! fail with a 4xx error; `TooLarge` = must fail with a 4xx error from the
//! header ([`probe`] or the source limits), and is never decoded. A panic or a
//! 5xx error fails the test in every case.

use super::animation::decode_animation;
use super::{decode, probe, SourceInfo};
use crate::error::Result;
use Expect::*;

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Width, height (px) and frame count.
    Decodes(u32, u32, u32),
    Rejected,
    Either,
    /// Rejected from the header: a bomb or a huge declared size.
    TooLarge,
}

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
    // The logical screen is 32x32: the 65535x66601 is the frame descriptor's,
    // refused by the decoder's memory limit (bounded by the canvas) before
    // allocating, so it is rejected at decode rather than from the header.
    ("hostile/decompression_bomb.gif", Rejected),
    ("hostile/issue-101-infinite-empty-loop.gif", TooLarge),
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

#[rustfmt::skip]
const PNG: &[(&str, Expect)] = &[
    ("png/1_trns.png", Decodes(64, 64, 1)),
    ("png/acid2.png", Decodes(2, 2, 1)),
    ("png/basi0g01.png", Decodes(32, 32, 1)),
    ("png/basi0g04.png", Decodes(32, 32, 1)),
    ("png/basi0g16.png", Decodes(32, 32, 1)),
    ("png/basi2c08.png", Decodes(32, 32, 1)),
    ("png/basi3p01.png", Decodes(32, 32, 1)),
    ("png/basi3p01_2.png", Decodes(32, 32, 1)),
    ("png/basi3p04.png", Decodes(32, 32, 1)),
    ("png/basi3p08.png", Decodes(32, 32, 1)),
    ("png/basi4a16.png", Decodes(32, 32, 1)),
    ("png/basi6a16.png", Decodes(32, 32, 1)),
    // APNG (here and in the rows below with Pillow frame counts 3 and 4): the
    // default image only, as a still; Pillow counts the frames.
    ("png/basic_f20.png", Decodes(100, 100, 1)),
    ("png/basn0g01.png", Decodes(32, 32, 1)),
    ("png/basn0g04.png", Decodes(32, 32, 1)),
    ("png/basn0g16.png", Decodes(32, 32, 1)),
    ("png/basn2c08.png", Decodes(32, 32, 1)),
    ("png/basn3p01.png", Decodes(32, 32, 1)),
    ("png/basn3p04.png", Decodes(32, 32, 1)),
    ("png/basn3p08.png", Decodes(32, 32, 1)),
    ("png/basn4a16.png", Decodes(32, 32, 1)),
    ("png/basn6a16.png", Decodes(32, 32, 1)),
    ("png/bgai4a16.png", Decodes(32, 32, 1)),
    ("png/bgan6a16.png", Decodes(32, 32, 1)),
    ("png/bgbn4a08.png", Decodes(32, 32, 1)),
    ("png/bggn4a16.png", Decodes(32, 32, 1)),
    ("png/bgyn6a16.png", Decodes(32, 32, 1)),
    ("png/blend_op_over.png", Decodes(128, 64, 1)),
    ("png/broken.png", Rejected),
    ("png/broken_iccp.png", Either),
    ("png/ccwn2c08.png", Decodes(32, 32, 1)),
    ("png/cdfn2c08.png", Decodes(8, 32, 1)),
    ("png/cdsn2c08.png", Decodes(8, 8, 1)),
    ("png/ch1n3p04.png", Decodes(32, 32, 1)),
    ("png/cicp_pq.png", Either),
    ("png/circle-trns-before-plte.png", Decodes(100, 60, 1)),
    ("png/cm0n0g04.png", Decodes(32, 32, 1)),
    ("png/cm9n0g04.png", Decodes(32, 32, 1)),
    ("png/cross_scan_line.png", Decodes(2, 2, 1)),
    ("png/cs3n2c16.png", Decodes(32, 32, 1)),
    ("png/cs5n2c08.png", Decodes(32, 32, 1)),
    ("png/cs8n2c08.png", Decodes(32, 32, 1)),
    ("png/cs8n3p08.png", Decodes(32, 32, 1)),
    ("png/ct0n0g04.png", Decodes(32, 32, 1)),
    ("png/cten0g04.png", Decodes(32, 32, 1)),
    ("png/ctgn0g04.png", Decodes(32, 32, 1)),
    ("png/cthn0g04.png", Decodes(32, 32, 1)),
    ("png/ctzn0g04.png", Decodes(32, 32, 1)),
    ("png/dispose_op_background.png", Decodes(128, 64, 1)),
    ("png/draw_points.png", Decodes(33, 11, 1)),
    ("png/F-exif-chunk-early.png", Decodes(400, 400, 1)),
    ("png/f00n0g08.png", Decodes(32, 32, 1)),
    ("png/f01n0g08.png", Decodes(32, 32, 1)),
    ("png/f02n0g08.png", Decodes(32, 32, 1)),
    ("png/f02n2c08.png", Decodes(32, 32, 1)),
    ("png/f03n2c08.png", Decodes(32, 32, 1)),
    ("png/f04n2c08.png", Decodes(32, 32, 1)),
    ("png/f99n0g04.png", Decodes(32, 32, 1)),
    ("png/fcTL-dispose-in-region-none.png", Decodes(128, 64, 1)),
    ("png/fcTL-dispose-in-region-previous.png", Decodes(128, 64, 1)),
    ("png/fctl_actl.png", Either),
    ("png/g03n0g16.png", Decodes(32, 32, 1)),
    ("png/g03n3p04.png", Decodes(32, 32, 1)),
    ("png/g04n2c08.png", Decodes(32, 32, 1)),
    ("png/g04n3p04.png", Decodes(32, 32, 1)),
    ("png/g05n2c08.png", Decodes(32, 32, 1)),
    ("png/g07n0g16.png", Decodes(32, 32, 1)),
    ("png/g07n2c08.png", Decodes(32, 32, 1)),
    ("png/g10n0g16.png", Decodes(32, 32, 1)),
    ("png/g10n3p04.png", Decodes(32, 32, 1)),
    ("png/g25n0g16.png", Decodes(32, 32, 1)),
    ("png/g25n3p04.png", Decodes(32, 32, 1)),
    ("png/hopper_idat_after_image_end.png", Decodes(128, 128, 1)),
    ("png/icc_profile.png", Decodes(57, 57, 1)),
    ("png/invalid_palette_index.png", Either),
    ("png/issue_430.png", Either),
    ("png/oi1n0g16.png", Decodes(32, 32, 1)),
    ("png/oi2n0g16.png", Decodes(32, 32, 1)),
    ("png/oi4n0g16.png", Decodes(32, 32, 1)),
    ("png/oi4n2c16.png", Decodes(32, 32, 1)),
    ("png/oi9n2c16.png", Decodes(32, 32, 1)),
    ("png/p_trns_single.png", Decodes(64, 64, 1)),
    ("png/PngSuite.png", Decodes(256, 256, 1)),
    ("png/pp0n2c16.png", Decodes(32, 32, 1)),
    ("png/ps1n0g08.png", Decodes(32, 32, 1)),
    ("png/ps2n0g08.png", Decodes(32, 32, 1)),
    ("png/rgba.png", Decodes(200, 100, 1)),
    ("png/s01i3p01.png", Decodes(1, 1, 1)),
    ("png/s02i3p01.png", Decodes(2, 2, 1)),
    ("png/s03i3p01.png", Decodes(3, 3, 1)),
    ("png/s03n3p01.png", Decodes(3, 3, 1)),
    ("png/s04n3p01.png", Decodes(4, 4, 1)),
    ("png/s05n3p02.png", Decodes(5, 5, 1)),
    ("png/s06i3p02.png", Decodes(6, 6, 1)),
    ("png/s07i3p02.png", Decodes(7, 7, 1)),
    ("png/s08i3p02.png", Decodes(8, 8, 1)),
    ("png/s08n3p02.png", Decodes(8, 8, 1)),
    ("png/s09n3p02.png", Decodes(9, 9, 1)),
    ("png/s32i3p04.png", Decodes(32, 32, 1)),
    ("png/s33i3p04.png", Decodes(33, 33, 1)),
    ("png/s34i3p04.png", Decodes(34, 34, 1)),
    ("png/s34n3p04.png", Decodes(34, 34, 1)),
    ("png/s35n3p04.png", Decodes(35, 35, 1)),
    ("png/s36n3p04.png", Decodes(36, 36, 1)),
    ("png/s37i3p04.png", Decodes(37, 37, 1)),
    ("png/s38i3p04.png", Decodes(38, 38, 1)),
    ("png/s39i3p04.png", Decodes(39, 39, 1)),
    ("png/s39n3p04.png", Decodes(39, 39, 1)),
    ("png/s40i3p04.png", Decodes(40, 40, 1)),
    ("png/syntax_num_frames_zero.png", Rejected),
    ("png/tbbn0g04.png", Decodes(32, 32, 1)),
    ("png/tbbn3p08.png", Decodes(32, 32, 1)),
    ("png/tbgn3p08.png", Decodes(32, 32, 1)),
    ("png/tbrn2c08.png", Decodes(32, 32, 1)),
    ("png/tbwn3p08.png", Decodes(32, 32, 1)),
    ("png/tm3n3p02.png", Decodes(32, 32, 1)),
    ("png/tp0n0g08.png", Decodes(32, 32, 1)),
    ("png/tp0n3p08.png", Decodes(32, 32, 1)),
    ("png/tRNS_null_1x1.png", Decodes(1, 1, 1)),
    // Truncated: a documented partial decode would also do; we reject.
    ("png/truncated_image.png", Rejected),
    ("png/x_consecutive_idat.png", Rejected),
    ("png/x_ihdr_missing.png", Rejected),
    ("png/x_issue_214.png", Rejected),
    ("png/x_issue_230.0.png", Rejected),
    ("png/xc1n0g08.png", Rejected),
    ("png/xcrn0g04.png", Rejected),
    ("png/xd0n2c08.png", Rejected),
    ("png/xd3n2c08.png", Rejected),
    ("png/xdtn0g01.png", Rejected),
    ("png/xlfn0g04.png", Rejected),
    ("png/xs1n0g01.png", Rejected),
    ("png/xs4n0g01.png", Rejected),
    ("png/z00n2c08.png", Decodes(32, 32, 1)),
    ("png/z06n2c08.png", Decodes(32, 32, 1)),
];

#[rustfmt::skip]
const JPEG: &[(&str, Expect)] = &[
    ("jpeg/app13.jpg", Decodes(4, 4, 1)),
    // MPF (MPO): the primary SDR image only (Pillow counts the gain map as a
    // second frame).
    ("jpeg/apple_gainmap_new.jpg", Decodes(384, 512, 1)),
    ("jpeg/blank_800x280.jpg", Decodes(800, 280, 1)),
    // Truncated: a documented partial decode would also do; we reject.
    ("jpeg/BlueSquare_truncated.jpg", Rejected),
    ("jpeg/broken-exif-tag.jpg", Decodes(1, 1, 1)),
    ("jpeg/cat.jpg", Decodes(320, 240, 1)),
    ("jpeg/cmyk-icc.jpg", Decodes(388, 218, 1)),
    ("jpeg/down_sampled_grayscale_prog.jpg", Decodes(900, 675, 1)),
    ("jpeg/exif-dpi-zerodivision.jpg", Decodes(200, 200, 1)),
    ("jpeg/exif-ifd-offset.jpg", Decodes(200, 200, 1)),
    ("jpeg/exif-xmp-metadata.jpg", Decodes(5, 5, 1)),
    ("jpeg/extraneous-data.jpg", Decodes(16, 16, 1)),
    ("jpeg/four_components.jpg", Decodes(1318, 611, 1)),
    ("jpeg/grayscale-icc.jpg", Decodes(50, 50, 1)),
    ("jpeg/grayscale_long.jpg", Decodes(1, 1000, 1)),
    ("jpeg/hopper.jpg", Decodes(128, 128, 1)),
    ("jpeg/hopper_16bit_qtables.jpg", Decodes(128, 128, 1)),
    ("jpeg/huge_sof_number.jpg", Decodes(800, 600, 1)),
    ("jpeg/icc_chunk_count_mismatch.jpeg", Decodes(1, 1, 1)),
    ("jpeg/icc_chunk_order.jpeg", Decodes(1, 1, 1)),
    ("jpeg/icc_profile_big.jpg", Decodes(425, 250, 1)),
    ("jpeg/invalid-exif.jpg", Decodes(200, 200, 1)),
    ("jpeg/iptc.jpg", Decodes(64, 48, 1)),
    ("jpeg/jpeg_ff00_header.jpg", Decodes(300, 225, 1)),
    // Lossless, 16-bit samples: scaled from the frame's precision to 8 bits.
    ("jpeg/jpeg_lossless_sel1.jpg", Either),
    ("jpeg/jpg-cmyk-1.jpg", Decodes(32, 32, 1)),
    ("jpeg/jpg-gray.jpg", Decodes(32, 32, 1)),
    ("jpeg/jpg-progressive.jpg", Decodes(32, 32, 1)),
    ("jpeg/jpg-size-17x17.jpg", Decodes(17, 17, 1)),
    ("jpeg/jpg-size-1x1.jpg", Decodes(1, 1, 1)),
    ("jpeg/jpg-size-33x33.jpg", Decodes(33, 33, 1)),
    ("jpeg/jpg-size-7x7.jpg", Decodes(7, 7, 1)),
    ("jpeg/mjpeg.jpg", Decodes(960, 720, 1)),
    ("jpeg/non-interleaved-mcu.jpg", Decodes(64, 16, 1)),
    ("jpeg/non_interleaved_420_64x64.jpg", Decodes(64, 64, 1)),
    ("jpeg/non_interleaved_440_64x64.jpg", Decodes(64, 64, 1)),
    ("jpeg/non_interleaved_444_64x64.jpg", Decodes(64, 64, 1)),
    ("jpeg/paris_exif_xmp_icc.jpg", Decodes(403, 302, 1)),
    ("jpeg/paris_xmp_trailing_null.jpg", Decodes(403, 302, 1)),
    ("jpeg/photoshop-200dpi-broken.jpg", Decodes(200, 200, 1)),
    ("jpeg/progressive-missing-ac.jpg", Either),
    ("jpeg/progressive3.jpg", Decodes(650, 470, 1)),
    ("jpeg/restarts.jpg", Decodes(33, 33, 1)),
    ("jpeg/rgb.jpg", Decodes(100, 100, 1)),
    ("jpeg/sampling_factors.jpg", Decodes(400, 225, 1)),
    ("jpeg/sugarshack_bad_mpo_header.jpg", Decodes(640, 480, 1)),
    ("jpeg/testimgari.jpg", Either),
    ("jpeg/testorig.jpg", Decodes(227, 149, 1)),
    ("jpeg/truncated_app14.jpg", Decodes(100, 100, 1)),
    // Truncated: a documented partial decode would also do; we reject.
    ("jpeg/truncated_jpeg.jpg", Rejected),
];

#[rustfmt::skip]
const WEBP: &[(&str, Expect)] = &[
    ("webp/2-color.webp", Decodes(300, 300, 1)),
    ("webp/anim.webp", Decodes(200, 200, 6)),
    ("webp/color_index.webp", Decodes(30, 30, 1)),
    ("webp/dark.webp", Decodes(1, 1, 1)),
    ("webp/flower.webp", Decodes(480, 360, 1)),
    ("webp/flower2.webp", Decodes(300, 225, 1)),
    ("webp/gradient.webp", Decodes(100, 100, 1)),
    ("webp/hopper.webp", Decodes(128, 128, 1)),
    ("webp/iss634.webp", Decodes(245, 245, 42)),
    ("webp/lossless_indexed_1bit_palette.webp", Decodes(230, 128, 1)),
    ("webp/lossless_indexed_4bit_palette.webp", Decodes(500, 300, 1)),
    ("webp/lossy_alpha.webp", Decodes(100, 100, 1)),
    ("webp/random_lossy.webp", Decodes(99, 87, 4)),
    ("webp/simple-rgb.webp", Decodes(100, 100, 1)),
    ("webp/simple.webp", Decodes(300, 300, 1)),
];

/// With the EXIF orientation [`probe`] must report (1 when absent or 0).
/// Sizes are as stored, before the orientation is applied.
#[rustfmt::skip]
const ORIENTATION: &[(&str, Expect, u16)] = &[
    ("orientation/exif_imagemagick_orientation.png", Decodes(512, 512, 1), 3),
    ("orientation/hopper_orientation_2.jpg", Decodes(128, 128, 1), 2),
    ("orientation/hopper_orientation_3.webp", Decodes(128, 128, 1), 3),
    ("orientation/hopper_orientation_5.jpg", Decodes(128, 128, 1), 5),
    ("orientation/hopper_orientation_6.webp", Decodes(128, 128, 1), 6),
    ("orientation/hopper_orientation_7.jpg", Decodes(128, 128, 1), 7),
    ("orientation/hopper_orientation_8.webp", Decodes(128, 128, 1), 8),
    ("orientation/Landscape_0.jpg", Decodes(1800, 1200, 1), 1),
    ("orientation/Landscape_1.jpg", Decodes(1800, 1200, 1), 1),
    ("orientation/Landscape_2.jpg", Decodes(1800, 1200, 1), 2),
    ("orientation/Landscape_3.jpg", Decodes(1800, 1200, 1), 3),
    ("orientation/Landscape_4.jpg", Decodes(1800, 1200, 1), 4),
    ("orientation/Landscape_5.jpg", Decodes(1200, 1800, 1), 5),
    ("orientation/Landscape_6.jpg", Decodes(1200, 1800, 1), 6),
    ("orientation/Landscape_7.jpg", Decodes(1200, 1800, 1), 7),
    ("orientation/Landscape_8.jpg", Decodes(1200, 1800, 1), 8),
    ("orientation/orientation_rectangle.jpg", Decodes(2, 1, 1), 8),
    ("orientation/Portrait_0.jpg", Decodes(1200, 1800, 1), 1),
    ("orientation/Portrait_1.jpg", Decodes(1200, 1800, 1), 1),
    ("orientation/Portrait_3.jpg", Decodes(1200, 1800, 1), 3),
    ("orientation/Portrait_6.jpg", Decodes(1800, 1200, 1), 6),
    ("orientation/Portrait_8.jpg", Decodes(1800, 1200, 1), 8),
];

/// Decoded at full size (~1 s in all in the dev profile).
#[rustfmt::skip]
const PHOTOS: &[(&str, Expect)] = &[
    ("photos/seeding_by_Clements_Engelhardt.jpg", Decodes(5312, 2988, 1)),
    ("photos/sunset_by_Aitzol_Berasategi.jpg", Decodes(4272, 2848, 1)),
    ("photos/Wine_by_Jakkub_Mede.jpg", Decodes(2560, 3837, 1)),
];

/// ~99.6 Mpx, under the 200 Mpx source limit, so a legitimate large photo;
/// decoded at 1/8 scale (shrink-on-load) as a thumbnail request would, since
/// the full decode needs ~0.9 GB.
#[rustfmt::skip]
const HOSTILE_LARGE: &[(&str, Expect)] = &[
    ("hostile/9643x10328.jpg", Decodes(9643, 10328, 1)),
];

/// The hostile files not in the format tables above.
#[rustfmt::skip]
const HOSTILE: &[(&str, Expect)] = &[
    ("hostile/16384x16384.png", TooLarge),
    ("hostile/bomb_png_30000x30000_1bit.png", TooLarge),
    ("hostile/bomb_webp_16383x16383_lossless.webp", TooLarge),
    ("hostile/crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif", Rejected),
    ("hostile/dc-predictor-overflow.jpg", Either),
    ("hostile/derive-huffman-codes-overflow.jpg", Rejected),
    ("hostile/empty.jpg", Rejected),
    ("hostile/header_png_100000x100000_rgba.png", TooLarge),
    ("hostile/image-png-fuzz-077345660928.png", Rejected),
    ("hostile/image-png-fuzz-3e40e7909681.png", Rejected),
    ("hostile/image-png-fuzz-95666e39e672.png", Rejected),
    ("hostile/image_invalid.jpg", Rejected),
    ("hostile/invalid-prediction-shift.jpg", Rejected),
    // Wrong extension: the format is sniffed from the content.
    ("hostile/jpeg_content_named.png", Decodes(227, 149, 1)),
    ("hostile/jpeg_sof_declares_30000x30000.jpg", TooLarge),
    ("hostile/max_size.jpg", TooLarge),
    ("hostile/missing-sof.jpg", Rejected),
    ("hostile/null_height.jpg", Rejected),
    ("hostile/panic.webp", Either),
    ("hostile/png_content_named.jpg", Decodes(32, 32, 1)),
    // The zTXt bomb is metadata: ignoring it (and decoding the 1x1) is fine.
    ("hostile/png_decompression_dos.png", Either),
    ("hostile/png_signature_then_random.png", Rejected),
    ("hostile/random_bytes.jpg", Rejected),
    ("hostile/random_bytes.png", Rejected),
    ("hostile/riff_webp_header_then_random.webp", Rejected),
    ("hostile/subtract-with-overflow.jpg", Either),
    ("hostile/svg_named_as.png", Rejected),
    ("hostile/zero_bytes.png", Rejected),
    ("hostile/zero_bytes.webp", Rejected),
];

/// Probe, limits, decode (at 1/`shrink` scale where the codec can), and the
/// animation decode when there are frames.
fn run(bytes: &[u8], shrink: u32) -> Result<(SourceInfo, (u32, u32))> {
    let info = probe(bytes)?;
    crate::limits::check_source(info.width, info.height, info.frames)?;
    // A target the 1/`shrink` scale serves: JPEG's 1/8 wants twice the
    // target (only 1 and 8 are used here).
    let min_size = (shrink > 1).then(|| (info.width / (2 * shrink), info.height / (2 * shrink)));
    let raster = decode(bytes, &info, min_size)?;
    if info.frames > 1 && info.frames <= MAX_TEST_ANIMATION_FRAMES {
        let animation = decode_animation(bytes, &info)?;
        assert_eq!(animation.frames.len() as u32, info.frames);
        for frame in &animation.frames {
            assert_eq!(frame.raster.size(), raster.size());
        }
    }
    Ok((info, raster.size()))
}

/// Checks one file; `Err` describes the mismatch. `orientation` is the EXIF
/// orientation [`probe`] must report, when given.
fn check_file(
    path: &str,
    expect: Expect,
    shrink: u32,
    orientation: Option<u16>,
) -> std::result::Result<(), String> {
    let bytes = std::fs::read(crate::test_support::corpus_dir().join(path))
        .map_err(|e| format!("{path}: cannot read: {e}"))?;
    if let TooLarge = expect {
        // Header only: decoding a bomb is the failure this guards against.
        return match probe(&bytes).and_then(|info| {
            crate::limits::check_source(info.width, info.height, info.frames).map(|()| info)
        }) {
            Err(e) if e.http_status() < 500 => Ok(()),
            Err(e) => Err(format!(
                "{path}: expected {expect:?}, got {} {e}",
                e.http_status()
            )),
            Ok(info) => Err(format!(
                "{path}: expected {expect:?}, but the header passed: {info:?}"
            )),
        };
    }
    let result = run(&bytes, shrink);
    let ok = match (&result, expect) {
        (Err(e), _) if e.http_status() >= 500 => false,
        (Ok((info, size)), Decodes(w, h, frames)) => {
            *size == (w.div_ceil(shrink), h.div_ceil(shrink))
                && (info.width, info.height, info.frames) == (w, h, frames)
                && orientation.is_none_or(|o| info.orientation == o)
        }
        (Err(_), Decodes(..)) => false,
        (Ok(_), Rejected) => false,
        (Err(_), Rejected) | (_, Either) => true,
        (_, TooLarge) => unreachable!(),
    };
    if ok {
        return Ok(());
    }
    let seen = match &result {
        Ok((info, size)) => format!("decoded {size:?}, probe {info:?}"),
        Err(e) => format!("{} {e}", e.http_status()),
    };
    let orientation = orientation.map_or(String::new(), |o| format!(", orientation {o}"));
    Err(format!(
        "{path}: expected {expect:?}{orientation}, got {seen}"
    ))
}

fn check_files<'a>(files: impl IntoIterator<Item = (&'a str, Expect, Option<u16>)>, shrink: u32) {
    let failures: Vec<String> = files
        .into_iter()
        .filter_map(|(path, expect, orientation)| {
            check_file(path, expect, shrink, orientation).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check_table(table: &[(&str, Expect)]) {
    check_files(table.iter().map(|&(path, expect)| (path, expect, None)), 1);
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

#[test]
fn png_corpus() {
    check_table(PNG);
}

#[test]
fn jpeg_corpus() {
    check_table(JPEG);
}

#[test]
fn webp_corpus() {
    check_table(WEBP);
}

#[test]
fn orientation_corpus() {
    check_files(
        ORIENTATION
            .iter()
            .map(|&(path, expect, orientation)| (path, expect, Some(orientation))),
        1,
    );
}

#[test]
fn photos_corpus() {
    check_table(PHOTOS);
}

#[test]
fn hostile_corpus() {
    check_table(HOSTILE);
    check_files(
        HOSTILE_LARGE
            .iter()
            .map(|&(path, expect)| (path, expect, None)),
        8,
    );
}

/// Every file of every corpus directory has exactly one row in the tables.
#[test]
fn every_file_has_a_row() {
    let mut rows: Vec<&str> = [
        BMP,
        GIF,
        AVIF,
        HEIC,
        PNG,
        JPEG,
        WEBP,
        PHOTOS,
        HOSTILE,
        HOSTILE_LARGE,
    ]
    .iter()
    .flat_map(|table| table.iter().map(|&(path, _)| path))
    .chain(ORIENTATION.iter().map(|&(path, ..)| path))
    .collect();
    rows.sort_unstable();
    let duplicates: Vec<&str> = rows
        .windows(2)
        .filter(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
        .collect();
    assert!(duplicates.is_empty(), "rows listed twice: {duplicates:?}");
    let mut missing = Vec::new();
    for dir in [
        "avif",
        "bmp",
        "gif",
        "heic",
        "hostile",
        "jpeg",
        "orientation",
        "photos",
        "png",
        "webp",
    ] {
        for entry in std::fs::read_dir(crate::test_support::corpus_dir().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let path = format!("{dir}/{name}");
            if rows.binary_search(&path.as_str()).is_err() {
                missing.push(path);
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "corpus files without a row: {missing:?}"
    );
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
    let read = |p: &str| std::fs::read(crate::test_support::corpus_dir().join(p)).unwrap();
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
        let bytes = std::fs::read(crate::test_support::corpus_dir().join(path)).unwrap();
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
