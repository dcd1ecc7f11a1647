use crate::backend::AdamStep;

pub fn step(_hp: AdamStep, _params: &mut [f32], _grads: &[f32], _m: &mut [f32], _v: &mut [f32]) {
    todo!()
}
