//! How close a processed image is to a full-quality reference of the same
//! size: the source decoded at full scale (no shrink-on-load), turned upright,
//! and resampled with Lanczos3 straight to the output's size.
//!
//! `cargo run --release --example fidelity -- SOURCE OUTPUT...`
//!
//! Prints one line per output: `<path>\t<width>x<height>\t<PSNR in dB>` (RGB,
//! 8 bit; `inf` for identical pixels). `cargo xtask bench` uses it to check
//! that the fast path (1/2–1/8 IDCT scaling, then Lanczos3) stays close to the
//! reference, and to put the peers' outputs on the same scale.

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
            "{path}\t{}x{}\t{:.2}",
            out.width,
            out.height,
            psnr(&reference, &out)
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
