//! `imgproc worst-case DIR`: writes a corpus of near-limit images, made here
//! in code (nothing is downloaded), and `DIR/cases.tsv`, one line per case:
//! `file<TAB>command<TAB>what it exercises`, the command an `x-bce-process`
//! value. The e2e suite (`tests/envoy_e2e/worst_case.rs`) sends every case
//! through the real proxies; each must be answered 200 or 400
//! `ImageTooLarge`, within the cost budget (issue 20).
//!
//! Every format and decoding path is covered, at the source limits of
//! [`pipeline`] (20 MB, 30 000 px a side, 200 Mpx × frames) and just inside
//! the default budget (512 MiB, 3 s). Content is smooth or flat so that the
//! huge files stay small:
//!
//! - JPEG (`jpeg-encoder`): 50 Mpx baseline and progressive RGB gradients
//!   (their thumbnails must be processed), 14 000 × 14 000 (196 Mpx) baseline
//!   and progressive grey gradients.
//! - PNG (written here, zlib by `miniz_oxide`): an all-zero 30 000 × 6 666
//!   grey bomb, a 41 Mpx RGB gradient, a 16-bit RGB one and an
//!   Adam7-interlaced one.
//! - WebP: lossless (VP8L) written here with one-symbol prefix codes, so every
//!   pixel takes zero bits: a 16 383 × 12 207 (200 Mpx) bomb of about 40 bytes
//!   and a 36 Mpx one; a 48 Mpx lossy gradient (libwebp, method 0); animated
//!   WebPs of 20 VP8L frames at the pixel limit (20 × 10 Mpx) and at a size
//!   the budget admits.
//! - GIF (`gif` crate, LZW of flat frames): 20 frames at the pixel limit and
//!   20 smaller ones.
//! - BMP: a 24-bit 2 560 × 1 920 gradient (14 MB, close to the body limit).
//! - HEIC and AVIF: our encoders cap their output (2 Mpx, 1 Mpx), so a big
//!   file is a real HEIF `grid` item whose tiles are distinct items that all
//!   point, through `iloc`, at the same coded tile (one HEVC / AV1 tile of a
//!   noisy gradient, made by `codec::heic::encode` / `codec::avif::encode`). The decoders decode
//!   every tile, so decoding costs what a real image of that size costs:
//!   14 000 × 14 000 (784 HEVC tiles of 512 px, 1 024 AV1 tiles of 448 px),
//!   and 12 Mpx and 8 Mpx ones.
//!
//! Each file is paired with the heaviest plausible commands (rotation by an
//! odd angle, blur at the largest radius, AVIF/HEIC output, a tiled text
//! watermark) and an ordinary thumbnail. Writing the corpus (23 files, 71
//! cases) takes about 11 s with the debug build on 2 cores; every file is
//! under 20 MB.

use crate::Failure;
use base64::Engine;
use image_process_filter::codec;
use image_process_filter::raster::{PixelLayout, Raster};
use std::path::Path;

/// One line of `cases.tsv`.
struct Case {
    file: &'static str,
    command: String,
    what: String,
}

/// The text of the tiled watermark cases (URL-safe Base64 in the command).
const WATERMARK_TEXT: &str = "worst case";

/// URL-safe Base64, as watermark texts are given.
fn b64(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Commands every large still image is paired with: (command, what).
fn heavy_commands() -> Vec<(String, &'static str)> {
    let text = b64(WATERMARK_TEXT);
    vec![
        ("image/resize,m_lfit,w_200".into(), "an ordinary thumbnail"),
        (
            "image/rotate,a_33/format,f_webp".into(),
            "rotation by an odd angle, full-size WebP output",
        ),
        (
            "image/blur,r_50,s_50".into(),
            "blur at the largest radius, full size",
        ),
        (
            "image/resize,w_1920/format,f_avif".into(),
            "AVIF output over its 1 Mpx cap",
        ),
        (
            "image/resize,w_1000/format,f_avif".into(),
            "AVIF output just under its cap",
        ),
        (
            format!("image/watermark,text_{text},size_20,fill_1,t_60"),
            "a text watermark tiled over the whole image",
        ),
    ]
}

/// Writes the corpus into `dir`; prints one line per file.
pub fn run(args: &[String]) -> Result<bool, Failure> {
    let [dir] = args else {
        return Err(Failure::Usage("worst-case takes one DIR".into()));
    };
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir).map_err(|e| Failure::Io(format!("{}: {e}", dir.display())))?;
    let started = std::time::Instant::now();
    let mut cases = Vec::new();
    for (file, make, commands) in files() {
        let t = std::time::Instant::now();
        let bytes = make().map_err(|e| Failure::Io(format!("{file}: {e}")))?;
        if bytes.len() > image_process_filter::pipeline::MAX_SOURCE_BYTES {
            return Err(Failure::Io(format!(
                "{file}: {} bytes, over the 20 MB source limit",
                bytes.len()
            )));
        }
        std::fs::write(dir.join(file), &bytes)
            .map_err(|e| Failure::Io(format!("{}: {e}", dir.join(file).display())))?;
        println!(
            "{file}: {} bytes in {:.2} s",
            bytes.len(),
            t.elapsed().as_secs_f64()
        );
        for (command, what) in commands {
            cases.push(Case {
                file,
                command,
                what: what.to_string(),
            });
        }
    }
    let mut tsv = String::new();
    for c in &cases {
        tsv.push_str(&format!("{}\t{}\t{}\n", c.file, c.command, c.what));
    }
    std::fs::write(dir.join("cases.tsv"), tsv)
        .map_err(|e| Failure::Io(format!("cases.tsv: {e}")))?;
    println!(
        "imgproc worst-case: {} cases over {} files in {:.1} s",
        cases.len(),
        files().len(),
        started.elapsed().as_secs_f64()
    );
    Ok(true)
}

type Maker = fn() -> Result<Vec<u8>, String>;

/// Every file: its name, how it is made, its commands.
fn files() -> Vec<(&'static str, Maker, Vec<(String, &'static str)>)> {
    let thumb = || {
        (
            "image/resize,m_lfit,w_200".to_string(),
            "an ordinary thumbnail",
        )
    };
    let rotate_webp = || {
        (
            "image/rotate,a_33/format,f_webp".to_string(),
            "rotation by an odd angle, full-size WebP output",
        )
    };
    let to_jpg = || {
        (
            "image/format,f_jpg".to_string(),
            "a full-size re-encode to JPEG",
        )
    };
    let anim_rotate = || {
        (
            "image/resize,w_800/rotate,a_33".to_string(),
            "every frame resized and rotated, re-encoded as an animation",
        )
    };
    let anim_webp = || {
        (
            "image/format,f_webp".to_string(),
            "every frame re-encoded as an animated WebP",
        )
    };
    vec![
        (
            "jpeg_baseline_50mp.jpg",
            (|| jpeg(8660, 5776, false, true)) as Maker,
            [
                heavy_commands(),
                vec![(
                    "image/crop,x_1000,y_1000,w_3000,h_2000".into(),
                    "a crop decoded as a window of the baseline JPEG",
                )],
            ]
            .concat(),
        ),
        (
            "jpeg_progressive_50mp.jpg",
            || jpeg(8660, 5776, true, true),
            [
                heavy_commands(),
                vec![(
                    "image/resize,w_1600/format,f_heic".into(),
                    "HEIC output just under its 2 Mpx cap",
                )],
            ]
            .concat(),
        ),
        (
            "jpeg_baseline_196mp_grey.jpg",
            || jpeg(14000, 14000, false, false),
            vec![
                thumb(),
                rotate_webp(),
                ("image/blur,r_50,s_50".into(), "blur at the largest radius"),
                (
                    "image/resize,w_4000/format,f_png".into(),
                    "a full decode (1/2 scale) to a 4000 px PNG",
                ),
            ],
        ),
        (
            "jpeg_progressive_196mp_grey.jpg",
            || jpeg(14000, 14000, true, false),
            vec![thumb(), rotate_webp(), to_jpg()],
        ),
        (
            "jpeg_baseline_12mp.jpg",
            || jpeg(4000, 3000, false, true),
            vec![
                rotate_webp(),
                (
                    format!(
                        "image/watermark,text_{},size_20,fill_1,t_60",
                        b64(WATERMARK_TEXT)
                    ),
                    "a text watermark tiled over 12 Mpx",
                ),
                (
                    "image/resize,w_1000/format,f_avif".into(),
                    "AVIF output just under its cap",
                ),
            ],
        ),
        (
            "jpeg_baseline_4mp.jpg",
            || jpeg(2400, 1600, false, true),
            vec![
                ("image/blur,r_50,s_50".into(), "blur at the largest radius"),
                (
                    "image/resize,w_1200/format,f_heic".into(),
                    "HEIC output of about 1 Mpx",
                ),
                (
                    "image/rotate,a_33/format,f_avif".into(),
                    "rotation by an odd angle to AVIF",
                ),
            ],
        ),
        (
            "png_zero_bomb_30000x6666.png",
            || png(30000, 6666, Png::Grey8, false, |_, _, out| out.push(0)),
            vec![thumb(), rotate_webp()],
        ),
        (
            "png_rgb_41mp.png",
            || png(6400, 6400, Png::Rgb8, false, gradient_rgb8(6400, 6400)),
            heavy_commands(),
        ),
        (
            "png16_rgb_16mp.png",
            || png(4000, 4000, Png::Rgb16, false, gradient_rgb16(4000, 4000)),
            vec![thumb(), rotate_webp(), to_jpg()],
        ),
        (
            "png_adam7_rgb_36mp.png",
            || png(6000, 6000, Png::Rgb8, true, gradient_rgb8(6000, 6000)),
            vec![
                thumb(),
                rotate_webp(),
                ("image/blur,r_50,s_50".into(), "blur at the largest radius"),
            ],
        ),
        (
            "webp_lossless_bomb_16383x12207.webp",
            || Ok(riff_webp(&vp8l_flat(16383, 12207, [200, 120, 40, 255]))),
            vec![thumb(), rotate_webp()],
        ),
        (
            "webp_lossless_36mp.webp",
            || Ok(riff_webp(&vp8l_flat(6000, 6000, [30, 140, 220, 255]))),
            vec![
                thumb(),
                rotate_webp(),
                (
                    "image/watermark,text_d29yc3QgY2FzZQ,size_20,fill_1,t_60/format,f_png".into(),
                    "a tiled text watermark, full-size PNG output",
                ),
            ],
        ),
        (
            "webp_lossy_48mp.webp",
            || webp_lossy(8000, 6000),
            vec![
                thumb(),
                rotate_webp(),
                (
                    "image/resize,w_1000/format,f_avif".into(),
                    "a scaled lossy WebP decode, AVIF output",
                ),
            ],
        ),
        (
            "gif_anim_20x10mp.gif",
            || gif_animation(3162, 3162, 20),
            vec![thumb(), anim_webp()],
        ),
        (
            "gif_anim_20x2mp.gif",
            || gif_animation(1400, 1400, 20),
            vec![thumb(), anim_rotate(), anim_webp()],
        ),
        (
            "webp_anim_20x10mp.webp",
            || Ok(webp_animation(3162, 3162, 20)),
            vec![thumb(), anim_rotate()],
        ),
        (
            "webp_anim_20x2mp.webp",
            || Ok(webp_animation(1400, 1400, 20)),
            vec![
                thumb(),
                anim_rotate(),
                (
                    "image/format,f_gif".into(),
                    "every frame quantised to an animated GIF",
                ),
            ],
        ),
        (
            "bmp_rgb_2560x1920.bmp",
            || Ok(bmp(2560, 1920)),
            vec![thumb(), rotate_webp()],
        ),
        (
            "heic_grid_14000.heic",
            || heif_grid(Heif::Heic, 512, 28, 28, (14000, 14000)),
            vec![thumb(), to_jpg()],
        ),
        (
            "heic_grid_12mp.heic",
            || heif_grid(Heif::Heic, 512, 8, 6, (4000, 3000)),
            vec![thumb(), to_jpg()],
        ),
        (
            "heic_grid_8mp.heic",
            || heif_grid(Heif::Heic, 512, 7, 5, (3264, 2448)),
            vec![thumb()],
        ),
        (
            "avif_grid_14000.avif",
            || heif_grid(Heif::Avif, 448, 32, 32, (14000, 14000)),
            vec![thumb(), to_jpg()],
        ),
        (
            "avif_grid_12mp.avif",
            || heif_grid(Heif::Avif, 448, 9, 7, (4000, 3000)),
            vec![
                thumb(),
                to_jpg(),
                (
                    "image/resize,w_1000/format,f_heic".into(),
                    "AV1 decode, HEVC encode",
                ),
            ],
        ),
    ]
}

/// A smooth RGB gradient of `w` × `h`, 8 bits a sample.
fn gradient_rgb8(w: u32, h: u32) -> impl Fn(u32, u32, &mut Vec<u8>) {
    move |x, y, out| {
        out.extend_from_slice(&[
            (x * 255 / w) as u8,
            (y * 255 / h) as u8,
            ((x + y) * 127 / (w + h)) as u8 + 64,
        ])
    }
}

/// The same gradient at 16 bits a sample (big-endian, as PNG stores it).
fn gradient_rgb16(w: u32, h: u32) -> impl Fn(u32, u32, &mut Vec<u8>) {
    move |x, y, out| {
        for v in [
            (u64::from(x) * 65535 / u64::from(w)) as u16,
            (u64::from(y) * 65535 / u64::from(h)) as u16,
            (u64::from(x + y) * 32767 / u64::from(w + h)) as u16 + 16384,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// A gradient JPEG: RGB (`colour`) or grey, baseline or progressive.
fn jpeg(w: u32, h: u32, progressive: bool, colour: bool) -> Result<Vec<u8>, String> {
    let channels = if colour { 3 } else { 1 };
    let mut data = Vec::with_capacity(w as usize * h as usize * channels);
    let rgb = gradient_rgb8(w, h);
    for y in 0..h {
        for x in 0..w {
            if colour {
                rgb(x, y, &mut data);
            } else {
                data.push(((x + y) * 255 / (w + h)) as u8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    encoder.set_progressive(progressive);
    let colour_type = if colour {
        jpeg_encoder::ColorType::Rgb
    } else {
        jpeg_encoder::ColorType::Luma
    };
    encoder
        .encode(&data, w as u16, h as u16, colour_type)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// PNG pixel types written here.
#[derive(Clone, Copy)]
enum Png {
    Grey8,
    Rgb8,
    Rgb16,
}

/// A PNG of `w` × `h`, each pixel's bytes from `pixel(x, y, out)`; Adam7
/// interlaced when `adam7`. Every row is `Sub`-filtered (smooth content then
/// compresses to almost nothing).
fn png(
    w: u32,
    h: u32,
    kind: Png,
    adam7: bool,
    pixel: impl Fn(u32, u32, &mut Vec<u8>),
) -> Result<Vec<u8>, String> {
    let (colour_type, depth, bpp) = match kind {
        Png::Grey8 => (0u8, 8u8, 1usize),
        Png::Rgb8 => (2, 8, 3),
        Png::Rgb16 => (2, 16, 6),
    };
    // (x0, y0, dx, dy) of each pass; one pass covering all when not interlaced.
    let passes: &[(usize, usize, usize, usize)] = if adam7 {
        &codec::png::ADAM7
    } else {
        &[(0, 0, 1, 1)]
    };
    let mut raw = Vec::with_capacity((w as usize * bpp + 1) * h as usize);
    let mut row = Vec::with_capacity(w as usize * bpp);
    for &(x0, y0, dx, dy) in passes {
        let (x0, y0) = (x0 as u32, y0 as u32);
        if x0 >= w || y0 >= h {
            continue;
        }
        for y in (y0..h).step_by(dy) {
            row.clear();
            for x in (x0..w).step_by(dx) {
                pixel(x, y, &mut row);
            }
            raw.push(1); // Sub
            for i in 0..row.len() {
                let left = if i >= bpp { row[i - bpp] } else { 0 };
                raw.push(row[i].wrapping_sub(left));
            }
        }
    }
    let idat = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour_type, 0, 0, u8::from(adam7)]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[][..]),
    ] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    Ok(out)
}

/// Bits written least significant first, as VP8L reads them.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        for i in 0..bits {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if value >> i & 1 == 1 {
                *self.bytes.last_mut().unwrap_or(&mut 0) |= 1 << (self.used % 8);
            }
            self.used += 1;
        }
    }
}

/// A VP8L (lossless WebP) bitstream of `w` × `h` pixels of one colour: no
/// transform, no colour cache, one prefix-code group whose five codes each
/// have a single symbol, so every pixel is coded in zero bits.
fn vp8l_flat(w: u32, h: u32, [r, g, b, a]: [u8; 4]) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(0x2f, 8);
    bits.put(w - 1, 14);
    bits.put(h - 1, 14);
    bits.put(u32::from(a != 255), 1);
    bits.put(0, 3); // version
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
                    // Green, red, blue, alpha: simple code, one 8-bit symbol. Distance:
                    // simple code, one 1-bit symbol (0).
    for value in [g, r, b, a] {
        bits.put(1, 1);
        bits.put(0, 1);
        bits.put(1, 1);
        bits.put(u32::from(value), 8);
    }
    bits.put(1, 1);
    bits.put(0, 1);
    bits.put(0, 1);
    bits.put(0, 1);
    bits.bytes
}

/// A RIFF chunk: id, little-endian size, data, padding to even.
fn chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// A still WebP file of one VP8L bitstream.
fn riff_webp(vp8l: &[u8]) -> Vec<u8> {
    riff(&chunk(b"VP8L", vp8l))
}

fn riff(chunks: &[u8]) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + chunks.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(chunks);
    out
}

fn u24(v: u32) -> [u8; 3] {
    let b = v.to_le_bytes();
    [b[0], b[1], b[2]]
}

/// An animated WebP: `frames` flat VP8L frames of `w` × `h`, each a colour
/// of its own, no blending.
fn webp_animation(w: u32, h: u32, frames: u32) -> Vec<u8> {
    let mut vp8x = vec![0x02, 0, 0, 0]; // animation
    vp8x.extend_from_slice(&u24(w - 1));
    vp8x.extend_from_slice(&u24(h - 1));
    let mut chunks = chunk(b"VP8X", &vp8x);
    chunks.extend(chunk(b"ANIM", &[255, 255, 255, 255, 0, 0]));
    for i in 0..frames {
        let mut anmf = Vec::new();
        anmf.extend_from_slice(&u24(0));
        anmf.extend_from_slice(&u24(0));
        anmf.extend_from_slice(&u24(w - 1));
        anmf.extend_from_slice(&u24(h - 1));
        anmf.extend_from_slice(&u24(100));
        anmf.push(0x02); // do not blend, do not dispose
        let shade = (i * 12) as u8;
        anmf.extend(chunk(
            b"VP8L",
            &vp8l_flat(w, h, [shade, 255 - shade, 128, 255]),
        ));
        chunks.extend(chunk(b"ANMF", &anmf));
    }
    riff(&chunks)
}

/// A lossy WebP of a gradient, libwebp at method 0 (fast enough for 48 Mpx).
fn webp_lossy(w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut data = Vec::with_capacity(w as usize * h as usize * 3);
    let rgb = gradient_rgb8(w, h);
    for y in 0..h {
        for x in 0..w {
            rgb(x, y, &mut data);
        }
    }
    let mut config = webp::WebPConfig::new().map_err(|()| "WebPConfig".to_string())?;
    config.method = 0;
    config.quality = 50.0;
    let encoded = webp::Encoder::from_rgb(&data, w, h)
        .encode_advanced(&config)
        .map_err(|e| format!("libwebp: {e:?}"))?;
    Ok(encoded.to_vec())
}

/// An animated GIF of `frames` flat frames of `w` × `h`, each with a local
/// palette of another colour. The LZW data of a flat frame is made once and
/// written for every frame.
fn gif_animation(w: u32, h: u32, frames: u32) -> Result<Vec<u8>, String> {
    let mut coded = gif::Frame::from_indexed_pixels(
        w as u16,
        h as u16,
        vec![0u8; w as usize * h as usize],
        None,
    );
    coded.make_lzw_pre_encoded();
    let mut out = Vec::new();
    {
        let mut encoder =
            gif::Encoder::new(&mut out, w as u16, h as u16, &[]).map_err(|e| e.to_string())?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(|e| e.to_string())?;
        for i in 0..frames {
            let shade = (i * 12) as u8;
            let mut frame = coded.clone();
            frame.palette =
                Some([[shade, 255 - shade, 128], [0, 0, 0], [0, 0, 0], [0, 0, 0]].concat());
            frame.delay = 10;
            encoder
                .write_lzw_pre_encoded_frame(&frame)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

/// A 24-bit BMP (BI_RGB) gradient.
fn bmp(w: u32, h: u32) -> Vec<u8> {
    let stride = (w * 3).div_ceil(4) * 4;
    let size = 54 + stride * h;
    let mut out = Vec::with_capacity(size as usize);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // BI_RGB
    out.extend_from_slice(&(stride * h).to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    let rgb = gradient_rgb8(w, h);
    let mut px = Vec::with_capacity(3);
    for y in (0..h).rev() {
        let start = out.len();
        for x in 0..w {
            px.clear();
            rgb(x, y, &mut px);
            out.extend_from_slice(&[px[2], px[1], px[0]]);
        }
        out.resize(start + stride as usize, 0);
    }
    out
}

/// The two HEIF codecs a grid is made of.
#[derive(Clone, Copy, PartialEq)]
enum Heif {
    Heic,
    Avif,
}

/// One ISOBMFF box: its type and its payload (after the 8-byte header).
struct IsoBox<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes of `bytes` (32-bit sizes only, as our encoders write).
fn boxes(bytes: &[u8]) -> Result<Vec<IsoBox<'_>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= bytes.len() {
        let size = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
            as usize;
        if size < 8 || pos + size > bytes.len() {
            return Err(format!("a box of {size} bytes at {pos}"));
        }
        let mut kind = [0; 4];
        kind.copy_from_slice(&bytes[pos + 4..pos + 8]);
        out.push(IsoBox {
            kind,
            body: &bytes[pos + 8..pos + size],
        });
        pos += size;
    }
    Ok(out)
}

fn find<'a>(list: &'a [IsoBox<'a>], kind: &[u8; 4]) -> Result<&'a IsoBox<'a>, String> {
    list.iter()
        .find(|b| &b.kind == kind)
        .ok_or_else(|| format!("no '{}' box", String::from_utf8_lossy(kind)))
}

fn iso_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box: version and flags, then `body`.
fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut payload = vec![version];
    payload.extend_from_slice(&flags.to_be_bytes()[1..]);
    payload.extend_from_slice(body);
    iso_box(kind, &payload)
}

/// A HEIF whose primary item is a `grid` of `cols` × `rows` tiles of
/// `tile` px, cropped to `size`. The tile is coded once (a gradient, by
/// our own encoder); the grid's tiles are distinct items whose `iloc`
/// entries all point at that one coded tile.
fn heif_grid(
    codec_kind: Heif,
    tile: u32,
    cols: u32,
    rows: u32,
    size: (u32, u32),
) -> Result<Vec<u8>, String> {
    // A gradient with noise: the coded tile carries real residuals, so
    // decoding it costs what a photo's tile costs (a flat tile would be
    // almost all skipped blocks).
    let mut data = Vec::with_capacity((tile * tile * 3) as usize);
    let rgb = gradient_rgb8(tile, tile);
    for y in 0..tile {
        for x in 0..tile {
            let start = data.len();
            rgb(x, y, &mut data);
            let noise = (x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77)).rotate_left(13)
                ^ x.wrapping_add(y).wrapping_mul(0xC2B2_AE3D);
            for (i, v) in data[start..].iter_mut().enumerate() {
                let n = (noise >> (8 * i)) as u8 % 64;
                *v = v.saturating_add(n).saturating_sub(32);
            }
        }
    }
    let raster = Raster::new(tile, tile, PixelLayout::Rgb8, data).map_err(|e| e.to_string())?;
    let single = match codec_kind {
        Heif::Heic => codec::heic::encode(&raster, 60),
        Heif::Avif => codec::avif::encode(&raster, 60),
    }
    .map_err(|e| e.to_string())?;
    let top = boxes(&single)?;
    let ftyp = find(&top, b"ftyp")?;
    let meta = find(&top, b"meta")?;
    let meta_children = boxes(meta.body.get(4..).ok_or("short meta")?)?;
    let hdlr = find(&meta_children, b"hdlr")?;
    let iprp = boxes(find(&meta_children, b"iprp")?.body)?;
    let ipco = find(&iprp, b"ipco")?;
    let properties = boxes(ipco.body)?;
    let ipma = find(&iprp, b"ipma")?;
    // The original primary item's associations (ipma version 0 / flags 0:
    // u16 item ids, 1-byte associations; our encoders write that).
    let ipma_body = ipma.body;
    if ipma_body.first() != Some(&0) || ipma_body.get(3).is_some_and(|f| f & 1 == 1) {
        return Err("an ipma version or flags this generator does not read".into());
    }
    let count_assoc = usize::from(*ipma_body.get(10).ok_or("short ipma")?);
    let tile_assoc: Vec<u8> = ipma_body
        .get(11..11 + count_assoc)
        .ok_or("short ipma")?
        .to_vec();
    // The coded tile: the single item's one extent (iloc), inside the file.
    let (tile_offset, tile_length) = single_extent(find(&meta_children, b"iloc")?.body)?;
    let coded = single
        .get(tile_offset..tile_offset + tile_length)
        .ok_or("the iloc extent is outside the file")?;

    let tiles = cols * rows;
    let grid_id = tiles + 1;
    let tile_type: &[u8; 4] = match codec_kind {
        Heif::Heic => b"hvc1",
        Heif::Avif => b"av01",
    };
    let id16 = |id: u32| (id as u16).to_be_bytes();
    // pitm
    let pitm = full_box(b"pitm", 0, 0, &id16(grid_id));
    // iinf: one infe (version 2) per item.
    let mut iinf_body = (grid_id as u16).to_be_bytes().to_vec();
    for id in 1..=grid_id {
        let kind = if id == grid_id { b"grid" } else { tile_type };
        let mut infe = id16(id).to_vec();
        infe.extend_from_slice(&[0, 0]);
        infe.extend_from_slice(kind);
        infe.push(0);
        iinf_body.extend(full_box(b"infe", 2, 0, &infe));
    }
    let iinf = full_box(b"iinf", 0, 0, &iinf_body);
    // iref: the grid's tiles, in order.
    let mut dimg = id16(grid_id).to_vec();
    dimg.extend_from_slice(&(tiles as u16).to_be_bytes());
    for id in 1..=tiles {
        dimg.extend_from_slice(&id16(id));
    }
    let iref = full_box(b"iref", 0, 0, &iso_box(b"dimg", &dimg));
    // iprp: the tile's properties, then the grid's ispe.
    let mut ipco_body: Vec<u8> = Vec::new();
    for p in &properties {
        ipco_body.extend(iso_box(&p.kind, p.body));
    }
    let mut ispe = size.0.to_be_bytes().to_vec();
    ispe.extend_from_slice(&size.1.to_be_bytes());
    ipco_body.extend(full_box(b"ispe", 0, 0, &ispe));
    let grid_ispe_index = properties.len() as u8 + 1;
    let mut ipma_new = grid_id.to_be_bytes().to_vec();
    for id in 1..=grid_id {
        ipma_new.extend_from_slice(&id16(id));
        if id == grid_id {
            ipma_new.extend_from_slice(&[1, grid_ispe_index]);
        } else {
            ipma_new.push(tile_assoc.len() as u8);
            ipma_new.extend_from_slice(&tile_assoc);
        }
    }
    let iprp_new = iso_box(
        b"iprp",
        &[
            iso_box(b"ipco", &ipco_body),
            full_box(b"ipma", 0, 0, &ipma_new),
        ]
        .concat(),
    );
    // The grid descriptor (32-bit output sizes).
    let mut grid = vec![0u8, 1, (rows - 1) as u8, (cols - 1) as u8];
    grid.extend_from_slice(&size.0.to_be_bytes());
    grid.extend_from_slice(&size.1.to_be_bytes());
    // iloc version 0, 4-byte offsets and lengths; offsets filled in once
    // the size of everything before mdat is known (it does not depend on them).
    let iloc = |mdat_data: u32| {
        let mut body = vec![0x44, 0x00];
        body.extend_from_slice(&(grid_id as u16).to_be_bytes());
        for id in 1..=grid_id {
            body.extend_from_slice(&id16(id));
            body.extend_from_slice(&[0, 0, 0, 1]);
            let (offset, length) = if id == grid_id {
                (mdat_data + coded.len() as u32, grid.len() as u32)
            } else {
                (mdat_data, coded.len() as u32)
            };
            body.extend_from_slice(&offset.to_be_bytes());
            body.extend_from_slice(&length.to_be_bytes());
        }
        full_box(b"iloc", 0, 0, &body)
    };
    let build_meta = |mdat_data: u32| {
        full_box(
            b"meta",
            0,
            0,
            &[
                iso_box(b"hdlr", hdlr.body),
                pitm.clone(),
                iloc(mdat_data),
                iinf.clone(),
                iref.clone(),
                iprp_new.clone(),
            ]
            .concat(),
        )
    };
    let ftyp_box = iso_box(b"ftyp", ftyp.body);
    let before = ftyp_box.len() + build_meta(0).len() + 8;
    let mut out = ftyp_box;
    out.extend(build_meta(before as u32));
    out.extend(iso_box(b"mdat", &[coded, &grid[..]].concat()));
    // The file must read back as the big image.
    let info = codec::probe(&out).map_err(|e| format!("the grid file does not probe: {e}"))?;
    if (info.width, info.height) != size {
        return Err(format!(
            "the grid file probes as {}x{}",
            info.width, info.height
        ));
    }
    Ok(out)
}

/// The one extent of the one item of an `iloc` box body (version 0 or 1,
/// no base offset, construction method 0): (offset, length).
fn single_extent(body: &[u8]) -> Result<(usize, usize), String> {
    let version = *body.first().ok_or("short iloc")?;
    let sizes = body.get(4..6).ok_or("short iloc")?;
    let offset_size = usize::from(sizes[0] >> 4);
    let length_size = usize::from(sizes[0] & 15);
    let base_size = usize::from(sizes[1] >> 4);
    let index_size = if version >= 1 {
        usize::from(sizes[1] & 15)
    } else {
        0
    };
    let read = |pos: usize, n: usize| -> Result<usize, String> {
        let b = body.get(pos..pos + n).ok_or("short iloc")?;
        Ok(b.iter().fold(0usize, |v, &x| v << 8 | usize::from(x)))
    };
    let mut pos = 6;
    let count = read(pos, 2)?;
    pos += 2;
    if count != 1 {
        return Err(format!("iloc has {count} items, want 1"));
    }
    pos += 2; // item id
    if version >= 1 {
        if read(pos, 2)? & 15 != 0 {
            return Err("the tile is not stored in the file".into());
        }
        pos += 2;
    }
    pos += 2; // data reference index
    let base = read(pos, base_size)?;
    pos += base_size;
    let extents = read(pos, 2)?;
    pos += 2;
    if extents != 1 {
        return Err(format!("the tile has {extents} extents, want 1"));
    }
    pos += index_size;
    let offset = read(pos, offset_size)?;
    let length = read(pos + offset_size, length_size)?;
    Ok((base + offset, length))
}
