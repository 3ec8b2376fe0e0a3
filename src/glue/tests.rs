//! The request/response state machine against a fake Envoy and a fake
//! nginx ([`super::fake_host`]): the same exchanges on both hosts and in
//! every header mode, asserting what the client gets, what reaches the
//! storage, and that no host rule is broken.

use super::fake_host::{FakeProxy, Message, Request, Sent, Via};
use crate::actions::watermark::Resources;
use crate::command::Command;
use crate::config::FilterConfig;
use crate::metrics::Metric;
use crate::pipeline::{self, RequestContext};
use crate::proxy_host::ProxyHost::{self, Envoy, Nginx};
use crate::test_support::corpus;
use std::collections::BTreeMap;

const CAT: &str = "/demo/cat.jpg";
/// A 350 KB baseline photo (1800×1200).
const LANDSCAPE: &str = "/demo/landscape.jpg";
/// [`LANDSCAPE`] with its entropy-coded data broken off by end markers
/// from a third of the way on.
const DAMAGED_LANDSCAPE: &str = "/demo/damaged.jpg";
const THUMB: &str = "image/resize,w_40/format,f_png";

fn config(json: &str) -> FilterConfig {
    FilterConfig::from_json(json.as_bytes()).unwrap()
}

/// `held` (the default), with a cluster for the filter's own reads.
fn held() -> FilterConfig {
    config(r#"{"upstream_cluster": "storage"}"#)
}

fn local_reply() -> FilterConfig {
    config(r#"{"header_mode": "local_reply", "upstream_cluster": "storage"}"#)
}

fn early() -> FilterConfig {
    config(r#"{"header_mode": "early"}"#)
}

fn object(content_type: &str, body: &[u8]) -> Message {
    Message::new(
        200,
        &[
            ("content-type", content_type),
            ("content-length", &body.len().to_string()),
            ("etag", "\"0123456789abcdef\""),
            ("last-modified", "Mon, 02 Nov 2026 10:00:00 GMT"),
        ],
        body,
    )
}

/// A bucket: objects by path. GET and HEAD (HEAD: the headers of GET, no
/// body); anything else 405; a missing key a 404 with an XML body.
struct Bucket(BTreeMap<String, Message>);

impl Bucket {
    fn new() -> Bucket {
        let mut objects = BTreeMap::new();
        objects.insert(
            CAT.to_string(),
            object("image/jpeg", &corpus("jpeg/cat.jpg")),
        );
        objects.insert(
            LANDSCAPE.to_string(),
            object("image/jpeg", &corpus("orientation/Landscape_5.jpg")),
        );
        let mut damaged = corpus("orientation/Landscape_5.jpg");
        let len = damaged.len();
        for at in (len / 3..len).step_by(len / 7) {
            damaged[at] = 0xFF;
            damaged[at + 1] = 0xD9;
        }
        objects.insert(
            DAMAGED_LANDSCAPE.to_string(),
            object("image/jpeg", &damaged),
        );
        objects.insert(
            "/demo/tiny.jpg".to_string(),
            object("image/jpeg", &corpus("jpeg/jpg-size-7x7.jpg")),
        );
        objects.insert(
            "/demo/notes.txt".to_string(),
            object("text/plain", b"not an image at all"),
        );
        Bucket(objects)
    }

    fn answer(&self, sent: &Sent) -> Option<Message> {
        assert!(
            !sent.path.contains("x-bce-process"),
            "the command reached the storage: {}",
            sent.path
        );
        if sent.method != "GET" && sent.method != "HEAD" {
            return Some(Message::new(405, &[("content-length", "0")], b""));
        }
        let key = sent.path.split('?').next().unwrap_or_default();
        let Some(found) = self.0.get(key) else {
            let body = b"<Error><Code>NoSuchKey</Code></Error>";
            return Some(Message::new(
                404,
                &[
                    ("content-type", "application/xml"),
                    ("content-length", &body.len().to_string()),
                ],
                body,
            ));
        };
        if sent.method == "HEAD" {
            return Some(Message {
                body: Vec::new(),
                ..found.clone()
            });
        }
        Some(found.clone())
    }
}

fn run(proxy: &FakeProxy, config: &FilterConfig, request: Request) -> super::fake_host::Outcome {
    let bucket = Bucket::new();
    let outcome = proxy.run(config, request, &|sent| bucket.answer(sent));
    assert_eq!(
        outcome.violations,
        Vec::<String>::new(),
        "host rules broken"
    );
    outcome
}

fn with_command(path: &str, command: &str) -> Request {
    Request::get(&format!("{path}?x-bce-process={command}"))
}

/// What the pipeline makes of `path` with `command` (the bytes every host
/// and mode must deliver).
fn processed(path: &str, command: &str) -> Vec<u8> {
    let bucket = Bucket::new();
    let original = &bucket.0[path].body;
    let command = Command::parse(command, &Default::default()).unwrap();
    let ctx = RequestContext {
        accept: None,
        object_key: Some(path.to_string()),
        resources: Resources {
            bucket: "demo".into(),
            ..Default::default()
        },
        budget: Default::default(),
    };
    pipeline::process(&command, original, &ctx).unwrap().body
}

/// The hosts and modes that give exact headers: Envoy holding them, and
/// both hosts answering from the request phase (`held` on nginx runs as
/// `local_reply`).
fn exact_setups() -> Vec<(ProxyHost, &'static str, FilterConfig)> {
    vec![
        (Envoy, "held", held()),
        (Envoy, "local_reply", local_reply()),
        (Nginx, "local_reply", local_reply()),
        (Nginx, "held", held()),
    ]
}

#[test]
fn requests_without_a_command_pass_through_untouched() {
    for kind in [Envoy, Nginx] {
        for (mode, config) in [
            ("held", held()),
            ("local_reply", local_reply()),
            ("early", early()),
        ] {
            let proxy = FakeProxy {
                chunk: 4096,
                ..FakeProxy::new(kind)
            };
            for path in [CAT, "/demo/notes.txt", "/demo/missing.jpg"] {
                let out = run(&proxy, &config, Request::get(path));
                let stored = Bucket::new().answer(&out.sent[0]).unwrap();
                assert_eq!(out.client, stored, "{kind:?} {mode} {path}");
                assert_eq!(out.sent.len(), 1, "{kind:?} {mode} {path}");
                assert_eq!(out.sent[0].via, Via::Proxy);
                assert!(!out.local_reply);
                assert_eq!(out.metric(Metric::PassedThrough), 1);
            }
        }
    }
}

#[test]
fn every_exact_setup_gives_the_client_the_same_processed_answer() {
    let expected = processed(CAT, THUMB);
    let mut answers = Vec::new();
    for (kind, mode, config) in exact_setups() {
        let proxy = FakeProxy {
            chunk: 4096,
            ..FakeProxy::new(kind)
        };
        let out = run(&proxy, &config, with_command(CAT, THUMB));
        let what = format!("{kind:?} {mode}");
        assert_eq!(out.client.status, 200, "{what}");
        assert!(
            out.client.body == expected,
            "{what}: not the pipeline's bytes"
        );
        assert_eq!(
            out.client.header("content-type"),
            Some("image/png"),
            "{what}"
        );
        assert_eq!(
            out.client.header("content-length"),
            Some(expected.len().to_string().as_str()),
            "{what}"
        );
        assert_eq!(
            out.client.header("content-md5"),
            Some(crate::exchange::content_md5(&expected).as_str()),
            "{what}"
        );
        // One read of the original, never with the command.
        assert_eq!(out.sent.len(), 1, "{what}");
        let read = &out.sent[0];
        assert_eq!(
            (read.method.as_str(), read.path.as_str()),
            ("GET", CAT),
            "{what}"
        );
        assert_eq!(read.header("host"), Some("images.example.com"), "{what}");
        let answered_locally = !(kind == Envoy && mode == "held");
        if answered_locally {
            assert_eq!(out.calls().len(), 1, "{what}");
            assert_eq!(read.timeout_ms, 60_000, "{what}: original_read_timeout_ms");
        }
        assert_eq!(out.local_reply, answered_locally, "{what}");
        assert_eq!(
            read.via,
            if answered_locally {
                Via::Call("storage".into())
            } else {
                Via::Proxy
            },
            "{what}"
        );
        assert_eq!(out.metric(Metric::Processed), 1, "{what}");
        answers.push((what, out.client));
    }
    // Same status, headers and body everywhere (the request id aside).
    let describe = |m: &Message| {
        let mut h: Vec<_> = m.headers.clone();
        h.sort();
        (m.status, h, m.body.clone())
    };
    for (what, answer) in &answers[1..] {
        assert!(
            describe(answer) == describe(&answers[0].1),
            "{what} differs from {}: {:?} vs {:?}",
            answers[0].0,
            answer.headers,
            answers[0].1.headers
        );
    }
}

/// A thumbnail of a baseline photo arriving in chunks: where the host hands
/// the body over chunk by chunk (Envoy, held and early), the filter decodes
/// it as it comes, which the metric counts; nginx gathers the body in its
/// buffers first (held runs as local_reply, whose read comes whole) and
/// cannot read it from an offset, so the body is read whole at the end.
/// Every setup answers the pipeline's bytes.
#[test]
fn a_baseline_thumbnail_is_decoded_while_it_arrives_on_envoy() {
    let command = "image/resize,m_lfit,w_100,h_100";
    let expected = processed(LANDSCAPE, command);
    // Chunks smaller and larger than the slices the glue pushes.
    for (kind, mode, config, overlaps, chunk) in [
        (Envoy, "held", held(), true, 16 * 1024),
        (Envoy, "held", held(), true, 3 * crate::pipeline::PUSH_BYTES),
        (Envoy, "early", early(), true, 16 * 1024),
        (Envoy, "local_reply", local_reply(), false, 16 * 1024),
        (Nginx, "held", held(), false, 16 * 1024),
        (Nginx, "early", early(), false, 16 * 1024),
        (Nginx, "local_reply", local_reply(), false, 16 * 1024),
    ] {
        let proxy = FakeProxy {
            chunk,
            ..FakeProxy::new(kind)
        };
        let out = run(&proxy, &config, with_command(LANDSCAPE, command));
        let what = format!("{kind:?} {mode}, chunks of {chunk} bytes");
        assert_eq!(out.client.status, 200, "{what}");
        assert!(
            out.client.body == expected,
            "{what}: not the pipeline's bytes"
        );
        assert_eq!(out.metric(Metric::Processed), 1, "{what}");
        assert_eq!(
            out.metric(Metric::DecodedWhileArriving),
            u64::from(overlaps),
            "{what}"
        );
    }
}

/// A baseline photo damaged after its header: on Envoy the stream gives up
/// after the intake dropped what it had read, so the glue reads the body
/// again from the host; the answer is the whole-file decoder's, the same as
/// on nginx, which never streams.
#[test]
fn a_thumbnail_damaged_mid_body_gets_the_whole_file_answer_on_envoy() {
    let command = "image/resize,m_lfit,w_100,h_100";
    let mut answers = Vec::new();
    for kind in [Envoy, Nginx] {
        let proxy = FakeProxy {
            chunk: 16 * 1024,
            ..FakeProxy::new(kind)
        };
        let out = run(&proxy, &held(), with_command(DAMAGED_LANDSCAPE, command));
        assert_eq!(out.metric(Metric::DecodedWhileArriving), 0, "{kind:?}");
        answers.push((out.client.status, out.client.body.clone()));
    }
    assert_eq!(answers[0], answers[1]);
    let (status, body) = &answers[0];
    let whole = {
        let bucket = Bucket::new();
        let original = bucket.0[DAMAGED_LANDSCAPE].body.clone();
        let command = Command::parse(command, &Default::default()).unwrap();
        crate::pipeline::process(&command, &original, &RequestContext::default())
    };
    match whole {
        Ok(processed) => {
            assert_eq!(*status, 200);
            assert!(*body == processed.body);
        }
        Err(error) => {
            assert_eq!(u32::from(error.http_status()), *status);
            assert!(String::from_utf8_lossy(body).contains(error.code.as_str()));
        }
    }
}

#[test]
fn nginx_runs_held_without_a_cluster_as_early() {
    // No upstream_cluster: nothing to read originals with, so `held` on a
    // host that cannot hold headers decides them early and buffers the body.
    let expected = processed(CAT, THUMB);
    let proxy = FakeProxy {
        chunk: 4096,
        ..FakeProxy::new(Nginx)
    };
    let out = run(&proxy, &config("{}"), with_command(CAT, THUMB));
    assert!(!out.local_reply);
    assert_eq!(out.client.status, 200);
    assert!(out.client.body == expected);
    assert_eq!(out.client.header("content-type"), Some("image/png"));
    assert_eq!(
        out.client.header("content-length"),
        None,
        "early mode is chunked"
    );
    assert_eq!(out.client.header("content-md5"), None);
    // Paused on the first chunk, then once more with the whole body.
    assert_eq!(out.body_callbacks, 2);
}

#[test]
fn early_mode_replaces_a_body_with_a_larger_one_on_both_hosts() {
    // 7×7 → 400 px PNG: the new body is many times the old one, which
    // ngx_wasm_module would cut to the old size, and Envoy would not.
    let command = "image/resize,w_400,limit_0/format,f_png";
    let expected = processed("/demo/tiny.jpg", command);
    let original = Bucket::new().0["/demo/tiny.jpg"].body.len();
    assert!(expected.len() > 4 * original);
    for kind in [Envoy, Nginx] {
        let out = run(
            &FakeProxy::new(kind),
            &early(),
            with_command("/demo/tiny.jpg", command),
        );
        assert!(
            out.client.body == expected,
            "{kind:?}: {} bytes",
            out.client.body.len()
        );
    }
}

#[test]
fn local_reply_hands_back_what_it_does_not_process() {
    let small = config(
        r#"{"header_mode": "local_reply", "upstream_cluster": "storage", "max_body_bytes": 8192}"#,
    );
    for kind in [Envoy, Nginx] {
        for (path, config) in [
            ("/demo/missing.jpg", local_reply()),
            ("/demo/notes.txt", local_reply()),
            (CAT, small.clone()),
        ] {
            let out = run(&FakeProxy::new(kind), &config, with_command(path, THUMB));
            let what = format!("{kind:?} {path}");
            // Read once by the filter, then forwarded by the proxy; the
            // client gets the storage's answer byte for byte.
            let vias: Vec<_> = out.sent.iter().map(|s| s.via.clone()).collect();
            assert_eq!(vias, [Via::Call("storage".into()), Via::Proxy], "{what}");
            assert!(!out.local_reply, "{what}");
            let stored = Bucket::new().answer(&out.sent[1]).unwrap();
            assert_eq!(out.client, stored, "{what}");
            assert_eq!(out.metric(Metric::PassedThrough), 1, "{what}");
        }
    }
}

#[test]
fn a_handed_back_head_never_has_a_chunk_emptied_on_nginx() {
    // A processed HEAD is read with GET (signed as GET); handed back, the
    // GET's body comes back. Envoy passes it to the filter, which empties
    // it; nginx reads no body for a client's HEAD, so the filter never
    // empties a chunk there, and host bug 2 (an emptied non-final chunk with
    // `proxy_buffering on` spins the worker) stays out of reach.
    for kind in [Envoy, Nginx] {
        for proxy_buffering in [false, true] {
            let proxy = FakeProxy {
                chunk: 8,
                proxy_buffering,
                ..FakeProxy::new(kind)
            };
            let mut request = with_command("/demo/notes.txt", THUMB);
            request.method = "HEAD";
            let out = run(&proxy, &local_reply(), request);
            let what = format!("{kind:?}, proxy_buffering {proxy_buffering}");
            let methods: Vec<_> = out.sent.iter().map(|s| s.method.as_str()).collect();
            assert_eq!(methods, ["GET", "GET"], "{what}");
            assert_eq!(out.client.status, 200, "{what}");
            assert_eq!(out.client.header("content-length"), Some("19"), "{what}");
            assert!(out.client.body.is_empty(), "{what}");
            let callbacks = if kind == Nginx { 0 } else { 3 };
            assert_eq!(out.body_callbacks, callbacks, "{what}");
        }
    }
}

#[test]
fn the_fake_nginx_spins_on_an_emptied_chunk_with_buffering_on() {
    // The fake plays host bug 2, so the test above could fail: were nginx to
    // pass a HEAD's body, the filter would empty its chunks (early mode,
    // passed through), and with buffering on the fake says the worker spins.
    let head_through = |proxy_buffering: bool| {
        let proxy = FakeProxy {
            chunk: 8,
            proxy_buffering,
            nginx_reads_head_bodies: true,
            ..FakeProxy::new(Nginx)
        };
        let mut request = with_command("/demo/notes.txt", THUMB);
        request.method = "HEAD";
        let bucket = Bucket::new();
        proxy.run(&early(), request, &|sent| bucket.answer(sent))
    };
    assert_eq!(head_through(false).violations, Vec::<String>::new());
    let spinning = head_through(true).violations;
    assert!(
        spinning.iter().any(|v| v.contains("spins the worker")),
        "{spinning:?}"
    );
}

#[test]
fn a_processed_head_describes_the_processed_get() {
    let expected = processed(CAT, THUMB);
    for (kind, mode, config) in exact_setups() {
        let mut request = with_command(CAT, THUMB);
        request.method = "HEAD";
        let out = run(&FakeProxy::new(kind), &config, request);
        let what = format!("{kind:?} {mode}");
        assert_eq!(out.sent[0].method, "GET", "{what}");
        assert_eq!(out.client.status, 200, "{what}");
        assert_eq!(
            out.client.header("content-length"),
            Some(expected.len().to_string().as_str()),
            "{what}"
        );
        assert!(out.client.body.is_empty(), "{what}");
    }
}

#[test]
fn a_failed_read_is_a_bos_502_and_a_slow_one_a_504() {
    for kind in [Envoy, Nginx] {
        for (call_ms, status, code) in [(5, 502, "BadGateway"), (60_000, 504, "GatewayTimeout")] {
            let proxy = FakeProxy {
                call_ms,
                ..FakeProxy::new(kind)
            };
            // The filter's reads fail (refused, or no answer in time);
            // the proxy itself would be answered.
            let bucket = Bucket::new();
            let out = proxy.run(
                &local_reply(),
                with_command(CAT, THUMB),
                &|sent| match sent.via {
                    Via::Proxy => bucket.answer(sent),
                    Via::Call(_) => None,
                },
            );
            let what = format!("{kind:?} after {call_ms} ms");
            assert_eq!(out.violations, Vec::<String>::new(), "{what}");
            assert!(out.local_reply, "{what}");
            assert_eq!(out.client.status, status, "{what}");
            let body = String::from_utf8(out.client.body.clone()).unwrap();
            assert!(
                body.contains(&format!("\"code\":\"{code}\"")),
                "{what}: {body}"
            );
            assert_eq!(
                out.sent.len(),
                1,
                "{what}: not forwarded after a failed read"
            );
            assert_eq!(out.metric(Metric::Failed), 1, "{what}");
        }
    }
}

#[test]
fn errors_carry_the_hosts_request_id_or_one_the_filter_makes() {
    for (kind, mode, config) in exact_setups() {
        let out = run(
            &FakeProxy::new(kind),
            &config,
            with_command(CAT, "image/resize,w_0"),
        );
        let what = format!("{kind:?} {mode}");
        assert_eq!(out.client.status, 400, "{what}");
        assert!(out.local_reply, "{what}");
        assert!(
            out.sent.is_empty(),
            "{what}: a bad command reached the storage"
        );
        let body: serde_json::Value = serde_json::from_slice(&out.client.body).unwrap();
        let id = body["requestId"].as_str().unwrap_or_default().to_string();
        match kind {
            Envoy => assert_eq!(id, "envoy-request-id", "{what}"),
            // nginx sends none: the filter's own, unique enough to grep for.
            Nginx => assert!(
                id.len() == 20 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{what}: {id}"
            ),
        }
        assert_eq!(out.metric(Metric::Rejected), 1, "{what}");
    }
}

#[test]
fn writes_pass_through_with_their_body() {
    // nginx passes end_of_stream = false with every request's headers; the
    // filter decides from the framing headers, and leaves writes alone.
    for kind in [Envoy, Nginx] {
        for config in [held(), local_reply(), early()] {
            let mut put = Request::get("/demo/new.jpg").header("content-length", "3");
            put.method = "PUT";
            put.body = Some(b"abc".to_vec());
            let out = run(&FakeProxy::new(kind), &config, put);
            assert_eq!(out.sent.len(), 1, "{kind:?}");
            assert_eq!(out.sent[0].method, "PUT");
            assert_eq!(out.sent[0].body.as_deref(), Some(&b"abc"[..]));
            assert_eq!(out.client.status, 405, "{kind:?}: the storage's answer");
            assert!(!out.local_reply);
        }
    }
}

#[test]
fn a_body_paused_past_nginx_buffers_is_not_half_processed() {
    // wasm_response_body_buffers smaller than the image: nginx hands the
    // body on before end of stream and ignores further pauses. The filter
    // must let the original through rather than process a fragment; the
    // shipped configs avoid this by sizing the buffers for max_body_bytes.
    let original = Bucket::new().0[CAT].body.clone();
    let proxy = FakeProxy {
        chunk: 4096,
        body_buffers: 8192,
        ..FakeProxy::new(Nginx)
    };
    let out = run(&proxy, &early(), with_command(CAT, THUMB));
    assert!(
        out.client.body == original,
        "{} bytes",
        out.client.body.len()
    );
    assert_eq!(out.metric(Metric::Processed), 0);
}

/// A request over its budget is refused before decoding with a BOS 400 on
/// every host and mode (never a 5xx), counted; where the original may be
/// served it is, untouched.
#[test]
fn a_request_over_its_budget_is_a_400_or_the_original() {
    // The unsigned budget is the one an anonymous request gets.
    let tight = r#""budget": {"time_ms": 10000}, "unsigned_budget": {"time_ms": 50, "memory_bytes": 16777216}"#;
    let heavy = "image/blur,r_50,s_50/format,f_heic";
    for (kind, mode, _) in exact_setups() {
        let base = if mode == "held" {
            r#""upstream_cluster": "storage""#.to_string()
        } else {
            r#""header_mode": "local_reply", "upstream_cluster": "storage""#.to_string()
        };
        let proxy = FakeProxy {
            chunk: 4096,
            ..FakeProxy::new(kind)
        };
        let what = format!("{kind:?} {mode}");
        let strict = config(&format!("{{{base}, {tight}}}"));
        let out = run(&proxy, &strict, with_command(CAT, heavy));
        assert_eq!(out.client.status, 400, "{what}");
        let body: serde_json::Value = serde_json::from_slice(&out.client.body).unwrap();
        assert_eq!(body["code"], "ImageTooLarge", "{what}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("this proxy allows 50 ms per request"),
            "{what}: {message}"
        );
        assert_eq!(out.metric(Metric::BudgetRefused), 1, "{what}");
        assert_eq!(out.metric(Metric::Processed), 0, "{what}");
        // Within the budget the same command runs.
        let roomy = config(&format!("{{{base}}}"));
        let out = run(&proxy, &roomy, with_command(CAT, "image/blur,r_5,s_5"));
        assert_eq!(out.client.status, 200, "{what}");
        assert_eq!(out.metric(Metric::BudgetRefused), 0, "{what}");
        // With the original allowed: the original, marked.
        let lenient = config(&format!(
            "{{{base}, {tight}, \"return_original_on_failure\": true}}"
        ));
        let out = run(&proxy, &lenient, with_command(CAT, heavy));
        assert_eq!(out.client.status, 200, "{what}");
        assert!(
            out.client.body == corpus("jpeg/cat.jpg"),
            "{what}: not the original"
        );
        assert_eq!(
            out.client.header("x-bce-process-error"),
            Some("ImageTooLarge"),
            "{what}"
        );
    }
}
