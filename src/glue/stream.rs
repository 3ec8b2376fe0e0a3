//! One request through the filter: the state machine behind the proxy-wasm
//! callbacks. It knows nothing about pixels (every decision comes from
//! [`crate::exchange`], [`crate::local_reply`], [`crate::persistence`] and
//! every byte of output from [`crate::pipeline`]) and nothing about a
//! particular proxy: it talks to a [`Host`], and what the proxies differ in
//! is asked of [`ProxyHost`].
//!
//! It must never panic: in the filter a trap kills the VM (Envoy answers 503
//! until it reloads). Host calls that fail are logged and the request goes
//! on as well as it can.

use super::host::{Flow, Host, SharedDataError};
use crate::access::{self, Admission};
use crate::actions::format;
use crate::actions::watermark::{ObjectRef, Resources};
use crate::auth::IncomingRequest;
use crate::budget::Budget;
use crate::command::Command;
use crate::config::{FilterConfig, HeaderMode};
use crate::error::ProcessError;
use crate::exchange::{self, ExchangeFacts, Gate, HeaderEdit, UpstreamHead};
use crate::local_reply::{self, OriginalVerdict};
use crate::metrics::Metric;
use crate::objects::{self, CacheEntry, CacheIndex, FetchAnswer, Lookup};
use crate::persistence::{self, PersistPlan, Saved};
use crate::pipeline::{self, EarlyDecode, Intake, RequestContext};
use log::{debug, info, warn};
use std::collections::BTreeMap;
use std::rc::Rc;

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
    /// `system/load` / `system/save`: the request is paused while the filter
    /// reads the source, processes it and writes the result.
    Persisting(Box<Persisting>),
    /// `local_reply` mode: the request is paused while the filter reads the
    /// original, processes it and answers with a local reply.
    Answering(Box<Answering>),
}

/// A `local_reply` request under way.
struct Answering {
    pending: Pending,
    stage: AnswerStage,
    /// When the read of the original was sent (ns since the epoch).
    read_started_nanos: u64,
}

enum AnswerStage {
    /// Waiting for the original (call token).
    Reading(u32),
    /// The original is in (a processable image); waiting for watermark objects.
    Read {
        status: Option<String>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

/// A persistence request under way.
struct Persisting {
    plan: Box<PersistPlan>,
    request_id: String,
    /// The client's `Host`, sent (and signed) on the filter's own calls.
    authority: String,
    accept: Option<String>,
    stage: PersistStage,
}

enum PersistStage {
    /// Waiting for the source (call token).
    Reading(u32),
    /// The source is in; waiting for watermark objects.
    Read(Vec<u8>),
    /// Waiting for the storage's answer to the PUT (call token), with what was sent.
    Writing {
        token: u32,
        size: usize,
        content_type: &'static str,
    },
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
    /// The client's `If-None-Match` (not sent upstream).
    if_none_match: Option<String>,
    upstream_etag: Option<String>,
    upstream_vary: Option<String>,
    /// What processing may cost: the signed or the unsigned budget.
    budget: Budget,
    /// The body so far, read chunk by chunk as it arrives (and decoded as it
    /// comes when the plan allows, [`Intake`]); `None` when it is read
    /// whole at the end.
    intake: Option<Intake>,
}

/// One HTTP stream (request and its response) through the filter.
pub struct FilterStream<H: Host> {
    /// The host's context id (log lines start with `#id`).
    id: u32,
    config: Rc<FilterConfig>,
    host: H,
    /// `config.header_mode` as this host can run it ([`crate::proxy_host::ProxyHost::header_mode`]).
    header_mode: HeaderMode,
    state: State,
    /// A HEAD the filter fetches with GET: Envoy forwards whatever body comes
    /// back, so the filter drops it (the headers describe what a GET gets).
    head_as_get: bool,
    /// Answer with the original when processing fails (`ignore-error,1` or
    /// `return_original_on_failure`, and the original is not protected).
    fallback_to_original: bool,
    fetch: Fetching,
    /// The request waits for the objects (`early` mode, where a failure must
    /// be known before the response headers go out).
    request_paused: bool,
    /// The request's `x-request-id`, or one the filter made (nginx sends none).
    request_id: String,
}

impl<H: Host> FilterStream<H> {
    pub fn new(id: u32, config: Rc<FilterConfig>, host: H) -> FilterStream<H> {
        let header_mode = host
            .kind()
            .header_mode(config.header_mode, config.upstream_cluster.is_some());
        FilterStream {
            id,
            config,
            host,
            header_mode,
            state: State::Idle,
            head_as_get: false,
            fallback_to_original: false,
            fetch: Fetching::default(),
            request_paused: false,
            request_id: String::new(),
        }
    }

    /// The header mode this stream runs (the configured one, as this host can run it).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub fn header_mode(&self) -> HeaderMode {
        self.header_mode
    }

    /// The proxy this stream runs in.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub fn host_kind(&self) -> crate::proxy_host::ProxyHost {
        self.host.kind()
    }

    /// The answer to one of the filter's calls (`num_headers == 0`: the call
    /// failed: refused, reset or timed out).
    pub fn on_call_response(&mut self, token_id: u32, num_headers: usize, body_size: usize) {
        let answer = CallAnswer::new(&self.host, num_headers, body_size);
        if self.is_persist_call(token_id) {
            self.on_persist_call(token_id, &answer);
            return;
        }
        if self.is_original_call(token_id) {
            self.on_original(&answer);
            return;
        }
        let Some((object, cached)) = self.fetch.outstanding.remove(&token_id) else {
            return;
        };
        let status = answer.header(":status");
        let etag = answer.header("etag");
        let body = answer.body(&self.host);
        let answer = FetchAnswer {
            status: status.as_deref(),
            etag: etag.as_deref(),
            body,
        };
        debug!("#{} fetched {object}: status {status:?}", self.id);
        match objects::on_fetch_answer(&object, answer, cached.as_ref(), self.now_seconds()) {
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
            } else if let Err(status) = self.host.resume_request() {
                warn!("#{} could not resume the request: {status:?}", self.id);
            }
            return;
        }
        if matches!(self.state, State::Persisting(..)) {
            self.persist_when_ready();
            return;
        }
        if matches!(self.state, State::Answering(..)) {
            self.answer_when_ready();
            return;
        }
        if !matches!(self.state, State::AwaitingObjects(..)) {
            return; // the body is not complete yet: it is processed when it is
        }
        if let State::AwaitingObjects(pending, body_size) =
            std::mem::replace(&mut self.state, State::Idle)
        {
            self.finish_body(*pending, body_size);
            if self.head_as_get {
                let _ = self.replace_response_body(usize::MAX >> 1, &[]);
            }
            if let Err(status) = self.host.resume_response() {
                warn!("#{} could not resume the response: {status:?}", self.id);
            }
        }
    }

    /// The request headers are in (`end_of_stream`: no body follows, as far
    /// as the host can tell).
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> Flow {
        let all = self.request_headers();
        let pseudo = |name: &str| {
            all.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (method, path, authority) = (pseudo(":method"), pseudo(":path"), pseudo(":authority"));
        let mut request_id = pseudo("x-request-id");
        if request_id.is_empty() {
            // nginx sends none: one that is unique enough to find in the log.
            request_id = format!(
                "{:016x}{:04x}",
                self.host.now_unix_nanos(),
                self.id & 0xffff
            );
        }
        self.request_id = request_id.clone();
        let mut headers: Vec<(String, String)> = all
            .into_iter()
            .filter(|(k, _)| !k.starts_with(':'))
            .collect();
        if !headers.iter().any(|(k, _)| k == "host") {
            headers.push(("host".into(), authority));
        }
        let request = IncomingRequest {
            method: &method,
            path: &path,
            headers: &headers,
        };
        let has_body = self.host.kind().request_has_body(
            end_of_stream,
            request.header("content-length"),
            request.header("transfer-encoding"),
        );
        match access::admit(
            &self.config,
            &request,
            has_body,
            self.host.now_unix_seconds(),
        ) {
            Admission::Persist(plan) => {
                let authority = request.header("host").unwrap_or_default().to_string();
                let accept = request.header("accept").map(str::to_string);
                self.start_persistence(plan, request_id, authority, accept);
                Flow::Pause
            }
            Admission::Refuse(refusal) => {
                self.host.count(Metric::Refused(refusal.reason));
                info!(
                    "#{} request {request_id} refused ({}): {}",
                    self.id,
                    refusal.reason.as_str(),
                    refusal.error
                );
                self.reply_error(&refusal.error, &request_id);
                Flow::Pause
            }
            Admission::Reject(error) => {
                self.host.count(Metric::Rejected);
                info!("#{} request {request_id} rejected: {error}", self.id);
                self.reply_error(&error, &request_id);
                Flow::Pause
            }
            Admission::Forward {
                command,
                edits,
                original_allowed,
                verified,
            } => {
                let upstream_path = edits
                    .iter()
                    .rev()
                    .find(|(k, _)| *k == ":path")
                    .and_then(|(_, v)| v.clone())
                    .unwrap_or_else(|| path.clone());
                if let Some(command) = &command {
                    // Watermark objects and fonts: from the cache, or fetched now.
                    let host_header = headers
                        .iter()
                        .find(|(k, _)| k == "host")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    if let Err(error) = self.start_fetches(command, &upstream_path, &host_header) {
                        self.host.count(Metric::Rejected);
                        info!("#{} request {request_id} rejected: {error}", self.id);
                        self.reply_error(&error, &request_id);
                        return Flow::Pause;
                    }
                }
                for (name, value) in &edits {
                    let _ = self.host.set_request_header(name, value.as_deref());
                }
                let Some(command) = command else {
                    self.host.count(Metric::PassedThrough);
                    return Flow::Continue;
                };
                self.head_as_get = method.eq_ignore_ascii_case("HEAD");
                self.fallback_to_original = original_allowed
                    && (command.ignores_errors() || self.config.return_original_on_failure);
                debug!(
                    "#{} process '{}' for {upstream_path}",
                    self.id, command.normalized
                );
                let header = |name: &str| {
                    headers
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                };
                let mut accept = header("accept");
                if self.header_mode == HeaderMode::Early {
                    // The Content-Type goes out before the image is seen, and
                    // whether f_auto can give AVIF depends on the image.
                    accept = format::accept_without_avif(accept.as_deref());
                }
                let if_none_match = header("if-none-match");
                let pending = Pending {
                    command,
                    accept,
                    object_key: upstream_path
                        .split('?')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    request_id,
                    if_none_match,
                    upstream_etag: None,
                    upstream_vary: None,
                    budget: self.config.budget_for(verified.is_some()),
                    intake: None,
                };
                if self.header_mode == HeaderMode::LocalReply {
                    return self.start_answer(pending, &headers, &edits, &path);
                }
                self.state = State::Pending(Box::new(pending));
                if self.header_mode == HeaderMode::Early && !self.fetch.outstanding.is_empty() {
                    self.request_paused = true;
                    return Flow::Pause;
                }
                Flow::Continue
            }
        }
    }

    /// The upstream's response headers are in.
    pub fn on_response_headers(&mut self, end_of_stream: bool) -> Flow {
        let State::Pending(mut pending) = std::mem::replace(&mut self.state, State::Idle) else {
            return Flow::Continue;
        };
        let status = self.response_header(":status");
        if status.as_deref() == Some("304") {
            // The storage answered the client's If-Modified-Since: pass the 304
            // on with the processed response's validators (the watermark
            // objects' ETags are needed too, so none while they are on their way).
            let upstream_etag = if self.fetch.outstanding.is_empty() {
                objects::combined_etag(self.response_header("etag").as_deref(), &self.fetch.etags)
            } else {
                None
            };
            let vary = self.response_header("vary");
            let facts = ExchangeFacts {
                upstream_etag: upstream_etag.as_deref(),
                upstream_vary: vary.as_deref(),
                accept: pending.accept.as_deref(),
                budget: pending.budget,
            };
            self.apply_response_edits(&exchange::not_modified_passthrough_edits(
                &pending.command,
                &facts,
            ));
            self.host.count(Metric::PassedThrough);
            return Flow::Continue;
        }
        if end_of_stream {
            self.host.count(Metric::PassedThrough);
            return Flow::Continue; // no body at all (e.g. HEAD-like answers)
        }
        if status.as_deref() == Some("200")
            && self.fetch.outstanding.is_empty()
            && self.answer_not_modified(&pending)
        {
            return Flow::Pause;
        }
        let content_type = self.response_header("content-type");
        let content_length = self.response_header("content-length");
        let content_encoding = self.response_header("content-encoding");
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
            self.host.count(Metric::PassedThrough);
            return Flow::Continue;
        }
        pending.upstream_etag = self.response_header("etag");
        pending.upstream_vary = self.response_header("vary");
        let light_ctx = RequestContext {
            accept: pending.accept.clone(),
            budget: pending.budget,
            ..RequestContext::default()
        };
        let content_length = content_length.and_then(|v| v.trim().parse().ok());
        if self.host.kind().reads_body_at_offset() {
            pending.intake = Some(Intake::new(&pending.command, light_ctx, content_length));
        }
        let action = match self.header_mode {
            // Hold the headers (needs allow_on_headers_stop_iteration) until the body is done.
            HeaderMode::Held => Flow::Pause,
            // (`local_reply` never gets here: its processed requests are answered
            // from the request phase and handed-back ones are not pending.)
            HeaderMode::Early | HeaderMode::LocalReply => {
                // The objects are in (the request waited for them).
                let etag =
                    objects::combined_etag(pending.upstream_etag.as_deref(), &self.fetch.etags);
                let facts = ExchangeFacts {
                    upstream_etag: etag.as_deref(),
                    upstream_vary: pending.upstream_vary.as_deref(),
                    accept: pending.accept.as_deref(),
                    budget: pending.budget,
                };
                let edits =
                    exchange::early_header_edits(&pending.command, content_type.as_deref(), &facts);
                self.apply_response_edits(&edits);
                Flow::Continue
            }
        };
        self.state = State::Buffering(pending);
        action
    }

    /// `body_size` bytes of response body are buffered (all of it so far
    /// when the last callback paused).
    pub fn on_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Flow {
        let action = self.response_body(body_size, end_of_stream);
        if self.head_as_get && matches!(action, Flow::Continue) {
            // Whatever this chunk now holds (original or processed), a HEAD gets none of it.
            let _ = self.replace_response_body(usize::MAX >> 1, &[]);
        }
        action
    }
}

impl<H: Host> FilterStream<H> {
    fn response_body(&mut self, body_size: usize, end_of_stream: bool) -> Flow {
        let State::Buffering(pending) = std::mem::replace(&mut self.state, State::Idle) else {
            return Flow::Continue;
        };
        if let Err(error) = exchange::check_buffered_size(body_size, self.config.max_body_bytes) {
            // Without Content-Length we only learn the size while buffering: give up
            // and let the original bytes through untouched.
            info!("#{} pass through: {error}", self.id);
            self.host.count(Metric::PassedThrough);
            return Flow::Continue;
        }
        let mut pending = pending;
        self.take_in(&mut pending, body_size);
        if !end_of_stream {
            self.state = State::Buffering(pending);
            return Flow::Pause;
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
            return Flow::Pause;
        }
        self.finish_body(*pending, body_size);
        Flow::Continue
    }

    /// Runs the pipeline on `body` within `ctx.budget`, recording its time,
    /// its cost against the estimate and budget refusals.
    /// `body` may be the file's header only (see [`EarlyDecode`]):
    /// `body_size` bytes are read again from the host if the pipeline needs
    /// them.
    fn run_pipeline(
        &self,
        command: &Command,
        (body, body_size): (&[u8], usize),
        early: EarlyDecode,
        ctx: &RequestContext,
        request_id: &str,
    ) -> crate::error::Result<pipeline::Processed> {
        let started = self.host.now_unix_nanos();
        let mut whole_body = || self.host.response_body(0, body_size).ok();
        let (result, cost) = pipeline::process_received(command, body, early, ctx, &mut whole_body);
        let elapsed_ms = self.host.now_unix_nanos().saturating_sub(started) / 1_000_000;
        self.host.record_metric(Metric::ProcessingMs, elapsed_ms);
        if cost.refused {
            self.host.count(Metric::BudgetRefused);
        }
        if cost.stopped {
            self.host.count(Metric::BudgetStopped);
        }
        if cost.overran() {
            self.host.count(Metric::OverEstimate);
            warn!(
                "#{} request {request_id} ran past its estimate: {}",
                self.id,
                cost.log_line()
            );
        } else {
            debug!("#{} request {request_id} {}", self.id, cost.log_line());
        }
        result
    }

    /// Reads the chunks that arrived since the last call into the intake
    /// (`body_size`: all buffered so far). When the host's buffer is not
    /// what the intake expects, the intake is dropped and the body is read
    /// whole at the end.
    fn take_in(&self, pending: &mut Pending, body_size: usize) {
        let Some(intake) = pending.intake.as_mut() else {
            return;
        };
        let have = intake.len();
        if body_size < have {
            pending.intake = None;
            return;
        }
        if body_size == have {
            return;
        }
        // In slices: a JPEG decoded as it arrives is then held a slice at a
        // time beyond its header, whatever the host buffered at once.
        let mut at = have;
        while at < body_size {
            let n = (body_size - at).min(pipeline::PUSH_BYTES);
            match self.host.response_body(at, n) {
                Ok(slice) if slice.len() == n => intake.push(&slice),
                _ => {
                    pending.intake = None;
                    return;
                }
            }
            at += n;
        }
    }

    /// Processes the complete body (all watermark objects are in).
    fn finish_body(&mut self, mut pending: Pending, body_size: usize) {
        let intake = pending
            .intake
            .take()
            .filter(|intake| intake.len() == body_size);
        if let Some(share) = intake.as_ref().and_then(Intake::decoded_before_latest) {
            debug!(
                "#{} {:.0} % of the image was decoded before the last chunk came",
                self.id,
                share * 100.0
            );
            if share > 0.0 {
                self.host.count(Metric::DecodedWhileArriving);
            }
        }
        // The intake may hold the header only (with the decoded image), or
        // have lost bytes it dropped: then the host's copy is read.
        let (body, early) = match intake.and_then(Intake::into_parts) {
            Some(parts) => parts,
            None => match self.host.response_body(0, body_size) {
                Ok(body) => (body, EarlyDecode::default()),
                Err(status) => {
                    warn!(
                        "#{} the response body ({body_size} bytes) cannot be read: host status {status}",
                        self.id
                    );
                    return;
                }
            },
        };
        let pending = &pending;
        if !exchange::is_image_body(&body) {
            // Not an image after all (e.g. no or a generic Content-Type): untouched.
            debug!("#{} pass through: body is not an image", self.id);
            self.host.count(Metric::PassedThrough);
            return;
        }
        if let Some(error) = self.fetch.error.take() {
            self.host.count(Metric::Failed);
            self.fail_in_body(&error, &pending.request_id, body_size);
            return;
        }
        let upstream_etag =
            objects::combined_etag(pending.upstream_etag.as_deref(), &self.fetch.etags);
        let ctx = RequestContext {
            accept: pending.accept.clone(),
            object_key: Some(pending.object_key.clone()),
            resources: std::mem::take(&mut self.fetch.resources),
            budget: pending.budget,
        };
        let facts = ExchangeFacts {
            upstream_etag: upstream_etag.as_deref(),
            upstream_vary: pending.upstream_vary.as_deref(),
            accept: pending.accept.as_deref(),
            budget: pending.budget,
        };
        let result = self.run_pipeline(
            &pending.command,
            (&body, body_size),
            early,
            &ctx,
            &pending.request_id,
        );
        match result {
            Ok(processed) => {
                self.host.count(Metric::Processed);
                self.host.add_to_metric(Metric::BytesIn, body_size as u64);
                self.host
                    .add_to_metric(Metric::BytesOut, processed.body.len() as u64);
                if self.header_mode == HeaderMode::Held {
                    let edits =
                        exchange::processed_header_edits(&pending.command, &processed, &facts);
                    self.apply_response_edits(&edits);
                }
                if let Err(status) = self.replace_response_body(body_size, &processed.body) {
                    warn!(
                        "#{} could not replace the body: host status {status}",
                        self.id
                    );
                }
            }
            Err(error) => {
                self.host.count(Metric::Failed);
                self.fail_in_body(&error, &pending.request_id, body_size)
            }
        }
    }
}

impl<H: Host> FilterStream<H> {
    /// Answers 304 without processing when the client's `If-None-Match` holds
    /// the ETag the processed response would have (it depends only on the
    /// upstream ETag, the command and `Accept`). Returns whether it did.
    fn answer_not_modified(&self, pending: &Pending) -> bool {
        let upstream_etag =
            objects::combined_etag(self.response_header("etag").as_deref(), &self.fetch.etags);
        let Some(headers) = exchange::not_modified_answer(
            &pending.command,
            pending.accept.as_deref(),
            &pending.budget,
            pending.if_none_match.as_deref(),
            upstream_etag.as_deref(),
            &|name| self.response_header(name),
        ) else {
            return false;
        };
        self.send_not_modified(&headers)
    }

    /// Sends a 304 with these headers; whether the host took it.
    fn send_not_modified(&self, headers: &[(String, String)]) -> bool {
        match self.send_reply(304, headers, b"") {
            Ok(()) => {
                self.host.count(Metric::NotModified);
                true
            }
            Err(status) => {
                warn!("#{} could not answer 304: host status {status}", self.id);
                false
            }
        }
    }

    /// A local reply with owned headers.
    fn send_reply(
        &self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), u32> {
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.host.send_local_response(status, &borrowed, body)
    }

    fn request_headers(&self) -> Vec<(String, String)> {
        self.host.request_headers()
    }

    fn response_header(&self, name: &str) -> Option<String> {
        self.host.response_header(name)
    }

    /// Looks up the objects the command's watermarks need in the shared
    /// cache and asks the storage for the rest. An unknown font, a missing
    /// `upstream_cluster` or a call the host refuses is an error at once.
    fn start_fetches(
        &mut self,
        command: &Command,
        upstream_path: &str,
        authority: &str,
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
        let now = self.now_seconds();
        for object in needed {
            let cached = self.cached(&object);
            let etag =
                match objects::lookup(cached.as_ref(), now, self.config.object_cache_ttl_seconds) {
                    Lookup::Fresh => {
                        self.host.count(Metric::ObjectCacheHits);
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
            let headers = objects::watermark_fetch_headers(
                &object,
                authority,
                etag.as_deref(),
                self.config.upstream_signing.as_ref(),
                self.host.now_unix_seconds(),
            );
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let token = self
                .host
                .dispatch_http_call(&cluster, &headers, None, objects::FETCH_TIMEOUT_MS)
                .map_err(|status| {
                ProcessError::internal(format!(
                    "watermark: cannot fetch '{object}' from cluster '{cluster}': host status {status:?}"
                ))
            })?;
            self.host.count(Metric::ObjectFetches);
            self.fetch.outstanding.insert(token, (object, cached));
        }
        Ok(())
    }

    /// The cache entry of `object`, if the shared data holds one.
    fn cached(&self, object: &ObjectRef) -> Option<CacheEntry> {
        if self.config.object_cache_bytes == 0 {
            return None;
        }
        let (bytes, _) = self.host.shared_data(&objects::cache_key(object));
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
            let (bytes, cas) = self.host.shared_data(objects::INDEX_KEY);
            let mut index = CacheIndex::decode(bytes.as_deref().unwrap_or_default());
            let Some(evicted) = index.admit(&key, value.len(), limit) else {
                return; // larger than the whole cache
            };
            match self
                .host
                .set_shared_data(objects::INDEX_KEY, &index.encode(), cas)
            {
                Ok(()) => {
                    for old in evicted {
                        let _ = self.host.set_shared_data(&old, &[], None);
                    }
                    if let Err(status) = self.host.set_shared_data(&key, &value, None) {
                        warn!("#{} caching {object} failed: {status:?}", self.id);
                    }
                    return;
                }
                Err(SharedDataError::CasMismatch) => continue,
                Err(status) => {
                    warn!("#{} caching {object} failed: {status:?}", self.id);
                    return;
                }
            }
        }
    }

    fn request_id(&self) -> String {
        self.request_id.clone()
    }

    /// Answers at once with a BOS-style error (request phase).
    fn reply_error(&self, error: &ProcessError, request_id: &str) {
        if error.is_server_fault() {
            // The body carries a fixed message; the detail is here.
            warn!("#{} request {request_id}: {error}", self.id);
        }
        let body = error.to_json(request_id);
        let headers = exchange::error_response_headers();
        if let Err(status) =
            self.host
                .send_local_response(u32::from(error.http_status()), &headers, body.as_bytes())
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
        match self.header_mode {
            HeaderMode::Held if self.fallback_to_original => {
                // The held headers and the buffered body are still the original's.
                info!(
                    "#{} request {request_id} processing failed, original sent: {error}",
                    self.id
                );
                let _ = self
                    .host
                    .set_response_header(exchange::FALLBACK_HEADER, Some(error.code.as_str()));
            }
            HeaderMode::Held => {
                info!(
                    "#{} request {request_id} processing failed: {error}",
                    self.id
                );
                let body = error.to_json(request_id);
                self.apply_response_edits(&exchange::error_header_edits(error, &body));
                if let Err(status) = self.replace_response_body(body_size, body.as_bytes()) {
                    warn!(
                        "#{} could not replace the body: host status {status}",
                        self.id
                    );
                }
            }
            HeaderMode::Early | HeaderMode::LocalReply => {
                warn!(
                    "#{} processing failed after headers were sent, original body kept: {error}",
                    self.id
                );
            }
        }
    }
}

/// Persistence (`system/load`, `system/save`): every decision comes from
/// [`crate::persistence`]; this only makes the calls and answers.
impl<H: Host> FilterStream<H> {
    fn start_persistence(
        &mut self,
        plan: Box<PersistPlan>,
        request_id: String,
        authority: String,
        accept: Option<String>,
    ) {
        info!(
            "#{} request {request_id}: {} -> {} by {}",
            self.id, plan.source, plan.target, plan.verified.access_key
        );
        let started = self
            .start_fetches(&plan.command, &plan.source.path(), &authority)
            .and_then(|()| {
                let headers = objects::watermark_fetch_headers(
                    &plan.source,
                    &authority,
                    None,
                    self.config.upstream_signing.as_ref(),
                    self.host.now_unix_seconds(),
                );
                self.dispatch(&headers, None, persistence::CALL_TIMEOUT_MS)
            });
        match started {
            Ok(token) => {
                self.state = State::Persisting(Box::new(Persisting {
                    plan,
                    request_id,
                    authority,
                    accept,
                    stage: PersistStage::Reading(token),
                }));
            }
            Err(error) => self.persist_failed(&error, &request_id),
        }
    }

    /// A call to `upstream_cluster` (persistence's read or write, or the
    /// read of a `local_reply` original).
    fn dispatch(
        &self,
        headers: &[(String, String)],
        body: Option<&[u8]>,
        timeout_ms: u64,
    ) -> Result<u32, ProcessError> {
        let cluster = self
            .config
            .upstream_cluster
            .as_deref()
            .ok_or_else(|| ProcessError::internal("the filter has no upstream_cluster"))?;
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.host
            .dispatch_http_call(cluster, &headers, body, timeout_ms)
            .map_err(|status| {
                ProcessError::internal(format!(
                    "cannot call upstream_cluster '{cluster}': host status {status:?}"
                ))
            })
    }

    fn is_persist_call(&self, token: u32) -> bool {
        match &self.state {
            State::Persisting(p) => match p.stage {
                PersistStage::Reading(t) | PersistStage::Writing { token: t, .. } => t == token,
                PersistStage::Read(_) => false,
            },
            _ => false,
        }
    }

    fn on_persist_call(&mut self, _token: u32, answer: &CallAnswer) {
        let State::Persisting(mut p) = std::mem::replace(&mut self.state, State::Idle) else {
            return;
        };
        let header = |name: &str| answer.header(name);
        let body_size = answer.body_size;
        let status = header(":status");
        match p.stage {
            PersistStage::Reading(_) => {
                debug!("#{} source {}: status {status:?}", self.id, p.plan.source);
                if let Err(error) =
                    persistence::check_source_answer(&p.plan.source, status.as_deref(), body_size)
                {
                    return self.persist_failed(&error, &p.request_id);
                }
                let body = answer.body(&self.host);
                p.stage = PersistStage::Read(body);
                self.state = State::Persisting(p);
                self.persist_when_ready();
            }
            PersistStage::Writing {
                size, content_type, ..
            } => {
                let etag = header("etag");
                let saved = Saved {
                    target: &p.plan.target,
                    size,
                    content_type,
                };
                match persistence::save_answer(&saved, status.as_deref(), etag.as_deref()) {
                    Ok(json) => {
                        info!(
                            "#{} request {}: saved {} ({size} bytes)",
                            self.id, p.request_id, p.plan.target
                        );
                        self.host.count(Metric::PersistenceSaved);
                        let headers = persistence::answer_headers();
                        if let Err(status) =
                            self.host
                                .send_local_response(200, &headers, json.as_bytes())
                        {
                            warn!("#{} could not answer: host status {status}", self.id);
                        }
                    }
                    Err(error) => self.persist_failed(&error, &p.request_id),
                }
            }
            PersistStage::Read(_) => {}
        }
    }

    /// Processes and writes once the source and every watermark object are in.
    fn persist_when_ready(&mut self) {
        if !self.fetch.outstanding.is_empty() {
            return;
        }
        if !matches!(&self.state, State::Persisting(p) if matches!(p.stage, PersistStage::Read(_)))
        {
            return; // the source is not in yet (or the write is under way)
        }
        let State::Persisting(mut p) = std::mem::replace(&mut self.state, State::Idle) else {
            return;
        };
        let PersistStage::Read(source) = std::mem::replace(&mut p.stage, PersistStage::Reading(0))
        else {
            return;
        };
        if let Some(error) = self.fetch.error.take() {
            return self.persist_failed(&error, &p.request_id);
        }
        let ctx = RequestContext {
            accept: p.accept.clone(),
            object_key: Some(p.plan.source.path()),
            resources: std::mem::take(&mut self.fetch.resources),
            // Persistence needs a signature: the signed budget.
            budget: self.config.budget,
        };
        let result = self.run_pipeline(
            &p.plan.command,
            (&source, source.len()),
            EarlyDecode::default(),
            &ctx,
            &p.request_id,
        );
        drop(source);
        let written = result.and_then(|processed| {
            persistence::check_result_size(
                &p.plan.target,
                processed.body.len(),
                self.config.max_body_bytes,
            )?;
            let headers = persistence::save_put_headers(
                &p.plan.target,
                &p.authority,
                processed.content_type,
                &processed.body,
                self.config.upstream_signing.as_ref(),
                self.host.now_unix_seconds(),
            );
            let token = self.dispatch(
                &headers,
                Some(&processed.body),
                persistence::CALL_TIMEOUT_MS,
            )?;
            Ok((token, processed.body.len(), processed.content_type))
        });
        match written {
            Ok((token, size, content_type)) => {
                p.stage = PersistStage::Writing {
                    token,
                    size,
                    content_type,
                };
                self.state = State::Persisting(p);
            }
            Err(error) => self.persist_failed(&error, &p.request_id),
        }
    }

    fn persist_failed(&mut self, error: &ProcessError, request_id: &str) {
        self.host.count(Metric::PersistenceFailed);
        info!(
            "#{} request {request_id}: persistence failed: {error}",
            self.id
        );
        self.state = State::Idle;
        self.reply_error(error, request_id);
    }
}

/// `local_reply` mode: every decision comes from [`crate::local_reply`]; this
/// only makes the read, and answers or hands the request back to the proxy.
impl<H: Host> FilterStream<H> {
    /// Pauses the request and reads the original (the request headers already
    /// carry the admission's edits, so a handed-back request goes upstream as
    /// in the other modes).
    fn start_answer(
        &mut self,
        pending: Pending,
        headers: &[(String, String)],
        edits: &[access::RequestEdit],
        path: &str,
    ) -> Flow {
        let read = local_reply::original_request(headers, edits, path);
        let started = self.host.now_unix_nanos();
        match self.dispatch(&read, None, self.config.original_read_timeout_ms) {
            Ok(token) => {
                self.state = State::Answering(Box::new(Answering {
                    pending,
                    stage: AnswerStage::Reading(token),
                    read_started_nanos: started,
                }));
            }
            Err(error) => {
                self.host.count(Metric::Failed);
                warn!("#{} request {}: {error}", self.id, pending.request_id);
                self.reply_error(&error, &pending.request_id);
            }
        }
        Flow::Pause
    }

    fn is_original_call(&self, token: u32) -> bool {
        matches!(&self.state, State::Answering(a) if matches!(a.stage, AnswerStage::Reading(t) if t == token))
    }

    /// The storage answered the filter's read of the original.
    fn on_original(&mut self, answer: &CallAnswer) {
        let body_size = answer.body_size;
        let State::Answering(mut answering) = std::mem::replace(&mut self.state, State::Idle)
        else {
            return;
        };
        let headers = answer.headers();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let status = header(":status");
        let pending = &answering.pending;
        let elapsed_ms = self
            .host
            .now_unix_nanos()
            .saturating_sub(answering.read_started_nanos)
            / 1_000_000;
        let timed_out =
            local_reply::ran_out_the_clock(elapsed_ms, self.config.original_read_timeout_ms);
        match local_reply::judge_original(
            status.as_deref(),
            &headers,
            self.config.max_body_bytes,
            timed_out,
        ) {
            OriginalVerdict::HandBack(reason) => {
                debug!("#{} handed back to the proxy: {reason}", self.id);
                self.hand_back();
            }
            OriginalVerdict::Failed => self.read_failed(&answering),
            OriginalVerdict::NotModified => {
                let etag = if self.fetch.outstanding.is_empty() {
                    objects::combined_etag(header("etag").as_deref(), &self.fetch.etags)
                } else {
                    None
                };
                let vary = header("vary");
                let facts = ExchangeFacts {
                    upstream_etag: etag.as_deref(),
                    upstream_vary: vary.as_deref(),
                    accept: pending.accept.as_deref(),
                    budget: pending.budget,
                };
                let edits = exchange::not_modified_passthrough_edits(&pending.command, &facts);
                self.host.count(Metric::PassedThrough);
                if let Err(status) =
                    self.send_reply(304, &local_reply::reply_headers(&headers, &edits), b"")
                {
                    warn!("#{} could not answer 304: host status {status}", self.id);
                }
            }
            OriginalVerdict::Process => {
                if self.fetch.outstanding.is_empty() {
                    let etag = objects::combined_etag(header("etag").as_deref(), &self.fetch.etags);
                    if let Some(reply) = exchange::not_modified_answer(
                        &pending.command,
                        pending.accept.as_deref(),
                        &pending.budget,
                        pending.if_none_match.as_deref(),
                        etag.as_deref(),
                        &|name| header(name),
                    ) {
                        if self.send_not_modified(&reply) {
                            return;
                        }
                    }
                }
                if !local_reply::arrived_whole(header("content-length").as_deref(), body_size) {
                    return self.read_failed(&answering);
                }
                if body_size > self.config.max_body_bytes {
                    // Chunked, so the size was not known from the headers.
                    debug!(
                        "#{} handed back to the proxy: body over max_body_bytes",
                        self.id
                    );
                    self.hand_back();
                    return;
                }
                let body = answer.body(&self.host);
                if !exchange::is_image_body(&body) {
                    debug!(
                        "#{} handed back to the proxy: body is not an image",
                        self.id
                    );
                    self.hand_back();
                    return;
                }
                answering.stage = AnswerStage::Read {
                    status,
                    headers,
                    body,
                };
                self.state = State::Answering(answering);
                self.answer_when_ready();
            }
        }
    }

    /// The read of the original failed: 502, or 504 when it ran out of time.
    fn read_failed(&self, answering: &Answering) {
        let elapsed_ms = self
            .host
            .now_unix_nanos()
            .saturating_sub(answering.read_started_nanos)
            / 1_000_000;
        let error =
            local_reply::failed_read_error(elapsed_ms, self.config.original_read_timeout_ms);
        warn!(
            "#{} request {}: reading the original failed after {elapsed_ms} ms",
            self.id, answering.pending.request_id
        );
        self.host.count(Metric::Failed);
        self.reply_error(&error, &answering.pending.request_id);
    }

    /// Lets the paused request go on to the upstream; its answer passes
    /// through untouched. A HEAD goes on as the GET it was signed as (the
    /// signature covers the method), and the filter empties its body
    /// (`head_as_get`).
    fn hand_back(&mut self) {
        self.state = State::Idle;
        self.host.count(Metric::PassedThrough);
        if let Err(status) = self.host.resume_request() {
            warn!("#{} could not resume the request: {status:?}", self.id);
        }
    }

    /// Processes and answers once the original and every watermark object are in.
    fn answer_when_ready(&mut self) {
        if !self.fetch.outstanding.is_empty() {
            return;
        }
        if !matches!(&self.state, State::Answering(a) if matches!(a.stage, AnswerStage::Read { .. }))
        {
            return; // the original is not in yet
        }
        let State::Answering(answering) = std::mem::replace(&mut self.state, State::Idle) else {
            return;
        };
        let Answering {
            pending,
            stage:
                AnswerStage::Read {
                    status,
                    headers,
                    body,
                },
            ..
        } = *answering
        else {
            return;
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let result = match self.fetch.error.take() {
            Some(error) => Err(error),
            None => {
                let ctx = RequestContext {
                    accept: pending.accept.clone(),
                    object_key: Some(pending.object_key.clone()),
                    resources: std::mem::take(&mut self.fetch.resources),
                    budget: pending.budget,
                };
                self.run_pipeline(
                    &pending.command,
                    (&body, body.len()),
                    EarlyDecode::default(),
                    &ctx,
                    &pending.request_id,
                )
            }
        };
        let status = local_reply::status_code(status.as_deref());
        let sent = match result {
            Ok(processed) => {
                self.host.count(Metric::Processed);
                self.host.add_to_metric(Metric::BytesIn, body.len() as u64);
                self.host
                    .add_to_metric(Metric::BytesOut, processed.body.len() as u64);
                let etag = objects::combined_etag(header("etag"), &self.fetch.etags);
                let facts = ExchangeFacts {
                    upstream_etag: etag.as_deref(),
                    upstream_vary: header("vary"),
                    accept: pending.accept.as_deref(),
                    budget: pending.budget,
                };
                let edits = exchange::processed_header_edits(&pending.command, &processed, &facts);
                let reply = local_reply::reply_headers(&headers, &edits);
                self.send_reply(status, &reply, &processed.body)
            }
            Err(error) if self.fallback_to_original => {
                self.host.count(Metric::Failed);
                info!(
                    "#{} request {} processing failed, original sent: {error}",
                    self.id, pending.request_id
                );
                let edits: Vec<HeaderEdit> =
                    vec![(exchange::FALLBACK_HEADER, Some(error.code.as_str().into()))];
                let reply = local_reply::reply_headers(&headers, &edits);
                self.send_reply(status, &reply, &body)
            }
            Err(error) => {
                self.host.count(Metric::Failed);
                info!("#{} processing failed: {error}", self.id);
                self.reply_error(&error, &pending.request_id);
                Ok(())
            }
        };
        if let Err(status) = sent {
            warn!("#{} could not answer: host status {status}", self.id);
        }
    }
}

/// The answer to one of the filter's calls. A failed call (refused, reset,
/// timed out) has no headers, and then the host is not asked for a map or
/// buffer it does not have (the SDK's getters panic on the error
/// ngx_wasm_module returns there).
struct CallAnswer {
    /// Lowercase names, `:status` included; empty for a failed call.
    headers: Vec<(String, String)>,
    body_size: usize,
}

impl CallAnswer {
    fn new(host: &impl Host, num_headers: usize, body_size: usize) -> CallAnswer {
        let answered = num_headers > 0;
        CallAnswer {
            headers: if answered {
                host.call_response_headers()
            } else {
                Vec::new()
            },
            body_size: if answered { body_size } else { 0 },
        }
    }

    /// One header (`:status` included); `None` for a failed call.
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Every header.
    fn headers(&self) -> Vec<(String, String)> {
        self.headers.clone()
    }

    /// The body; empty for a failed call or an empty body.
    fn body(&self, host: &impl Host) -> Vec<u8> {
        if self.body_size == 0 {
            return Vec::new();
        }
        host.call_response_body(self.body_size)
    }
}

impl<H: Host> FilterStream<H> {
    fn now_seconds(&self) -> u64 {
        u64::try_from(self.host.now_unix_seconds()).unwrap_or(0)
    }

    /// Replaces the `old_size` buffered bytes of the response body with `new`
    /// on either host (see [`Host::set_response_body`]).
    fn replace_response_body(&self, old_size: usize, new: &[u8]) -> Result<(), u32> {
        self.host.set_response_body(old_size.max(new.len()), new)
    }

    fn apply_response_edits(&self, edits: &[HeaderEdit]) {
        for (name, value) in edits {
            let _ = self.host.set_response_header(name, value.as_deref());
        }
    }
}
