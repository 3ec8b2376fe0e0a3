//! AVIF (AV1 Image File Format, AOM v1.1): decoding with the pure-Rust AV1
//! decoder `rav1d` (asm off), encoding with `rav1e` (module [`mod@encode`]).
//!
//! [`probe`] parses only the container boxes (with `heifer`'s ISOBMFF parser):
//! the size comes from the primary item's `ispe` (or its `grid` output size),
//! after `clap` and `irot`. No AV1 data is decoded.
//!
//! [`decode`] decodes the primary item (`av01`, or a `grid` of `av01` tiles),
//! its alpha plane (`auxl` item with the alpha URN, for the whole image or per
//! tile), converts YUV to RGB honouring the nclx matrix (BT.601, BT.709,
//! BT.2020, identity/GBR; unspecified = BT.601) and range from the `colr` box
//! or else the AV1 sequence header, and applies `clap`, `irot` and `imir`.
//! 10- and 12-bit images are reduced to 8 bits; HDR transfer functions (PQ,
//! HLG) are not tone-mapped. Image sequences (`.avifs`) give their primary
//! still image (first-frame policy). The decoder refuses AV1 frames larger than
//! the `ispe`-derived size the caller has checked.
//!
//! [`encode()`] drives rav1e and `avif-serialize` directly (module
//! [`mod@encode`]): 4:2:0, libavif's quality scale. It is slow
//! (about a second per megapixel in wasm); how large a result may be is
//! decided by the request's cost budget ([`crate::budget`]), not by a pixel
//! cap here.

use super::heic::{alpha_item, display_size};
use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ErrorCode, ProcessError, Result};
use crate::raster::Raster;
use heifer::heifer_isobmff::boxes::{ColorInfo, Property};
use heifer::heifer_isobmff::{HeifFile, ItemId};

mod encode;

/// Grid tiles decoded at most.
const MAX_TILES: usize = 1024;

fn bad(e: impl std::fmt::Display) -> ProcessError {
    decode_error(ImageFormat::Avif, e)
}

/// Reads size and alpha from the container boxes (no AV1 data is decoded).
pub(crate) fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let file = HeifFile::parse(bytes).map_err(bad)?;
    let primary = file.primary_item().map_err(bad)?;
    // An AVIF-branded file whose primary image is HEVC is a HEIC.
    if primary.item_type.0 == *b"hvc1" {
        return super::heic::probe(bytes);
    }
    if !matches!(&primary.item_type.0, b"av01" | b"grid") {
        return Err(ProcessError::new(
            ErrorCode::UnsupportedFormat,
            format!(
                "AVIF images coded as '{}' are not supported",
                String::from_utf8_lossy(&primary.item_type.0)
            ),
        ));
    }
    let (width, height) = display_size(&file, file.primary_id)
        .ok_or_else(|| bad("the primary image has no size (ispe)"))?;
    let has_alpha = alpha_item(&file, file.primary_id).is_some()
        || file
            .referenced_items(file.primary_id, b"dimg")
            .iter()
            .any(|&tile| alpha_item(&file, tile).is_some());
    Ok(SourceInfo {
        format: ImageFormat::Avif,
        width,
        height,
        frames: 1,
        quality: None,
        has_alpha,
        orientation: 1,
    })
}

/// Decodes the primary image to 8-bit RGB, or RGBA when it has an alpha plane.
pub(crate) fn decode(bytes: &[u8], info: &SourceInfo) -> Result<Raster> {
    let file = HeifFile::parse(bytes).map_err(bad)?;
    // Bound on any coded area, in px: the checked display size, with room for a
    // `clap` crop (each `av01` item is further bounded by its own `ispe`).
    let limit = (u64::from(info.width) * u64::from(info.height))
        .saturating_mul(4)
        .max(1 << 16);
    let mut image = decode_item(&file, file.primary_id, limit, 0)?;
    let alpha = match alpha_item(&file, file.primary_id) {
        Some(id) => Some(decode_item(&file, id, limit, 0)?),
        None => None,
    };
    if let Some(alpha) = alpha {
        if alpha.width != image.width || alpha.height != image.height {
            return Err(bad("the alpha plane and the image differ in size"));
        }
        for (px, a) in image
            .rgba
            .chunks_exact_mut(4)
            .zip(alpha.rgba.chunks_exact(4))
        {
            px[3] = a[0];
        }
    }
    let rgba = transform(&file, file.primary_id, image)?;
    super::gif::rgba_to_raster(rgba.width, rgba.height, rgba.rgba)
}

/// An RGBA8 image being assembled.
struct Rgba {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

/// Decodes an `av01` item, or a `grid` of them (with per-tile alpha), to RGBA.
/// An alpha item decodes to its luma in R, G and B.
fn decode_item(file: &HeifFile<'_>, id: ItemId, limit: u64, depth: u32) -> Result<Rgba> {
    let item = file.item(id).map_err(bad)?;
    match &item.item_type.0 {
        b"av01" => {
            let data = file.item_data(id).map_err(bad)?;
            let nclx = file
                .item_properties(id)
                .map_err(bad)?
                .find_map(|p| match p {
                    Property::Color(ColorInfo::Nclx {
                        matrix, full_range, ..
                    }) => Some((*matrix, *full_range)),
                    _ => None,
                });
            // AV1 frames are the `ispe` size; allow padding to 8 px.
            let item_limit = file
                .image_size(id)
                .ok()
                .flatten()
                .map_or(limit, |(w, h)| {
                    (u64::from(w).div_ceil(8) * 8).saturating_mul(u64::from(h).div_ceil(8) * 8)
                })
                .min(limit);
            av1::decode(&data, nclx, item_limit)
        }
        b"grid" if depth == 0 => {
            let grid = file.grid(id).map_err(bad)?;
            let tiles = file.referenced_items(id, b"dimg");
            let expected = usize::from(grid.rows) * usize::from(grid.columns);
            if tiles.len() != expected || expected == 0 || expected > MAX_TILES {
                return Err(bad(format!(
                    "the grid has {} tiles for {}x{}",
                    tiles.len(),
                    grid.columns,
                    grid.rows
                )));
            }
            let mut unique = tiles.to_vec();
            unique.sort_unstable();
            unique.dedup();
            if unique.len() != tiles.len() {
                return Err(bad("the grid uses a tile twice"));
            }
            let (ow, oh) = (grid.output_width, grid.output_height);
            if ow == 0 || oh == 0 || u64::from(ow) * u64::from(oh) > limit {
                return Err(bad("the grid size does not match the image size"));
            }
            let mut canvas = vec![0u8; ow as usize * oh as usize * 4];
            let mut tile_size = None;
            for (i, &tile_id) in tiles.iter().enumerate() {
                let mut tile = decode_item(file, tile_id, limit, depth + 1)?;
                if let Some(alpha_id) = alpha_item(file, tile_id) {
                    let alpha = decode_item(file, alpha_id, limit, depth + 1)?;
                    if (alpha.width, alpha.height) != (tile.width, tile.height) {
                        return Err(bad("a tile and its alpha plane differ in size"));
                    }
                    for (px, a) in tile
                        .rgba
                        .chunks_exact_mut(4)
                        .zip(alpha.rgba.chunks_exact(4))
                    {
                        px[3] = a[0];
                    }
                }
                let (tw, th) = *tile_size.get_or_insert((tile.width, tile.height));
                if (tile.width, tile.height) != (tw, th) {
                    return Err(bad("grid tiles differ in size"));
                }
                let col = (i % usize::from(grid.columns)) as u64;
                let row = (i / usize::from(grid.columns)) as u64;
                let (x0, y0) = (col * u64::from(tw), row * u64::from(th));
                for y in 0..u64::from(th) {
                    let cy = y0 + y;
                    if cy >= u64::from(oh) || x0 >= u64::from(ow) {
                        continue;
                    }
                    let n = (u64::from(tw).min(u64::from(ow) - x0) * 4) as usize;
                    let d = ((cy * u64::from(ow) + x0) * 4) as usize;
                    let s = (y * u64::from(tw) * 4) as usize;
                    canvas[d..d + n].copy_from_slice(&tile.rgba[s..s + n]);
                }
            }
            if let Some((tw, th)) = tile_size {
                let cols = u64::from(grid.columns);
                let rows = u64::from(grid.rows);
                if u64::from(tw) * cols < u64::from(ow) || u64::from(th) * rows < u64::from(oh) {
                    return Err(bad("the grid tiles do not cover the output size"));
                }
            }
            Ok(Rgba {
                width: ow,
                height: oh,
                rgba: canvas,
            })
        }
        other => Err(ProcessError::new(
            ErrorCode::UnsupportedFormat,
            format!(
                "AVIF items coded as '{}' are not supported",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// Applies the item's `clap`, `irot` and `imir` properties in association order.
fn transform(file: &HeifFile<'_>, id: ItemId, mut img: Rgba) -> Result<Rgba> {
    let props: Vec<Property> = file.item_properties(id).map_err(bad)?.cloned().collect();
    for prop in props {
        img = match prop {
            Property::CleanAperture {
                width,
                height,
                horiz_offset,
                vert_offset,
            } => {
                let frac = |(n, d): (u32, u32)| n.checked_div(d).unwrap_or(0);
                let (cw, ch) = (frac(width), frac(height));
                if cw == 0 || ch == 0 || cw > img.width || ch > img.height {
                    continue;
                }
                // Centre offset: (W - cw)/2 + offset.
                let off = |(n, d): (i32, u32), full: u32, crop: u32| -> u32 {
                    let o = if d == 0 {
                        0
                    } else {
                        i64::from(n) / i64::from(d)
                    };
                    let x = (i64::from(full) - i64::from(crop)) / 2 + o;
                    x.clamp(0, i64::from(full - crop)) as u32
                };
                let x0 = off(horiz_offset, img.width, cw);
                let y0 = off(vert_offset, img.height, ch);
                let mut out = Vec::with_capacity(cw as usize * ch as usize * 4);
                for y in y0..y0 + ch {
                    let s = ((y * img.width + x0) * 4) as usize;
                    out.extend_from_slice(&img.rgba[s..s + cw as usize * 4]);
                }
                Rgba {
                    width: cw,
                    height: ch,
                    rgba: out,
                }
            }
            // Anti-clockwise quarter turns.
            Property::Rotation(q) => match q % 4 {
                0 => img,
                n => remap(&img, n % 2 == 1, |x, y, w, h| match n {
                    // Output (x, y) of a 90° anti-clockwise turn reads source (W-1-y, x).
                    1 => (w - 1 - y, x),
                    2 => (w - 1 - x, h - 1 - y),
                    _ => (y, h - 1 - x),
                }),
            },
            // `true`: top and bottom exchanged (axis 0); `false`: left and right.
            Property::Mirror(top_bottom) => remap(&img, false, |x, y, w, h| {
                if top_bottom {
                    (x, h - 1 - y)
                } else {
                    (w - 1 - x, y)
                }
            }),
            _ => img,
        };
    }
    Ok(img)
}

/// A new image where pixel (x, y) comes from `src(x, y, W, H)` of `img`
/// (W, H: source size); `swap` exchanges width and height.
fn remap(img: &Rgba, swap: bool, src: impl Fn(u32, u32, u32, u32) -> (u32, u32)) -> Rgba {
    let (w, h) = if swap {
        (img.height, img.width)
    } else {
        (img.width, img.height)
    };
    let mut out = Vec::with_capacity(img.rgba.len());
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = src(x, y, img.width, img.height);
            let s = ((sy * img.width + sx) * 4) as usize;
            out.extend_from_slice(&img.rgba[s..s + 4]);
        }
    }
    Rgba {
        width: w,
        height: h,
        rgba: out,
    }
}

/// Encodes at `quality` (1–100) as 8-bit 4:2:0, keeping alpha when some pixel
/// is not opaque (see [`mod@encode`] for the settings).
pub fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    self::encode::encode(raster, quality)
}

/// AV1 decoding through rav1d's dav1d-compatible API, and YUV → RGBA.
mod av1 {
    use super::{bad, Rgba};
    use crate::error::Result;
    use rav1d::include::dav1d::data::Dav1dData;
    use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
    use rav1d::include::dav1d::headers::{
        DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    };
    use rav1d::include::dav1d::picture::Dav1dPicture;
    use rav1d::src::lib::{
        dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings,
        dav1d_get_picture, dav1d_open, dav1d_picture_unref, dav1d_send_data,
    };
    use std::mem::MaybeUninit;
    use std::ptr::NonNull;

    /// dav1d reports "try again" as -EAGAIN of the target's libc (11 on Linux, 6 on WASI).
    const EAGAIN: i32 = libc::EAGAIN;

    /// Closes the decoder context on every path.
    struct Context(Option<Dav1dContext>);
    impl Drop for Context {
        fn drop(&mut self) {
            // SAFETY: the context came from dav1d_open and is closed once (it is taken).
            unsafe { dav1d_close(Some(NonNull::from(&mut self.0))) }
        }
    }

    /// Unreferences a picture on every path.
    struct Picture(Dav1dPicture);
    impl Drop for Picture {
        fn drop(&mut self) {
            release(&mut self.0);
        }
    }

    /// Unreferences `pic` and frees what rav1d's unref leaves behind.
    ///
    /// rav1d 1.1's `dav1d_picture_unref` writes a fresh default picture back,
    /// and that default owns a new `itut_t35` `Arc` (48 bytes) that nothing
    /// ever frees: one leak per decoded AVIF, found by the `decode_pipeline`
    /// fuzz target (LeakSanitizer), which a long-lived filter VM would
    /// accumulate. The default is ours alone, so its reference is dropped here.
    pub(super) fn release(pic: &mut Dav1dPicture) {
        // SAFETY: the picture is either default (a no-op) or from
        // dav1d_get_picture; after the unref its only reference is the
        // `itut_t35_ref` of the default written back, made by `RawArc::from_arc`
        // and used by nobody else, so turning it back into the `Arc` and
        // dropping it frees it once.
        unsafe {
            dav1d_picture_unref(Some(NonNull::from(&mut *pic)));
            if let Some(raw) = pic.itut_t35_ref.take() {
                drop(raw.into_arc());
            }
        }
    }

    /// Unreferences input data on every path.
    struct Data(Dav1dData);
    impl Drop for Data {
        fn drop(&mut self) {
            // SAFETY: the data is from dav1d_data_create (or emptied by dav1d_send_data).
            unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.0))) }
        }
    }

    /// Decodes one AV1 still image (OBUs) to RGBA8. `nclx` is the container's
    /// (matrix, full range), which takes precedence over the sequence header.
    /// Frames above `limit` px are refused by the decoder.
    pub(super) fn decode(obus: &[u8], nclx: Option<(u16, bool)>, limit: u64) -> Result<Rgba> {
        if obus.is_empty() {
            return Err(bad("the image item is empty"));
        }
        // SAFETY: settings are initialised by dav1d_default_settings; the
        // context, data and picture are only used through rav1d's API and
        // released by the guards above; plane pointers are read within the
        // picture's size and strides as rav1d reports them.
        unsafe {
            let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
            dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
            let mut settings = settings.assume_init();
            settings.n_threads = 1;
            settings.max_frame_delay = 1;
            settings.all_layers = 0;
            settings.frame_size_limit = u32::try_from(limit).unwrap_or(u32::MAX);
            let mut ctx = Context(None);
            let res = dav1d_open(
                Some(NonNull::from(&mut ctx.0)),
                Some(NonNull::from(&mut settings)),
            );
            if res.0 != 0 || ctx.0.is_none() {
                return Err(bad(format!("AV1 decoder cannot start ({})", res.0)));
            }
            let mut data = Data(Dav1dData::default());
            let buf = dav1d_data_create(Some(NonNull::from(&mut data.0)), obus.len());
            if buf.is_null() {
                return Err(bad("AV1 decoder: out of memory"));
            }
            std::ptr::copy_nonoverlapping(obus.as_ptr(), buf, obus.len());
            let mut pic = Picture(Dav1dPicture::default());
            loop {
                if data.0.sz > 0 {
                    let res = dav1d_send_data(ctx.0, Some(NonNull::from(&mut data.0)));
                    if res.0 < 0 && res.0 != -EAGAIN {
                        return Err(bad(format!("invalid AV1 data ({})", res.0)));
                    }
                }
                let res = dav1d_get_picture(ctx.0, Some(NonNull::from(&mut pic.0)));
                if res.0 == 0 {
                    break;
                }
                if res.0 == -EAGAIN && data.0.sz > 0 {
                    continue;
                }
                return Err(bad(format!("the AV1 data holds no picture ({})", res.0)));
            }
            to_rgba(&pic.0, nclx)
        }
    }

    /// Reads one sample (8- or 16-bit storage) of a plane.
    ///
    /// # Safety
    /// `base` + `y × stride` + `x` samples must lie inside the plane.
    #[inline]
    unsafe fn sample(base: *const u8, stride: isize, x: usize, y: usize, hbd: bool) -> f32 {
        // SAFETY: guaranteed by the caller.
        unsafe {
            let row = base.offset(y as isize * stride);
            if hbd {
                f32::from(row.cast::<u16>().add(x).read_unaligned())
            } else {
                f32::from(*row.add(x))
            }
        }
    }

    /// Converts a decoded picture to RGBA8 (alpha 255).
    ///
    /// # Safety
    /// `pic` must be a picture returned by `dav1d_get_picture`.
    unsafe fn to_rgba(pic: &Dav1dPicture, nclx: Option<(u16, bool)>) -> Result<Rgba> {
        let (w, h) = (pic.p.w, pic.p.h);
        if w <= 0 || h <= 0 {
            return Err(bad("the AV1 picture is empty"));
        }
        let (w, h) = (w as usize, h as usize);
        let bpc = pic.p.bpc;
        let hbd = bpc > 8;
        let layout = pic.p.layout;
        // SAFETY: a decoded picture has its sequence header.
        let seq = pic.seq_hdr.map(|s| unsafe { s.as_ref() });
        let (matrix, full_range) = match (nclx, seq) {
            (Some((m, f)), _) => (m, f),
            (None, Some(s)) => (s.mtrx as u16, s.color_range != 0),
            (None, None) => (2, false),
        };
        let Some(y_plane) = pic.data[0] else {
            return Err(bad("the AV1 picture has no luma plane"));
        };
        let y_plane = y_plane.as_ptr().cast::<u8>().cast_const();
        let mono = layout == DAV1D_PIXEL_LAYOUT_I400;
        let (ssx, ssy) = match layout {
            l if l == DAV1D_PIXEL_LAYOUT_I420 => (1, 1),
            l if l == DAV1D_PIXEL_LAYOUT_I422 => (1, 0),
            _ => (0, 0),
        };
        let (u_plane, v_plane) = if mono {
            (y_plane, y_plane)
        } else {
            match (pic.data[1], pic.data[2]) {
                (Some(u), Some(v)) => (
                    u.as_ptr().cast::<u8>().cast_const(),
                    v.as_ptr().cast::<u8>().cast_const(),
                ),
                _ => return Err(bad("the AV1 picture has no chroma planes")),
            }
        };
        let (ys, uvs) = (pic.stride[0], pic.stride[1]);
        let max = ((1u32 << bpc) - 1) as f32;
        let scale = (1u32 << (bpc - 8)) as f32;
        // Normalised luma and chroma.
        let (y_off, y_rng, c_rng) = if full_range {
            (0.0, max, max)
        } else {
            (16.0 * scale, 219.0 * scale, 224.0 * scale)
        };
        let c_mid = 128.0 * scale;
        // Kr, Kb of the matrix; identity (GBR) is handled apart.
        let (kr, kb) = match matrix {
            1 => (0.2126, 0.0722),
            9 | 10 => (0.2627, 0.0593),
            4 => (0.30, 0.11),
            7 => (0.212, 0.087),
            _ => (0.299, 0.114),
        };
        let kg = 1.0 - kr - kb;
        let to8 = |v: f32| (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        let mut out = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            let cy = y >> ssy;
            for x in 0..w {
                let cx = x >> ssx;
                // SAFETY: x < w, y < h and chroma indices are subsampled within the picture.
                let (yy, u, v) = unsafe {
                    (
                        sample(y_plane, ys, x, y, hbd),
                        if mono {
                            c_mid
                        } else {
                            sample(u_plane, uvs, cx, cy, hbd)
                        },
                        if mono {
                            c_mid
                        } else {
                            sample(v_plane, uvs, cx, cy, hbd)
                        },
                    )
                };
                let px = if matrix == 0 && !mono {
                    // Identity: G = Y, B = U, R = V.
                    [
                        to8((v - y_off) / y_rng),
                        to8((yy - y_off) / y_rng),
                        to8((u - y_off) / y_rng),
                    ]
                } else {
                    let l = (yy - y_off) / y_rng;
                    let cb = (u - c_mid) / c_rng;
                    let cr = (v - c_mid) / c_rng;
                    let r = l + 2.0 * (1.0 - kr) * cr;
                    let b = l + 2.0 * (1.0 - kb) * cb;
                    let g = (l - kr * r - kb * b) / kg;
                    [to8(r), to8(g), to8(b)]
                };
                out.extend_from_slice(&[px[0], px[1], px[2], 255]);
            }
        }
        Ok(Rgba {
            width: w as u32,
            height: h as u32,
            rgba: out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding (decode_pipeline, LeakSanitizer): rav1d's unref leaves a
    /// default picture owning an `itut_t35` reference; `release` frees it, so
    /// a released picture owns nothing.
    #[test]
    fn released_av1_pictures_own_nothing() {
        use rav1d::include::dav1d::picture::Dav1dPicture;
        use rav1d::src::lib::dav1d_picture_unref;
        use std::ptr::NonNull;
        let mut unref_only = Dav1dPicture::default();
        // SAFETY: a default picture is valid to unreference.
        unsafe { dav1d_picture_unref(Some(NonNull::from(&mut unref_only))) };
        assert!(
            unref_only.itut_t35_ref.is_some(),
            "rav1d's unref no longer leaves a reference behind: `release` can go"
        );
        // Free it, so the test itself does not leak.
        av1::release(&mut unref_only);
        let mut pic = Dav1dPicture::default();
        av1::release(&mut pic);
        assert!(pic.itut_t35_ref.is_none());
        assert!(pic.r#ref.is_none() && pic.seq_hdr_ref.is_none());
    }
    use crate::raster::PixelLayout;

    fn pattern(w: u32, h: u32, alpha: bool) -> Raster {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let red = x < w / 2;
                data.extend_from_slice(&if red { [220, 30, 30] } else { [30, 30, 220] });
                if alpha {
                    data.push(if y < h / 2 { 255 } else { 0 });
                }
                let _ = y;
            }
        }
        let layout = if alpha {
            PixelLayout::Rgba8
        } else {
            PixelLayout::Rgb8
        };
        Raster::new(w, h, layout, data).unwrap()
    }

    #[test]
    fn round_trip() {
        for alpha in [false, true] {
            let src = pattern(64, 48, alpha);
            let bytes = encode(&src, 90).unwrap();
            assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Avif));
            let info = probe(&bytes).unwrap();
            assert_eq!((info.width, info.height, info.has_alpha), (64, 48, alpha));
            let out = decode(&bytes, &info).unwrap();
            assert_eq!(out.size(), (64, 48));
            assert_eq!(out.layout, src.layout);
            let ch = src.layout.channels();
            // Compare the centre of each half, away from the colour edge.
            for (x, y) in [(8usize, 10usize), (56, 10), (8, 40), (56, 40)] {
                let i = (y * 64 + x) * ch;
                for c in 0..ch {
                    let (a, b) = (out.data[i + c], src.data[i + c]);
                    assert!(a.abs_diff(b) < 24, "({x},{y}) channel {c}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn generic_brand_is_recognised_by_its_codec() {
        let mut bytes = encode(&pattern(16, 16, false), 60).unwrap();
        bytes[8..12].copy_from_slice(b"mif1");
        assert_eq!(ImageFormat::sniff(&bytes), Some(ImageFormat::Heic));
        let info = super::super::probe(&bytes).unwrap();
        assert_eq!(info.format, ImageFormat::Avif);
        assert_eq!(
            super::super::decode(&bytes, &info, None).unwrap().size(),
            (16, 16)
        );
    }

    #[test]
    fn garbage_is_a_client_error() {
        let mut bytes = b"\0\0\0\x14ftypavif\0\0\0\0avif".to_vec();
        bytes.extend_from_slice(&[0x55; 64]);
        assert_eq!(probe(&bytes).unwrap_err().http_status(), 400);
        assert_eq!(probe(b"").unwrap_err().http_status(), 400);
    }

    /// Fuzz finding (decode_pipeline): corpus `avif/alpha_noispe.avif` with
    /// two bytes of AV1 data changed, behind the target's command byte. rav1d
    /// 1.1 panicked on it (memorysafety/rav1d#1497), as on any AV1 decode
    /// error with one frame context, and the panic aborts: it leaves rav1d's
    /// `extern "C"` `dav1d_send_data`. In the filter that trapped the VM.
    static RAV1D_1497: &[u8] =
        include_bytes!("../../fuzz/regressions/decode_pipeline/rav1d-1497-crash-a651d723.bin");

    /// `bytes` decodes to an image, or fails as a 400 `InvalidImage`; never a
    /// panic (an abort, through rav1d's `extern "C"` API) or a 5xx. Returns
    /// whether it failed.
    fn decodes_or_is_invalid(bytes: &[u8], what: &str) -> bool {
        let result = super::super::probe(bytes)
            .and_then(|info| super::super::decode(bytes, &info, None).map(|_| ()));
        match result {
            Ok(()) => false,
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidImage, "{what}: {e:?}");
                assert_eq!(e.http_status(), 400, "{what}");
                true
            }
        }
    }

    /// The AV1 data of the primary item and where it starts in `bytes`.
    fn primary_av1(bytes: &[u8]) -> (Vec<u8>, usize) {
        let file = HeifFile::parse(bytes).unwrap();
        let data = file.item_data(file.primary_id).unwrap().into_owned();
        let at = bytes
            .windows(data.len())
            .position(|w| w == data.as_slice())
            .unwrap();
        (data, at)
    }

    #[test]
    fn rav1d_decode_errors_are_a_400_not_an_abort() {
        let body = &RAV1D_1497[1..];
        let info = super::super::probe(body).unwrap();
        let err = super::super::decode(body, &info, None).unwrap_err();
        assert_eq!(
            (err.code, err.http_status()),
            (ErrorCode::InvalidImage, 400)
        );
        assert!(err.message.contains("invalid AV1 data"), "{err:?}");
    }

    /// Single-bit and single-byte changes of the AV1 data of two corpus
    /// AVIFs. 156 of these cases make rav1d fail inside the frame decode, the
    /// path of rav1d#1497 (unpatched, the first of them aborts the test binary).
    #[test]
    fn bit_flipped_av1_data_is_an_image_or_a_400() {
        let white = crate::test_support::corpus("avif/white_1x1.avif");
        let (data, at) = primary_av1(&white);
        let mut failed = 0;
        for i in at..at + data.len() {
            for flip in [0x01, 0x10, 0x80, 0xFF] {
                let mut bytes = white.clone();
                bytes[i] ^= flip;
                failed += usize::from(decodes_or_is_invalid(
                    &bytes,
                    &format!("white_1x1.avif, byte {i} ^ {flip:#04x}"),
                ));
            }
        }
        assert!(failed >= 14, "{failed} white_1x1 variants failed");
        let hopper = crate::test_support::corpus("avif/hopper.avif");
        let (data, at) = primary_av1(&hopper);
        let mut failed = 0;
        for i in (at..at + data.len()).step_by(7) {
            let mut bytes = hopper.clone();
            bytes[i] ^= 0x10;
            failed += usize::from(decodes_or_is_invalid(
                &bytes,
                &format!("hopper.avif, byte {i} ^ 0x10"),
            ));
        }
        assert!(failed > 100, "{failed} hopper variants failed");
    }

    /// `obus` with its last OBU cut to `keep` payload bytes, its size field
    /// rewritten in the same number of bytes (LEB128 may be padded): a frame
    /// whose tile data ends early, in an otherwise valid stream.
    fn cut_last_obu(obus: &[u8], keep: usize) -> Vec<u8> {
        let mut at = 0;
        loop {
            let header = obus[at];
            assert!(header & 0x02 != 0, "OBU without a size field");
            let size_at = at + 1 + usize::from(header & 0x04 != 0);
            let (mut size, mut len) = (0usize, 0);
            while obus[size_at + len] & 0x80 != 0 {
                size |= usize::from(obus[size_at + len] & 0x7F) << (7 * len);
                len += 1;
            }
            size |= usize::from(obus[size_at + len]) << (7 * len);
            len += 1;
            let end = size_at + len + size;
            if end < obus.len() {
                at = end;
                continue;
            }
            assert!(keep < size && keep < 1 << (7 * len));
            let mut out = obus[..size_at + len + keep].to_vec();
            for k in 0..len {
                let more = if k + 1 < len { 0x80 } else { 0 };
                out[size_at + k] = ((keep >> (7 * k)) & 0x7F) as u8 | more;
            }
            return out;
        }
    }

    /// The frame of `hopper.avif` cut short (its OBU size adjusted, so the
    /// stream still parses): rav1d fails inside the frame decode, the path of
    /// rav1d#1497, for every cut. Cutting the file instead stops in the
    /// container parser.
    #[test]
    fn truncated_av1_frames_are_a_400() {
        let hopper = crate::test_support::corpus("avif/hopper.avif");
        let (obus, _) = primary_av1(&hopper);
        for keep in (16..obus.len() - 40).step_by(37) {
            let cut = cut_last_obu(&obus, keep);
            let err = av1::decode(&cut, None, 1 << 16).err();
            let err = err.unwrap_or_else(|| panic!("hopper cut to {keep} bytes decoded"));
            assert_eq!(err.http_status(), 400, "{err:?}");
        }
        for len in (0..hopper.len()).step_by(97) {
            decodes_or_is_invalid(&hopper[..len], &format!("hopper.avif cut to {len} bytes"));
        }
    }
}
