//! `imgproc`: the filter's core on the command line, byte for byte the same
//! output as the filter for the same input and command.
//!
//! ```text
//! imgproc process INPUT COMMAND -o OUTPUT   # COMMAND: an x-bce-process value
//! imgproc info INPUT                        # the JSON image/info returns
//! ```
//!
//! `process` prints the `x-bce-image-info` value on stderr. On bad input or a bad
//! command it exits non-zero with one line on stderr: `<Code>: <message>`, the
//! code and message the filter sends. `--accept VALUE` gives the `Accept` header
//! that `format,f_auto` negotiates with.
//!
//! Watermark objects and fonts, which the filter fetches from the storage, come
//! from files: `--bucket NAME` is the request's bucket (default `demo`),
//! `--bucket-dir DIR` holds its objects (`DIR/<key>`), `--object BUCKET/KEY=FILE`
//! supplies any one object, and `--font NAME=BUCKET/KEY` configures a font as
//! the filter's `fonts` config does. A watermark object found nowhere is the
//! filter's 404 `NoSuchKey`.

use image_process_filter::actions::watermark::{ObjectRef, Resources};
use image_process_filter::command::{Command, Styles};
use image_process_filter::exchange::image_info_header;
use image_process_filter::{pipeline, RequestContext};
use std::process::ExitCode;

const USAGE: &str = "usage: imgproc process INPUT COMMAND -o OUTPUT [--accept ACCEPT]
                        [--bucket NAME] [--bucket-dir DIR] [--object BUCKET/KEY=FILE]...
                        [--font NAME=BUCKET/KEY]...
       imgproc info INPUT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("imgproc: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Io(msg)) => {
            eprintln!("imgproc: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Process(e)) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Io(String),
    Process(image_process_filter::ProcessError),
}

impl From<image_process_filter::ProcessError> for Failure {
    fn from(e: image_process_filter::ProcessError) -> Self {
        Failure::Process(e)
    }
}

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Io(format!("{path}: {e}")))
}

fn run(args: &[String]) -> Result<(), Failure> {
    match args.first().map(String::as_str) {
        Some("info") => {
            let [_, input] = args else {
                return Err(Failure::Usage("info takes one INPUT".into()));
            };
            println!("{}", pipeline::info(&read(input)?)?);
            Ok(())
        }
        Some("process") => {
            let mut positional = Vec::new();
            let mut output = None;
            let mut accept = None;
            let mut bucket = "demo".to_string();
            let mut bucket_dir = None;
            let mut files = std::collections::BTreeMap::new();
            let mut fonts = std::collections::BTreeMap::new();
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-o" | "--output" => output = it.next(),
                    "--accept" => accept = it.next().cloned(),
                    "--bucket" => bucket = it.next().cloned().unwrap_or_default(),
                    "--bucket-dir" => bucket_dir = it.next().cloned(),
                    "--object" | "--font" => {
                        let spec = it.next().cloned().unwrap_or_default();
                        let (left, right) = spec.split_once('=').ok_or_else(|| {
                            Failure::Usage(format!("{a} takes NAME=VALUE, got '{spec}'"))
                        })?;
                        if a == "--object" {
                            let object = ObjectRef::parse(left).ok_or_else(|| {
                                Failure::Usage(format!("--object: '{left}' is not BUCKET/KEY"))
                            })?;
                            files.insert(object, right.to_string());
                        } else {
                            let object = ObjectRef::parse(right).ok_or_else(|| {
                                Failure::Usage(format!("--font: '{right}' is not BUCKET/KEY"))
                            })?;
                            fonts.insert(left.to_string(), object);
                        }
                    }
                    _ => positional.push(a),
                }
            }
            let ([input, command], Some(output)) = (positional.as_slice(), output) else {
                return Err(Failure::Usage(
                    "process takes INPUT COMMAND -o OUTPUT".into(),
                ));
            };
            let command = Command::parse(command, &Styles::new())?;
            let mut resources = Resources {
                bucket: bucket.clone(),
                fonts,
                objects: Default::default(),
            };
            for object in command.objects(&bucket, &resources.fonts)? {
                let path = match (files.get(&object), &bucket_dir) {
                    (Some(file), _) => std::path::PathBuf::from(file),
                    (None, Some(dir)) if object.bucket == bucket => {
                        std::path::Path::new(dir).join(&object.key)
                    }
                    _ => continue, // not supplied: the pipeline reports NoSuchKey
                };
                if let Ok(bytes) = std::fs::read(&path) {
                    resources.objects.insert(object, bytes.into());
                }
            }
            let processed = pipeline::process(
                &command,
                &read(input)?,
                &RequestContext {
                    accept,
                    object_key: Some(input.to_string()),
                    resources,
                },
            )?;
            std::fs::write(output, &processed.body)
                .map_err(|e| Failure::Io(format!("{output}: {e}")))?;
            if let Some((w, h)) = processed.size {
                eprintln!("{}", image_info_header(w, h));
            }
            Ok(())
        }
        _ => Err(Failure::Usage("unknown command".into())),
    }
}
