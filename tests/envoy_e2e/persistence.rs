//! Persistence (`system/load`, `system/save`), end to end: signed requests made
//! by curl's own SigV4 and by the BOS Python SDK through the real Envoy; the
//! filter reads the source from the private s3s-fs and writes the result back
//! with its own signed PUT; what was saved is then read straight from the
//! storage and compared with what a GET through the filter returns.
//!
//! The `held` stack has persistence on (as `envoy/envoy.yaml`); the `early`
//! stack has it off (`persistence.enabled: false`).

use super::auth::{header_args, url_of};
use super::*;
use stack::{DEMO_ACCESS_KEY, DEMO_SECRET_KEY};

pub fn cases() -> Vec<Case> {
    vec![
        ("persistence_put_load_saves_what_get_returns", put_load),
        ("persistence_get_save_form", get_save),
        ("persistence_bos_sdk_signed_put", bos_sdk_put),
        ("persistence_unsigned_403_nothing_written", unsigned),
        (
            "persistence_unsigned_process_header_403",
            process_header_not_signed,
        ),
        ("persistence_overwrite_source_refused", overwrite_source),
        ("persistence_disabled_403", disabled),
        ("persistence_missing_source_404", missing_source),
        ("persistence_put_with_body_501", put_with_body),
    ]
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(s)
}

fn load(source: &str, image: &str) -> String {
    format!("system/load,o_{}|{image}", b64(source))
}

/// curl's own SigV4 (`--aws-sigv4`), which signs every `-H` header too.
fn sigv4_args() -> Vec<String> {
    vec![
        "--aws-sigv4".into(),
        "aws:amz:us-east-1:s3".into(),
        "--user".into(),
        format!("{DEMO_ACCESS_KEY}:{DEMO_SECRET_KEY}"),
        "-H".into(),
        format!("x-amz-content-sha256: {}", EMPTY_SHA256),
    ]
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A PUT with an empty body and `x-bce-process: <process>` to `url`.
fn put(e: &Env, url: &str, process: &str, signed: bool) -> Result<Response, Failed> {
    let mut args: Vec<String> = vec![
        "-X".into(),
        "PUT".into(),
        "-H".into(),
        format!("x-bce-process: {process}"),
    ];
    if signed {
        args.extend(sigv4_args());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    e.curl(Proto::H1, url, &args)
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The 200 JSON answer describes `key` in bucket `demo`.
fn check_saved(r: &Response, key: &str, content_type: &str) -> Result<serde_json::Value, Failed> {
    let text = String::from_utf8_lossy(&r.body).into_owned();
    eq(&format!("save status ({text})"), r.status, 200)?;
    eq(
        "save content-type",
        r.header("content-type"),
        Some("application/json"),
    )?;
    let v: serde_json::Value =
        serde_json::from_slice(&r.body).map_err(|err| format!("not JSON: {err}: {text}"))?;
    eq("bucket", v["bucket"].as_str(), Some("demo"))?;
    eq("object", v["object"].as_str(), Some(key))?;
    eq("status", v["status"].as_str(), Some("OK"))?;
    eq("contentType", v["contentType"].as_str(), Some(content_type))?;
    ensure(v["eTag"].as_str().is_some_and(|t| !t.is_empty()), || {
        format!("no eTag in {text}")
    })?;
    Ok(v)
}

/// The saved object, read straight from the storage, is what a GET through
/// the filter with the same command returns, and the JSON told its size and
/// the storage's ETag.
fn check_stored(e: &Env, key: &str, answer: &serde_json::Value, get_path: &str) -> Check {
    let stored = e.curl_storage(&format!("/demo/{key}"))?;
    eq(&format!("storage GET {key}"), stored.status, 200)?;
    let through = e.curl(Proto::H1, &e.held_url(get_path), &[])?;
    eq("GET through the filter", through.status, 200)?;
    ensure(stored.body == through.body, || {
        format!(
            "{key}: saved {} bytes differ from the {} bytes a GET of {get_path} returns",
            stored.body.len(),
            through.body.len()
        )
    })?;
    eq(
        "fileSize",
        answer["fileSize"].as_u64(),
        Some(stored.body.len() as u64),
    )?;
    eq(
        "eTag is the storage's",
        answer["eTag"].as_str(),
        stored.header("etag"),
    )
}

fn put_load(e: &Env) -> Check {
    let source_before = sha256(&e.object(PHOTO));
    let image = "image/resize,m_lfit,w_200,h_100/format,f_webp";
    let key = "saved/put-load.webp";
    let r = put(
        e,
        &e.held_url(&format!("/demo/{key}")),
        &load(PHOTO, image),
        true,
    )?;
    let answer = check_saved(&r, key, "image/webp")?;
    check_stored(
        e,
        key,
        &answer,
        &format!("/demo/{PHOTO}?x-bce-process={image}"),
    )?;
    let saved = e.object(key);
    let decoded = image::load_from_memory(&saved).map_err(|err| err.to_string())?;
    eq(
        "saved size",
        (decoded.width(), decoded.height()),
        (178, 100),
    )?;
    eq("source unchanged", sha256(&e.object(PHOTO)), source_before)?;
    // The client's PUT never reached the storage as is: the only PUT for the
    // key is the filter's, and it carried no x-bce-process.
    let puts: Vec<String> = e
        .upstream_requests_with(key)
        .into_iter()
        .filter(|l| l.contains("PUT"))
        .collect();
    eq("PUTs the storage saw", puts.len(), 1)?;
    ensure(!puts[0].contains("x-bce-process"), || {
        format!("the storage saw the command: {}", puts[0])
    })?;
    if !e.metrics_readable() {
        return Ok(());
    }
    let stats = e
        .held
        .lock()
        .map_err(|_| "lock")?
        .admin_get("/stats?filter=persistence")
        .map_err(|err| err.to_string())?;
    ensure(
        stats
            .lines()
            .any(|l| l.contains("persistence.saved:") && !l.trim_end().ends_with(": 0")),
        || format!("persistence.saved not counted: {stats}"),
    )
}

fn get_save(e: &Env) -> Check {
    let source_before = sha256(&e.object(PHOTO));
    let key = "saved/get-save.jpg";
    // With a watermark: its object is fetched while the source is read.
    let image = &format!(
        "image/resize,w_200/watermark,image_{},g_5/quality,Q_80",
        b64("wm/logo.png")
    );
    let process = format!("{image}|system/save,o_{}", b64(key));
    let url = url_of(&super::auth::sdk(
        e,
        super::auth::job(e, "bos", "presign", PHOTO, Some(&process)),
    )?)?;
    let r = e.curl(Proto::H1, &url, &[])?;
    let answer = check_saved(&r, key, "image/jpeg")?;
    check_stored(
        e,
        key,
        &answer,
        &format!("/demo/{PHOTO}?x-bce-process={image}"),
    )?;
    eq("source unchanged", sha256(&e.object(PHOTO)), source_before)
}

fn bos_sdk_put(e: &Env) -> Check {
    let key = "saved/bos-sdk.png";
    let image = "image/resize,w_32/format,f_png";
    let process = load("alpha.png", image);
    let mut job = super::auth::job(e, "bos", "headers", key, None);
    job["method"] = "PUT".into();
    job["sign_headers"] = serde_json::json!({ "x-bce-process": process });
    let answer = super::auth::sdk(e, job)?;
    let url = url_of(&answer)?;
    let mut args: Vec<String> = vec!["-X".into(), "PUT".into()];
    args.extend(header_args(&answer));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = e.curl(Proto::H1, &url, &args)?;
    let saved = check_saved(&r, key, "image/png")?;
    check_stored(
        e,
        key,
        &saved,
        &format!("/demo/alpha.png?x-bce-process={image}"),
    )
}

fn unsigned(e: &Env) -> Check {
    let key = "saved/unsigned.jpg";
    let r = put(
        e,
        &e.held_url(&format!("/demo/{key}")),
        &load(PHOTO, "image/resize,w_10"),
        false,
    )?;
    super::auth::check_refused(&r, "AccessDenied", "unsigned PUT with system/load")?;
    let r = e.curl(
        Proto::H1,
        &e.held_url(&format!(
            "/demo/{PHOTO}?x-bce-process=image/resize,w_10%7Csystem/save,o_{}",
            b64(key)
        )),
        &[],
    )?;
    super::auth::check_refused(&r, "AccessDenied", "unsigned GET with system/save")?;
    eq(
        "storage GET of the target",
        e.curl_storage(&format!("/demo/{key}"))?.status,
        404,
    )?;
    eq(
        "requests the storage saw for the target",
        e.upstream_requests_with(key)
            .iter()
            .filter(|l| l.contains("PUT"))
            .count(),
        0,
    )
}

/// Signed, but the signature does not cover the x-bce-process header: a
/// client could otherwise replay a signed PUT with another command.
fn process_header_not_signed(e: &Env) -> Check {
    let key = "saved/uncovered.jpg";
    let answer = super::auth::sdk(e, {
        let mut job = super::auth::job(e, "bos", "headers", key, None);
        job["method"] = "PUT".into();
        job
    })?;
    let url = url_of(&answer)?;
    let mut args: Vec<String> = vec!["-X".into(), "PUT".into()];
    args.extend(header_args(&answer));
    args.extend([
        "-H".to_string(),
        format!("x-bce-process: {}", load(PHOTO, "image/resize,w_10")),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = e.curl(Proto::H1, &url, &args)?;
    super::auth::check_refused(&r, "AccessDenied", "x-bce-process not signed")?;
    eq(
        "storage GET of the target",
        e.curl_storage(&format!("/demo/{key}"))?.status,
        404,
    )
}

fn overwrite_source(e: &Env) -> Check {
    let before = sha256(&e.object(PHOTO));
    let r = put(
        e,
        &e.held_url(&format!("/demo/{PHOTO}")),
        &load(PHOTO, "image/resize,w_10"),
        true,
    )?;
    super::auth::check_refused(&r, "AccessDenied", "overwriting the source")?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    ensure(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("overwrite its source")),
        || format!("message: {v}"),
    )?;
    eq("source unchanged", sha256(&e.object(PHOTO)), before)
}

fn disabled(e: &Env) -> Check {
    let key = "saved/disabled.jpg";
    let r = put(
        e,
        &e.early_url(&format!("/demo/{key}")),
        &load(PHOTO, "image/resize,w_10"),
        true,
    )?;
    super::auth::check_refused(&r, "AccessDenied", "persistence disabled")?;
    eq(
        "storage GET of the target",
        e.curl_storage(&format!("/demo/{key}"))?.status,
        404,
    )
}

fn missing_source(e: &Env) -> Check {
    let key = "saved/missing.jpg";
    let r = put(
        e,
        &e.held_url(&format!("/demo/{key}")),
        &load("no/such.jpg", "image/resize,w_10"),
        true,
    )?;
    eq("status", r.status, 404)?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("code", v["code"].as_str(), Some("NoSuchKey"))?;
    eq(
        "storage GET of the target",
        e.curl_storage(&format!("/demo/{key}"))?.status,
        404,
    )
}

fn put_with_body(e: &Env) -> Check {
    let key = "saved/with-body.jpg";
    let file = e.scratch.join("upload.jpg");
    std::fs::write(&file, e.object(PHOTO)).map_err(|err| err.to_string())?;
    let file = file.display().to_string();
    let mut args: Vec<String> = vec![
        "-T".into(),
        file,
        "-H".into(),
        format!("x-bce-process: {}", load(PHOTO, "image/resize,w_10")),
        "--aws-sigv4".into(),
        "aws:amz:us-east-1:s3".into(),
        "--user".into(),
        format!("{DEMO_ACCESS_KEY}:{DEMO_SECRET_KEY}"),
        "-H".into(),
        "x-amz-content-sha256: UNSIGNED-PAYLOAD".into(),
    ];
    args.push("-H".into());
    args.push("Expect:".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = e.curl(Proto::H1, &e.held_url(&format!("/demo/{key}")), &args)?;
    eq("status", r.status, 501)?;
    let v: serde_json::Value = serde_json::from_slice(&r.body).map_err(|err| err.to_string())?;
    eq("code", v["code"].as_str(), Some("NotImplemented"))?;
    eq(
        "storage GET of the target",
        e.curl_storage(&format!("/demo/{key}"))?.status,
        404,
    )
}
