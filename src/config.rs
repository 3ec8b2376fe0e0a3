//! The plugin configuration: JSON in Envoy's `PluginConfig.configuration`
//! (or ngx_wasm_module's `proxy_wasm` directive). Read once in `on_configure`;
//! an invalid config is refused so the host rejects it instead of serving with
//! surprises.
//!
//! ```json
//! {
//!   "header_mode": "held",
//!   "max_body_bytes": 20971520,
//!   "styles": { "thumb": "image/resize,m_lfit,w_200,h_200" }
//! }
//! ```

use crate::command::{is_valid_style_name, Command, Styles};
use crate::pipeline::MAX_SOURCE_BYTES;
use serde::Deserialize;

/// When response headers are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HeaderMode {
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
}

/// The filter's configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilterConfig {
    pub header_mode: HeaderMode,
    /// Largest upstream body buffered for processing, in bytes (1 – 20 MB, default
    /// 20 MB). Larger responses pass through untouched. The host's own buffer limit
    /// (Envoy: the listener's `per_connection_buffer_limit_bytes`) must be at least this.
    pub max_body_bytes: usize,
    /// Named styles, reachable as `x-bce-process=style/<name>`.
    pub styles: Styles,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            header_mode: HeaderMode::Held,
            max_body_bytes: MAX_SOURCE_BYTES,
            styles: Styles::new(),
        }
    }
}

impl FilterConfig {
    /// Parses and validates the JSON configuration; empty input gives the defaults.
    pub fn from_json(bytes: &[u8]) -> Result<FilterConfig, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(FilterConfig::default());
        }
        let config: FilterConfig = serde_json::from_slice(bytes)
            .map_err(|e| format!("invalid plugin configuration: {e}"))?;
        if config.max_body_bytes == 0 || config.max_body_bytes > MAX_SOURCE_BYTES {
            return Err(format!(
                "max_body_bytes must be between 1 and {MAX_SOURCE_BYTES}, got {}",
                config.max_body_bytes
            ));
        }
        for (name, body) in &config.styles {
            if !is_valid_style_name(name) {
                return Err(format!("style name '{name}' is not valid"));
            }
            let text = body.strip_prefix("image/").unwrap_or(body);
            Command::parse_actions(text).map_err(|e| format!("style '{name}': {e}"))?;
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
        assert_eq!(c.styles["thumb"], "image/resize,w_200");
    }

    #[test]
    fn invalid_configs_are_refused() {
        for bad in [
            &br#"{"header_mode":"late"}"#[..],
            br#"{"max_body_bytes":0}"#,
            br#"{"max_body_bytes":999999999}"#,
            br#"{"styles":{"_x":"image/resize,w_1"}}"#,
            br#"{"styles":{"t":"image/resize,w_0"}}"#,
            br#"{"unknown":1}"#,
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
