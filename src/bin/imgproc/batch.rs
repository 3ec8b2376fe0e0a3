//! `imgproc batch INPUT_DIR (COMMAND | --style NAME --config FILE) -o OUTPUT_DIR`:
//! one command over every image in a folder tree.
//!
//! - Every regular file under INPUT_DIR whose first bytes are an image the
//!   filter knows is processed; other files are skipped and counted.
//! - The result goes to the same relative path under OUTPUT_DIR with the
//!   extension of the output's type (`.webp` after `format,f_webp`, `.json`
//!   for `info`). An existing file there is replaced.
//! - `--jobs N` files are processed at once (default: the machine's cores).
//! - A progress bar runs on stderr when it is a terminal; a summary line
//!   and one line per failure (`path: Code: message`) go to stdout.
//! - Exit status 0 when every image was processed, 1 when any failed.

use crate::setup::{extension_for, Options};
use crate::Failure;
use image_process_filter::codec::ImageFormat;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How one file went.
enum Outcome {
    Processed,
    Skipped,
    Failed(String),
}

pub fn run(options: &Options) -> Result<bool, Failure> {
    let (input_dir, command_text) = match options.positional.as_slice() {
        [dir] => (dir, None),
        [dir, command] => (dir, Some(command.as_str())),
        _ => {
            return Err(Failure::Usage(
                "batch takes INPUT_DIR (COMMAND | --style NAME) -o OUTPUT_DIR".into(),
            ))
        }
    };
    let output_dir = options
        .output
        .as_ref()
        .ok_or_else(|| Failure::Usage("batch needs -o OUTPUT_DIR".into()))?;
    let command = options.command(command_text)?;
    let input_dir = Path::new(input_dir);
    let output_dir = Path::new(output_dir);
    let mut files = Vec::new();
    walk(input_dir, output_dir, &mut files)
        .map_err(|e| Failure::Io(format!("{}: {e}", input_dir.display())))?;
    files.sort();

    let jobs = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(files.len().max(1));
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<(PathBuf, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let relative = file.strip_prefix(input_dir).unwrap_or(file);
                bar.set_message(relative.display().to_string());
                let outcome = process_one(options, &command, file, relative, output_dir);
                outcomes
                    .lock()
                    .expect("no worker panics")
                    .push((relative.to_path_buf(), outcome));
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();

    let mut outcomes = outcomes.into_inner().expect("no worker panics");
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|(_, o)| f(o)).count();
    let processed = count(|o| matches!(o, Outcome::Processed));
    let skipped = count(|o| matches!(o, Outcome::Skipped));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    println!(
        "imgproc batch: {processed} processed, {failed} failed, {skipped} skipped (not images) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (path, outcome) in &outcomes {
        if let Outcome::Failed(why) = outcome {
            println!("failed: {}: {why}", path.display());
        }
    }
    Ok(failed == 0)
}

/// Processes `file` (at `relative` under the input folder) into the output folder.
fn process_one(
    options: &Options,
    command: &image_process_filter::command::Command,
    file: &Path,
    relative: &Path,
    output_dir: &Path,
) -> Outcome {
    if !looks_like_an_image(file) {
        return Outcome::Skipped;
    }
    let processed = match options.setup.process(command, file) {
        Ok(p) => p,
        Err(Failure::Process(e)) => return Outcome::Failed(e.to_string()),
        Err(Failure::Io(e) | Failure::Usage(e)) => return Outcome::Failed(e),
    };
    let target = output_dir
        .join(relative)
        .with_extension(extension_for(processed.content_type));
    let written = target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&target, &processed.body));
    match written {
        Ok(()) => Outcome::Processed,
        Err(e) => Outcome::Failed(format!("{}: {e}", target.display())),
    }
}

/// Whether the file's first bytes are an image format the filter knows.
fn looks_like_an_image(file: &Path) -> bool {
    let mut head = [0u8; 16];
    let Ok(mut f) = std::fs::File::open(file) else {
        return true; // let processing report the error
    };
    let mut filled = 0;
    while filled < head.len() {
        match f.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => return true,
        }
    }
    ImageFormat::sniff(&head[..filled]).is_some()
}

/// Collects the regular files under `dir`, not descending into `skip` (the
/// output folder, when it lies inside the input folder). Symbolic links to
/// files are followed; links to folders are not, so a loop cannot trap the walk.
fn walk(dir: &Path, skip: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if path != skip {
                walk(&path, skip, files)?;
            }
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            files.push(path);
        }
    }
    Ok(())
}
