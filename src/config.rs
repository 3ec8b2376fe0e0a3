//! The plugin configuration: JSON in Envoy's `PluginConfig.configuration`
//! (or ngx_wasm_module's `proxy_wasm` directive). Read once in `on_configure`;
//! an invalid config is refused so the host rejects it instead of serving with
//! surprises.
//!
//! ```json
//! {
//!   "header_mode": "held",
//!   "max_body_bytes": 20971520,
//!   "styles": { "thumb": "image/resize,m_lfit,w_200,h_200" },
//!   "credentials": [ { "access_key": "demo-ak", "secret_key": "demo-sk" } ],
//!   "protection": { "resources": ["demo/private/*"], "bucket_from": "path" },
//!   "upstream_signing": { "scheme": "sigv4", "access_key": "demo-ak", "secret_key": "demo-sk" },
//!   "upstream_cluster": "storage",
//!   "fonts": { "WenQuanYi": "demo/fonts/wqy-zenhei.ttc" },
//!   "object_cache_bytes": 67108864,
//!   "object_cache_ttl_seconds": 60,
//!   "persistence": { "enabled": true, "allow_overwrite_source": false, "buckets": [] }
//! }
//! ```

use crate::actions::watermark::ObjectRef;
use crate::auth::protection::Protection;
use crate::auth::upstream::UpstreamSigning;
use crate::auth::Credential;
use crate::budget::Budget;
use crate::command::{is_valid_style_name, Styles};
use crate::limits::MAX_SOURCE_BYTES;
use crate::persistence::PersistenceConfig;
use serde::Deserialize;
use std::collections::BTreeMap;

/// When response headers are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HeaderMode {
    /// Hold the upstream headers until the body is processed, then send exact
    /// Content-Length, Content-Type, Content-MD5, ETag and x-bce-image-info, or an
    /// error status. Needs Envoy ≥ 1.35 with `allow_on_headers_stop_iteration: true`.
    #[default]
    Held,
    /// Decide headers before the body (hosts that cannot hold headers: Istio's
    /// WasmPlugin, nginx): Content-Type and ETag from the command, Content-Length
    /// and Content-MD5 removed. A failure found in the body leaves the original
    /// body in place, since the status is already sent.
    Early,
    /// Answer processed requests from the request phase (hosts that cannot
    /// hold headers: nginx, Istio's WasmPlugin, Envoy Gateway): the filter
    /// reads the original itself through `upstream_cluster` (signed like the
    /// proxied request), processes it and answers with a local reply whose
    /// status and headers are exact. Whatever it does not process (errors,
    /// non-images, bodies over `max_body_bytes`) it hands back to the proxy,
    /// which forwards the request and passes the answer through untouched.
    #[serde(rename = "local_reply")]
    LocalReply,
}

/// How much the filter writes to the proxy's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogLevel {
    Trace,
    /// Adds one `cost:` line per processed request: the estimate against
    /// what each stage really took (`cargo xtask calibrate` reads them).
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

/// The filter's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    pub(crate) header_mode: HeaderMode,
    /// Largest upstream body buffered for processing, in bytes (1 – 20 MB, default
    /// 20 MB). Larger responses pass through untouched. The host's own buffer limit
    /// (Envoy: the listener's `per_connection_buffer_limit_bytes`) must be at least this.
    pub(crate) max_body_bytes: usize,
    /// Named styles, reachable as `x-bce-process=style/<name>`.
    pub styles: Styles,
    /// Access keys whose signatures (BCE v1 or SigV4) the filter accepts; several
    /// allow rotation. With keys or protection set, every signed GET/HEAD is
    /// verified and a bad signature is refused with 403.
    pub(crate) credentials: Vec<Credential>,
    /// Original-image protection: objects whose unsigned reads may only use styles.
    pub protection: Protection,
    /// Sign reads sent to the storage upstream with this key (private buckets).
    pub upstream_signing: Option<UpstreamSigning>,
    /// How far in the future a signing time may be, in seconds (0 – 3600,
    /// default 900).
    pub(crate) clock_skew_seconds: u32,
    /// Answer with the untouched original (and `x-bce-process-error`) when
    /// processing fails on the body, as if every command had `ignore-error,1`.
    /// Never for unsigned requests on protected objects. Default false.
    pub(crate) return_original_on_failure: bool,
    /// Where the filter's own calls to the storage go: an Envoy cluster name,
    /// or `IP:port` / a resolvable `host:port` on nginx. Watermark images,
    /// fonts, persistence and `local_reply` originals are read through it.
    /// Without it, a watermark that needs an object is a 500.
    pub(crate) upstream_cluster: Option<String>,
    /// Fonts for text watermarks: name (as given Base64-encoded in `type_`)
    /// → `bucket/key` of a TrueType/OpenType font object.
    pub(crate) fonts: BTreeMap<String, String>,
    /// Most bytes of fetched objects kept in the proxy's shared data
    /// (0 – 1 GiB, default 64 MiB; 0 keeps nothing).
    pub(crate) object_cache_bytes: usize,
    /// Seconds a cached object is used without asking the storage; after
    /// that it is revalidated with `If-None-Match` (0 – 86 400, default 60).
    pub(crate) object_cache_ttl_seconds: u64,
    /// `system/load` and `system/save`: whether the filter writes processed
    /// results into the storage, and where (off by default).
    pub(crate) persistence: PersistenceConfig,
    /// `local_reply` mode: how long the filter waits for the whole original
    /// it reads itself, in milliseconds (100 – 600 000, default 60 000, nginx's
    /// default `proxy_read_timeout`). Set it to the location's
    /// `proxy_read_timeout`; past it the client gets 504 `GatewayTimeout`.
    pub(crate) original_read_timeout_ms: u64,
    /// What processing one request may cost (peak memory, time holding
    /// the worker); estimated from the header and refused with
    /// `400 ImageTooLarge` before decoding when over. Default 512 MiB, 10 s.
    pub budget: Budget,
    /// The budget for requests without a valid signature, where abuse comes
    /// from; at most `budget` in each field. Default: `budget`.
    pub(crate) unsigned_budget: Option<Budget>,
    /// The most detailed messages the filter logs (`trace`, `debug`,
    /// `info`, `warn`, `error`; default `info`). The proxy filters again by
    /// its own level (Envoy: `--component-log-level wasm:debug`).
    pub(crate) log_level: LogLevel,
    /// `fonts`, parsed.
    #[serde(skip)]
    pub font_objects: BTreeMap<String, ObjectRef>,
}

/// Default [`FilterConfig::clock_skew_seconds`]: 15 minutes.
pub(crate) const DEFAULT_CLOCK_SKEW_SECONDS: u32 = 900;

/// Default [`FilterConfig::original_read_timeout_ms`]: how long the filter
/// waits for the whole original in `local_reply` mode, in milliseconds (60 s,
/// nginx's default `proxy_read_timeout`).
const DEFAULT_READ_TIMEOUT_MS: u64 = 60_000;

/// Largest `object_cache_bytes`.
pub(crate) const MAX_OBJECT_CACHE_BYTES: usize = 1 << 30;

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            header_mode: HeaderMode::Held,
            max_body_bytes: MAX_SOURCE_BYTES,
            styles: Styles::new(),
            credentials: Vec::new(),
            protection: Protection::default(),
            upstream_signing: None,
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            return_original_on_failure: false,
            upstream_cluster: None,
            fonts: BTreeMap::new(),
            object_cache_bytes: 64 << 20,
            object_cache_ttl_seconds: 60,
            persistence: PersistenceConfig::default(),
            original_read_timeout_ms: DEFAULT_READ_TIMEOUT_MS,
            budget: Budget::DEFAULT,
            unsigned_budget: None,
            log_level: LogLevel::Info,
            font_objects: BTreeMap::new(),
        }
    }
}

/// A plugin configuration the filter refuses, found when the proxy hands it
/// over (Envoy refuses the listener; nginx's workers exit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key, as a path into the JSON (`max_body_bytes`,
    /// `credentials[1].secret_key`, `styles.thumb`, `fonts.title`); empty
    /// when the text is not a JSON object at all.
    pub(crate) field: String,
    /// What is wrong, naming the field.
    pub(crate) message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid plugin configuration: {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The field a [`Budget::validate`] message is about, under `parent`.
fn budget_field(parent: &str, message: &str) -> String {
    let key = message.split_whitespace().next().unwrap_or_default();
    format!("{parent}.{key}")
}

impl FilterConfig {
    /// The budget for a request: [`FilterConfig::unsigned_budget`] unless
    /// it carries a valid signature.
    #[cfg(any(target_arch = "wasm32", test))]
    pub(crate) fn budget_for(&self, signed: bool) -> Budget {
        match self.unsigned_budget {
            Some(unsigned) if !signed => unsigned,
            _ => self.budget,
        }
    }

    /// Parses and validates the JSON configuration; empty input gives the defaults.
    pub fn from_json(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(FilterConfig::default());
        }
        let mut json = serde_json::Deserializer::from_slice(bytes);
        let mut config: FilterConfig =
            serde_path_to_error::deserialize(&mut json).map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." || field == "?" {
                    String::new()
                } else {
                    field
                };
                let message = if field.is_empty() {
                    e.inner().to_string()
                } else {
                    format!("{field}: {}", e.inner())
                };
                ConfigError { field, message }
            })?;
        if !(100..=600_000).contains(&config.original_read_timeout_ms) {
            return Err(ConfigError::new(
                "original_read_timeout_ms",
                format!(
                    "original_read_timeout_ms must be between 100 and 600000, got {}",
                    config.original_read_timeout_ms
                ),
            ));
        }
        config
            .budget
            .validate()
            .map_err(|e| ConfigError::new(budget_field("budget", &e), format!("budget.{e}")))?;
        if let Some(unsigned) = &config.unsigned_budget {
            unsigned.validate().map_err(|e| {
                ConfigError::new(
                    budget_field("unsigned_budget", &e),
                    format!("unsigned_budget.{e}"),
                )
            })?;
            for (key, value, limit) in [
                (
                    "memory_bytes",
                    unsigned.memory_bytes,
                    config.budget.memory_bytes,
                ),
                ("time_ms", unsigned.time_ms, config.budget.time_ms),
            ] {
                if value > limit {
                    return Err(ConfigError::new(
                        format!("unsigned_budget.{key}"),
                        format!(
                            "unsigned_budget.{key} ({value}) must not exceed budget.{key} ({limit})"
                        ),
                    ));
                }
            }
        }
        if config.max_body_bytes == 0 || config.max_body_bytes > MAX_SOURCE_BYTES {
            return Err(ConfigError::new(
                "max_body_bytes",
                format!(
                    "max_body_bytes must be between 1 and {MAX_SOURCE_BYTES}, got {}",
                    config.max_body_bytes
                ),
            ));
        }
        for (name, _, command) in config.styles.iter() {
            if !is_valid_style_name(name) {
                return Err(ConfigError::new(
                    format!("styles.{name}"),
                    format!("style name '{name}' is not valid"),
                ));
            }
            if let Err(e) = command {
                return Err(ConfigError::new(
                    format!("styles.{name}"),
                    format!("style '{name}': {e}"),
                ));
            }
        }
        for (i, c) in config.credentials.iter().enumerate() {
            if c.access_key.is_empty() || c.access_key.contains('/') {
                return Err(ConfigError::new(
                    format!("credentials[{i}].access_key"),
                    format!("credentials[{i}].access_key must be non-empty and contain no '/'"),
                ));
            }
            if c.secret_key.is_empty() {
                return Err(ConfigError::new(
                    format!("credentials[{i}].secret_key"),
                    format!("credentials[{i}].secret_key must not be empty"),
                ));
            }
            if config.credentials[..i]
                .iter()
                .any(|o| o.access_key == c.access_key)
            {
                return Err(ConfigError::new(
                    format!("credentials[{i}].access_key"),
                    format!(
                        "credentials[{i}].access_key '{}' is given twice",
                        c.access_key
                    ),
                ));
            }
        }
        config
            .protection
            .validate()
            .map_err(|e| ConfigError::new("protection", e))?;
        if let Some(signing) = &config.upstream_signing {
            signing
                .validate()
                .map_err(|e| ConfigError::new("upstream_signing", e))?;
        }
        if config.clock_skew_seconds > 3600 {
            return Err(ConfigError::new(
                "clock_skew_seconds",
                format!(
                    "clock_skew_seconds must be between 0 and 3600, got {}",
                    config.clock_skew_seconds
                ),
            ));
        }
        if let Some(cluster) = &config.upstream_cluster {
            if cluster.trim().is_empty() {
                return Err(ConfigError::new(
                    "upstream_cluster",
                    "upstream_cluster must name an Envoy cluster or an nginx host:port",
                ));
            }
        }
        if config.object_cache_bytes > MAX_OBJECT_CACHE_BYTES {
            return Err(ConfigError::new(
                "object_cache_bytes",
                format!(
                    "object_cache_bytes must be between 0 and {MAX_OBJECT_CACHE_BYTES}, got {}",
                    config.object_cache_bytes
                ),
            ));
        }
        if config.object_cache_ttl_seconds > 86_400 {
            return Err(ConfigError::new(
                "object_cache_ttl_seconds",
                format!(
                    "object_cache_ttl_seconds must be between 0 and 86400, got {}",
                    config.object_cache_ttl_seconds
                ),
            ));
        }
        for (name, path) in &config.fonts {
            if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
                return Err(ConfigError::new(
                    "fonts",
                    format!(
                        "fonts: name '{name}' must be 1-64 characters without control characters"
                    ),
                ));
            }
            let object = ObjectRef::parse(path).ok_or_else(|| {
                ConfigError::new(
                    format!("fonts.{name}"),
                    format!("fonts: '{name}' must be 'bucket/key' of a font object, got '{path}'"),
                )
            })?;
            config.font_objects.insert(name.clone(), object);
        }
        if !config.fonts.is_empty() && config.upstream_cluster.is_none() {
            return Err(ConfigError::new(
                "upstream_cluster",
                "fonts need upstream_cluster to fetch them from",
            ));
        }
        config
            .persistence
            .validate()
            .map_err(|e| ConfigError::new("persistence", e))?;
        if config.header_mode == HeaderMode::LocalReply && config.upstream_cluster.is_none() {
            return Err(ConfigError::new(
                "upstream_cluster",
                "header_mode local_reply needs upstream_cluster to read originals from",
            ));
        }
        if config.persistence.enabled && config.upstream_cluster.is_none() {
            return Err(ConfigError::new(
                "upstream_cluster",
                "persistence.enabled needs upstream_cluster to read sources from and write results to",
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_full_config() {
        assert_eq!(
            FilterConfig::from_json(b"").unwrap(),
            FilterConfig::default()
        );
        let c = FilterConfig::from_json(
            br#"{"header_mode":"early","max_body_bytes":1000,"styles":{"thumb":"image/resize,w_200"}}"#,
        )
        .unwrap();
        assert_eq!(c.header_mode, HeaderMode::Early);
        assert_eq!(c.max_body_bytes, 1000);
        assert_eq!(c.styles.get("thumb"), Some("image/resize,w_200"));
        let c = FilterConfig::from_json(
            br#"{"header_mode":"local_reply","upstream_cluster":"127.0.0.1:9000"}"#,
        )
        .unwrap();
        assert_eq!(c.header_mode, HeaderMode::LocalReply);
        let c = FilterConfig::from_json(
            br#"{"upstream_cluster":"storage","fonts":{"WenQuanYi":"demo/fonts/wqy.ttc"},"object_cache_bytes":0,"object_cache_ttl_seconds":5}"#,
        )
        .unwrap();
        assert_eq!(c.upstream_cluster.as_deref(), Some("storage"));
        assert_eq!(
            c.font_objects["WenQuanYi"].to_string(),
            "demo/fonts/wqy.ttc"
        );
        assert_eq!((c.object_cache_bytes, c.object_cache_ttl_seconds), (0, 5));
        assert!(!c.persistence.enabled, "persistence is off by default");
        let c = FilterConfig::from_json(
            br#"{"upstream_cluster":"storage","persistence":{"enabled":true,"allow_overwrite_source":true,"buckets":["thumbs"]}}"#,
        )
        .unwrap();
        assert!(c.persistence.enabled && c.persistence.allow_overwrite_source);
        assert_eq!(c.persistence.buckets, ["thumbs"]);
    }

    #[test]
    fn log_level_defaults_to_info_and_reads_lowercase() {
        assert_eq!(FilterConfig::default().log_level, LogLevel::Info);
        let c = FilterConfig::from_json(br#"{"log_level":"debug"}"#).unwrap();
        assert_eq!(c.log_level, LogLevel::Debug);
        let e = FilterConfig::from_json(br#"{"log_level":"loud"}"#).unwrap_err();
        assert_eq!(e.field, "log_level");
    }

    #[test]
    fn budgets_default_validate_and_split_by_signature() {
        let c = FilterConfig::default();
        assert_eq!(c.budget_for(false), Budget::DEFAULT);
        assert_eq!(c.budget_for(true), Budget::DEFAULT);
        let c = FilterConfig::from_json(
            br#"{"budget":{"memory_bytes":268435456,"time_ms":2000},"unsigned_budget":{"time_ms":500,"memory_bytes":134217728}}"#,
        )
        .unwrap();
        assert_eq!(c.budget_for(true).time_ms, 2000);
        assert_eq!(c.budget_for(false).time_ms, 500);
        assert_eq!(c.budget_for(false).memory_bytes, 128 << 20);
        // A missing key takes its default.
        let c = FilterConfig::from_json(br#"{"budget":{"time_ms":1000}}"#).unwrap();
        assert_eq!(c.budget.memory_bytes, Budget::DEFAULT.memory_bytes);
        for (bad, field) in [
            (&br#"{"budget":{"time_ms":10}}"#[..], "budget.time_ms"),
            (br#"{"budget":{"memory_bytes":1}}"#, "budget.memory_bytes"),
            (
                br#"{"budget":{"time_ms":1000},"unsigned_budget":{"time_ms":2000}}"#,
                "unsigned_budget.time_ms",
            ),
            (
                br#"{"unsigned_budget":{"time_ms":1}}"#,
                "unsigned_budget.time_ms",
            ),
            (br#"{"budget":{"millis":1}}"#, "budget"),
        ] {
            let e = FilterConfig::from_json(bad).unwrap_err();
            assert!(e.field.starts_with(field), "{field}: {} ({e})", e.field);
            assert!(
                e.to_string().contains(field.rsplit('.').next().unwrap()),
                "{e}"
            );
        }
    }

    #[test]
    fn errors_name_the_field() {
        for (bad, field) in [
            (
                &br#"{"fonts":{"a":"x"},"upstream_cluster":"s"}"#[..],
                "fonts: 'a'",
            ),
            (
                br#"{"object_cache_ttl_seconds":99999}"#,
                "object_cache_ttl_seconds",
            ),
            (
                br#"{"object_cache_bytes":99999999999}"#,
                "object_cache_bytes",
            ),
            (br#"{"upstream_cluster":""}"#, "upstream_cluster"),
        ] {
            let e = FilterConfig::from_json(bad).unwrap_err();
            assert!(e.to_string().contains(field), "{e}");
        }
    }

    #[test]
    fn type_errors_name_the_path_of_the_field() {
        for (bad, field) in [
            (&br#"{"max_body_bytes":"lots"}"#[..], "max_body_bytes"),
            (
                br#"{"upstream_signing":{"scheme":"sigv4","access_key":1,"secret_key":"s"}}"#,
                "upstream_signing.access_key",
            ),
            (
                br#"{"credentials":[{"access_key":"a","secret_key":"s"},{"access_key":"b","secret_key":2}]}"#,
                "credentials[1].secret_key",
            ),
            (br#"{"styles":{"thumb":"image/resize,w_0"}}"#, "styles.thumb"),
            (br#"{"fonts":{"title":"nobucket"},"upstream_cluster":"s"}"#, "fonts.title"),
        ] {
            let e = FilterConfig::from_json(bad).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            let last = field.rsplit(['.', ']']).next().unwrap_or(field);
            assert!(e.to_string().contains(last), "{e}");
        }
        let e = FilterConfig::from_json(br#"{"colour":1}"#).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = FilterConfig::from_json(b"{").unwrap_err();
        assert_eq!(e.field, "", "{e}");
    }

    #[test]
    fn access_settings() {
        let c = FilterConfig::from_json(
            br#"{"credentials":[{"access_key":"demo-ak","secret_key":"demo-sk"},{"access_key":"new","secret_key":"x"}],
                 "protection":{"resources":["demo/private/*"],"bucket_from":"host"},
                 "upstream_signing":{"scheme":"bce-v1","access_key":"up","secret_key":"up-sk"},
                 "clock_skew_seconds":60}"#,
        )
        .unwrap();
        assert_eq!(c.credentials.len(), 2);
        assert_eq!(c.protection.resources, ["demo/private/*"]);
        let s = c.upstream_signing.as_ref().unwrap();
        assert_eq!(
            (s.scheme, s.region.as_str()),
            (crate::auth::Scheme::BceV1, "us-east-1")
        );
        assert_eq!(c.clock_skew_seconds, 60);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("demo-sk") && !shown.contains("up-sk"),
            "{shown}"
        );
    }

    #[test]
    fn access_errors_name_the_field() {
        let e = FilterConfig::from_json(
            br#"{"credentials":[{"access_key":"a","secret_key":"s"},{"access_key":"b","secret_key":""}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "credentials[1].secret_key");
        assert!(e.to_string().contains("credentials[1].secret_key"), "{e}");
        let e = FilterConfig::from_json(br#"{"protection":{"resources":["x"]}}"#).unwrap_err();
        assert_eq!(e.field, "protection");
        assert!(e.to_string().contains("protection.resources[0]"), "{e}");
    }

    #[test]
    fn invalid_configs_are_refused() {
        for bad in [
            &br#"{"header_mode":"late"}"#[..],
            br#"{"header_mode":"local_reply"}"#,
            br#"{"max_body_bytes":0}"#,
            br#"{"max_body_bytes":999999999}"#,
            br#"{"styles":{"_x":"image/resize,w_1"}}"#,
            br#"{"styles":{"t":"image/resize,w_0"}}"#,
            br#"{"unknown":1}"#,
            br#"{"credentials":[{"access_key":"","secret_key":"s"}]}"#,
            br#"{"credentials":[{"access_key":"a","secret_key":""}]}"#,
            br#"{"credentials":[{"access_key":"a","secret_key":"s"},{"access_key":"a","secret_key":"t"}]}"#,
            br#"{"credentials":[{"access_key":"a"}]}"#,
            br#"{"protection":{"resources":["nobucket"]}}"#,
            br#"{"protection":{"resources":["b/*"],"bucket_from":"cookie"}}"#,
            br#"{"upstream_signing":{"scheme":"sigv2","access_key":"a","secret_key":"s"}}"#,
            br#"{"upstream_signing":{"scheme":"sigv4","access_key":"","secret_key":"s"}}"#,
            br#"{"clock_skew_seconds":7200}"#,
            br#"{"upstream_cluster":" "}"#,
            br#"{"upstream_cluster":"s","fonts":{"a":"nobucket"}}"#,
            br#"{"upstream_cluster":"s","fonts":{"":"demo/a.ttf"}}"#,
            br#"{"fonts":{"a":"demo/a.ttf"}}"#,
            br#"{"object_cache_bytes":2000000000}"#,
            br#"{"object_cache_ttl_seconds":86401}"#,
            br#"{"persistence":{"enabled":true}}"#,
            br#"{"persistence":{"buckets":["UPPER"]}}"#,
            br#"{"persistence":{"overwrite":true}}"#,
            b"{",
        ] {
            assert!(
                FilterConfig::from_json(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
