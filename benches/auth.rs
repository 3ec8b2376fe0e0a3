//! Cost of the request phase: verifying a presigned BCE v1 URL and a SigV4
//! header-signed request, and signing the upstream request. Each runs once per
//! request on the Envoy worker, so they must stay in the microseconds.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use image_process_filter::auth::encoding::uri_encode;
use image_process_filter::auth::upstream::UpstreamSigning;
use image_process_filter::auth::{
    bce_v1, sigv4, verify, Clock, Credential, IncomingRequest, Scheme,
};

const NOW: i64 = 1_800_000_000;

fn credential() -> Credential {
    Credential {
        access_key: "demo-ak".into(),
        secret_key: "demo-sk".into(),
    }
}

fn bench_auth(c: &mut Criterion) {
    let keys = [credential()];
    let clock = Clock {
        now: NOW,
        max_skew: 900,
    };
    let headers = vec![("host".to_string(), "127.0.0.1:8080".to_string())];

    let path = "/demo/private/photo.jpg?x-bce-process=image/resize,m_lfit,w_200/format,f_webp";
    let auth = bce_v1::sign(&keys[0], "GET", path, &headers, NOW, 1800, &[]);
    let presigned = format!(
        "{path}&authorization={}",
        uri_encode(auth.as_bytes(), false)
    );
    c.bench_function("verify/bce_v1_presigned", |b| {
        b.iter(|| {
            let req = IncomingRequest {
                method: "GET",
                path: &presigned,
                headers: &headers,
            };
            black_box(verify(&req, &keys, clock).is_ok())
        })
    });

    let mut signed = headers.clone();
    for (k, v) in sigv4::sign_headers(&keys[0], "us-east-1", "GET", path, "127.0.0.1:8080", NOW) {
        signed.push((k.to_string(), v));
    }
    c.bench_function("verify/sigv4_header", |b| {
        b.iter(|| {
            let req = IncomingRequest {
                method: "GET",
                path,
                headers: &signed,
            };
            black_box(verify(&req, &keys, clock).is_ok())
        })
    });

    let signer = UpstreamSigning {
        scheme: Scheme::SigV4,
        access_key: "demo-ak".into(),
        secret_key: "demo-sk".into(),
        region: "us-east-1".into(),
        host: None,
    };
    c.bench_function("sign/upstream_sigv4", |b| {
        b.iter(|| black_box(signer.sign("GET", "/demo/private/photo.jpg", "127.0.0.1:8080", NOW)))
    });
}

criterion_group!(benches, bench_auth);
criterion_main!(benches);
