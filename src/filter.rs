//! The proxy-wasm glue: the only module that makes host calls. It forwards
//! the callbacks to the host-free state machine ([`crate::glue::stream`]) and
//! implements its [`Host`] interface with proxy-wasm calls, the same on Envoy
//! and nginx (what differs is a property of [`ProxyHost`]).
//!
//! It must never panic: a trap kills the VM (Envoy answers 503 until it reloads).
//! The SDK's setters `panic!` on any unexpected host status, so the calls that can
//! plausibly fail (changing headers, replacing the body, local replies) go through
//! [`host`], which returns the status instead.

use crate::config::{FilterConfig, LogLevel as ConfigLogLevel};
use crate::glue::host::{Flow, Host, HostStatus, SharedDataError};
use crate::glue::stream::FilterStream;
use crate::metrics::Metric;
use crate::proxy_host::ProxyHost;
use log::{info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, Status};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(FilterRoot {
            config: Rc::new(FilterConfig::default()),
            metrics: Rc::new(Metrics::default()),
            proxy_host: Rc::new(Cell::new(None)),
            mode_noted: Cell::new(false),
        })
    });
}}

struct FilterRoot {
    config: Rc<FilterConfig>,
    metrics: Rc<Metrics>,
    /// Which proxy this is, learnt on the first request (see [`ProxyHost::detect`]).
    proxy_host: Rc<Cell<Option<ProxyHost>>>,
    /// Whether the log says which header mode this host runs (once per VM).
    mode_noted: Cell<bool>,
}

/// The metrics of [`crate::metrics`], defined through the host; `None` where
/// the host refused one (the filter then runs without it).
#[derive(Default)]
struct Metrics {
    ids: Vec<Option<u32>>,
}

impl Metrics {
    fn define() -> Metrics {
        Metrics {
            ids: Metric::all()
                .into_iter()
                .map(|m| host::define_metric(m.kind(), &m.name()))
                .collect(),
        }
    }

    fn id(&self, metric: Metric) -> Option<u32> {
        self.ids.get(metric.index()).copied().flatten()
    }
}

impl Context for FilterRoot {}

impl RootContext for FilterRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match FilterConfig::from_json(&bytes) {
            Ok(config) => {
                info!(
                    "image-process-filter {} configured: header_mode={:?} max_body_bytes={} styles={} \
                     credentials={} protected_patterns={} upstream_signing={}",
                    env!("CARGO_PKG_VERSION"),
                    config.header_mode,
                    config.max_body_bytes,
                    config.styles.len(),
                    config.credentials.len(),
                    config.protection.resources.len(),
                    config
                        .upstream_signing
                        .as_ref()
                        .map_or("off".to_string(), |s| format!("{:?}", s.scheme)),
                );
                proxy_wasm::set_log_level(match config.log_level {
                    ConfigLogLevel::Trace => LogLevel::Trace,
                    ConfigLogLevel::Debug => LogLevel::Debug,
                    ConfigLogLevel::Info => LogLevel::Info,
                    ConfigLogLevel::Warn => LogLevel::Warn,
                    ConfigLogLevel::Error => LogLevel::Error,
                });
                self.config = Rc::new(config);
                if self.metrics.ids.is_empty() {
                    self.metrics = Rc::new(Metrics::define());
                }
                true
            }
            Err(e) => {
                warn!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let host = WasmHost {
            metrics: Rc::clone(&self.metrics),
            proxy_host: Rc::clone(&self.proxy_host),
        };
        let stream = FilterStream::new(context_id, Rc::clone(&self.config), host);
        let configured = self.config.header_mode;
        if stream.header_mode() != configured && !self.mode_noted.replace(true) {
            warn!(
                "{:?} cannot hold response headers: header_mode {configured:?} runs as {:?}",
                stream.host_kind(),
                stream.header_mode()
            );
        }
        Some(Box::new(Stream(stream)))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// The proxy-wasm callbacks, forwarded to the state machine.
struct Stream(FilterStream<WasmHost>);

fn action(flow: Flow) -> Action {
    match flow {
        Flow::Continue => Action::Continue,
        Flow::Pause => Action::Pause,
    }
}

impl Context for Stream {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        self.0.on_call_response(token_id, num_headers, body_size);
    }
}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_headers(end_of_stream))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_headers(end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_body(body_size, end_of_stream))
    }
}

/// [`Host`] through proxy-wasm host calls (Envoy and nginx alike).
struct WasmHost {
    metrics: Rc<Metrics>,
    proxy_host: Rc<Cell<Option<ProxyHost>>>,
}

/// Header values read as bytes and decoded leniently (the SDK's string
/// getters panic on a non-UTF-8 value, which would trap the VM).
fn lenient(pairs: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect()
}

fn status_code(status: Status) -> HostStatus {
    status as u32
}

impl Host for WasmHost {
    /// Asked of the host once per VM: ngx_wasm_module answers the
    /// `ngx.nginx_version` property, Envoy does not.
    fn kind(&self) -> ProxyHost {
        if let Some(known) = self.proxy_host.get() {
            return known;
        }
        let version = hostcalls::get_property(vec!["ngx", "nginx_version"])
            .ok()
            .flatten();
        let detected = ProxyHost::detect(version.as_deref());
        self.proxy_host.set(Some(detected));
        detected
    }

    fn now_unix_nanos(&self) -> u64 {
        host::now_unix_nanos()
    }

    fn request_headers(&self) -> Vec<(String, String)> {
        lenient(hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default())
    }

    fn set_request_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus> {
        host::set_header(host::MapType::RequestHeaders, name, value)
    }

    fn response_header(&self, name: &str) -> Option<String> {
        hostcalls::get_map_value_bytes(MapType::HttpResponseHeaders, name)
            .ok()
            .flatten()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    fn set_response_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus> {
        host::set_header(host::MapType::ResponseHeaders, name, value)
    }

    fn response_body(&self, start: usize, size: usize) -> Result<Vec<u8>, HostStatus> {
        match hostcalls::get_buffer(BufferType::HttpResponseBody, start, size) {
            Ok(body) => Ok(body.unwrap_or_default()),
            Err(status) => Err(status_code(status)),
        }
    }

    fn set_response_body(&self, size: usize, body: &[u8]) -> Result<(), HostStatus> {
        host::set_response_body(size, body)
    }

    fn send_local_response(
        &self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostStatus> {
        host::send_local_response(status, headers, body)
    }

    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout_ms: u64,
    ) -> Result<u32, HostStatus> {
        hostcalls::dispatch_http_call(
            upstream,
            headers.to_vec(),
            body,
            Vec::new(),
            Duration::from_millis(timeout_ms),
        )
        .map_err(status_code)
    }

    fn call_response_headers(&self) -> Vec<(String, String)> {
        lenient(hostcalls::get_map_bytes(MapType::HttpCallResponseHeaders).unwrap_or_default())
    }

    fn call_response_body(&self, size: usize) -> Vec<u8> {
        hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, size)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn resume_request(&self) -> Result<(), HostStatus> {
        hostcalls::resume_http_request().map_err(status_code)
    }

    fn resume_response(&self) -> Result<(), HostStatus> {
        hostcalls::resume_http_response().map_err(status_code)
    }

    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        hostcalls::get_shared_data(key).unwrap_or((None, None))
    }

    fn set_shared_data(
        &self,
        key: &str,
        value: &[u8],
        cas: Option<u32>,
    ) -> Result<(), SharedDataError> {
        hostcalls::set_shared_data(key, Some(value), cas).map_err(|status| match status {
            Status::CasMismatch => SharedDataError::CasMismatch,
            other => SharedDataError::Status(status_code(other)),
        })
    }

    fn add_to_metric(&self, metric: Metric, by: u64) {
        if let Some(id) = self.metrics.id(metric) {
            host::increment(id, i64::try_from(by).unwrap_or(i64::MAX));
        }
    }

    fn record_metric(&self, metric: Metric, value: u64) {
        if let Some(id) = self.metrics.id(metric) {
            host::record(id, value);
        }
    }
}

/// Host calls that report their status instead of panicking.
mod host {
    use crate::metrics::Kind;
    /// proxy-wasm ABI map types.
    #[derive(Clone, Copy)]
    #[repr(u32)]
    pub enum MapType {
        RequestHeaders = 0,
        ResponseHeaders = 2,
    }

    const BUFFER_HTTP_RESPONSE_BODY: u32 = 1;
    const STATUS_OK: u32 = 0;
    const METRIC_COUNTER: u32 = 0;
    const METRIC_HISTOGRAM: u32 = 2;

    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_replace_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
        ) -> u32;
        fn proxy_remove_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
        ) -> u32;
        fn proxy_set_buffer_bytes(
            buffer_type: u32,
            start: usize,
            size: usize,
            buffer_data: *const u8,
            buffer_size: usize,
        ) -> u32;
        fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
        fn proxy_define_metric(
            metric_type: u32,
            name_data: *const u8,
            name_size: usize,
            return_id: *mut u32,
        ) -> u32;
        fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
        fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
        fn proxy_send_local_response(
            status_code: u32,
            status_code_details_data: *const u8,
            status_code_details_size: usize,
            body_data: *const u8,
            body_size: usize,
            headers_data: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
    }

    fn check(status: u32) -> Result<(), u32> {
        if status == STATUS_OK {
            Ok(())
        } else {
            Err(status)
        }
    }

    /// The host's wall clock in Unix nanoseconds (0 if the host cannot tell).
    pub fn now_unix_nanos() -> u64 {
        let mut nanos: u64 = 0;
        // SAFETY: the host writes one u64 through the pointer.
        let status = unsafe { proxy_get_current_time_nanoseconds(&mut nanos) };
        if status == STATUS_OK {
            nanos
        } else {
            0
        }
    }

    /// Defines a metric; `None` if the host refuses (the filter then runs without it).
    pub fn define_metric(kind: Kind, name: &str) -> Option<u32> {
        let kind = match kind {
            Kind::Counter => METRIC_COUNTER,
            Kind::Histogram => METRIC_HISTOGRAM,
        };
        let mut id: u32 = 0;
        // SAFETY: pointers and lengths describe live data for the whole call.
        let status = unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) };
        (status == STATUS_OK).then_some(id)
    }

    /// Records one histogram value, ignoring a host refusal.
    pub fn record(id: u32, value: u64) {
        // SAFETY: plain values.
        let _ = unsafe { proxy_record_metric(id, value) };
    }

    /// Adds `by` to a counter, ignoring a host refusal.
    pub fn increment(id: u32, by: i64) {
        // SAFETY: plain values.
        let _ = unsafe { proxy_increment_metric(id, by) };
    }

    /// Sets (`Some`) or removes (`None`) a header.
    pub fn set_header(map: MapType, name: &str, value: Option<&str>) -> Result<(), u32> {
        // SAFETY: pointers and lengths describe live slices for the whole call.
        let status = unsafe {
            match value {
                Some(v) => proxy_replace_header_map_value(
                    map as u32,
                    name.as_ptr(),
                    name.len(),
                    v.as_ptr(),
                    v.len(),
                ),
                None => proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()),
            }
        };
        check(status)
    }

    /// `proxy_set_buffer_bytes(response body, 0, size, body)`.
    pub fn set_response_body(size: usize, body: &[u8]) -> Result<(), u32> {
        // SAFETY: pointers and lengths describe live slices for the whole call.
        check(unsafe {
            proxy_set_buffer_bytes(
                BUFFER_HTTP_RESPONSE_BODY,
                0,
                size,
                body.as_ptr(),
                body.len(),
            )
        })
    }

    /// Sends a local reply instead of contacting (or after) the upstream.
    pub fn send_local_response(
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), u32> {
        let serialized = serialize_headers(headers);
        // SAFETY: as above.
        check(unsafe {
            proxy_send_local_response(
                status,
                std::ptr::null(),
                0,
                body.as_ptr(),
                body.len(),
                serialized.as_ptr(),
                serialized.len(),
                -1,
            )
        })
    }

    /// The proxy-wasm header-map encoding: count, then (key len, value len)
    /// pairs, then each key and value followed by a NUL, all u32 little-endian.
    fn serialize_headers(headers: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
        for (k, v) in headers {
            out.extend_from_slice(&(k.len() as u32).to_le_bytes());
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (k, v) in headers {
            out.extend_from_slice(k.as_bytes());
            out.push(0);
            out.extend_from_slice(v.as_bytes());
            out.push(0);
        }
        out
    }
}
