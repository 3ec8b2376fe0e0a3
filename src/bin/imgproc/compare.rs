//! `imgproc compare INPUT COMMAND... -o PAGE.html [--style NAME --config FILE]`:
//! one HTML page showing the original and the output of each command side
//! by side, with each output's size, type, bytes and processing time.
//!
//! The page is a single file: the images are embedded as `data:` URLs, so it
//! can be mailed or attached to a ticket. A command that fails shows its
//! error code and message in its place. JSON answers (`info`, `detect`) are
//! shown as text. HEIC outputs are embedded but most browsers cannot show them.
//!
//! When the page has loaded, a script records on `<body>` how many images
//! the browser decoded (`data-loaded`) and failed to (`data-broken`), and on
//! each `<img>` its decoded size (`data-natural="WxH"`), so a headless
//! browser can check the page.

use crate::setup::Options;
use crate::Failure;
use base64::Engine;
use image_process_filter::codec::ImageFormat;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// One panel of the page.
struct Panel {
    title: String,
    /// The body and its type, or the error line.
    result: Result<Shown, String>,
}

struct Shown {
    body: Vec<u8>,
    content_type: String,
    size: Option<(u32, u32)>,
    millis: f64,
}

pub fn run(options: &Options) -> Result<(), Failure> {
    let page_path = options
        .output
        .as_ref()
        .ok_or_else(|| Failure::Usage("compare needs -o PAGE.html".into()))?;
    let Some((input, command_texts)) = options.positional.split_first() else {
        return Err(Failure::Usage(
            "compare takes INPUT COMMAND... -o PAGE.html".into(),
        ));
    };
    if command_texts.is_empty() && options.style.is_none() {
        return Err(Failure::Usage(
            "compare needs at least one COMMAND or --style NAME".into(),
        ));
    }
    let original = std::fs::read(input).map_err(|e| Failure::Io(format!("{input}: {e}")))?;
    let original_type = ImageFormat::sniff(&original)
        .map_or("application/octet-stream", ImageFormat::mime)
        .to_string();
    let original_size = image_process_filter::codec::probe(&original)
        .ok()
        .map(|info| (info.width, info.height));

    let mut panels = vec![Panel {
        title: "original".into(),
        result: Ok(Shown {
            body: original.clone(),
            content_type: original_type,
            size: original_size,
            millis: 0.0,
        }),
    }];
    // `--style NAME` adds the style's panel; each COMMAND adds one.
    let mut wanted: Vec<(String, Result<_, Failure>)> = Vec::new();
    if let Some(name) = &options.style {
        wanted.push((format!("style/{name}"), options.command(None)));
    }
    for text in command_texts {
        let command = image_process_filter::command::Command::parse(text, &options.setup.styles)
            .map_err(Failure::from);
        wanted.push((text.clone(), command));
    }
    for (title, command) in wanted {
        let result = command.and_then(|command| {
            let started = Instant::now();
            let processed = options.setup.process_bytes(&command, &original, input)?;
            Ok(Shown {
                millis: started.elapsed().as_secs_f64() * 1000.0,
                body: processed.body,
                content_type: processed.content_type.to_string(),
                size: processed.size,
            })
        });
        panels.push(Panel {
            title,
            result: result.map_err(|f| match f {
                Failure::Process(e) => e.to_string(),
                Failure::Io(m) | Failure::Usage(m) => m,
            }),
        });
    }
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| format!("imgproc compare: {}", file_name(input)));
    let html = render(&title, original.len(), &panels);
    std::fs::write(page_path, html).map_err(|e| Failure::Io(format!("{page_path}: {e}")))?;
    let failed = panels.iter().filter(|p| p.result.is_err()).count();
    println!(
        "imgproc compare: {} panels ({} failed) written to {page_path}",
        panels.len(),
        failed
    );
    Ok(())
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;background:#f4f4f4}
h1{font-size:1.3em}
.grid{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
figure{margin:0;background:#fff;padding:.8em;border-radius:6px;box-shadow:0 1px 3px #0003;max-width:46vw}
figure img{display:block;max-width:100%;height:auto;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px}
figcaption code{word-break:break-all}
.meta{color:#555;margin-top:.4em}
.error{color:#a00;font-weight:bold}
pre{max-width:40vw;white-space:pre-wrap;word-break:break-all;background:#f8f8f8;padding:.5em}";

/// Run in the browser once everything has loaded: records what decoded.
const SCRIPT: &str = "window.addEventListener('load',function(){
var loaded=0,broken=0;
document.querySelectorAll('img').forEach(function(img){
if(img.complete&&img.naturalWidth>0){loaded++;img.dataset.natural=img.naturalWidth+'x'+img.naturalHeight;}
else{broken++;img.dataset.natural='broken';}
});
document.body.dataset.loaded=loaded;document.body.dataset.broken=broken;
});";

fn render(title: &str, original_bytes: usize, panels: &[Panel]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>{STYLE}</style>\n<script>{SCRIPT}</script></head>\n<body><h1>{t}</h1>\n<div class=\"grid\">\n",
        t = escape(title)
    );
    for panel in panels {
        let _ = writeln!(
            html,
            "<figure><figcaption><code>{}</code></figcaption>",
            escape(&panel.title)
        );
        match &panel.result {
            Err(message) => {
                let _ = writeln!(html, "<p class=\"error\">{}</p>", escape(message));
            }
            Ok(shown) if shown.content_type.starts_with("image/") => {
                let data = base64::engine::general_purpose::STANDARD.encode(&shown.body);
                let _ = writeln!(
                    html,
                    "<img alt=\"{}\" src=\"data:{};base64,{data}\">",
                    escape(&panel.title),
                    shown.content_type
                );
                meta(&mut html, shown, original_bytes);
            }
            Ok(shown) => {
                // JSON answers (`info`, `detect`) are shown indented.
                let text = serde_json::from_slice::<serde_json::Value>(&shown.body)
                    .ok()
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_else(|| String::from_utf8_lossy(&shown.body).into_owned());
                let _ = writeln!(html, "<pre>{}</pre>", escape(&text));
                meta(&mut html, shown, original_bytes);
            }
        }
        html.push_str("</figure>\n");
    }
    html.push_str("</div></body></html>\n");
    html
}

fn meta(html: &mut String, shown: &Shown, original_bytes: usize) {
    let size = shown
        .size
        .map_or_else(String::new, |(w, h)| format!("{w}×{h} px · "));
    let ratio = if original_bytes > 0 {
        format!(
            " ({:.1} % of the original)",
            shown.body.len() as f64 * 100.0 / original_bytes as f64
        )
    } else {
        String::new()
    };
    let time = if shown.millis > 0.0 {
        format!(" · {:.1} ms", shown.millis)
    } else {
        String::new()
    };
    let _ = writeln!(
        html,
        "<div class=\"meta\">{size}{} · {} bytes{ratio}{time}</div>",
        escape(&shown.content_type),
        shown.body.len()
    );
}
