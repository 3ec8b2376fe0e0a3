#ifndef _NGX_STREAM_PROXY_WASM_H_INCLUDED_
#define _NGX_STREAM_PROXY_WASM_H_INCLUDED_


#include <ngx_proxy_wasm.h>
#include <ngx_stream_wasm.h>


#endif /* _NGX_STREAM_PROXY_WASM_H_INCLUDED_ */
