//! Four `i32` lanes with wrapping arithmetic: one column (or row) of a 4×4
//! block each, for [`super::jpeg_region`]'s 4×4 IDCT.
//!
//! In the filter (wasm32 with simd128) a [`Lanes`] is one `v128` and every
//! operation one simd128 instruction; elsewhere it is `[i32; 4]` worked lane
//! by lane (LLVM leaves that code scalar). Both give the same results to the
//! bit: the operations are integer and wrapping in both, and the narrowing
//! to samples saturates to 0–255 in both. The unit tests run the portable
//! one natively; `cargo xtask test` also runs them inside wasm (node's
//! WASI), where the simd128 one is compiled.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(super) use simd128::Lanes;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub(super) use portable::Lanes;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub(in crate::codec) struct Lanes(v128);

    impl Lanes {
        /// `coefficients[i] × quant[i]` for the first four of each.
        #[inline(always)]
        pub fn dequantize(coefficients: &[i16], quant: &[u16]) -> Lanes {
            let c = i16x8(
                coefficients[0],
                coefficients[1],
                coefficients[2],
                coefficients[3],
                0,
                0,
                0,
                0,
            );
            let q = u16x8(quant[0], quant[1], quant[2], quant[3], 0, 0, 0, 0);
            Lanes(i32x4_mul(
                i32x4_extend_low_i16x8(c),
                u32x4_extend_low_u16x8(q),
            ))
        }

        /// Rows of lanes to columns of lanes.
        #[inline(always)]
        pub fn transpose([r0, r1, r2, r3]: [Lanes; 4]) -> [Lanes; 4] {
            let a = i32x4_shuffle::<0, 4, 1, 5>(r0.0, r1.0);
            let b = i32x4_shuffle::<0, 4, 1, 5>(r2.0, r3.0);
            let c = i32x4_shuffle::<2, 6, 3, 7>(r0.0, r1.0);
            let d = i32x4_shuffle::<2, 6, 3, 7>(r2.0, r3.0);
            [
                Lanes(i32x4_shuffle::<0, 1, 4, 5>(a, b)),
                Lanes(i32x4_shuffle::<2, 3, 6, 7>(a, b)),
                Lanes(i32x4_shuffle::<0, 1, 4, 5>(c, d)),
                Lanes(i32x4_shuffle::<2, 3, 6, 7>(c, d)),
            ]
        }

        /// Four rows of four samples, each lane clamped to 0–255, into
        /// `out` at rows `stride` apart (`out` holds `3 × stride + 4`).
        #[inline(always)]
        pub fn store_samples(rows: [Lanes; 4], out: &mut [u8], stride: usize) {
            // Signed saturation to i16, then unsigned to u8: a clamp to 0–255.
            let bytes = u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(rows[0].0, rows[1].0),
                i16x8_narrow_i32x4(rows[2].0, rows[3].0),
            );
            let words = [
                u32x4_extract_lane::<0>(bytes),
                u32x4_extract_lane::<1>(bytes),
                u32x4_extract_lane::<2>(bytes),
                u32x4_extract_lane::<3>(bytes),
            ];
            for (line, word) in out.chunks_mut(stride).zip(words) {
                line[..4].copy_from_slice(&word.to_le_bytes());
            }
        }
    }

    impl core::ops::Add for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn add(self, other: Lanes) -> Lanes {
            Lanes(i32x4_add(self.0, other.0))
        }
    }

    impl core::ops::Sub for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn sub(self, other: Lanes) -> Lanes {
            Lanes(i32x4_sub(self.0, other.0))
        }
    }

    impl core::ops::Add<i32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn add(self, k: i32) -> Lanes {
            Lanes(i32x4_add(self.0, i32x4_splat(k)))
        }
    }

    impl core::ops::Mul<i32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn mul(self, k: i32) -> Lanes {
            Lanes(i32x4_mul(self.0, i32x4_splat(k)))
        }
    }

    impl core::ops::Shl<u32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn shl(self, n: u32) -> Lanes {
            Lanes(i32x4_shl(self.0, n))
        }
    }

    impl core::ops::Shr<u32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn shr(self, n: u32) -> Lanes {
            Lanes(i32x4_shr(self.0, n))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod portable {
    #[derive(Clone, Copy)]
    pub(in crate::codec) struct Lanes([i32; 4]);

    impl Lanes {
        /// `coefficients[i] × quant[i]` for the first four of each.
        #[inline(always)]
        pub fn dequantize(coefficients: &[i16], quant: &[u16]) -> Lanes {
            Lanes(core::array::from_fn(|i| {
                i32::from(coefficients[i]) * i32::from(quant[i])
            }))
        }

        /// Rows of lanes to columns of lanes.
        #[inline(always)]
        pub fn transpose(rows: [Lanes; 4]) -> [Lanes; 4] {
            core::array::from_fn(|c| Lanes(core::array::from_fn(|r| rows[r].0[c])))
        }

        /// Four rows of four samples, each lane clamped to 0–255, into
        /// `out` at rows `stride` apart (`out` holds `3 × stride + 4`).
        #[inline(always)]
        pub fn store_samples(rows: [Lanes; 4], out: &mut [u8], stride: usize) {
            for (line, row) in out.chunks_mut(stride).zip(rows) {
                for (sample, value) in line[..4].iter_mut().zip(row.0) {
                    *sample = value.clamp(0, 255) as u8;
                }
            }
        }

        #[inline(always)]
        fn zip(self, other: Lanes, f: impl Fn(i32, i32) -> i32) -> Lanes {
            Lanes(core::array::from_fn(|i| f(self.0[i], other.0[i])))
        }
    }

    impl core::ops::Add for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn add(self, other: Lanes) -> Lanes {
            self.zip(other, i32::wrapping_add)
        }
    }

    impl core::ops::Sub for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn sub(self, other: Lanes) -> Lanes {
            self.zip(other, i32::wrapping_sub)
        }
    }

    /// Adds `k` to every lane.
    impl core::ops::Add<i32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn add(self, k: i32) -> Lanes {
            self + Lanes([k; 4])
        }
    }

    /// Multiplies every lane by `k`.
    impl core::ops::Mul<i32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn mul(self, k: i32) -> Lanes {
            self.zip(Lanes([k; 4]), i32::wrapping_mul)
        }
    }

    /// Shifts every lane left by `n` bits (0–31), dropping what leaves.
    impl core::ops::Shl<u32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn shl(self, n: u32) -> Lanes {
            Lanes(self.0.map(|x| x.wrapping_shl(n)))
        }
    }

    /// Shifts every lane right by `n` bits (0–31), arithmetically.
    impl core::ops::Shr<u32> for Lanes {
        type Output = Lanes;
        #[inline(always)]
        fn shr(self, n: u32) -> Lanes {
            Lanes(self.0.map(|x| x.wrapping_shr(n)))
        }
    }
}
