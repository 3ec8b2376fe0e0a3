//! `nginx/nginx.conf` passes every request header the filter may remove
//! through a `$http_*` variable: ngx_wasm_module only marks a removed request
//! header deleted, `proxy_pass` would still send it, and `$http_*` variables
//! skip deleted headers. A header added to the filter's lists without its
//! line here would reach the storage after the filter removed it (the
//! end-to-end suite through nginx shows it for `If-None-Match` and `Range`).

use image_process_filter::auth::SIGNATURE_HEADERS;
use image_process_filter::exchange::STRIP_REQUEST_HEADERS;

#[test]
fn every_removed_request_header_goes_through_its_variable() {
    let conf = include_str!("../nginx/nginx.conf").to_ascii_lowercase();
    let lines: Vec<&str> = conf.lines().map(str::trim).collect();
    for name in STRIP_REQUEST_HEADERS.iter().chain(SIGNATURE_HEADERS) {
        let want = format!("proxy_set_header {name} $http_{};", name.replace('-', "_"));
        assert!(
            lines.contains(&want.as_str()),
            "nginx/nginx.conf lacks `{want}`"
        );
    }
}
