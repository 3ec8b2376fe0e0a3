//! The proxy-wasm glue: the only module that talks to the host, and it knows
//! nothing about pixels. Every decision comes from [`crate::exchange`] and every
//! byte of output from [`crate::pipeline`].
//!
//! It must never panic: a trap kills the VM (Envoy answers 503 until it reloads).
//! The SDK's setters `panic!` on any unexpected host status, so the calls that can
//! plausibly fail (changing headers, replacing the body, local replies) go through
//! [`host`], which returns the status instead.

use crate::actions::watermark::{ObjectRef, Resources};
use crate::command::Command;
use crate::config::{FilterConfig, HeaderMode};
use crate::error::ProcessError;
use crate::exchange::{self, ExchangeFacts, Gate, HeaderEdit, RequestDecision, UpstreamHead};
use crate::objects::{self, CacheEntry, CacheIndex, FetchAnswer, Lookup};
use crate::pipeline::{self, RequestContext};
use log::{debug, info, warn};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, Status};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(FilterRoot { config: Rc::new(FilterConfig::default()) })
    });
}}

struct FilterRoot {
    config: Rc<FilterConfig>,
}

impl Context for FilterRoot {}

impl RootContext for FilterRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        let bytes = self.get_plugin_configuration().unwrap_or_default();
        match FilterConfig::from_json(&bytes) {
            Ok(config) => {
                info!(
                    "image-process-filter {} configured: header_mode={:?} max_body_bytes={} styles={}",
                    env!("CARGO_PKG_VERSION"),
                    config.header_mode,
                    config.max_body_bytes,
                    config.styles.len()
                );
                self.config = Rc::new(config);
                true
            }
            Err(e) => {
                warn!("{e}");
                false
            }
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(FilterStream {
            id: context_id,
            config: Rc::clone(&self.config),
            state: State::Idle,
            fetch: Fetching::default(),
            request_paused: false,
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// Where one request stands.
enum State {
    /// Not ours (no command, not GET, or the response is not processable).
    Idle,
    /// A command to run on the response.
    Pending(Box<Pending>),
    /// Buffering the response body.
    Buffering(Box<Pending>),
    /// The body is complete (and paused); waiting for watermark objects.
    AwaitingObjects(Box<Pending>, usize),
}

/// The watermark objects of one request: what is in, what is on its way.
#[derive(Default)]
struct Fetching {
    resources: Resources,
    /// Call token → the object and the cache entry the call revalidates.
    outstanding: BTreeMap<u32, (ObjectRef, Option<CacheEntry>)>,
    /// The first failure; the request answers with it.
    error: Option<ProcessError>,
    /// The ETag of each object in `resources`, for the derived ETag.
    etags: BTreeMap<ObjectRef, Option<String>>,
}

struct Pending {
    command: Command,
    accept: Option<String>,
    /// The object's path without the query, for `detect`'s suffix.
    object_key: String,
    request_id: String,
    upstream_etag: Option<String>,
    upstream_vary: Option<String>,
}

struct FilterStream {
    id: u32,
    config: Rc<FilterConfig>,
    state: State,
    fetch: Fetching,
    /// The request waits for the objects (`early` mode, where a failure must
    /// be known before the response headers go out).
    request_paused: bool,
}

impl Context for FilterStream {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let Some((object, cached)) = self.fetch.outstanding.remove(&token_id) else {
            return;
        };
        let header = |name: &str| {
            hostcalls::get_map_value(MapType::HttpCallResponseHeaders, name)
                .ok()
                .flatten()
        };
        let status = header(":status");
        let etag = header("etag");
        let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .ok()
            .flatten()
            .unwrap_or_default();
        let answer = FetchAnswer {
            status: status.as_deref(),
            etag: etag.as_deref(),
            body,
        };
        debug!("#{} fetched {object}: status {status:?}", self.id);
        match objects::on_fetch_answer(&object, answer, cached.as_ref(), now_seconds()) {
            Ok(fetched) => {
                if let Some(entry) = fetched.store {
                    self.store_in_cache(&object, &entry);
                    self.fetch.etags.insert(object.clone(), entry.etag);
                }
                self.fetch.resources.objects.insert(object, fetched.body);
            }
            Err(error) => {
                info!("#{} {error}", self.id);
                self.fetch.error.get_or_insert(error);
            }
        }
        if !self.fetch.outstanding.is_empty() {
            return;
        }
        if std::mem::take(&mut self.request_paused) {
            if let Some(error) = self.fetch.error.take() {
                let request_id = self.request_id();
                self.state = State::Idle;
                self.reply_error(&error, &request_id);
            } else if let Err(status) = hostcalls::resume_http_request() {
                warn!("#{} could not resume the request: {status:?}", self.id);
            }
            return;
        }
        if !matches!(self.state, State::AwaitingObjects(..)) {
            return; // the body is not complete yet: it is processed when it is
        }
        if let State::AwaitingObjects(pending, body_size) =
            std::mem::replace(&mut self.state, State::Idle)
        {
            self.finish_body(&pending, body_size);
            if let Err(status) = hostcalls::resume_http_response() {
                warn!("#{} could not resume the response: {status:?}", self.id);
            }
        }
    }
}

impl HttpContext for FilterStream {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let method = self.get_http_request_header(":method").unwrap_or_default();
        let path = self.get_http_request_header(":path").unwrap_or_default();
        match exchange::decide_request(&method, &path, &self.config.styles) {
            RequestDecision::PassThrough => Action::Continue,
            RequestDecision::Reject(error) => {
                let request_id = self
                    .get_http_request_header("x-request-id")
                    .unwrap_or_default();
                info!("#{} 400-class reject {path}: {error}", self.id);
                self.reply_error(&error, &request_id);
                Action::Pause
            }
            RequestDecision::Process {
                command,
                upstream_path,
            } => {
                if let Err(error) = self.start_fetches(&command, &upstream_path) {
                    info!("#{} reject {path}: {error}", self.id);
                    let request_id = self.request_id();
                    self.reply_error(&error, &request_id);
                    return Action::Pause;
                }
                let _ =
                    host::set_header(host::MapType::RequestHeaders, ":path", Some(&upstream_path));
                for name in exchange::STRIP_REQUEST_HEADERS {
                    let _ = host::set_header(host::MapType::RequestHeaders, name, None);
                }
                debug!(
                    "#{} process '{}' for {upstream_path}",
                    self.id, command.normalized
                );
                self.state = State::Pending(Box::new(Pending {
                    command,
                    accept: self.get_http_request_header("accept"),
                    object_key: upstream_path
                        .split('?')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    request_id: self
                        .get_http_request_header("x-request-id")
                        .unwrap_or_default(),
                    upstream_etag: None,
                    upstream_vary: None,
                }));
                if self.config.header_mode == HeaderMode::Early
                    && !self.fetch.outstanding.is_empty()
                {
                    self.request_paused = true;
                    return Action::Pause;
                }
                Action::Continue
            }
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let State::Pending(mut pending) = std::mem::replace(&mut self.state, State::Idle) else {
            return Action::Continue;
        };
        if end_of_stream {
            return Action::Continue; // no body at all (e.g. HEAD-like answers)
        }
        let status = self.get_http_response_header(":status");
        let content_type = self.get_http_response_header("content-type");
        let content_length = self.get_http_response_header("content-length");
        let content_encoding = self.get_http_response_header("content-encoding");
        let head = UpstreamHead {
            status: status.as_deref(),
            content_type: content_type.as_deref(),
            content_length: content_length.as_deref(),
            content_encoding: content_encoding.as_deref(),
        };
        if let Gate::PassThrough(reason) =
            exchange::gate_response(&head, self.config.max_body_bytes)
        {
            debug!("#{} pass through: {reason}", self.id);
            return Action::Continue;
        }
        pending.upstream_etag = self.get_http_response_header("etag");
        pending.upstream_vary = self.get_http_response_header("vary");
        let action = match self.config.header_mode {
            // Hold the headers (needs allow_on_headers_stop_iteration) until the body is done.
            HeaderMode::Held => Action::Pause,
            HeaderMode::Early => {
                // The objects are in (the request waited for them).
                let etag =
                    objects::combined_etag(pending.upstream_etag.as_deref(), &self.fetch.etags);
                let facts = ExchangeFacts {
                    upstream_etag: etag.as_deref(),
                    upstream_vary: pending.upstream_vary.as_deref(),
                    accept: pending.accept.as_deref(),
                };
                let edits =
                    exchange::early_header_edits(&pending.command, content_type.as_deref(), &facts);
                apply_response_edits(&edits);
                Action::Continue
            }
        };
        self.state = State::Buffering(pending);
        action
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let State::Buffering(pending) = std::mem::replace(&mut self.state, State::Idle) else {
            return Action::Continue;
        };
        if let Err(error) = exchange::check_buffered_size(body_size, self.config.max_body_bytes) {
            // Without Content-Length we only learn the size while buffering: give up
            // and let the original bytes through untouched.
            info!("#{} pass through: {error}", self.id);
            return Action::Continue;
        }
        if !end_of_stream {
            self.state = State::Buffering(pending);
            return Action::Pause;
        }
        if !self.fetch.outstanding.is_empty() {
            // The watermark objects are still on their way: keep the body
            // (and, in held mode, the headers) until they are in.
            info!(
                "#{} body complete, waiting for {} watermark object(s)",
                self.id,
                self.fetch.outstanding.len()
            );
            self.state = State::AwaitingObjects(pending, body_size);
            return Action::Pause;
        }
        self.finish_body(&pending, body_size);
        Action::Continue
    }
}

impl FilterStream {
    /// Processes the complete body (all watermark objects are in).
    fn finish_body(&mut self, pending: &Pending, body_size: usize) {
        let body = match hostcalls::get_buffer(BufferType::HttpResponseBody, 0, body_size) {
            Ok(Some(body)) => body,
            other => {
                warn!(
                    "#{} the response body ({body_size} bytes) cannot be read: {other:?}",
                    self.id
                );
                return;
            }
        };
        if !exchange::is_image_body(&body) {
            // Not an image after all (e.g. no or a generic Content-Type): untouched.
            debug!("#{} pass through: body is not an image", self.id);
            return;
        }
        if let Some(error) = self.fetch.error.take() {
            self.fail_in_body(&error, &pending.request_id, body_size);
            return;
        }
        let upstream_etag =
            objects::combined_etag(pending.upstream_etag.as_deref(), &self.fetch.etags);
        let ctx = RequestContext {
            accept: pending.accept.clone(),
            object_key: Some(pending.object_key.clone()),
            resources: std::mem::take(&mut self.fetch.resources),
        };
        let facts = ExchangeFacts {
            upstream_etag: upstream_etag.as_deref(),
            upstream_vary: pending.upstream_vary.as_deref(),
            accept: pending.accept.as_deref(),
        };
        match pipeline::process(&pending.command, &body, &ctx) {
            Ok(processed) => {
                if self.config.header_mode == HeaderMode::Held {
                    let edits =
                        exchange::processed_header_edits(&pending.command, &processed, &facts);
                    apply_response_edits(&edits);
                }
                if let Err(status) = host::replace_response_body(body_size, &processed.body) {
                    warn!(
                        "#{} could not replace the body: host status {status}",
                        self.id
                    );
                }
            }
            Err(error) => self.fail_in_body(&error, &pending.request_id, body_size),
        }
    }

    fn request_id(&self) -> String {
        hostcalls::get_map_value(MapType::HttpRequestHeaders, "x-request-id")
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Looks up the objects the command's watermarks need in the shared
    /// cache and asks the storage for the rest. An unknown font, a missing
    /// `upstream_cluster` or a call the host refuses is an error at once.
    fn start_fetches(
        &mut self,
        command: &Command,
        upstream_path: &str,
    ) -> Result<(), ProcessError> {
        let bucket = objects::bucket_of_path(upstream_path).unwrap_or_default();
        let needed = command.objects(bucket, &self.config.font_objects)?;
        self.fetch.resources.bucket = bucket.to_string();
        self.fetch.resources.fonts = self.config.font_objects.clone();
        if needed.is_empty() {
            return Ok(());
        }
        let cluster = self.config.upstream_cluster.clone().ok_or_else(|| {
            ProcessError::internal(
                "watermark: the filter has no upstream_cluster to fetch watermark objects from",
            )
        })?;
        let authority = hostcalls::get_map_value(MapType::HttpRequestHeaders, ":authority")
            .ok()
            .flatten()
            .unwrap_or_default();
        let now = now_seconds();
        for object in needed {
            let cached = self.cached(&object);
            let etag =
                match objects::lookup(cached.as_ref(), now, self.config.object_cache_ttl_seconds) {
                    Lookup::Fresh => {
                        if let Some(entry) = cached {
                            debug!("#{} {object} from the cache", self.id);
                            self.fetch.etags.insert(object.clone(), entry.etag);
                            self.fetch.resources.objects.insert(object, entry.body);
                        }
                        continue;
                    }
                    Lookup::Revalidate { etag } => Some(etag),
                    Lookup::Fetch => None,
                };
            let headers = objects::watermark_fetch_headers(&object, &authority, etag.as_deref());
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let token = hostcalls::dispatch_http_call(
                &cluster,
                headers,
                None,
                Vec::new(),
                Duration::from_millis(objects::FETCH_TIMEOUT_MS),
            )
            .map_err(|status| {
                ProcessError::internal(format!(
                    "watermark: cannot fetch '{object}' from cluster '{cluster}': host status {status:?}"
                ))
            })?;
            self.fetch.outstanding.insert(token, (object, cached));
        }
        Ok(())
    }

    /// The cache entry of `object`, if the shared data holds one.
    fn cached(&self, object: &ObjectRef) -> Option<CacheEntry> {
        if self.config.object_cache_bytes == 0 {
            return None;
        }
        let (bytes, _) = hostcalls::get_shared_data(&objects::cache_key(object)).ok()?;
        CacheEntry::decode(&bytes?)
    }

    /// Stores an entry, keeping the cache within `object_cache_bytes`.
    fn store_in_cache(&self, object: &ObjectRef, entry: &CacheEntry) {
        let limit = self.config.object_cache_bytes;
        if limit == 0 {
            return;
        }
        let key = objects::cache_key(object);
        let value = entry.encode();
        for _ in 0..3 {
            let (bytes, cas) =
                hostcalls::get_shared_data(objects::INDEX_KEY).unwrap_or((None, None));
            let mut index = CacheIndex::decode(bytes.as_deref().unwrap_or_default());
            let Some(evicted) = index.admit(&key, value.len(), limit) else {
                return; // larger than the whole cache
            };
            match hostcalls::set_shared_data(objects::INDEX_KEY, Some(&index.encode()), cas) {
                Ok(()) => {
                    for old in evicted {
                        let _ = hostcalls::set_shared_data(&old, Some(&[]), None);
                    }
                    if let Err(status) = hostcalls::set_shared_data(&key, Some(&value), None) {
                        warn!("#{} caching {object} failed: {status:?}", self.id);
                    }
                    return;
                }
                Err(Status::CasMismatch) => continue,
                Err(status) => {
                    warn!("#{} caching {object} failed: {status:?}", self.id);
                    return;
                }
            }
        }
    }

    /// Answers at once with a BOS-style error (request phase).
    fn reply_error(&self, error: &ProcessError, request_id: &str) {
        let body = error.to_json(request_id);
        let headers = exchange::error_response_headers();
        if let Err(status) =
            host::send_local_response(u32::from(error.http_status()), &headers, body.as_bytes())
        {
            warn!(
                "#{} could not send the error response: host status {status}",
                self.id
            );
        }
    }

    /// A failure found once the body is in. With held headers the status can
    /// still change; in early mode the headers are gone, so the original body is
    /// left in place rather than sending half an image.
    fn fail_in_body(&self, error: &ProcessError, request_id: &str, body_size: usize) {
        match self.config.header_mode {
            HeaderMode::Held => {
                info!("#{} processing failed: {error}", self.id);
                let body = error.to_json(request_id);
                apply_response_edits(&exchange::error_header_edits(error, &body));
                if let Err(status) = host::replace_response_body(body_size, body.as_bytes()) {
                    warn!(
                        "#{} could not replace the body: host status {status}",
                        self.id
                    );
                }
            }
            HeaderMode::Early => {
                warn!(
                    "#{} processing failed after headers were sent, original body kept: {error}",
                    self.id
                );
            }
        }
    }
}

fn now_seconds() -> u64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn apply_response_edits(edits: &[HeaderEdit]) {
    for (name, value) in edits {
        let _ = host::set_header(host::MapType::ResponseHeaders, name, value.as_deref());
    }
}

/// Host calls that report their status instead of panicking.
mod host {
    /// proxy-wasm ABI map types.
    #[derive(Clone, Copy)]
    #[repr(u32)]
    pub enum MapType {
        RequestHeaders = 0,
        ResponseHeaders = 2,
    }

    const BUFFER_HTTP_RESPONSE_BODY: u32 = 1;
    const STATUS_OK: u32 = 0;

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

    /// Replaces the `old_size` buffered bytes of the response body with `body`.
    pub fn replace_response_body(old_size: usize, body: &[u8]) -> Result<(), u32> {
        // SAFETY: as above.
        check(unsafe {
            proxy_set_buffer_bytes(
                BUFFER_HTTP_RESPONSE_BODY,
                0,
                old_size,
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
