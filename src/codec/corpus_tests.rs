//! The shared test corpus (`../shared/corpus`, see its `MANIFEST.md`) through
//! [`probe`], the source limits and [`decode`] (and [`decode_animation`] for
//! animations), asserting the manifest's expectation for every BMP and GIF
//! file and the hostile files of those formats.
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
