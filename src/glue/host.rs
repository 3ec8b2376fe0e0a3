//! The one interface between the filter's request/response state machine
//! ([`super::stream`]) and the proxy that runs it.
//!
//! [`crate::filter`] implements it with proxy-wasm host calls (Envoy and
//! nginx alike); the tests implement it with a fake proxy that can play
//! either ([`super::fake_host`]). What differs between the proxies is not a
//! branch here but a property of [`ProxyHost`], which the host reports.

use crate::metrics::Metric;
use crate::proxy_host::ProxyHost;

/// What a callback tells the host to do with the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on (send the headers on, or this body chunk).
    Continue,
    /// Stop here: the request waits for a call or a resume; response headers
    /// are held (only where [`ProxyHost::holds_response_headers`]); a body
    /// chunk is buffered with the next ones.
    Pause,
}

/// Why the shared data refused a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedDataError {
    /// Someone wrote the key since it was read (compare-and-swap failed).
    CasMismatch,
    /// Any other host status (only the proxy-wasm host makes these).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Status(u32),
}

/// A host status other than OK, as the proxy-wasm ABI numbers them.
pub type HostStatus = u32;

/// Everything the state machine asks of the proxy. Header names are
/// lowercase; values are decoded leniently (a non-UTF-8 byte never traps).
/// Every call that can fail returns the host's status instead of panicking.
pub trait Host {
    /// Which proxy this is (its properties decide what the stream may do).
    fn kind(&self) -> ProxyHost;

    /// The host's wall clock in Unix nanoseconds (0 if it cannot tell).
    fn now_unix_nanos(&self) -> u64;

    /// The host's wall clock in Unix seconds (0 if it cannot tell, which makes
    /// every signature look expired rather than trapping).
    fn now_unix_seconds(&self) -> i64 {
        i64::try_from(self.now_unix_nanos() / 1_000_000_000).unwrap_or(0)
    }

    /// Every request header, pseudo-headers (`:method`, `:path`,
    /// `:authority`) included.
    fn request_headers(&self) -> Vec<(String, String)>;

    /// Sets (`Some`) or removes (`None`) a request header.
    fn set_request_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus>;

    /// One response header (`:status` included).
    fn response_header(&self, name: &str) -> Option<String>;

    /// Sets (`Some`) or removes (`None`) a response header.
    fn set_response_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus>;

    /// `size` bytes of the buffered response body from `start`. While the
    /// filter pauses on the body, both hosts keep every chunk so far in the
    /// buffer (the body size passed to the body callback is its length), so
    /// each chunk can be read as it arrives.
    fn response_body(&self, start: usize, size: usize) -> Result<Vec<u8>, HostStatus>;

    /// `proxy_set_buffer_bytes` on the response body from offset 0. The
    /// hosts read `size` differently: Envoy replaces the first `size` bytes
    /// of the buffered body with `body` (all of it when `size` is at least
    /// its length); ngx_wasm_module makes the body the first `size` bytes of
    /// `body`. [`super::stream`] passes the larger of the two lengths, which
    /// replaces the whole body on both.
    fn set_response_body(&self, size: usize, body: &[u8]) -> Result<(), HostStatus>;

    /// Answers the client instead of (or after) the upstream.
    fn send_local_response(
        &self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostStatus>;

    /// Sends a request of the filter's own to `upstream` (an Envoy cluster,
    /// an `IP:port` on nginx); the answer comes to
    /// [`super::stream::FilterStream::on_call_response`] with the token.
    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout_ms: u64,
    ) -> Result<u32, HostStatus>;

    /// The headers of the call answer being delivered (`:status` included).
    /// Only asked when the host reported at least one header: hosts fail
    /// (and the SDK panics) when asked for the map of a failed call.
    fn call_response_headers(&self) -> Vec<(String, String)>;

    /// The first `size` bytes of the call answer's body.
    fn call_response_body(&self, size: usize) -> Vec<u8>;

    /// Lets a paused request go on.
    fn resume_request(&self) -> Result<(), HostStatus>;

    /// Lets a paused response go on (held headers and buffered body).
    fn resume_response(&self) -> Result<(), HostStatus>;

    /// A value of the proxy-wasm shared data and its compare-and-swap token.
    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>);

    /// Writes shared data; with `cas`, only if nobody wrote since that read.
    fn set_shared_data(
        &self,
        key: &str,
        value: &[u8],
        cas: Option<u32>,
    ) -> Result<(), SharedDataError>;

    /// Adds `by` to a counter (ignored where the host has no such metric).
    fn add_to_metric(&self, metric: Metric, by: u64);

    /// Records one value of a histogram.
    fn record_metric(&self, metric: Metric, value: u64);

    /// Adds one to a counter.
    fn count(&self, metric: Metric) {
        self.add_to_metric(metric, 1);
    }
}
