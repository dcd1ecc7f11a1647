use crate::backend::Activation;

#[allow(clippy::too_many_arguments)]
pub fn copy_block(
    _rows: usize,
    _width: usize,
    _src: &[f32],
    _src_cols: usize,
    _src_col0: usize,
    _dst: &mut [f32],
    _dst_cols: usize,
    _dst_col0: usize,
) {
    todo!()
}

pub fn bias_act_forward(_act: Activation, _cols: usize, _bias: &[f32], _x: &mut [f32]) {
    todo!()
}

pub fn act_backward(_act: Activation, _y: &[f32], _dy: &[f32], _dx: &mut [f32]) {
    todo!()
}

pub fn col_sum(_cols: usize, _x: &[f32], _out: &mut [f32], _accumulate: bool) {
    todo!()
}
