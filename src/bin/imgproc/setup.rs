//! What every `imgproc` subcommand shares: the options that stand in for the
//! filter's request and configuration (bucket, objects, fonts, `Accept`,
//! a plugin config and its styles), and processing one file with them.

use crate::Failure;
use image_process_filter::actions::watermark::{ObjectRef, Resources};
use image_process_filter::budget::Budget;
use image_process_filter::command::{Command, Styles};
use image_process_filter::config::FilterConfig;
use image_process_filter::pipeline::{self, Processed};
use image_process_filter::RequestContext;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The parsed command line of one subcommand.
#[derive(Default)]
pub struct Options {
    /// Arguments that are not options, in order.
    pub positional: Vec<String>,
    /// `-o` / `--output`.
    pub output: Option<String>,
    /// `--style NAME`: use the config's style instead of a COMMAND.
    pub style: Option<String>,
    /// `--jobs N` (batch): files processed at once, 1 – 256.
    pub jobs: Option<usize>,
    /// `--title TEXT` (compare): the page's heading.
    pub title: Option<String>,
    pub setup: Setup,
}

/// The filter's request and configuration, as far as processing needs them.
pub struct Setup {
    /// `--accept`: the request's `Accept` header, for `format,f_auto`.
    pub accept: Option<String>,
    /// `--bucket`: the request's bucket (default `demo`).
    pub bucket: String,
    /// `--bucket-dir`: where the bucket's objects are (`DIR/<key>`).
    pub bucket_dir: Option<PathBuf>,
    /// `--object BUCKET/KEY=FILE`: single objects.
    pub files: BTreeMap<ObjectRef, PathBuf>,
    /// Font name → object: `--font NAME=BUCKET/KEY` and the config's `fonts`.
    pub fonts: BTreeMap<String, ObjectRef>,
    /// The config's `styles` (`--config`); empty without one.
    pub styles: Styles,
    /// Whether `--config` was given.
    pub has_config: bool,
    /// What processing may cost: the config's `budget` (`--config`), else
    /// the filter's default, so `imgproc` refuses what the filter refuses.
    pub budget: Budget,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            accept: None,
            bucket: "demo".to_string(),
            bucket_dir: None,
            files: BTreeMap::new(),
            fonts: BTreeMap::new(),
            styles: Styles::new(),
            has_config: false,
            budget: Budget::DEFAULT,
        }
    }
}

impl Options {
    /// Parses the arguments after the subcommand's name.
    pub fn parse(args: &[String]) -> Result<Options, Failure> {
        let mut options = Options::default();
        let mut cli_fonts = BTreeMap::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| Failure::Usage(format!("{a} needs a value")))
            };
            match a.as_str() {
                "-o" | "--output" => options.output = Some(value()?),
                "--accept" => options.setup.accept = Some(value()?),
                "--bucket" => options.setup.bucket = value()?,
                "--bucket-dir" => options.setup.bucket_dir = Some(value()?.into()),
                "--style" => options.style = Some(value()?),
                "--title" => options.title = Some(value()?),
                "--config" => {
                    let path = value()?;
                    let config = load_config(Path::new(&path))?;
                    options.setup.styles = config.styles;
                    options.setup.fonts.extend(config.font_objects);
                    options.setup.has_config = true;
                    options.setup.budget = config.budget;
                }
                "--jobs" | "-j" => {
                    let v = value()?;
                    let jobs = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=256).contains(n))
                        .ok_or_else(|| {
                            Failure::Usage(format!("--jobs takes 1 to 256, got '{v}'"))
                        })?;
                    options.jobs = Some(jobs);
                }
                "--object" | "--font" => {
                    let spec = value()?;
                    let (left, right) = spec.split_once('=').ok_or_else(|| {
                        Failure::Usage(format!("{a} takes NAME=VALUE, got '{spec}'"))
                    })?;
                    if a == "--object" {
                        let object = ObjectRef::parse(left).ok_or_else(|| {
                            Failure::Usage(format!("--object: '{left}' is not BUCKET/KEY"))
                        })?;
                        options.setup.files.insert(object, right.into());
                    } else {
                        let object = ObjectRef::parse(right).ok_or_else(|| {
                            Failure::Usage(format!("--font: '{right}' is not BUCKET/KEY"))
                        })?;
                        cli_fonts.insert(left.to_string(), object);
                    }
                }
                s if s.starts_with('-') && s.len() > 1 => {
                    return Err(Failure::Usage(format!("unknown option '{s}'")))
                }
                _ => options.positional.push(a.clone()),
            }
        }
        // Fonts given on the command line win over the config's.
        options.setup.fonts.extend(cli_fonts);
        Ok(options)
    }

    /// The command: `--style NAME` (from `--config`) or the positional
    /// COMMAND, whichever was given; exactly one must be.
    pub fn command(&self, positional: Option<&str>) -> Result<Command, Failure> {
        let text = match (&self.style, positional) {
            (Some(_), Some(_)) => {
                return Err(Failure::Usage(
                    "give either COMMAND or --style NAME, not both".into(),
                ))
            }
            (None, None) => return Err(Failure::Usage("COMMAND or --style NAME needed".into())),
            (Some(name), None) => {
                if !self.setup.has_config {
                    return Err(Failure::Usage("--style needs --config FILE".into()));
                }
                format!("style/{name}")
            }
            (None, Some(text)) => text.to_string(),
        };
        Ok(Command::parse(&text, &self.setup.styles)?)
    }
}

impl Setup {
    /// Runs `command` on the file `input` as the filter would on that object.
    pub fn process(&self, command: &Command, input: &Path) -> Result<Processed, Failure> {
        let bytes =
            std::fs::read(input).map_err(|e| Failure::Io(format!("{}: {e}", input.display())))?;
        self.process_bytes(command, &bytes, &input.display().to_string())
    }

    /// Runs `command` on `bytes`, the object `object_key`.
    pub fn process_bytes(
        &self,
        command: &Command,
        bytes: &[u8],
        object_key: &str,
    ) -> Result<Processed, Failure> {
        Ok(pipeline::process(
            command,
            bytes,
            &RequestContext {
                accept: self.accept.clone(),
                object_key: Some(object_key.to_string()),
                resources: self.resources(command)?,
                budget: self.budget,
            },
        )?)
    }

    /// The objects `command` needs (watermark images, fonts), read from
    /// `--object` files or `--bucket-dir`. One found nowhere is left out:
    /// the pipeline then reports the filter's 404 `NoSuchKey`.
    fn resources(&self, command: &Command) -> Result<Resources, Failure> {
        let mut resources = Resources {
            bucket: self.bucket.clone(),
            fonts: self.fonts.clone(),
            objects: Default::default(),
        };
        for object in command.objects(&self.bucket, &self.fonts)? {
            let path = match (self.files.get(&object), &self.bucket_dir) {
                (Some(file), _) => file.clone(),
                (None, Some(dir)) if object.bucket == self.bucket => dir.join(&object.key),
                _ => continue,
            };
            if let Ok(bytes) = std::fs::read(&path) {
                resources.objects.insert(object, bytes.into());
            }
        }
        Ok(resources)
    }
}

/// Reads a plugin configuration: the JSON the filter is given, or a YAML
/// deployment file that carries it (an Envoy config's
/// `configuration: {value: "<json>"}`, an Istio `WasmPlugin`'s
/// `pluginConfig`, several documents allowed). Validated as the filter
/// validates it at start.
pub fn load_config(path: &Path) -> Result<FilterConfig, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("{}: {e}", path.display())))?;
    let bad = |msg: String| Failure::Io(format!("{}: {msg}", path.display()));
    if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
        return FilterConfig::from_json(text.as_bytes()).map_err(|e| bad(e.to_string()));
    }
    let mut found = None;
    for document in serde_yaml::Deserializer::from_str(&text) {
        let value = serde_yaml::Value::deserialize(document)
            .map_err(|e| bad(format!("neither JSON nor YAML: {e}")))?;
        found = found.or_else(|| plugin_config_in(&value));
    }
    let json = found.ok_or_else(|| {
        bad("no plugin configuration found (expected JSON, an Envoy `configuration.value` or an Istio `pluginConfig`)".into())
    })?;
    FilterConfig::from_json(json.as_bytes()).map_err(|e| bad(e.to_string()))
}

use serde::Deserialize;

/// The first plugin configuration in a YAML tree, as JSON text.
fn plugin_config_in(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    (Some("pluginConfig"), serde_yaml::Value::Mapping(_)) => {
                        return serde_json::to_string(child).ok();
                    }
                    (Some("configuration"), serde_yaml::Value::Mapping(inner)) => {
                        let json = inner.get("value").and_then(serde_yaml::Value::as_str);
                        if let Some(json) = json {
                            if serde_json::from_str::<serde_json::Value>(json).is_ok() {
                                return Some(json.to_string());
                            }
                        }
                    }
                    _ => {}
                }
                if let Some(found) = plugin_config_in(child) {
                    return Some(found);
                }
            }
            None
        }
        serde_yaml::Value::Sequence(items) => items.iter().find_map(plugin_config_in),
        serde_yaml::Value::Tagged(tagged) => plugin_config_in(&tagged.value),
        _ => None,
    }
}

/// The file extension for an answer of type `content_type`.
pub fn extension_for(content_type: &str) -> &'static str {
    use image_process_filter::codec::ImageFormat;
    match ImageFormat::from_mime(content_type) {
        Some(format) => format.name(),
        None if content_type.starts_with("application/json") => "json",
        None => "bin",
    }
}
