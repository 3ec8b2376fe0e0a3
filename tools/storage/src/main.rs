//! s3s-fs 0.14.1's server (`src/main.rs`, Apache-2.0) with two changes; see
//! `Cargo.toml` for why:
//!
//! - TCP_NODELAY set on every accepted connection;
//! - paced delivery: the body of a GET whose key's first path segment is
//!   `paced` (`/<bucket>/paced/...`) leaves at `--paced-rate-mb` MB/s
//!   (default 80), like a same-region object store, instead of at loopback
//!   speed. `cargo xtask bench` uses it to measure every target, the filter
//!   and its peers alike, at a realistic delivery rate. Every other request
//!   (HEAD, other keys, ranges, signature checks) is served as before.

use s3s_fs::FileSystem;
use s3s_fs::Result;

use s3s::auth::SimpleAuth;
use s3s::host::MultiDomain;
use s3s::service::S3ServiceBuilder;

use std::future::Future;
use std::io::IsTerminal;
use std::ops::Not;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response};
use tokio::time::{Instant, Sleep};

use tokio::net::TcpListener;

use clap::{CommandFactory, Parser};
use tracing::info;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;

#[derive(Debug, Parser)]
#[command(version)]
struct Opt {
    /// Host name to listen on.
    #[arg(long, default_value = "localhost")]
    host: String,

    /// Port number to listen on.
    #[arg(long, default_value = "8014")] // The original design was finished on 2020-08-14.
    port: u16,

    /// Access key used for authentication.
    #[arg(long)]
    access_key: Option<String>,

    /// Secret key used for authentication.
    #[arg(long)]
    secret_key: Option<String>,

    /// Domain names used for virtual-hosted-style requests.
    #[arg(long)]
    domain: Vec<String>,

    /// Delivery rate, in megabytes (10^6 bytes) per second, of the body of a
    /// GET of any key under `paced/` (`/<bucket>/paced/...`); other requests
    /// are not paced.
    #[arg(long, default_value_t = 80.0)]
    paced_rate_mb: f64,

    /// Root directory of stored data.
    root: PathBuf,
}

fn setup_tracing() {
    use tracing_subscriber::EnvFilter;

    let env_filter = EnvFilter::from_default_env();
    let enable_color = std::io::stdout().is_terminal();

    tracing_subscriber::fmt()
        .pretty()
        .with_env_filter(env_filter)
        .with_ansi(enable_color)
        .init();
}

fn check_cli_args(opt: &Opt) {
    use clap::error::ErrorKind;

    let mut cmd = Opt::command();

    // TODO: how to specify the requirements with clap derive API?
    if let (Some(_), None) | (None, Some(_)) = (&opt.access_key, &opt.secret_key) {
        let msg = "access key and secret key must be specified together";
        cmd.error(ErrorKind::MissingRequiredArgument, msg).exit();
    }

    if !(opt.paced_rate_mb.is_finite() && opt.paced_rate_mb > 0.0) {
        let msg = format!("expected a positive rate, found {}", opt.paced_rate_mb);
        cmd.error(ErrorKind::InvalidValue, msg).exit();
    }

    for s in &opt.domain {
        if s.contains('/') {
            let msg = format!("expected domain name, found URL-like string: {s:?}");
            cmd.error(ErrorKind::InvalidValue, msg).exit();
        }
    }
}

fn main() -> Result {
    let opt = Opt::parse();
    check_cli_args(&opt);

    setup_tracing();

    run(opt)
}

#[tokio::main]
async fn run(opt: Opt) -> Result {
    // Setup S3 provider
    let fs = FileSystem::new(opt.root)?;

    // Setup S3 service
    let service = {
        let mut b = S3ServiceBuilder::new(fs);

        // Enable authentication
        if let (Some(ak), Some(sk)) = (opt.access_key, opt.secret_key) {
            b.set_auth(SimpleAuth::from_single(ak, sk));
            info!("authentication is enabled");
        }

        // Enable parsing virtual-hosted-style requests
        if opt.domain.is_empty().not() {
            b.set_host(MultiDomain::new(&opt.domain)?);
            info!("virtual-hosted-style requests are enabled");
        }

        b.build()
    };
    let service = PacedService {
        inner: service,
        bytes_per_second: opt.paced_rate_mb * 1e6,
    };
    info!(
        "GETs under /<bucket>/paced/ are delivered at {} MB/s",
        opt.paced_rate_mb
    );

    // Run server
    let listener = TcpListener::bind((opt.host.as_str(), opt.port)).await?;
    let local_addr = listener.local_addr()?;

    let http_server = ConnBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();

    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());

    info!("server is running at http://{local_addr}");

    loop {
        let (socket, _) = tokio::select! {
            res =  listener.accept() => {
                match res {
                    Ok(conn) => conn,
                    Err(err) => {
                        tracing::error!("error accepting connection: {err}");
                        continue;
                    }
                }
            }
            _ = ctrl_c.as_mut() => {
                break;
            }
        };

        // A change from s3s-fs 0.14.1: no Nagle delay on responses.
        if let Err(err) = socket.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY not set: {err}");
        }
        let conn = http_server.serve_connection(TokioIo::new(socket), service.clone());
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }

    tokio::select! {
        () = graceful.shutdown() => {
             tracing::debug!("Gracefully shutdown!");
        },
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
             tracing::debug!("Waited 10 seconds for graceful shutdown, aborting...");
        }
    }

    info!("server is stopped");
    Ok(())
}

/// Whether a path-style request path names a key whose first segment is
/// `paced`: `/<bucket>/paced/<rest>`.
fn is_paced_path(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let bucket = parts.next().unwrap_or("");
    !bucket.is_empty()
        && parts.next() == Some("paced")
        && parts.next().is_some_and(|k| !k.is_empty())
}

/// The S3 service, with the response body of GETs under `paced/` delivered
/// at a set rate; every other response is the service's own.
#[derive(Clone)]
struct PacedService {
    inner: s3s::service::S3Service,
    bytes_per_second: f64,
}

impl hyper::service::Service<Request<Incoming>> for PacedService {
    type Response = Response<PacedBody>;
    type Error = s3s::HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let pace = (req.method() == Method::GET && is_paced_path(req.uri().path()))
            .then_some(self.bytes_per_second);
        let response = hyper::service::Service::call(&self.inner, req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| PacedBody::new(body, pace)))
        })
    }
}

/// Largest piece of a paced body sent at once.
const PACED_PIECE: usize = 64 * 1024;

/// A response body: the service's own, or (paced) the same frames with data
/// split into pieces of at most 64 KiB, byte N of the body leaving no earlier
/// than (first poll) + N / rate.
struct PacedBody {
    inner: s3s::Body,
    pace: Option<Pace>,
}

struct Pace {
    bytes_per_second: f64,
    /// When the body was first polled.
    start: Option<Instant>,
    /// Bytes sent so far.
    sent: u64,
    /// The rest of the inner data frame being sent.
    pending: Bytes,
    /// The wait before the next piece.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl PacedBody {
    fn new(inner: s3s::Body, bytes_per_second: Option<f64>) -> Self {
        let pace = bytes_per_second.map(|bytes_per_second| Pace {
            bytes_per_second,
            start: None,
            sent: 0,
            pending: Bytes::new(),
            sleep: None,
        });
        PacedBody { inner, pace }
    }
}

impl hyper::body::Body for PacedBody {
    type Data = Bytes;
    type Error = <s3s::Body as hyper::body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Both fields are Unpin (s3s::Body is), so no projection is needed.
        let this = self.get_mut();
        let Some(pace) = this.pace.as_mut() else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        let start = *pace.start.get_or_insert_with(Instant::now);
        loop {
            if pace.pending.is_empty() {
                match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => {
                            pace.pending = data;
                            continue;
                        }
                        // Trailers go as they come.
                        Err(frame) => return Poll::Ready(Some(Ok(frame))),
                    },
                    other => return Poll::Ready(other),
                }
            }
            let n = pace.pending.len().min(PACED_PIECE);
            let due = start
                + Duration::from_secs_f64((pace.sent + n as u64) as f64 / pace.bytes_per_second);
            if pace.sleep.is_none() && Instant::now() < due {
                pace.sleep = Some(Box::pin(tokio::time::sleep_until(due)));
            }
            if let Some(sleep) = pace.sleep.as_mut() {
                // A wait, once begun, runs to its end even when the
                // connection polls again earlier and the piece is due by
                // then: sending the piece from such a poll and dropping the
                // pending sleep was seen to leave the response unfinished (a
                // paced 404's 75-byte body never arrived; cause not found).
                ready!(sleep.as_mut().poll(cx));
                pace.sleep = None;
            }
            pace.sent += n as u64;
            return Poll::Ready(Some(Ok(Frame::data(pace.pending.split_to(n)))));
        }
    }

    fn is_end_stream(&self) -> bool {
        let pending = self.pace.as_ref().map_or(0, |p| p.pending.len());
        pending == 0 && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let pending = self.pace.as_ref().map_or(0, |p| p.pending.len() as u64);
        if pending == 0 {
            return inner;
        }
        let mut hint = SizeHint::new();
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper + pending);
        }
        hint.set_lower(inner.lower() + pending);
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::body::Body as _;

    #[test]
    fn paced_paths() {
        assert!(is_paced_path("/demo/paced/sunset.jpg"));
        assert!(is_paced_path("/demo/paced/a/b.jpg"));
        assert!(!is_paced_path("/demo/sunset.jpg"));
        assert!(!is_paced_path("/demo/paced/"));
        assert!(!is_paced_path("/demo/paced"));
        assert!(!is_paced_path("/paced/sunset.jpg"));
        assert!(!is_paced_path("/demo/x/paced/sunset.jpg"));
        assert!(!is_paced_path("/demo/pacedx/sunset.jpg"));
    }

    /// Drains a body, returning the piece sizes and the time taken.
    async fn drain(mut body: PacedBody) -> (Vec<usize>, Duration) {
        let start = std::time::Instant::now();
        let mut sizes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            sizes.push(frame.unwrap().into_data().unwrap().len());
        }
        (sizes, start.elapsed())
    }

    /// GETs through the real service and connection, paced and not: whole
    /// bodies, the 404's included (it once hung when paced).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn whole_bodies_through_the_server() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let root = std::env::temp_dir().join(format!("paced-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("demo/paced")).unwrap();
        let object = vec![42u8; 300_000];
        std::fs::write(root.join("demo/o.bin"), &object).unwrap();
        std::fs::write(root.join("demo/paced/o.bin"), &object).unwrap();
        std::fs::write(root.join("demo/paced/s.txt"), b"small").unwrap();
        let service = PacedService {
            inner: S3ServiceBuilder::new(FileSystem::new(&root).unwrap()).build(),
            bytes_per_second: 10e6,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                let service = service.clone();
                tokio::spawn(async move {
                    let conn = ConnBuilder::new(TokioExecutor::new());
                    let _ = conn.serve_connection(TokioIo::new(socket), service).await;
                });
            }
        });
        for (path, status, len, min_ms) in [
            ("/demo/o.bin", 200, 300_000, 0),
            ("/demo/paced/o.bin", 200, 300_000, 30),
            ("/demo/paced/s.txt", 200, 5, 0),
            ("/demo/paced/missing.bin", 404, 0, 0),
            ("/demo/missing.bin", 404, 0, 0),
        ] {
            for _ in 0..10 {
                let start = std::time::Instant::now();
                let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .unwrap();
                let request =
                    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                s.write_all(request.as_bytes()).await.unwrap();
                let mut raw = Vec::new();
                tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut raw))
                    .await
                    .unwrap_or_else(|_| panic!("{path}: the response did not end"))
                    .unwrap();
                let took = start.elapsed();
                let text = String::from_utf8_lossy(&raw).to_string();
                let (head, body) = text.split_once("\r\n\r\n").unwrap();
                assert!(
                    head.starts_with(&format!("HTTP/1.1 {status} ")),
                    "{path}: {head}"
                );
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(String::from)
                    })
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                assert_eq!(raw.len() - head.len() - 4, length, "{path}: short body");
                if status == 200 {
                    assert_eq!(length, len, "{path}");
                } else {
                    assert!(body.contains("NoSuchKey"), "{path}: {body}");
                }
                assert!(took >= Duration::from_millis(min_ms), "{path}: {took:?}");
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn pacing_splits_and_waits() {
        let data = Bytes::from(vec![7u8; 1_000_000]);
        // 10 MB/s: 1 MB in ~100 ms, in 64 KiB pieces.
        let body = PacedBody::new(s3s::Body::from(data.clone()), Some(10e6));
        assert_eq!(body.size_hint().exact(), Some(1_000_000));
        let (sizes, took) = drain(body).await;
        assert_eq!(sizes.iter().sum::<usize>(), 1_000_000);
        assert!(sizes.iter().all(|&n| n <= PACED_PIECE));
        assert_eq!(sizes.len(), 1_000_000usize.div_ceil(PACED_PIECE));
        assert!(took >= Duration::from_millis(99), "{took:?}");
        assert!(took < Duration::from_millis(400), "{took:?}");
        // Not paced: one frame, at once.
        let (sizes, took) = drain(PacedBody::new(s3s::Body::from(data), None)).await;
        assert_eq!(sizes, vec![1_000_000]);
        assert!(took < Duration::from_millis(50), "{took:?}");
    }
}
