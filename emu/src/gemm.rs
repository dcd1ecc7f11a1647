//! `cublasSgemm_v2`: C = alpha op(A) op(B) + beta C in column-major order,
//! with the argument checks cuBLAS makes (so a swapped transpose, operand
//! or leading dimension of the caller fails as it would on a GPU).

use crate::memory::Memory;

/// `cublasOperation_t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    N,
    T,
}

impl Op {
    pub fn from_raw(raw: u32) -> Option<Op> {
        match raw {
            0 => Some(Op::N),
            // CUBLAS_OP_C is the same as T for real matrices.
            1 | 2 => Some(Op::T),
            _ => None,
        }
    }
}

/// One GEMM call, with alpha and beta read from the host at the call (the
/// default pointer mode), as cuBLAS reads them.
#[derive(Clone, Copy, Debug)]
pub struct Sgemm {
    pub transa: Op,
    pub transb: Op,
    pub m: i32,
    pub n: i32,
    pub k: i32,
    pub alpha: f32,
    pub a: u64,
    pub lda: i32,
    pub b: u64,
    pub ldb: i32,
    pub beta: f32,
    pub c: u64,
    pub ldc: i32,
}

/// Rows and columns of an operand as stored: op(X) is `rows x cols`.
fn stored(op: Op, rows: i32, cols: i32) -> (i32, i32) {
    match op {
        Op::N => (rows, cols),
        Op::T => (cols, rows),
    }
}

/// Bytes a stored column-major `rows x cols` matrix with leading dimension
/// `ld` spans.
fn span(rows: i32, cols: i32, ld: i32) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        4 * ((cols as usize - 1) * ld as usize + rows as usize)
    }
}

impl Sgemm {
    /// cuBLAS's `CUBLAS_STATUS_INVALID_VALUE` conditions, named.
    pub fn check(&self) -> Result<(), String> {
        let (m, n, k) = (self.m, self.n, self.k);
        if m < 0 || n < 0 || k < 0 {
            return Err(format!("negative size m {m}, n {n}, k {k}"));
        }
        let (a_rows, _) = stored(self.transa, m, k);
        let (b_rows, _) = stored(self.transb, k, n);
        for (what, ld, rows) in [
            ("lda", self.lda, a_rows),
            ("ldb", self.ldb, b_rows),
            ("ldc", self.ldc, m),
        ] {
            if ld < rows.max(1) {
                return Err(format!(
                    "{what} {ld} < max(1, {rows}) (transa {:?}, transb {:?}, m {m}, n {n}, k {k})",
                    self.transa, self.transb
                ));
            }
        }
        Ok(())
    }

    /// Runs the product; every operand must lie in live memory.
    pub fn run(&self, memory: &Memory) -> Result<(), String> {
        let (m, n, k) = (self.m, self.n, self.k);
        if m == 0 || n == 0 {
            return Ok(());
        }
        let (a_rows, a_cols) = stored(self.transa, m, k);
        let (b_rows, b_cols) = stored(self.transb, k, n);
        memory.check_range("sgemm C", self.c, span(m, n, self.ldc))?;
        if k > 0 && self.alpha != 0.0 {
            memory.check_range("sgemm A", self.a, span(a_rows, a_cols, self.lda))?;
            memory.check_range("sgemm B", self.b, span(b_rows, b_cols, self.ldb))?;
        }
        let (lda, ldb, ldc) = (self.lda as isize, self.ldb as isize, self.ldc as isize);
        // Element (i, j) of op(X) in a column-major store: X[i + j ld]
        // untransposed, X[j + i ld] transposed.
        let strides = |op: Op, ld: isize| match op {
            Op::N => (1, ld),
            Op::T => (ld, 1),
        };
        let (rsa, csa) = strides(self.transa, lda);
        let (rsb, csb) = strides(self.transb, ldb);
        let c = self.c as *mut f32;
        if k == 0 || self.alpha == 0.0 {
            // BLAS: C = beta C, and beta = 0 writes zeros without reading C.
            for j in 0..n as isize {
                for i in 0..m as isize {
                    // SAFETY: inside C's checked span.
                    unsafe {
                        let p = c.offset(i + j * ldc);
                        *p = if self.beta == 0.0 {
                            0.0
                        } else {
                            self.beta * *p
                        };
                    }
                }
            }
            return Ok(());
        }
        // SAFETY: all three operands were checked against live allocations
        // for exactly these sizes and strides; device addresses are host
        // addresses.
        unsafe {
            matrixmultiply::sgemm(
                m as usize,
                k as usize,
                n as usize,
                self.alpha,
                self.a as *const f32,
                rsa,
                csa,
                self.b as *const f32,
                rsb,
                csb,
                self.beta,
                c,
                1,
                ldc,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(transa: Op, transb: Op, m: i32, n: i32, k: i32, ld: (i32, i32, i32)) -> Sgemm {
        Sgemm {
            transa,
            transb,
            m,
            n,
            k,
            alpha: 1.0,
            a: 0,
            lda: ld.0,
            b: 0,
            ldb: ld.1,
            beta: 0.0,
            c: 0,
            ldc: ld.2,
        }
    }

    #[test]
    fn leading_dimensions_are_checked_as_cublas_does() {
        assert!(call(Op::N, Op::N, 3, 4, 5, (3, 5, 3)).check().is_ok());
        assert!(call(Op::T, Op::N, 3, 4, 5, (5, 5, 3)).check().is_ok());
        assert!(call(Op::T, Op::N, 3, 4, 5, (3, 5, 3)).check().is_err());
        assert!(call(Op::N, Op::T, 3, 4, 5, (3, 3, 3)).check().is_err());
        // k = 0 still needs leading dimensions of at least 1.
        assert!(call(Op::N, Op::N, 3, 4, 0, (3, 0, 3)).check().is_err());
        assert!(call(Op::N, Op::N, 3, 4, 0, (3, 1, 3)).check().is_ok());
        assert!(call(Op::N, Op::N, -1, 4, 2, (3, 2, 3)).check().is_err());
    }

    #[test]
    fn computes_column_major_products() {
        let mut memory = Memory::default();
        let (a, b, c) = (
            memory.alloc(6 * 4).unwrap(),
            memory.alloc(6 * 4).unwrap(),
            memory.alloc(4 * 4).unwrap(),
        );
        let put = |at: u64, v: &[f32]| unsafe {
            std::ptr::copy_nonoverlapping(v.as_ptr(), at as *mut f32, v.len())
        };
        // A = [[1, 2, 3], [4, 5, 6]] and B = [[1, 0, 1], [0, 1, 1]], both
        // 2x3 column-major; C = A B^T.
        put(a, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        put(b, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let mut g = call(Op::N, Op::T, 2, 2, 3, (2, 2, 2));
        (g.a, g.b, g.c) = (a, b, c);
        g.check().unwrap();
        g.run(&memory).unwrap();
        let out = unsafe { std::slice::from_raw_parts(c as *const f32, 4) };
        assert_eq!(out, &[4.0, 10.0, 5.0, 11.0]);
        memory.check_red_zones().unwrap();
    }
}
