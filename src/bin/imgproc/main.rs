//! `imgproc`: the filter's core on the command line, the same output as the
//! filter for the same input and command.
//!
//! ```text
//! imgproc process INPUT (COMMAND | --style NAME --config FILE) -o OUTPUT
//! imgproc batch INPUT_DIR (COMMAND | --style NAME --config FILE) -o OUTPUT_DIR [--jobs N]
//! imgproc compare INPUT COMMAND... [--style NAME --config FILE] -o PAGE.html [--title T]
//! imgproc info INPUT                        # the JSON image/info returns
//! imgproc worst-case DIR                    # near-limit images and DIR/cases.tsv
//! ```
//!
//! COMMAND is an `x-bce-process` value. `--config FILE` reads a plugin
//! configuration (the filter's JSON, or a YAML deployment file carrying it:
//! an Envoy config or an Istio `WasmPlugin`) so that `--style NAME` and
//! `style/NAME` commands use its styles and text watermarks its fonts.
//!
//! `process` prints the `x-bce-image-info` value on stderr. On bad input or a bad
//! command it exits non-zero with one line on stderr: `<Code>: <message>`, the
//! code and message the filter sends. `--accept VALUE` gives the `Accept` header
//! that `format,f_auto` negotiates with. `batch`, `compare` and `worst-case`
//! are described in their modules.
//!
//! Watermark objects and fonts, which the filter fetches from the storage, come
//! from files: `--bucket NAME` is the request's bucket (default `demo`),
//! `--bucket-dir DIR` holds its objects (`DIR/<key>`), `--object BUCKET/KEY=FILE`
//! supplies any one object, and `--font NAME=BUCKET/KEY` configures a font as
//! the filter's `fonts` config does. A watermark object found nowhere is the
//! filter's 404 `NoSuchKey`.

mod batch;
mod compare;
mod setup;
mod worst_case;

use image_process_filter::exchange::image_info_header;
use image_process_filter::pipeline;
use setup::Options;
use std::process::ExitCode;

/// Counts what is allocated, as the filter does, so processing is held to the
/// same budget ([`image_process_filter::budget`]).
#[global_allocator]
static ALLOCATOR: image_process_filter::budget::meter::MeteredAlloc =
    image_process_filter::budget::meter::MeteredAlloc;

const USAGE: &str = "usage: imgproc process INPUT (COMMAND | --style NAME --config FILE) -o OUTPUT
       imgproc batch INPUT_DIR (COMMAND | --style NAME --config FILE) -o OUTPUT_DIR [--jobs N]
       imgproc compare INPUT COMMAND... [--style NAME --config FILE] -o PAGE.html [--title TEXT]
       imgproc info INPUT
       imgproc worst-case DIR
options for process, batch and compare:
       [--accept ACCEPT] [--bucket NAME] [--bucket-dir DIR] [--object BUCKET/KEY=FILE]...
       [--font NAME=BUCKET/KEY]... [--config FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
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

/// Why a run failed; each kind has its exit status.
pub enum Failure {
    /// Bad arguments: exit 2 with the usage.
    Usage(String),
    /// A file could not be read or written: exit 1.
    Io(String),
    /// The filter's own error (`Code: message`): exit 1.
    Process(image_process_filter::ProcessError),
}

impl From<image_process_filter::ProcessError> for Failure {
    fn from(e: image_process_filter::ProcessError) -> Self {
        Failure::Process(e)
    }
}

/// Runs one subcommand; `Ok(false)` is a run that finished but had failures.
fn run(args: &[String]) -> Result<bool, Failure> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("info") => {
            let [input] = rest else {
                return Err(Failure::Usage("info takes one INPUT".into()));
            };
            let bytes = std::fs::read(input).map_err(|e| Failure::Io(format!("{input}: {e}")))?;
            println!("{}", pipeline::info(&bytes)?);
            Ok(true)
        }
        Some("process") => {
            let options = Options::parse(rest)?;
            let (input, command_text) = match options.positional.as_slice() {
                [input] => (input, None),
                [input, command] => (input, Some(command.as_str())),
                _ => {
                    return Err(Failure::Usage(
                        "process takes INPUT COMMAND -o OUTPUT".into(),
                    ))
                }
            };
            let output = options
                .output
                .as_ref()
                .ok_or_else(|| Failure::Usage("process needs -o OUTPUT".into()))?;
            let command = options.command(command_text)?;
            let processed = options.setup.process(&command, input.as_ref())?;
            std::fs::write(output, &processed.body)
                .map_err(|e| Failure::Io(format!("{output}: {e}")))?;
            if let Some((w, h)) = processed.size {
                eprintln!("{}", image_info_header(w, h));
            }
            Ok(true)
        }
        Some("batch") => batch::run(&Options::parse(rest)?),
        Some("worst-case") => worst_case::run(rest),
        Some("compare") => compare::run(&Options::parse(rest)?).map(|()| true),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => Err(Failure::Usage("unknown command".into())),
    }
}
