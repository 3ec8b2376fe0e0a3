//! What differs between the proxies that run the filter, as properties the
//! glue asks about instead of branching on a proxy's name.
//!
//! The filter learns which host it runs in from the first request
//! ([`ProxyHost::detect`]): ngx_wasm_module answers the `ngx.*` properties
//! (nginx variables), Envoy does not.

use crate::config::HeaderMode;

/// The proxy running the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHost {
    /// Envoy (also Istio's sidecar and Envoy Gateway), V8.
    Envoy,
    /// nginx with Kong's ngx_wasm_module, wasmtime.
    Nginx,
}

impl ProxyHost {
    /// The host, from whether it answers the property `ngx.nginx_version`.
    pub fn detect(nginx_version: Option<&[u8]>) -> ProxyHost {
        match nginx_version {
            Some(v) if !v.is_empty() => ProxyHost::Nginx,
            _ => ProxyHost::Envoy,
        }
    }

    /// Whether `end_of_stream` on the request headers tells if a body
    /// follows. Envoy: yes. ngx_wasm_module always passes `false` (it calls
    /// the filter before nginx reads the body).
    pub fn reports_request_end_of_stream(self) -> bool {
        match self {
            ProxyHost::Envoy => true,
            ProxyHost::Nginx => false,
        }
    }

    /// Whether a filter can hold the upstream's response headers until it has
    /// seen the body (`held` mode). Envoy: yes (with
    /// `allow_on_headers_stop_iteration`). ngx_wasm_module: no, the headers
    /// leave when `on_response_headers` returns ("yielding not supported in
    /// response phases").
    pub fn holds_response_headers(self) -> bool {
        match self {
            ProxyHost::Envoy => true,
            ProxyHost::Nginx => false,
        }
    }

    /// Whether reading the buffered response body from an offset gives the
    /// bytes at that offset, so that each chunk can be read as it arrives
    /// ([`crate::pipeline::Intake`]). Envoy: yes. ngx_wasm_module ignores
    /// the offset of `proxy_get_buffer_bytes` on a body held in several
    /// buffers and copies from the first byte
    /// (`ngx_proxy_wasm_hfuncs_get_buffer`); it also hands the body over in
    /// one piece, so there is nothing to overlap anyway.
    pub fn reads_body_at_offset(self) -> bool {
        match self {
            ProxyHost::Envoy => true,
            ProxyHost::Nginx => false,
        }
    }

    /// The header mode this host runs for a configured one: `held` where the
    /// host cannot hold headers becomes `local_reply` (exact headers as well)
    /// when the filter has an `upstream_cluster` to read originals from,
    /// else `early`. Other modes run as configured.
    pub fn header_mode(self, configured: HeaderMode, has_upstream_cluster: bool) -> HeaderMode {
        match configured {
            HeaderMode::Held if !self.holds_response_headers() => {
                if has_upstream_cluster {
                    HeaderMode::LocalReply
                } else {
                    HeaderMode::Early
                }
            }
            mode => mode,
        }
    }

    /// Whether the request has a body, from what the host reports and the
    /// framing headers. With HTTP/1.1 framing (`Content-Length` or
    /// `Transfer-Encoding`) the headers decide on every host; without them,
    /// a host that reports `end_of_stream` decides (an HTTP/2 body needs no
    /// `Content-Length`), and on one that does not, there is no body: that is
    /// HTTP/1.1's rule, and an HTTP/2 upload without `Content-Length` through
    /// nginx is taken as bodiless.
    pub fn request_has_body(
        self,
        end_of_stream: bool,
        content_length: Option<&str>,
        transfer_encoding: Option<&str>,
    ) -> bool {
        if let Some(length) = content_length {
            // An unreadable length is taken as a body: refusing is safer.
            return length.trim().parse::<u64>().map_or(true, |n| n > 0);
        }
        if transfer_encoding.is_some_and(|te| !te.trim().is_empty()) {
            return true;
        }
        self.reports_request_end_of_stream() && !end_of_stream
    }
}

#[cfg(test)]
mod tests {
    use super::ProxyHost::{Envoy, Nginx};
    use super::*;

    #[test]
    fn detects_nginx_by_its_version_property() {
        assert_eq!(ProxyHost::detect(Some(b"1.22.1")), Nginx);
        assert_eq!(ProxyHost::detect(Some(b"")), Envoy);
        assert_eq!(ProxyHost::detect(None), Envoy);
    }

    #[test]
    fn held_runs_only_where_headers_can_be_held() {
        use HeaderMode::{Early, Held, LocalReply};
        for cluster in [false, true] {
            assert_eq!(Envoy.header_mode(Held, cluster), Held);
            for mode in [Early, LocalReply] {
                assert_eq!(Envoy.header_mode(mode, cluster), mode);
                assert_eq!(Nginx.header_mode(mode, cluster), mode);
            }
        }
        assert_eq!(Nginx.header_mode(Held, true), LocalReply);
        assert_eq!(Nginx.header_mode(Held, false), Early);
    }

    #[test]
    fn framing_headers_decide_on_every_host() {
        for host in [Envoy, Nginx] {
            assert!(host.request_has_body(false, Some("12"), None));
            assert!(!host.request_has_body(false, Some("0"), None));
            assert!(host.request_has_body(true, Some("junk"), None));
            assert!(host.request_has_body(false, None, Some("chunked")));
        }
    }

    #[test]
    fn without_framing_only_a_reporting_host_says_body() {
        // Envoy: an HTTP/2 upload without Content-Length.
        assert!(Envoy.request_has_body(false, None, None));
        assert!(!Envoy.request_has_body(true, None, None));
        // nginx passes end_of_stream = false for every request.
        assert!(!Nginx.request_has_body(false, None, None));
    }
}
