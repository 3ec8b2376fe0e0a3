//! A fake proxy for the state machine's tests: one request at a time through
//! Envoy or nginx, each as it really behaves towards a proxy-wasm filter
//! (`shared/research/nginx-host.md`, `nginx/README.md`, the Envoy e2e suite),
//! with the storage behind it a closure. It plays what the two hosts differ
//! in, so one test can run the same exchange on both and compare what the
//! client gets:
//!
//! | | Envoy | nginx (ngx_wasm_module) |
//! |---|---|---|
//! | `end_of_stream` with the request headers | true when no body follows | always false |
//! | `x-request-id` | added when the client sent none | none |
//! | Pause on response headers | holds them until the body goes on | not possible (the fake records a violation) |
//! | response headers changed after they left | — (held until then) | traps (violation) |
//! | calls from response phases | allowed | trap (violation) |
//! | `set_buffer_bytes(0, size, new)` | replaces `size` bytes of the old body | keeps at most `size` bytes of the new one |
//! | body buffered by Pause | until end of stream | until `wasm_response_body_buffers` is full, then no more Pause |
//! | end of stream of a multi-chunk `Content-Length` body the filter does not buffer | delivered | never delivered (host bug 1) |
//! | an empty body set on a non-final chunk with `proxy_buffering on` | fine | the worker spins (host bug 2, violation) |
//! | the upstream body of a client's HEAD | passed to the filter | not read (`header_only`): no body callbacks |
//! | reading the buffered body from an offset | the bytes at the offset | the bytes from the start (the offset is ignored) |
//!
//! Everything the real host would refuse or trap on is recorded in
//! [`Outcome::violations`]; tests assert it is empty.

use super::host::{Flow, Host, HostStatus, SharedDataError};
use super::stream::FilterStream;
use crate::config::FilterConfig;
use crate::metrics::Metric;
use crate::proxy_host::ProxyHost;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// An HTTP answer: from the storage, or what the client received.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    pub status: u32,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn new(status: u32, headers: &[(&str, &str)], body: &[u8]) -> Message {
        Message {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a request reached the storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// Forwarded by the proxy (the client's request, as the filter left it).
    Proxy,
    /// One of the filter's own calls, to this upstream.
    Call(String),
}

/// A request that reached the storage.
#[derive(Clone, Debug)]
pub struct Sent {
    pub via: Via,
    pub method: String,
    pub path: String,
    /// Lowercase names, no pseudo-headers.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// The call's timeout; 0 for proxied requests.
    pub timeout_ms: u64,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The client's request.
pub struct Request {
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn get(path: &str) -> Request {
        Request {
            method: "GET",
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }
}

/// What one exchange came to.
#[derive(Debug)]
pub struct Outcome {
    /// What the client received.
    pub client: Message,
    /// Whether the filter answered itself (`send_local_response`).
    pub local_reply: bool,
    /// Every request that reached the storage, in order.
    pub sent: Vec<Sent>,
    /// Host rules the filter broke (a trap, a refused call or a hang on the
    /// real host). Empty in every passing test.
    pub violations: Vec<String>,
    /// The filter's metrics by name.
    pub metrics: BTreeMap<String, u64>,
    /// How many times the filter saw response body.
    pub body_callbacks: usize,
}

impl Outcome {
    pub fn metric(&self, metric: Metric) -> u64 {
        self.metrics.get(&metric.name()).copied().unwrap_or(0)
    }

    /// The filter's own calls.
    pub fn calls(&self) -> Vec<&Sent> {
        self.sent.iter().filter(|s| s.via != Via::Proxy).collect()
    }
}

/// Where the exchange is (what the host allows depends on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    RequestHeaders,
    ResponseHeaders,
    ResponseBody,
    CallResponse,
}

/// The host's side of one stream, shared by the [`FakeHost`] the filter
/// holds and the driver.
struct Wire {
    kind: ProxyHost,
    phase: Phase,
    proxy_buffering: bool,
    request_headers: Vec<(String, String)>,
    /// The request has gone on to the upstream (or been answered).
    request_released: bool,
    response_headers: Vec<(String, String)>,
    /// The response headers have left for the client.
    headers_sent: bool,
    /// What the filter sees as the response body in this callback.
    body: Vec<u8>,
    /// Whether the current body callback is the last one.
    end_of_stream: bool,
    next_token: u32,
    /// Dispatched calls not answered yet.
    outstanding: Vec<(u32, Sent)>,
    /// The answer being delivered (`None`: the call failed).
    call_answer: Option<Message>,
    local_reply: Option<Message>,
    resumed_request: bool,
    resumed_response: bool,
    shared: Rc<RefCell<BTreeMap<String, (Vec<u8>, u32)>>>,
    metrics: BTreeMap<String, u64>,
    now_nanos: u64,
    violations: Vec<String>,
}

impl Wire {
    fn violate(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }
}

/// [`Host`] for the state machine under test.
pub struct FakeHost(Rc<RefCell<Wire>>);

fn set_in(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    let name = name.to_ascii_lowercase();
    headers.retain(|(k, _)| *k != name);
    if let Some(v) = value {
        headers.push((name, v.to_string()));
    }
}

fn get_in(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

impl Host for FakeHost {
    fn kind(&self) -> ProxyHost {
        self.0.borrow().kind
    }

    fn now_unix_nanos(&self) -> u64 {
        self.0.borrow().now_nanos
    }

    fn request_headers(&self) -> Vec<(String, String)> {
        self.0.borrow().request_headers.clone()
    }

    fn set_request_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus> {
        let mut w = self.0.borrow_mut();
        if w.request_released {
            w.violate(format!(
                "request header {name} set after the request went on"
            ));
        }
        set_in(&mut w.request_headers, name, value);
        Ok(())
    }

    fn response_header(&self, name: &str) -> Option<String> {
        get_in(&self.0.borrow().response_headers, name)
    }

    fn set_response_header(&self, name: &str, value: Option<&str>) -> Result<(), HostStatus> {
        let mut w = self.0.borrow_mut();
        if w.headers_sent {
            let what = match w.kind {
                ProxyHost::Nginx => "can only set response headers before on_response_body",
                ProxyHost::Envoy => "response headers already sent",
            };
            w.violate(format!("{name}: {what}"));
            return Err(2);
        }
        set_in(&mut w.response_headers, name, value);
        Ok(())
    }

    fn response_body(&self, start: usize, size: usize) -> Result<Vec<u8>, HostStatus> {
        let w = self.0.borrow();
        if w.phase != Phase::ResponseBody && w.phase != Phase::CallResponse {
            return Err(2);
        }
        // ngx_wasm_module copies from the body's first byte whatever the
        // offset (`ngx_proxy_wasm_hfuncs_get_buffer`).
        let start = match w.kind {
            ProxyHost::Envoy => start.min(w.body.len()),
            ProxyHost::Nginx => 0,
        };
        Ok(w.body[start..start.saturating_add(size).min(w.body.len())].to_vec())
    }

    fn set_response_body(&self, size: usize, new: &[u8]) -> Result<(), HostStatus> {
        let mut w = self.0.borrow_mut();
        match w.kind {
            ProxyHost::Envoy => {
                let end = size.min(w.body.len());
                w.body.splice(..end, new.iter().copied());
            }
            ProxyHost::Nginx => {
                if new.is_empty() && !w.end_of_stream && w.proxy_buffering {
                    w.violate("an empty body on a non-final chunk with proxy_buffering on spins the worker");
                }
                w.body = new[..size.min(new.len())].to_vec();
            }
        }
        Ok(())
    }

    fn send_local_response(
        &self,
        status: u32,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HostStatus> {
        let mut w = self.0.borrow_mut();
        if w.local_reply.is_some() {
            w.violate("a second local reply");
            return Err(2);
        }
        if w.headers_sent {
            w.violate("a local reply after the response headers left");
            return Err(2);
        }
        // Both hosts frame a local reply themselves.
        let mut reply = Message::new(status, headers, body);
        set_in(
            &mut reply.headers,
            "content-length",
            Some(&body.len().to_string()),
        );
        w.local_reply = Some(reply);
        Ok(())
    }

    fn dispatch_http_call(
        &self,
        upstream: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout_ms: u64,
    ) -> Result<u32, HostStatus> {
        let mut w = self.0.borrow_mut();
        if w.kind == ProxyHost::Nginx
            && matches!(w.phase, Phase::ResponseHeaders | Phase::ResponseBody)
        {
            w.violate("dispatch_http_call from a response phase traps in ngx_wasm_module");
            return Err(2);
        }
        let pseudo = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        let mut sent_headers: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| !k.starts_with(':'))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        if get_in(&sent_headers, "host").is_none() {
            sent_headers.push(("host".into(), pseudo(":authority")));
        }
        let sent = Sent {
            via: Via::Call(upstream.to_string()),
            method: pseudo(":method"),
            path: pseudo(":path"),
            headers: sent_headers,
            body: body.map(<[u8]>::to_vec),
            timeout_ms,
        };
        w.next_token += 1;
        let token = w.next_token;
        w.outstanding.push((token, sent));
        Ok(token)
    }

    fn call_response_headers(&self) -> Vec<(String, String)> {
        let mut w = self.0.borrow_mut();
        match &w.call_answer {
            Some(answer) => {
                let mut headers = vec![(":status".to_string(), answer.status.to_string())];
                headers.extend(answer.headers.iter().cloned());
                headers
            }
            None => {
                w.violate("the headers of a failed call were asked for (the SDK panics)");
                Vec::new()
            }
        }
    }

    fn call_response_body(&self, size: usize) -> Vec<u8> {
        let mut w = self.0.borrow_mut();
        match &w.call_answer {
            Some(answer) => answer.body[..size.min(answer.body.len())].to_vec(),
            None => {
                w.violate("the body of a failed call was asked for");
                Vec::new()
            }
        }
    }

    fn resume_request(&self) -> Result<(), HostStatus> {
        self.0.borrow_mut().resumed_request = true;
        Ok(())
    }

    fn resume_response(&self) -> Result<(), HostStatus> {
        self.0.borrow_mut().resumed_response = true;
        Ok(())
    }

    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        let w = self.0.borrow();
        let shared = w.shared.borrow();
        match shared.get(key) {
            Some((value, cas)) => (Some(value.clone()), Some(*cas)),
            None => (None, None),
        }
    }

    fn set_shared_data(
        &self,
        key: &str,
        value: &[u8],
        cas: Option<u32>,
    ) -> Result<(), SharedDataError> {
        let w = self.0.borrow();
        let mut shared = w.shared.borrow_mut();
        let current = shared.get(key).map_or(0, |(_, c)| *c);
        if cas.is_some_and(|c| c != current) {
            return Err(SharedDataError::CasMismatch);
        }
        shared.insert(key.to_string(), (value.to_vec(), current + 1));
        Ok(())
    }

    fn add_to_metric(&self, metric: Metric, by: u64) {
        *self
            .0
            .borrow_mut()
            .metrics
            .entry(metric.name())
            .or_default() += by;
    }

    fn record_metric(&self, metric: Metric, value: u64) {
        self.0.borrow_mut().metrics.insert(metric.name(), value);
    }
}

/// A proxy that runs the filter, one request at a time.
pub struct FakeProxy {
    pub kind: ProxyHost,
    /// Size of the body chunks the upstream's answer arrives in.
    pub chunk: usize,
    /// nginx's `wasm_response_body_buffers` (count × size): the most a
    /// paused body may hold before nginx hands it on anyway.
    pub body_buffers: usize,
    /// nginx's `proxy_buffering`.
    pub proxy_buffering: bool,
    /// The proxy-wasm shared data: one VM's, kept across requests.
    pub shared: Rc<RefCell<BTreeMap<String, (Vec<u8>, u32)>>>,
    /// The host's clock (Unix seconds) when a request arrives.
    pub now_seconds: u64,
    /// How long each of the filter's calls takes (the clock moves on by it).
    pub call_ms: u64,
    /// Pass the upstream body of a client's HEAD to the filter on nginx too
    /// (nginx does not; for testing the fake's own rules).
    pub nginx_reads_head_bodies: bool,
}

impl FakeProxy {
    /// A proxy set up as the shipped configs set it up: 16 KiB chunks, nginx
    /// with `wasm_response_body_buffers 8 1m` and `proxy_buffering off`.
    pub fn new(kind: ProxyHost) -> FakeProxy {
        FakeProxy {
            kind,
            chunk: 16 * 1024,
            body_buffers: 8 << 20,
            proxy_buffering: false,
            shared: Rc::default(),
            now_seconds: 1_780_000_000,
            call_ms: 3,
            nginx_reads_head_bodies: false,
        }
    }

    /// Runs one request through the filter configured with `config`, the
    /// storage answering every request that reaches it (`None`: the
    /// connection is refused).
    pub fn run(
        &self,
        config: &FilterConfig,
        request: Request,
        storage: &dyn Fn(&Sent) -> Option<Message>,
    ) -> Outcome {
        let mut request_headers = vec![
            (":method".to_string(), request.method.to_string()),
            (":path".to_string(), request.path.clone()),
            (":authority".to_string(), "images.example.com".to_string()),
            (":scheme".to_string(), "http".to_string()),
        ];
        request_headers.extend(request.headers.iter().cloned());
        if self.kind == ProxyHost::Envoy && get_in(&request_headers, "x-request-id").is_none() {
            request_headers.push(("x-request-id".into(), "envoy-request-id".into()));
        }
        let wire = Rc::new(RefCell::new(Wire {
            kind: self.kind,
            phase: Phase::RequestHeaders,
            proxy_buffering: self.proxy_buffering,
            request_headers,
            request_released: false,
            response_headers: Vec::new(),
            headers_sent: false,
            body: Vec::new(),
            end_of_stream: false,
            next_token: 0,
            outstanding: Vec::new(),
            call_answer: None,
            local_reply: None,
            resumed_request: false,
            resumed_response: false,
            shared: Rc::clone(&self.shared),
            metrics: BTreeMap::new(),
            now_nanos: self.now_seconds * 1_000_000_000,
            violations: Vec::new(),
        }));
        let mut run = Run {
            proxy: self,
            wire: Rc::clone(&wire),
            stream: FilterStream::new(7, Rc::new(config.clone()), FakeHost(Rc::clone(&wire))),
            storage,
            sent: Vec::new(),
            body_callbacks: 0,
        };
        let client = run.exchange(&request);
        let w = wire.borrow();
        Outcome {
            local_reply: w.local_reply.is_some(),
            client,
            sent: run.sent,
            violations: w.violations.clone(),
            metrics: w.metrics.clone(),
            body_callbacks: run.body_callbacks,
        }
    }
}

/// One exchange under way.
struct Run<'a> {
    proxy: &'a FakeProxy,
    wire: Rc<RefCell<Wire>>,
    stream: FilterStream<FakeHost>,
    storage: &'a dyn Fn(&Sent) -> Option<Message>,
    sent: Vec<Sent>,
    body_callbacks: usize,
}

impl Run<'_> {
    fn kind(&self) -> ProxyHost {
        self.proxy.kind
    }

    fn violate(&self, what: impl Into<String>) {
        self.wire.borrow_mut().violate(what);
    }

    fn local_reply(&self) -> Option<Message> {
        self.wire.borrow().local_reply.clone()
    }

    /// Answers every outstanding call, in order, until none is left.
    fn answer_calls(&mut self) {
        loop {
            let next = {
                let mut w = self.wire.borrow_mut();
                if w.outstanding.is_empty() {
                    None
                } else {
                    Some(w.outstanding.remove(0))
                }
            };
            let Some((token, sent)) = next else { return };
            let answer = (self.storage)(&sent);
            self.sent.push(sent);
            let previous = {
                let mut w = self.wire.borrow_mut();
                w.call_answer = answer.clone();
                w.now_nanos += self.proxy.call_ms * 1_000_000;
                std::mem::replace(&mut w.phase, Phase::CallResponse)
            };
            let (headers, body) = match &answer {
                Some(a) => (a.headers.len() + 1, a.body.len()),
                None => (0, 0),
            };
            self.stream.on_call_response(token, headers, body);
            let mut w = self.wire.borrow_mut();
            w.call_answer = None;
            w.phase = previous;
        }
    }

    fn exchange(&mut self, request: &Request) -> Message {
        let mut answer = self.exchange_inner(request);
        if request.method.eq_ignore_ascii_case("HEAD") {
            // Neither host sends a body to a HEAD, a local reply's included.
            answer.body.clear();
        }
        answer
    }

    fn exchange_inner(&mut self, request: &Request) -> Message {
        // Request headers.
        let end_of_stream = match self.kind() {
            ProxyHost::Envoy => request.body.is_none(),
            ProxyHost::Nginx => false,
        };
        let flow = self.stream.on_request_headers(end_of_stream);
        if flow == Flow::Pause {
            self.answer_calls();
            if let Some(reply) = self.local_reply() {
                return reply;
            }
            if !std::mem::take(&mut self.wire.borrow_mut().resumed_request) {
                self.violate("the request stays paused: nothing will resume it");
                return Message::new(0, &[], b"");
            }
        } else if let Some(reply) = self.local_reply() {
            self.violate("a local reply without pausing the request");
            return reply;
        }
        self.wire.borrow_mut().request_released = true;

        // The proxy forwards what the filter left of the request.
        let (method, path, headers) = {
            let w = self.wire.borrow();
            let mut headers: Vec<(String, String)> = w
                .request_headers
                .iter()
                .filter(|(k, _)| !k.starts_with(':'))
                .cloned()
                .collect();
            if get_in(&headers, "host").is_none() {
                let authority = get_in(&w.request_headers, ":authority").unwrap_or_default();
                headers.push(("host".into(), authority));
            }
            (
                get_in(&w.request_headers, ":method").unwrap_or_default(),
                get_in(&w.request_headers, ":path").unwrap_or_default(),
                headers,
            )
        };
        let forwarded = Sent {
            via: Via::Proxy,
            method,
            path,
            headers,
            body: request.body.clone(),
            timeout_ms: 0,
        };
        let upstream = (self.storage)(&forwarded).unwrap_or_else(|| {
            Message::new(
                503,
                &[("content-type", "text/plain")],
                b"no healthy upstream",
            )
        });
        self.sent.push(forwarded);
        let head_request = request.method.eq_ignore_ascii_case("HEAD");
        self.respond(upstream, head_request)
    }

    /// The upstream's answer through the filter's response callbacks.
    fn respond(&mut self, upstream: Message, head_request: bool) -> Message {
        let has_body = !upstream.body.is_empty();
        {
            let mut w = self.wire.borrow_mut();
            w.phase = Phase::ResponseHeaders;
            w.response_headers = vec![(":status".to_string(), upstream.status.to_string())];
            w.response_headers.extend(upstream.headers.iter().cloned());
        }
        let end_of_stream = match self.kind() {
            ProxyHost::Envoy => !has_body,
            ProxyHost::Nginx => false,
        };
        let flow = self.stream.on_response_headers(end_of_stream);
        self.answer_calls();
        if let Some(reply) = self.local_reply() {
            return reply;
        }
        let mut headers_held = flow == Flow::Pause;
        if headers_held && self.kind() == ProxyHost::Nginx {
            self.violate("nginx cannot hold response headers (Pause in on_response_headers)");
            headers_held = false;
        }
        let mut client_headers = None;
        if !headers_held {
            client_headers = Some(self.send_headers());
        }

        // The body, in chunks. nginx reads none for a client's HEAD (even
        // when the filter asked the storage with GET): the filter sees none.
        let body: &[u8] = if head_request
            && self.kind() == ProxyHost::Nginx
            && !self.proxy.nginx_reads_head_bodies
        {
            &[]
        } else {
            &upstream.body
        };
        let chunks: Vec<&[u8]> = body.chunks(self.proxy.chunk.max(1)).collect();
        let declared_length = upstream.header("content-length").is_some();
        let mut client_body = Vec::new();
        let mut buffering = false;
        let mut pauses_ignored = false;
        let mut buffered = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            buffered.extend_from_slice(chunk);
            let mut end_of_stream = last;
            if self.kind() == ProxyHost::Nginx {
                if buffering && !last && buffered.len() >= self.proxy.body_buffers {
                    // The buffers are full: nginx hands the body on, and
                    // ignores any further Pause.
                    pauses_ignored = true;
                } else if buffering && !last {
                    // Paused and room left: nginx keeps reading.
                    continue;
                }
                // Host bug 1: a multi-chunk Content-Length body that is not
                // buffered whole never gets end of stream.
                if last && chunks.len() > 1 && declared_length && !buffering {
                    end_of_stream = false;
                }
            }
            // Envoy calls again for every chunk, with all that is buffered.
            let flow = self.body_callback(&buffered, end_of_stream);
            self.answer_calls();
            if let Some(reply) = self.local_reply() {
                return reply;
            }
            let flow = if flow == Flow::Pause && self.kind() == ProxyHost::Nginx && pauses_ignored {
                Flow::Continue
            } else {
                flow
            };
            if flow == Flow::Pause {
                buffering = true;
                if last {
                    // Waiting for something (watermark objects): the proxy
                    // goes on only when the filter resumes it.
                    if !std::mem::take(&mut self.wire.borrow_mut().resumed_response) {
                        self.violate("the response stays paused: nothing will resume it");
                        break;
                    }
                } else {
                    continue;
                }
            }
            buffering = false;
            if client_headers.is_none() {
                client_headers = Some(self.send_headers());
            }
            client_body.extend_from_slice(&self.wire.borrow().body);
            buffered.clear();
        }
        if !has_body && client_headers.is_none() {
            // Held headers of a bodiless answer go out when the filter resumes.
            if !std::mem::take(&mut self.wire.borrow_mut().resumed_response) {
                self.violate("the response headers stay held: nothing will resume them");
            }
        }
        let headers = client_headers.unwrap_or_else(|| self.send_headers());
        let status = get_in(&headers, ":status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Message {
            status,
            headers: headers
                .into_iter()
                .filter(|(k, _)| !k.starts_with(':'))
                .collect(),
            body: if head_request {
                Vec::new()
            } else {
                client_body
            },
        }
    }

    fn body_callback(&mut self, body: &[u8], end_of_stream: bool) -> Flow {
        {
            let mut w = self.wire.borrow_mut();
            w.phase = Phase::ResponseBody;
            w.body = body.to_vec();
            w.end_of_stream = end_of_stream;
        }
        self.body_callbacks += 1;
        self.stream.on_response_body(body.len(), end_of_stream)
    }

    /// The response headers leave for the client, as they are now.
    fn send_headers(&self) -> Vec<(String, String)> {
        let mut w = self.wire.borrow_mut();
        w.headers_sent = true;
        w.response_headers.clone()
    }
}
