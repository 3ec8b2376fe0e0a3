#ifndef _NGX_HTTP_WASM_TRAILERS_H_INCLUDED_
#define _NGX_HTTP_WASM_TRAILERS_H_INCLUDED_


#include <ngx_http.h>


size_t ngx_http_wasm_resp_trailers_count(ngx_http_request_t *r);


#endif /* _NGX_HTTP_WASM_TRAILERS_H_INCLUDED_ */
