#[allow(clippy::too_many_arguments)]
pub fn forward(
    _hidden: usize,
    _active: &[bool],
    _bias: &[f32],
    _gates: &mut [f32],
    _c_prev: &[f32],
    _h_prev: &[f32],
    _c: &mut [f32],
    _h: &mut [f32],
) {
    todo!()
}

#[allow(clippy::too_many_arguments)]
pub fn backward(
    _hidden: usize,
    _active: &[bool],
    _gates: &[f32],
    _c_prev: &[f32],
    _c: &[f32],
    _dh: &[f32],
    _dc: &mut [f32],
    _dgates: &mut [f32],
    _dh_carry: &mut [f32],
) {
    todo!()
}
