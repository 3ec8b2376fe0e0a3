//! `command_parser`: arbitrary bytes as an `x-bce-process` value, through the
//! parser the filter runs at request time, then planned against fixed headers.
//!
//! The input (lossy UTF-8) is used three ways:
//! 1. as the decoded value: `Command::parse` (inline `image/...` and styles);
//! 2. percent-encoded-or-not after `?x-bce-process=` of an object path:
//!    `exchange::decide_request`, as the filter does with `:path`;
//! 3. appended to `/demo/` as a whole path (V1 `@!style` suffix, queries).
//!
//! Properties: no panic; every error maps to a 4xx/5xx with a JSON body; a
//! parsed command's canonical spelling (`normalized`) parses back to the same
//! command (the jiff-style round trip); planning each command for a few
//! source headers (JPEG turned by EXIF, 1x1 PNG, 20-frame GIF, a
//! 30 000 px wide WebP, 9 999 px BMP) either plans within the output limits or
//! fails with a typed error.

#![no_main]

use image_process_filter::actions::watermark::{ObjectRef, Resources};
use image_process_filter::codec::{ImageFormat, SourceInfo};
use image_process_filter::command::{Command, Styles};
use image_process_filter::exchange::{decide_request, RequestDecision};
use image_process_filter::pipeline::{Plan, RequestContext, MAX_OUTPUT_SIDE};
use image_process_filter::ProcessError;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

fn styles() -> &'static Styles {
    static STYLES: OnceLock<Styles> = OnceLock::new();
    STYLES.get_or_init(|| {
        let mut s = Styles::new();
        s.insert("thumb", "image/resize,m_lfit,w_200,h_200");
        s.insert("small", "resize,w_10/format,f_png");
        s.insert("Mark_1", "image/watermark,text_SGk,g_5");
        s
    })
}

/// A 4x4 RGBA PNG, stored for every watermark object a command names.
fn watermark_png() -> Arc<[u8]> {
    static PNG: OnceLock<Arc<[u8]>> = OnceLock::new();
    PNG.get_or_init(|| {
        use image_process_filter::codec::{encode, EncodeOptions};
        use image_process_filter::raster::Raster;
        let raster = Raster::filled(4, 4, [200, 10, 10, 128]);
        encode(&raster, ImageFormat::Png, &EncodeOptions::with_quality(90))
            .map(Arc::from)
            .unwrap_or_else(|_| Arc::from(Vec::new()))
    })
    .clone()
}

const SOURCES: [SourceInfo; 5] = [
    SourceInfo {
        format: ImageFormat::Jpeg,
        width: 5312,
        height: 2988,
        frames: 1,
        quality: Some(92),
        has_alpha: false,
        orientation: 6,
    },
    SourceInfo {
        format: ImageFormat::Png,
        width: 1,
        height: 1,
        frames: 1,
        quality: None,
        has_alpha: true,
        orientation: 1,
    },
    SourceInfo {
        format: ImageFormat::Gif,
        width: 500,
        height: 300,
        frames: 20,
        quality: None,
        has_alpha: true,
        orientation: 1,
    },
    SourceInfo {
        format: ImageFormat::Webp,
        width: 30_000,
        height: 6_666,
        frames: 1,
        quality: None,
        has_alpha: false,
        orientation: 8,
    },
    SourceInfo {
        format: ImageFormat::Bmp,
        width: 9_999,
        height: 1,
        frames: 1,
        quality: None,
        has_alpha: false,
        orientation: 1,
    },
];

fn check_error(e: &ProcessError) {
    let status = e.http_status();
    assert!((400..=599).contains(&status), "status {status} for {e:?}");
    let body = e.to_json("fuzz");
    assert!(serde_json_like(&body), "not a JSON object: {body}");
}

/// A cheap shape check of the BCE error body (the crate's own tests parse it).
fn serde_json_like(body: &str) -> bool {
    body.starts_with("{\"code\":") && body.ends_with('}')
}

fn exercise(command: &Command) {
    // Round trip: the canonical spelling is a command, and the same one.
    let again = Command::parse(&command.normalized, &Styles::new())
        .unwrap_or_else(|e| panic!("normalized '{}' does not parse: {e:?}", command.normalized));
    assert_eq!(&again, command, "round trip of '{}'", command.normalized);

    let mut resources = Resources {
        bucket: "demo".into(),
        fonts: BTreeMap::new(),
        objects: BTreeMap::new(),
    };
    if let Ok(objects) = command.objects("demo", &resources.fonts) {
        for object in objects {
            resources.objects.insert(object, watermark_png());
        }
    }
    resources.objects.insert(
        ObjectRef {
            bucket: "demo".into(),
            key: "wm.png".into(),
        },
        watermark_png(),
    );
    let ctx = RequestContext {
        accept: Some("image/webp,image/avif".into()),
        object_key: Some("photo.jpg".into()),
        resources,
        budget: Default::default(),
    };
    for source in SOURCES {
        match Plan::new(command, source, &ctx) {
            Ok(plan) => {
                let (w, h) = plan.output_size;
                assert!(
                    w >= 1 && h >= 1 && w.max(h) <= MAX_OUTPUT_SIDE,
                    "planned {w}x{h} for '{}' on {source:?}",
                    command.normalized
                );
            }
            Err(e) => check_error(&e),
        }
    }
}

fn decided(path: &str) {
    {
        let method = "GET";
        match decide_request(method, path, styles()) {
            RequestDecision::PassThrough => {}
            RequestDecision::Reject(e) => check_error(&e),
            RequestDecision::Process {
                command,
                upstream_path,
            } => {
                // The parameter is gone from the query (an object key may
                // well contain the text `x-bce-process=`).
                let query = upstream_path.split_once('?').map_or("", |(_, q)| q);
                assert!(
                    !query
                        .split('&')
                        .any(|p| p.split('=').next() == Some("x-bce-process")),
                    "the command went upstream: {upstream_path}"
                );
                exercise(&command);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    match Command::parse(&text, styles()) {
        Ok(command) => exercise(&command),
        Err(e) => check_error(&e),
    }
    decided(&format!("/demo/photo.jpg?x-bce-process={text}"));
    decided(&format!("/demo/{text}"));
});
