//! `decode_pipeline`: arbitrary bytes as the upstream body, through
//! `pipeline::process`, the entry the filter calls on the buffered body, with
//! the real limits (20 MB body, 30 000 px sides, 200 Mpx × frames, 9 999 px
//! results, 20 frames).
//!
//! The first byte picks the command from [`COMMANDS`] (modulo its length), the
//! rest is the body. `cargo xtask fuzz` runs it with `-rss_limit_mb=2048
//! -malloc_limit_mb=2048`, so a decompression bomb that gets past the header
//! checks is a finding, like a panic.
//!
//! AVIF bodies are decoded like every other format. rav1d 1.1 aborted on any
//! AV1 decode error with one frame context (memorysafety/rav1d#1497), which
//! this target found within minutes; the build uses the patched rav1d of
//! `vendor/rav1d/` (see its `PATCHES.md`), and the input that showed it is
//! kept in `fuzz/regressions/decode_pipeline/`.
//!
//! Requests run within a cost budget of 512 MiB and 2 s ([`BUDGET`]): what
//! the cost model admits must finish well inside libFuzzer's report of slow
//! units (10 s, even with AddressSanitizer), so a slow unit is a finding
//! too: an input whose cost the model underestimates (issue 20).
//!
//! Properties: no panic; an error has a 4xx/5xx status; an image answer is
//! an image of the planned size (its header probes back to that size and the
//! announced format) and a JSON answer is JSON.

#![no_main]

use image_process_filter::actions::watermark::{ObjectRef, Resources};
use image_process_filter::budget::Budget;
use image_process_filter::codec::{self, EncodeOptions, ImageFormat};
use image_process_filter::command::{Command, Styles};
use image_process_filter::pipeline::{process, RequestContext};
use image_process_filter::raster::Raster;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The commands, one per first byte (mod the count). Every action family
/// appears, every output format, and both inspections.
pub const COMMANDS: &[&str] = &[
    "image/info",
    "image/detect",
    "image/quality,q_80",
    "image/resize,m_lfit,w_64,h_64",
    "image/resize,m_fill,w_32,h_48,align_0/format,f_png",
    "image/resize,m_pad,w_40,h_30,color_FF0000/format,f_webp",
    "image/resize,m_mfit,w_20,h_20,radius_2,sigma_3/format,f_gif",
    "image/crop,x_1,y_1,w_20,h_20,g_se/rotate,a_90",
    "image/rotate,a_33/format,f_bmp",
    "image/circle,r_20/format,f_png",
    "image/rounded-corners,r_8/format,f_webp",
    "image/indexcrop,x_10,i_1/blur,r_3,s_2",
    "image/resize,w_50/sharpen,r_2,s_5/bright,b_10/contrast,c_-20/grayscale,1",
    "image/resize,l_60/quality,Q_50,c_le/interlace,1/format,f_jpg",
    "image/auto-orient,0/strip/resize,s_40/format,f_png",
    "image/resize,w_24/format,f_avif",
    "image/resize,w_24/format,f_heic",
    "image/resize,w_80/watermark,text_SGVsbG8,size_12,g_5,color_FFFFFF80/format,f_auto",
    "image/resize,w_80/watermark,image_d20ucG5n,g_9,t_50,P_30/watermark,image_d20ucG5n,text_aGk,size_10,order_1",
    "image/resize,p_50/ignore-error,1",
];

fn commands() -> &'static [Command] {
    static PARSED: OnceLock<Vec<Command>> = OnceLock::new();
    PARSED.get_or_init(|| {
        COMMANDS
            .iter()
            .map(|c| match Command::parse(c, &Styles::new()) {
                Ok(command) => command,
                Err(e) => panic!("fuzz command '{c}' does not parse: {e:?}"),
            })
            .collect()
    })
}

/// The budget every input runs within.
const BUDGET: Budget = Budget {
    memory_bytes: 512 << 20,
    time_ms: 2_000,
};

/// The request context: `Accept` for `f_auto`, and the watermark object
/// `demo/wm.png` (a 16x16 translucent PNG).
fn context() -> &'static RequestContext {
    static CTX: OnceLock<RequestContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let png = codec::encode(
            &Raster::filled(16, 16, [20, 200, 20, 160]),
            ImageFormat::Png,
            &EncodeOptions::with_quality(90),
        )
        .unwrap_or_default();
        let mut objects = BTreeMap::new();
        objects.insert(
            ObjectRef {
                bucket: "demo".into(),
                key: "wm.png".into(),
            },
            Arc::<[u8]>::from(png),
        );
        RequestContext {
            accept: Some("image/webp".into()),
            object_key: Some("photo.jpg".into()),
            resources: Resources {
                bucket: "demo".into(),
                fonts: BTreeMap::new(),
                objects,
            },
            budget: BUDGET,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let command = &commands()[usize::from(pick) % COMMANDS.len()];
    match process(command, body, context()) {
        Ok(out) => match out.size {
            Some((w, h)) => {
                let info = codec::probe(&out.body)
                    .unwrap_or_else(|e| panic!("the output does not probe: {e:?}"));
                assert_eq!((info.width, info.height), (w, h), "output size");
                assert_eq!(info.format.mime(), out.content_type, "output type");
            }
            None => {
                assert_eq!(out.content_type, "application/json");
                assert!(serde_json::from_slice::<serde_json::Value>(&out.body).is_ok());
            }
        },
        Err(e) => {
            let status = e.http_status();
            assert!((400..=599).contains(&status), "status {status}: {e:?}");
        }
    }
});
