//! The cost model: for each kind of [`Work`] a pipeline stage does, the
//! bytes it allocates and the time it takes per pixel in the wasm build.
//!
//! The rates below are upper bounds from measurements of the release
//! `.wasm` running in Envoy (V8) on the CI machine's kind (2 shared cores,
//! AMD EPYC), with the machine loaded (load average about 6): `cargo xtask
//! calibrate` runs 40 cases (3 times each, sources of every format and path
//! at several Mpx, plus the worst-case corpus of `imgproc worst-case`), reads
//! each stage's `cost:` log line and prints the measured ns/px and bytes/px
//! next to these, so a change that makes a stage slower or hungrier shows up
//! as a rate to raise. A rate is the larger of 1.25 × the highest measured
//! per-pixel cost (samples of at least 100 kpx) and the first estimate; the
//! encoders of AVIF and HEIC, seconds per megapixel, are set near their
//! measured maximum (1.45 and 4.0 µs/px) so that a 1920×1080 result fits the
//! default budget. Memory rates count what the Rust code allocates (the
//! filter's counting allocator, [`super::meter`]); libwebp's buffers (C, its
//! own `malloc`) are not counted, and its rates keep the first estimate.

/// The kinds of work a pipeline stage does. Each names which pixels its
/// rates apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Work {
    /// A JPEG at 1/8 scale from its DC coefficients: time per source px,
    /// memory per decoded px.
    DecodeJpegDc,
    /// A baseline (sequential) JPEG by `jpeg-decoder`, at full, 1/2 or 1/4
    /// scale: time per source px, memory per decoded px.
    DecodeJpegBaseline,
    /// A progressive JPEG (every coefficient of the image is kept until the
    /// last scan): time per source px, memory per source px plus decoded px
    /// (the coefficients, then planes and pixels at the decoded scale).
    DecodeJpegProgressive,
    /// A window of a baseline JPEG: time per source px (the rows above it
    /// are entropy-decoded), memory per window px.
    DecodeJpegWindow,
    /// An 8-bit PNG: per px.
    DecodePng,
    /// A 16-bit PNG: per px.
    DecodePng16,
    /// An Adam7-interlaced PNG: per px.
    DecodePngInterlaced,
    /// A lossy WebP, possibly scaled while decoding: time per source px,
    /// memory per decoded px.
    DecodeWebpLossy,
    /// A lossless WebP: per px.
    DecodeWebpLossless,
    /// A still GIF: per px.
    DecodeGif,
    /// A BMP: per px.
    DecodeBmp,
    /// An AVIF (AV1, rav1d): per px.
    DecodeAvif,
    /// A HEIC (HEVC): per px.
    DecodeHeic,
    /// Every frame of an animated GIF or WebP: per canvas px × frames.
    DecodeAnimation,
    /// A resize (any mode): per px of the larger of input and result.
    Resize,
    /// A quarter turn or flip: per px.
    Turn,
    /// A rotation by another angle: per px of the result.
    Rotate,
    /// Gaussian blur or sharpen: per px × (2 × radius + 1) (separable kernel).
    Blur,
    /// Crop, indexcrop: per px of the result.
    Crop,
    /// Circle, rounded corners (alpha added): per px.
    Mask,
    /// Brightness, contrast, grey: per px.
    Adjust,
    /// Drawing a watermark (image or text), tiles included: per px.
    Watermark,
    /// Embedding or extracting a blind watermark: per px.
    BlindWatermark,
    /// Baseline JPEG output: per px.
    EncodeJpeg,
    /// Progressive JPEG output: per px.
    EncodeJpegProgressive,
    /// PNG output (interlaced or not): per px.
    EncodePng,
    /// WebP output (libwebp): per px, × frames for animations.
    EncodeWebp,
    /// GIF output (palette quantisation): per px, × frames for animations.
    EncodeGif,
    /// BMP output: per px.
    EncodeBmp,
    /// AVIF output: per px.
    EncodeAvif,
    /// HEIC output: per px.
    EncodeHeic,
}

/// What one pixel of a [`Work`] costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rate {
    /// Bytes allocated per px at the stage's peak, its result included.
    pub(crate) bytes_per_px: f64,
    /// Bytes allocated whatever the size (tables, buffers of fixed size).
    pub(crate) fixed_bytes: u64,
    /// Nanoseconds per px in the wasm build.
    pub(crate) ns_per_px: f64,
}

const fn rate(bytes_per_px: f64, ns_per_px: f64) -> Rate {
    Rate {
        bytes_per_px,
        fixed_bytes: 1 << 20,
        ns_per_px,
    }
}

impl Rate {
    /// The same rate with `mib` MiB allocated whatever the size.
    const fn plus_fixed_mib(self, mib: u64) -> Rate {
        Rate {
            fixed_bytes: mib << 20,
            ..self
        }
    }
}

impl Work {
    /// Every kind, for calibration reports.
    // Used by xtask's calibrate, which compiles this file on its own, and
    // by the tests; the filter has no use for it.
    #[allow(dead_code)]
    pub(crate) const ALL: [Work; 31] = [
        Work::DecodeJpegDc,
        Work::DecodeJpegBaseline,
        Work::DecodeJpegProgressive,
        Work::DecodeJpegWindow,
        Work::DecodePng,
        Work::DecodePng16,
        Work::DecodePngInterlaced,
        Work::DecodeWebpLossy,
        Work::DecodeWebpLossless,
        Work::DecodeGif,
        Work::DecodeBmp,
        Work::DecodeAvif,
        Work::DecodeHeic,
        Work::DecodeAnimation,
        Work::Resize,
        Work::Turn,
        Work::Rotate,
        Work::Blur,
        Work::Crop,
        Work::Mask,
        Work::Adjust,
        Work::Watermark,
        Work::BlindWatermark,
        Work::EncodeJpeg,
        Work::EncodeJpegProgressive,
        Work::EncodePng,
        Work::EncodeWebp,
        Work::EncodeGif,
        Work::EncodeBmp,
        Work::EncodeAvif,
        Work::EncodeHeic,
    ];

    /// Its name in log lines and calibration reports.
    // The log lines are the glue's (wasm32 and tests); xtask's calibrate
    // uses it natively.
    #[allow(dead_code)]
    pub(crate) fn key(self) -> &'static str {
        match self {
            Work::DecodeJpegDc => "decode-jpeg-dc",
            Work::DecodeJpegBaseline => "decode-jpeg-baseline",
            Work::DecodeJpegProgressive => "decode-jpeg-progressive",
            Work::DecodeJpegWindow => "decode-jpeg-window",
            Work::DecodePng => "decode-png",
            Work::DecodePng16 => "decode-png16",
            Work::DecodePngInterlaced => "decode-png-interlaced",
            Work::DecodeWebpLossy => "decode-webp-lossy",
            Work::DecodeWebpLossless => "decode-webp-lossless",
            Work::DecodeGif => "decode-gif",
            Work::DecodeBmp => "decode-bmp",
            Work::DecodeAvif => "decode-avif",
            Work::DecodeHeic => "decode-heic",
            Work::DecodeAnimation => "decode-animation",
            Work::Resize => "resize",
            Work::Turn => "turn",
            Work::Rotate => "rotate",
            Work::Blur => "blur",
            Work::Crop => "crop",
            Work::Mask => "mask",
            Work::Adjust => "adjust",
            Work::Watermark => "watermark",
            Work::BlindWatermark => "blind-watermark",
            Work::EncodeJpeg => "encode-jpeg",
            Work::EncodeJpegProgressive => "encode-jpeg-progressive",
            Work::EncodePng => "encode-png",
            Work::EncodeWebp => "encode-webp",
            Work::EncodeGif => "encode-gif",
            Work::EncodeBmp => "encode-bmp",
            Work::EncodeAvif => "encode-avif",
            Work::EncodeHeic => "encode-heic",
        }
    }

    /// The kind a [`Work::key`] names.
    // Used by xtask's calibrate and by the tests only.
    #[allow(dead_code)]
    pub(crate) fn from_key(key: &str) -> Option<Work> {
        Work::ALL.into_iter().find(|w| w.key() == key)
    }

    /// What one pixel costs (see the module documentation for where the
    /// numbers come from).
    pub(crate) fn rate(self) -> Rate {
        match self {
            Work::DecodeJpegDc => rate(8.0, 3.0).plus_fixed_mib(8),
            // CMYK sources build an ICC transform of about 6 MiB.
            Work::DecodeJpegBaseline => rate(10.0, 20.0).plus_fixed_mib(8),
            Work::DecodeJpegProgressive => rate(7.0, 40.0).plus_fixed_mib(8),
            Work::DecodeJpegWindow => rate(8.0, 10.0).plus_fixed_mib(8),
            Work::DecodePng => rate(6.0, 30.0),
            Work::DecodePng16 => rate(12.0, 110.0),
            Work::DecodePngInterlaced => rate(6.0, 45.0),
            Work::DecodeWebpLossy => rate(10.0, 16.0),
            Work::DecodeWebpLossless => rate(14.0, 40.0),
            Work::DecodeGif => rate(20.0, 25.0),
            Work::DecodeBmp => rate(8.0, 10.0),
            Work::DecodeAvif => rate(20.0, 150.0),
            Work::DecodeHeic => rate(20.0, 135.0),
            Work::DecodeAnimation => rate(12.0, 54.0),
            Work::Resize => rate(8.0, 25.0),
            Work::Turn => rate(4.0, 18.0),
            Work::Rotate => rate(8.0, 78.0),
            Work::Blur => rate(28.0, 11.0),
            Work::Crop => rate(4.0, 1.0),
            Work::Mask => rate(9.0, 10.0),
            Work::Adjust => rate(4.0, 5.0),
            Work::Watermark => rate(8.0, 20.0),
            Work::BlindWatermark => rate(24.0, 200.0),
            Work::EncodeJpeg => rate(5.0, 45.0),
            Work::EncodeJpegProgressive => rate(12.0, 30.0),
            Work::EncodePng => rate(9.0, 52.0),
            Work::EncodeWebp => rate(10.0, 230.0),
            Work::EncodeGif => rate(13.0, 320.0),
            Work::EncodeBmp => rate(4.0, 6.0),
            // rav1e's tables and buffers: about 2 MiB whatever the size.
            Work::EncodeAvif => rate(80.0, 2000.0).plus_fixed_mib(4),
            Work::EncodeHeic => rate(80.0, 4000.0).plus_fixed_mib(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_read_back() {
        for w in Work::ALL {
            assert_eq!(Work::from_key(w.key()), Some(w));
            assert!(w.rate().ns_per_px > 0.0 && w.rate().bytes_per_px > 0.0);
        }
        let mut keys: Vec<_> = Work::ALL.iter().map(|w| w.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Work::ALL.len());
    }
}
