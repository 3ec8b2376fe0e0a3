//! How close a processed image is to a full-quality reference of the same
//! size: the source decoded at full scale (no shrink-on-load), turned upright,
//! and resampled with Lanczos3 straight to the output's size.
//!
//! `cargo run --release --example fidelity -- SOURCE OUTPUT...`
//!
//! Prints one line per output:
//! `<path>\t<width>x<height>\t<PSNR in dB>\t<SSIMULACRA2>`.
//!
//! - PSNR: RGB, 8 bit; `inf` for identical pixels.
//! - SSIMULACRA2 (Cloudinary's perceptual metric, the `ssimulacra2` crate):
//!   100 for identical pixels, 90 and up visually lossless, 70 high quality,
//!   50 medium; it can go below 0.
//!
//! `cargo xtask bench` uses it to check that the fast path (1/2–1/8 IDCT
//! scaling, then Lanczos3) stays close to the reference, and to put the
//! peers' outputs on the same scale.

use image_process_filter::codec;
use image_process_filter::raster::{Orientation, Raster};
use std::process::ExitCode;

fn decode_file(path: &str) -> Result<(Raster, u16), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let info = codec::probe(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let raster = codec::decode(&bytes, &info, None).map_err(|e| format!("{path}: {e}"))?;
    Ok((raster, info.orientation))
}

/// Peak signal-to-noise ratio of two same-sized RGB images, in dB.
fn psnr(a: &Raster, b: &Raster) -> f64 {
    let (a, b) = (a.flatten([255, 255, 255]), b.flatten([255, 255, 255]));
    let sum: f64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    let mse = sum / a.data.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// SSIMULACRA2 of `distorted` against `source` (same size; alpha flattened
/// on white), from 100 (identical) down.
fn ssimulacra2(source: &Raster, distorted: &Raster) -> Result<f64, String> {
    use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic};
    let to_rgb = |r: &Raster| {
        let flat = r.flatten([255, 255, 255]);
        let data = flat
            .data
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]].map(|c| f32::from(c) / 255.0))
            .collect();
        Rgb::new(
            data,
            flat.width as usize,
            flat.height as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
        .map_err(|e| format!("SSIMULACRA2 input: {e}"))
    };
    ssimulacra2::compute_frame_ssimulacra2(to_rgb(source)?, to_rgb(distorted)?)
        .map_err(|e| format!("SSIMULACRA2: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let (source, outputs) = args
        .split_first()
        .filter(|(_, o)| !o.is_empty())
        .ok_or("usage: fidelity SOURCE OUTPUT...")?;
    let (full, orientation) = decode_file(source)?;
    let upright = full.orient(Orientation::from_exif(orientation));
    for path in outputs {
        let (out, _) = decode_file(path)?;
        let reference = upright
            .resize(out.width, out.height)
            .map_err(|e| e.to_string())?;
        println!(
            "{path}\t{}x{}\t{:.2}\t{:.2}",
            out.width,
            out.height,
            psnr(&reference, &out),
            ssimulacra2(&reference, &out)?
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fidelity: {e}");
            ExitCode::FAILURE
        }
    }
}
