pub fn forward(_mu: &[f32], _logvar: &[f32], _eps: &[f32], _z: &mut [f32]) -> f32 {
    todo!()
}

pub fn backward(
    _kl_scale: f32,
    _mu: &[f32],
    _logvar: &[f32],
    _eps: &[f32],
    _dz: &[f32],
    _dmu: &mut [f32],
    _dlogvar: &mut [f32],
) {
    todo!()
}
