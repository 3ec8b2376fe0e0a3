//! A misbehaving storage server for the upstream-fault tests.
//!
//! s3s-fs is a well-behaved S3 server and cannot be made to reset a
//! connection, lie about a length or stall, so this small HTTP/1.1 server
//! (std::net and one thread per connection) stands in for a storage that
//! does. It serves one real JPEG, and the last segment of the request path
//! selects how it misbehaves (see [`Fault`]). Each connection carries one
//! request and is then closed (`Connection: close`).
//!
//! It records every request it receives (request line and headers) so the
//! tests can check what Envoy and the filter sent.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The ETag the server gives its JPEG (200s and 304s).
pub const FAULT_ETAG: &str = "\"fault-jpeg-1\"";
/// The `Last-Modified` it gives the JPEG.
pub const FAULT_LAST_MODIFIED: &str = "Mon, 02 Nov 2026 10:00:00 GMT";
/// Size of the over-limit bodies, bytes: 21 MiB, over the filter's 20 MB limit.
pub const OVERSIZE_BYTES: usize = 21 * 1024 * 1024;

/// The error bodies the server sends, byte for byte.
pub const ERROR_500_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>fault-500</RequestId></Error>";
pub const ERROR_403_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>fault-403</RequestId></Error>";
pub const ERROR_404_JSON: &str =
    "{\"code\":\"NoSuchKey\",\"message\":\"The specified key does not exist.\",\"requestId\":\"fault-404\"}";
pub const LYING_HTML: &str =
    "<!DOCTYPE html><html><head><title>Login</title></head><body>Please sign in</body></html>\n";

/// How the server answers, chosen by the last path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `ok.jpg`: a normal 200 with the JPEG.
    Ok,
    /// `reset.jpg`: full `Content-Length`, half the body, then a TCP RST.
    ResetMidBody,
    /// `short.jpg`: full `Content-Length`, half the body, then a clean close (FIN).
    ShortBody,
    /// `truncated-chunked.jpg`: chunked, correctly terminated, but only half the JPEG.
    TruncatedChunked,
    /// `slow.jpg`: headers at once, the body in 10 pieces over about 1 s.
    SlowBody,
    /// `stall-headers.jpg`: no headers for [`Fault::STALL`].
    StallHeaders,
    /// `stall-body.jpg`: headers and a first piece, then the body trickles for [`Fault::STALL`].
    StallBody,
    /// `error-500.xml`, `error-403.xml`, `error-404.json`: that status, with a body.
    Error500,
    Error403,
    Error404,
    /// `cond.jpg`: 304 (with the ETag) when the request is conditional, else the JPEG.
    Conditional,
    /// `big.jpg`: 21 MiB that start like the JPEG, with `Content-Length`.
    Oversize,
    /// `big-chunked.jpg`: the same 21 MiB, chunked (no `Content-Length`).
    OversizeChunked,
    /// `lying-html.jpg`: `Content-Type: image/jpeg`, an HTML body.
    HtmlAsJpeg,
    /// `lying-type.jpg`: `Content-Type: text/html`, the JPEG.
    JpegAsHtml,
}

impl Fault {
    /// How long the stalling faults stall: well past the fault route's timeout.
    pub const STALL: Duration = Duration::from_secs(6);

    pub fn from_path(path: &str) -> Option<Fault> {
        let name = path.split('?').next()?.rsplit('/').next()?;
        Some(match name {
            "ok.jpg" => Fault::Ok,
            "reset.jpg" => Fault::ResetMidBody,
            "short.jpg" => Fault::ShortBody,
            "truncated-chunked.jpg" => Fault::TruncatedChunked,
            "slow.jpg" => Fault::SlowBody,
            "stall-headers.jpg" => Fault::StallHeaders,
            "stall-body.jpg" => Fault::StallBody,
            "error-500.xml" => Fault::Error500,
            "error-403.xml" => Fault::Error403,
            "error-404.json" => Fault::Error404,
            "cond.jpg" => Fault::Conditional,
            "big.jpg" => Fault::Oversize,
            "big-chunked.jpg" => Fault::OversizeChunked,
            "lying-html.jpg" => Fault::HtmlAsJpeg,
            "lying-type.jpg" => Fault::JpegAsHtml,
            _ => return None,
        })
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The running server; stops accepting when dropped.
pub struct FaultUpstream {
    pub port: u16,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    stop: Arc<AtomicBool>,
}

impl FaultUpstream {
    /// Starts serving `jpeg` on a free port of 127.0.0.1.
    pub fn start(jpeg: Vec<u8>) -> std::io::Result<FaultUpstream> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let jpeg = Arc::new(jpeg);
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (seen, jpeg) = (Arc::clone(&seen2), Arc::clone(&jpeg));
                thread::spawn(move || {
                    let _ = serve(conn, &jpeg, &seen);
                });
            }
        });
        Ok(FaultUpstream { port, seen, stop })
    }

    /// Every request received so far whose path contains `marker`.
    pub fn requests_with(&self, marker: &str) -> Vec<SeenRequest> {
        self.seen
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|r| r.path.contains(marker))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for FaultUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, jpeg: &[u8], seen: &Mutex<Vec<SeenRequest>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let request = SeenRequest {
        method,
        path,
        headers,
    };
    if let Ok(mut v) = seen.lock() {
        v.push(request.clone());
    }
    let mut out = conn;
    let Some(fault) = Fault::from_path(&request.path) else {
        return respond(&mut out, 404, "text/plain", &[], b"no such fault\n");
    };
    let half = &jpeg[..jpeg.len() / 2];
    match fault {
        Fault::Ok => respond(&mut out, 200, "image/jpeg", &jpeg_headers(), jpeg),
        Fault::ResetMidBody => {
            head(
                &mut out,
                200,
                "image/jpeg",
                &jpeg_headers(),
                Some(jpeg.len()),
            )?;
            out.write_all(half)?;
            out.flush()?;
            thread::sleep(Duration::from_millis(100));
            reset(&out);
            Ok(())
        }
        Fault::ShortBody => {
            head(
                &mut out,
                200,
                "image/jpeg",
                &jpeg_headers(),
                Some(jpeg.len()),
            )?;
            out.write_all(half)?;
            out.flush()?;
            thread::sleep(Duration::from_millis(100));
            out.shutdown(Shutdown::Both)
        }
        Fault::TruncatedChunked => {
            head(&mut out, 200, "image/jpeg", &jpeg_headers(), None)?;
            chunk(&mut out, half)?;
            out.write_all(b"0\r\n\r\n")?;
            out.flush()
        }
        Fault::SlowBody => {
            head(
                &mut out,
                200,
                "image/jpeg",
                &jpeg_headers(),
                Some(jpeg.len()),
            )?;
            let piece = jpeg.len().div_ceil(10);
            for part in jpeg.chunks(piece) {
                thread::sleep(Duration::from_millis(100));
                out.write_all(part)?;
                out.flush()?;
            }
            Ok(())
        }
        Fault::StallHeaders => {
            thread::sleep(Fault::STALL);
            respond(&mut out, 200, "image/jpeg", &jpeg_headers(), jpeg)
        }
        Fault::StallBody => {
            head(
                &mut out,
                200,
                "image/jpeg",
                &jpeg_headers(),
                Some(jpeg.len()),
            )?;
            let pieces = 12;
            let piece = jpeg.len().div_ceil(pieces);
            for part in jpeg.chunks(piece) {
                out.write_all(part)?;
                out.flush()?;
                thread::sleep(Fault::STALL / pieces as u32);
            }
            Ok(())
        }
        Fault::Error500 => respond(
            &mut out,
            500,
            "application/xml",
            &[],
            ERROR_500_XML.as_bytes(),
        ),
        Fault::Error403 => respond(
            &mut out,
            403,
            "application/xml",
            &[],
            ERROR_403_XML.as_bytes(),
        ),
        Fault::Error404 => respond(
            &mut out,
            404,
            "application/json",
            &[],
            ERROR_404_JSON.as_bytes(),
        ),
        Fault::Conditional => {
            let conditional = request.header("if-modified-since").is_some()
                || request.header("if-none-match").is_some();
            if conditional {
                head(&mut out, 304, "", &jpeg_headers(), None)?;
                out.flush()
            } else {
                respond(&mut out, 200, "image/jpeg", &jpeg_headers(), jpeg)
            }
        }
        Fault::Oversize => respond(&mut out, 200, "image/jpeg", &[], &oversize(jpeg)),
        Fault::OversizeChunked => {
            head(&mut out, 200, "image/jpeg", &[], None)?;
            for part in oversize(jpeg).chunks(256 * 1024) {
                chunk(&mut out, part)?;
            }
            out.write_all(b"0\r\n\r\n")?;
            out.flush()
        }
        Fault::HtmlAsJpeg => respond(
            &mut out,
            200,
            "image/jpeg",
            &jpeg_headers(),
            LYING_HTML.as_bytes(),
        ),
        Fault::JpegAsHtml => respond(&mut out, 200, "text/html", &jpeg_headers(), jpeg),
    }
}

/// The 21 MiB over-limit body: the JPEG, then filler.
pub fn oversize(jpeg: &[u8]) -> Vec<u8> {
    let mut body = jpeg.to_vec();
    body.resize(OVERSIZE_BYTES, 0xAB);
    body
}

fn jpeg_headers() -> Vec<(&'static str, &'static str)> {
    vec![("etag", FAULT_ETAG), ("last-modified", FAULT_LAST_MODIFIED)]
}

/// Status line and headers; `length` `None` means chunked (or no body for a 304).
fn head(
    out: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    length: Option<usize>,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut text = format!("HTTP/1.1 {status} {reason}\r\nconnection: close\r\n");
    if !content_type.is_empty() {
        text.push_str(&format!("content-type: {content_type}\r\n"));
    }
    for (k, v) in extra {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    match (status, length) {
        (304, _) => {}
        (_, Some(n)) => text.push_str(&format!("content-length: {n}\r\n")),
        (_, None) => text.push_str("transfer-encoding: chunked\r\n"),
    }
    text.push_str("\r\n");
    out.write_all(text.as_bytes())
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    head(out, status, content_type, extra, Some(body.len()))?;
    out.write_all(body)?;
    out.flush()
}

fn chunk(out: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    write!(out, "{:x}\r\n", data.len())?;
    out.write_all(data)?;
    out.write_all(b"\r\n")
}

/// Closes with a TCP RST instead of a FIN (SO_LINGER on, timeout 0).
fn reset(conn: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a pointer to a live `linger` of the given size.
    unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // Dropping the stream (the caller's) closes the descriptor, which now sends RST.
}
