use crate::backend::Transpose;

#[allow(clippy::too_many_arguments)]
pub fn gemm(
    _ta: Transpose,
    _tb: Transpose,
    _m: usize,
    _n: usize,
    _k: usize,
    _alpha: f32,
    _a: &[f32],
    _b: &[f32],
    _beta: f32,
    _c: &mut [f32],
) {
    todo!()
}
