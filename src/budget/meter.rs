//! A counting allocator: how many bytes the current thread has live, and the
//! most it had since the last [`start`], so the pipeline can compare a
//! request's real peak with its estimate ([`super::Guard`]).
//!
//! The filter's wasm build installs [`MeteredAlloc`] as its global allocator
//! (one VM per worker thread, one request processed at a time), and so do the
//! unit tests and `imgproc`. Without it installed every reading is 0 and the
//! guard checks time only. Counts are per thread, so tests running in parallel
//! do not see each other's allocations. Memory that C code allocates with its
//! own `malloc` (libwebp) is not counted; the estimate models it instead.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

/// The system allocator, counting live bytes per thread.
pub struct MeteredAlloc;

fn grew(by: usize) {
    // `try_with`: a thread being torn down has no counters left; skip it.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(by);
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
    let _ = INSTALLED.try_with(|i| i.set(true));
}

fn shrank(by: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(by)));
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// thread-local `Cell`s with const initialisers, which never allocate.
unsafe impl GlobalAlloc for MeteredAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's pointer, layout and size.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

/// Whether [`MeteredAlloc`] is this program's allocator (it has counted
/// something on this thread).
#[cfg(test)]
pub(crate) fn installed() -> bool {
    INSTALLED.try_with(Cell::get).unwrap_or(false)
}

/// Bytes live on this thread now.
pub(crate) fn live() -> usize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// Starts a measurement: the peak is reset to what is live now, which is
/// returned (the baseline to subtract).
pub(crate) fn start() -> usize {
    let now = live();
    let _ = PEAK.try_with(|p| p.set(now));
    now
}

/// The most bytes live on this thread since the last [`start`].
pub(crate) fn peak() -> usize {
    PEAK.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_buffer_while_it_lives_and_keeps_its_peak() {
        assert!(installed(), "the unit tests install the meter");
        let base = start();
        let buffer = vec![1u8; 10 << 20];
        assert!(live() >= base + (10 << 20));
        drop(buffer);
        assert!(live() < base + (1 << 20));
        assert!(peak() >= base + (10 << 20));
        let base = start();
        assert!(peak() < base + (1 << 20), "start resets the peak");
    }
}
