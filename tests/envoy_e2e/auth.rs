//! Original-image protection and signatures, end to end: requests signed by the
//! official SDKs (BOS Python SDK for BCE v1, boto3 for SigV4) through the real
//! Envoy, tampered copies of them, and the private storage upstream that only
//! answers requests the filter signed.
//!
//! The stack's plugin config (`envoy/envoy.yaml`) protects `demo/private/*`,
//! accepts `demo-ak`/`demo-sk`, and signs upstream reads with SigV4; s3s-fs
//! checks those signatures.

use super::*;
use stack::{DEMO_ACCESS_KEY, DEMO_SECRET_KEY};

/// The protected objects of the test bucket.
const PRIVATE_PHOTO: &str = "private/photo.jpg";
const PRIVATE_PNG: &str = "private/alpha.png";

pub fn cases() -> Vec<Case> {
    vec![
        (
            "protection_allows_only_styles_unsigned",
            protection_unsigned,
        ),
        ("bos_sdk_signed_requests_pass", bos_sdk_signed),
        ("bos_sdk_tampered_requests_403", bos_sdk_tampered),
        ("boto3_signed_requests_pass", boto3_signed),
        ("boto3_tampered_requests_403", boto3_tampered),
        (
            "private_upstream_accepts_filter_signatures",
            private_upstream,
        ),
        ("refusals_counted_by_reason", refusals_counted),
        (
            "future_dated_signatures_403_too_skewed",
            future_dated_signatures,
        ),
        (
            "presigned_urls_bound_to_object_command_and_method",
            presigned_replay,
        ),
        (
            "unsigned_processing_never_reaches_a_protected_original",
            unsigned_variants,
        ),
        (
            "auth_error_bodies_leak_no_secret_or_internal_path",
            error_bodies_leak_nothing,
        ),
    ]
}

/// Every non-2xx body the auth cases received, for
/// [`error_bodies_leak_nothing`] (the cases run in order, one at a time).
static ERROR_BODIES: Mutex<Vec<(String, Vec<u8>)>> = Mutex::new(Vec::new());

/// Runs `tests/support/signing_clients.py` with the SDKs' Python.
pub fn sdk(e: &Env, job: serde_json::Value) -> Result<serde_json::Value, Failed> {
    let python = e
        .python
        .as_ref()
        .ok_or("IPF_PYTHON (a Python with bce-python-sdk and boto3) is not set")?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/signing_clients.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| format!("{}: {err}", python.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(job.to_string().as_bytes())
            .map_err(|err| err.to_string())?;
    }
    let out = child.wait_with_output().map_err(|err| err.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "signing client failed for {job}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|err| format!("signing client output: {err}").into())
}

pub fn job(e: &Env, sdk: &str, mode: &str, key: &str, process: Option<&str>) -> serde_json::Value {
    let mut job = serde_json::json!({
        "sdk": sdk,
        "mode": mode,
        "endpoint": format!("http://127.0.0.1:{}", e.held_port),
        "bucket": "demo",
        "key": key,
        "access_key": DEMO_ACCESS_KEY,
        "secret_key": DEMO_SECRET_KEY,
    });
    if let Some(p) = process {
        job["params"] = serde_json::json!({ "x-bce-process": p });
    }
    job
}

pub fn url_of(answer: &serde_json::Value) -> Result<String, Failed> {
    answer["url"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no url in {answer}").into())
}

/// `-H name: value` arguments for the headers an SDK signed.
pub fn header_args(answer: &serde_json::Value) -> Vec<String> {
    answer["headers"]
        .as_object()
        .map(|m| {
            m.iter()
                .flat_map(|(k, v)| {
                    [
                        "-H".to_string(),
                        format!("{k}: {}", v.as_str().unwrap_or("")),
                    ]
                })
                .collect()
        })
        .unwrap_or_default()
}

fn get(e: &Env, url: &str, extra: &[String]) -> Result<Response, Failed> {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let r = e.curl(Proto::H1, url, &extra)?;
    if r.status >= 300 {
        if let Ok(mut bodies) = ERROR_BODIES.lock() {
            bodies.push((url.to_string(), r.body.clone()));
        }
    }
    Ok(r)
}

fn unix_now() -> Result<u64, Failed> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|err| err.to_string())?
        .as_secs())
}

/// A 403 with a BOS-style body carrying `code` and no secret.
pub fn check_refused(r: &Response, code: &str, what: &str) -> Check {
    eq(&format!("{what}: status"), r.status, 403)?;
    eq(
        &format!("{what}: content-type"),
        r.header("content-type"),
        Some("application/json"),
    )?;
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .map_err(|err| format!("{what}: error body is not JSON: {err}"))?;
    eq(&format!("{what}: code"), v["code"].as_str(), Some(code))?;
    ensure(
        v["requestId"].as_str().is_some_and(|id| !id.is_empty()),
        || format!("{what}: no requestId"),
    )?;
    let text = String::from_utf8_lossy(&r.body);
    ensure(
        !text.contains(DEMO_SECRET_KEY) && !text.contains("/work/"),
        || format!("{what}: the error body leaks something: {text}"),
    )
}

fn protection_unsigned(e: &Env) -> Check {
    let before = e.upstream_requests_with(PRIVATE_PNG).len();
    let r = get(e, &e.held_url(&format!("/demo/{PRIVATE_PNG}")), &[])?;
    check_refused(&r, "AccessDenied", "unsigned original")?;
    let r = get(
        e,
        &e.held_url(&format!(
            "/demo/{PRIVATE_PNG}?x-bce-process=image/resize,w_10"
        )),
        &[],
    )?;
    check_refused(&r, "AccessDenied", "unsigned image/ command")?;
    eq(
        "upstream requests for refused ones",
        e.upstream_requests_with(PRIVATE_PNG).len(),
        before,
    )?;
    // Styles are public, in both forms.
    for url in [
        format!("/demo/{PRIVATE_PHOTO}?x-bce-process=style/thumb"),
        format!("/demo/{PRIVATE_PHOTO}@!thumb"),
    ] {
        let r = get(e, &e.held_url(&url), &[])?;
        check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (200, 113))
            .map_err(|err| format!("{url}: {err:?}"))?;
    }
    // Objects outside the patterns are not protected.
    let r = get(
        e,
        &e.held_url("/demo/alpha.png?x-bce-process=image/resize,w_10"),
        &[],
    )?;
    eq("unprotected object", r.status, 200)
}

/// The original through a signed request, compared with the object.
fn check_original(r: &Response, e: &Env, what: &str) -> Check {
    eq(&format!("{what}: status"), r.status, 200)?;
    ensure(r.body == e.object(PRIVATE_PHOTO), || {
        format!("{what}: body differs from the object")
    })
}

fn bos_sdk_signed(e: &Env) -> Check {
    let url = url_of(&sdk(e, job(e, "bos", "presign", PRIVATE_PHOTO, None))?)?;
    check_original(&get(e, &url, &[])?, e, "BOS presigned original")?;

    let url = url_of(&sdk(
        e,
        job(
            e,
            "bos",
            "presign",
            PRIVATE_PHOTO,
            Some("image/resize,m_lfit,w_200,h_100"),
        ),
    )?)?;
    let r = get(e, &url, &[])?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (178, 100))?;

    let answer = sdk(
        e,
        job(
            e,
            "bos",
            "headers",
            PRIVATE_PHOTO,
            Some("image/resize,w_100/format,f_png"),
        ),
    )?;
    let r = get(e, &url_of(&answer)?, &header_args(&answer))?;
    check_processed(&r, "image/png", image::ImageFormat::Png, (100, 56))?;

    // The SDK sending the request itself (get_object_as_string).
    let got = sdk(e, job(e, "bos", "get", PRIVATE_PHOTO, None))?;
    eq(
        "SDK get md5",
        got["md5"].as_str().map(str::to_string),
        Some(format!("{:x}", Md5::digest(e.object(PRIVATE_PHOTO)))),
    )
}

fn bos_sdk_tampered(e: &Env) -> Check {
    let url = url_of(&sdk(
        e,
        job(
            e,
            "bos",
            "presign",
            PRIVATE_PHOTO,
            Some("image/resize,w_200"),
        ),
    )?)?;
    ensure(url.contains("%2F1800%2F"), || {
        format!("unexpected presigned URL {url}")
    })?;
    for (what, tampered, code) in [
        (
            "path",
            url.replace("private/photo.jpg", "private/alpha.png"),
            "SignatureDoesNotMatch",
        ),
        (
            "process value",
            url.replace("w_200", "w_201"),
            "SignatureDoesNotMatch",
        ),
        (
            "added query",
            format!("{url}&foo=1"),
            "SignatureDoesNotMatch",
        ),
        (
            "expiry",
            url.replace("%2F1800%2F", "%2F86400%2F"),
            "SignatureDoesNotMatch",
        ),
        (
            "access key",
            url.replace("demo-ak", "other-ak"),
            "InvalidAccessKeyId",
        ),
    ] {
        check_refused(&get(e, &tampered, &[])?, code, what)?;
    }
    // Signed an hour ago for 30 minutes: expired.
    let mut old = job(e, "bos", "presign", PRIVATE_PHOTO, None);
    let an_hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|err| err.to_string())?
        .as_secs()
        - 3600;
    old["timestamp"] = serde_json::json!(an_hour_ago);
    let url = url_of(&sdk(e, old)?)?;
    check_refused(&get(e, &url, &[])?, "RequestExpired", "expired")?;
    // Signed headers with a tampered process value.
    let answer = sdk(
        e,
        job(
            e,
            "bos",
            "headers",
            PRIVATE_PHOTO,
            Some("image/resize,w_100"),
        ),
    )?;
    let url = url_of(&answer)?.replace("w_100", "w_99");
    check_refused(
        &get(e, &url, &header_args(&answer))?,
        "SignatureDoesNotMatch",
        "header-signed",
    )
}

fn boto3_signed(e: &Env) -> Check {
    let url = url_of(&sdk(e, job(e, "boto3", "presign", PRIVATE_PHOTO, None))?)?;
    check_original(&get(e, &url, &[])?, e, "boto3 presigned original")?;

    let url = url_of(&sdk(
        e,
        job(
            e,
            "boto3",
            "presign",
            PRIVATE_PHOTO,
            Some("image/resize,m_lfit,w_200,h_100/format,f_webp"),
        ),
    )?)?;
    check_processed(
        &get(e, &url, &[])?,
        "image/webp",
        image::ImageFormat::WebP,
        (178, 100),
    )?;

    let answer = sdk(
        e,
        job(
            e,
            "boto3",
            "headers",
            PRIVATE_PHOTO,
            Some("image/resize,w_100"),
        ),
    )?;
    let r = get(e, &url_of(&answer)?, &header_args(&answer))?;
    check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (100, 56))?;

    let got = sdk(e, job(e, "boto3", "get", PRIVATE_PHOTO, None))?;
    eq(
        "boto3 get_object md5",
        got["md5"].as_str().map(str::to_string),
        Some(format!("{:x}", Md5::digest(e.object(PRIVATE_PHOTO)))),
    )
}

fn boto3_tampered(e: &Env) -> Check {
    let mut presign = job(
        e,
        "boto3",
        "presign",
        PRIVATE_PHOTO,
        Some("image/resize,w_200"),
    );
    presign["expires"] = serde_json::json!(60);
    let url = url_of(&sdk(e, presign)?)?;
    for (what, tampered, code) in [
        (
            "path",
            url.replace("private/photo.jpg", "private/alpha.png"),
            "SignatureDoesNotMatch",
        ),
        (
            "process value",
            url.replace("w_200", "w_201"),
            "SignatureDoesNotMatch",
        ),
        (
            "added query",
            format!("{url}&foo=1"),
            "SignatureDoesNotMatch",
        ),
        (
            "expiry",
            url.replace("X-Amz-Expires=60", "X-Amz-Expires=600"),
            "SignatureDoesNotMatch",
        ),
        (
            "access key",
            url.replace("demo-ak", "other-ak"),
            "InvalidAccessKeyId",
        ),
    ] {
        check_refused(&get(e, &tampered, &[])?, code, what)?;
    }
    let answer = sdk(
        e,
        job(
            e,
            "boto3",
            "headers",
            PRIVATE_PHOTO,
            Some("image/resize,w_100"),
        ),
    )?;
    let url = url_of(&answer)?.replace("w_100", "w_99");
    check_refused(
        &get(e, &url, &header_args(&answer))?,
        "SignatureDoesNotMatch",
        "header-signed",
    )?;
    // Valid for one second, used after two.
    let mut short = job(e, "boto3", "presign", PRIVATE_PHOTO, None);
    short["expires"] = serde_json::json!(1);
    let url = url_of(&sdk(e, short)?)?;
    std::thread::sleep(std::time::Duration::from_millis(2100));
    check_refused(&get(e, &url, &[])?, "RequestExpired", "expired")
}

fn private_upstream(e: &Env) -> Check {
    // The storage itself refuses anonymous reads...
    let direct = e.curl(Proto::H1, &e.storage_url("/demo/alpha.png"), &[])?;
    eq("anonymous read at the storage", direct.status, 403)?;
    // ...answers curl's own SigV4...
    let signed = e.curl_storage("/demo/alpha.png")?;
    eq("curl-signed read at the storage", signed.status, 200)?;
    // ...and the filter's signatures, for originals and processed images.
    let r = get(e, &e.held_url("/demo/alpha.png"), &[])?;
    eq("through the filter", r.status, 200)?;
    ensure(r.body == signed.body, || "original differs".into())?;
    let r = get(
        e,
        &e.early_url("/demo/alpha.png?x-bce-process=image/resize,w_20"),
        &[],
    )?;
    eq("processed through the filter (early mode)", r.status, 200)?;
    // What reached the storage carried a SigV4 signature and no command.
    let logged = e.upstream_requests_with("alpha.png");
    ensure(!logged.is_empty(), || {
        "the storage logged no request".into()
    })?;
    ensure(logged.iter().all(|l| !l.contains("x-bce-process")), || {
        format!("the command reached the storage: {logged:?}")
    })
}

/// Reads `image_process_filter.refused.<reason>` from Envoy's admin.
fn refused_counts(e: &Env) -> Result<Vec<(String, u64)>, Failed> {
    let stats = e
        .held
        .lock()
        .map_err(|_| "lock")?
        .admin_get("/stats?filter=image_process_filter.refused")
        .map_err(|err| err.to_string())?;
    Ok(stats
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter_map(|(k, v)| {
            let reason = k.rsplit('.').next()?.to_string();
            Some((reason, v.trim().parse().ok()?))
        })
        .collect())
}

fn refusals_counted(e: &Env) -> Check {
    let count = |counts: &[(String, u64)], reason: &str| {
        counts
            .iter()
            .find(|(r, _)| r == reason)
            .map_or(0, |(_, n)| *n)
    };
    let before = if e.metrics_readable() {
        refused_counts(e)?
    } else {
        Vec::new()
    };
    let presigned = url_of(&sdk(e, job(e, "bos", "presign", PRIVATE_PHOTO, None))?)?;
    let mut old = job(e, "bos", "presign", PRIVATE_PHOTO, None);
    old["timestamp"] = serde_json::json!(1_000_000_000);
    let expired = url_of(&sdk(e, old)?)?;
    for url in [
        e.held_url(&format!("/demo/{PRIVATE_PHOTO}")),
        e.held_url(&format!(
            "/demo/{PRIVATE_PHOTO}?x-bce-process=image/resize,w_10"
        )),
        presigned.replace("photo.jpg", "alpha.png"),
        presigned.replace("demo-ak", "nobody"),
        expired,
    ] {
        let r = get(e, &url, &[])?;
        eq(&format!("{url}: status"), r.status, 403)?;
    }
    if !e.metrics_readable() {
        return Ok(()); // the refusals themselves are checked above
    }
    let after = refused_counts(e)?;
    for reason in [
        "missing",
        "style_only",
        "bad_signature",
        "unknown_key",
        "expired",
    ] {
        eq(
            &format!("refused.{reason} increase"),
            count(&after, reason) - count(&before, reason),
            1,
        )?;
    }
    Ok(())
}

/// Signed for a moment beyond `clock_skew_seconds` (900 s in the e2e config)
/// in the future: 403 `RequestTimeTooSkewed`, by both SDKs, presigned and
/// header-signed; within the skew the same request passes.
fn future_dated_signatures(e: &Env) -> Check {
    let in_an_hour = unix_now()? + 3600;
    for sdk_name in ["bos", "boto3"] {
        for mode in ["presign", "headers"] {
            let what = format!("{sdk_name} {mode} signed an hour ahead");
            let mut future = job(e, sdk_name, mode, PRIVATE_PHOTO, Some("image/resize,w_100"));
            future["timestamp"] = serde_json::json!(in_an_hour);
            let answer = sdk(e, future)?;
            let r = get(e, &url_of(&answer)?, &header_args(&answer))?;
            check_refused(&r, "RequestTimeTooSkewed", &what)?;
            // Five minutes ahead is within the allowed skew.
            let mut near = job(e, sdk_name, mode, PRIVATE_PHOTO, Some("image/resize,w_100"));
            near["timestamp"] = serde_json::json!(unix_now()? + 300);
            let answer = sdk(e, near)?;
            let r = get(e, &url_of(&answer)?, &header_args(&answer))?;
            check_processed(&r, "image/jpeg", image::ImageFormat::Jpeg, (100, 56))
                .map_err(|err| format!("{sdk_name} {mode} five minutes ahead: {err:?}"))?;
        }
    }
    Ok(())
}

/// A presigned URL is a bearer token for exactly one request: its signature
/// moved to another object, another command, no command or another method is
/// refused; the same URL used again while valid is answered again (S3 and BOS
/// semantics: no nonce, so a replay of the identical request is allowed
/// until it expires).
fn presigned_replay(e: &Env) -> Check {
    let signature_query = |url: &str, keep: &dyn Fn(&str) -> bool| -> String {
        url.split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter(|p| keep(p))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .unwrap_or_default()
    };
    for sdk_name in ["bos", "boto3"] {
        let is_sig = |p: &str| {
            let name = p.split('=').next().unwrap_or_default().to_ascii_lowercase();
            name == "authorization" || name.starts_with("x-amz-")
        };
        let signed = url_of(&sdk(
            e,
            job(
                e,
                sdk_name,
                "presign",
                PRIVATE_PHOTO,
                Some("image/resize,w_200"),
            ),
        )?)?;
        let sig = signature_query(&signed, &is_sig);
        let base = e.held_url("/demo");
        for (what, url) in [
            (
                "another object, same command",
                format!("{base}/{PRIVATE_PNG}?x-bce-process=image/resize,w_200&{sig}"),
            ),
            (
                "another object in an unprotected place",
                format!("{base}/photo.jpg?x-bce-process=image/resize,w_200&{sig}"),
            ),
            (
                "same object, another command",
                format!("{base}/{PRIVATE_PHOTO}?x-bce-process=image/resize,w_300&{sig}"),
            ),
            (
                "same object, a style instead",
                format!("{base}/{PRIVATE_PHOTO}?x-bce-process=style/thumb&{sig}"),
            ),
            (
                "same object, no command (the original)",
                format!("{base}/{PRIVATE_PHOTO}?{sig}"),
            ),
            (
                "same object, V1 style suffix",
                format!("{base}/{PRIVATE_PHOTO}@!thumb?{sig}"),
            ),
        ] {
            let r = get(e, &url, &[])?;
            check_refused(&r, "SignatureDoesNotMatch", &format!("{sdk_name}: {what}"))?;
        }
        // Another method: a GET signature on a HEAD.
        let r = get(e, &signed, &["-I".to_string()])?;
        eq(
            &format!("{sdk_name}: HEAD with a GET signature"),
            r.status,
            403,
        )?;
        // The identical request again, twice: the same answer.
        let first = get(e, &signed, &[])?;
        check_processed(&first, "image/jpeg", image::ImageFormat::Jpeg, (200, 113))?;
        let again = get(e, &signed, &[])?;
        eq(&format!("{sdk_name}: replay status"), again.status, 200)?;
        ensure(again.body == first.body, || {
            format!("{sdk_name}: the replay answered differently")
        })?;
    }
    Ok(())
}

/// Unsigned requests on a protected original (`demo/private/*`), in every
/// spelling that might slip past the gate: each is refused (403), rejected
/// (400/404), or answered with exactly the style's output; never the
/// original, never another output.
fn unsigned_variants(e: &Env) -> Check {
    let original = e.object(PRIVATE_PHOTO);
    let thumb = get(
        e,
        &e.held_url(&format!("/demo/{PRIVATE_PHOTO}?x-bce-process=style/thumb")),
        &[],
    )?;
    check_processed(&thumb, "image/jpeg", image::ImageFormat::Jpeg, (200, 113))?;
    let p = format!("/demo/{PRIVATE_PHOTO}");
    let cmd = "x-bce-process=image/resize,w_10";
    let mut variants: Vec<String> = vec![
        // Query spelling.
        format!("{p}?X-Bce-Process=image/resize,w_10"),
        format!("{p}?X-BCE-PROCESS=image/resize,w_10"),
        format!("{p}?x%2Dbce%2Dprocess=image/resize,w_10"),
        format!("{p}?x-bce-process%3Dimage/resize,w_10"),
        format!("{p}?x-bce-process=image%2Fresize%2Cw_10"),
        format!("{p}?%78-bce-process=image/resize,w_10"),
        format!("{p}?x-bce-process=style/thumb&x-bce-process=image/resize,w_10"),
        format!("{p}?x-bce-process=image/resize,w_10&x-bce-process=style/thumb"),
        format!("{p}?x-bce-process=style/thumb/resize,w_10"),
        format!("{p}?x-bce-process=style/thumb%2Fresize,w_10"),
        format!("{p}?x-bce-process=style/../image/resize,w_10"),
        format!("{p}?x-bce-process=style/thumb,w_10"),
        format!("{p}?x-bce-process=%20image/resize,w_10"),
        format!("{p}?x-bce-process=image/resize,w_10%00"),
        format!("{p}?x-bce-process="),
        format!("{p}?x-bce-process"),
        // V1 suffixes.
        format!("{p}@thumb"),
        format!("{p}@!thumb?{cmd}"),
        format!("{p}@!nosuch"),
        format!("{p}@!thumb/resize,w_10"),
        format!("{p}%40!thumb%3F{cmd}"),
        // Trailing and empty query.
        format!("{p}?"),
        format!("{p}?&"),
        format!("{p}?#"),
    ];
    // Path spellings, without and with a command.
    for path in [
        "/demo//private/photo.jpg",
        "/demo/./private/photo.jpg",
        "/demo/x/../private/photo.jpg",
        "/demo/private/./photo.jpg",
        "/demo/private//photo.jpg",
        "/demo/private%2Fphoto.jpg",
        "/demo%2Fprivate%2Fphoto.jpg",
        "/demo/%2E/private/photo.jpg",
        "/demo/x/%2E%2E/private/photo.jpg",
        "//demo/private/photo.jpg",
        "/./demo/private/photo.jpg",
        "/demo/private/photo%2Ejpg",
        "/demo/priv%61te/photo.jpg",
    ] {
        variants.push(path.to_string());
        variants.push(format!("{path}?{cmd}"));
    }
    let mut answers = Vec::new();
    for variant in &variants {
        let url = e.held_url(variant);
        let r = get(e, &url, &["--path-as-is".to_string()])?;
        ensure(r.body != original, || {
            format!("{variant}: the protected original was served")
        })?;
        match r.status {
            200 => ensure(r.body == thumb.body, || {
                format!(
                    "{variant}: 200 with something other than the style's output ({} bytes, {:?})",
                    r.body.len(),
                    decode(&r.body).ok()
                )
            })?,
            400 | 403 | 404 => {
                let v: serde_json::Value = serde_json::from_slice(&r.body)
                    .map_err(|err| format!("{variant}: {} body is not JSON: {err}", r.status))?;
                ensure(v["code"].is_string(), || format!("{variant}: no code"))?;
            }
            other => return Err(format!("{variant}: status {other}").into()),
        }
        answers.push(format!("{variant} -> {}", r.status));
    }
    // A HEAD of the original and a header instead of the query are refused too.
    let r = get(e, &e.held_url(&p), &["-I".to_string()])?;
    eq("unsigned HEAD", r.status, 403)?;
    let r = get(
        e,
        &e.held_url(&p),
        &[
            "-H".to_string(),
            "x-bce-process: image/resize,w_10".to_string(),
        ],
    )?;
    check_refused(&r, "AccessDenied", "command in a header")?;
    if std::env::var_os("IPF_E2E_SHOW_VARIANTS").is_some() {
        eprintln!("{}", answers.join("\n"));
    }
    Ok(())
}

/// No error body of the auth cases (refusals, rejections, storage errors)
/// names a secret, a signature, a file path or a panic.
fn error_bodies_leak_nothing(e: &Env) -> Check {
    let bodies = ERROR_BODIES.lock().map_err(|_| "lock")?.clone();
    ensure(bodies.len() >= 40, || {
        format!("only {} error bodies were collected", bodies.len())
    })?;
    for (url, body) in &bodies {
        let text = String::from_utf8_lossy(body);
        for needle in [
            DEMO_SECRET_KEY,
            "/work",
            "/tmp",
            "/root",
            "panicked",
            "src/",
            ".rs:",
            "RUST_BACKTRACE",
        ] {
            ensure(!text.contains(needle), || {
                format!("{url}: the error body contains '{needle}': {text}")
            })?;
        }
        // No signature (the client's or the expected one): 64 hex digits.
        let longest_hex = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        ensure(longest_hex < 40, || {
            format!("{url}: the error body holds a {longest_hex}-digit hex string: {text}")
        })?;
    }
    // Nor does Envoy's log (the filter logs refusals at info).
    let log = std::fs::read_to_string(&e.held.lock().map_err(|_| "lock")?.proxy_log)
        .map_err(|err| err.to_string())?;
    ensure(!log.contains(DEMO_SECRET_KEY), || {
        "Envoy's log contains the secret key".into()
    })
}
