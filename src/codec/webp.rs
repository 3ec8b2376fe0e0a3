//! WebP (RFC 9649): decoding still lossy and lossless files through libwebp
//! (with shrink-on-load), animations through `image-webp`; lossy encoding through libwebp (`webp` crate; compiled for wasm32 by clang
//! against wasi-libc), lossless only when asked for later.
//!
//! Animated WebP: [`probe`] counts the `ANMF` chunks by walking the RIFF chunk
//! list (no frame is decoded); [`decode_animation`] composes the frames with
//! `image-webp`; [`encode_animation`] uses libwebp's `WebPAnimEncoder`.

use super::animation::{Animation, Frame};
use super::yuv::Yuv420;
use super::{decode_error, ImageFormat, SourceInfo};
use crate::error::{ProcessError, Result};
use crate::raster::{PixelLayout, Raster};
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, DynamicImage, ExtendedColorType, ImageDecoder};
use std::io::Cursor;

/// Largest side libwebp encodes, in px.
pub const MAX_SIDE: u32 = 16_383;

/// Reads size, alpha and frame count from the RIFF header and chunk list.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo> {
    let decoder =
        WebPDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Webp, e))?;
    let (width, height) = decoder.dimensions();
    let (frames, _) = animation_chunks(bytes);
    Ok(SourceInfo {
        format: ImageFormat::Webp,
        width,
        height,
        frames: frames.max(1),
        quality: None,
        has_alpha: decoder.color_type().has_alpha(),
        orientation: 1,
    })
}

/// Walks the RIFF chunk list: the number of `ANMF` (frame) chunks and the
/// loop count of the `ANIM` chunk (0 = forever; 0 when absent). Stops at the
/// end of the data or at a chunk that overruns it.
pub(crate) fn animation_chunks(bytes: &[u8]) -> (u32, u16) {
    let (mut frames, mut loops) = (0u32, 0u16);
    let mut pos = 12usize;
    while let Some(head) = bytes.get(pos..pos + 8) {
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        match &head[..4] {
            b"ANMF" => frames += 1,
            b"ANIM" => {
                if let Some(p) = bytes.get(pos + 12..pos + 14) {
                    loops = u16::from_le_bytes([p[0], p[1]]);
                }
            }
            _ => {}
        }
        pos = match pos.checked_add(8 + size + (size & 1)) {
            Some(next) => next,
            None => break,
        };
    }
    (frames, loops)
}

/// Decodes every frame of an animated WebP as a full canvas (at most
/// `info.frames`), with its duration in ms and the loop count (0 = forever).
/// A still WebP gives one frame.
pub fn decode_animation(bytes: &[u8], info: &SourceInfo) -> Result<Animation> {
    let (anmf, loop_count) = animation_chunks(bytes);
    if anmf == 0 {
        return Ok(Animation {
            frames: vec![Frame {
                raster: decode(bytes)?,
                delay_ms: 0,
            }],
            loop_count: 0,
        });
    }
    let decoder =
        WebPDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Webp, e))?;
    let mut frames = Vec::new();
    for frame in decoder.into_frames().take(info.frames as usize) {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) if frames.is_empty() => return Err(decode_error(ImageFormat::Webp, e)),
            // A broken later frame ends the animation.
            Err(_) => break,
        };
        let (numer, denom) = frame.delay().numer_denom_ms();
        let delay_ms = numer.checked_div(denom).unwrap_or(0);
        let buffer = frame.into_buffer();
        let (w, h) = buffer.dimensions();
        frames.push(Frame {
            raster: super::gif::rgba_to_raster(w, h, buffer.into_raw())?,
            delay_ms,
        });
    }
    if frames.is_empty() {
        return Err(decode_error(
            ImageFormat::Webp,
            "the animation has no frames",
        ));
    }
    Ok(Animation { frames, loop_count })
}

/// Encodes an animation with libwebp's animation encoder: lossy at `quality`
/// (1–100), delays in ms, loop count 0 = forever. Every frame must have the
/// size of the first one. libwebp may merge identical consecutive frames
/// (adding up their delays).
pub fn encode_animation(animation: &Animation, quality: u8) -> Result<Vec<u8>> {
    use libwebp_sys as sys;
    use std::ffi::c_int;
    let fail = |what: &str| ProcessError::internal(format!("WebP animation encoder: {what}"));
    let first = animation.frames.first().ok_or_else(|| fail("no frames"))?;
    let (w, h) = first.raster.size();
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(ProcessError::too_large(format!(
            "a webp is at most {MAX_SIDE} px on each side, the result is {w}x{h}"
        )));
    }
    if animation.frames.iter().any(|f| f.raster.size() != (w, h)) {
        return Err(fail("frames of different sizes"));
    }
    let config = sys::WebPConfig::new_with_preset(
        sys::WebPPreset::WEBP_PRESET_DEFAULT,
        f32::from(quality.clamp(1, 100)),
    )
    .map_err(|()| fail("config"))?;

    /// Deletes the encoder on every path.
    struct Encoder(*mut sys::WebPAnimEncoder);
    impl Drop for Encoder {
        fn drop(&mut self) {
            // SAFETY: the pointer came from WebPAnimEncoderNewInternal and is deleted once.
            unsafe { sys::WebPAnimEncoderDelete(self.0) }
        }
    }

    // SAFETY: every libwebp object below is initialised by libwebp's own init
    // functions, pictures borrow `raster.data` (alive for the call) and are
    // freed after use, and the output is copied before it is freed.
    unsafe {
        let mut options = std::mem::MaybeUninit::<sys::WebPAnimEncoderOptions>::zeroed();
        if sys::WebPAnimEncoderOptionsInitInternal(
            options.as_mut_ptr(),
            sys::WebPGetMuxABIVersion(),
        ) == 0
        {
            return Err(fail("options"));
        }
        let mut options = options.assume_init();
        options.anim_params.loop_count = c_int::from(animation.loop_count);
        let encoder = sys::WebPAnimEncoderNewInternal(
            w as c_int,
            h as c_int,
            &options,
            sys::WebPGetMuxABIVersion(),
        );
        if encoder.is_null() {
            return Err(fail("cannot create the encoder"));
        }
        let encoder = Encoder(encoder);
        let mut timestamp: c_int = 0;
        for frame in &animation.frames {
            let raster = &frame.raster;
            let mut picture = sys::WebPPicture::new().map_err(|()| fail("picture"))?;
            picture.use_argb = 1;
            picture.width = w as c_int;
            picture.height = h as c_int;
            let imported = match raster.layout {
                PixelLayout::Rgb8 => {
                    sys::WebPPictureImportRGB(&mut picture, raster.data.as_ptr(), (w * 3) as c_int)
                }
                PixelLayout::Rgba8 => {
                    sys::WebPPictureImportRGBA(&mut picture, raster.data.as_ptr(), (w * 4) as c_int)
                }
            };
            let added = imported != 0
                && sys::WebPAnimEncoderAdd(encoder.0, &mut picture, timestamp, &config) != 0;
            sys::WebPPictureFree(&mut picture);
            if !added {
                return Err(fail("adding a frame"));
            }
            let delay = c_int::try_from(frame.delay_ms).unwrap_or(c_int::MAX);
            timestamp = timestamp.saturating_add(delay);
        }
        if sys::WebPAnimEncoderAdd(encoder.0, std::ptr::null_mut(), timestamp, std::ptr::null())
            == 0
        {
            return Err(fail("closing the animation"));
        }
        let mut data = sys::WebPData::default();
        if sys::WebPAnimEncoderAssemble(encoder.0, &mut data) == 0 || data.bytes.is_null() {
            return Err(fail("assembling the file"));
        }
        let out = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
        sys::WebPDataClear(&mut data);
        Ok(out)
    }
}

/// Decodes to 8-bit RGB or RGBA (the first frame of an animation).
pub fn decode(bytes: &[u8]) -> Result<Raster> {
    decode_scaled(bytes, None)
}

/// Decodes a still WebP to 8-bit RGB or RGBA (straight alpha) with libwebp,
/// scaled down while decoding (shrink-on-load) when `min_size` allows: to
/// the smallest size, aspect kept, that covers twice `min_size` (libwebp's
/// rescaler averages areas, a box filter, so Lanczos3 is left a real
/// downscale after it, as after JPEG's 1/8 IDCT). The first frame of an
/// animation is decoded by `image-webp` at full size instead (libwebp's
/// simple decoder does not read animations).
pub fn decode_scaled(bytes: &[u8], min_size: Option<(u32, u32)>) -> Result<Raster> {
    use libwebp_sys as sys;
    use std::ffi::c_int;
    let fail = |what: String| decode_error(ImageFormat::Webp, what);
    // SAFETY: `WebPGetFeatures` reads at most `bytes.len()` bytes and fills
    // the struct it is given.
    let features = unsafe {
        let mut f = std::mem::MaybeUninit::<sys::WebPBitstreamFeatures>::zeroed();
        let status = sys::WebPGetFeatures(bytes.as_ptr(), bytes.len(), f.as_mut_ptr());
        if status != sys::VP8StatusCode::VP8_STATUS_OK {
            return Err(fail(format!("bad header ({status:?})")));
        }
        f.assume_init()
    };
    if features.has_animation != 0 {
        let decoder =
            WebPDecoder::new(Cursor::new(bytes)).map_err(|e| decode_error(ImageFormat::Webp, e))?;
        return raster_from_decoder(decoder, ImageFormat::Webp);
    }
    let (w, h) = (
        u32::try_from(features.width).map_err(|_| fail("negative width".into()))?,
        u32::try_from(features.height).map_err(|_| fail("negative height".into()))?,
    );
    let (out_w, out_h) = min_size.map_or((w, h), |min| scaled_size((w, h), min));
    let layout = if features.has_alpha != 0 {
        PixelLayout::Rgba8
    } else {
        PixelLayout::Rgb8
    };
    let stride = out_w as usize * layout.channels();
    let mut data = vec![0u8; stride * out_h as usize];
    let mut config = sys::WebPDecoderConfig::new().map_err(|()| fail("decoder config".into()))?;
    config.output.colorspace = match layout {
        PixelLayout::Rgb8 => sys::WEBP_CSP_MODE::MODE_RGB,
        PixelLayout::Rgba8 => sys::WEBP_CSP_MODE::MODE_RGBA,
    };
    if (out_w, out_h) != (w, h) {
        config.options.use_scaling = 1;
        config.options.scaled_width = out_w as c_int;
        config.options.scaled_height = out_h as c_int;
    }
    config.output.is_external_memory = 1;
    config.output.u.RGBA = sys::WebPRGBABuffer {
        rgba: data.as_mut_ptr(),
        stride: stride as c_int,
        size: data.len(),
    };
    // SAFETY: libwebp writes at most `size` bytes at `rgba` with rows of
    // `stride` bytes (checked by libwebp against the output size); `data`
    // outlives the call; `WebPFreeDecBuffer` frees only libwebp's own memory
    // (none, as the memory is external).
    let status = unsafe {
        let status = sys::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        sys::WebPFreeDecBuffer(&mut config.output);
        status
    };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(fail(format!("libwebp: {status:?}")));
    }
    Raster::new(out_w, out_h, layout, data)
}

/// The decode size for `min_size`: aspect kept, each side at least twice
/// `min_size` (and at most the source), as few pixels as that allows.
pub(crate) fn scaled_size(full: (u32, u32), min_size: (u32, u32)) -> (u32, u32) {
    let scale = (2.0 * f64::from(min_size.0) / f64::from(full.0))
        .max(2.0 * f64::from(min_size.1) / f64::from(full.1));
    if scale >= 1.0 {
        return full;
    }
    let side = |len: u32, min: u32| {
        ((f64::from(len) * scale).ceil() as u32).clamp(min.saturating_mul(2).max(1), len)
    };
    (side(full.0, min_size.0), side(full.1, min_size.1))
}

/// Encodes lossy WebP at `quality` (1–100), keeping alpha when present.
pub fn encode(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    let encoder = match raster.layout {
        PixelLayout::Rgb8 => webp::Encoder::from_rgb(&raster.data, raster.width, raster.height),
        PixelLayout::Rgba8 => webp::Encoder::from_rgba(&raster.data, raster.width, raster.height),
    };
    let memory = encoder
        .encode_simple(false, f32::from(quality.clamp(1, 100)))
        .map_err(|e| ProcessError::internal(format!("WebP encoder: {e:?}")))?;
    Ok(memory.to_vec())
}

/// Encodes a 4:2:0 picture as lossy WebP at `quality` (1–100), with the
/// settings of [`encode`]: libwebp takes the planes as they are, without
/// converting from RGB ([`super::yuv`]).
pub fn encode_yuv420(picture: &Yuv420, quality: u8) -> Result<Vec<u8>> {
    use libwebp_sys as sys;
    use std::ffi::c_int;
    let fail = |what: &str| ProcessError::internal(format!("WebP encoder: {what}"));
    let (w, h) = (picture.width, picture.height);
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(ProcessError::too_large(format!(
            "a webp is at most {MAX_SIDE} px on each side, the result is {w}x{h}"
        )));
    }
    let (cw, ch) = picture.chroma_size();
    let (luma, chroma) = ((w * h) as usize, (cw * ch) as usize);
    if w == 0
        || h == 0
        || picture.y.len() != luma
        || picture.u.len() != chroma
        || picture.v.len() != chroma
    {
        return Err(fail("planes that do not match the picture size"));
    }
    let config = sys::WebPConfig::new_with_preset(
        sys::WebPPreset::WEBP_PRESET_DEFAULT,
        f32::from(quality.clamp(1, 100)),
    )
    .map_err(|()| fail("config"))?;
    /// Frees the picture's planes on every path.
    struct Picture(sys::WebPPicture);
    impl Drop for Picture {
        fn drop(&mut self) {
            // SAFETY: the picture was initialised by WebPPictureInitInternal;
            // freeing one without planes is a no-op.
            unsafe { sys::WebPPictureFree(&mut self.0) }
        }
    }
    /// Frees the output buffer on every path.
    struct Writer(sys::WebPMemoryWriter);
    impl Drop for Writer {
        fn drop(&mut self) {
            // SAFETY: initialised by WebPMemoryWriterInit, cleared once.
            unsafe { sys::WebPMemoryWriterClear(&mut self.0) }
        }
    }
    // SAFETY: the picture's planes are allocated by libwebp for its size and
    // filled row by row within their strides from slices whose lengths were
    // checked above; the writer outlives the encode and its output is
    // copied before it is freed.
    unsafe {
        let mut picture_out = Picture(sys::WebPPicture::new().map_err(|()| fail("picture"))?);
        let pic = &mut picture_out.0;
        pic.use_argb = 0;
        pic.colorspace = sys::WebPEncCSP::WEBP_YUV420;
        pic.width = w as c_int;
        pic.height = h as c_int;
        if sys::WebPPictureAlloc(pic) == 0 {
            return Err(fail("out of memory for the picture"));
        }
        let copy = |src: &[u8], width: usize, dst: *mut u8, stride: c_int| {
            for (row, line) in src.chunks_exact(width).enumerate() {
                std::ptr::copy_nonoverlapping(line.as_ptr(), dst.add(row * stride as usize), width);
            }
        };
        copy(&picture.y, w as usize, pic.y, pic.y_stride);
        copy(&picture.u, cw as usize, pic.u, pic.uv_stride);
        copy(&picture.v, cw as usize, pic.v, pic.uv_stride);
        let mut writer = Writer(std::mem::zeroed());
        sys::WebPMemoryWriterInit(&mut writer.0);
        pic.writer = Some(sys::WebPMemoryWrite);
        pic.custom_ptr = std::ptr::from_mut(&mut writer.0).cast();
        if sys::WebPEncode(&config, pic) == 0 {
            return Err(fail(&format!("{:?}", pic.error_code)));
        }
        if writer.0.mem.is_null() {
            return Err(fail("no output"));
        }
        Ok(std::slice::from_raw_parts(writer.0.mem, writer.0.size).to_vec())
    }
}

/// Runs an `image` decoder to an 8-bit RGB or RGBA raster.
pub(crate) fn raster_from_decoder(
    decoder: impl ImageDecoder,
    format: ImageFormat,
) -> Result<Raster> {
    let has_alpha = decoder.color_type().has_alpha();
    let image = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(format, e))?;
    let (w, h) = (image.width(), image.height());
    if has_alpha {
        Raster::new(w, h, PixelLayout::Rgba8, image.into_rgba8().into_raw())
    } else {
        Raster::new(w, h, PixelLayout::Rgb8, image.into_rgb8().into_raw())
    }
}

/// The `image` colour type of a raster.
pub(crate) fn extended_color_type(raster: &Raster) -> ExtendedColorType {
    match raster.layout {
        PixelLayout::Rgb8 => ExtendedColorType::Rgb8,
        PixelLayout::Rgba8 => ExtendedColorType::Rgba8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::corpus;

    #[test]
    fn scaled_size_covers_twice_the_target_and_keeps_the_aspect() {
        assert_eq!(scaled_size((480, 360), (50, 40)), (107, 80));
        assert_eq!(scaled_size((4272, 2848), (200, 133)), (400, 267));
        // Nothing to gain: the full size.
        assert_eq!(scaled_size((480, 360), (300, 10)), (480, 360));
    }

    /// libwebp's decode matches image-webp's (lossy: within rounding of the
    /// YUV conversion; lossless and alpha: exactly), and the scaled decode
    /// has the planned size and looks like the full one made small.
    #[test]
    fn libwebp_decode_agrees_with_image_webp_and_scales() {
        for (name, max_diff) in [
            ("webp/flower.webp", 3),
            ("webp/lossy_alpha.webp", 3),
            ("webp/color_index.webp", 0),
        ] {
            let bytes = corpus(name);
            let ours = decode(&bytes).unwrap();
            let reference = raster_from_decoder(
                WebPDecoder::new(Cursor::new(&bytes[..])).unwrap(),
                ImageFormat::Webp,
            )
            .unwrap();
            assert_eq!(ours.size(), reference.size(), "{name}");
            assert_eq!(ours.layout, reference.layout, "{name}");
            let worst = ours
                .data
                .iter()
                .zip(&reference.data)
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(worst <= max_diff, "{name}: largest difference {worst}");
        }
        let bytes = corpus("webp/flower.webp");
        let full = decode(&bytes).unwrap();
        let (w, h) = full.size();
        let small = decode_scaled(&bytes, Some((w / 8, h / 8))).unwrap();
        assert_eq!(small.size(), scaled_size((w, h), (w / 8, h / 8)));
        assert!(small.width < w && small.height < h);
        let expected = full.resize(small.width, small.height).unwrap();
        let mean = small
            .data
            .iter()
            .zip(&expected.data)
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / small.data.len() as f64;
        assert!(mean < 4.0, "mean difference {mean:.2}");
    }
}
