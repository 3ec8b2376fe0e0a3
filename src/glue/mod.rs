//! The filter's side of the proxy, without the proxy: the per-request state
//! machine ([`stream`]) and the one interface it talks to the host through
//! ([`host`]). [`crate::filter`] (wasm32 only) implements [`host::Host`] with
//! proxy-wasm calls and forwards the callbacks; the tests run the same state
//! machine against a fake proxy that plays Envoy or nginx ([`fake_host`]).

pub mod host;
pub mod stream;

#[cfg(test)]
mod fake_host;
#[cfg(test)]
mod tests;
